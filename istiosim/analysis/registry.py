"""The analyzer table ``check`` runs, and the subject every analyzer reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..compiler.collector import Collector, collector
from ..errors import Diagnostic
from ..loader import ConfigSet
from ..mesh import Mesh
from ..plan import RoutePlan


@dataclass(frozen=True)
class Subject:
    """What an analyzer reads: the loaded config (with its source map), its mesh and plan."""

    config: ConfigSet
    plan: RoutePlan
    mesh: Mesh

    def collector(self, out: list[Diagnostic], kind: str, ns: str, name: str) -> Collector:
        return collector(self.config, out, kind, ns, name)


Analyzer = Callable[[Subject], list[Diagnostic]]


def _table() -> tuple[tuple[str, Analyzer], ...]:
    from . import conflicts, deprecations, destinations, pods, rule_order

    return (
        ("destinations", destinations.analyze),  # IST0101, IST0112
        ("pods", pods.analyze),  # IST0173, IST0174
        ("conflicts", conflicts.analyze),  # IST0109
        ("rule_order", rule_order.analyze),  # IST0130, IST0131
        ("deprecations", deprecations.analyze),  # IST0002
    )


#: (name, analyzer) in the order ``check`` reports them
ANALYZERS: tuple[tuple[str, Analyzer], ...] = _table()


def analyze(config: ConfigSet, plan: RoutePlan, mesh: Mesh | None = None) -> tuple[Diagnostic, ...]:
    """The loader's and webhook's diagnostics (``plan.diagnostics``), then every analyzer's."""
    subject = Subject(config, plan, mesh if mesh is not None else config.mesh)
    out = list(plan.diagnostics)
    for _, analyzer in ANALYZERS:
        out.extend(analyzer(subject))
    return tuple(out)
