"""Which virtual host, VirtualService, route table and DestinationRule a client proxy sees
for a request: the lookup rules of semantics §1.1, §1.4, §3.

Part of the plan stage (``RoutePlan.table`` calls ``resolve_table``); imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .mesh import labels_match
from .plan import (
    CompiledDestinationRule,
    CompiledGateway,
    CompiledSidecar,
    CompiledVirtualService,
    DestinationSpec,
    DirectResponse,
    Forward,
    LbPolicy,
    Matcher,
    ProxyContext,
    Redirect,
    ResolvedEntry,
    RouteEntry,
    RoutePlan,
    RouteTable,
    ServiceInfo,
    SourceCondition,
    SubsetSpec,
    Target,
    host_matches,
    hosts_overlap,
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


def _domains(svc: ServiceInfo) -> list[str]:
    """The domains of a service's virtual host (httproute.go ``generateVirtualHostDomains``):
    ``name`` (own namespace only), ``name.ns``, ``name.ns.svc``, the FQDN and the FQDN with a
    trailing dot, and the ClusterIP (IPv6 in brackets); a ServiceEntry host and ``host.``.
    A headless Service (``clusterIP: None``) also answers to ``*.`` of each name, so per-pod
    hosts (``web-0.web.ns.svc.cluster.local``) reach it."""
    if svc.kind == "ServiceEntry":
        return [svc.fqdn, f"{svc.fqdn}."]
    names = [
        svc.name,
        f"{svc.name}.{svc.namespace}",
        f"{svc.name}.{svc.namespace}.svc",
        svc.fqdn,
        f"{svc.fqdn}.",
    ]
    ip = svc.cluster_ip
    if ip == "None":
        names += [f"*.{n}" for n in names]
    elif ip:
        names.append(f"[{ip}]" if ":" in ip else ip)
    return names


def service_names(services: Mapping[str, ServiceInfo]) -> dict[str, tuple[ServiceInfo, ...]]:
    """Every name a Service or ServiceEntry answers to → those services, in plan order.

    A Service without ports is on no listener and answers to nothing. An ExternalName Service
    is an alias: its names go to the service it names, when that is in the registry
    (push_context.go ``resolveServiceAliases``). Linear in the services: built once per plan."""
    out: dict[str, list[ServiceInfo]] = {}
    for svc in services.values():
        if not svc.ports or svc.alias_of is not None:
            continue
        for n in dict.fromkeys(_domains(svc)):
            out.setdefault(n, []).append(svc)
    for svc in services.values():
        target = services.get(svc.alias_of) if svc.alias_of is not None else None
        if target is None or not target.ports or target.alias_of is not None:
            continue
        for n in dict.fromkeys(_domains(svc)):
            if n not in out:  # a real service's own name is never taken over
                out.setdefault(n, []).append(target)
    return {n: tuple(v) for n, v in out.items()}


def _answers(svc: ServiceInfo, name: str, ns: str) -> bool:
    """Does ``svc`` answer to ``name`` for a client in ``ns``? (exportTo; short names in the
    service's own namespace only)"""
    if not visible(svc.export_to, svc.namespace, ns):
        return False
    short = name.removeprefix("*.")
    return svc.kind == "ServiceEntry" or "." in short or svc.namespace == ns


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


def _standalone(
    plan: RoutePlan,
    vs: CompiledVirtualService,
    raw: str,
    ctx: ProxyContext,
    sc: CompiledSidecar | None,
    port: int | None = None,
) -> bool:
    """Does ``vs`` give the non-registry host ``raw`` a virtual host of its own?"""
    for h in vs.hosts:
        if h == raw:
            return True
        if not host_matches(h, raw):
            continue
        covers = any(
            s.ports
            and s.alias_of is None
            and host_matches(h, s.fqdn)
            and visible(s.export_to, s.namespace, ctx.namespace)
            and in_scope(sc, ctx.namespace, s.namespace, (s.fqdn,), port)
            for s in plan.services.values()
        )
        if not covers:
            return True
    return False


def _alias_vs_host(plan: RoutePlan, raw: str, ctx: ProxyContext) -> bool:
    """Is ``raw`` the FQDN of an ExternalName Service that a mesh VirtualService names?"""
    alias = plan.services.get(raw)
    if alias is None or alias.alias_of is None:
        return False
    return any(raw in vs.hosts for vs in plan.virtual_services if "mesh" in vs.gateways)


def _bucket(vs: CompiledVirtualService, ns: str) -> int:
    if vs.export_to == frozenset({"."}) or (
        vs.namespace == ns and vs.export_to and "*" not in vs.export_to
    ):
        return 0
    if ns in vs.export_to:
        return 1
    return 2


def select_virtual_services(
    plan: RoutePlan, hostname: str, ctx: ProxyContext, port: int | None = None
) -> tuple[list[CompiledVirtualService], list[CompiledVirtualService]]:
    """(applied, shadowed): the VSs for a host as seen by this proxy (on ``port``'s egress
    listener when a Sidecar binds listeners to ports), in Istio's order."""
    where = ctx.gateway or "mesh"
    exact: list[CompiledVirtualService] = []
    wild: list[tuple[int, CompiledVirtualService]] = []
    sc = sidecar_scope(plan, ctx)
    for vs in plan.virtual_services:
        if where not in vs.gateways or not visible(vs.export_to, vs.namespace, ctx.namespace):
            continue
        if not in_scope(sc, ctx.namespace, vs.namespace, vs.hosts, port):
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
    if svc is not None and svc.alias_of is not None:
        # an ExternalName destination is the aliased service's cluster, on a port the alias
        # declares (route.go ``GetDestinationCluster``); else no such cluster
        target = plan.services.get(svc.alias_of)
        alias_port = (
            port if port is not None else (svc.ports[0] if len(svc.ports) == 1 else listener_port)
        )
        if target is not None and alias_port in svc.ports:
            spec = replace(spec, host=target.fqdn, port=alias_port)
            svc, port = target, alias_port
        else:
            svc = None
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


def sidecar_scope(plan: RoutePlan, ctx: ProxyContext) -> CompiledSidecar | None:
    """The Sidecar resource that scopes a sidecar proxy (push_context.go
    ``doGetSidecarScope``): one of its namespace whose selector its labels match, else its
    namespace's selector-less one, else the root namespace's; the oldest of several. Never a
    gateway's."""
    if ctx.gateway is not None or not plan.sidecars:
        return None
    labels = dict(ctx.labels)
    here = [s for s in plan.sidecars if s.namespace == ctx.namespace]
    for s in here:
        if s.selector and labels_match(dict(s.selector), labels):
            return s
    for s in (*here, *(s for s in plan.sidecars if s.namespace == plan.root_namespace)):
        if not s.selector:
            return s
    return None


def _scoped(entries: tuple[tuple[str, str], ...], ns: str, owner_ns: str, host: str) -> bool:
    for hns, name in entries:
        if hns == ".":
            hns = ns
        if hns in ("*", owner_ns) and hosts_overlap(name, host):
            return True
    return False


def in_scope(
    sc: CompiledSidecar | None,
    ns: str,
    owner_ns: str,
    hosts: tuple[str, ...],
    port: int | None = None,
) -> bool:
    """Does a Sidecar's ``egress.hosts`` import an object of ``owner_ns`` naming ``hosts``
    (sidecar.go ``selectServices`` / ``SelectVirtualServices``), exclusions subtracted?

    With ``port``, only the egress listener that serves it counts: the first bound to that
    port, else the port-less catch-all; none, nothing is imported on that port (sidecar.go
    ``GetEgressListenerForRDS``: no route configuration). Without, every listener's hosts."""
    if sc is None:
        return True
    inc, exc = sc.hosts, sc.excluded
    if port is not None and sc.listeners:
        lis = next((x for x in sc.listeners if x[0] is None or x[0] == port), None)
        if lis is None:
            return False
        inc, exc = lis[1], lis[2]
    return any(_scoped(inc, ns, owner_ns, h) and not _scoped(exc, ns, owner_ns, h) for h in hosts)


def resolve_table(plan: RoutePlan, host: str, port: int | None, ctx: ProxyContext) -> RouteTable:
    """The route table of ``ctx``'s proxy for a request to ``host`` (Host header) on ``port``.

    A sidecar scoped by a Sidecar resource sees only the services and VirtualServices its
    ``egress.hosts`` import; a host outside that scope falls to the outbound traffic policy:
    ALLOW_ANY passes through, REGISTRY_ONLY answers 502 (the ``block_all`` virtual host)."""
    table = _resolve_table(plan, host, port, ctx)
    if not table.passthrough or ctx.gateway is not None:
        return table
    sc = sidecar_scope(plan, ctx)
    policy = (sc.outbound_policy if sc is not None else None) or plan.outbound_policy
    if policy != "REGISTRY_ONLY":
        return table
    why = f"Sidecar {sc.key}" if sc is not None and sc.outbound_policy else "the mesh config"
    fake = CompiledVirtualService(ctx.namespace, "block_all", (), frozenset(), frozenset(), ())
    entry = RouteEntry(-1, None, (), SourceCondition(), DirectResponse(502), rule_name="block_all")
    notes = (
        *table.notes,
        f"outboundTrafficPolicy REGISTRY_ONLY ({why}): the block_all virtual host answers 502",
    )
    return RouteTable(host, table.port, None, (ResolvedEntry(entry, fake),), (), None, (), notes)


def _port_80_listener(plan: RoutePlan, ctx: ProxyContext, sc: CompiledSidecar | None) -> bool:
    return any(
        80 in svc.ports
        and svc.alias_of is None
        and visible(svc.export_to, svc.namespace, ctx.namespace)
        and in_scope(sc, ctx.namespace, svc.namespace, (svc.fqdn,), 80)
        for svc in plan.services.values()
    )


def _resolve_table(plan: RoutePlan, host: str, port: int | None, ctx: ProxyContext) -> RouteTable:
    raw = host.lower()
    if ":" in raw and not raw.startswith("["):
        raw, _, p = raw.rpartition(":")
        if port is None and p.isdigit():
            port = int(p)
    notes: list[str] = []
    if ctx.gateway is not None:
        return _gateway_table(plan, host, raw, port, ctx)
    svc = find_service(plan, raw, ctx.namespace)
    sc = sidecar_scope(plan, ctx)
    # the port whose egress listener decides the scope: the request's, else the service's
    # first, else 80 (where VS hosts outside the registry live)
    scope_port = port if port is not None else (svc.ports[0] if svc and svc.ports else 80)
    if svc is not None and not in_scope(sc, ctx.namespace, svc.namespace, (svc.fqdn,), scope_port):
        assert sc is not None
        bound = any(lis[0] is not None for lis in sc.listeners)
        notes.append(
            f"service {svc.fqdn} is not imported by Sidecar {sc.key} (egress.hosts"
            + (f" of its listener for port {scope_port})" if bound else ")")
        )
        svc = None
        scope_port = port if port is not None else 80
    if svc is not None and svc.fqdn != raw and _alias_vs_host(plan, raw, ctx):
        # a VirtualService on an ExternalName alias's own FQDN is a host outside the registry:
        # its vhost (built before the services') takes that exact domain (semantics §8.3)
        notes.append(f"{raw!r} is an ExternalName alias claimed by a VirtualService as is")
        svc = None
    hostname = svc.fqdn if svc is not None else raw
    if svc is not None:
        if port is None:
            port = svc.ports[0]
        elif port not in svc.ports:
            notes.append(f"service {svc.fqdn} has no port {port}: no virtual host on that listener")
            return RouteTable(host, port, None, notes=tuple(notes), passthrough=True)
        notes.append(f"virtual host {svc.fqdn}:{port} (Host {host!r})")
    applied, shadowed = select_virtual_services(plan, hostname, ctx, scope_port)
    if svc is None:
        # a wildcard VS host that covers registry services is applied to those services'
        # virtual hosts only: it gets no virtual host of its own (route.go
        # ``separateVSHostsAndServices``)
        claims = [
            vs for vs in (*applied, *shadowed) if _standalone(plan, vs, raw, ctx, sc, scope_port)
        ]
        applied, shadowed = claims[:1], claims[1:]
    if svc is None and not applied:
        notes.append(f"no service and no VirtualService for {raw!r}: catch-all virtual host")
        return RouteTable(host, port, None, notes=tuple(notes), passthrough=True)
    if svc is None and port not in (None, 80):
        # VS hosts outside the registry get a virtual host on port 80 only (route.go
        # ``buildSidecarVirtualHostsForVirtualService``)
        notes.append(f"VirtualService host {raw!r} is not a service: only on port 80, not {port}")
        return RouteTable(host, port, None, notes=tuple(notes), passthrough=True)
    if svc is None and sc is not None and not _port_80_listener(plan, ctx, sc):
        # that virtual host lives in route table "80", which exists only when some service the
        # proxy imports listens on port 80 (listener_builder.go builds outbound HTTP listeners
        # from the scoped services' ports; sidecar_simulation_test.go "import only a unknown
        # service route"). Checked only under a Sidecar, whose egress.hosts make the imports
        # explicit: without one a real mesh has services beyond the loaded files (the ingress
        # gateway's own Service listens on 80 in a default install).
        notes.append(
            f"VirtualService host {raw!r} is not a service and no service this proxy imports"
            " has port 80: no port-80 listener, so no virtual host"
        )
        return RouteTable(host, port, None, notes=tuple(notes), passthrough=True)
    if svc is None and port is None:
        # that virtual host is on the port-80 listener: destinations without a port of their
        # own are clusters on port 80 (route.go ``GetDestinationCluster`` uses the listener port)
        port = 80
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
    if shadowed:
        why = (
            "oldest creationTimestamp first, then name, then namespace"
            if plan.vs_precedence == "creationTimestamp"
            else "file order: no VirtualService has a creationTimestamp"
        )
        notes.append(f"several VirtualServices claim {hostname}; the first wins ({why})")
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
    """The route table of a gateway pod (semantics §8.1, gateway.go
    ``buildGatewayHTTPRouteConfig``): the Gateways configuring the pod, their servers on the
    listener port, one virtual host per server host ∩ bound-VirtualService host, the routes of
    every VS yielding that host concatenated (catch-alls last); no default route.

    A Host no virtual host covers gets Envoy's 404 (NR), as does a gateway that no Gateway
    resource defines; ``tls.httpsRedirect`` answers plain HTTP with a 301.
    """
    gw = next((g for g in plan.gateways if g.key == ctx.gateway), None)
    if gw is None:
        note = (
            f"no Gateway {ctx.gateway} is loaded: no gateway proxy has a listener for it"
            " (istioctl analyze: IST0101); nothing is routed"
        )
        return RouteTable(host, port, None, notes=(note,))
    merged = _gateways_of_pod(plan, gw)
    servers = [(g, s) for g in merged for s in g.servers]
    if port is None:
        ports = [s.port for _, s in servers if s.is_http]
        port = 80 if 80 in ports or not ports else ports[0]
    notes = [
        f"gateway {ctx.gateway} (Gateways on its pods: {', '.join(g.key for g in merged)}),"
        f" listener port {port}, Host {host!r}"
    ]
    on_port = [(g, s) for g, s in servers if s.port == port]
    if not on_port:
        notes.append(f"no server on port {port}: no listener (404 NR here)")
        return RouteTable(host, port, None, notes=tuple(notes))
    if not on_port[0][1].is_http:
        # the oldest server decides the listener's protocol; servers that cannot merge with it
        # are dropped (model/gateway.go ``canMergeProtocols``)
        first_gw, first = on_port[0]
        notes.append(
            f"port {port} is a {first.protocol} listener (oldest server, Gateway {first_gw.key}):"
            " no HTTP route table (404 NR here)"
        )
        return RouteTable(host, port, None, notes=tuple(notes))
    on_port = [(g, s) for g, s in on_port if s.is_http]
    # virtual hosts: domain → [(gateway, vs)] in server order, then VS order
    vhosts: dict[str, list[tuple[CompiledGateway, CompiledVirtualService]]] = {}
    redirect: set[str] = set()
    for g, srv in on_port:
        bound = sorted(
            (
                vs
                for vs in plan.virtual_services
                if g.key in vs.gateways and visible(vs.export_to, vs.namespace, g.namespace)
            ),
            key=lambda v: (_bucket(v, g.namespace), v.order),
        )
        for vs in bound:
            for name in dict.fromkeys(_intersect(srv.hosts, vs)):
                pairs = vhosts.setdefault(name, [])
                if (g, vs) not in pairs:
                    pairs.append((g, vs))
                if srv.https_redirect:
                    redirect.add(name)
        if srv.https_redirect:
            for _, h in srv.hosts:
                vhosts.setdefault(h, [])
                redirect.add(h)
    domain = _envoy_domain(raw, vhosts)
    if domain is None:
        notes.append(
            f"no virtual host for {raw!r} on port {port}: the servers' hosts and their"
            f" VirtualServices' hosts cover {sorted(vhosts) or 'nothing'}"
        )
        return RouteTable(host, port, None, notes=tuple(notes))
    notes.append(f"virtual host {domain}:{port}")
    entries: list[ResolvedEntry] = []
    if domain in redirect:
        # Envoy checks require_tls before route matching: a request that did not arrive over
        # TLS (scheme http) gets the 301; one that did routes normally
        notes.append("server tls.httpsRedirect: plain HTTP is answered 301 to https (require_tls)")
        fake = CompiledVirtualService(
            gw.namespace, gw.name, (domain,), frozenset(), frozenset(), ()
        )
        entry = RouteEntry(
            -1,
            None,
            (Matcher("scheme", "exact", "https", invert=True),),
            SourceCondition(),
            Redirect(scheme="https", status=301, https_redirect=True),
            rule_name="httpsRedirect",
            location=gw.location,
        )
        entries.append(ResolvedEntry(entry, fake))
    redirect_first = bool(entries)
    skipped: list[tuple[RouteEntry, str]] = []
    applied: list[CompiledVirtualService] = []
    for g, vs in vhosts[domain]:
        generated, skipped_here = _generated(plan, vs, replace(ctx, gateway=g.key), port)
        entries += generated
        skipped += skipped_here
        if vs not in applied:
            applied.append(vs)
    entries = (
        entries[:1] + _sort_gateway_routes(entries[1:])
        if redirect_first
        else _sort_gateway_routes(entries)
    )
    return RouteTable(
        host, port, None, tuple(entries), tuple(applied), None, tuple(skipped), tuple(notes)
    )


def gateway_virtual_hosts(
    plan: RoutePlan, gateway: str, vs: CompiledVirtualService
) -> list[tuple[str, int, bool]]:
    """(host, listener port, https redirect) of each virtual host through which ``gateway``
    (``ns/name``) serves ``vs``: the Gateway's HTTP servers whose hosts admit the
    VirtualService (``_gateway_table``'s rule). Empty when no such Gateway is loaded, the
    VirtualService is not visible to it, or no server host covers one of its hosts."""
    g = next((x for x in plan.gateways if x.key == gateway), None)
    if (
        g is None
        or gateway not in vs.gateways
        or not visible(vs.export_to, vs.namespace, g.namespace)
    ):
        return []
    out: list[tuple[str, int, bool]] = []
    for srv in g.servers:
        if not srv.is_http:
            continue
        for name in dict.fromkeys(_intersect(srv.hosts, vs)):
            out.append((name, srv.port, srv.https_redirect))
    return out


def _gateways_of_pod(plan: RoutePlan, gw: CompiledGateway) -> list[CompiledGateway]:
    """The Gateways a pod selected by ``gw`` applies, oldest first (push_context.go
    ``initGateways``): those whose selector matches one of the workloads ``gw`` selects; with
    no such workload known, those with the same selector."""
    pods = [
        dict(lab)
        for lab in plan.workload_labels.values()
        if labels_match(dict(gw.selector), dict(lab))
    ]
    if not pods:
        return [g for g in plan.gateways if g.selector == gw.selector]
    return [g for g in plan.gateways if any(labels_match(dict(g.selector), pod) for pod in pods)]


def _intersect(server_hosts: tuple[tuple[str, str], ...], vs: CompiledVirtualService) -> list[str]:
    """Server hosts (admitting ``vs``'s namespace) ∩ VS hosts: of two names where one covers
    the other, the narrower (host/names.go ``Intersection``)."""
    out: list[str] = []
    for ns, sh in server_hosts:
        if ns not in ("*", vs.namespace):
            continue
        for vh in vs.hosts:
            v = vh.lower()
            if host_matches(sh, v):
                out.append(v)
            elif host_matches(v, sh):
                out.append(sh)
    return out


def _envoy_domain(host: str, domains: Mapping[str, object]) -> str | None:
    """Envoy's virtual host lookup: exact, then the longest ``*.suffix``, then ``*``."""
    if host in domains:
        return host
    best: str | None = None
    for d in domains:
        if d.startswith("*.") and host.endswith(d[1:]) and (best is None or len(d) > len(best)):
            best = d
    if best is not None:
        return best
    return "*" if "*" in domains else None


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
