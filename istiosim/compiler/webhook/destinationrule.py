"""The webhook's rules for a DestinationRule: host, exportTo, subsets, traffic policies."""

from __future__ import annotations

from collections.abc import Callable

from ... import config as cfg
from ..collector import Path
from .values import (
    LABEL,
    Site,
    duration_problem,
    export_to,
    labels,
    valid_host,
)

# -- DestinationRule -----------------------------------------------------------------------------


def dr_host(dr: cfg.DestinationRule, site: Site) -> None:
    if not dr.spec.host:
        site.col.error("host is required", ("spec", "host"))
    elif dr.spec.host == "*" or not valid_host(dr.spec.host):
        site.col.error(f"invalid host {dr.spec.host!r}", ("spec", "host"))


def dr_export_to(dr: cfg.DestinationRule, site: Site) -> None:
    export_to(dr.spec.export_to, site.at("spec", "exportTo"))
    if dr.spec.workload_selector is not None and dr.spec.export_to and dr.spec.export_to != ["."]:
        site.col.error(
            "a DestinationRule with workloadSelector may only be exported to its own namespace",
            ("spec", "exportTo"),
        )


def dr_traffic_policy(dr: cfg.DestinationRule, site: Site) -> None:
    traffic_policy(dr.spec.traffic_policy, site.at("spec", "trafficPolicy"))


def dr_subsets(dr: cfg.DestinationRule, site: Site) -> None:
    names: set[str] = set()
    col = site.col
    for i, s in enumerate(dr.spec.subsets):
        sp: Path = ("spec", "subsets", i)
        if s is None:
            col.error("subset must not be null", sp)
            continue
        if not s.name:
            col.error("subset name is required", sp)
        elif len(s.name) > 63 or not LABEL.match(s.name):
            col.error(f"invalid subset name {s.name!r}: must be a DNS-1123 label", (*sp, "name"))
        if s.name in names:
            col.error(f"duplicate subset name {s.name!r}", (*sp, "name"))
        names.add(s.name)
        labels(s.labels, Site(col, site.ns, (*sp, "labels")))
        traffic_policy(s.traffic_policy, Site(col, site.ns, (*sp, "trafficPolicy")))


def traffic_policy(tp: cfg.TrafficPolicy | None, site: Site) -> None:
    if tp is None:
        return
    col, path = site.col, site.path
    if not tp.model_fields_set:
        col.error("traffic policy must have at least one field", path)
        return
    if tp.tunnel is not None and tp.proxy_protocol is not None:
        col.error(
            "tunnel and proxyProtocol cannot both be set",
            (*path, col.written_last(path, ["tunnel", "proxyProtocol"])),
        )
    load_balancer(tp.load_balancer, site.at("loadBalancer"))
    for i, p in enumerate(tp.port_level_settings):
        pp = (*path, "portLevelSettings", i)
        if p.port is None or p.port.number is None:
            col.error("portLevelSettings entry must set port", pp)
            continue
        if len(p.model_fields_set - {"port"}) == 0:
            col.error("portLevelSettings entry must set at least one field besides port", pp)
        load_balancer(p.load_balancer, Site(col, site.ns, (*pp, "loadBalancer")))


def load_balancer(lb: cfg.LoadBalancerSettings | None, site: Site) -> None:
    if lb is None:
        return
    col, path = site.col, site.path
    if lb.simple is not None and lb.consistent_hash is not None:
        col.error(
            "loadBalancer may set simple or consistentHash, not both",
            (*path, col.written_last(path, ["simple", "consistentHash"])),
        )
    ch = lb.consistent_hash
    if ch is None:
        if lb.warmup is not None:
            warmup(lb.warmup, site.at("warmup"))
        return
    cp = (*path, "consistentHash")
    keys = [
        k
        for k in ("http_header_name", "http_cookie", "use_source_ip", "http_query_parameter_name")
        if getattr(ch, k)
    ]
    if len(keys) > 1:
        col.error("consistentHash may set only one hash key", cp)
    if ch.http_cookie is not None and not ch.http_cookie.name:
        col.error("httpCookie name is required", (*cp, "httpCookie"))
    if ch.http_cookie is not None:
        seen_attr: set[str] = set()
        for i, attr in enumerate(ch.http_cookie.attributes):
            name = attr.get("name", "")
            ap = (*cp, "httpCookie", "attributes", i)
            if not name:
                col.error("cookie attribute name is required", ap)
            elif name in seen_attr:
                col.error(f"duplicate cookie attribute name {name!r}", ap)
            seen_attr.add(name)
    if ch.minimum_ring_size is not None and (ch.ring_hash is not None or ch.maglev is not None):
        col.error("minimumRingSize cannot be combined with ringHash or maglev", cp)
    if ch.maglev is not None:
        ts = ch.maglev.table_size
        if ts is None or not _is_prime(ts) or ts >= 5000011:
            col.error(
                "maglev tableSize must be a prime below 5000011", (*cp, "maglev", "tableSize")
            )


def warmup(w: cfg.WarmupConfiguration, site: Site) -> None:
    """The CRD's rules for ``warmup`` (istio/api destinationrule-invalid.yaml)."""
    col, path = site.col, site.path
    if w.duration is None:
        col.error("warmup duration is required", (*path, "duration"))
    else:
        problem = duration_problem(w.duration)
        if problem:
            col.error(problem, (*path, "duration"))
    if w.minimum_percent is not None and not (0 <= w.minimum_percent <= 100):
        col.error(
            f"minimumPercent {w.minimum_percent} must be in [0, 100]", (*path, "minimumPercent")
        )
    if w.aggression is not None and not w.aggression > 0:
        col.error(f"aggression {w.aggression} must be > 0", (*path, "aggression"))


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


DestinationRuleRule = Callable[[cfg.DestinationRule, Site], None]

DESTINATION_RULE: tuple[DestinationRuleRule, ...] = (
    dr_host,
    dr_export_to,
    dr_traffic_policy,
    dr_subsets,
)
