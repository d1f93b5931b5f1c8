"""One route table compiled for batches: its leaves, and draws → leaves.

Every request ends in a *leaf* (``engine.leaf``). A ``Program`` numbers the leaves of one route
table (per entry: its fault abort, then each target's pods), finds each request's entry with
``EntryMatch``, and turns the draws into leaves with the plan's own ``WeightTable.pick``,
``Target.endpoint_indexes`` and ``fires``. When nothing but the route and endpoint draws is
random, and those draws lie below small bounds, one fused table ``leaf[entry, route draw,
endpoint draw]`` replaces all of that with one gather.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..batch import Column, RequestBatch
from ..plan import (
    DRAW_ABORT,
    DRAW_DELAY,
    DRAW_ENDPOINT,
    DRAW_MIRROR0,
    DRAW_ROUTE,
    PER_MILLION,
    DirectResponse,
    Forward,
    LbPolicy,
    Redirect,
    ResolvedEntry,
    RouteTable,
    Target,
    fires,
)
from ..request import attribute_source
from .cors import preflight_mask
from .draws import SlotDraws
from .leaf import Leaf, LeafKind, n_pods
from .match import EntryMatch

if TYPE_CHECKING:
    from .vector import Router

IntArray = npt.NDArray[np.int64]
Leaves = npt.NDArray[np.int32]

#: weight totals up to this are tabulated: the pick is one ``np.take`` on ``draw % total``
_SMALL_PICK = 1 << 16


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
        #: entry → its fault-abort leaf per target: an aborted request keeps the cluster its
        #: route picked (Envoy resolves the route, weighted cluster included, before the fault
        #: filter runs: conn_manager_impl.cc ``refreshCachedRoute``)
        self.fi_leaf: dict[int, npt.NDArray[np.int32]] = {}
        #: entry → the leaf of a CORS preflight its corsPolicy answers (engine/cors.py)
        self.cors_leaf: dict[int, int] = {}
        self.tbase: dict[int, npt.NDArray[np.int32]] = {}
        self.picks: dict[int, int | npt.NDArray[np.intp]] = {}
        self.det: npt.NDArray[np.int32]
        self._fused_cache: dict[Any, Any] = {}
        self.matching = EntryMatch(self.entries, router.truth_cache, router.derived)
        if table.passthrough:
            self._add(Leaf(self, LeafKind.PASS))
            self.det = np.zeros(1, np.int32)
            return
        if table.default is not None:
            self.default_base = len(self.leaves)
            for ep in range(max(1, n_pods(table.default))):
                self._add(Leaf(self, LeafKind.DEFAULT, -1, 0, ep if n_pods(table.default) else -1))
            self.det = np.array([-1 if n_pods(table.default) > 1 else 0], np.int32)
            return
        det = []
        for k, re_ in enumerate(self.entries):
            act = re_.entry.action
            self.first.append(len(self.leaves))
            if isinstance(act, Redirect):
                det.append(self._add(Leaf(self, LeafKind.REDIRECT, k)))
                continue
            if isinstance(act, DirectResponse):
                det.append(self._add(Leaf(self, LeafKind.DIRECT, k)))
                continue
            assert isinstance(act, Forward)
            if act.cors:
                self.cors_leaf[k] = self._add(Leaf(self, LeafKind.CORS, k))
            fault = act.fault
            if fault is not None and fault.abort_status is not None:
                self.fi_leaf[k] = np.asarray(
                    [self._add(Leaf(self, LeafKind.FI, k, j)) for j in range(len(re_.targets))],
                    np.int32,
                )
            bases = []
            for j, t in enumerate(re_.targets):
                bases.append(len(self.leaves))
                for ep in range(max(1, n_pods(t))):
                    self._add(Leaf(self, LeafKind.TARGET, k, j, ep if n_pods(t) else -1))
            self.tbase[k] = np.asarray(bases, np.int32)
            self.picks[k] = _pick_table(act)
            det.append(self._deterministic(k, re_, act))
        self.first.append(len(self.leaves))
        det.append(self._add(Leaf(self, LeafKind.NR)))
        self.det = np.asarray(det, np.int32)

    def reads(self) -> frozenset[str]:
        """The request fields this route table can read (``attribute_source`` fields: ``path``,
        ``method``, ``header:<name>``...): match conditions, hash keys and CORS preflights. A
        traffic model need not generate the others (``simulate`` streams only these)."""
        keys: set[str] = set()
        targets = [] if self.table.default is None else [self.table.default]
        for re_ in self.entries:
            keys.update(m.key for m in re_.entry.matchers)
            targets.extend(re_.targets)
            act = re_.entry.action
            if isinstance(act, Forward) and act.cors:
                keys.update(("method", "header:origin", "header:access-control-request-method"))
        for t in targets:
            src = t.lb.hash_source()
            if src is not None:
                keys.add(src[0])
        return frozenset(attribute_source(k)[0] for k in keys)

    def _add(self, leaf: Leaf) -> int:
        self.leaves.append(leaf)
        return len(self.leaves) - 1

    def _deterministic(self, k: int, re_: ResolvedEntry, act: Forward) -> int:
        """The entry's leaf when no draw can change it, else -1."""
        if act.cors:
            return -1  # a preflight is answered apart: depends on the request
        fault = act.fault
        if fault is not None and fault.abort_status is not None:
            if fault.abort_per_million > 0 and not isinstance(self.picks[k], int):
                return -1
            if fault.abort_per_million >= PER_MILLION:
                return int(self.fi_leaf[k][self.picks[k]])
            if fault.abort_per_million > 0:
                return -1
        pick = self.picks[k]
        if not isinstance(pick, int):
            return -1
        t = re_.targets[pick]
        if n_pods(t) > 1:
            return -1
        return int(self.tbase[k][pick])

    # -- matching -----------------------------------------------------------------------------

    def match(self, batch: RequestBatch) -> int | npt.NDArray[np.int16]:
        """First matching entry per request (``nr`` = none)."""
        return self.matching.first(batch)

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
            if n_pods(t) <= 1:
                return np.full(n, self.default_base, np.int32)
            ep = self._endpoints(t, batch, None, n, draws)
            return (ep + self.default_base).astype(np.int32)
        fused = self._fused(batch, draws, di, mirrors)
        if fused is not None:
            plan = self.matching.plan(batch)
            if plan[0] == "single" and len(plan[1]) * fused[1] * fused[2] <= 1 << 20:
                return self._run_fused_single(fused, plan, batch, draws)
            return self._run_fused(fused, self.matching.first(batch, plan), draws, n)
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
            if act.cors:
                ok = False
                break
            f = act.fault
            aborts = f is not None and f.abort_status is not None and f.abort_per_million > 0
            if aborts and f is not None and f.abort_per_million < PER_MILLION:
                ok = False
                break
            pick = self.picks[k]
            t = np.full(lr, pick, np.intp) if isinstance(pick, int) else act.weights.pick(r)
            if aborts:
                tab[k] = self.fi_leaf[k][t][:, None]
                continue
            for j, tt in enumerate(re_.targets):
                rows = t == j
                if not rows.any():
                    continue
                base = int(self.tbase[k][j])
                if n_pods(tt) <= 1:
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
            if lr * le == 1:
                return np.full(n, tab[e], np.int32)
            tab = tab[e * lr * le : (e + 1) * lr * le]
            dr = draws.get(DRAW_ROUTE, None) if lr > 1 else None
            de = draws.get(DRAW_ENDPOINT, None) if le > 1 else None
            if dr is not None and de is not None:  # one entry: the row is the two draws
                idx = np.multiply(dr, le, dtype=np.intp)
                idx += de
                out: Leaves = np.take(tab, idx)
                return out
            idx = np.zeros(n, np.intp)
        else:
            idx = e.astype(np.intp)
            if lr * le > 1:
                idx *= lr * le
        _add_draws(idx, lr, le, draws)
        out = np.take(tab, idx)
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
        idx = self.matching.column(batch, plan[2]).codes.astype(np.intp)
        if lr * le > 1:
            idx *= lr * le
        _add_draws(idx, lr, le, draws)
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
        """The plan's ``fires`` over a slot's draws (a constant when it cannot vary)."""
        if pm <= 0:
            return False
        if pm >= PER_MILLION:
            return True
        d = draws.get(slot, sel)
        if d is None:
            return True  # a missing draw is 0
        return fires(d, pm, draws.bounds.get(slot, 1 << 64))

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
            if fi is False:
                fi = None
        pick = self.picks[k]
        if isinstance(pick, int):
            t: Any = pick
        else:
            t = self._pick(act, pick, sub, sel, n, draws)
        if fi is True and not act.cors:
            return int(self.fi_leaf[k][t]) if isinstance(t, int) else self.fi_leaf[k][t]
        if fi is True:
            fi = np.ones(n, bool)
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
            leaf = np.where(fi, self.fi_leaf[k][t], leaf)
        if act.cors:
            pre = preflight_mask(act.cors, batch if sel is None else batch.take(sel))
            if pre.any():
                # answered before the fault filter and the router: no delay, no mirror
                leaf = np.where(pre, self.cors_leaf[k], np.broadcast_to(leaf, pre.shape))
                rows = np.flatnonzero(pre) if sel is None else np.asarray(sel)[pre]
                if di is not None:
                    di[rows] = False
                if mirrors is not None:
                    mirrors[rows] = 0
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
            if n_pods(tt) <= 1:
                return int(base[t])
            return (self._endpoints(tt, batch, sel, n, draws) + int(base[t])).astype(np.int32)
        leaf = np.take(base, t)
        for j, tt in enumerate(re_.targets):
            if n_pods(tt) <= 1:
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
            col = hash_key_column(batch, t.lb, self.matching.shared)
            keys = np.take(self.router.hash_table(col.values), col.codes)
        d = draws.get(DRAW_ENDPOINT, sel)
        if d is None:
            d = np.zeros(n, np.uint64)
        return t.endpoint_indexes(d, keys)


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


def hash_key_column(
    batch: RequestBatch, lb: LbPolicy, shared: MutableMapping[Any, Any] | None = None
) -> Column:
    """The consistent-hash key of each request (``LbPolicy.hash_source``, as ``Target.hash_key``)."""
    src = lb.hash_source()
    if src is None:
        return Column.constant(None, len(batch))
    key, derive = src
    col = batch.attribute(key, shared)
    if derive is None:
        return col
    return RequestBatch.derived(col, ("hash", lb.hash_on), derive, shared)


__all__ = ["Program", "hash_key_column"]


def _add_draws(idx: npt.NDArray[np.intp], lr: int, le: int, draws: SlotDraws) -> None:
    """Offset fused-table rows in place by the route draw (``lr`` picks, stride ``le``) and the
    endpoint draw (``le`` picks): the layout of a fused table's row."""
    dr = draws.get(DRAW_ROUTE, None) if lr > 1 else None
    de = draws.get(DRAW_ENDPOINT, None) if le > 1 else None
    if dr is not None:
        idx += dr * np.intp(le) if le > 1 else dr
    if de is not None:
        idx += de
