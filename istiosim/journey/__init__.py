"""Whole page views: a user's request through the application's call graph, each hop routed as
Istio routes it, with header propagation, timeouts, retries and faults acting on simulated time.

``journey(sim, app, entry)`` runs one page view and keeps its call tree; ``journeys(sim, app,
entry, n)`` runs many (``mode="sample"``) or gives their exact distribution (``mode="exact"``,
when every latency is constant or an empirical histogram). ``app`` is an :class:`Application`
(``read_application(path)``, ``"bookinfo"`` for the bundled model, a mapping, or a
``config.app.ApplicationFile``). See ``run`` for the semantics and their sources.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..batch import RequestBatch
from ..engine.draws import RngLike
from ..errors import InvalidArgument
from ..plan import HeaderOps, LbPolicy, Matcher
from ..request import Request
from ..traffic import Traffic
from .model import Application, LatencyDist, as_application, read_application
from .result import JourneyResult, OutcomeClass, aggregate, outcome_of, tree_text
from .run import EnumeratingChooser, Hop, PageRunner, SampledChooser, finite_latencies

#: classes of a traffic model's support the exact mode enumerates at most
MAX_EXACT_REQUESTS = 4096


def _plan_of(sim: Any) -> Any:
    plan = getattr(sim, "plan", sim)
    if not hasattr(plan, "virtual_services"):
        raise InvalidArgument(f"expected a Simulator or a RoutePlan, not {type(sim).__name__}")
    return plan


def _runner(sim: Any, app: Any) -> PageRunner:
    plan = _plan_of(sim)
    application = as_application(app)
    application.check(plan)
    cache = getattr(sim, "_scalar", None)
    return PageRunner(plan, application, cache)


def _entry(app: Application, entry: Any, path: str | None = None) -> Request | Traffic:
    if isinstance(entry, Request | Traffic):
        return entry
    if entry is None:
        entry = app.entry_host
        if entry is None:
            raise InvalidArgument("give the entry (a host, a Request or a Traffic model)")
    if isinstance(entry, str):
        p = path if path is not None else (app.entry_path if entry == app.entry_host else "/")
        return Request(host=entry, path=p, namespace=app.namespace)
    raise InvalidArgument(
        f"entry must be a host, a Request or a Traffic model, not {type(entry).__name__}"
    )


def _seed(rng: RngLike) -> np.random.SeedSequence:
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(0, 2**63)))
    if rng is None or isinstance(rng, int):
        return np.random.SeedSequence(rng)
    raise InvalidArgument(f"rng must be a seed, a SeedSequence or a Generator, not {rng!r}")


def journey(sim: Any, app: Any, entry: Any = None, *, rng: RngLike = None) -> JourneyResult:
    """One page view of ``entry`` (a host, a ``Request``; default: the model's entry), traced:
    ``result.tree`` is its call tree, ``str(result)`` prints it."""
    runner = _runner(sim, app)
    req = _entry(runner.app, entry)
    if isinstance(req, Traffic):
        req = req.batch(1, rng)[0]
    hop = runner.run(req, SampledChooser(_seed(rng)), trace=True)
    label = runner.app.label(hop.used_hops())
    row = outcome_of(hop, label)
    return JourneyResult(
        1, "sample", tuple(aggregate([(*row, 1.0)])), tree=hop, entry=req, seed=_int(rng)
    )


def journeys(
    sim: Any,
    app: Any,
    entry: Any = None,
    n: int = 10_000,
    *,
    rng: RngLike = None,
    mode: str = "sample",
    method: str = "auto",
) -> JourneyResult:
    """``n`` page views of ``entry`` (a host, a ``Request`` or a ``Traffic`` model).

    ``mode``: ``sample`` (seeded Monte Carlo) or ``exact`` (every branch with its probability:
    routing weights, pods' workloads, fault percentages, error rates, retry backoffs and
    empirical latencies; needs no exponential or lognormal latency). ``method`` (sample mode):
    ``vector`` (the page views hop by hop over numpy arrays: ``journey.vector``), ``views``
    (one page view at a time: the reference), ``counts`` (the exact classes, then one
    multinomial draw for ``n``: O(classes), for models whose latencies are all finite) or
    ``auto`` (``counts`` when it applies, else ``vector``).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgument(f"n must be a positive integer, got {n!r}")
    if mode not in ("sample", "exact"):
        raise InvalidArgument(f"mode must be 'sample' or 'exact', got {mode!r}")
    if method not in ("auto", "views", "counts", "vector"):
        raise InvalidArgument(
            f"method must be 'auto', 'vector', 'views' or 'counts', got {method!r}"
        )
    runner = _runner(sim, app)
    req = _entry(runner.app, entry)
    seed = _seed(rng)
    counts_ok = finite_latencies(runner.app) and _support_size(req) <= MAX_EXACT_REQUESTS
    if mode == "exact" or (method == "counts" or (method == "auto" and counts_ok)):
        rows = _exact_rows(runner, req)
        if mode == "exact":
            return JourneyResult(n, "exact", tuple(aggregate(rows)), entry=req, seed=_int(rng))
        return _multinomial(rows, n, seed, req, _int(rng))
    if method == "counts":
        raise InvalidArgument("method='counts' needs every latency constant or empirical (finite)")
    if method == "views":
        return _sampled(runner, req, n, seed, _int(rng))
    return _vector(runner, req, n, seed, _int(rng))


class _UsedHop:
    """A used hop as ``Application.label`` reads it."""

    __slots__ = ("app", "failed", "seen", "version", "workload")

    def __init__(self, info: tuple[Any, ...]) -> None:
        self.workload, self.app, self.version, self.seen = info
        self.failed = not 200 <= self.seen < 300


def _vector(
    runner: PageRunner, req: Request | Traffic, n: int, seed: np.random.SeedSequence, s: int | None
) -> JourneyResult:
    from .vector import VectorRun

    entry_seed, views_seed = seed.spawn(2)
    vr = VectorRun(runner, views_seed)
    groups: list[tuple[Request, int]]
    if isinstance(req, Traffic):
        reps, inv = _distinct(req.batch(n, np.random.default_rng(entry_seed)), runner.plan)
        groups = list(zip(reps, np.bincount(inv, minlength=len(reps)).tolist(), strict=True))
    else:
        groups = [(req, n)]
    codes, lats = [], []
    for r, c in groups:
        _, took, code = vr.entry(r, c)
        codes.append(code)
        lats.append(took)
    code = np.concatenate(codes)
    lat = np.concatenate(lats)
    classes = []
    for c, v in _by_code(code, lat):
        seq = vr.seqs[c]
        hops = [_UsedHop(h) for h in seq]
        label = runner.app.label(hops)
        hk = tuple((h.workload, h.seen) for h in hops)
        classes.append(OutcomeClass(label, hops[0].seen, hk, float(len(v)), v, np.ones(len(v))))
    classes.sort(key=lambda k: (-k.weight, k.sees, k.hops))
    return JourneyResult(n, "sample", tuple(classes), entry=req, seed=s, extra={"method": "vector"})


#: headers whose value is never merged into classes (they feed the authority, hashes, cookies)
_KEEP_HEADERS = frozenset({":authority", "host", ":path", ":method", ":scheme", "cookie"})


def _header_readers(plan: Any) -> tuple[dict[str, list[Any]], set[str]]:
    """The plan's header conditions by header name, and the headers whose value matters in
    other ways: hashed by a load balancer or written by a route's header operations."""
    matchers: dict[str, list[Any]] = {}
    opaque: set[str] = set()
    seen: set[int] = set()
    stack: list[Any] = [
        plan.virtual_services,
        plan.delegates,
        plan.destination_rules,
        plan.gateways,
        plan.sidecars,
    ]
    while stack:
        x = stack.pop()
        if x is None or isinstance(x, str | int | float | bool) or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, Matcher):
            if x.key.startswith("header:"):
                matchers.setdefault(x.key[7:], []).append(x)
        elif isinstance(x, LbPolicy):
            src = x.hash_source()
            if x.hash_on is not None:
                opaque.add(src[0][7:] if src and src[0].startswith("header:") else "*")
        elif isinstance(x, HeaderOps):
            opaque.update(k.lower() for k, _ in (*x.set, *x.add))
            opaque.update(k.lower() for k in x.remove)
        elif isinstance(x, Mapping):
            stack.extend(x.values())
        elif isinstance(x, list | tuple | frozenset | set):
            stack.extend(x)
        elif dataclasses.is_dataclass(x):
            stack.extend(getattr(x, f.name, None) for f in dataclasses.fields(x))
    return matchers, opaque


def _value_classes(plan: Any, name: str, values: tuple[Any, ...], readers: Any) -> Any:
    """For a header column: each value's first equivalent value (same answer to every condition
    of the plan on that header), or None when the header's value may matter otherwise."""
    matchers, opaque = readers
    if name in _KEEP_HEADERS or name in opaque or "*" in opaque or len(values) < 2:
        return None
    ms = matchers.get(name, [])
    first: dict[tuple[bool, ...], int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        out[i] = first.setdefault(tuple(m.test(v) for m in ms), i)
    return out


def _distinct(batch: RequestBatch, plan: Any = None) -> tuple[list[Request], Any]:
    """The distinct requests of ``batch`` in order of first appearance, and each row's index
    among them: the columns' codes combined into one integer key per row (re-encoded through
    ``np.unique`` whenever the mixed radix would pass 2^62), so the Python work is per distinct
    request, not per row.

    With ``plan``, header values no condition of the plan tells apart (same answer to each of
    its matchers on that header; not hashed by a load balancer, not written by a route) count
    as one: a page view goes the same way for all of them, whatever the application propagates
    (its model reads no header value). A million distinct users then walk as a few requests."""
    n = len(batch)
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    readers = _header_readers(plan) if plan is not None else None
    for name, col in batch.columns().items():
        size = len(col.values)
        if size <= 1:
            continue
        codes = col.codes.astype(np.int64)
        if readers is not None and name.startswith("header:"):
            cls = _value_classes(plan, name[7:], col.values, readers)
            if cls is not None:
                codes = cls[codes]
        if radix * size >= 1 << 62:
            _, k = np.unique(key, return_inverse=True)
            key, radix = k.reshape(-1).astype(np.int64), int(k.max()) + 1
        key = key * size + codes
        radix *= size
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # group g: the g-th distinct request to appear
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    reps = [batch[int(i)] for i in first[order]]
    return reps, rank[inv.reshape(-1)]


def _by_code(code: Any, lat: Any) -> list[tuple[int, Any]]:
    """The latencies of each code, in view order: one mask per code when there are few (the
    codes are small interned integers), else a stable sort."""
    counts = np.bincount(code)
    u = np.flatnonzero(counts)
    if len(u) == 1:
        return [(int(u[0]), lat)]
    small = code.astype(np.uint8 if u[-1] < 256 else np.uint16) if u[-1] < 65536 else code
    order = np.argsort(small, kind="stable")  # a radix sort for 8- and 16-bit keys
    lat = lat[order]
    bounds = np.cumsum(counts[u])
    return [(int(c), lat[b - k : b]) for c, b, k in zip(u, bounds, counts[u], strict=True)]


def _int(rng: RngLike) -> int | None:
    return rng if isinstance(rng, int) and not isinstance(rng, bool) else None


def _support_size(req: Request | Traffic) -> int:
    if isinstance(req, Request):
        return 1
    total = 0
    for c in range(len(req.shares)):
        total += len(req.support(c)[0])
        if total > MAX_EXACT_REQUESTS:
            break
    return total


def _requests(req: Request | Traffic) -> list[tuple[Request, float]]:
    if isinstance(req, Request):
        return [(req, 1.0)]
    out: list[tuple[Request, float]] = []
    for c, share in enumerate(req.shares):
        batch, p = req.support(c)
        if len(batch) > MAX_EXACT_REQUESTS:
            raise InvalidArgument(
                f"traffic class {req.names[c]!r} has {len(batch)} distinct requests; the exact "
                f"mode enumerates at most {MAX_EXACT_REQUESTS} (use method='views')"
            )
        out.extend((batch[i], share * float(p[i])) for i in range(len(batch)) if p[i] > 0)
    return out


def _exact_rows(runner: PageRunner, req: Request | Traffic) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    ch = EnumeratingChooser()
    for r, w in _requests(req):
        ch.path.clear()
        ch.widths.clear()
        while True:
            ch.start()
            hop = runner.run(r, ch)
            label = runner.app.label(hop.used_hops())
            rows.append((*outcome_of(hop, label), w * ch.p))
            if not ch.advance():
                break
    return rows


def _multinomial(
    rows: list[tuple[Any, ...]], n: int, seed: np.random.SeedSequence, req: Any, s: int | None
) -> JourneyResult:
    p = np.asarray([r[4] for r in rows], dtype=float)
    counts = np.random.default_rng(seed).multinomial(n, p / p.sum())
    kept = [(*r[:4], float(c)) for r, c in zip(rows, counts, strict=True) if c > 0]
    return JourneyResult(
        n, "sample", tuple(aggregate(kept)), entry=req, seed=s, extra={"method": "counts"}
    )


def _sampled(
    runner: PageRunner, req: Request | Traffic, n: int, seed: np.random.SeedSequence, s: int | None
) -> JourneyResult:
    entry_seed, views_seed = seed.spawn(2)
    if isinstance(req, Traffic):
        reps, inv = _distinct(req.batch(n, np.random.default_rng(entry_seed)))
        entries = [reps[g] for g in inv.tolist()]
    else:
        entries = [req] * n
    ch = SampledChooser(views_seed)
    rows = []
    for r in entries:
        hop = runner.run(r, ch)
        rows.append((*outcome_of(hop, runner.app.label(hop.used_hops())), 1.0))
    return JourneyResult(
        n, "sample", tuple(aggregate(rows)), entry=req, seed=s, extra={"method": "views"}
    )


def load_application(source: str | os.PathLike[str]) -> Application:
    """``read_application``: an application file, or ``bookinfo`` (the bundled model)."""
    return read_application(source)


__all__ = [
    "Application",
    "Hop",
    "JourneyResult",
    "LatencyDist",
    "OutcomeClass",
    "journey",
    "journeys",
    "load_application",
    "read_application",
    "tree_text",
]
