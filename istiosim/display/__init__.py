"""How results look: text, HTML, pandas and plots for every object a user looks at.

Stdlib only at import time; pandas (:mod:`.frames`), matplotlib (:mod:`.plot`) and ipywidgets
(:mod:`.whatif`) are optional extras imported when first used. Every result type builds one
:class:`Table` (``_table()``), and :func:`as_text`, :func:`as_html`, :func:`pretty` and
:func:`to_pandas` render it; new result types plug in the same way (see :class:`Tabular`).
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._lazy import lazy
from .table import Col, Table, Tabular, short_host, short_path

if TYPE_CHECKING:
    from .whatif import WhatIf as WhatIf

# WhatIf on first use: a command printing a table does not build the notebook widgets' model
__getattr__, _ = lazy(__name__, {"WhatIf": "istiosim.display.whatif"})

__all__ = [
    "Col",
    "Table",
    "Tabular",
    "WhatIf",
    "as_html",
    "as_text",
    "html_table",
    "pretty",
    "short_host",
    "short_path",
    "table",
    "table_of",
    "to_pandas",
]


def table_of(obj: Any) -> Table:
    """The :class:`Table` of a result (its ``_table()``), or of a sequence of diagnostics."""
    if isinstance(obj, Table):
        return obj
    if hasattr(obj, "_table"):
        t: Table = obj._table()
        return t
    items = list(obj) if isinstance(obj, list | tuple) else None
    if items is not None and all(type(x).__name__ == "Diagnostic" for x in items):
        from .objects import diagnostics_table

        return diagnostics_table(items)
    raise TypeError(f"no table for {type(obj).__name__}")


def as_text(obj: Any) -> str:
    """The text table of a result (what ``_repr_pretty_`` prints)."""
    from .text import render

    return render(table_of(obj))


def as_html(obj: Any) -> str:
    """The HTML of a result (what ``_repr_html_`` returns): escaped, long tables cut."""
    from .html import render

    return render(table_of(obj))


def pretty(obj: Any, p: Any, cycle: bool) -> None:
    """IPython's ``_repr_pretty_``: the text table (the short repr on a cycle)."""
    p.text(repr(obj) if cycle else as_text(obj))


def to_pandas(obj: Any) -> Any:
    if hasattr(obj, "to_pandas"):
        return obj.to_pandas()
    from .frames import frame

    return frame(table_of(obj))


# The CLI's plain tables (pinned by the golden files): kept as they were.
def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A fixed-width text table."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{_html.escape('' if c is None else str(c))}</td>" for c in r)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def simulation_text(res: Any) -> str:
    """``str()`` of a simulation result, as the CLI prints it (one line per row, with its share)."""
    head = f"{res.n:,} requests ({res.mode}"
    head += f", seed {res.seed})" if res.seed is not None else ")"
    cols = ["host", "subset", "workload", "outcome", "status", "count", "share"]
    return head + "\n" + table(cols, res._table_rows())
