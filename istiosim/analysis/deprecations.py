"""Deprecated fields, coded as ``istioctl analyze`` codes them.

IST0002 (Deprecated) is istioctl's ``deprecation.FieldAnalyzer``
(``pkg/config/analysis/analyzers/deprecation/deprecation.go``): a VirtualService's
``fault.delay.percent`` when non-zero, and a Sidecar's ``outboundTrafficPolicy.egressProxy``
("ignored"). The other deprecated fields are warnings of Istio's admission webhook, which
istioctl reports as IST0133 (SchemaWarning) with the webhook's text: ``mirrorPercent`` whenever
set (``pkg/config/validation/virtualservice.go``), a consistent hash's ``minimumRingSize`` when
non-zero and an outlier detection's ``consecutiveErrors`` when non-zero
(``pkg/config/validation/validation.go``), in every traffic policy of a DestinationRule.
"""

from __future__ import annotations

from typing import Any

from ..errors import Diagnostic
from .subject import Subject


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for vs in s.config.virtual_services:
        col = s.collector(
            out, "VirtualService", vs.metadata.namespace or "default", vs.metadata.name
        )
        for i, r in enumerate(vs.spec.http):
            if r is None:
                continue
            path = ("spec", "http", i)
            if r.fault is not None and r.fault.delay is not None and r.fault.delay.percent:
                col.warn(
                    "HTTPRoute.fault.delay.percent is deprecated; use "
                    "HTTPRoute.fault.delay.percentage",
                    (*path, "fault", "delay", "percent"),
                    "IST0002",
                )
            if r.mirror_percent is not None:
                col.warn(
                    'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead',
                    (*path, "mirrorPercent"),
                    "IST0133",
                )
    for sc in s.config.sidecars:
        otp = sc.spec.outbound_traffic_policy
        if otp is not None and otp.egress_proxy is not None:
            s.collector(out, "Sidecar", sc.metadata.namespace or "default", sc.metadata.name).warn(
                "OutboundTrafficPolicy.EgressProxy ignored",
                ("spec", "outboundTrafficPolicy", "egressProxy"),
                "IST0002",
            )
    for dr in s.config.destination_rules:
        col = s.collector(
            out, "DestinationRule", dr.metadata.namespace or "default", dr.metadata.name
        )
        policies: list[tuple[tuple[str | int, ...], Any]] = [
            (("spec", "trafficPolicy"), dr.spec.traffic_policy)
        ] + [
            (("spec", "subsets", i, "trafficPolicy"), sub.traffic_policy)
            for i, sub in enumerate(dr.spec.subsets)
            if sub is not None
        ]
        for tpath, tp in policies:
            if tp is None:
                continue
            each: list[tuple[tuple[str | int, ...], Any]] = [(tpath, tp)] + [
                ((*tpath, "portLevelSettings", j), p) for j, p in enumerate(tp.port_level_settings)
            ]
            for ppath, p in each:
                ch = p.load_balancer.consistent_hash if p.load_balancer is not None else None
                if ch is not None and ch.minimum_ring_size:
                    col.warn(
                        "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's "
                        "RingHash configuration instead",
                        (*ppath, "loadBalancer", "consistentHash", "minimumRingSize"),
                        "IST0133",
                    )
                od = p.outlier_detection
                if od is not None and od.consecutive_errors:
                    col.warn(
                        "outlier detection consecutive errors is deprecated, use "
                        "consecutiveGatewayErrors or consecutive5xxErrors instead",
                        (*ppath, "outlierDetection", "consecutiveErrors"),
                        "IST0133",
                    )
    return out
