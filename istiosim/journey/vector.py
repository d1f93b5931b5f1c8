"""Many page views at once: the call graph walked hop by hop over arrays of page views.

All page views that send the same request from the same pod (same headers: the application
propagates the same incoming ones) share its routing distribution: ``run.route_branches`` gives
it exactly (weighted destinations × pods' workloads × fault percentages), each view draws its
branch with one ``Generator.choice``; each branch's ``Decision`` is computed once. Latencies,
errors, retries, backoffs and timeouts are numpy arithmetic on the views of a branch. Which hops
a view used is an integer per view naming an interned sequence of hops (two sequences
concatenate through one ``np.unique`` over the pairs), so the Python work is per distinct hop
sequence, not per page view. Streams: routing, latencies and the rest (errors, backoffs) come
from three Generators spawned from one ``SeedSequence``.

Same semantics as ``run.PageRunner`` (the reference, one view at a time); the tests compare the
two on the same models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..engine.scalar import route
from ..errors import InvalidArgument
from ..plan import DRAW_ENDPOINT
from ..request import Request
from ..results import Decision, Outcome
from .model import CallSpec
from .run import (
    MAX_DEPTH,
    PageRunner,
    RetryPolicy,
    _ms,
    _target,
    call_request,
    retry_endpoints,
    route_branches,
)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: a used hop: (workload, app, version, status the caller saw)
HopInfo = tuple[str | None, str | None, str | None, int]


class VectorRun:
    """Page views of one runner's plan and model, ``n`` at a time."""

    def __init__(self, runner: PageRunner, seed: np.random.SeedSequence) -> None:
        self.r = runner
        route_s, lat_s, other_s = seed.spawn(3)
        self.route_rng = np.random.default_rng(route_s)
        self.lat_rng = np.random.default_rng(lat_s)
        self.rng = np.random.default_rng(other_s)
        self.seqs: list[tuple[HopInfo, ...]] = [()]
        self._seq_index: dict[tuple[HopInfo, ...], int] = {(): 0}
        self.idents: list[tuple[str | None, str | None, str | None]] = []
        self._ident_index: dict[tuple[str | None, str | None, str | None], int] = {}
        self._branches: dict[Any, tuple[list[Decision], F64]] = {}
        self._retry: dict[Any, tuple[list[Decision], F64]] = {}
        self._tried: list[tuple[str, ...]] = []
        self._tried_index: dict[tuple[str, ...], int] = {}

    # -- interning -----------------------------------------------------------------------------

    def _seq(self, s: tuple[HopInfo, ...]) -> int:
        got = self._seq_index.get(s)
        if got is None:
            got = self._seq_index[s] = len(self.seqs)
            self.seqs.append(s)
        return got

    def _tried_code(self, tried: tuple[str, ...]) -> int:
        got = self._tried_index.get(tried)
        if got is None:
            got = self._tried_index[tried] = len(self._tried)
            self._tried.append(tried)
        return got

    def _ident(self, i: tuple[str | None, str | None, str | None]) -> int:
        got = self._ident_index.get(i)
        if got is None:
            got = self._ident_index[i] = len(self.idents)
            self.idents.append(i)
        return got

    def concat(self, a: I64, b: I64) -> I64:
        """The sequences ``a[i] + b[i]``, interned."""
        if len(a) == 0 or not b.any():
            return a
        if not a.any():
            return b
        seqs = self.seqs
        lo, hi = int(a.min()), int(a.max())
        if lo == hi:  # one prefix (a branch's hop): intern over the suffixes only
            head = seqs[lo]
            return self._intern_pairs(b, len(seqs), lambda x: head + seqs[x])
        m = len(seqs) + 1
        return self._intern_pairs(a * np.int64(m) + b, m * m, lambda x: seqs[x // m] + seqs[x % m])

    def hop(self, ident: I64, seen: I64) -> I64:
        """One-hop sequences (identity, status seen)."""
        if len(ident) == 0:
            return np.zeros(0, dtype=np.int64)
        m = len(self.idents) * 1000
        return self._intern_pairs(
            ident * np.int64(1000) + seen, m, lambda x: ((*self.idents[x // 1000], x % 1000),)
        )

    def _intern_pairs(self, key: I64, size: int, make: Any) -> I64:
        """Codes of ``make(k)`` for each key: one code when the key is uniform (the common case:
        every view of a branch took the same hops), O(n) through a table over ``[min, max]``
        when that range is small, else ``np.unique``."""
        if len(key) == 0:
            return key
        lo, hi = int(key.min()), int(key.max())
        if lo == hi:
            return np.full(len(key), self._seq(make(lo)), dtype=np.int64)
        span = hi - lo + 1
        if span <= 1 << 22:
            k = key - lo
            seen = np.zeros(span, dtype=bool)
            seen[k] = True
            u = np.flatnonzero(seen)
            table = np.zeros(span, dtype=np.int64)
            table[u] = [self._seq(make(int(x) + lo)) for x in u]
            out: I64 = table[k]
            return out
        uu, inv = np.unique(key, return_inverse=True)
        codes = np.asarray([self._seq(make(int(x))) for x in uu], dtype=np.int64)
        res: I64 = codes[inv.reshape(-1)]
        return res

    # -- the page view ---------------------------------------------------------------------------

    def entry(self, req: Request, n: int) -> tuple[I64, F64, I64]:
        """``n`` page views of ``req``: (entry status, latency, used-hop sequence) per view."""
        st, took, ident, sub = self.request(req, n, 0)
        return st, took, self.concat(self.hop(ident, st), sub)

    def _routing(self, req: Request) -> tuple[list[Decision], F64]:
        key = _key(req)
        got = self._branches.get(key)
        if got is None:
            plan, cache = self.r.plan, self.r.cache
            br = route_branches(plan, cache, req)
            ds = [route(plan, req, d, cache=cache) for d, _ in br]
            p = np.asarray([q for _, q in br], dtype=float)
            got = self._branches[key] = (ds, p / p.sum())
        return got

    def _retry_routing(
        self, req: Request, d: Decision, tried: tuple[str, ...]
    ) -> tuple[list[Decision], F64]:
        """A retry's decisions and their probabilities after tries on ``tried`` (workloads,
        sorted; empty: nothing to avoid)."""
        key = (_key(req), d.destination, d.draws[:DRAW_ENDPOINT] if d.draws else (), tried)
        got = self._retry.get(key)
        if got is None:
            plan, cache = self.r.plan, self.r.cache
            t = _target(plan, cache, req, d)
            opts = retry_endpoints(t, tried, req) if t is not None else [(0, 1.0)]
            base = list(d.draws) if d.draws else [0] * max(plan.n_draws, DRAW_ENDPOINT + 1)
            ds = []
            for j, _ in opts:
                base[DRAW_ENDPOINT] = j
                ds.append(route(plan, req, tuple(base), cache=cache))
            p = np.asarray([q for _, q in opts], dtype=float)
            got = self._retry[key] = (ds, p / p.sum())
        return got

    def _pick(self, ds: list[Decision], p: F64, m: int) -> I64:
        """``Generator.choice(len(ds), m, p=p)`` as numpy computes it (the cdf, one uniform per
        view, ``searchsorted(side='right')``): the same draws, without its checks and copies."""
        if len(ds) == 1:
            return np.zeros(m, dtype=np.int64)
        cdf = p.cumsum()
        cdf /= cdf[-1]
        u = self.route_rng.random(m)
        if len(ds) == 2:
            out: I64 = (u >= cdf[0]).view(np.int8).astype(np.int64)
            return out
        res: I64 = cdf.searchsorted(u, side="right").astype(np.int64, copy=False)
        return res

    def request(self, req: Request, m: int, depth: int) -> tuple[I64, F64, I64, I64]:
        """``m`` sends of ``req`` through the caller's proxy: (status at the proxy, time,
        identity of the pod of the last try, used hops below it)."""
        if depth > MAX_DEPTH:
            raise InvalidArgument(f"a page view went {MAX_DEPTH} calls deep: is there a cycle?")
        ds, p = self._routing(req)
        if len(ds) == 1:
            return self._one_route(req, ds[0], m, depth)
        pick = self._pick(ds, p, m)
        status = np.empty(m, dtype=np.int64)
        took = np.empty(m, dtype=float)
        ident = np.empty(m, dtype=np.int64)
        sub = np.empty(m, dtype=np.int64)
        for b in np.flatnonzero(np.bincount(pick, minlength=len(ds))):
            sel = np.flatnonzero(pick == b)
            d = ds[int(b)]
            out = self._one_route(req, d, len(sel), depth)
            status[sel], took[sel], ident[sel], sub[sel] = out
        return status, took, ident, sub

    def _one_route(
        self, req: Request, d: Decision, m: int, depth: int
    ) -> tuple[I64, F64, I64, I64]:
        delay = float(d.delay_ms or 0)
        if d.outcome is not Outcome.OK or d.workload is None:
            short = req.host.split(".")[0]
            app = short if short in self.r.app.workloads else None
            i = self._ident((None, app, None))
            return (
                np.full(m, d.status, dtype=np.int64),
                np.full(m, delay),
                np.full(m, i, dtype=np.int64),
                np.zeros(m, dtype=np.int64),
            )
        policy: RetryPolicy = self.r._policy(d)
        timeout = _ms(d.timeout)
        per = policy.per_try_ms
        # the first try: every view, d's pod; the arrays _serve returns are ours to update
        t, status, sub, ident = self._serve(d, req, 1, m, depth)
        reset = _cut(t, status, per)
        over = _cut(t, status, timeout)
        if policy.retries < 1 or not _can_retry(policy):
            if delay:
                t += delay
            return status, t, ident, sub
        retry = _retriable(policy, status, reset)
        if over is not None:
            retry &= ~over
        active = np.flatnonzero(retry)
        if len(active) and not ident.flags.writeable:
            ident = ident.copy()
        # per active view, the workloads its tries reached (an interned sorted tuple): the
        # previous_hosts predicate steers each retry away from them
        avoid = policy.avoid_previous
        tried = np.full(len(active), self._tried_code((d.workload or "",) if avoid else ()))
        k = 1
        while len(active):
            span = int((2**k - 1) * policy.backoff_ms)
            wait = (
                np.minimum(self.rng.integers(0, span, len(active)), 10 * policy.backoff_ms)
                if span > 0
                else np.zeros(len(active))
            )
            if timeout is not None:
                late = t[active] + wait >= timeout
                status[active[late]] = 504
                t[active[late]] = timeout
                active, wait, tried = active[~late], wait[~late], tried[~late]
            t[active] += wait
            if not len(active):
                break
            k += 1
            n_a = len(active)
            st = np.empty(n_a, dtype=np.int64)
            tk = np.empty(n_a, dtype=float)
            sb = np.empty(n_a, dtype=np.int64)
            idt = np.empty(n_a, dtype=np.int64)
            lo, hi = int(tried.min()), int(tried.max())
            for c in range(lo, hi + 1):
                g: Any = slice(None) if lo == hi else np.flatnonzero(tried == c)
                size = n_a if lo == hi else len(g)
                if not size:
                    continue
                before = self._tried[c]
                choice, p = self._retry_routing(req, d, before)
                which = self._pick(choice, p, size)
                for w in np.flatnonzero(np.bincount(which, minlength=len(choice))):
                    dd = choice[int(w)]
                    s = (
                        g
                        if len(choice) == 1
                        else (np.flatnonzero(which == w) if lo == hi else g[which == w])
                    )
                    m_s = size if len(choice) == 1 else len(s)
                    tk[s], st[s], sb[s], idt[s] = self._serve(dd, req, k, m_s, depth)
                    if avoid:
                        tried[s] = self._tried_code(tuple(sorted((*before, dd.workload or ""))))
            reset = _cut(tk, st, per)
            cut = np.zeros(n_a, dtype=bool)
            if timeout is not None:
                cut = t[active] + tk > timeout
                tk[cut] = timeout - t[active][cut]
                st[cut] = 504
            t[active] += tk
            status[active], ident[active], sub[active] = st, idt, sb
            if k > policy.retries:
                break
            keep = _retriable(policy, st, reset) & ~cut
            active, tried = active[keep], tried[keep]
        if delay:
            t += delay
        return status, t, ident, sub

    def _serve(
        self, d: Decision, req: Request, k: int, m: int, depth: int
    ) -> tuple[F64, I64, I64, I64]:
        """``m`` requests served by ``d``'s pod: (time, status, used hops below, identity),
        fresh arrays the caller may update in place."""
        app, version, labels = self.r._pod(d)
        # one pod for all m: a read-only zero-stride view (callers that scatter into it copy)
        ident: I64 = np.broadcast_to(np.int64(self._ident((d.workload, app, version))), (m,))
        beh = self.r.app.behaviour(app, version)
        status = np.full(m, 200, dtype=np.int64)
        sub = np.zeros(m, dtype=np.int64)
        if beh is None:
            return np.zeros(m), status, sub, ident
        took = beh.latency.sample_many(self.lat_rng, m).astype(float, copy=False)
        if not took.flags.writeable:
            took = took.copy()
        alive: npt.NDArray[np.bool_] | None = None  # None: every view still working
        if beh.error_rate > 0:
            err = self.rng.random(m) < beh.error_rate
            status[err] = beh.error_status
            alive = ~err
        incoming = dict(d.request_headers if d.request_headers is not None else req.headers)
        incoming["x-envoy-attempt-count"] = str(k)
        ns = self.r._namespace(d)
        for call in beh.calls:
            if not call.made_by(version):
                continue
            idx: Any = slice(None) if alive is None else np.flatnonzero(alive)
            size = m if alive is None else len(idx)
            if not size:
                break
            seen, spent, code = self._call(
                call, d.workload or "", labels, ns, incoming, size, depth
            )
            if alive is None:
                took += spent
                sub = self.concat(sub, code)
            else:
                took[idx] += spent
                sub[idx] = self.concat(sub[idx], code)
            if call.required:
                bad = (seen < 200) | (seen >= 300)
                if not bad.any():
                    continue
                where = np.flatnonzero(bad) if alive is None else idx[bad]
                status[where] = np.where(seen[bad] == 0, 500, seen[bad])
                if alive is None:
                    alive = np.ones(m, dtype=bool)
                alive[where] = False
        return took, status, sub, ident

    def _call(
        self,
        call: CallSpec,
        workload: str,
        labels: dict[str, str],
        ns: str,
        incoming: dict[str, str],
        m: int,
        depth: int,
    ) -> tuple[I64, F64, I64]:
        req = call_request(call, workload, labels, ns, incoming)
        seen, spent, ident, sb = self.request(req, m, depth + 1)
        if call.timeout_ms is not None:
            gave = spent > call.timeout_ms
            if gave.any():
                spent[gave] = call.timeout_ms
                seen[gave] = 0
        code = self.concat(self.hop(ident, seen), sb)
        if call.attempts > 1:
            active = np.flatnonzero((seen < 200) | (seen >= 300))
            for _ in range(1, call.attempts):
                if not len(active):
                    break
                st, tk, idt, sb = self.request(req, len(active), depth + 1)
                if call.timeout_ms is not None:
                    gave = tk > call.timeout_ms
                    tk[gave] = call.timeout_ms
                    st[gave] = 0
                spent[active] += tk
                seen[active] = st
                code[active] = self.concat(self.hop(idt, st), sb)
                active = active[(st < 200) | (st >= 300)]
        return seen, spent, code


def _cut(t: F64, st: I64, limit: float | None) -> npt.NDArray[np.bool_] | None:
    """Tries longer than ``limit`` end at it with a 504 (in place); which ones (None: no limit)."""
    if limit is None:
        return None
    cut = t > limit
    if cut.any():
        t[cut] = limit
        st[cut] = 504
    return cut


def _can_retry(p: RetryPolicy) -> bool:
    """Whether any status or reset a page view meets can be retried under ``p``."""
    return bool(
        p.on & {"5xx", "gateway-error", "reset", "retriable-4xx"}
        or ("retriable-status-codes" in p.on and p.codes)
    )


def _retriable(
    p: RetryPolicy, st: I64, reset: npt.NDArray[np.bool_] | None
) -> npt.NDArray[np.bool_]:
    out = np.zeros(len(st), dtype=bool)
    if reset is not None and p.on & {"5xx", "gateway-error", "reset"}:
        out |= reset
    if "5xx" in p.on:
        out |= (st >= 500) & (st < 600)
    if "gateway-error" in p.on:
        out |= np.isin(st, (502, 503, 504))
    if "retriable-4xx" in p.on:
        out |= st == 409
    if "retriable-status-codes" in p.on and p.codes:
        out |= np.isin(st, sorted(p.codes))
    return out


def _key(req: Request) -> Any:
    return (
        req.host,
        req.port,
        req.path,
        req.method,
        tuple(sorted(req.headers.items())),
        req.namespace,
        req.source_workload,
        tuple(sorted(dict(req.source_labels or {}).items())),
    )


__all__ = ["VectorRun"]
