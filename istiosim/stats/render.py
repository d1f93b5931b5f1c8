"""How the statistics print: number formats, and one table as fixed-width text or HTML.

Every result renders through :class:`_Rendered` (a title, a table, notes), so ``str()``, the
table alone and ``_repr_html_`` agree; the split assertions reuse the formats for their messages.
"""

from __future__ import annotations

import math
from typing import Any

from .._display import Displayable


def _num(x: float) -> float | None:
    """A JSON-safe float: non-finite values become None."""
    return float(x) if math.isfinite(x) else None


def _fmt_weight(w: float) -> str:
    return str(int(w)) if float(w).is_integer() else f"{w:g}"


def _fmt_share(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}%"


def _fmt_p(p: float) -> str:
    return f"{p:.4g}"


def _fmt_level(confidence: float) -> str:
    return f"{100 * confidence:.6f}".rstrip("0").rstrip(".") + "%"


def _tolerance_digits(tolerance: float) -> int:
    """Decimals of a percentage that still show a tenth of the tolerance."""
    return max(2, 1 - math.floor(math.log10(100 * tolerance)))


def _fmt_pp(tolerance: float) -> str:
    return f"±{100 * tolerance:.{_tolerance_digits(tolerance)}f} pp"


def _fmt_seed(seed: int | str | None) -> str:
    """The "; seed = ..." tail of a note, empty when the counts carry no seed."""
    return "" if seed is None else f"; seed = {seed}"


def _fmt_interval(low: float, high: float, digits: int = 2) -> str:
    return f"[{_fmt_share(low, digits)}, {_fmt_share(high, digits)}]"


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    """Fixed-width table: first column left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


class _Rendered(Displayable):
    """Text and HTML rendering shared by the result classes (one table, two formats)."""

    def _render(self) -> tuple[str, list[str], list[list[str]], list[str]]:
        raise NotImplementedError

    def table(self) -> str:
        """The per-arm fixed-width table alone, for embedding in other messages."""
        _, header, rows, _ = self._render()
        return _text_table(header, rows)

    def __str__(self) -> str:
        title, header, rows, notes = self._render()
        return "\n".join([title, _text_table(header, rows), *notes])

    # ---- display (istiosim.display, imported on use) ----

    def _table(self) -> Any:
        from ..display.objects import stats_table

        return stats_table(self)

    def to_pandas(self) -> Any:
        """One row per arm (categorical ``arm``), the columns of ``to_dict()["arms"]``."""
        from ..display.objects import stats_frame

        return stats_frame(self)
