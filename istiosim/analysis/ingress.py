"""IST0140: a gateway-bound VirtualService routes to a host without a subset while another
VirtualService for that host splits it by subset (istioctl's ``DestinationHostAnalyzer.
analyzeSubset``, ``pkg/config/analysis/analyzers/virtualservice/destinationhosts.go``).

A gateway applies the VirtualServices bound to it, not the mesh VirtualService of the
destination: the subset routing written for the mesh has no effect on requests entering through
the gateway. As upstream, hosts are compared as written (no short-name resolution), any
VirtualService listing ``gateways`` counts, and there is one message per subset destination
of the other VirtualService that names the host.
"""

from __future__ import annotations

from ..errors import Diagnostic
from .subject import Subject


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    # initVirtualServiceDestinations: VS → its subset destinations whose host is one of its hosts
    subset_routes: dict[str, list[str]] = {}  # destination host → VS ns/name, per destination
    for vs in s.config.virtual_services:
        hosts = set(vs.spec.hosts)
        for r in vs.spec.http:
            for rd in r.route if r is not None else ():
                d = rd.destination
                if d is not None and d.subset and d.host in hosts:
                    key = f"{vs.metadata.namespace or 'default'}/{vs.metadata.name}"
                    subset_routes.setdefault(d.host, []).append(key)
    for vs in s.config.virtual_services:
        if not vs.spec.gateways:
            continue
        ns = vs.metadata.namespace or "default"
        col = s.collector(out, "VirtualService", ns, vs.metadata.name)
        for i, r in enumerate(vs.spec.http):
            for j, rd in enumerate(r.route if r is not None else ()):
                d = rd.destination
                if d is not None and d.subset:
                    continue
                host = d.host if d is not None else ""
                for other in subset_routes.get(host, ()):
                    col.add(
                        "IST0140",
                        f"Subset in virtual service {other} has no effect on ingress gateway "
                        f"{ns}/{vs.metadata.name} requests",
                        ("spec", "http", i, "route", j, "destination", "host"),
                    )
    return out
