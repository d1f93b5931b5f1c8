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
    """What an analyzer reads: the loaded config (with its source map), its mesh and plan."""

    config: ConfigSet
    plan: RoutePlan
    mesh: Mesh

    def collector(self, out: list[Diagnostic], kind: str, ns: str, name: str) -> Collector:
        return collector(self.config, out, kind, ns, name)
