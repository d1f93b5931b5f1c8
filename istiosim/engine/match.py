"""First match over one route table's entries, per unique value of each column.

``Matcher.test`` (the plan's own predicate) runs once per value of a column's value table; the
answers become per-column lookup tables, broadcast to the rows with ``np.take``. With one
varying column the table maps a value straight to its entry; with several, per block of 32
entries each column maps a value to the bitmask of entries whose conditions on it hold, and the
first set bit of the AND over columns is the entry (performance.md's rule-bitmask tables).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ..batch import Column, RequestBatch
from ..plan import Matcher, ResolvedEntry

_FIRST16 = np.full(1 << 16, -1, np.int8)
for _b in range(16):
    _FIRST16[(np.arange(1 << 16) & ((1 << (_b + 1)) - 1)) == (1 << _b)] = _b
_FIRST16_HIGH = np.where(_FIRST16 >= 0, _FIRST16 + 16, -1).astype(np.int8)
_LOW = 0 if np.little_endian else 1


class EntryMatch:
    """The compiled first match of one route table's entries (``nr`` = no entry matched).

    ``truth_cache`` and ``shared`` belong to the owner (the ``Router``): a predicate's answers
    per value table, and derived value tables (``uri``...) shared by all batches over one table.
    """

    def __init__(
        self,
        entries: tuple[ResolvedEntry, ...],
        truth_cache: MutableMapping[Any, Any],
        shared: MutableMapping[Any, Any],
    ) -> None:
        self.entries = entries
        self.nr = len(entries)
        self._truth_cache = truth_cache
        self.shared = shared
        self._plans: dict[Any, Any] = {}

    def column(self, batch: RequestBatch, key: str) -> Column:
        """The column a matcher key reads, derived tables shared through the owner."""
        return batch.attribute(key, self.shared)

    def truth(self, m: Matcher, values: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        cache = self._truth_cache
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

    def first(self, batch: RequestBatch) -> int | npt.NDArray[np.int16]:
        """First matching entry per request (``self.nr`` = none), predicates per unique value."""
        plan = self.plan(batch)
        if plan[0] == "const":
            return int(plan[1])
        if plan[0] == "single":
            out: npt.NDArray[np.int16] = np.take(plan[1], self.column(batch, plan[2]).codes)
            return out
        fallback, blocks = plan[1], plan[2]
        e = np.full(len(batch), -1, np.int16)
        for bi, (blockmap, tabs) in enumerate(blocks):
            bits: npt.NDArray[np.uint32] | None = None
            for key, tab32 in tabs:
                got = np.take(tab32, self.column(batch, key).codes)
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

    def plan(self, batch: RequestBatch) -> tuple[Any, ...]:
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
                col = self.column(batch, m.key)
                const = col.is_constant or n == 0
                sig.append((id(col.values), const, int(col.codes[0]) if const and n else -1))
                cols.append(col)
        key = tuple(sig)
        hit = self._plans.get(key)
        if hit is not None and all(v is c.values for v, c in zip(hit[1], cols, strict=True)):
            return hit[0]  # type: ignore[no-any-return]
        plan = self.compile(batch, n)
        if len(self._plans) > 256:
            self._plans.clear()
        self._plans[key] = (plan, [c.values for c in cols])
        return plan

    def compile(self, batch: RequestBatch, n: int) -> tuple[Any, ...]:
        alive: list[int] = []
        conds: dict[int, list[tuple[int, npt.NDArray[np.bool_]]]] = {}
        key_of: dict[int, str] = {}
        fallback = self.nr
        for k, re_ in enumerate(self.entries):
            ok = True
            mine: list[tuple[int, npt.NDArray[np.bool_]]] = []
            for m in re_.entry.matchers:
                col = self.column(batch, m.key)
                tab = self.truth(m, col.values)
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


__all__ = ["EntryMatch"]
