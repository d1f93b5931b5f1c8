"""Tables as pandas DataFrames (pandas is the optional ``pandas`` extra, imported here only)."""

from __future__ import annotations

import math
from typing import Any

from ..errors import IstiosimError
from .table import Table


class MissingExtra(IstiosimError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def require(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtra(
            f"{module} is needed for this: pip install 'istiosim[{extra}]' (or pip install {module})"
        ) from e


def frame(t: Table) -> Any:
    """All rows (never truncated), one column per Col; intervals split into low and high."""
    pd = require("pandas", "pandas")
    data: dict[str, Any] = {}
    for i, c in enumerate(t.columns):
        values = [row[i] for row in t.rows]
        if c.kind == "interval":
            for j, side in enumerate(("low", "high")):
                data[f"{c.name} {side}"] = pd.array(
                    [math.nan if v is None else float(v[j]) for v in values], dtype="float64"
                )
        elif c.kind in ("category", "host"):
            data[c.name] = pd.Categorical([None if v is None else str(v) for v in values])
        elif c.kind == "int":
            data[c.name] = pd.array(values, dtype="Int64")
        elif c.kind == "count":
            ints = all(v is None or float(v).is_integer() for v in values)
            data[c.name] = pd.array(values, dtype="Int64" if ints else "Float64")
        elif c.kind in ("float", "share", "delta"):
            data[c.name] = pd.array(
                [math.nan if v is None else float(v) for v in values], dtype="float64"
            )
        else:
            data[c.name] = pd.array([None if v is None else str(v) for v in values], dtype=object)
    return pd.DataFrame(data)
