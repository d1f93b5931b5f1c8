"""IST0101 and IST0112: destination hosts, subsets and ports a VirtualService names
(istioctl's ``DestinationHostAnalyzer`` and ``DestinationRuleAnalyzer``).

Each route entry's destinations and mirrors are checked against the Services and
ServiceEntries visible to the VirtualService, and against the DestinationRule the client would
use (semantics §3). A delegate's routes are reported under the delegate's own name.
"""

from __future__ import annotations

from typing import Any

from ..compiler.collector import Collector, Path, dotted
from ..errors import Diagnostic
from ..lookup import find_destination_rule, fqdn_namespace
from ..mesh import Service
from ..plan import CompiledVirtualService, Forward, export_scope
from .subject import Subject


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    plan = s.plan
    by_fqdn: dict[str, list[Service]] = {}
    for service in s.mesh.services:
        by_fqdn.setdefault(service.fqdn(s.mesh.domain), []).append(service)
    wild = [(fq, x) for fq, xs in by_fqdn.items() if fq.startswith("*") for x in xs]
    written: list[CompiledVirtualService] = [*plan.virtual_services, *plan.delegates]
    for vs in written:
        col = s.collector(out, "VirtualService", vs.namespace, vs.name)
        for e in vs.entries:
            act = e.action
            if e.delegate is not None or not isinstance(act, Forward):
                continue
            specs = [(d, "host") for d in act.destinations] + [
                (m.destination, "mirror host") for m in act.mirrors
            ]
            for d, what in specs:
                dpath = d.field_path or None
                if d.subset:
                    svc_ns = plan.services[d.host].namespace if d.host in plan.services else None
                    svc_ns = svc_ns or fqdn_namespace(d.host, s.mesh.domain)
                    dr = find_destination_rule(plan, d.host, vs.namespace, svc_ns)
                    if dr is None or dr.subset(d.subset) is None:
                        sub = "host+subset" if what == "host" else "mirror+subset"
                        out.append(
                            Diagnostic.make(
                                "IST0101",
                                f"Referenced {sub} in destinationrule not found: "
                                f'"{d.host}+{d.subset}" (503 NC at runtime)',
                                resource=col.resource,
                                **_at(col, dpath, ("subset",)),
                            )
                        )
                svc = visible_host(by_fqdn, wild, d.host, vs.namespace, vs.export_to)
                if svc is None:
                    out.append(
                        Diagnostic.make(
                            "IST0101",
                            f"Referenced {what} not found: {d.host!r}",
                            resource=col.resource,
                            **_at(col, dpath, ("host",)),
                        )
                    )
                    continue
                ports = [p.number for p in svc.ports]
                if d.port is not None and d.port not in ports:
                    out.append(
                        Diagnostic.make(
                            "IST0101",
                            f'Referenced host:port not found: "{d.host}:{d.port}"',
                            resource=col.resource,
                            **_at(col, dpath, ("port", "number")),
                        )
                    )
                if d.port is None and len(ports) > 1:
                    out.append(
                        Diagnostic.make(
                            "IST0112",
                            f"destination {d.host} exposes several ports; the route needs a port",
                            resource=col.resource,
                            **_at(col, dpath, ()),
                        )
                    )
    return out


def visible_host(
    by_fqdn: dict[str, list[Service]],
    wild: list[tuple[str, Service]],
    host: str,
    vs_ns: str,
    vs_export: frozenset[str],
) -> Service | None:
    """The Service or ServiceEntry a VirtualService's destination host names, as istioctl's
    DestinationHostAnalyzer (``util.GetDestinationHost``) finds it.

    A service exported to all namespaces is found from anywhere; otherwise it must be exported
    to a namespace the VirtualService is exported to (its own when it has no exportTo). Wildcard
    ServiceEntry hosts match by suffix, when exported everywhere or to the VS's own namespace.
    """
    wanted = {vs_ns} if not vs_export else {vs_ns if x == "." else x for x in vs_export}
    for svc in by_fqdn.get(host, ()):
        sc = export_scope(frozenset(svc.export_to), svc.namespace)
        if "*" in sc or sc & wanted:
            return svc
    bare = host.lstrip("*")
    for fq, svc in wild:
        if bare.endswith(fq[1:]):
            sc = export_scope(frozenset(svc.export_to), svc.namespace)
            if "*" in sc or vs_ns in sc:
                return svc
    return None


def _at(col: Collector, dpath: Path | None, leaf: tuple[str, ...]) -> dict[str, Any]:
    """Location and field path of the offending key under a destination (Diagnostic.make)."""
    if dpath is None:
        return {"location": col.fallback}
    full = (*dpath, *leaf)
    return {"location": col.loc(full), "field_path": dotted(full)}
