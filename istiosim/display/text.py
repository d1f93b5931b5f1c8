"""Tables as fixed-width text: text columns left-aligned, numbers right-aligned."""

from __future__ import annotations

from .table import NUMERIC, Table, fmt


def cells(t: Table) -> tuple[list[str], list[list[str]], int]:
    """Header, the shown rows formatted, and how many rows were left out."""
    shown = t.rows[: t.max_rows]
    header = [c.name for c in t.columns]
    body = [
        [fmt(v, c.kind, t.domain) for v, c in zip(row, t.columns, strict=True)] for row in shown
    ]
    return header, body, max(0, len(t.rows) - len(shown))


def grid(t: Table) -> str:
    header, body, _ = cells(t)
    if not header:
        return ""
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    right = [c.kind in NUMERIC for c in t.columns]

    def line(row: list[str]) -> str:
        out = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body)])


def render(t: Table) -> str:
    _, _, left_out = cells(t)
    parts = [t.title] if t.title else []
    if t.columns and t.rows:
        parts.append(grid(t))
    if left_out:
        parts.append(f"... {left_out:,} more row(s) not shown (to_pandas() has them all)")
    parts += list(t.notes)
    for summary, text in t.details:
        parts.append(summary + ":")
        parts += ["  " + line for line in text.splitlines()]
    return "\n".join(parts)
