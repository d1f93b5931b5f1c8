"""istiosim: simulate Istio HTTP routing in-process.

Load the YAML you would ``kubectl apply``, then route one request with an explanation, or
millions with the vectorized engine. The façade is lazy (PEP 562): ``import istiosim`` loads
nothing heavy until a name is used, so the pytest plugin and ``istiosim --help`` stay cheap.
``__all__`` is written out (a test compares it with ``_NAMES``), and each name's
``__module__`` reads ``istiosim``, as httpx does for its public names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy

__version__ = "0.1.0"

_NAMES: dict[str, str] = {
    "BatchDecision": "istiosim.results",
    "Candidate": "istiosim.results",
    "ClassDiff": "istiosim.analysis.diff",
    "ConfigError": "istiosim.errors",
    "Decision": "istiosim.results",
    "DestinationRef": "istiosim.results",
    "DestinationRule": "istiosim.config",
    "DerivedClass": "istiosim.analysis.classes",
    "Diagnostic": "istiosim.errors",
    "Diff": "istiosim.analysis.diff",
    "InvalidArgument": "istiosim.errors",
    "IstiosimError": "istiosim.errors",
    "Location": "istiosim.errors",
    "Mesh": "istiosim.mesh",
    "Outcome": "istiosim.results",
    "PerRequest": "istiosim.results",
    "Reachability": "istiosim.analysis.reachability",
    "Request": "istiosim.request",
    "RequestBatch": "istiosim.batch",
    "RolloutPlan": "istiosim.analysis.rollout",
    "RoutePlan": "istiosim.plan",
    "Service": "istiosim.mesh",
    "SessionResult": "istiosim.sessions",
    "Severity": "istiosim.errors",
    "SimulationResult": "istiosim.results",
    "Simulator": "istiosim.simulator",
    "TraceStep": "istiosim.results",
    "Traffic": "istiosim.traffic",
    "VirtualService": "istiosim.config",
    "Workload": "istiosim.mesh",
    "compile_plan": "istiosim.compiler",
    "derive_classes": "istiosim.analysis.classes",
    "diff": "istiosim.analysis.diff",
    "load": "istiosim.simulator",
    "load_config": "istiosim.loader",
    "rollout": "istiosim.analysis.rollout",
    "reachability": "istiosim.analysis.reachability",
}
_SUBMODULES = {"stats", "testing", "analysis", "display", "traffic", "engine"}

__all__ = [
    "BatchDecision",
    "Candidate",
    "ClassDiff",
    "ConfigError",
    "Decision",
    "DerivedClass",
    "DestinationRef",
    "DestinationRule",
    "Diagnostic",
    "Diff",
    "InvalidArgument",
    "IstiosimError",
    "Location",
    "Mesh",
    "Outcome",
    "PerRequest",
    "Reachability",
    "Request",
    "RequestBatch",
    "RolloutPlan",
    "RoutePlan",
    "Service",
    "SessionResult",
    "Severity",
    "SimulationResult",
    "Simulator",
    "TraceStep",
    "Traffic",
    "VirtualService",
    "Workload",
    "__version__",
    "compile_plan",
    "derive_classes",
    "diff",
    "load",
    "load_config",
    "reachability",
    "rollout",
]


__getattr__, __dir__ = lazy(__name__, _NAMES, _SUBMODULES, public=True)


if TYPE_CHECKING:
    from .analysis.classes import DerivedClass as DerivedClass
    from .analysis.classes import derive_classes as derive_classes
    from .analysis.diff import ClassDiff as ClassDiff
    from .analysis.diff import Diff as Diff
    from .analysis.diff import diff as diff
    from .analysis.reachability import Reachability as Reachability
    from .analysis.reachability import reachability as reachability
    from .analysis.rollout import RolloutPlan as RolloutPlan
    from .analysis.rollout import rollout as rollout
    from .batch import RequestBatch as RequestBatch
    from .compiler import compile_plan as compile_plan
    from .config import DestinationRule as DestinationRule
    from .config import VirtualService as VirtualService
    from .errors import (
        ConfigError as ConfigError,
    )
    from .errors import (
        Diagnostic as Diagnostic,
    )
    from .errors import (
        InvalidArgument as InvalidArgument,
    )
    from .errors import (
        IstiosimError as IstiosimError,
    )
    from .errors import (
        Location as Location,
    )
    from .errors import Severity as Severity
    from .loader import load_config as load_config
    from .mesh import Mesh as Mesh
    from .mesh import Service as Service
    from .mesh import Workload as Workload
    from .plan import RoutePlan as RoutePlan
    from .request import Request as Request
    from .results import BatchDecision as BatchDecision
    from .results import Candidate as Candidate
    from .results import Decision as Decision
    from .results import DestinationRef as DestinationRef
    from .results import Outcome as Outcome
    from .results import PerRequest as PerRequest
    from .results import SimulationResult as SimulationResult
    from .results import TraceStep as TraceStep
    from .sessions import SessionResult as SessionResult
    from .simulator import Simulator as Simulator
    from .simulator import load as load
    from .traffic import Traffic as Traffic
