"""Analysis of a loaded configuration: route coverage by test cases (validation, diff and
rollout analysis will live here too). Names are imported lazily so ``import istiosim.analysis``
stays cheap."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_NAMES = {
    "CoverageItem": "istiosim.analysis.coverage",
    "CoverageReport": "istiosim.analysis.coverage",
    "RouteHit": "istiosim.analysis.coverage",
    "route_coverage": "istiosim.analysis.coverage",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'istiosim.analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)


if TYPE_CHECKING:
    from .coverage import CoverageItem as CoverageItem
    from .coverage import CoverageReport as CoverageReport
    from .coverage import RouteHit as RouteHit
    from .coverage import route_coverage as route_coverage
