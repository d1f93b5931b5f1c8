"""The vector engine: a whole ``RequestBatch`` through the plan, with numpy.

It uses the plan's own objects, exactly as the scalar engine does: ``RoutePlan.table`` once per
(host, port, client) group, ``Matcher.test`` once per unique column value (``engine.match``),
``WeightTable.pick``, ``Target.endpoint_indexes`` and ``fires`` (``engine.program``).

Every request ends in a *leaf* (``engine.leaf``): one terminal state of one route table. The
engine returns a leaf id per request (plus the delay flag and the mirror bits when asked);
everything else (rule, status, destination, workload, rewritten path...) is a lookup or, for
``BatchDecision[i]``, rebuilt exactly as the scalar engine builds its ``Decision``. Draws are
given per slot (``engine.draws``).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from ..batch import RequestBatch
from ..errors import InvalidArgument
from ..plan import RoutePlan, stable_hash
from ..request import Request
from ..results import BatchDecision, Decision, Outcome
from .draws import SlotDraws
from .leaf import Leaf, leaf_decision
from .program import Program

IntArray = npt.NDArray[np.int64]
Leaves = npt.NDArray[np.int32]

#: rows routed at once: temporaries stay in cache and memory stays bounded
_RUN_CHUNK = 1 << 16


class Router:
    """The vector engine's state for one plan: compiled programs and their global leaf ids.

    It owns every cache of the vector engine (programs, predicate answers per value table,
    derived value tables, hash keys, per-leaf tables): make one per plan and keep it as long as
    the plan (the ``Simulator`` does) to route many batches without compiling again.
    """

    def __init__(self, plan: RoutePlan) -> None:
        self.plan = plan
        self.programs: dict[Any, Program] = {}
        self.offsets: dict[int, int] = {}
        self.leaves: list[Leaf] = []
        self._lock = threading.RLock()
        #: (matcher, value table) → the matcher's answer per value (see ``EntryMatch``)
        self.truth_cache: dict[Any, Any] = {}
        #: derived value tables (``uri``, hash keys...) shared by batches over one table
        self.derived: dict[Any, Any] = {}
        self._hash: dict[int, Any] = {}
        self._tables: dict[str, Any] = {}

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
    router: Router | None = None,
) -> BatchDecision:
    """Route every request of ``batch``; row i agrees with ``route(plan, batch[i], row i)``.

    ``draws``: a ``(n, k)`` unsigned array, a sequence of per-slot arrays (None = zeros) or a
    ``SlotDraws``; slots not given count as 0, as in the scalar engine. ``router``: the
    plan's ``Router`` to reuse (its compiled tables); None makes a new one.
    """
    if not isinstance(batch, RequestBatch):
        raise InvalidArgument(f"route_batch takes a RequestBatch, not {type(batch).__name__}")
    sd = SlotDraws.of(draws, len(batch))
    if router is None:
        router = Router(plan)
    elif router.plan is not plan:
        raise InvalidArgument("route_batch: router= was made for another plan")
    leaf, di, mir = router.run(
        batch, sd, want_di=delays, want_mirrors=mirrors and plan.max_mirrors > 0
    )
    return BatchDecision(plan, batch, leaf, di, mir, router)


__all__ = ["Router", "route_batch"]
