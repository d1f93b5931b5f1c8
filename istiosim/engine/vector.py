"""The vector engine: a whole ``RequestBatch`` through the plan, with numpy.

It uses the plan's own objects, exactly as the scalar engine does: ``RoutePlan.table`` once per
(host, port, client) group, ``Matcher.test`` once per unique column value (the answer is
broadcast to the rows with ``np.take``), ``WeightTable.pick`` (tabulated over ``draw % total``),
``Target.endpoint_indexes`` and the ``PER_MILLION`` comparisons of faults and mirrors.

Every request ends in a *leaf*: one terminal state of one route table (passthrough, default
route to a pod, no route, redirect, direct response, fault abort, or a target's pod). The engine
returns a leaf id per request (plus the delay flag and the mirror bits when asked); everything
else (rule, status, destination, workload, rewritten path...) is a lookup or, for
``BatchDecision[i]``, rebuilt exactly as the scalar engine builds its ``Decision``.

Draws are given per slot (``DRAW_ROUTE``, ``DRAW_ENDPOINT``, ...): a ``(n, k)`` uint64 array
(row i is what the scalar engine takes for request i; slots past ``k`` count as 0, as in the
scalar engine), a sequence of per-slot arrays (None = zeros), or a ``SlotDraws``, which also
says when a slot's values are known to lie below a bound (so ``draw % total`` can be skipped).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..plan import (
    DRAW_ABORT,
    DRAW_DELAY,
    DRAW_ENDPOINT,
    DRAW_MIRROR0,
    DRAW_ROUTE,
    PER_MILLION,
    DirectResponse,
    Forward,
    Matcher,
    Redirect,
    ResolvedEntry,
    RoutePlan,
    RouteTable,
    Target,
    stable_hash,
)
from ..request import Column, Request, RequestBatch
from ..results import BatchDecision, Decision, Outcome
from ._leaf import DEFAULT, DIRECT, FI, NR, PASS, REDIRECT, TARGET, Leaf, leaf_decision
from .scalar import cookie

IntArray = npt.NDArray[np.int64]
Leaves = npt.NDArray[np.int32]


_FIRST16 = np.full(1 << 16, -1, np.int8)
for _b in range(16):
    _FIRST16[(np.arange(1 << 16) & ((1 << (_b + 1)) - 1)) == (1 << _b)] = _b
_FIRST16_HIGH = np.where(_FIRST16 >= 0, _FIRST16 + 16, -1).astype(np.int8)
_LOW = 0 if np.little_endian else 1
_SMALL_PICK = 1 << 16
#: rows routed at once: temporaries stay in cache and memory stays bounded
_RUN_CHUNK = 1 << 16


class SlotDraws:
    """Draws by slot: ``arrays[s]`` (None = all zero) and optional exclusive upper ``bounds``."""

    __slots__ = ("arrays", "bounds")

    def __init__(
        self,
        arrays: Mapping[int, npt.NDArray[Any] | None] | Sequence[npt.NDArray[Any] | None],
        bounds: Mapping[int, int] | None = None,
    ) -> None:
        self.arrays: dict[int, npt.NDArray[Any] | None] = (
            dict(arrays) if isinstance(arrays, Mapping) else dict(enumerate(arrays))
        )
        self.bounds = dict(bounds or {})

    @classmethod
    def of(cls, draws: Any, n: int) -> SlotDraws:
        if isinstance(draws, SlotDraws):
            out = draws
        elif draws is None:
            out = cls({})
        elif isinstance(draws, np.ndarray):
            if draws.ndim != 2 or draws.shape[0] != n:
                raise _bad(f"draws must have shape (n, k) with n = {n}, got {draws.shape}")
            if draws.dtype.kind not in "ui":
                raise _bad("draws must be unsigned integers")
            out = cls({s: draws[:, s] for s in range(draws.shape[1])})
        elif isinstance(draws, Sequence | Mapping):
            out = cls(draws)
        else:
            raise _bad(f"draws must be an array or per-slot arrays, not {type(draws).__name__}")
        for s, a in out.arrays.items():
            if a is not None and (a.shape != (n,) or a.dtype.kind not in "ui"):
                raise _bad(f"draw slot {s} must be {n} unsigned integers")
        return out

    def get(self, slot: int, sel: npt.NDArray[np.intp] | None) -> npt.NDArray[Any] | None:
        a = self.arrays.get(slot)
        if a is None:
            return None
        return a if sel is None else a[sel]

    def take(self, idx: npt.NDArray[np.intp]) -> SlotDraws:
        return SlotDraws(
            {s: (None if a is None else a[idx]) for s, a in self.arrays.items()}, self.bounds
        )

    def slice(self, lo: int, hi: int) -> SlotDraws:
        return SlotDraws(
            {s: (None if a is None else a[lo:hi]) for s, a in self.arrays.items()}, self.bounds
        )

    def row(self, i: int, k: int) -> list[int]:
        """Request i's draws as the scalar engine takes them."""
        out = []
        for s in range(k):
            a = self.arrays.get(s)
            out.append(0 if a is None else int(a[i]))
        return out


def _bad(msg: str) -> Exception:
    from ..errors import InvalidArgument

    return InvalidArgument(msg)


class Program:
    """One route table compiled for batches: its leaves and per-entry lookup tables."""

    def __init__(self, router: Router, key: tuple[Any, ...], table: RouteTable) -> None:
        self.router = router
        self.key = key
        self.table = table
        self.entries = table.entries
        self.nr = len(self.entries)
        self.leaves: list[Leaf] = []
        self.first: list[int] = []  # local leaf of each entry's first state (NR last)
        self.fi_leaf: dict[int, int] = {}
        self.tbase: dict[int, npt.NDArray[np.int32]] = {}
        self.picks: dict[int, int | npt.NDArray[np.intp]] = {}
        self.det: npt.NDArray[np.int32]
        self._fused_cache: dict[Any, Any] = {}
        self._plans: dict[Any, Any] = {}
        if table.passthrough:
            self._add(Leaf(self, PASS))
            self.det = np.zeros(1, np.int32)
            return
        if table.default is not None:
            self.default_base = len(self.leaves)
            for ep in range(max(1, _n_eps(table.default))):
                self._add(Leaf(self, DEFAULT, -1, 0, ep if _n_eps(table.default) else -1))
            self.det = np.array([-1 if _n_eps(table.default) > 1 else 0], np.int32)
            return
        det = []
        for k, re_ in enumerate(self.entries):
            act = re_.entry.action
            self.first.append(len(self.leaves))
            if isinstance(act, Redirect):
                det.append(self._add(Leaf(self, REDIRECT, k)))
                continue
            if isinstance(act, DirectResponse):
                det.append(self._add(Leaf(self, DIRECT, k)))
                continue
            assert isinstance(act, Forward)
            fault = act.fault
            if fault is not None and fault.abort_status is not None:
                self.fi_leaf[k] = self._add(Leaf(self, FI, k))
            bases = []
            for j, t in enumerate(re_.targets):
                bases.append(len(self.leaves))
                for ep in range(max(1, _n_eps(t))):
                    self._add(Leaf(self, TARGET, k, j, ep if _n_eps(t) else -1))
            self.tbase[k] = np.asarray(bases, np.int32)
            self.picks[k] = _pick_table(act)
            det.append(self._deterministic(k, re_, act))
        self.first.append(len(self.leaves))
        det.append(self._add(Leaf(self, NR)))
        self.det = np.asarray(det, np.int32)

    def _add(self, leaf: Leaf) -> int:
        self.leaves.append(leaf)
        return len(self.leaves) - 1

    def _deterministic(self, k: int, re_: ResolvedEntry, act: Forward) -> int:
        """The entry's leaf when no draw can change it, else -1."""
        fault = act.fault
        if fault is not None and fault.abort_status is not None:
            if fault.abort_per_million >= PER_MILLION:
                return self.fi_leaf[k]
            if fault.abort_per_million > 0:
                return -1
        pick = self.picks[k]
        if not isinstance(pick, int):
            return -1
        t = re_.targets[pick]
        if _n_eps(t) > 1:
            return -1
        return int(self.tbase[k][pick])

    # -- matching -----------------------------------------------------------------------------

    def _truth(self, m: Matcher, values: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        cache = self.router._truth
        key = (id(m), id(values))
        hit = cache.get(key)
        if hit is None or hit[0] is not values:
            tab = np.fromiter((m.test(v) for v in values), bool, len(values))
            hit = (values, tab, m)
            if len(cache) > 4096:
                cache.clear()
            cache[key] = hit
        out: npt.NDArray[np.bool_] = hit[1]
        return out

    def match(self, batch: RequestBatch) -> int | npt.NDArray[np.int16]:
        """First matching entry per request (``self.nr`` = none), predicates per unique value."""
        plan = self._match_plan(batch)
        if plan[0] == "const":
            return int(plan[1])
        if plan[0] == "single":
            out: npt.NDArray[np.int16] = np.take(plan[1], batch.attribute(plan[2]).codes)
            return out
        fallback, blocks = plan[1], plan[2]
        e = np.full(len(batch), -1, np.int16)
        for bi, (blockmap, tabs) in enumerate(blocks):
            bits: npt.NDArray[np.uint32] | None = None
            for key, tab32 in tabs:
                got = np.take(tab32, batch.attribute(key).codes)
                bits = got if bits is None else np.bitwise_and(bits, got, out=bits)
            assert bits is not None
            # first set bit of 32: the low half's, else 16 + the high half's (-1: none)
            halves = bits.view(np.uint16).reshape(-1, 2)
            lo = np.take(_FIRST16, halves[:, _LOW])
            hi = np.take(_FIRST16_HIGH, halves[:, 1 - _LOW])
            first = np.where(lo >= 0, lo, hi)
            local = np.take(blockmap, first.astype(np.intp))
            if bi == 0:
                e = local
            else:
                np.copyto(e, local, where=e < 0)
        e[e < 0] = fallback
        return e

    def _match_plan(self, batch: RequestBatch) -> tuple[Any, ...]:
        """The match compiled for this batch's value tables (cached by their identity).

        ``("const", e)``, ``("single", table value → entry, key)`` when one column varies, or
        ``("bits", fallback, blocks)``: per block of 16 entries, per column a table value →
        bitmask of the entries whose conditions on that column hold; the first set bit of the
        AND over columns is the entry (performance.md's per-column rule-bitmask tables).
        """
        n = len(batch)
        if not self.entries:
            return ("const", self.nr)
        sig = []
        cols = []
        for re_ in self.entries:
            for m in re_.entry.matchers:
                col = batch.attribute(m.key)
                const = col.is_constant or n == 0
                sig.append((id(col.values), const, int(col.codes[0]) if const and n else -1))
                cols.append(col)
        key = tuple(sig)
        hit = self._plans.get(key)
        if hit is not None and all(v is c.values for v, c in zip(hit[1], cols, strict=True)):
            return hit[0]  # type: ignore[no-any-return]
        plan = self._compile_match(batch, n)
        if len(self._plans) > 256:
            self._plans.clear()
        self._plans[key] = (plan, [c.values for c in cols])
        return plan

    def _compile_match(self, batch: RequestBatch, n: int) -> tuple[Any, ...]:
        alive: list[int] = []
        conds: dict[int, list[tuple[int, npt.NDArray[np.bool_]]]] = {}
        key_of: dict[int, str] = {}
        fallback = self.nr
        for k, re_ in enumerate(self.entries):
            ok = True
            mine: list[tuple[int, npt.NDArray[np.bool_]]] = []
            for m in re_.entry.matchers:
                col = batch.attribute(m.key)
                tab = self._truth(m, col.values)
                if col.is_constant or n == 0:
                    if n and not tab[int(col.codes[0])]:
                        ok = False
                        break
                else:
                    cid = id(col.codes)
                    key_of.setdefault(cid, m.key)
                    mine.append((cid, tab))
            if not ok:
                continue
            if not mine:
                fallback = k
                break
            alive.append(k)
            for cid, tab in mine:
                conds.setdefault(cid, []).append((k, tab))
        if not alive:
            return ("const", fallback)

        def holds(k: int, cid: int) -> npt.NDArray[np.bool_]:
            lst = conds[cid]
            ok_k = np.ones(len(lst[0][1]), bool)
            for kk, tab in lst:
                if kk == k:
                    ok_k &= tab
            return ok_k

        if len(conds) == 1:
            ((cid, lst),) = conds.items()
            etab = np.full(len(lst[0][1]), -1, np.int16)
            for k in alive:
                etab[(etab < 0) & holds(k, cid)] = k
            etab[etab < 0] = fallback
            return ("single", etab, key_of[cid])
        blocks = []
        for b0 in range(0, len(alive), 32):
            block = alive[b0 : b0 + 32]
            tabs = []
            for cid, lst in conds.items():
                if not any(kk in block for kk, _ in lst):
                    continue  # no entry of this block looks at this column
                tab32 = np.zeros(len(lst[0][1]), np.uint32)
                for j, k in enumerate(block):
                    tab32 |= holds(k, cid).astype(np.uint32) << np.uint32(j)
                tabs.append((key_of[cid], tab32))
            blockmap = np.full(33, -1, np.int16)  # index -1 (no bit set) is the last slot
            blockmap[: len(block)] = block
            blocks.append((blockmap, tabs))
        return ("bits", fallback, blocks)

    # -- draws ---------------------------------------------------------------------------------

    def run(
        self,
        batch: RequestBatch,
        draws: SlotDraws,
        di: npt.NDArray[np.bool_] | None,
        mirrors: IntArray | None,
    ) -> Leaves:
        """Local leaf per request; fills ``di`` and ``mirrors`` (per-request outputs) if given."""
        n = len(batch)
        if self.table.passthrough:
            return np.zeros(n, np.int32)
        if self.table.default is not None:
            t = self.table.default
            if _n_eps(t) <= 1:
                return np.full(n, self.default_base, np.int32)
            ep = self._endpoints(t, batch, None, n, draws)
            return (ep + self.default_base).astype(np.int32)
        fused = self._fused(batch, draws, di, mirrors)
        if fused is not None:
            plan = self._match_plan(batch)
            if plan[0] == "single" and len(plan[1]) * fused[1] * fused[2] <= 1 << 20:
                return self._run_fused_single(fused, plan, batch, draws)
            return self._run_fused(fused, self.match(batch), draws, n)
        e = self.match(batch)
        if isinstance(e, int):
            got = self._entry(e, batch, None, n, draws, di, mirrors)
            return np.full(n, got, np.int32) if isinstance(got, int) else got.astype(np.int32)
        leaf = np.take(self.det, e)
        for k in range(self.nr):
            if self.det[k] >= 0 and not self._has_side_outputs(k, di, mirrors):
                continue
            sel = np.flatnonzero(e == k)
            if sel.size:
                leaf[sel] = self._entry(k, batch, sel, sel.size, draws, di, mirrors)
        return leaf

    def _fused(
        self,
        batch: RequestBatch,
        draws: SlotDraws,
        di: npt.NDArray[np.bool_] | None,
        mirrors: IntArray | None,
    ) -> tuple[npt.NDArray[np.int32], int, int] | None:
        """One table leaf[entry, route draw, endpoint draw] when nothing else is random.

        Possible when the draws are known to lie below small bounds, no fault or mirror is
        random (or wanted), no pod is picked by hash and no request fixes its random value.
        The table is built with the plan's own ``WeightTable.pick`` and ``endpoint_indexes``.
        """
        if batch.random_value is not None or di is not None or mirrors is not None:
            return None
        lr = le = 1  # a missing slot is all zeros
        if draws.get(DRAW_ROUTE, None) is not None:
            lr = draws.bounds.get(DRAW_ROUTE, 1 << 64)
        if draws.get(DRAW_ENDPOINT, None) is not None:
            le = draws.bounds.get(DRAW_ENDPOINT, 1 << 64)
        if (self.nr + 1) * lr * le > 1 << 20:
            return None
        key = (lr, le)
        hit = self._fused_cache.get(key)
        if hit is not None:
            return hit if hit[0].size else None
        tab = np.zeros((self.nr + 1, lr, le), np.int32)
        ok = True
        r = np.arange(lr, dtype=np.uint64)
        q = np.arange(le, dtype=np.uint64)
        for k in range(self.nr + 1):
            act = self.entries[k].entry.action if k < self.nr else None
            if not isinstance(act, Forward):
                tab[k] = self.first[k]
                continue
            re_ = self.entries[k]
            f = act.fault
            if f is not None and f.abort_status is not None and f.abort_per_million > 0:
                if f.abort_per_million < PER_MILLION:
                    ok = False
                    break
                tab[k] = self.fi_leaf[k]
                continue
            pick = self.picks[k]
            t = np.full(lr, pick, np.intp) if isinstance(pick, int) else act.weights.pick(r)
            for j, tt in enumerate(re_.targets):
                rows = t == j
                if not rows.any():
                    continue
                base = int(self.tbase[k][j])
                if _n_eps(tt) <= 1:
                    tab[k, rows, :] = base
                elif tt.lb.hash_on is not None:
                    ok = False
                    break
                else:
                    tab[k, rows, :] = base + tt.endpoint_indexes(q, None)[None, :]
            if not ok:
                break
        out = (tab.reshape(-1), lr, le) if ok else (np.zeros(0, np.int32), 0, 0)
        self._fused_cache[key] = out
        return out if ok else None

    def _run_fused(
        self, fused: tuple[npt.NDArray[np.int32], int, int], e: Any, draws: SlotDraws, n: int
    ) -> Leaves:
        tab, lr, le = fused
        idx: npt.NDArray[np.intp]
        if isinstance(e, int):
            idx = np.full(n, e * lr * le, np.intp) if lr * le == 1 else np.zeros(n, np.intp)
            if lr * le == 1:
                return np.full(n, tab[e], np.int32)
            tab = tab[e * lr * le : (e + 1) * lr * le]
        else:
            idx = e.astype(np.intp)
            if lr * le > 1:
                idx *= lr * le
        dr = draws.get(DRAW_ROUTE, None) if lr > 1 else None
        de = draws.get(DRAW_ENDPOINT, None) if le > 1 else None
        if dr is not None and de is not None and isinstance(e, int):
            idx = dr.astype(np.intp)
            idx *= le
            idx += de
        else:
            if dr is not None:
                idx += dr * np.intp(le) if le > 1 else dr
            if de is not None:
                idx += de
        out: Leaves = np.take(tab, idx)
        return out

    def _run_fused_single(
        self,
        fused: tuple[npt.NDArray[np.int32], int, int],
        plan: tuple[Any, ...],
        batch: RequestBatch,
        draws: SlotDraws,
    ) -> Leaves:
        """One varying column: leaf = T[value, route draw, endpoint draw], one gather."""
        tab, lr, le = fused
        etab = plan[1]
        hit = self._fused_cache.get(("single", id(etab), lr, le))
        if hit is None or hit[0] is not etab:
            t3 = tab.reshape(self.nr + 1, lr * le)[etab.astype(np.intp)].reshape(-1)
            hit = (etab, t3)
            self._fused_cache[("single", id(etab), lr, le)] = hit
        t3 = hit[1]
        idx = batch.attribute(plan[2]).codes.astype(np.intp)
        if lr * le > 1:
            idx *= lr * le
        dr = draws.get(DRAW_ROUTE, None) if lr > 1 else None
        de = draws.get(DRAW_ENDPOINT, None) if le > 1 else None
        if dr is not None:
            idx += dr * np.intp(le) if le > 1 else dr
        if de is not None:
            idx += de
        out: Leaves = np.take(t3, idx)
        return out

    def _has_side_outputs(
        self, k: int, di: npt.NDArray[np.bool_] | None, mirrors: IntArray | None
    ) -> bool:
        act = self.entries[k].entry.action
        if not isinstance(act, Forward):
            return False
        delay = act.fault is not None and act.fault.delay_ms is not None
        return (di is not None and delay) or (mirrors is not None and bool(act.mirrors))

    def _chance(
        self, draws: SlotDraws, slot: int, sel: npt.NDArray[np.intp] | None, pm: int
    ) -> bool | npt.NDArray[np.bool_]:
        """``draw % PER_MILLION < pm`` as in the scalar engine (constant when it cannot vary)."""
        if pm <= 0:
            return False
        if pm >= PER_MILLION:
            return True
        d = draws.get(slot, sel)
        if d is None:
            return True  # a missing draw is 0
        if draws.bounds.get(slot, 1 << 64) > PER_MILLION:
            d = d % PER_MILLION
        out: npt.NDArray[np.bool_] = d < pm
        return out

    def _entry(
        self,
        k: int,
        batch: RequestBatch,
        sel: npt.NDArray[np.intp] | None,
        n: int,
        draws: SlotDraws,
        di: npt.NDArray[np.bool_] | None,
        mirrors: IntArray | None,
    ) -> Any:
        if k == self.nr or not isinstance(self.entries[k].entry.action, Forward):
            return self.first[k]
        re_ = self.entries[k]
        act = re_.entry.action
        assert isinstance(act, Forward)
        fault = act.fault
        sub = batch
        if sel is not None and (
            batch.random_value is not None or any(t.lb.hash_on for t in re_.targets)
        ):
            sub = batch.take(sel)
        if di is not None and fault is not None and fault.delay_ms is not None:
            hit = self._chance(draws, DRAW_DELAY, sel, fault.delay_per_million)
            if sel is None:
                di[:] = hit
            else:
                di[sel] = hit
        fi: Any = None
        if fault is not None and fault.abort_status is not None:
            fi = self._chance(draws, DRAW_ABORT, sel, fault.abort_per_million)
            if fi is True:
                return self.fi_leaf[k]
            if fi is False:
                fi = None
        pick = self.picks[k]
        if isinstance(pick, int):
            t: Any = pick
        else:
            t = self._pick(act, pick, sub, sel, n, draws)
        leaf = self._target_leaves(k, re_, t, sub, sel, n, draws)
        if mirrors is not None and re_.mirrors:
            ok = np.asarray([tt.status == "OK" for tt in re_.targets])[t]
            bits = np.zeros(n, np.int64)
            for j, (_mt, pm) in enumerate(re_.mirrors):
                ch = self._chance(draws, DRAW_MIRROR0 + j, sel, pm)
                bits |= np.asarray(ch, np.int64) << j
            bits = np.where(ok, bits, 0)
            if fi is not None:
                bits[fi] = 0
            if sel is None:
                mirrors[:] = bits
            else:
                mirrors[sel] = bits
        if fi is not None:
            leaf = np.where(fi, self.fi_leaf[k], leaf)
        return leaf

    def _pick(
        self,
        act: Forward,
        tab: npt.NDArray[np.intp],
        batch: RequestBatch,
        sel: npt.NDArray[np.intp] | None,
        n: int,
        draws: SlotDraws,
    ) -> npt.NDArray[np.intp]:
        wt = act.weights
        d = draws.get(DRAW_ROUTE, sel)
        bound = draws.bounds.get(DRAW_ROUTE, 1 << 64)
        if d is None:
            d = np.zeros(n, np.uint64)
            bound = 1
        if batch.random_value is not None and batch.has_random is not None:
            has = batch.has_random
            if has.any():
                d = np.where(has, batch.random_value, d.astype(np.uint64))
                bound = 1 << 64
        if tab.size:
            r = d if bound <= wt.total else d % wt.total
            out: npt.NDArray[np.intp] = np.take(tab, r)
            return out
        return wt.pick(d.astype(np.uint64))

    def _target_leaves(
        self,
        k: int,
        re_: ResolvedEntry,
        t: Any,
        batch: RequestBatch,
        sel: npt.NDArray[np.intp] | None,
        n: int,
        draws: SlotDraws,
    ) -> Any:
        base = self.tbase[k]
        if isinstance(t, int):
            tt = re_.targets[t]
            if _n_eps(tt) <= 1:
                return int(base[t])
            return (self._endpoints(tt, batch, sel, n, draws) + int(base[t])).astype(np.int32)
        leaf = np.take(base, t)
        for j, tt in enumerate(re_.targets):
            if _n_eps(tt) <= 1:
                continue
            s = np.flatnonzero(t == j)
            if s.size:
                ssel = s if sel is None else sel[s]
                sb = batch.take(s) if tt.lb.hash_on is not None else batch
                leaf[s] += self._endpoints(tt, sb, ssel, s.size, draws).astype(np.int32)
        return leaf

    def _endpoints(
        self,
        t: Target,
        batch: RequestBatch,
        sel: npt.NDArray[np.intp] | None,
        n: int,
        draws: SlotDraws,
    ) -> npt.NDArray[np.intp]:
        keys = None
        if t.lb.hash_on is not None:
            col = hash_key_column(batch, *t.lb.hash_on)
            keys = np.take(self.router.hash_table(col.values), col.codes)
        d = draws.get(DRAW_ENDPOINT, sel)
        if d is None:
            d = np.zeros(n, np.uint64)
        return t.endpoint_indexes(d, keys)


def _n_eps(t: Target) -> int:
    return len(t.endpoints) if t.status == "OK" else 0


def _pick_table(act: Forward) -> int | npt.NDArray[np.intp]:
    """The pick as a constant (one live destination) or tabulated over ``draw % total``."""
    wt = act.weights
    live = [i for i, w in enumerate(wt.weights) if w > 0]
    if len(live) == 1:
        return live[0]
    if wt.total <= _SMALL_PICK:
        tab: npt.NDArray[np.intp] = wt.pick(np.arange(wt.total, dtype=np.uint64))
        return tab.astype(np.uint8 if len(wt.weights) <= 256 else np.intp)
    return np.zeros(0, np.intp)


def hash_key_column(batch: RequestBatch, kind: str, name: str) -> Column:
    """The consistent-hash key of each request, as ``engine.scalar.hash_lookup`` reads it."""
    if kind == "header":
        return batch.attribute(f"header:{name.lower()}")
    if kind == "query":
        return batch.attribute(f"query:{name}")
    if kind == "cookie":
        return batch.attribute("header:cookie").map(lambda v: cookie(v, name))
    if kind == "source_ip":
        return batch.source.map(lambda s: f"{s[0]}/{s[2] or '-'}")
    return Column.constant(None, len(batch))


class Router:
    """The vector engine's state for one plan: compiled programs and their global leaf ids."""

    def __init__(self, plan: RoutePlan) -> None:
        self.plan = plan
        self.programs: dict[Any, Program] = {}
        self.offsets: dict[int, int] = {}
        self.leaves: list[Leaf] = []
        self._lock = threading.RLock()
        self._truth: dict[Any, Any] = {}
        self._hash: dict[int, Any] = {}
        self._tables: dict[str, Any] = {}

    @classmethod
    def of(cls, plan: RoutePlan) -> Router:
        key = ("__vector_router__",)
        hit = plan._cache.get(key)
        if hit is None:
            hit = plan._cache.setdefault(key, cls(plan))
        assert isinstance(hit, Router)
        return hit

    def program(self, host: str, port: Any, source: Any) -> tuple[Program, int]:
        """The program of a (host, port, client) group and its first global leaf id."""
        ns, labels, workload, gateway = source
        ctx = self.plan.context(ns, dict(labels), workload, gateway)
        port = None if port is None else int(port)
        key = (host, port, ctx)
        with self._lock:
            prog = self.programs.get(key)
            if prog is None:
                prog = Program(self, key, self.plan.table(host, port, ctx))
                self.programs[key] = prog
                self.offsets[id(prog)] = len(self.leaves)
                self.leaves.extend(prog.leaves)
                self._tables.clear()
            return prog, self.offsets[id(prog)]

    def hash_table(self, values: tuple[Any, ...]) -> IntArray:
        hit = self._hash.get(id(values))
        if hit is None or hit[0] is not values:
            tab = np.asarray([-1 if v is None else stable_hash(v) for v in values], np.int64)
            hit = (values, tab)
            if len(self._hash) > 1024:
                self._hash.clear()
            self._hash[id(values)] = hit
        out: IntArray = hit[1]
        return out

    def groups(self, batch: RequestBatch) -> list[tuple[Program, int, npt.NDArray[np.intp] | None]]:
        """Split a batch by (host, port, client): [(program, offset, rows or None = all)]."""
        cols = (batch.host, batch.port, batch.source)
        if all(c.is_constant for c in cols) or len(batch) == 0:
            if len(batch) == 0:
                return []
            vals = [c.values[int(c.codes[0])] for c in cols]
            return [(*self.program(*vals), None)]
        code = np.zeros(len(batch), np.int64)
        for c in cols:
            code = code * len(c.values) + c.codes
        uniq, inv = np.unique(code, return_inverse=True)
        out: list[tuple[Program, int, npt.NDArray[np.intp] | None]] = []
        for g in range(len(uniq)):
            rows = np.flatnonzero(inv == g)
            i = int(rows[0])
            vals = [c.values[int(c.codes[i])] for c in cols]
            out.append((*self.program(*vals), rows))
        return out

    def run(
        self,
        batch: RequestBatch,
        draws: SlotDraws,
        *,
        want_di: bool = False,
        want_mirrors: bool = False,
    ) -> tuple[Leaves, npt.NDArray[np.bool_] | None, IntArray | None]:
        n = len(batch)
        if n > 2 * _RUN_CHUNK:  # bounded temporaries: route a big batch slice by slice
            leaf = np.zeros(n, np.int32)
            di = np.zeros(n, bool) if want_di else None
            mir = np.zeros(n, np.int64) if want_mirrors else None
            for lo in range(0, n, _RUN_CHUNK):
                hi = min(n, lo + _RUN_CHUNK)
                lf, d, m = self.run(
                    batch.slice(lo, hi),
                    draws.slice(lo, hi),
                    want_di=want_di,
                    want_mirrors=want_mirrors,
                )
                leaf[lo:hi] = lf
                if di is not None and d is not None:
                    di[lo:hi] = d
                if mir is not None and m is not None:
                    mir[lo:hi] = m
            return leaf, di, mir
        di = np.zeros(n, bool) if want_di else None
        mir = np.zeros(n, np.int64) if want_mirrors else None
        groups = self.groups(batch)
        if len(groups) == 1 and groups[0][2] is None:
            prog, off, _ = groups[0]
            leaf = prog.run(batch, draws, di, mir)
            if off:
                leaf = leaf + np.int32(off)
            return leaf.astype(np.int32, copy=False), di, mir
        leaf = np.zeros(n, np.int32)
        for prog, off, rows in groups:
            assert rows is not None
            sdi = None if di is None else np.zeros(rows.size, bool)
            smir = None if mir is None else np.zeros(rows.size, np.int64)
            leaf[rows] = prog.run(batch.take(rows), draws.take(rows), sdi, smir) + off
            if di is not None and sdi is not None:
                di[rows] = sdi
            if mir is not None and smir is not None:
                mir[rows] = smir
        return leaf, di, mir

    # -- leaf tables -----------------------------------------------------------------------------

    def table(self, name: str) -> npt.NDArray[Any]:
        """A per-leaf lookup array: status, rule, outcome code, delay_ms (-1 = none)."""
        with self._lock:
            hit = self._tables.get(name)
            if hit is None or len(hit) != len(self.leaves):
                if name == "status":
                    hit = np.asarray([lf.status for lf in self.leaves], np.int16)
                elif name == "rule":
                    hit = np.asarray(
                        [-1 if lf.rule is None else lf.rule for lf in self.leaves], np.int32
                    )
                elif name == "outcome":
                    order = list(Outcome)
                    hit = np.asarray([order.index(lf.outcome) for lf in self.leaves], np.uint8)
                elif name == "delay_ms":
                    hit = np.asarray(
                        [-1 if lf.delay_ms is None else lf.delay_ms for lf in self.leaves],
                        np.int64,
                    )
                else:
                    raise KeyError(name)
                self._tables[name] = hit
            return hit

    def decision(self, leaf_id: int, request: Request, di: bool, mirror_bits: int) -> Decision:
        """Request ``i``'s ``Decision`` (without trace), built as the scalar engine builds it."""
        return leaf_decision(self.leaves[leaf_id], request, di, mirror_bits)


def route_batch(
    plan: RoutePlan,
    batch: RequestBatch,
    draws: Any = None,
    *,
    delays: bool = True,
    mirrors: bool = True,
) -> BatchDecision:
    """Route every request of ``batch``; row i agrees with ``route(plan, batch[i], row i)``.

    ``draws``: a ``(n, k)`` unsigned array, a sequence of per-slot arrays (None = zeros) or a
    ``SlotDraws``; slots not given count as 0, as in the scalar engine.
    """
    if not isinstance(batch, RequestBatch):
        raise _bad(f"route_batch takes a RequestBatch, not {type(batch).__name__}")
    sd = SlotDraws.of(draws, len(batch))
    router = Router.of(plan)
    leaf, di, mir = router.run(
        batch, sd, want_di=delays, want_mirrors=mirrors and plan.max_mirrors > 0
    )
    return BatchDecision(plan, batch, leaf, di, mir, router)


__all__ = ["Leaf", "Router", "SlotDraws", "hash_key_column", "route_batch"]
