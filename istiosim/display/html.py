"""Tables as HTML for Jupyter: every value escaped, numbers right-aligned, long tables cut."""

from __future__ import annotations

from html import escape

from .table import NUMERIC, Table
from .text import cells

_TABLE = "border-collapse:collapse;font-size:0.9em;margin:0.3em 0"
_CELL = "padding:2px 10px;border-bottom:1px solid #ddd;white-space:nowrap"


def table_html(t: Table) -> str:
    header, body, left_out = cells(t)
    right = [c.kind in NUMERIC for c in t.columns]

    def td(text: str, r: bool, tag: str = "td") -> str:
        align = "right" if r else "left"
        num = ";font-variant-numeric:tabular-nums" if r else ""
        return f'<{tag} style="{_CELL};text-align:{align}{num}">{escape(text)}</{tag}>'

    head = "".join(td(h, r, "th") for h, r in zip(header, right, strict=True))
    rows = "".join(
        "<tr>" + "".join(td(c, r) for c, r in zip(row, right, strict=True)) + "</tr>"
        for row in body
    )
    more = ""
    if left_out:
        more = (
            f'<p style="color:#666;margin:0"><i>... {left_out:,} more row(s) not shown '
            "(to_pandas() has them all)</i></p>"
        )
    return (
        # a wide table scrolls sideways instead of being clipped by the output area
        f'<div style="overflow-x:auto"><table style="{_TABLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>" + more
    )


def render(t: Table) -> str:
    parts = ['<div class="istiosim">']
    if t.title:
        parts.append(f'<p style="margin:0.2em 0"><b>{escape(t.title)}</b></p>')
    if t.columns and t.rows:
        parts.append(table_html(t))
    parts += [f'<p style="color:#555;margin:0.1em 0">{escape(n)}</p>' for n in t.notes]
    parts += [
        f"<details><summary>{escape(s)}</summary>"
        f'<pre style="font-size:0.85em;margin:0.2em 0 0.2em 1em">{escape(text)}</pre></details>'
        for s, text in t.details
    ]
    parts.append("</div>")
    return "".join(parts)
