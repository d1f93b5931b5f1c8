"""IST0174 and IST0173: a DestinationRule whose host matches no Service or ServiceEntry, and a
subset that selects no pods (istioctl's ``DestinationRuleAnalyzer``; 503 UH at runtime)."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Diagnostic
from ..mesh import labels_match
from ..plan import ServiceInfo, host_matches
from .subject import Subject


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    services = s.plan.services
    wildcards = {
        fq: info
        for fq, info in services.items()
        if info.kind == "ServiceEntry" and fq.startswith("*.")
    }
    for dr in s.plan.destination_rules:
        col = s.collector(out, "DestinationRule", dr.namespace, dr.name)
        info = services.get(dr.host) or _wildcard_entry(wildcards, dr.host)
        if info is None:
            if not dr.host.startswith("*"):
                out.append(
                    Diagnostic.make(
                        "IST0174",
                        f"host {dr.host!r} matches no Service or ServiceEntry",
                        col.loc(("spec", "host")),
                        resource=col.resource,
                    )
                )
            continue
        for sub in dr.subsets:
            if not any(labels_match(dict(sub.labels), dict(e.labels)) for e in info.endpoints):
                out.append(
                    Diagnostic.make(
                        "IST0173",
                        f"subset {sub.name!r} selects no pods (503 UH at runtime)",
                        sub.location or col.fallback,
                        resource=col.resource,
                    )
                )
    return out


def _wildcard_entry(services: Mapping[str, ServiceInfo], host: str) -> ServiceInfo | None:
    """A wildcard ServiceEntry (``*.example.com``) covering ``host`` (``services``: the plan's,
    or only its wildcard ServiceEntries, in plan order)."""
    for info in services.values():
        if (
            info.kind == "ServiceEntry"
            and info.fqdn.startswith("*.")
            and host_matches(info.fqdn, host)
        ):
            return info
    return None
