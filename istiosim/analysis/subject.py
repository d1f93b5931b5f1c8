"""What every analyzer reads: the loaded config (with its source map), its mesh and plan."""

from __future__ import annotations

from dataclasses import dataclass

from ..compiler.collector import Collector, collector
from ..errors import Diagnostic
from ..loader import ConfigSet
from ..mesh import Mesh
from ..plan import RoutePlan


@dataclass(frozen=True)
class Subject:
    """What an analyzer reads: the loaded config (with its source map), its mesh and plan.

    ``config`` holds every object that loaded, including those Istio's webhook refuses (as
    istioctl's analyzers see every object); ``plan`` is compiled from the objects it accepts
    (``compiler.compile_valid``), so analyzers that need resolved routes read only those."""

    config: ConfigSet
    plan: RoutePlan
    mesh: Mesh

    def collector(self, out: list[Diagnostic], kind: str, ns: str, name: str) -> Collector:
        return collector(self.config, out, kind, ns, name)
