"""IST0101 and IST0112: destination hosts, subsets and ports a VirtualService names
(istioctl's ``DestinationHostAnalyzer`` and ``DestinationRuleAnalyzer``,
``pkg/config/analysis/analyzers/virtualservice/destinationhosts.go`` and ``destinationrules.go``).

As upstream, the VirtualService is read as written: each destination of each ``tcp``, ``tls``
and ``http`` route entry, then each ``mirror`` and ``mirrors`` entry (``getRouteDestinations``,
``getHTTPMirrorDestinations``), is checked once, however many match blocks its rule has. A
delegate's destinations are reported under the delegate's own name; a VirtualService Istio's
webhook refuses is analysed too (istioctl runs every analyzer on every object). A destination is
checked against the Services and ServiceEntries visible to the VirtualService, and its subset
against the DestinationRule the client would use (semantics §3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..compiler.collector import Collector, Path, dotted
from ..config import Destination, VirtualService
from ..errors import Diagnostic
from ..lookup import find_destination_rule, fqdn_namespace
from ..mesh import Service, resolve_short_name
from ..plan import export_scope
from .subject import Subject


@dataclass(frozen=True)
class Named:
    """One destination as written: host, subset, port (None: no port selector), where."""

    host: str
    subset: str
    port: int | None
    path: Path
    mirror: bool


def _from_model(d: Destination | None, path: Path, mirror: bool) -> Named:
    if d is None:  # `- {}`: no destination (the webhook refuses it; upstream reports host "")
        return Named("", "", None, path, mirror)
    port = None if d.port is None else (d.port.number or 0)
    return Named(d.host, d.subset or "", port, path, mirror)


def _from_dict(d: Any, path: Path) -> Named:
    """A tcp/tls route's destination (those routes are loaded as plain data)."""
    d = d if isinstance(d, dict) else {}
    host, subset, port = d.get("host"), d.get("subset"), d.get("port")
    number = port.get("number") if isinstance(port, dict) else None
    return Named(
        host if isinstance(host, str) else "",
        subset if isinstance(subset, str) else "",
        None if not isinstance(port, dict) else (number if isinstance(number, int) else 0),
        path,
        False,
    )


def destinations(vs: VirtualService) -> Iterator[Named]:
    """Every destination a VirtualService names, in istioctl's order."""
    for kind, routes in (("tcp", vs.spec.tcp), ("tls", vs.spec.tls)):
        for i, r in enumerate(routes):
            entries = r.get("route") if isinstance(r, dict) else None
            for j, rd in enumerate(entries if isinstance(entries, list) else []):
                dest = rd.get("destination") if isinstance(rd, dict) else None
                yield _from_dict(dest, ("spec", kind, i, "route", j, "destination"))
    for i, hr in enumerate(vs.spec.http):
        for j, hd in enumerate(hr.route if hr is not None else ()):
            yield _from_model(hd.destination, ("spec", "http", i, "route", j, "destination"), False)
    for i, hr in enumerate(vs.spec.http):
        if hr is None:
            continue
        if hr.mirror is not None:
            yield _from_model(hr.mirror, ("spec", "http", i, "mirror"), True)
        for j, mp in enumerate(hr.mirrors):
            yield _from_model(
                mp.destination, ("spec", "http", i, "mirrors", j, "destination"), True
            )


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    plan, domain = s.plan, s.mesh.domain
    by_fqdn: dict[str, list[Service]] = {}
    for service in s.mesh.services:
        by_fqdn.setdefault(service.fqdn(domain), []).append(service)
    wild = [(fq, x) for fq, xs in by_fqdn.items() if fq.startswith("*") for x in xs]
    for vs in s.config.virtual_services:
        ns = vs.metadata.namespace or "default"
        export = frozenset(vs.spec.export_to)
        col = s.collector(out, "VirtualService", ns, vs.metadata.name)
        for d in destinations(vs):
            fq = resolve_short_name(d.host, ns, domain) if d.host else ""
            if d.subset:
                svc_ns = plan.services[fq].namespace if fq in plan.services else None
                svc_ns = svc_ns or fqdn_namespace(fq, domain)
                dr = find_destination_rule(plan, fq, ns, svc_ns)
                if dr is None or dr.subset(d.subset) is None:
                    sub = "mirror+subset" if d.mirror else "host+subset"
                    out.append(
                        Diagnostic.make(
                            "IST0101",
                            f"Referenced {sub} in destinationrule not found: "
                            f'"{d.host}+{d.subset}" (503 NC at runtime)',
                            resource=col.resource,
                            **_at(col, d.path, ("subset",)),
                        )
                    )
            svc = visible_host(by_fqdn, wild, fq, ns, export) if fq else None
            if svc is None:
                what = "mirror host" if d.mirror else "host"
                out.append(
                    Diagnostic.make(
                        "IST0101",
                        f"Referenced {what} not found: {d.host!r}"
                        + (f" ({fq})" if fq and fq != d.host else ""),
                        resource=col.resource,
                        **_at(col, d.path, ("host",)),
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
                        **_at(col, d.path, ("port", "number")),
                    )
                )
            if d.port is None and len(ports) > 1:
                out.append(
                    Diagnostic.make(
                        "IST0112",
                        f"destination {d.host} exposes several ports {sorted(ports)}; the "
                        "route needs a port",
                        resource=col.resource,
                        **_at(col, d.path, ()),
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


def _at(col: Collector, dpath: Path, leaf: tuple[str, ...]) -> dict[str, Any]:
    """Location and field path of the offending key under a destination (Diagnostic.make):
    the key itself when written, else the destination."""
    full = (*dpath, *leaf)
    loc = col.source.find(full) or col.source.find(dpath) or col.fallback
    return {"location": loc, "field_path": dotted(full)}
