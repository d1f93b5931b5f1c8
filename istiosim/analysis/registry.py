"""The analyzer table ``check`` runs: one entry per analyzer module, in reporting order."""

from __future__ import annotations

from collections.abc import Callable

from .._gc import gc_paused
from ..errors import Diagnostic
from ..loader import ConfigSet
from ..mesh import Mesh
from ..plan import RoutePlan
from . import (
    conflicts,
    deprecations,
    destinations,
    gateways,
    ingress,
    jwt_claims,
    pods,
    reachability,
    rule_order,
    sidecars,
    tls_origination,
)
from .subject import Subject

Analyzer = Callable[[Subject], list[Diagnostic]]


def _rollouts_lint(s: Subject) -> list[Diagnostic]:
    """``rollouts_lint.analyze``, imported only when the config holds a Canary or Rollout (a
    ``route`` over plain Istio objects never loads it: start-up, issue 9)."""
    if not s.config.rollouts:
        return []
    from . import rollouts_lint

    return rollouts_lint.analyze(s)


#: (name, analyzer) in the order ``check`` reports them
ANALYZERS: tuple[tuple[str, Analyzer], ...] = (
    ("destinations", destinations.analyze),  # IST0101, IST0112
    ("ingress", ingress.analyze),  # IST0140
    ("gateways", gateways.analyze),  # IST0165, IST0101, IST0132
    ("jwt_claims", jwt_claims.analyze),  # IST0149
    ("pods", pods.analyze),  # IST0173, IST0174
    ("conflicts", conflicts.analyze),  # IST0109
    ("rule_order", rule_order.analyze),  # IST0130, IST0131
    ("reachability", reachability.analyze),  # ISM0130: what IST0130/IST0131 do not see
    ("deprecations", deprecations.analyze),  # IST0002, IST0133
    ("tls_origination", tls_origination.analyze),  # IST0128, IST0129
    ("sidecars", sidecars.analyze),  # IST0101, IST0110, IST0111, IST0167
    ("rollouts_lint", _rollouts_lint),  # ISM0300, ISM0301, ISM0307 (Canary, Rollout)
)


def analyze(config: ConfigSet, plan: RoutePlan, mesh: Mesh | None = None) -> tuple[Diagnostic, ...]:
    """The loader's and webhook's diagnostics (``plan.diagnostics``), then every analyzer's."""
    subject = Subject(config, plan, mesh if mesh is not None else config.mesh)
    out = list(plan.diagnostics)
    with gc_paused():  # long-lived indexes over the whole config: the collector rescans them
        for _, analyzer in ANALYZERS:
            out.extend(analyzer(subject))
    return tuple(out)
