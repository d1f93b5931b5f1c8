"""IST0002: deprecated fields (istioctl's ``deprecation.FieldAnalyzer``).

``fault.delay.percent`` (only when non-zero: a zero percent is unset), ``mirrorPercent``, and
``consistentHash.minimumRingSize``.
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
                    "percent is deprecated; use percentage",
                    (*path, "fault", "delay", "percent"),
                    "IST0002",
                )
            if r.mirror_percent is not None and r.route and not (r.redirect or r.direct_response):
                col.warn(
                    "mirrorPercent is deprecated; use mirrorPercentage",
                    (*path, "mirrorPercent"),
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
            lbs: list[tuple[tuple[str | int, ...], Any]] = [
                ((*tpath, "loadBalancer"), tp.load_balancer)
            ] + [
                ((*tpath, "portLevelSettings", j, "loadBalancer"), p.load_balancer)
                for j, p in enumerate(tp.port_level_settings)
            ]
            for lpath, lb in lbs:
                ch = lb.consistent_hash if lb is not None else None
                if ch is not None and ch.minimum_ring_size is not None:
                    col.warn(
                        "minimumRingSize is deprecated; use ringHash",
                        (*lpath, "consistentHash", "minimumRingSize"),
                        "IST0002",
                    )
    return out
