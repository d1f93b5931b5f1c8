"""DestinationRule → CompiledDestinationRule: subsets and load-balancer policies (semantics §3).

Runs after ``webhook.validate`` found no error. A port-level policy replaces the top level
wholesale; ``LEAST_CONN`` and ``UNSPECIFIED`` are Envoy's ``LEAST_REQUEST``.
"""

from __future__ import annotations

from .. import config as cfg
from ..loader import ConfigSet
from ..mesh import resolve_short_name
from ..plan import CompiledDestinationRule, LbPolicy, SubsetSpec
from .collector import collector


def translate_destination_rule(
    config: ConfigSet, dr: cfg.DestinationRule, order: int, domain: str
) -> CompiledDestinationRule:
    ns = dr.metadata.namespace or "default"
    col = collector(config, [], "DestinationRule", ns, dr.metadata.name)
    spec = dr.spec
    lb, port_lb = traffic_policy(spec.traffic_policy)
    subsets = []
    for i, s in enumerate(spec.subsets):
        assert s is not None
        slb, sport = traffic_policy(s.traffic_policy)
        loc = col.loc(("spec", "subsets", i))
        subsets.append(SubsetSpec(s.name, tuple(sorted(s.labels.items())), slb, sport, loc))
    return CompiledDestinationRule(
        ns,
        dr.metadata.name,
        resolve_short_name(spec.host, ns, domain) if spec.host else "",
        frozenset(spec.export_to),
        tuple(subsets),
        lb,
        port_lb,
        order,
        col.loc(()),
        spec.traffic_policy is not None,
    )


def traffic_policy(
    tp: cfg.TrafficPolicy | None,
) -> tuple[LbPolicy | None, tuple[tuple[int, LbPolicy], ...]]:
    if tp is None:
        return None, ()
    ports = tuple(
        # a port-level policy replaces the top level wholesale (semantics §3)
        (p.port.number, load_balancer(p.load_balancer) or LbPolicy())
        for p in tp.port_level_settings
        if p.port is not None and p.port.number is not None
    )
    return load_balancer(tp.load_balancer), ports


def load_balancer(lb: cfg.LoadBalancerSettings | None) -> LbPolicy | None:
    if lb is None:
        return None
    ch = lb.consistent_hash
    if ch is not None:
        if ch.http_header_name:
            return LbPolicy("CONSISTENT_HASH", ("header", ch.http_header_name.lower()))
        if ch.http_cookie is not None:
            return LbPolicy("CONSISTENT_HASH", ("cookie", ch.http_cookie.name or ""))
        if ch.http_query_parameter_name:
            return LbPolicy("CONSISTENT_HASH", ("query", ch.http_query_parameter_name))
        if ch.use_source_ip:
            return LbPolicy("CONSISTENT_HASH", ("source_ip", ""))
        return LbPolicy("CONSISTENT_HASH", None)
    simple = lb.simple or "LEAST_REQUEST"
    if simple in ("UNSPECIFIED", "LEAST_CONN"):
        simple = "LEAST_REQUEST"
    return LbPolicy(simple)
