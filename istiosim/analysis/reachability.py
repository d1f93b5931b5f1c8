"""Exact reachability of every rule and match block of each VirtualService (ISM0130).

istioctl's IST0130/IST0131 (``rule_order``) only see a single earlier catch-all, an identical
match, or a covering prefix. Here each VirtualService's route entries are cut into request
classes (``classes.partition``) and every match block is either *reachable*, with a witness
request that takes it first, or *unreachable*, with the earlier rules and match blocks that
together take every request it matches (or none, when its own conditions contradict each
other). A block a regex makes undecidable is reported neither way. ``sourceLabels``,
``sourceNamespace``, ``gateways`` and ``port`` take part as one more attribute: blocks with
different such conditions are treated as disjoint (so never called shadowed by each other),
and a block reached only by clients or ports an earlier block's such condition leaves out is
undecided (which clients and listener ports exist is the mesh's business, not the rules').

At a gateway the routes of every VirtualService bound to it for a host are one list (per
virtual host and listener port, catch-alls last): blocks of gateway-bound VirtualServices are
decided on that merged list, so another VirtualService's earlier route can shadow them. Every
witness is routed by the scalar engine before it is reported.

What IST0130/IST0131 already report is left to them; ISM0130 says the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from .._display import Displayable
from ..errors import Diagnostic
from ..plan import (
    CompiledVirtualService,
    Matcher,
    ProxyContext,
    RouteEntry,
    RoutePlan,
    SourceCondition,
)
from ..request import Request
from .classes import Attribute, canonical_key, concrete, lowest, partition
from .rule_order import check_virtual_service
from .subject import Subject

CODE = "ISM0130"


@dataclass(frozen=True)
class Block:
    """One match block (``match`` None: a rule without matches) and what reaches it."""

    virtual_service: str
    rule: int
    match: int | None
    name: str
    reachable: bool | None  # None: undecided (a regex)
    witness: Request | None = None
    shadowed_by: tuple[tuple[int, int | None], ...] = ()
    #: why an unreachable block is, when not its rules (e.g. no loaded Gateway serves it)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "virtual_service": self.virtual_service,
            "rule": self.rule,
            "match": self.match,
            "name": self.name,
            "reachable": self.reachable,
            "witness": self.witness.to_dict() if self.witness is not None else None,
            "shadowed_by": [{"rule": r, "match": m} for r, m in self.shadowed_by],
            "reason": self.reason or None,
        }

    def verdict(self) -> str:
        if self.reachable:
            return "reachable"
        if self.reachable is None:
            return self.reason or (
                "undecided (a regex, a client or port condition of an earlier block, or a "
                "gateway that merges several VirtualServices)"
            )
        if self.reason:
            return self.reason
        if not self.shadowed_by:
            return "never matches (its conditions contradict each other)"
        return "shadowed by " + ", ".join(_where(r, m) for r, m in self.shadowed_by)


@dataclass(frozen=True)
class Reachability(Displayable):
    """Every match block of every VirtualService: reachable (with a witness) or not (why)."""

    blocks: tuple[Block, ...]

    @property
    def unreachable(self) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.reachable is False)

    def to_dict(self) -> dict[str, Any]:
        return {"blocks": [b.to_dict() for b in self.blocks]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def rows(self) -> list[tuple[Any, ...]]:
        return [
            (
                b.virtual_service,
                _where(b.rule, b.match),
                b.verdict(),
                repr(b.witness) if b.witness is not None else "",
            )
            for b in self.blocks
        ]

    def text(self) -> str:
        from .. import display

        n = len(self.unreachable)
        head = f"{len(self.blocks)} match block(s), {n} unreachable"
        return (
            head
            + "\n"
            + display.table(["virtual service", "block", "verdict", "witness"], self.rows())
        )

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<Reachability: {len(self.blocks)} block(s), {len(self.unreachable)} unreachable>"

    def _table(self) -> Any:
        from ..display.changes import reachability_table

        return reachability_table(self)

    def to_pandas(self) -> Any:
        """One row per match block: ``reachable`` (nullable boolean: NA when undecided), the
        verdict, the blocks that shadow it and a witness request."""
        from ..display.changes import reachability_frame

        return reachability_frame(self)


def _where(rule: int, match: int | None) -> str:
    return f"rule #{rule}" if match is None else f"rule #{rule} match #{match}"


def reachability(plan_or_sim: Any) -> Reachability:
    """Exact reachability of every match block of every VirtualService of a plan/Simulator."""
    plan: RoutePlan = getattr(plan_or_sim, "plan", plan_or_sim)
    out: list[Block] = []
    for vs in plan.virtual_services:
        out.extend(_at_gateways(plan, vs, virtual_service_blocks(vs)))
    return Reachability(tuple(out))


@dataclass
class _Served:
    """A block as the gateway virtual hosts that generate its route see it."""

    witness: Request | None = None
    present: bool = False
    undecided: bool = False
    #: entries of the merged route lists that take the requests it matches
    by: dict[tuple[str, int, int | None], None] = field(default_factory=dict)
    #: one of them exists only for some clients (sourceLabels, sourceNamespace)
    conditional: bool = False


def _through_gateways(
    plan: RoutePlan,
    vs: CompiledVirtualService,
    served: dict[str, list[tuple[str, int, bool]]],
) -> dict[tuple[int, int | None], _Served]:
    """Each block of ``vs`` as the gateways serve it. A gateway's virtual host concatenates
    the routes of every VirtualService bound to it for that host, catch-alls last
    (``lookup._gateway_table``, Istio's gateway.go ``buildGatewayHTTPRouteConfig`` and
    ``SortVHostRoutes``), after the server's httpsRedirect: that merged list is cut into
    request classes like one VirtualService's, so a block is first for some request (the
    witness, sent to a name the virtual host covers on its listener port), taken first by
    earlier routes of any of those VirtualServices, or undecided (a regex)."""
    from .classes import Scope, concrete

    out: dict[tuple[int, int | None], _Served] = {}
    for g, vhosts in served.items():
        for domain, port, _redirect in vhosts:
            call = concrete(domain)
            for ns in _gateway_namespaces(plan, vs, g):
                ctx = ProxyContext(ns, (), g)
                t = plan.table(call, port, ctx)
                mine = [k for k, e in enumerate(t.entries) if e.virtual_service.key == vs.key]
                if not mine:
                    continue
                atts, cells, offsets = partition([[e.entry.matchers for e in t.entries]])
                first, shadow = _first_entries(cells, offsets[0][1])
                scope = Scope(domain, call, port, ns, (t,), atts, call, port, g)
                for k in mine:
                    e = t.entries[k].entry
                    got = out.setdefault((e.rule, e.match), _Served())
                    got.present = True
                    hit = first.get(k)
                    if hit is not None and not hit[0]:
                        if got.witness is None:
                            values = {
                                a.key: a.regions[r].witness
                                for a, r in zip(atts, hit[1], strict=True)
                            }
                            got.witness = scope.request(values)
                    elif hit is not None:
                        got.undecided = True
                    else:
                        for j in sorted(shadow.get(k, ())):
                            x = t.entries[j]
                            got.by[(x.virtual_service.key, x.entry.rule, x.entry.match)] = None
                            got.conditional |= _client_dependent(x.entry.source)
    return out


def _gateway_namespaces(plan: RoutePlan, vs: CompiledVirtualService, g: str) -> list[str]:
    """The client namespaces a gateway request is tried from: the VirtualService's, and when
    a route bound to the gateway depends on the client, each ``sourceNamespace`` named and one
    no route names (a route for one namespace is not generated for another)."""
    named = {
        e.source.source_namespace
        for v in plan.virtual_services
        if g in v.gateways
        for e in v.entries
        if _client_dependent(e.source)
    }
    if not named:
        return [vs.namespace]
    rest = sorted(x for x in named - {vs.namespace} if x is not None)
    return [vs.namespace, *rest, "istiosim-witness"]


def _first_entries(
    cells: Any, n: int
) -> tuple[dict[int, tuple[bool, tuple[int, ...]]], dict[int, set[int]]]:
    """For entries 0..n-1 of one list: the first cell (True: hypothetical) in which each is
    the first that holds, and for the entries first nowhere, the entries that take the
    requests they match."""
    first: dict[int, tuple[bool, tuple[int, ...]]] = {}
    for (alive, hyp), cell in cells.items():
        k = lowest(alive, n)
        if k is None:
            continue
        if not hyp and (k not in first or first[k][0]):
            first[k] = (False, cell.paths[0])
        elif hyp:
            first.setdefault(k, (True, cell.paths[0]))
    dead = sum(1 << k for k in range(n) if k not in first)
    shadow: dict[int, set[int]] = {}
    if dead:
        for (alive, hyp), _cell in cells.items():
            rest = alive & dead
            if hyp or not rest:
                continue
            k = lowest(alive, n)
            while rest:
                j = lowest(rest, n)
                assert j is not None and k is not None
                shadow.setdefault(j, set()).add(k)
                rest &= rest - 1
    return first, shadow


def _at_gateways(plan: RoutePlan, vs: CompiledVirtualService, blocks: list[Block]) -> list[Block]:
    """Blocks as the clients see them. A VirtualService (or match block) bound only to
    gateways that no loaded Gateway serves it through is unreachable (Envoy has no virtual host
    for it: 404 NR; IST0101/IST0132 name the cause). A block bound to a gateway that serves it
    is decided on the gateway's merged route list (``_through_gateways``). Every witness is
    then routed by the scalar engine: a witness must take its block, so one that does not (a
    Sidecar that hides the host from the VirtualService's namespace, an older VirtualService
    for the host) is tried from other clients (namespaces, and for a wildcard host the
    services and names under it on each port they listen on), and a block no tried client
    reaches is undecided, never called reachable on a guess."""
    from ..engine.scalar import ScalarCache, route
    from ..lookup import gateway_virtual_hosts

    served = {
        g: hosts
        for g in sorted(vs.gateways - {"mesh"})
        if (hosts := gateway_virtual_hosts(plan, g, vs))
    }
    at_gateways = _through_gateways(plan, vs, served) if served else {}
    entries = {(e.rule, e.match): e for e in vs.entries}
    cache = ScalarCache()
    spaces = sorted({vs.namespace, "default", *(svc.namespace for svc in plan.services.values())})
    spaces.append("istiosim-witness")  # a namespace no Sidecar resource names
    calls = _mesh_calls(plan, vs)

    def takes(w: Request, b: Block) -> bool:
        d = route(plan, w, cache=cache)
        return (d.virtual_service, d.rule, d.match) == (b.virtual_service, b.rule, b.match)

    def clients(w: Request) -> list[Request]:
        # from another namespace a short name means another service: call the FQDN
        out = [w]
        for ns in spaces:
            for local, remote, port in calls:
                host = local if ns == vs.namespace else remote
                out.append(w.replace(namespace=ns, host=host, port=w.port or port))
        return out

    out = []
    for b in blocks:
        e = entries.get((b.rule, b.match))
        bound = set(e.source.gateways) if e is not None and e.source.gateways else set(vs.gateways)
        bound = bound or {"mesh"}
        if "mesh" not in bound and not any(g in served for g in bound):
            why = (
                f"no loaded Gateway serves it: bound to {', '.join(sorted(bound))}, whose"
                " servers do not declare its hosts (or the Gateway is not loaded)"
            )
            out.append(replace(b, reachable=False, witness=None, shadowed_by=(), reason=why))
            continue
        gw = at_gateways.get((b.rule, b.match))
        if gw is not None and gw.witness is not None and takes(gw.witness, b):
            out.append(replace(b, reachable=True, witness=gw.witness, shadowed_by=(), reason=""))
            continue
        if "mesh" not in bound:
            out.append(_gateway_verdict(vs, b, gw))
            continue
        if not b.reachable or b.witness is None:
            out.append(b)
            continue
        w = next((c for c in clients(b.witness) if takes(c, b)), None)
        if w is None:
            why = (
                "undecided: its witness request is taken elsewhere from every client tried"
                " (a Sidecar's scope, an older VirtualService for the host, or the gateway)"
            )
            out.append(replace(b, reachable=None, witness=None, reason=why))
        else:
            out.append(replace(b, witness=w) if w is not b.witness else b)
    return out


def _gateway_verdict(vs: CompiledVirtualService, b: Block, gw: _Served | None) -> Block:
    """A block bound only to gateways that no gateway request was found to reach."""
    if b.reachable is False:
        return b  # its own VirtualService's earlier rules take its requests wherever it is
    if gw is None or not gw.present:
        if any(_client_dependent(x.source) for x in vs.entries):
            # which routes a gateway generates then depends on the client (a catch-all that
            # ends the list for one namespace is skipped for another)
            why = (
                "undecided: the gateways generate no route for it for the client tried"
                " (sourceLabels or sourceNamespace)"
            )
            return replace(b, reachable=None, witness=None, reason=why)
        why = (
            "never generated: no server of its gateways on its port, or an earlier catch-all"
            " rule of its VirtualService ends its routes"
        )
        return replace(b, reachable=False, witness=None, shadowed_by=(), reason=why)
    if gw.undecided or gw.witness is not None or gw.conditional:
        why = (
            "undecided: a regex, a route for some clients only (sourceLabels,"
            " sourceNamespace), or its witness through the gateway is taken elsewhere"
        )
        return replace(b, reachable=None, witness=None, reason=why)
    own = tuple((r, m) for k, r, m in gw.by if k == vs.key)
    others = [
        "the server's httpsRedirect" if r < 0 else f"{k} {_where(r, m)}"
        for k, r, m in gw.by
        if k != vs.key
    ]
    why = ""
    if others:
        mine = ", ".join(_where(r, m) for r, m in own)
        why = "shadowed at the gateway by " + ", ".join([*(mine and [mine]), *others])
    return replace(b, reachable=False, witness=None, shadowed_by=own, reason=why)


def _client_dependent(src: SourceCondition) -> bool:
    """Is a route generated for some clients of a gateway only? (``sourceLabels`` and
    ``sourceNamespace``; with match-level ``gateways`` they are not looked at)"""
    return not src.gateways and bool(src.source_labels or src.source_namespace)


def _mesh_calls(plan: RoutePlan, vs: CompiledVirtualService) -> list[tuple[str, str, int | None]]:
    """(name from the VirtualService's namespace, name from elsewhere, port) a sidecar can
    call a host of ``vs`` by: each service the host names (for a wildcard host, every service
    under it, a wildcard ServiceEntry by a name under it) on each port it listens on, and for
    a wildcard a name under it that no service has."""
    from .classes import _mesh_names

    out: dict[tuple[str, str, int | None], None] = {}
    for h in vs.hosts:
        for svc, call, _label in _mesh_names((plan,), h, vs.namespace):
            remote = svc.fqdn if svc is not None and not svc.fqdn.startswith("*") else call
            for port in svc.ports[:4] if svc is not None else (None,):
                out[(call, remote, port)] = None
    return list(out)[:64]


def _source_token(src: SourceCondition) -> str:
    return json.dumps(
        [sorted(src.gateways), list(src.source_labels), src.source_namespace, src.port]
    )


def virtual_service_blocks(vs: CompiledVirtualService) -> list[Block]:
    entries = vs.entries
    tokens: dict[str, SourceCondition] = {}

    def conditions(e: RouteEntry) -> tuple[Matcher, ...]:
        if not e.source:
            return e.matchers
        tok = _source_token(e.source)
        tokens[tok] = e.source
        return (*e.matchers, Matcher("source", "exact", tok))

    atts, cells, offsets = partition([[conditions(e) for e in entries]])
    first, shadow = _first_entries(cells, offsets[0][1])
    sourced = [j for j, e in enumerate(entries) if e.source]
    blocks = []
    for k, e in enumerate(entries):
        name = _where(e.rule, e.match)
        hit = first.get(k)
        if hit is not None and not hit[0]:
            values = {a.key: a.regions[r].witness for a, r in zip(atts, hit[1], strict=True)}
            if any(
                all(m.test(values.get(canonical_key(m.key))) for m in entries[j].matchers)
                for j in sourced
                if j < k
            ):
                # reached only by a client or port an earlier block's sourceLabels,
                # sourceNamespace, gateways or port leave out: whether one exists is not
                # decided here (e.g. a port condition naming the service's only port)
                blocks.append(Block(vs.key, e.rule, e.match, name, None))
                continue
            w = _witness(vs, atts, hit[1], tokens)
            blocks.append(Block(vs.key, e.rule, e.match, name, True, w))
        elif hit is not None:
            blocks.append(Block(vs.key, e.rule, e.match, name, None))
        else:
            by = tuple((entries[j].rule, entries[j].match) for j in sorted(shadow.get(k, ())))
            blocks.append(Block(vs.key, e.rule, e.match, name, False, None, by))
    return blocks


def _witness(
    vs: CompiledVirtualService,
    atts: list[Attribute],
    path: tuple[int, ...],
    tokens: dict[str, SourceCondition],
) -> Request:
    values = {a.key: a.regions[r].witness for a, r in zip(atts, path, strict=True)}
    host = next((h for h in vs.hosts if not h.startswith("*")), None)
    if host is None:
        host = concrete(vs.hosts[0]) if vs.hosts else "any.example.com"
    src = tokens.get(values.get("source") or "")
    gateway = None
    if src is not None and src.gateways:
        gateway = next((g for g in sorted(src.gateways) if g != "mesh"), None)
    elif vs.gateways and "mesh" not in vs.gateways:
        gateway = sorted(vs.gateways)[0]
    parts = host.split(".")
    if gateway is None and len(parts) > 2 and parts[1] == vs.namespace and parts[2] == "svc":
        # a sidecar of the VirtualService's namespace calls its services by short name; a
        # gateway matches the Host header against the host as resolved, the FQDN
        host = parts[0]
    uri = values.get("uri") or "/"
    query = [(k[6:], v) for k, v in values.items() if k.startswith("query:") and v is not None]
    if query:
        uri += "?" + "&".join(f"{k}={v}" for k, v in query)
    headers = {k[7:]: v for k, v in values.items() if k.startswith("header:") and v is not None}
    return Request(
        host,
        uri,
        values.get("method") or "GET",
        headers,
        authority=values.get("authority"),
        scheme=values.get("scheme") or "http",
        port=src.port if src is not None else None,
        namespace=(
            src.source_namespace if src is not None and src.source_namespace else vs.namespace
        ),
        source_labels=dict(src.source_labels) if src is not None else None,
        gateway=gateway,
    )


class _Recorder:
    def __init__(self) -> None:
        self.paths: set[tuple[str | int, ...]] = set()

    def warn(self, message: str, path: tuple[str | int, ...], code: str = "") -> None:
        self.paths.add(path)


def analyze(s: Subject) -> list[Diagnostic]:
    """ISM0130 for each unreachable rule or match block istioctl's checks do not report."""
    out: list[Diagnostic] = []
    by_key = {
        (v.metadata.namespace or "default", v.metadata.name): v for v in s.config.virtual_services
    }
    for vs in s.plan.virtual_services:
        model = by_key.get((vs.namespace, vs.name))
        rec = _Recorder()
        if model is not None:
            check_virtual_service(model.spec, rec)
        blocks = virtual_service_blocks(vs)
        col = s.collector(out, "VirtualService", vs.namespace, vs.name)
        by_rule: dict[int, list[Block]] = {}
        for b in blocks:
            by_rule.setdefault(b.rule, []).append(b)
        names = _names(vs)
        # a delegating rule yields several entries with one (rule, match): such a block is
        # unused only when every entry it yields is
        used = {(b.rule, b.match) for b in blocks if b.reachable is not False}
        for rule, bs in by_rule.items():
            dead = [b for b in bs if b.reachable is False and (b.rule, b.match) not in used]
            if not dead or ("spec", "http", rule) in rec.paths:
                continue
            left = [b for b in dead if ("spec", "http", rule, "match", b.match) not in rec.paths]
            if not left:
                continue  # istioctl's IST0131 says it for every dead block
            whole = len(left) == len(bs) and (len(bs) > 1 or bs[0].match is None)
            if whole:
                col.warn(_message(names, rule, None, left), ("spec", "http", rule), CODE)
                continue
            for blk in left:
                at: tuple[str | int, ...] = ("spec", "http", rule, "match", blk.match or 0)
                col.warn(_message(names, rule, blk.match, [blk]), at, CODE)
    return out


def _names(vs: CompiledVirtualService) -> dict[tuple[int, int | None], str]:
    """How istioctl names rules and match blocks: ``"name"`` when named, else ``#index``."""
    out: dict[tuple[int, int | None], str] = {}
    for e in vs.entries:
        rule = f'"{e.rule_name}"' if e.rule_name else f"#{e.rule}"
        out[(e.rule, None)] = f"rule {rule}"
        if e.match is not None:
            m = f'"{e.match_name}"' if e.match_name else f"#{e.match}"
            out[(e.rule, e.match)] = f"rule {rule} match {m}"
    return out


def _message(
    names: dict[tuple[int, int | None], str], rule: int, match: int | None, dead: list[Block]
) -> str:
    by = sorted(
        {x for b in dead for x in b.shadowed_by},
        key=lambda x: (x[0], x[1] if x[1] is not None else -1),
    )
    what = "virtualService " + names.get((rule, match), _where(rule, match))
    if not by:
        return f"{what} is never used: its match conditions cannot all hold at once"
    return f"{what} is never used: every request it matches is taken first by " + ", ".join(
        names.get((r, m), _where(r, m)) for r, m in by
    )


__all__ = ["CODE", "Block", "Reachability", "analyze", "reachability", "virtual_service_blocks"]
