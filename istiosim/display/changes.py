"""How a change review looks: ``istiosim.diff``'s result as ``git diff --stat`` then details
(what the CLI prints, pinned by the golden files), and as an HTML table."""

from __future__ import annotations

import html
from typing import Any

from . import html_table

_BAR = 20


def diff_text(d: Any) -> str:
    """A Diff as ``git diff --stat`` first (one line per class that changed: the share of its
    requests that moved and a bar), then the details of each."""
    classes = d.classes
    changed = [c for c in classes if c.changed]
    width = max((len(c.name) for c in changed), default=0)
    lines = []
    for c in changed:
        bar = "█" * round(_BAR * c.moved) if c.moved > 0 else ""
        mark = " *" if c.changes and c.moved == 0 else ""
        share = f"  ({c.share:.1%} of traffic)" if c.share is not None else ""
        lines.append(f" {c.name.ljust(width)} | {c.moved:6.1%} {bar}{mark}{share}".rstrip())
    n = sum(c.changed for c in classes)
    foot = f" {n} of {len(classes)} class(es) changed"
    if d.moved_share is not None:
        foot += f"; {d.moved_share:.2%} of traffic moves"
    lines.append(foot)
    if any(c.changes and c.moved == 0 for c in classes):
        lines.append(
            " * behaviour changes (headers, rewrite, delay, timeout, mirror...), no request moves"
        )
    if d.undecided:
        lines.append(f" {len(d.undecided)} undecided region(s) (regex): " + "; ".join(d.undecided))
    may = getattr(d, "may_change", ())
    if may:
        lines.append(
            f" {len(may)} of them may route differently if any request falls there"
            " (counted as a change by the exit status)"
        )
    for c in classes:
        if not c.changed:
            continue
        lines.append("")
        lines.append(f"{c.name}: {c.summary()}")
        b = ", ".join(f"{_p(p)} {_row(r)}" for r, p in c.before) or "-"
        a = ", ".join(f"{_p(p)} {_row(r)}" for r, p in c.after) or "-"
        lines.append(f"  before: {b}")
        lines.append(f"  after:  {a}")
        lines.append(f"  moved:  {c.moved:.2%}")
        for ch in c.changes:
            lines.append(f"  changed {ch}")
        if c.witness is not None:
            lines.append(f"  e.g.    {c.witness!r}")
    return "\n".join(lines)


def _p(p: float) -> str:
    x = 100 * p
    return f"{x:.0f}%" if abs(x - round(x)) < 1e-9 else f"{x:.4g}%"


def _row(r: Any) -> str:
    host, subset, outcome, status = r
    name = host.split(".")[0] + (f"/{subset}" if subset else "")
    return name if outcome == "OK" else f"{name} {status} {outcome}"


def diff_rows(d: Any) -> list[tuple[Any, ...]]:
    return [
        (
            c.name,
            "" if c.share is None else f"{c.share:.1%}",
            ", ".join(f"{_p(p)} {_row(r)}" for r, p in c.before),
            ", ".join(f"{_p(p)} {_row(r)}" for r, p in c.after),
            f"{c.moved:.1%}",
            "; ".join(c.changes),
        )
        for c in d.classes
    ]


def diff_html(d: Any) -> str:
    n = sum(c.changed for c in d.classes)
    title = f"{n} of {len(d.classes)} class(es) changed"
    if d.moved_share is not None:
        title += f"; {d.moved_share:.2%} of traffic moves"
    cols = ["class", "share", "before", "after", "moved", "also changed"]
    return f"<div><b>{html.escape(title)}</b>{html_table(cols, diff_rows(d))}</div>"
