"""The webhook's rules for a VirtualService as a whole and for a delegate VirtualService."""

from __future__ import annotations

from collections.abc import Callable

from ... import config as cfg
from ...mesh import resolve_short_name
from ...plan import hosts_overlap
from .httproute import HTTP_ROUTE
from .values import (
    Site,
    export_to,
    gateway_name,
    mesh_bound,
    valid_host,
)

# -- VirtualService ------------------------------------------------------------------------------


def vs_hosts(vs: cfg.VirtualService, site: Site) -> None:
    """Valid, no ``*`` on the mesh, no duplicates as written (``host.Name.Matches``)."""
    spec, col = vs.spec, site.col
    all_valid = True
    for i, h in enumerate(spec.hosts):
        if not valid_host(h):
            col.error(f"invalid host {h!r}", ("spec", "hosts", i))
            all_valid = False
        elif h == "*" and mesh_bound(spec):
            col.error(
                "wildcard host * is not allowed for virtual services bound to the mesh gateway",
                ("spec", "hosts", i),
            )
            all_valid = False
    resolved: list[str] = []
    for i, h in enumerate(spec.hosts):
        earlier = next((e for e in spec.hosts[:i] if hosts_overlap(e, h)), None)
        if all_valid and earlier is not None:
            col.error(f"duplicate hosts in virtual service: {earlier} & {h}", ("spec", "hosts", i))
            continue
        r = resolve_short_name(h, site.ns, site.domain)
        if r in resolved:
            col.warn(
                f"host {h!r} names the same service as an earlier host ({r})", ("spec", "hosts", i)
            )
            continue
        resolved.append(r)


def vs_gateways(vs: cfg.VirtualService, site: Site) -> None:
    for i, g in enumerate(vs.spec.gateways):
        gateway_name(g, Site(site.col, site.ns, ("spec", "gateways", i)))


def vs_jwt_claims_on_mesh(vs: cfg.VirtualService, site: Site) -> None:
    """JWT claim matches need a gateway's RequestAuthentication; sidecars cannot do them."""
    if not mesh_bound(vs.spec):
        return
    for i, r in enumerate(vs.spec.http):
        for j, m in enumerate(r.match if r is not None else ()):
            for field_name, mapping in (
                ("headers", m.headers),
                ("withoutHeaders", m.without_headers),
            ):
                for key in mapping:
                    if key.startswith("@request.auth.claims"):
                        site.col.error(
                            f"JWT claim based routing (key: {key}) is only supported for "
                            "gateway, found no gateways",
                            ("spec", "http", i, "match", j, field_name, key),
                        )


def vs_has_routes(vs: cfg.VirtualService, site: Site) -> None:
    if not vs.spec.http and not vs.spec.tcp and not vs.spec.tls:
        site.col.error("http, tcp or tls must be provided in virtual service", ("spec",))


def vs_export_to(vs: cfg.VirtualService, site: Site) -> None:
    export_to(vs.spec.export_to, site.at("spec", "exportTo"))


def vs_http_routes(vs: cfg.VirtualService, site: Site) -> None:
    for i, r in enumerate(vs.spec.http):
        at = site.at("spec", "http", i)
        if r is None:
            site.col.error("http route must not be null", at.path)
            continue
        for rule in HTTP_ROUTE:
            rule(r, at)


def delegate_no_gateways(vs: cfg.VirtualService, site: Site) -> None:
    if vs.spec.gateways:
        site.col.error(
            "delegate VirtualService (no hosts) must not have gateways", ("spec", "gateways")
        )


def delegate_no_tcp_tls(vs: cfg.VirtualService, site: Site) -> None:
    for kind in ("tcp", "tls"):
        if getattr(vs.spec, kind):
            site.col.error(
                f"delegate VirtualService (no hosts) must not have {kind} routes", ("spec", kind)
            )


def delegate_not_nested(vs: cfg.VirtualService, site: Site) -> None:
    for i, r in enumerate(vs.spec.http):
        if r is not None and r.delegate is not None:
            site.col.error(
                "a delegate VirtualService's routes cannot delegate again",
                ("spec", "http", i, "delegate"),
            )


VirtualServiceRule = Callable[[cfg.VirtualService, Site], None]

#: a VirtualService with hosts (a root, or a plain one)
VIRTUAL_SERVICE: tuple[VirtualServiceRule, ...] = (
    vs_hosts,
    vs_gateways,
    vs_jwt_claims_on_mesh,
    vs_has_routes,
    vs_export_to,
    vs_http_routes,
)
#: a delegate VirtualService (no hosts)
DELEGATE: tuple[VirtualServiceRule, ...] = (
    delegate_no_gateways,
    delegate_no_tcp_tls,
    vs_has_routes,
    vs_export_to,
    delegate_not_nested,
    vs_http_routes,
)
