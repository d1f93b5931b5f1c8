"""Jupyter and IPython display for the result classes, ``istiosim.display`` imported on use."""

from __future__ import annotations

from typing import Any


class Displayable:
    """A result shown as its ``_table()`` (an ``istiosim.display.Table``): HTML in Jupyter,
    aligned text in IPython. The display package is imported only when something is shown."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # IPython's printer walks the MRO and stops at the first class with its own
        # ``_repr_pretty_`` or ``__repr__``: a result class with a ``__repr__`` would hide the
        # inherited ``_repr_pretty_``, so each subclass holds the one it resolves to
        super().__init_subclass__(**kwargs)
        cls._repr_pretty_ = cls._repr_pretty_  # type: ignore[method-assign]

    def _table(self) -> Any:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        from .display import as_html

        return as_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        from .display import pretty

        pretty(self, p, cycle)
