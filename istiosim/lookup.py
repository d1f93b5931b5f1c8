"""Which virtual host, VirtualService, route table and DestinationRule a client proxy sees
for a request: the lookup rules of semantics §1.1, §1.4, §3.

Part of the plan stage (``RoutePlan.table`` calls ``resolve_table``); imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Mapping

from .mesh import labels_match
from .plan import (
    CompiledDestinationRule,
    CompiledVirtualService,
    DestinationSpec,
    Forward,
    LbPolicy,
    ProxyContext,
    ResolvedEntry,
    RouteEntry,
    RoutePlan,
    RouteTable,
    ServiceInfo,
    SubsetSpec,
    Target,
    host_matches,
    visible,
)


def fqdn_namespace(host: str, domain: str) -> str | None:
    """``name.ns.svc.<domain>`` → ``ns``; None for other hosts."""
    suffix = f".svc.{domain}"
    if host.endswith(suffix):
        parts = host[: -len(suffix)].split(".")
        if len(parts) == 2:
            return parts[1]
    return None


def service_names(services: Mapping[str, ServiceInfo]) -> dict[str, tuple[ServiceInfo, ...]]:
    """Every name a Service or ServiceEntry answers to → those services, in plan order.

    A Service answers to ``name`` (from its own namespace only), ``name.ns``, ``name.ns.svc``
    and its FQDN; a ServiceEntry to its host. Linear in the services: built once per plan."""
    out: dict[str, list[ServiceInfo]] = {}
    for svc in services.values():
        if svc.kind == "ServiceEntry":
            names = [svc.fqdn]
        else:
            names = [svc.name, f"{svc.name}.{svc.namespace}", f"{svc.name}.{svc.namespace}.svc"]
            names.append(svc.fqdn)
        for n in dict.fromkeys(names):
            out.setdefault(n, []).append(svc)
    return {n: tuple(v) for n, v in out.items()}


def _answers(svc: ServiceInfo, name: str, ns: str) -> bool:
    """Does ``svc`` answer to ``name`` for a client in ``ns``? (exportTo; short names in the
    service's own namespace only)"""
    if not visible(svc.export_to, svc.namespace, ns):
        return False
    return svc.kind == "ServiceEntry" or name != svc.name or svc.namespace == ns


def find_service(plan: RoutePlan, host: str, ns: str) -> ServiceInfo | None:
    """Virtual host selection by Host (port ignored): exact domain, then wildcard SE hosts.
    Of several services with one name, the first in plan order visible from ``ns``."""
    for svc in plan.names.get(host, ()):
        if _answers(svc, host, ns):
            return svc
    best: ServiceInfo | None = None
    for name, svcs in plan.names.items():
        if not (name.startswith("*.") and host_matches(name, host)):
            continue
        hit = next((x for x in svcs if _answers(x, name, ns)), None)
        if hit is not None and (best is None or len(name) > len(best.fqdn)):
            best = hit
    return best


def _bucket(vs: CompiledVirtualService, ns: str) -> int:
    if vs.export_to == frozenset({"."}) or (
        vs.namespace == ns and vs.export_to and "*" not in vs.export_to
    ):
        return 0
    if ns in vs.export_to:
        return 1
    return 2


def select_virtual_services(
    plan: RoutePlan, hostname: str, ctx: ProxyContext
) -> tuple[list[CompiledVirtualService], list[CompiledVirtualService]]:
    """(applied, shadowed): the VSs for a host as seen by this proxy, in Istio's order."""
    where = ctx.gateway or "mesh"
    exact: list[CompiledVirtualService] = []
    wild: list[tuple[int, CompiledVirtualService]] = []
    for vs in plan.virtual_services:
        if where not in vs.gateways or not visible(vs.export_to, vs.namespace, ctx.namespace):
            continue
        best = -1
        for h in vs.hosts:
            if h == hostname:
                best = 10**6
            elif host_matches(h, hostname):
                best = max(best, len(h))
        if best == 10**6:
            exact.append(vs)
        elif best >= 0:
            wild.append((best, vs))
    order = sorted(exact, key=lambda v: (_bucket(v, ctx.namespace), v.order))
    order += [
        v for _, v in sorted(wild, key=lambda t: (-t[0], _bucket(t[1], ctx.namespace), t[1].order))
    ]
    if ctx.gateway is not None:
        return order, []  # gateways merge every VS for the host
    return order[:1], order[1:]


def destination_rule_index(
    drs: tuple[CompiledDestinationRule, ...],
) -> dict[str, tuple[int, ...]]:
    """DestinationRule host → positions in ``drs``; every wildcard host (``*``, ``*.x``) under
    ``*``. Built once per plan, so finding a host's rules does not scan them all."""
    out: dict[str, list[int]] = {}
    for i, dr in enumerate(drs):
        out.setdefault("*" if dr.host.startswith("*") else dr.host, []).append(i)
    return {h: tuple(v) for h, v in out.items()}


def find_destination_rule(
    plan: RoutePlan, host: str, client_ns: str, service_ns: str | None
) -> CompiledDestinationRule | None:
    """DR lookup: client namespace, then the service's, then the root namespace."""
    drs = plan.destination_rules
    index = plan.dr_index
    wild = [i for i in index.get("*", ()) if host_matches(drs[i].host, host)]
    cands = [
        dr
        for dr in (drs[i] for i in sorted((*index.get(host, ()), *wild)))
        if visible(dr.export_to, dr.namespace, client_ns)
    ]
    if not cands:
        return None
    # Istio looks nowhere else (push_context.go ``destinationRule``): a DR in an unrelated
    # namespace never applies, even when exported to the client's namespace.
    for ns in (client_ns, service_ns, plan.root_namespace):
        here = [d for d in cands if d.namespace == ns]
        if not here:
            continue
        exact = [d for d in here if d.host == host]
        if exact:
            return _merge(exact)
        return max(here, key=lambda d: len(d.host))
    return None


def _merge(drs: list[CompiledDestinationRule]) -> CompiledDestinationRule:
    """Several DRs for one host: subsets concatenated (first name wins), first policy wins."""
    if len(drs) == 1:
        return drs[0]
    subsets: list[SubsetSpec] = []
    seen: set[str] = set()
    for d in drs:
        for s in d.subsets:
            if s.name not in seen:
                seen.add(s.name)
                subsets.append(s)
    # model/destination_rule.go mergeDestinationRule: the first trafficPolicy written wins whole
    first = next((d for d in drs if d.has_policy), drs[0])
    head = drs[0]
    return CompiledDestinationRule(
        head.namespace,
        head.name,
        head.host,
        head.export_to,
        tuple(subsets),
        first.lb,
        first.port_lb,
        head.order,
        head.location,
        first.has_policy,
    )


def _lb_for(
    dr: CompiledDestinationRule | None, subset: SubsetSpec | None, port: int | None
) -> LbPolicy:
    """Subset port-level > subset > DR port-level > DR top-level (whole-object replacement)."""
    for src in (subset, dr):
        if src is None:
            continue
        for p, lb in src.port_lb:
            if p == port:
                return lb
        if src.lb is not None:
            return src.lb
    return LbPolicy()


def _port_policy(src: CompiledDestinationRule | SubsetSpec, port: int | None) -> LbPolicy | None:
    for p, lb in src.port_lb:
        if p == port:
            return lb
    return None


def _route_hash(
    dr: CompiledDestinationRule | None, subset: SubsetSpec | None, port: int | None, named: bool
) -> tuple[str, str] | None:
    """The route's hash policy (route.go ``hashForHTTPDestination``), chosen apart from the
    cluster's LB: subset port-level > subset > DR port-level > DR top-level, where port-level
    settings count only when the destination names its port (``portLevelSettingsConsistentHash``).
    A ring-hash cluster whose route carries no hash policy picks at random."""
    if dr is None:
        return None
    chain: list[LbPolicy | None] = []
    if subset is not None:
        chain += [_port_policy(subset, port) if named else None, subset.lb]
    chain.append(_port_policy(dr, port) if named else None)
    for lb in chain:
        if lb is not None and lb.simple == "CONSISTENT_HASH":
            return lb.hash_on
    return dr.lb.hash_on if dr.lb is not None else None


def resolve_target(
    plan: RoutePlan, spec: DestinationSpec, ctx: ProxyContext, listener_port: int | None
) -> Target:
    svc = plan.services.get(spec.host)
    if svc is None:
        svc = find_service(plan, spec.host, ctx.namespace)
        if svc is not None and svc.fqdn != spec.host and svc.kind != "ServiceEntry":
            svc = None
    port = spec.port
    if port is None:
        # route.go ``GetDestinationCluster``: the service's only port, else the listener port
        if svc is not None and (len(svc.ports) == 1 or listener_port is None):
            port = svc.ports[0]
        else:
            port = listener_port
    cluster = f"outbound|{port or ''}|{spec.subset or ''}|{spec.host}"
    if svc is None:
        return Target(
            spec.host,
            spec.subset,
            port,
            cluster,
            "NC",
            (),
            LbPolicy(),
            spec,
            None,
            f"host {spec.host} is not a known service (no such cluster)",
        )
    if port not in svc.ports:
        why = f"{spec.host} has no port {port}: cluster {cluster} does not exist"
        return Target(spec.host, spec.subset, port, cluster, "NC", (), LbPolicy(), spec, None, why)
    dr = find_destination_rule(plan, spec.host, ctx.namespace, svc.namespace)
    drname = f"{dr.namespace}/{dr.name}" if dr else None
    subset = None
    if spec.subset:
        subset = dr.subset(spec.subset) if dr else None
        if subset is None:
            why = f"subset {spec.subset} is not defined by " + (
                f"DestinationRule {drname}" if dr else f"any DestinationRule for {spec.host}"
            )
            return Target(
                spec.host, spec.subset, port, cluster, "NC", (), LbPolicy(), spec, drname, why
            )
        want = dict(subset.labels)
        eps = tuple(e for e in svc.endpoints if labels_match(want, dict(e.labels)))
    else:
        eps = svc.endpoints
    lb = _lb_for(dr, subset, port)
    if lb.simple == "CONSISTENT_HASH":
        key = _route_hash(dr, subset, port, spec.port is not None)
        if key != lb.hash_on:
            lb = LbPolicy(lb.simple, key)
    if not eps:
        what = f"subset {spec.subset}" if spec.subset else f"service {spec.host}"
        return Target(
            spec.host,
            spec.subset,
            port,
            cluster,
            "UH",
            (),
            lb,
            spec,
            drname,
            f"{what} has no pods (no healthy upstream)",
        )
    return Target(spec.host, spec.subset, port, cluster, "OK", eps, lb, spec, drname)


def _sort_gateway_routes(entries: list[ResolvedEntry]) -> list[ResolvedEntry]:
    """Gateways merge VSs and move catch-all routes last (Istio's ``SortVHostRoutes``)."""
    return [e for e in entries if not e.entry.is_catch_all] + [
        e for e in entries if e.entry.is_catch_all
    ]


def resolve_table(plan: RoutePlan, host: str, port: int | None, ctx: ProxyContext) -> RouteTable:
    """The route table of ``ctx``'s proxy for a request to ``host`` (Host header) on ``port``."""
    raw = host.lower()
    if ":" in raw and not raw.startswith("["):
        raw, _, p = raw.rpartition(":")
        if port is None and p.isdigit():
            port = int(p)
    notes: list[str] = []
    if ctx.gateway is not None:
        return _gateway_table(plan, host, raw, port, ctx)
    svc = find_service(plan, raw, ctx.namespace)
    hostname = svc.fqdn if svc is not None else raw
    if svc is not None:
        if port is None:
            port = svc.ports[0]
        elif port not in svc.ports:
            notes.append(f"service {svc.fqdn} has no port {port}: no virtual host on that listener")
            return RouteTable(host, port, None, notes=tuple(notes), passthrough=True)
        notes.append(f"virtual host {svc.fqdn}:{port} (Host {host!r})")
    applied, shadowed = select_virtual_services(plan, hostname, ctx)
    if svc is None and not applied:
        notes.append(f"no service and no VirtualService for {raw!r}: catch-all virtual host")
        return RouteTable(host, port, None, notes=tuple(notes), passthrough=True)
    if svc is None and port not in (None, 80):
        # VS hosts outside the registry get a virtual host on port 80 only (route.go
        # ``buildSidecarVirtualHostsForVirtualService``)
        notes.append(f"VirtualService host {raw!r} is not a service: only on port 80, not {port}")
        return RouteTable(host, port, None, notes=tuple(notes), passthrough=True)
    entries: list[ResolvedEntry] = []
    skipped: list[tuple[RouteEntry, str]] = []
    # A VS that generates no route for this proxy and port builds no virtual host, so the next
    # VS claiming the host applies (route.go ``buildSidecarVirtualHostsForVirtualService``).
    candidates = [*applied, *shadowed]
    applied, shadowed = candidates[:1], candidates[1:]
    for i, vs in enumerate(candidates):
        entries, skipped_here = _generated(plan, vs, ctx, port)
        skipped += skipped_here
        if entries:
            applied, shadowed = [vs], candidates[i + 1 :]
            break
        if i + 1 < len(candidates):
            notes.append(f"VirtualService {vs.key} has no route for this client and port")
    for vs in shadowed:
        notes.append(
            f"VirtualService {vs.key} also claims {hostname} but is ignored on sidecars (IST0109)"
        )
    if ctx.gateway is not None:
        entries = _sort_gateway_routes(entries)
    if applied and (entries or ctx.gateway is not None):
        return RouteTable(
            host, port, svc, tuple(entries), tuple(applied), None, tuple(skipped), tuple(notes)
        )
    if applied:
        notes.append(
            f"no route of VirtualService {applied[0].key} applies to this client: default route"
        )
    if svc is None:
        return RouteTable(
            host,
            port,
            None,
            (),
            tuple(applied),
            None,
            tuple(skipped),
            tuple(notes),
            passthrough=True,
        )
    default = resolve_target(plan, DestinationSpec(svc.fqdn, None, port), ctx, port)
    return RouteTable(host, port, svc, (), (), default, tuple(skipped), tuple(notes))


def _gateway_table(
    plan: RoutePlan, host: str, raw: str, port: int | None, ctx: ProxyContext
) -> RouteTable:
    """A gateway's virtual hosts come from its VirtualServices' hosts, merged; no default route.

    A Host that no bound VirtualService claims gets Envoy's 404 (NR), not a passthrough.
    """
    applied, _ = select_virtual_services(plan, raw, ctx)
    notes = [
        f"gateway {ctx.gateway}, listener port {port if port is not None else '(any)'}, Host {host!r}"
    ]
    if not applied:
        notes.append(f"no VirtualService bound to {ctx.gateway} claims {raw!r}")
    entries: list[ResolvedEntry] = []
    skipped: list[tuple[RouteEntry, str]] = []
    for vs in applied:
        generated, skipped_here = _generated(plan, vs, ctx, port)
        entries += generated
        skipped += skipped_here
    entries = _sort_gateway_routes(entries)
    return RouteTable(
        host, port, None, tuple(entries), tuple(applied), None, tuple(skipped), tuple(notes)
    )


def _generated(
    plan: RoutePlan, vs: CompiledVirtualService, ctx: ProxyContext, port: int | None
) -> tuple[list[ResolvedEntry], list[tuple[RouteEntry, str]]]:
    """The Envoy routes a VS yields for this proxy and port, and the ones config-time filters drop.

    Generation stops after the first generated catch-all route (Istio's ``IsCatchAllRoute`` in
    ``BuildHTTPRoutesForVirtualService``): later rules never exist, which matters on gateways
    where catch-all routes are moved after the other VSs' routes.
    """
    out: list[ResolvedEntry] = []
    skipped: list[tuple[RouteEntry, str]] = []
    for e in vs.entries:
        why = e.source.failure(ctx, port)
        if why is not None:
            skipped.append((e, why))
            continue
        out.append(_resolve_entry(plan, vs, e, ctx, port))
        if e.is_catch_all:
            break
    return out, skipped


def _resolve_entry(
    plan: RoutePlan, vs: CompiledVirtualService, e: RouteEntry, ctx: ProxyContext, port: int | None
) -> ResolvedEntry:
    act = e.action
    if not isinstance(act, Forward):
        return ResolvedEntry(e, vs)
    targets = tuple(resolve_target(plan, d, ctx, port) for d in act.destinations)
    # Envoy's shadow writer skips a cluster that does not exist (NC): never mirrored. The slot
    # is kept (percentage 0) so that mirror j still reads draw DRAW_MIRROR0 + j.
    resolved = [
        (resolve_target(plan, m.destination, ctx, port), m.per_million) for m in act.mirrors
    ]
    mirrors = tuple((t, 0 if t.status == "NC" else pm) for t, pm in resolved)
    return ResolvedEntry(e, vs, targets, mirrors)
