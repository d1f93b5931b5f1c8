"""The one tabular model every result displays through: :class:`Table` of typed columns.

A result object builds a ``Table`` (``_table()``) of raw values; :mod:`.text` prints it
(text left-aligned, numbers right-aligned with thousands separators), :mod:`.html` renders it
escaped, :mod:`.frames` turns it into a pandas DataFrame with categoricals. A new result type
(a diff, a rollout plan) plugs in by returning a ``Table`` from ``_table()`` and forwarding
``_repr_html_``/``_repr_pretty_``/``to_pandas`` to :func:`istiosim.display.as_html`,
:func:`~istiosim.display.pretty` and :func:`~istiosim.display.to_pandas`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

#: how a column's values print and which pandas dtype they get
Kind = Literal[
    "text", "category", "host", "path", "int", "count", "float", "share", "delta", "interval", "num"
]
#: right-aligned kinds (``num``: a number already formatted, shown as is)
NUMERIC: frozenset[str] = frozenset(
    {"int", "count", "float", "share", "delta", "interval", "num"}
)


@dataclass(frozen=True)
class Col:
    """A column: its header and kind (``share`` values are fractions, ``interval`` (low, high))."""

    name: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    """Rows of raw values under typed columns, with a title, notes and folded details.

    ``details`` are (summary, text) pairs shown folded in HTML (a trace, a full listing) and
    indented under the table in text. ``max_rows`` caps what is shown (not ``to_pandas()``).
    """

    title: str
    columns: tuple[Col, ...]
    rows: Sequence[Sequence[Any]]
    notes: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    max_rows: int = 60
    domain: str = field(default="cluster.local")

    def __str__(self) -> str:
        from .text import render

        return render(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        from .html import render

        return render(self)

    def to_pandas(self) -> Any:
        from .frames import frame

        return frame(self)


@runtime_checkable
class Tabular(Protocol):
    """What display needs from a result: a :class:`Table` of it."""

    def _table(self) -> Table: ...


def short_host(host: Any, domain: str = "cluster.local") -> str:
    s = str(host)
    suffix = f".svc.{domain}"
    return s[: -len(suffix)] if s.endswith(suffix) else s


def short_path(path: Any) -> str:
    """A file path relative to the working directory (where it was loaded from) when under it."""
    s = str(path)
    if not os.path.isabs(s):
        return s
    try:
        rel = os.path.relpath(s)
    except ValueError:
        rel = ".."
    if not rel.startswith(".."):
        return rel
    parts = s.replace(os.sep, "/").rsplit("/", 2)  # elsewhere: the folder and file name
    return "…/" + "/".join(parts[-2:])


def fmt(value: Any, kind: str, domain: str = "cluster.local") -> str:
    """One cell for people: ``-`` for none, thousands separators, shares as percentages."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "interval":
        lo, hi = value
        return f"[{100 * lo:.2f}%, {100 * hi:.2f}%]"
    if kind == "delta":  # a change of share, in percentage points
        return f"{100 * value:+.2f} pp"
    if kind == "share":
        return f"{100 * value:.2f}%"
    if kind == "int":
        return f"{int(value):,}" if isinstance(value, int | float) else str(value)
    if kind == "count":
        if isinstance(value, float) and not value.is_integer():
            return f"{value:,.2f}"
        return f"{int(value):,}"
    if kind == "float":
        return f"{value:.4g}"
    if kind == "host":
        return short_host(value, domain)
    if kind == "path":
        return short_path(value)
    return str(value)


def where(loc: Any) -> str:
    """A Location as ``file:line`` with the file relative to the working directory."""
    if loc is None:
        return ""
    line = f":{loc.line}" if getattr(loc, "line", 0) else ""
    return f"{short_path(loc.file)}{line}"
