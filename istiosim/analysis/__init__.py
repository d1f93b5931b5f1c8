"""Analyzers: what Istio accepts but that will not do what its author meant.

One module per istioctl analyzer family, each a function ``(subject) → diagnostics`` listed
in ``ANALYZERS``; ``analyze`` runs them in that order after the loader's and the webhook's own
findings (``plan.diagnostics``). Adding an analyzer means adding one module and one entry.
Names are imported lazily so ``import istiosim.analysis`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["ANALYZERS", "Subject", "analyze"]

_NAMES = {
    "ANALYZERS": "istiosim.analysis.registry",
    "Subject": "istiosim.analysis.subject",
    "analyze": "istiosim.analysis.registry",
}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'istiosim.analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)


if TYPE_CHECKING:
    from .registry import ANALYZERS as ANALYZERS
    from .registry import analyze as analyze
    from .subject import Subject as Subject
