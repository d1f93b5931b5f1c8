"""``Simulator.simulate``: many requests from a traffic model, three ways.

- ``mode="exact"``: for each request class, every distinct request (the product of its column
  distributions) goes through the vector engine's match once, or, for large classes, the
  per-column rule-bitmask distributions are convolved; the draws are integrated out
  analytically (``engine.analytic``).
- ``mode="stratified"``: the exact probabilities turned into deterministic counts, each row
  within ±1 of ``n × probability`` (largest remainders).
- ``mode="sample"`` (default): seeded Monte Carlo. When only counts are asked for
  (``keep=False``) and the classes' probabilities are known, one multinomial draw per class
  gives the counts in O(classes) (``method="counts"``); otherwise (``keep=True`` or
  ``method="vector"``) requests are generated as codes and routed by the vector engine,
  streamed in chunks.

Streaming is reproducible whatever the chunk size and thread count: requests are cut into fixed
blocks of ``BLOCK`` requests, and block b draws its classes, then the route, endpoint, fault and
mirror draws the plan can use (in that order), from its own
``Generator(PCG64(SeedSequence(entropy, spawn_key=(..., b))))``, which is the b-th child
``SeedSequence.spawn`` would give; each varying traffic column comes from a child of that one
keyed by the column's name (``block_traffic``). Only the columns some route table reads are
drawn (``Program.reads``), and which ones are drawn changes no other column's values: a seed is
the same traffic whatever the plan reads. A chunk is a run of whole blocks, routed block by
block; chunks run on a thread pool and their integer counts are summed. numpy releases the GIL
in the random generators, gathers and ufuncs, but not in all of ``np.bincount`` nor in the
per-block Python, and two busy cores of this kind of machine slow each other down; see
``benchmarks/bench_threads.py`` for what a second core gives.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from .batch import Column, RequestBatch
from .engine.analytic import factored_leaf_distribution, leaf_distribution
from .engine.cors import preflight_mask
from .engine.draws import SlotDraws, common_bound, seed_sequence, uniform_below
from .engine.leaf import n_pods
from .engine.program import Program
from .engine.vector import Router
from .errors import InvalidArgument
from .plan import (
    DRAW_ABORT,
    DRAW_DELAY,
    DRAW_ENDPOINT,
    DRAW_MIRROR0,
    DRAW_ROUTE,
    PER_MILLION,
    Forward,
)
from .results import PerRequest, SimulationResult, _sort_key
from .traffic import MAX_SUPPORT, Traffic, as_traffic

BLOCK = 1 << 16
DEFAULT_CHUNK = 1 << 16
MODES = ("sample", "exact", "stratified")
#: classes with at most this many distinct requests are enumerated, larger ones factored
ENUMERATE = 1 << 14
METHODS = ("auto", "counts", "vector")
#: the largest n streamed request by request (``method="vector"`` or ``keep=True``): about
#: three hours at 100 M requests/s; beyond, ``method="counts"`` answers in O(classes)
MAX_STREAMED = 10**12
#: the largest n the default (``method="auto"``) streams when a class's probabilities cannot
#: be computed (tens of seconds); beyond, it refuses up front instead of starting work for
#: hours. A consistent hash on a varying header is computed (``factored_leaf_distribution``)
MAX_AUTO_STREAMED = 10**9
#: the largest [request class, route outcome] table (8 bytes a cell)
MAX_CELLS = 1 << 27
#: chunks in flight on the thread pool at once, per thread (the rest are made as these
#: finish: memory does not grow with n)
_IN_FLIGHT = 4
#: blocks per chunk with several threads and the default chunk size
_THREAD_CHUNK_BLOCKS = 4
#: bytes per request kept with ``keep=True`` (leaf int32, class, delay flag) plus headroom
_KEEP_BYTES = 16


def _available_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 34


def simulate(
    plan: Any,
    traffic: Any,
    n: int,
    *,
    rng: Any = None,
    mode: str = "sample",
    keep: bool = False,
    method: str = "auto",
    chunk_size: int = DEFAULT_CHUNK,
    threads: int | None = None,
    router: Router | None = None,
) -> SimulationResult:
    """See ``Simulator.simulate``. ``router``: the plan's vector engine state to reuse (the
    Simulator's); None makes one for this run."""
    # -- arguments, all checked before any work --------------------------------------------------
    if isinstance(n, float) and float(n).is_integer():  # 1e6 works, as the CLI's -n 1e6 does
        n = int(n)
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        got = repr(n) if isinstance(n, float) else type(n).__name__
        raise InvalidArgument(
            f"n must be an integer (a whole float such as 1e6 is taken), got {got}"
        )
    n = int(n)
    if n < 0:
        raise InvalidArgument(f"n must be >= 0, got {n}")
    if n >= 2**62:
        raise InvalidArgument(f"n = {n} is too large (counts are 64-bit)")
    if mode not in MODES:
        raise InvalidArgument(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if method not in METHODS:
        raise InvalidArgument(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidArgument(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise InvalidArgument(f"threads must be a positive integer, got {threads!r}")
    if keep and mode != "sample":
        raise InvalidArgument(
            "keep=True needs mode='sample' (exact and stratified keep no requests)"
        )
    if keep and method == "counts":
        raise InvalidArgument("keep=True needs per-request simulation, not method='counts'")
    if keep:
        need = n * _KEEP_BYTES
        have = _available_bytes()
        if need > have // 2:
            raise InvalidArgument(
                f"keep=True for n = {n:,} needs about {need / 2**30:.1f} GiB of per-request "
                f"arrays; only {have / 2**30:.1f} GiB is available. Use keep=False (counts only)."
            )
    if n > MAX_STREAMED and (keep or method == "vector"):
        raise InvalidArgument(
            f"n = {n:,} requests routed one by one (method='vector' or keep=True) would take "
            f"hours to days; the limit is {MAX_STREAMED:.0e}. Use method='counts' (one "
            "multinomial draw per request class: same distribution, any n up to 2^62)"
        )
    t = as_traffic(traffic)
    ss, seed = seed_sequence(rng)
    if router is None:
        router = Router(plan)
    # this run's programs: the draw plan depends on them alone, never on what other runs (or
    # other threads sharing the router) registered, so a seed gives the same counts anywhere
    groups = {(c.template.host, c.template.port, c.source) for c in t.classes}
    programs = {id(p): p for p in (router.program(*g)[0] for g in groups)}
    cells = len(t.classes) * len(router.leaves)
    if cells > MAX_CELLS:  # the [class, leaf] table every mode fills
        own = sum(len(p.leaves) for p in programs.values())
        raise InvalidArgument(
            f"{len(t.classes):,} request classes by {len(router.leaves):,} route outcomes make "
            f"a {cells:,}-cell table (limit {MAX_CELLS:,}). This traffic uses {len(groups):,} "
            f"(host, port, client) route tables with {own:,} outcomes; the simulator holds "
            "those of every host and client routed so far. Each distinct client namespace, "
            "labels or gateway gets its own route table: merge classes that differ only in who "
            "sends them, simulate the groups separately, or use a fresh Simulator"
        )
    # -- work ---------------------------------------------------------------------------------------
    probs = None
    if mode != "sample" or (not keep and method != "vector"):
        try:
            probs = class_leaf_probabilities(router, t)
        except InvalidArgument as exc:
            if mode != "sample" or method == "counts":
                raise
            if n > MAX_AUTO_STREAMED:  # never start work that cannot finish
                why = str(exc).split("; use ", 1)[0]
                raise InvalidArgument(
                    f"{why}, so all n = {n:,} requests would be routed one by one (hours); "
                    f"method='auto' does that only up to n = {MAX_AUTO_STREAMED:.0e}. Give the "
                    "class fewer distinct values, use a smaller n, or pass method='vector' to "
                    f"stream anyway (up to n = {MAX_STREAMED:.0e})"
                ) from None
    if probs is None:
        return _stream(
            plan, router, t, n, ss, seed, keep, chunk_size, threads, list(programs.values())
        )
    shares = np.asarray(t.shares, np.float64)
    if mode == "exact":
        return _result(router, t, n, "exact", seed, probs, "analytic")
    if mode == "stratified":  # rows (not leaves: pods of one workload merge) within ±1
        ex = _result(router, t, n, "exact", seed, probs, "analytic")
        return SimulationResult(
            n=n,
            mode="stratified",
            seed=seed,
            classes=ex.classes,
            class_shares=ex.class_shares,
            cells=ex.cells,
            matrix=_stratify(n, shares, ex.matrix),
            method="stratified",
        )
    gen = np.random.Generator(np.random.PCG64(ss))
    per_class = gen.multinomial(n, shares)
    # one call for every class: numpy draws the rows in order from the same stream, so the
    # counts equal a loop of one multinomial per class (which cost ~10 us of Python per class)
    p = probs / probs.sum(axis=1, keepdims=True)
    counts = gen.multinomial(per_class, p).astype(np.int64, copy=False)
    return _result(router, t, n, "sample", seed, counts, "counts")


def class_leaf_probabilities(router: Router, t: Traffic) -> npt.NDArray[np.float64]:
    """[class, leaf]: the exact probability of each leaf within each class.

    A class is enumerated (each distinct request routed once, weighted by its probability)
    when it has at most ``ENUMERATE`` distinct requests; otherwise its columns are convolved
    (``factored_leaf_distribution``), which needs no enumeration, also when pods are picked
    by hashing a varying column (O(its values): millions of users hashed on a header).
    ``InvalidArgument`` when neither applies (more than ``MAX_SUPPORT`` requests in a class
    that spans several route tables, which no ``Traffic`` constructor makes).
    With more than ``_SINGLES_AT_ONCE`` enumerable classes, their supports are laid out as
    one batch (``Traffic`` generator's ``supports``) and routed together, so the cost is per
    request of the supports, not a Python round per class.
    """
    small = [c for c, cl in enumerate(t.classes) if cl.support_size <= ENUMERATE]
    out = np.zeros((len(t.classes), 0))
    done: set[int] = set()
    if len(small) > _SINGLES_AT_ONCE:  # many small classes: enumerated and routed together
        out = np.zeros((len(t.classes), len(router.leaves)))
        gen = t.generator()
        ones = [c for c in small if t.classes[c].support_size == 1]
        parts = [ones] if ones else []  # one request each: one row per class, no layout
        parts += _parts(t, [c for c in small if t.classes[c].support_size > 1])
        for part in parts:
            if part is ones:
                r = np.asarray(ones, np.intp)
                batch, w = gen.rows(r), np.ones(len(r))
            else:
                batch, r, w = gen.supports(part)
            r, leaf, p = _single_class_leaves(router, batch, r, w)
            if out.shape[1] < len(router.leaves):
                out = np.pad(out, ((0, 0), (0, len(router.leaves) - out.shape[1])))
            np.add.at(out, (r, leaf), p)
        done = set(small)
    rows: list[tuple[int, tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]]] = []
    for c, cl in enumerate(t.classes):
        if c in done:
            continue
        got = None
        if cl.support_size > ENUMERATE:
            batch, marg = t.marginals(c)
            got = factored_leaf_distribution(router, batch, marg)
        if got is None:
            if cl.support_size > MAX_SUPPORT:
                raise InvalidArgument(
                    f"class {cl.name!r} has {cl.support_size:,} distinct requests that cannot "
                    f"be factored column by column: too many to enumerate (limit "
                    f"{MAX_SUPPORT:,}); use mode='sample' with method='vector'"
                )
            batch, p = t.support(c)
            got = leaf_distribution(router, batch, p)
        rows.append((c, got))
    if out.shape[1] != len(router.leaves):
        out = np.pad(out, ((0, 0), (0, len(router.leaves) - out.shape[1])))
    for c, (ids, probs) in rows:
        out[c, ids] = probs
    return out


#: from this many enumerable classes on, they are routed together (``_single_class_leaves``)
_SINGLES_AT_ONCE = 64
#: rows of enumerated supports routed at once
_ROWS_AT_ONCE = 1 << 18


def _parts(t: Traffic, classes: list[int]) -> list[list[int]]:
    """``classes`` cut into runs of at most ``_ROWS_AT_ONCE`` support rows (at least one class
    each)."""
    out: list[list[int]] = [[]]
    rows = 0
    if not classes:
        return []
    for c in classes:
        size = t.classes[c].support_size
        if out[-1] and rows + size > _ROWS_AT_ONCE:
            out.append([])
            rows = 0
        out[-1].append(c)
        rows += size
    return out


def _single_class_leaves(
    router: Router,
    batch: RequestBatch,
    classes: npt.NDArray[np.intp],
    weights: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """(class, leaf, probability) triples of the rows of ``batch`` (row i: a request of class
    ``classes[i]`` with probability ``weights[i]`` within it), routed as one batch instead of
    one small batch per class: with 10^5-10^6 classes the per-call overhead, not the routing,
    was the cost. The same integration of draws as ``engine.analytic.leaf_distribution``, per
    row."""
    from .engine.program import hash_key_column
    from .plan import fire_probability

    out_r: list[npt.NDArray[np.intp]] = []
    out_l: list[npt.NDArray[np.intp]] = []
    out_p: list[npt.NDArray[np.float64]] = []

    def emit(r: npt.NDArray[np.intp], leaf: Any, p: Any) -> None:
        r = np.asarray(r, np.intp)
        out_r.append(r)
        out_l.append(np.broadcast_to(np.asarray(leaf, np.intp), r.shape))
        out_p.append(np.broadcast_to(np.asarray(p, np.float64), r.shape))

    def target(prog: Program, tg: Any, base: int, sub: RequestBatch, r: Any, mass: Any) -> None:
        npods = n_pods(tg)
        if npods <= 1:
            emit(r, base, mass)
            return
        if tg.lb.hash_on is not None:
            col = hash_key_column(sub, tg.lb, prog.matching.shared)
            keys = np.take(prog.router.hash_table(col.values), col.codes)
            hashed = keys >= 0
            if hashed.any():
                eps = (keys[hashed].astype(np.uint64) % np.uint64(npods)).astype(np.intp)
                emit(r[hashed], base + eps, mass[hashed])
            r, mass = r[~hashed], mass[~hashed]
        for i in range(npods):
            emit(r, base + i, mass / npods)

    for prog, off, sel in router.groups(batch):
        sub = batch if sel is None else batch.take(sel)
        r = classes if sel is None else classes[sel]
        w = weights if sel is None else weights[sel]
        base_off = off
        table = prog.table
        if table.passthrough:
            emit(r, base_off, w)
            continue
        if table.default is not None:
            n0 = len(out_l)
            target(prog, table.default, prog.default_base, sub, r, w)
            for i in range(n0, len(out_l)):
                out_l[i] = out_l[i] + base_off
            continue
        e = prog.match(sub)
        e_arr = np.full(len(sub), e, np.int16) if isinstance(e, int) else e
        n0 = len(out_l)
        for k in np.unique(e_arr).tolist():
            pick = np.flatnonzero(e_arr == k)
            rk, sk, wk = r[pick], sub.take(pick), w[pick]
            act = prog.entries[k].entry.action if k < prog.nr else None
            if not isinstance(act, Forward):
                emit(rk, prog.first[k], wk)
                continue
            re_ = prog.entries[k]
            live = np.ones(len(rk))
            if act.cors:
                pre = preflight_mask(act.cors, sk)
                if pre.any():
                    emit(rk[pre], prog.cors_leaf[k], wk[pre])
                    live = (~pre).astype(float)
            pfi = 0.0
            if act.fault is not None and act.fault.abort_status is not None:
                pfi = fire_probability(act.fault.abort_per_million)
            wt = act.weights
            fixed = np.full(len(rk), -1, np.intp)
            if sk.random_value is not None and sk.has_random is not None and sk.has_random.any():
                h = sk.has_random
                fixed[h] = wt.pick(sk.random_value[h].astype(np.uint64))
            for j, (tg, pj) in enumerate(zip(re_.targets, wt.probabilities(), strict=True)):
                share = np.where(fixed < 0, float(pj), (fixed == j).astype(float)) * live
                if pfi > 0 and (share > 0).any():
                    on = share > 0
                    emit(rk[on], prog.fi_leaf[k][j], wk[on] * share[on] * pfi)
                mass = wk * (share * (1.0 - pfi))
                nz = mass > 0
                if nz.any():
                    target(
                        prog,
                        tg,
                        int(prog.tbase[k][j]),
                        sk.take(np.flatnonzero(nz)),
                        rk[nz],
                        mass[nz],
                    )
        for i in range(n0, len(out_l)):
            out_l[i] = out_l[i] + base_off
    if not out_r:
        empty = np.zeros(0, np.intp)
        return empty, empty, np.zeros(0)
    return np.concatenate(out_r), np.concatenate(out_l), np.concatenate(out_p)


def row_leaf_probabilities(
    router: Router, batch: RequestBatch, ids: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """(ids[row], leaf, probability) triples: each row's own exact leaf distribution, all rows
    routed as one batch (the draws integrated out as in ``leaf_distribution``)."""
    return _single_class_leaves(router, batch, ids, np.ones(len(ids)))


def _largest_remainder(total: int, p: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Integers summing to ``total``, each the floor or the ceiling of ``total × p``."""
    if total == 0 or not p.size:
        return np.zeros(p.shape, np.int64)
    p = p / p.sum()
    exact = total * p
    base = np.floor(exact).astype(np.int64)
    left = int(total - base.sum())
    if left > 0:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:left]] += 1
    return base


def _stratify(
    n: int, shares: npt.NDArray[np.float64], probs: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Deterministic counts: rows first (each within ±1 of n × p), then split by class."""
    joint = shares[:, None] * probs
    cells = _largest_remainder(n, joint.sum(axis=0))
    out = np.zeros(joint.shape, np.int64)
    for k in np.flatnonzero(cells):
        out[:, k] = _largest_remainder(int(cells[k]), joint[:, k])
    return out


def _result(
    router: Router,
    t: Traffic,
    n: int,
    mode: str,
    seed: int | None,
    matrix: npt.NDArray[Any],
    method: str,
    per_request: Any = None,
) -> SimulationResult:
    """Leaves → rows (host, subset, workload, outcome, status), sorted; keep arrays remapped."""
    leaves = router.leaves
    used = np.flatnonzero(matrix.any(axis=0))
    cells = sorted({leaves[int(i)].cell() for i in used}, key=_sort_key)
    index = {cell: j for j, cell in enumerate(cells)}
    leaf_to_cell = np.zeros(max(1, len(leaves)), np.int32)
    for i in used:
        leaf_to_cell[i] = index[leaves[int(i)].cell()]
    out = np.zeros((matrix.shape[0], len(cells)), matrix.dtype)
    for i in used:
        out[:, leaf_to_cell[i]] += matrix[:, i]
    pr = None
    if per_request is not None:
        cls, leaf, di = per_request
        pods = np.empty(len(leaves), dtype=object)
        pods[:] = [lf.pod for lf in leaves]
        by_leaf = [cells[int(c)] for c in leaf_to_cell]
        tables = {
            "host": _objects([c[0] for c in by_leaf]),
            "subset": _objects([c[1] for c in by_leaf]),
            "workload": _objects([c[2] for c in by_leaf]),
            "outcome": _objects([c[3] for c in by_leaf]),
            "cell": leaf_to_cell,
            "rule": router.table("rule"),
            "status": router.table("status"),
            "delay_ms": router.table("delay_ms"),
            "pod": pods,
        }
        pr = PerRequest(cls, leaf, di, tables)
    return SimulationResult(
        n=n,
        mode=mode,
        seed=seed,
        classes=t.names,
        class_shares=t.shares,
        cells=tuple(cells),
        matrix=out,
        method=method,
        per_request=pr,
    )


# -- streaming through the vector engine ---------------------------------------------------------


def _objects(values: list[Any]) -> npt.NDArray[np.object_]:
    """A 1-d object array (``np.array`` would build a 2-d array from tuples)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def keep_freed_memory() -> bool:
    """Opt in: glibc keeps 16 MiB of freed heap instead of returning it to the OS at each chunk.

    Streaming allocates and frees a few MiB of temporaries per chunk; by default glibc gives
    them back and the next chunk page-faults them in again (performance.md §7). Measured with
    ``benchmarks/bench_engines.py`` (CPU time, one thread): workload (a) 77 → 127 M requests/s,
    (c) 16 → 21, (b) 60 → 63; peak RSS unchanged (89 MiB for 10^9 requests of (b)). It sets
    ``M_TOP_PAD`` for the whole process, so the library never calls it by itself: an
    application (a CLI, a benchmark, a notebook) does. False where glibc is not the allocator.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-2, 16 << 20))  # M_TOP_PAD
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False


def _draw_plan(programs: list[Program], keep: bool) -> list[tuple[int, int]]:
    """The draw slots the routes of ``programs`` can use randomly, with their bounds (fixed
    order)."""
    route_totals: set[int] = set()
    eps: set[int] = set()
    faults: set[int] = set()
    mirrors: set[int] = set()
    for prog in programs:
        table = prog.table
        if table.default is not None and n_pods(table.default) > 1:
            eps.add(n_pods(table.default))
        for k, re_ in enumerate(table.entries):
            act = re_.entry.action
            if not isinstance(act, Forward):
                continue
            if not isinstance(prog.picks[k], int):
                route_totals.add(act.weights.total)
            eps.update(n_pods(tt) for tt in re_.targets if n_pods(tt) > 1)
            f = act.fault
            if f is not None:
                if f.delay_ms is not None and keep and 0 < f.delay_per_million < PER_MILLION:
                    faults.add(DRAW_DELAY)
                if f.abort_status is not None and 0 < f.abort_per_million < PER_MILLION:
                    faults.add(DRAW_ABORT)
            if keep:
                for j, (_mt, pm) in enumerate(re_.mirrors):
                    if 0 < pm < PER_MILLION:
                        mirrors.add(DRAW_MIRROR0 + j)
    out: list[tuple[int, int]] = []
    if route_totals:
        out.append((DRAW_ROUTE, common_bound(route_totals)))
    if eps:
        out.append((DRAW_ENDPOINT, common_bound(eps)))
    out.extend((s, PER_MILLION) for s in sorted(faults | mirrors))
    return out


def _has_delays(programs: list[Program]) -> bool:
    """Whether any route of ``programs`` can inject a delay (then keep=True records it)."""
    for prog in programs:
        for re_ in prog.table.entries:
            act = re_.entry.action
            f = act.fault if isinstance(act, Forward) else None
            if f is not None and f.delay_ms is not None and f.delay_per_million > 0:
                return True
    return False


def _concat(batches: list[RequestBatch]) -> RequestBatch:
    if len(batches) == 1:
        return batches[0]
    n = sum(len(b) for b in batches)

    def cat(cols: list[Column]) -> Column:
        if all(c.codes.strides[0] == 0 for c in cols) and len({int(c.codes[0]) for c in cols}) == 1:
            return Column.trusted(cols[0].values, np.broadcast_to(cols[0].codes[:1], (n,)))
        return Column.trusted(cols[0].values, np.concatenate([c.codes for c in cols]))

    names = ("host", "path", "method", "authority", "scheme", "port", "source")
    first = batches[0]
    rv = has = None
    if first.random_value is not None:
        rv = np.concatenate([b.random_value for b in batches])
        has = np.concatenate([b.has_random for b in batches])
    return RequestBatch.trusted(
        n,
        {k: cat([getattr(b, k) for b in batches]) for k in names},
        {h: cat([b.headers[h] for b in batches]) for h in first.headers},
        rv,
        has,
    )


def block_traffic(
    gen: Any, ss: np.random.SeedSequence, b: int, size: int, reads: Any = None
) -> tuple[np.random.Generator, npt.NDArray[Any], RequestBatch]:
    """Block ``b`` of a streamed simulation: its generator (which drew the classes and then
    draws the route, endpoint, fault and mirror slots), the class of each request and the
    requests (``reads``: the fields drawn, None = all). Each varying column comes from its
    own child of the block's SeedSequence keyed by the column's name, so a column's values do
    not depend on which other columns are drawn: a seed is the same traffic whatever the plan
    reads."""
    entropy, key = ss.entropy, (*ss.spawn_key, b)
    g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=key)))

    def stream(name: str) -> np.random.Generator:
        # the name's UTF-8 bytes as one integer: distinct names, distinct streams
        sub = (*key, int.from_bytes(name.encode(), "big"))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=sub)))

    cls, batch = gen.sample(size, g, streams=stream, reads=reads)
    return g, cls, batch


def _stream(
    plan: Any,
    router: Router,
    t: Traffic,
    n: int,
    ss: np.random.SeedSequence,
    seed: int | None,
    keep: bool,
    chunk_size: int,
    threads: int | None,
    programs: list[Program],
) -> SimulationResult:
    slots = _draw_plan(programs, keep)
    bounds = dict(slots)
    # leaf ids only grow: this run's leaves are all below the count now, whatever other threads
    # sharing the router register meanwhile
    n_leaves = len(router.leaves)
    k = len(t.classes)
    n_blocks = -(-n // BLOCK)
    per_chunk = max(1, -(-chunk_size // BLOCK))
    workers = min(threads or os.cpu_count() or 1, 256)
    if workers > 1 and chunk_size == DEFAULT_CHUNK:
        # threads: fewer, larger tasks (the per-task Python holds the GIL); blocks, not
        # chunks, are the unit of seeding, so the counts are the same
        per_chunk = max(1, min(_THREAD_CHUNK_BLOCKS, n_blocks // workers))
    chunks = ((b, min(b + per_chunk, n_blocks)) for b in range(0, n_blocks, per_chunk))
    gen = t.generator()
    cls_all = leaf_all = di_all = None
    if keep:
        cls_all = np.zeros(n, np.uint8 if k <= 256 else np.uint16 if k <= 65536 else np.int32)
        leaf_all = np.zeros(n, np.int32)
        if _has_delays(programs):
            di_all = np.zeros(n, bool)
    # only the columns some route table reads are drawn; each from its own stream, so the
    # traffic of a seed is the same whatever the plan reads
    reads = frozenset().union(*(p.reads() for p in programs))

    def run(chunk: tuple[int, int]) -> npt.NDArray[np.int64]:
        b0, b1 = chunk
        clss, leaves = [], []
        for b in range(b0, b1):  # block by block: each block's arrays stay in cache
            size = min(BLOCK, n - b * BLOCK)
            g, cls, batch = block_traffic(gen, ss, b, size, reads)
            draws = SlotDraws({s: uniform_below(g, bound, size) for s, bound in slots}, bounds)
            leaf, di, _ = router.run(batch, draws, want_di=di_all is not None)
            if keep:
                lo = b * BLOCK
                assert cls_all is not None and leaf_all is not None
                cls_all[lo : lo + size] = cls
                leaf_all[lo : lo + size] = leaf
                if di_all is not None and di is not None:
                    di_all[lo : lo + size] = di
            clss.append(cls)
            leaves.append(leaf)
        cls = clss[0] if len(clss) == 1 else np.concatenate(clss)
        leaf = leaves[0] if len(leaves) == 1 else np.concatenate(leaves)
        if k == 1:
            # intp input: bincount (which holds the GIL for part of its work) needs no cast of its own
            return np.bincount(leaf.astype(np.intp), minlength=n_leaves).reshape(1, n_leaves)
        joint = np.multiply(cls, n_leaves, dtype=np.intp)
        joint += leaf
        return np.bincount(joint, minlength=k * n_leaves).reshape(k, n_leaves)

    total = np.zeros((k, n_leaves), np.int64)
    if workers == 1 or n_blocks <= per_chunk:
        for ch in chunks:
            total += run(ch)
    else:  # a bounded window of chunks in flight: memory does not grow with n
        with ThreadPoolExecutor(max_workers=workers) as pool:
            window: deque[Future[npt.NDArray[np.int64]]] = deque()
            for ch in chunks:
                window.append(pool.submit(run, ch))
                if len(window) >= workers * _IN_FLIGHT:
                    total += window.popleft().result()
            while window:
                total += window.popleft().result()
    pr = (cls_all, leaf_all, di_all) if keep else None
    return _result(router, t, n, "sample", seed, total, "vector", pr)
