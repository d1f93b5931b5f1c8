"""Text tables and HTML for result objects (stdlib only at runtime)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A fixed-width text table."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in r)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def decision_html(d: Any) -> str:
    d = d.traced()
    rows = [(s.kind, s.message, s.location or "") for s in d.trace or ()]
    title = html.escape(d.explain().splitlines()[0])
    return f"<div><b>{title}</b>{html_table(['step', 'what', 'where'], rows)}</div>"


def simulation_text(res: Any) -> str:
    """A simulation result as a text table (one line per row, with its share)."""
    head = f"{res.n:,} requests ({res.mode}"
    head += f", seed {res.seed})" if res.seed is not None else ")"
    cols = ["host", "subset", "workload", "outcome", "status", "count", "share"]
    return head + "\n" + table(cols, res._table_rows())


def simulation_html(res: Any) -> str:
    cols = ["host", "subset", "workload", "outcome", "status", "count", "share"]
    title = html.escape(simulation_text(res).splitlines()[0])
    return f"<div><b>{title}</b>{html_table(cols, res._table_rows())}</div>"
