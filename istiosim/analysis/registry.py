"""The analyzer table ``check`` runs: one entry per analyzer module, in reporting order."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import Diagnostic
from ..loader import ConfigSet
from ..mesh import Mesh
from ..plan import RoutePlan
from . import conflicts, deprecations, destinations, pods, reachability, rule_order
from .subject import Subject

Analyzer = Callable[[Subject], list[Diagnostic]]

#: (name, analyzer) in the order ``check`` reports them
ANALYZERS: tuple[tuple[str, Analyzer], ...] = (
    ("destinations", destinations.analyze),  # IST0101, IST0112
    ("pods", pods.analyze),  # IST0173, IST0174
    ("conflicts", conflicts.analyze),  # IST0109
    ("rule_order", rule_order.analyze),  # IST0130, IST0131
    ("reachability", reachability.analyze),  # ISM0130: what IST0130/IST0131 do not see
    ("deprecations", deprecations.analyze),  # IST0002
)


def analyze(config: ConfigSet, plan: RoutePlan, mesh: Mesh | None = None) -> tuple[Diagnostic, ...]:
    """The loader's and webhook's diagnostics (``plan.diagnostics``), then every analyzer's."""
    subject = Subject(config, plan, mesh if mesh is not None else config.mesh)
    out = list(plan.diagnostics)
    for _, analyzer in ANALYZERS:
        out.extend(analyzer(subject))
    return tuple(out)
