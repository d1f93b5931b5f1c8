"""Analyzers: what Istio accepts but that will not do what its author meant.

One module per istioctl analyzer family, each a function ``(subject) → diagnostics`` listed
in ``ANALYZERS``; ``analyze`` runs them in that order after the loader's and the webhook's own
findings (``plan.diagnostics``). Adding an analyzer means adding one module and one entry.
Names are imported lazily so ``import istiosim.analysis`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy

__all__ = ["ANALYZERS", "Subject", "analyze"]

_NAMES = {
    "ANALYZERS": "istiosim.analysis.registry",
    "Subject": "istiosim.analysis.subject",
    "analyze": "istiosim.analysis.registry",
}


__getattr__, __dir__ = lazy(__name__, _NAMES)


if TYPE_CHECKING:
    from .registry import ANALYZERS as ANALYZERS
    from .registry import analyze as analyze
    from .subject import Subject as Subject
