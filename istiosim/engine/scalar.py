"""The scalar engine: one request through the plan, optionally with a full trace.

It is the oracle: the vector engine must agree with it on every request and draw. It uses only
the plan's own predicates (``Matcher.test``), pick (``WeightTable.pick``) and endpoint choice
(``Target.endpoint_index``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from ..plan import (
    DRAW_ABORT,
    DRAW_DELAY,
    DRAW_ENDPOINT,
    DRAW_MIRROR0,
    DRAW_ROUTE,
    DirectResponse,
    Endpoint,
    Forward,
    Matcher,
    ProxyContext,
    Redirect,
    ResolvedEntry,
    RouteEntry,
    RoutePlan,
    RouteTable,
    Target,
    fires,
)
from ..request import Request, attribute_getter, attribute_source
from ..results import Candidate, Decision, DestinationRef, Outcome, TraceStep
from .cors import preflight_answer, simple_headers
from .decision import (
    abort_headers,
    candidates,
    dest_ref,
    entry_fields,
    needs_forwarding,
    redirect_location,
    response_ops,
    target_decision,
)

#: entries a ScalarCache keeps per memo (the plan's table cache may resolve tables again)
_MEMO_LIMIT = 50_000


class ScalarCache:
    """The scalar engine's memo for one plan: what never changes between requests.

    Per (host, port, client proxy) its route table, also by the request's ``table_key`` with
    the table's route program (``program``), per resolved route its candidates, per target its
    ``DestinationRef`` and, for a plain forward, the request-independent fields of its
    ``Decision``. Keyed by value or by object identity (the plan's objects are immutable and
    the entry keeps them alive); make one per plan and keep it as long as the plan, as the
    ``Simulator`` does. Safe to share between threads: each entry is computed from the plan
    alone, so a race only computes one twice.
    """

    __slots__ = (
        "_candidates",
        "_dests",
        "_sidecars",
        "_static",
        "_tables",
        "by_request",
        "getters",
        "programs",
    )

    def __init__(self) -> None:
        #: matcher key → the reader of that attribute (``request.attribute_getter``)
        self.getters: dict[str, Callable[[Request], Any]] = {}
        self._tables: dict[tuple[str, int | None, ProxyContext], RouteTable] = {}
        self._sidecars: dict[str, ProxyContext] = {}
        self._candidates: dict[int, tuple[object, tuple[Candidate, ...]]] = {}
        self._dests: dict[int, tuple[Target, DestinationRef]] = {}
        self._static: dict[int, tuple[Target, tuple[Any, ...] | None]] = {}
        #: a request's table key (``table_key``) → its route table / its route program
        self.by_request: dict[TableKey, RouteTable] = {}
        self.programs: dict[TableKey, Program] = {}

    def sidecar(self, namespace: str) -> ProxyContext:
        """The context of a plain sidecar in ``namespace``, interned (cheap to hash again)."""
        hit = self._sidecars.get(namespace)
        if hit is None:
            hit = self._sidecars[namespace] = ProxyContext(namespace)
        return hit

    def table(self, plan: RoutePlan, host: str, port: int | None, ctx: ProxyContext) -> RouteTable:
        """``plan.table(host, port, ctx)``, memoised."""
        key = (host, port, ctx)
        hit = self._tables.get(key)
        if hit is None:
            hit = plan.table(host, port, ctx)
            if len(self._tables) > _MEMO_LIMIT:
                self._tables.clear()
            self._tables[key] = hit
        return hit

    def context(self, plan: RoutePlan, key: TableKey) -> ProxyContext:
        """The client proxy of a table key (``table_key``): ``plan.context`` of the request."""
        if len(key) == 3:
            return self.sidecar(key[2])
        _, _, namespace, labels, workload, gateway = key
        return plan.context(namespace, dict(labels), workload, gateway)

    def request_table(self, plan: RoutePlan, key: TableKey) -> RouteTable:
        """The route table of a request's table key (``table_key``), memoised."""
        hit = self.by_request.get(key)
        if hit is None:
            hit = self.table(plan, key[0], key[1], self.context(plan, key))
            if len(self.by_request) > _MEMO_LIMIT:
                self.by_request.clear()
            self.by_request[key] = hit
        return hit

    def getter(self, key: str) -> Callable[[Request], Any]:
        get = self.getters[key] = attribute_getter(key)
        return get

    def candidates(
        self, entry: ResolvedEntry | None, default: Target | None
    ) -> tuple[Candidate, ...]:
        """``candidates(entry, default)``, memoised per resolved route."""
        key = entry if entry is not None else default
        hit = self._candidates.get(id(key))
        if hit is not None and hit[0] is key:
            return hit[1]
        out = candidates(entry, default)
        if len(self._candidates) > _MEMO_LIMIT:  # tables re-resolved: drop the old objects
            self._candidates.clear()
        self._candidates[id(key)] = (key, out)
        return out

    def dest(self, t: Target) -> DestinationRef:
        """The (immutable) DestinationRef of a target."""
        hit = self._dests.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        ref = dest_ref(t)
        if len(self._dests) > _MEMO_LIMIT:
            self._dests.clear()
        self._dests[id(t)] = (t, ref)
        return ref

    def static_fields(self, hit: ResolvedEntry, t: Target) -> tuple[Any, ...] | None:
        """The request-independent fields of a plain forward's Decision (None: not plain).

        Plain: no fault, no mirrors, target healthy, no consistent hash, no rewrite or header
        operation. Such a route's Decision differs between requests only by the pod.
        """
        got = self._static.get(id(t))
        if got is not None and got[0] is t:
            return got[1]
        act = hit.entry.action
        plain = (
            isinstance(act, Forward)
            and act.fault is None
            and not hit.mirrors
            and t.status == "OK"
            and t.lb.hash_on is None
            and not needs_forwarding(act, t)
            and not act.cors
        )
        out: tuple[Any, ...] | None = None
        if plain:
            e = hit.entry
            assert isinstance(act, Forward)
            tpl = Decision(
                outcome=Outcome.OK,
                status=200,
                virtual_service=hit.virtual_service.key,
                rule=e.rule,
                match=e.match,
                rule_name=e.rule_name,
                destination=self.dest(t),
                candidates=self.candidates(hit, None),
                timeout=act.timeout,
                location=e.location,
            )
            out = _split(tpl)
        if len(self._static) > _MEMO_LIMIT:
            self._static.clear()
        self._static[id(t)] = (t, out)
        return out

    def program(self, plan: RoutePlan, key: TableKey) -> Program:
        """The route program of a request's table (``table_key``), memoised.

        One step per route entry: its conditions as tests of the request, its weighted pick
        (cumulative weights and total; empty for one destination) and per destination the
        Decision's fields before the path (one tuple per pod) and after the authority. Empty
        (``route_drawn`` falls back to ``route``) unless every entry is a plain forward
        (``static_fields``) or the table is a default route to a healthy service without
        consistent hash.
        """
        table = self.request_table(plan, key)
        prog: Program = ()
        if table.passthrough:
            pass
        elif table.default is not None:
            t = table.default
            if t.status == "OK" and t.lb.hash_on is None and t.endpoints:
                tpl = Decision(
                    outcome=Outcome.OK,
                    status=200,
                    destination=self.dest(t),
                    candidates=self.candidates(None, t),
                )
                prog = (((), (), 1, (_outcome(t, _split(tpl)),)),)
        else:
            steps: list[ProgramStep] = []
            for hit in table.entries:
                act = hit.entry.action
                if not isinstance(act, Forward) or not hit.targets:
                    break  # a direct response or redirect: the general route
                outs = []
                for t in hit.targets:
                    st = self.static_fields(hit, t)
                    if st is None or not t.endpoints:
                        break
                    outs.append(_outcome(t, st))
                else:
                    tests = tuple(self.test(m) for m in hit.entry.matchers)
                    many = len(hit.targets) > 1
                    cum = act.weights.cumulative if many else ()
                    steps.append((tests, cum, act.weights.total if many else 1, tuple(outs)))
                    continue
                break  # a destination that is not a plain forward: the general route
            else:
                prog = tuple(steps)
        if len(self.programs) > _MEMO_LIMIT:
            self.programs.clear()
        self.programs[key] = prog
        return prog

    def test(self, m: Matcher) -> Callable[[Request], bool]:
        """``m.test`` of the attribute it reads, as one function of the request.

        An exact or prefix condition (not inverted, case kept) on a header or the uri reads
        the request itself: the same answer as ``m.test(attribute_getter(m.key)(request))``
        (an absent header fails both), one call instead of two.
        """
        field, _ = attribute_source(m.key)
        if not m.ignore_case and not m.invert and m.kind in ("exact", "prefix"):
            value = m.value
            if field.startswith("header:"):
                name = field[7:]
                if m.kind == "exact":
                    return lambda r: r.headers.get(name) == value
                return lambda r: (v := r.headers.get(name)) is not None and v.startswith(value)
            if m.key == "uri":
                if m.kind == "exact":
                    return lambda r: r._uri == value
                return lambda r: r._uri.startswith(value)
        get = self.getters.get(m.key) or self.getter(m.key)
        test = m.test
        return lambda r: test(get(r))


#: which route table a request uses: (host, port, namespace) for a plain sidecar, else also
#: (source labels as items, source workload, gateway); ``table_key``
TableKey = tuple[Any, ...]


def table_key(request: Request) -> TableKey:
    """The key of the route table ``request`` uses (its client proxy's, for its host and port):
    requests with equal keys have equal ``plan.context`` and hence equal tables."""
    if request.source_labels or request.source_workload or request.gateway:
        return (
            request.host,
            request.port,
            request.namespace,
            tuple(request.source_labels.items()),
            request.source_workload,
            request.gateway,
        )
    return (request.host, request.port, request.namespace)


#: a table's route program (``ScalarCache.program``): per entry its tests, cumulative weights,
#: total weight and per destination (Decision fields up to the pod, per pod; count of pods;
#: Decision fields between the authority and the plan)
ProgramStep = tuple[
    tuple[Callable[[Request], bool], ...],
    tuple[int, ...],
    int,
    tuple[tuple[tuple[tuple[Any, ...], ...], int, tuple[Any, ...]], ...],
]
Program = tuple[ProgramStep, ...]


def _split(tpl: Decision) -> tuple[Any, ...]:
    """A Decision template's fields between the per-request ones (pod, path, inputs): before
    the workload, between the pod and the path, between the authority and the plan."""
    return (tpl[:_WORKLOAD], tpl[_POD + 1 : _PATH], tpl[_AUTHORITY + 1 : _PLAN])


def _outcome(
    t: Target, st: tuple[Any, ...]
) -> tuple[tuple[tuple[Any, ...], ...], int, tuple[Any, ...]]:
    head, mid, tail = st
    pres = tuple((*head, ep.workload, ep.pod, *mid) for ep in t.endpoints)
    return pres, len(pres), tail


_new_tuple = tuple.__new__
_WORKLOAD, _POD, _PATH, _AUTHORITY, _PLAN = (
    Decision._fields.index(f) for f in ("workload", "pod", "path", "authority", "plan")
)
assert (_POD, _AUTHORITY, len(Decision._fields)) == (_WORKLOAD + 1, _PATH + 1, _PLAN + 3)


def _fast_forward(
    cache: ScalarCache,
    plan: RoutePlan,
    hit: ResolvedEntry,
    route_draw: int,
    draws: tuple[int, ...],
    request: Request,
) -> Decision | None:
    """The common case without trace: the same picks as the general path, fewer steps."""
    act = hit.entry.action
    if not isinstance(act, Forward):
        return None
    targets = hit.targets
    t = targets[act.weights.pick(route_draw)] if len(targets) > 1 else targets[0]
    st = cache.static_fields(hit, t)
    if st is None:
        return None
    head, mid, tail = st
    ep = t.endpoints[t.endpoint_index(_draw(draws, DRAW_ENDPOINT), None)]
    # the route's Decision template (built by keyword once) with this request's pod, path and
    # inputs filled in: a third of the cost of calling Decision's 25-field constructor
    return _new_tuple(
        Decision,
        (
            *head,
            ep.workload,
            ep.pod,
            *mid,
            request.path,
            request.authority,
            *tail,
            plan,
            request,
            draws,
        ),
    )


assert (DRAW_ROUTE, DRAW_ENDPOINT) == (0, 1)  # route_drawn indexes the draws by these


def route_drawn(
    plan: RoutePlan, request: Request, draws: tuple[int, ...], cache: ScalarCache
) -> Decision:
    """``route(plan, request, draws, cache=cache)`` without trace, for draws as the Simulator
    makes them (a tuple of ``plan.n_draws`` Python ints): the same Decision, at the fixed cost
    of a few calls when the request takes a plain forward of a table whose entries are all
    plain (``ScalarCache.program``); anything else goes through ``route``."""
    if request.random_value is not None:
        return route(plan, request, draws, cache=cache)
    if request.source_labels or request.source_workload or request.gateway:
        key = table_key(request)
    else:  # table_key, inlined for the common case
        key = (request.host, request.port, request.namespace)
    prog = cache.programs.get(key)
    if prog is None:
        prog = cache.program(plan, key)
    for tests, cum, total, outs in prog:
        for test in tests:
            if not test(request):
                break
        else:
            pres, n, tail = outs[bisect_right(cum, draws[0] % total)] if cum else outs[0]
            # the same picks as WeightTable.pick and Target.endpoint_index (no hash)
            return _new_tuple(
                Decision,
                (*pres[draws[1] % n], request.path, request.authority, *tail, plan, request, draws),
            )
    return route(plan, request, draws, cache=cache)


def _draw(draws: Sequence[int], i: int) -> int:
    return int(draws[i]) if i < len(draws) else 0


def _fail_reason(m: Matcher, value: str | None) -> str:
    got = "absent" if value is None else repr(value)
    return f"{m.describe()}: no (got {got})"


def route(
    plan: RoutePlan,
    request: Request,
    draws: Sequence[int] = (),
    *,
    trace: bool = False,
    cache: ScalarCache | None = None,
) -> Decision:
    """Route one request. ``draws`` are the request's 64-bit random values, one per slot.

    ``cache``: the plan's ``ScalarCache`` to reuse (None: nothing is memoised). An untraced
    decision keeps the plan, the request and the draws, so that ``explain()`` can route it
    again with a trace.
    """
    draws = tuple(draws)
    memo = cache is not None
    if cache is None:
        cache = ScalarCache()  # for this call only
    key = table_key(request)
    table = cache.by_request.get(key) or cache.request_table(plan, key)
    steps: list[TraceStep] | None = [] if trace else None
    if steps is not None:
        ctx = cache.context(plan, key)
        who = f"gateway {ctx.gateway}" if ctx.gateway else f"sidecar in namespace {ctx.namespace}"
        steps.append(
            TraceStep("client", f"{who}; {request.method} {request.authority}{request.path}")
        )
        steps.extend(TraceStep("vhost", n) for n in table.notes)
        for vs in table.virtual_services:
            steps.append(TraceStep("vs", f"VirtualService {vs.key} applies", vs.location))
        for e, why in table.skipped:
            steps.append(
                TraceStep(
                    "skip", f"{_entry_name(e)} not generated for this client: {why}", e.location
                )
            )
    route_draw = (
        request.random_value if request.random_value is not None else _draw(draws, DRAW_ROUTE)
    )
    inputs: dict[str, Any] = _NO_INPUTS  # filled below when the decision has no trace
    if table.passthrough:
        inputs = _inputs(plan, request, draws, steps)
        if steps is not None:
            steps.append(
                TraceStep(
                    "route",
                    "PassthroughCluster: sent to the original destination (outboundTrafficPolicy ALLOW_ANY)",
                )
            )
        return Decision(
            outcome=Outcome.PASSTHROUGH,
            status=200,
            destination=DestinationRef(request.host, None, table.port, "PassthroughCluster"),
            trace=_t(steps),
            **inputs,
        )
    if table.default is not None:
        t = table.default
        inputs = _inputs(plan, request, draws, steps)
        if steps is not None:
            steps.append(
                TraceStep(
                    "route",
                    f"no VirtualService: default route to {t.cluster} (all pods of the service)",
                )
            )
        return _to_target(
            cache, request, draws, t, None, None, table.default, steps, inputs, route_draw
        )
    hit: ResolvedEntry | None = None
    getters = cache.getters
    for re_ in table.entries:
        e = re_.entry
        failed: str | None = None
        for m in e.matchers:
            get = getters.get(m.key) or cache.getter(m.key)
            v = get(request)
            if not m.test(v):
                failed = _fail_reason(m, v) if steps is not None else "failed"
                break
        if failed is None:
            hit = re_
            if steps is not None:
                conds = (
                    "; ".join(m.describe() for m in e.matchers) or "no match conditions (catch-all)"
                )
                steps.append(
                    TraceStep(
                        "match",
                        f"{_entry_name(e)} of {re_.virtual_service.key} matched: {conds}",
                        e.location,
                    )
                )
            break
        if steps is not None:
            steps.append(
                TraceStep(
                    "miss", f"{_entry_name(e)} of {re_.virtual_service.key}: {failed}", e.location
                )
            )
    if hit is None:
        vs_key = table.virtual_services[0].key if table.virtual_services else None
        inputs = _inputs(plan, request, draws, steps)
        if steps is not None:
            steps.append(TraceStep("result", "no route matched: 404 NR"))
        return Decision(
            outcome=Outcome.NR, status=404, virtual_service=vs_key, trace=_t(steps), **inputs
        )
    e = hit.entry
    if steps is None and memo:  # the template pays off only when it is kept
        fast = _fast_forward(cache, plan, hit, route_draw, draws, request)
        if fast is not None:
            return fast
    inputs = _inputs(plan, request, draws, steps)
    common = {**entry_fields(hit), **inputs}
    act = e.action
    if isinstance(act, DirectResponse):
        if steps is not None:
            steps.append(TraceStep("result", f"direct response {act.status}"))
        return Decision(
            outcome=Outcome.DIRECT,
            status=act.status,
            body=act.body,
            response_headers=response_ops(act.headers_response),
            trace=_t(steps),
            **common,
        )
    if isinstance(act, Redirect):
        loc = redirect_location(act, request, table.port)
        if steps is not None:
            steps.append(TraceStep("result", f"redirect {act.status} to {loc}"))
        return Decision(
            outcome=Outcome.REDIRECT,
            status=act.status,
            redirect_location=loc,
            response_headers=response_ops(act.headers_response),
            trace=_t(steps),
            **common,
        )
    assert isinstance(act, Forward)
    if act.cors:
        answer = preflight_answer(act.cors, str(request.method), request.headers)
        if answer is not None:
            if steps is not None:
                steps.append(
                    TraceStep(
                        "cors",
                        "CORS preflight answered 200 by Envoy's CORS filter (corsPolicy);"
                        " not routed upstream",
                        e.location,
                    )
                )
            return Decision(
                outcome=Outcome.DIRECT,
                status=200,
                flags=("CORS",),
                response_headers=answer,
                trace=_t(steps),
                **common,
            )
    flags: list[str] = []
    delay_ms = None
    cands = cache.candidates(hit, None)
    fault = act.fault
    if fault is not None:
        if fault.delay_ms is not None and fires(_draw(draws, DRAW_DELAY), fault.delay_per_million):
            flags.append("DI")
            delay_ms = fault.delay_ms
            if steps is not None:
                steps.append(
                    TraceStep(
                        "fault",
                        f"delay {fault.delay_ms} ms injected ({fault.delay_per_million / 1e4:g}% of requests)",
                        fault.location,
                    )
                )
        if fault.abort_status is not None and fires(
            _draw(draws, DRAW_ABORT), fault.abort_per_million
        ):
            flags.append("FI")
            if steps is not None:
                steps.append(
                    TraceStep(
                        "fault",
                        f"abort with HTTP {fault.abort_status} ({fault.abort_per_million / 1e4:g}% of requests); upstream not called",
                        fault.location,
                    )
                )
            # the route (weighted cluster included) is resolved before the fault filter runs:
            # the aborted request keeps the cluster its route picked, no pod
            # (envoy source/common/http/conn_manager_impl.cc ``refreshCachedRoute``)
            picked = (
                hit.targets[act.weights.pick(route_draw)]
                if len(hit.targets) > 1
                else hit.targets[0]
            )
            if steps is not None:
                steps.append(
                    TraceStep(
                        "route",
                        f"the route's cluster {picked.cluster} is kept (picked before the fault"
                        " filter runs); no pod is called",
                    )
                )
            return Decision(
                outcome=Outcome.FI,
                status=fault.abort_status,
                destination=DestinationRef(picked.host, picked.subset, picked.port, picked.cluster),
                candidates=cands,
                flags=tuple(flags),
                delay_ms=delay_ms,
                response_headers=abort_headers(fault) + simple_headers(act.cors, request.headers),
                trace=_t(steps),
                **common,
            )
    t = hit.targets[act.weights.pick(route_draw)] if len(hit.targets) > 1 else hit.targets[0]
    if steps is not None:
        if len(hit.targets) > 1:
            parts = ", ".join(f"{c.subset or c.host} {c.weight}/{act.weights.total}" for c in cands)
            src = "random_value" if request.random_value is not None else "draw"
            steps.append(
                TraceStep(
                    "weight",
                    f"weighted pick among [{parts}]: {src} % {act.weights.total} = {route_draw % act.weights.total} → {t.subset or t.host}",
                )
            )
        else:
            steps.append(TraceStep("weight", f"single destination {t.cluster}: 100%"))
    d = _to_target(
        cache,
        request,
        draws,
        t,
        hit,
        act,
        None,
        steps,
        inputs,
        route_draw,
        flags,
        delay_ms,
        cands,
        common,
    )
    return d


_NO_INPUTS: dict[str, Any] = {}


def _inputs(
    plan: RoutePlan, request: Request, draws: tuple[int, ...], steps: list[TraceStep] | None
) -> dict[str, Any]:
    """What an untraced decision keeps so that ``explain()`` can route it again."""
    return _NO_INPUTS if steps is not None else {"plan": plan, "request": request, "draws": draws}


def _t(steps: list[TraceStep] | None) -> tuple[TraceStep, ...] | None:
    return tuple(steps) if steps is not None else None


def _entry_name(e: RouteEntry) -> str:
    name = f"rule {e.rule}" + (f" ({e.rule_name})" if e.rule_name else "")
    return name + (f" match {e.match}" if e.match is not None else "")


def _to_target(
    cache: ScalarCache,
    request: Request,
    draws: tuple[int, ...],
    t: Target,
    hit: ResolvedEntry | None,
    act: Forward | None,
    default: Target | None,
    steps: list[TraceStep] | None,
    inputs: dict[str, Any],
    route_draw: int,
    flags: list[str] | None = None,
    delay_ms: int | None = None,
    cands: tuple[Candidate, ...] | None = None,
    common: dict[str, Any] | None = None,
) -> Decision:
    """Pick the pod and the mirrors by their draws, then build the decision (and its trace)."""
    cands = cands if cands is not None else cache.candidates(hit, default)
    key: str | None = None
    ep: Endpoint | None = None
    mirrors: tuple[str, ...] = ()
    if t.status == "OK":
        key = t.hash_key(request) if t.lb.hash_on is not None else None
        ep = t.endpoints[t.endpoint_index(_draw(draws, DRAW_ENDPOINT), key)]
        if act is not None and hit is not None and hit.mirrors:
            mirrors = tuple(
                mt.cluster
                for j, (mt, pm) in enumerate(hit.mirrors)
                if fires(_draw(draws, DRAW_MIRROR0 + j), pm)
            )
    d = target_decision(
        t,
        ep,
        act,
        hit,
        request,
        flags or [],
        delay_ms,
        cands,
        common or inputs,
        mirrors,
        cache.dest(t),
    )
    if steps is None:
        return d
    if ep is None:
        where = t.spec.location if t.spec else None
        steps.append(TraceStep("result", f"{t.reason}: 503 {t.status}", where))
    else:
        how = t.lb.describe() + (f" (key {key!r})" if key is not None else "")
        dr = f" (DestinationRule {t.destination_rule})" if t.destination_rule else ""
        steps.append(
            TraceStep(
                "endpoint",
                f"{t.subset or 'all pods'}{dr}: {len(t.endpoints)} pod(s); {how} picks {ep.pod}",
            )
        )
        if act is not None and (d.path != request.path or d.authority != request.authority):
            steps.append(TraceStep("rewrite", f"forwarded as {d.authority}{d.path}"))
        for mc in mirrors:
            steps.append(TraceStep("mirror", f"copy sent to {mc}"))
    return d._replace(trace=tuple(steps))


__all__ = ["ScalarCache", "route", "route_drawn", "table_key"]
