"""One page view through the call graph, in simulated time.

Each call leaves the caller's sidecar and is routed by the scalar engine with the calling pod as
the source (so ``sourceLabels`` apply) and the headers the application propagates. On that
proxy, per request, in Envoy's filter order (semantics §4):

1. the fault filter: a delay (``fault.delay``) then, maybe, an abort (``fault.abort``: the
   configured status, upstream not called). The fault filter runs before the router, so the
   route's timer starts after the delay ([ENVOY-FAULT] "The fault injection filter must be
   inserted before any other filter, including the router filter").
2. the router: the route ``timeout`` covers every try and the backoffs between them (0 or
   absent: none, Istio's default); each try may be cut by ``retries.perTryTimeout`` (504, then
   a reset, which ``5xx`` and ``gateway-error`` retry: Envoy ``wouldRetryFromReset``); a
   response is retried when ``retryOn`` covers its status (``5xx``: any 5xx; ``gateway-error``:
   502/503/504; ``retriable-status-codes`` with the numeric codes of ``retryOn``: those codes;
   Envoy ``RetryStateImpl::wouldRetryFromHeaders``). Without ``retries`` Istio's default
   applies: 2 retries on ``connect-failure,refused-stream,unavailable,cancelled,
   retriable-status-codes`` (istio/istio pilot/pkg/networking/core/route/retry/retry.go
   ``defaultRetryOn``, ``defaultNumRetries``) — which no HTTP status of a page view triggers:
   no status code is listed, and connection failures are not simulated. ``attempts: 0``
   disables retries. A retry keeps the cluster and picks a pod again, avoiding the pods
   already tried: Istio sets Envoy's ``previous_hosts`` retry host predicate with
   ``HostSelectionRetryMaxAttempts: 5`` unless the destination uses a consistent hash or the
   route sets ``retryIgnorePreviousHosts: false`` (retry.go ``ConvertPolicy``,
   ``newRetryPolicy``). Modelled as: the retry goes to a pod not yet tried, uniformly, while
   there is one (Envoy's five re-selections can still land on a tried pod under a random
   pick; ignored), else to any pod; with a consistent hash, to the same pod (without the hashed
   value in the request: any pod, uniformly, as every pick then is). The backoff before retry
   k is Envoy's jittered exponential one, ``random % ((2^k - 1) × base)`` capped at 10 × base,
   base 25 ms or ``retries.backoff``. Each try carries ``x-envoy-attempt-count``.
3. a 503 without a pod (UH), without a cluster (NC), a 404 without a route (NR), a direct
   response or a redirect are answered by the proxy at once.

The application's own client then sees that answer, or gives up at its ``timeout`` (status 0:
no response, as Envoy logs a request its client abandoned), and retries per ``attempts`` on any
failure. The callee keeps working after its caller gave up: its hops stay in the tree.

Every random choice goes through a ``Chooser``: sampled (seeded numpy streams) or enumerated
(every branch with its probability: the exact mode).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from ..compiler.webhook.values import parse_duration_ms
from ..engine.scalar import ScalarCache, route
from ..errors import InvalidArgument
from ..plan import (
    DRAW_ABORT,
    DRAW_DELAY,
    DRAW_ENDPOINT,
    DRAW_ROUTE,
    PER_MILLION,
    Forward,
    RoutePlan,
)
from ..request import Request
from ..results import Decision, Outcome
from .model import Application, CallSpec, LatencyDist

T = TypeVar("T")

#: Istio's retry policy when a route sets none (retry.go: defaultNumRetries, defaultRetryOn)
DEFAULT_RETRIES = 2
DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
#: Envoy's default retry backoff base interval (router retry_state_impl: 25 ms, max 10x)
BACKOFF_BASE_MS = 25.0
#: how many values of the retry backoff jitter the exact mode enumerates
BACKOFF_POINTS = 5
#: the depth of calls a page view may go (the model is checked for cycles; this bounds the rest)
MAX_DEPTH = 32


class Chooser(Protocol):
    """Where a page view's randomness comes from."""

    def pick(self, options: Sequence[tuple[T, float]]) -> T: ...

    def latency(self, dist: LatencyDist) -> float: ...

    def backoff(self, base: float, k: int) -> float: ...

    def draws(self, plan: RoutePlan, cache: ScalarCache, request: Request) -> tuple[int, ...]: ...

    def endpoint(
        self,
        plan: RoutePlan,
        cache: ScalarCache,
        request: Request,
        d: Decision,
        tried: Sequence[str] = (),
    ) -> int: ...


@dataclass
class Hop:
    """One try of one call: where it went, what came back, when, and the calls it caused."""

    call: str  # the call's name (the entry: its host)
    caller: str  # the calling workload (Deployment), "user" for the entry
    attempt: int  # the application's try (1-based)
    try_: int  # Envoy's try within it (1-based: x-envoy-attempt-count)
    decision: Decision
    start_ms: float
    duration_ms: float = 0.0  # from the caller's proxy sending it to the answer (or give-up)
    status: int = 0  # what this try answered at the caller's proxy
    flags: tuple[str, ...] = ()
    workload: str | None = None  # the Deployment of the pod that served it
    app: str | None = None  # its workload in the model (``app`` label)
    version: str | None = None
    seen: int | None = None  # for the last try of an application try: what the caller's app saw
    used: bool = False  # the answer the caller's application kept (its last try)
    children: list[Hop] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        s = self.seen if self.seen is not None else self.status
        return not 200 <= s < 300

    def walk(self) -> list[Hop]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out

    def used_hops(self) -> list[Hop]:
        """This hop and, below it, the tries whose answers the callers kept (pre-order)."""
        out = [self]
        for c in self.children:
            if c.used:
                out.extend(c.used_hops())
        return out


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int
    on: frozenset[str]
    codes: frozenset[int]
    per_try_ms: float | None
    backoff_ms: float
    avoid_previous: bool = True  # Envoy's previous_hosts retry host predicate (retry.go)


class PageRunner:
    """Runs page views of ``app`` over ``plan`` (one per ``run`` call)."""

    def __init__(self, plan: RoutePlan, app: Application, cache: ScalarCache | None = None):
        self.plan = plan
        self.app = app
        self.cache = cache or ScalarCache()
        self._labels: dict[tuple[str, str], tuple[str | None, str | None, dict[str, str]]] = {}
        self._policies: dict[tuple[str | None, int | None, int | None], RetryPolicy] = {}

    # -- the page view --------------------------------------------------------------------------

    def run(self, entry: Request, chooser: Chooser, trace: bool = False) -> Hop:
        """One page view of ``entry`` (the user's request); the entry hop with the whole tree."""
        hop, _ = self._request(entry, "user", entry.host.split(".")[0], 1, chooser, 0.0, 0, trace)
        hop.used = True
        if hop.seen is None:
            hop.seen = hop.status
        return hop

    def _request(
        self,
        req: Request,
        caller: str,
        name: str,
        attempt: int,
        ch: Chooser,
        t0: float,
        depth: int,
        trace: bool,
    ) -> tuple[Hop, float]:
        """One request through the caller's proxy: (its last try, total time as its proxy
        answers it). Earlier tries are returned through ``_tries`` on the last one."""
        draws = ch.draws(self.plan, self.cache, req)
        d = route(self.plan, req, draws, trace=trace, cache=self.cache)
        delay = float(d.delay_ms or 0)
        first = Hop(name, caller, attempt, 1, d, t0, flags=d.flags)
        if d.outcome is not Outcome.OK or d.workload is None:
            first.status = d.status
            first.duration_ms = delay
            first.flags = (*d.flags, *([d.outcome.value] if d.outcome.value not in d.flags else []))
            short = req.host.split(".")[0]  # no pod answered: the hop is to the service called
            first.app = short if short in self.app.workloads else None
            return first, delay
        policy = self._policy(d)
        timeout = _ms(d.timeout)
        t = 0.0  # router time since the delay
        hop = first
        tries: list[Hop] = []
        k = 0
        while True:
            k += 1
            if k > 1:  # a retry: the same cluster, a pod picked again (not one tried)
                again = list(draws)
                avoid = tuple(h.workload or "" for h in tries) if policy.avoid_previous else ()
                again[DRAW_ENDPOINT] = ch.endpoint(self.plan, self.cache, req, d, avoid)
                d2 = route(self.plan, req, tuple(again), trace=trace, cache=self.cache)
                hop = Hop(name, caller, attempt, k, d2, t0 + delay + t)
            start = t0 + delay + t
            status, took, children, ident = self._serve(hop, req, k, ch, start, depth, trace)
            hop.children = children
            hop.workload, hop.app, hop.version = ident
            flags: list[str] = list(hop.decision.flags) if k == 1 else []
            reset = policy.per_try_ms is not None and took > policy.per_try_ms
            if reset:
                assert policy.per_try_ms is not None
                took, status = policy.per_try_ms, 504
                flags.append("UT")
            if timeout is not None and t + took > timeout:
                took, status = timeout - t, 504
                if "UT" not in flags:
                    flags.append("UT")
                hop.status, hop.duration_ms, hop.flags = status, took, tuple(flags)
                tries.append(hop)
                t = timeout
                break
            hop.status, hop.duration_ms, hop.flags = status, took, tuple(flags)
            tries.append(hop)
            t += took
            if k <= policy.retries and _retriable(policy, status, reset):
                wait = ch.backoff(policy.backoff_ms, k)
                if timeout is not None and t + wait >= timeout:
                    hop.flags = (*hop.flags, "UT")
                    hop.status = 504
                    t = timeout
                    break
                t += wait
                continue
            break
        tries[0].duration_ms += delay  # the first try waited for the fault filter's delay
        last = tries[-1]
        last.seen = last.status
        last._tries = tries  # type: ignore[attr-defined]
        return last, delay + t

    def _serve(
        self, hop: Hop, req: Request, k: int, ch: Chooser, t0: float, depth: int, trace: bool
    ) -> tuple[int, float, list[Hop], tuple[str | None, str | None, str | None]]:
        """The pod of ``hop`` serves ``req``: (status, time, the hops it made, its labels)."""
        d = hop.decision
        app, version, labels = self._pod(d)
        ident = (d.workload, app, version)
        beh = self.app.behaviour(app, version)
        if beh is None:
            return 200, 0.0, [], ident
        if depth >= MAX_DEPTH:
            raise InvalidArgument(f"a page view went {MAX_DEPTH} calls deep: is there a cycle?")
        took = ch.latency(beh.latency)
        if beh.error_rate > 0 and ch.pick(_bernoulli(beh.error_rate)):
            return beh.error_status, took, [], ident
        incoming = dict(d.request_headers if d.request_headers is not None else req.headers)
        incoming["x-envoy-attempt-count"] = str(k)
        status = 200
        children: list[Hop] = []
        ns = self._namespace(d)
        for call in beh.calls:
            if not call.made_by(version):
                continue
            seen, spent, hops = self._call(
                call, d.workload or "", labels, ns, incoming, ch, t0 + took, depth, trace
            )
            children.extend(hops)
            took += spent
            if call.required and not 200 <= seen < 300:
                status = seen or 500
                break
        return status, took, children, ident

    def _call(
        self,
        call: CallSpec,
        workload: str,
        labels: Mapping[str, str],
        ns: str,
        incoming: Mapping[str, str],
        ch: Chooser,
        t0: float,
        depth: int,
        trace: bool,
    ) -> tuple[int, float, list[Hop]]:
        """The application's client making ``call``: (status it saw, time spent, all tries)."""
        req = call_request(call, workload, labels, ns, incoming)
        spent = 0.0
        hops: list[Hop] = []
        seen = 0
        for a in range(1, call.attempts + 1):
            last, took = self._request(
                req, workload, call.name, a, ch, t0 + spent, depth + 1, trace
            )
            tries: list[Hop] = getattr(last, "_tries", [last])
            hops.extend(tries)
            if call.timeout_ms is not None and took > call.timeout_ms:
                took = call.timeout_ms
                last.seen = 0
                last.flags = (*last.flags, "client timeout")
            else:
                last.seen = last.status
            spent += took
            seen = last.seen
            if 200 <= seen < 300:
                break
        if hops:
            hops[-1].used = True
        return seen, spent, hops

    # -- lookups (memoised) -----------------------------------------------------------------------

    def _pod(self, d: Decision) -> tuple[str | None, str | None, dict[str, str]]:
        key = (d.destination.host if d.destination else "", d.pod or "")
        got = self._labels.get(key)
        if got is None:
            labels: dict[str, str] = {}
            svc = self.plan.services.get(key[0])
            if svc is not None:
                for e in svc.endpoints:
                    if e.pod == d.pod:
                        labels = dict(e.labels)
                        break
            app = labels.get("app")
            if app not in self.app.workloads and svc is not None and svc.name in self.app.workloads:
                app = svc.name
            got = (app, labels.get("version"), labels)
            self._labels[key] = got
        return got

    def _namespace(self, d: Decision) -> str:
        svc = self.plan.services.get(d.destination.host) if d.destination else None
        return svc.namespace if svc is not None else self.app.namespace

    def _policy(self, d: Decision) -> RetryPolicy:
        key = (d.virtual_service, d.rule, d.match)
        got = self._policies.get(key)
        if got is None:
            got = self._policies[key] = retry_policy(_retries_of(self.plan, d))
        return got


def call_request(
    call: CallSpec,
    workload: str,
    labels: Mapping[str, str],
    ns: str,
    incoming: Mapping[str, str],
) -> Request:
    """The request a workload's pod sends for ``call``: from that pod (so ``sourceLabels``
    match), with the incoming headers the application propagates (all of them but Envoy's
    attempt count when the model lists none) and the call's own headers on top."""
    if call.propagate is None:
        headers = dict(incoming)
        headers.pop("x-envoy-attempt-count", None)
    else:
        headers = {h: incoming[h] for h in call.propagate if h in incoming}
    headers.update(call.headers)
    return Request(
        host=call.host,
        path=call.path,
        method=call.method,
        headers=headers,
        port=call.port,
        namespace=ns,
        source_labels=labels,
        source_workload=workload,
    )


def _retries_of(plan: RoutePlan, d: Decision) -> Mapping[str, Any] | bool | None:
    """The ``retries`` of the route that took ``d`` (False: the route has none written)."""
    if d.virtual_service is None:
        return False
    for vs in (*plan.virtual_services, *plan.delegates):
        if vs.key != d.virtual_service:
            continue
        for e in vs.entries:
            if e.rule == d.rule and e.match == d.match and isinstance(e.action, Forward):
                return e.action.retries if e.action.retries is not None else False
    return False


def retry_policy(spec: Mapping[str, Any] | bool | None) -> RetryPolicy:
    """Istio's ``ConvertPolicy``: no ``retries`` → the default; ``attempts`` ≤ 0 → none."""
    if spec is False or spec is None:
        return RetryPolicy(
            DEFAULT_RETRIES, _tokens(DEFAULT_RETRY_ON), frozenset(), None, BACKOFF_BASE_MS
        )
    assert isinstance(spec, Mapping)
    attempts = int(spec.get("attempts") or 0)
    if attempts <= 0:
        return RetryPolicy(0, frozenset(), frozenset(), None, BACKOFF_BASE_MS)
    on = spec.get("retryOn", spec.get("retry_on"))
    tokens = _tokens(on) if on else _tokens(DEFAULT_RETRY_ON)
    codes = frozenset(int(x) for x in tokens if x.isdigit())
    if codes:
        tokens = tokens | {"retriable-status-codes"}
    per = _ms(spec.get("perTryTimeout", spec.get("per_try_timeout")))
    backoff = _ms(spec.get("backoff")) or BACKOFF_BASE_MS
    ignore = spec.get("retryIgnorePreviousHosts", spec.get("retry_ignore_previous_hosts"))
    return RetryPolicy(attempts, tokens, codes, per, backoff, ignore is None or bool(ignore))


def _tokens(text: str) -> frozenset[str]:
    return frozenset(t.strip() for t in str(text).split(",") if t.strip())


def _retriable(p: RetryPolicy, status: int, reset: bool) -> bool:
    """Envoy's ``wouldRetryFromHeaders`` / ``wouldRetryFromReset`` for the policies a page view
    can meet (HTTP statuses and per-try timeouts)."""
    if reset:
        return bool(p.on & {"5xx", "gateway-error", "reset"})
    if "5xx" in p.on and 500 <= status < 600:
        return True
    if "gateway-error" in p.on and status in (502, 503, 504):
        return True
    if "retriable-4xx" in p.on and status == 409:
        return True
    return "retriable-status-codes" in p.on and status in p.codes


def _backoff_options(base: float, k: int) -> list[tuple[float, float]]:
    """Envoy's JitteredExponentialBackOffStrategy before retry ``k``: ``random % ((2^k - 1) ×
    base)`` ms, capped at 10 × base: each whole millisecond equally likely."""
    span = int((2**k - 1) * base)
    cap = 10 * base
    if span <= 0:
        return [(0.0, 1.0)]
    out: dict[float, float] = {}
    for v in range(span):
        x = float(min(v, cap))
        out[x] = out.get(x, 0.0) + 1.0 / span
    return list(out.items())


def _bernoulli(p: float) -> list[tuple[bool, float]]:
    return [(v, q) for v, q in ((True, p), (False, 1.0 - p)) if q > 0]


def _ms(text: Any) -> float | None:
    if text is None or text == "":
        return None
    ms = parse_duration_ms(str(text))
    if ms is None or ms <= 0:
        return None  # 0 disables the timeout (Istio); malformed ones are refused when loading
    return ms


# -- choosers -----------------------------------------------------------------------------------


class SampledChooser:
    """Random choices from seeded numpy streams: one for routing draws, one for latencies,
    one for the application's error and backoff choices (``SeedSequence.spawn``)."""

    _BLOCK = 4096

    def __init__(self, seed: np.random.SeedSequence) -> None:
        route, lat, other = seed.spawn(3)
        self._route = np.random.default_rng(route)
        self._lat = np.random.default_rng(lat)
        self._other = np.random.default_rng(other)
        self._buf: list[int] = []
        self._u: list[float] = []

    def draws(self, plan: RoutePlan, cache: ScalarCache, request: Request) -> tuple[int, ...]:
        k = plan.n_draws
        if len(self._buf) < k:
            block = self._route.integers(0, 2**64, size=self._BLOCK * k, dtype=np.uint64)
            self._buf = block.tolist()
        out = tuple(self._buf[-k:])
        del self._buf[-k:]
        return out

    def latency(self, dist: LatencyDist) -> float:
        return dist.sample(self._lat)

    def endpoint(
        self,
        plan: RoutePlan,
        cache: ScalarCache,
        request: Request,
        d: Decision,
        tried: Sequence[str] = (),
    ) -> int:
        if not tried:
            return self.draws(plan, cache, request)[DRAW_ENDPOINT]
        t = _target(plan, cache, request, d)
        return self.pick(retry_endpoints(t, tried, request)) if t is not None else 0

    def backoff(self, base: float, k: int) -> float:
        """Envoy's JitteredExponentialBackOffStrategy: ``random % ((2^k - 1) × base)`` whole
        ms, capped at 10 × base."""
        span = int((2**k - 1) * base)
        if span <= 0:
            return 0.0
        v = int(self._other.integers(0, span))
        return float(min(v, 10 * base))

    def pick(self, options: Sequence[tuple[T, float]]) -> T:
        if len(options) == 1:
            return options[0][0]
        if not self._u:
            self._u = self._other.random(self._BLOCK).tolist()
        u = self._u.pop()
        acc = 0.0
        for v, p in options:
            acc += p
            if u < acc:
                return v
        return options[-1][0]


class EnumeratingChooser:
    """Every branch of a page view, one per ``run``: the exact mode.

    A page view is replayed once per combination of choices (an odometer over the choice
    points met, depth first); ``p`` is the probability of the current one. Routing draws are
    built to land in each weighted destination, each pod's workload, and each side of a fault
    percentage (``fires``: ``draw % 10^6 < per_million``), with their exact probabilities.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self.path: list[int] = []
        self.widths: list[int] = []
        self.pos = 0
        self.p = 1.0
        self.limit = limit
        self.leaves = 0

    def start(self) -> None:
        self.pos = 0
        self.p = 1.0
        self.leaves += 1
        if self.leaves > self.limit:
            raise InvalidArgument(
                f"the exact mode met more than {self.limit} branches; use mode='sample'"
            )

    def advance(self) -> bool:
        del self.path[self.pos :]
        del self.widths[self.pos :]
        while self.path and self.path[-1] + 1 >= self.widths[-1]:
            self.path.pop()
            self.widths.pop()
        if not self.path:
            return False
        self.path[-1] += 1
        return True

    def pick(self, options: Sequence[tuple[T, float]]) -> T:
        if len(options) == 1:
            return options[0][0]
        if self.pos < len(self.path):
            i = self.path[self.pos]
        else:
            i = 0
            self.path.append(0)
            self.widths.append(len(options))
        self.pos += 1
        v, p = options[i]
        self.p *= p
        return v

    def latency(self, dist: LatencyDist) -> float:
        opts = dist.finite()
        if opts is None:
            raise InvalidArgument(
                f"the exact mode needs constant or empirical latencies, not {dist.describe()}"
            )
        return self.pick(opts)

    def draws(self, plan: RoutePlan, cache: ScalarCache, request: Request) -> tuple[int, ...]:
        return self.pick(route_branches(plan, cache, request))

    def endpoint(
        self,
        plan: RoutePlan,
        cache: ScalarCache,
        request: Request,
        d: Decision,
        tried: Sequence[str] = (),
    ) -> int:
        t = _target(plan, cache, request, d)
        return self.pick(retry_endpoints(t, tried, request)) if t is not None else 0

    def backoff(self, base: float, k: int) -> float:
        """The one approximation of the exact mode: Envoy's backoff jitter (uniform over whole
        ms) as ``BACKOFF_POINTS`` equally likely values, the midpoints of equal-probability
        buckets (the outcome shares stay exact unless a timeout falls inside a bucket)."""
        span = int((2**k - 1) * base)
        if span <= BACKOFF_POINTS:
            return self.pick(_backoff_options(base, k))
        pts = [
            float(min(int((i + 0.5) * span / BACKOFF_POINTS), 10 * base))
            for i in range(BACKOFF_POINTS)
        ]
        return self.pick([(v, 1.0 / BACKOFF_POINTS) for v in pts])


def route_branches(
    plan: RoutePlan, cache: ScalarCache, request: Request
) -> list[tuple[tuple[int, ...], float]]:
    """Draws that realise every distinct routing of ``request``, with their probabilities:
    weighted destinations × the workloads of their pods × fault delay × fault abort."""
    n = max(plan.n_draws, DRAW_ABORT + 1)
    zero = (0,) * n
    d0 = route(plan, request, zero, cache=cache)
    if d0.outcome in (Outcome.NR, Outcome.PASSTHROUGH, Outcome.DIRECT, Outcome.REDIRECT):
        return [(zero, 1.0)]
    act: Forward | None = None
    targets: Sequence[Any]
    weights: tuple[int, ...]
    cum: tuple[int, ...]
    if d0.virtual_service is None:
        ctx = plan.context(
            request.namespace, request.source_labels, request.source_workload, request.gateway
        )
        table = cache.table(plan, request.host, request.port, ctx)
        if table.default is None:
            return [(zero, 1.0)]
        targets, weights, cum = [table.default], (1,), (1,)
    else:
        ctx = plan.context(
            request.namespace, request.source_labels, request.source_workload, request.gateway
        )
        table = cache.table(plan, request.host, request.port, ctx)
        hit = next(
            (
                re_
                for re_ in table.entries
                if re_.entry.rule == d0.rule
                and re_.entry.match == d0.match
                and re_.virtual_service.key == d0.virtual_service
            ),
            None,
        )
        if hit is None or not isinstance(hit.entry.action, Forward):
            return [(zero, 1.0)]
        act = hit.entry.action
        targets = hit.targets
        weights, cum = act.weights.weights, act.weights.cumulative
    faults: list[tuple[int, int, float]] = [(PER_MILLION - 1, PER_MILLION - 1, 1.0)]
    fault = act.fault if act is not None else None
    if fault is not None:
        pd = (
            min(max(fault.delay_per_million, 0), PER_MILLION) / PER_MILLION
            if fault.delay_ms is not None
            else 0.0
        )
        pa = (
            min(max(fault.abort_per_million, 0), PER_MILLION) / PER_MILLION
            if fault.abort_status is not None
            else 0.0
        )
        faults = [
            (dd, da, qd * qa)
            for dd, qd in ((0, pd), (PER_MILLION - 1, 1 - pd))
            for da, qa in ((0, pa), (PER_MILLION - 1, 1 - pa))
            if qd * qa > 0
        ]
    total = sum(weights)
    out: list[tuple[tuple[int, ...], float]] = []
    for i, t in enumerate(targets):
        w = weights[i] if len(targets) > 1 else total
        if w <= 0:
            continue
        rdraw = cum[i] - weights[i] if len(targets) > 1 else 0
        for j, q in _endpoints(t, request):
            for dd, da, qf in faults:
                dr = list(zero)
                dr[DRAW_ROUTE], dr[DRAW_ENDPOINT], dr[DRAW_DELAY], dr[DRAW_ABORT] = rdraw, j, dd, da
                out.append((tuple(dr), w / total * q * qf))
    return out or [(zero, 1.0)]


def _endpoints(t: Any, request: Request) -> list[tuple[int, float]]:
    """Endpoint draws landing on each workload of target ``t``, with its share of the pods
    (no pod, or a consistent hash whose key ``request`` carries: one branch). A consistent
    hash without its key picks uniformly by the endpoint draw, as the engines do
    (``Target.endpoint_index`` with key None; Envoy hashes a random number then)."""
    if t.status != "OK" or not t.endpoints:
        return [(0, 1.0)]
    if t.lb.hash_on is not None and t.hash_key(request) is not None:
        return [(0, 1.0)]
    by: dict[str, list[int]] = {}
    for j, e in enumerate(t.endpoints):
        by.setdefault(e.workload, []).append(j)
    return [(js[0], len(js) / len(t.endpoints)) for js in by.values()]


def retry_endpoints(t: Any, tried: Sequence[str], request: Request) -> list[tuple[int, float]]:
    """Endpoint draws of a retry of ``request`` to target ``t`` after tries on the pods of
    workloads ``tried`` (one entry per try), with Envoy's ``previous_hosts`` predicate: each pod
    not yet tried equally likely, so workload ``w`` with ``n_w`` pods, ``k_w`` of them tried,
    gets ``(n_w - k_w) / (N - K)``; every pod tried: as a first try. A consistent hash sets no
    host predicate (retry.go ``DefaultConsistentHashPolicy``): the hashed pod again, or without
    the key a fresh uniform pick over every pod, tried or not."""
    if not tried or t.status != "OK" or not t.endpoints or t.lb.hash_on is not None:
        return _endpoints(t, request)
    by: dict[str, list[int]] = {}
    for j, e in enumerate(t.endpoints):
        by.setdefault(e.workload, []).append(j)
    used = {w: min(sum(1 for x in tried if x == w), len(js)) for w, js in by.items()}
    left = len(t.endpoints) - sum(used.values())
    if left <= 0:
        return _endpoints(t, request)
    return [(js[0], (len(js) - used[w]) / left) for w, js in by.items() if len(js) > used[w]]


def _target(plan: RoutePlan, cache: ScalarCache, request: Request, d: Decision) -> Any:
    """The Target that decision ``d`` reached."""
    ctx = plan.context(
        request.namespace, request.source_labels, request.source_workload, request.gateway
    )
    table = cache.table(plan, request.host, request.port, ctx)
    cluster = d.destination.cluster if d.destination else None
    if table.default is not None and table.default.cluster == cluster:
        return table.default
    for re_ in table.entries:
        for t in re_.targets:
            if t.cluster == cluster:
                return t
    return None


def constant_latencies(app: Application) -> bool:
    return all(d.finite() is not None and len(d.finite() or ()) == 1 for d in app.dists())


def finite_latencies(app: Application) -> bool:
    return all(d.finite() is not None for d in app.dists())


def _is_finite(x: float) -> bool:
    return math.isfinite(x)


__all__ = [
    "Chooser",
    "EnumeratingChooser",
    "Hop",
    "PageRunner",
    "RetryPolicy",
    "SampledChooser",
    "retry_endpoints",
    "retry_policy",
    "route_branches",
]
