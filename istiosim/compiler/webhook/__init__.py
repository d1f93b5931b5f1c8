"""What Istio's admission webhook refuses or warns about: small validators in ordered tables.

Each validator checks one concern of one object and reports through a ``Collector``; the
tables below list them in the order the webhook (``pkg/config/validation``) reports, the way
sqlglot orders its optimizer rules. ``validate(config)`` runs them over every object, so the
translators after it may trust what they read. Semantics §5.1–5.2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..._lazy import lazy
from ...errors import Diagnostic
from ...loader import ConfigSet
from ..collector import collector
from .destinationrule import DESTINATION_RULE
from .httproute import HTTP_ROUTE, MAP_MATCHES, delegate_problem
from .values import (
    DNS1123,
    LABEL,
    Site,
    duration_problem,
    mesh_bound,
    parse_duration_ms,
    valid_host,
)
from .virtualservice import DELEGATE, VIRTUAL_SERVICE

# a config without Gateways and Sidecars never imports their rules (start-up, issue 9)
__getattr__, _ = lazy(
    __name__,
    {
        "GATEWAY": "istiosim.compiler.webhook.gateway",
        "SIDECAR": "istiosim.compiler.webhook.gateway",
    },
)
if TYPE_CHECKING:
    from .gateway import GATEWAY as GATEWAY
    from .gateway import SIDECAR as SIDECAR

__all__ = [
    "DELEGATE",
    "DESTINATION_RULE",
    "DNS1123",
    "GATEWAY",
    "HTTP_ROUTE",
    "LABEL",
    "MAP_MATCHES",
    "SIDECAR",
    "VIRTUAL_SERVICE",
    "Site",
    "delegate_problem",
    "duration_problem",
    "mesh_bound",
    "parse_duration_ms",
    "valid_host",
    "validate",
]


def validate(config: ConfigSet, domain: str, regexes: dict[str, Any]) -> list[Diagnostic]:
    """Every webhook finding of every object, in load order (VirtualServices, then
    DestinationRules, Gateways, Sidecars). ``regexes`` receives each valid regex compiled, for the translators."""
    out: list[Diagnostic] = []
    by_key = {
        (v.metadata.namespace or "default", v.metadata.name): v for v in config.virtual_services
    }
    for vs in config.virtual_services:
        ns = vs.metadata.namespace or "default"
        col = collector(config, out, "VirtualService", ns, vs.metadata.name)
        rules = VIRTUAL_SERVICE if vs.spec.hosts else DELEGATE
        site = Site(col, ns, (), domain, by_key if vs.spec.hosts else None, regexes)
        for rule in rules:
            rule(vs, site)
    for dr in config.destination_rules:
        ns = dr.metadata.namespace or "default"
        col = collector(config, out, "DestinationRule", ns, dr.metadata.name)
        site = Site(col, ns, (), domain, None, regexes)
        for drule in DESTINATION_RULE:
            drule(dr, site)
    if config.gateways or config.sidecars:
        from .gateway import GATEWAY, SIDECAR
    for gw in config.gateways:
        ns = gw.metadata.namespace or "default"
        col = collector(config, out, "Gateway", ns, gw.metadata.name)
        site = Site(col, ns, (), domain, None, regexes)
        for grule in GATEWAY:
            grule(gw, site)
    for sc in config.sidecars:
        ns = sc.metadata.namespace or "default"
        col = collector(config, out, "Sidecar", ns, sc.metadata.name)
        site = Site(col, ns, (), domain, None, regexes)
        for srule in SIDECAR:
            srule(sc, site)
    return out
