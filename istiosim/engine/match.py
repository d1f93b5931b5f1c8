"""First match over one route table's entries, per unique value of each column.

``Matcher.test`` (the plan's own predicate) runs once per value of a column's value table; the
answers become per-column lookup tables, broadcast to the rows with ``np.take``. With one
varying column the table maps a value straight to its entry; with several, per block of 32
entries each column maps a value to the bitmask of entries whose conditions on it hold, and the
first set bit of the AND over columns is the entry (performance.md's rule-bitmask tables).
``lookup`` turns those masks into the cheapest evaluation for batches: a direct table from
the bits to the entry (≤ 16 entries), the minimum of per-column-group first entries (cost
independent of the number of rules), or 32-entry blocks with the block map folded in.
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
        self._fast: dict[int, Any] = {}
        #: the columns the entries read, each once (the cache key of ``plan``)
        self._keys = tuple(dict.fromkeys(m.key for re_ in entries for m in re_.entry.matchers))

    def column(self, batch: RequestBatch, key: str) -> Column:
        """The column a matcher key reads, derived tables shared through the owner."""
        return batch.attribute(key, self.shared)

    def truth(self, m: Matcher, values: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        """``m.test`` of every value, cached per (condition, value table): rules with the same
        condition on one column share one answer, whatever rule or route table they are in."""
        cache = self._truth_cache
        key = (_condition(m), id(values))
        hit = cache.get(key)
        if hit is None or hit[0] is not values:
            tab = _evaluate(m, values, self._truth_cache)
            hit = (values, tab, m)
            if len(cache) > 4096:
                cache.clear()
            cache[key] = hit
        out: npt.NDArray[np.bool_] = hit[1]
        return out

    def prefetch(self, batch: RequestBatch) -> None:
        """Evaluate every regex condition of these entries on the columns of ``batch`` not yet
        cached: per column, one pass over its distinct values with an RE2 ``Set`` holding all
        of that column's patterns (one call per value, not one per value per rule)."""
        todo: dict[int, tuple[tuple[Any, ...], dict[Any, Matcher]]] = {}
        for re_ in self.entries:
            for m in re_.entry.matchers:
                if m.kind != "regex" or m.regex is None:
                    continue
                values = self.column(batch, m.key).values
                if len(values) < 64:
                    continue  # a Set is not worth building for a few values
                hit = self._truth_cache.get((_condition(m), id(values)))
                if hit is not None and hit[0] is values:
                    continue
                todo.setdefault(id(values), (values, {}))[1].setdefault(m.value, m)
        for values, by_pattern in todo.values():
            if len(by_pattern) < 2:
                continue  # one regex: ``truth`` runs it once per value anyway
            raw = _regex_set(list(by_pattern), values)
            for j, m in enumerate(by_pattern.values()):
                self._truth_cache[("raw", m.value, id(values))] = (values, raw[:, j], m)

    def first(
        self, batch: RequestBatch, plan: tuple[Any, ...] | None = None
    ) -> int | npt.NDArray[np.int16]:
        """First matching entry per request (``self.nr`` = none), predicates per unique value
        (``plan``: ``self.plan(batch)`` when the caller has it)."""
        if plan is None:
            plan = self.plan(batch)
        kind = plan[0]
        if kind == "const":
            return int(plan[1])
        if kind == "single":
            out: npt.NDArray[np.int16] = np.take(plan[1], self.column(batch, plan[2]).codes)
            return out
        fast = self._fast.get(id(plan))
        if fast is None or fast[0] is not plan:
            fast = (plan, lookup(plan))
            if len(self._fast) > 256:
                self._fast.clear()
            self._fast[id(plan)] = fast
        return self.run_lookup(fast[1], batch)

    def run_lookup(self, fast: tuple[Any, ...], batch: RequestBatch) -> npt.NDArray[np.int16]:
        """Evaluate a ``lookup`` plan over a batch's columns."""
        kind = fast[0]
        if kind == "direct":  # AND of 16-bit masks, one table from the bits to the entry
            bits: Any = None
            for key, tab in fast[1]:
                got = np.take(tab, self.column(batch, key).codes)
                bits = got if bits is None else np.bitwise_and(bits, got, out=bits)
            out: npt.NDArray[np.int16] = np.take(fast[2], bits)
            return out
        e: Any = None
        if kind == "min":  # per column group, its first entry; the minimum over groups
            for keys, sizes, tab in fast[1]:
                idx = self.column(batch, keys[0]).codes
                if len(keys) > 1:
                    idx = idx.astype(np.intp)
                    for key, size in zip(keys[1:], sizes[1:], strict=True):
                        idx *= size
                        idx += self.column(batch, key).codes
                got = np.take(tab, idx)
                e = got if e is None else np.minimum(e, got, out=e)
            return e  # type: ignore[no-any-return]
        for tabs, lo, hi in fast[1]:  # blocks of 32 entries, no early exit
            bits = None
            for key, tab32 in tabs:
                got = np.take(tab32, self.column(batch, key).codes)
                bits = got if bits is None else np.bitwise_and(bits, got, out=bits)
            halves = bits.view(np.uint16).reshape(-1, 2)
            got = np.take(lo, halves[:, _LOW])
            np.minimum(got, np.take(hi, halves[:, 1 - _LOW]), out=got)
            e = got if e is None else np.minimum(e, got, out=e)
        return e  # type: ignore[no-any-return]

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
        for k in self._keys:  # each column once, however many conditions read it
            col = self.column(batch, k)
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
        self.prefetch(batch)
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


def _condition(m: Matcher) -> tuple[Any, ...]:
    """What ``m.test`` depends on (not its key nor its location in the config)."""
    return (m.kind, m.value, m.ignore_case, m.invert)


def _index(values: tuple[Any, ...], cache: MutableMapping[Any, Any]) -> dict[Any, int]:
    """value → its first position in a value table (cached per table)."""
    hit = cache.get(("index", id(values)))
    if hit is None or hit[0] is not values:
        index: dict[Any, int] = {}
        for i, v in enumerate(values):
            index.setdefault(v, i)
        hit = (values, index, len(index) == len(values))
        cache[("index", id(values))] = hit
    out: dict[Any, int] = hit[1]
    return out


def _positions(values: tuple[Any, ...], v: Any, cache: MutableMapping[Any, Any]) -> list[int]:
    """Every position of ``v`` in ``values`` (a traffic column may hold one value in the
    slices of several classes)."""
    index = _index(values, cache)
    first = index.get(v, -1)
    if first < 0:
        return []
    if cache[("index", id(values))][2]:  # every value once
        return [first]
    return [j for j, x in enumerate(values) if x == v and (x is None) == (v is None)]


def _evaluate(m: Matcher, values: tuple[Any, ...], cache: MutableMapping[Any, Any]) -> Any:
    """``m.test(v)`` for each value: an exact match by a dictionary lookup, a regex from the
    per-column RE2 Set answers when ``prefetch`` made them, else one call per value."""
    n = len(values)
    if m.kind == "exact" and not m.ignore_case and n >= 64:
        tab = np.zeros(n, bool)
        tab[_positions(values, m.value, cache)] = True
        if m.invert:
            tab = ~tab
        tab[_positions(values, None, cache)] = m.test(None)  # an absent header
        return tab
    if m.kind == "regex":
        raw = cache.get(("raw", m.value, id(values)))
        if raw is not None and raw[0] is values:
            tab = raw[1] != m.invert  # a new array
            tab[_positions(values, None, cache)] = m.test(None)  # an absent header
            return tab
    return np.fromiter((m.test(v) for v in values), bool, n)


def _regex_set(patterns: list[str], values: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
    """[value, pattern]: RE2 full match of each pattern, by one ``re2.Set`` call per value
    (None, an absent header, gets False: ``Matcher.test`` decides it)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # as the compiler's (the patterns compiled there already)
    rs = re2.Set.FullMatchSet(options)
    for p in patterns:
        rs.Add(p)
    rs.Compile()
    out = np.zeros((len(values), len(patterns)), bool)
    match = rs.Match
    for i, v in enumerate(values):
        if v is not None:
            hit = match(v)
            if hit:
                out[i, hit] = True
    return out


#: joint value tables of a column group up to this many cells (``lookup``'s "min" scheme)
_JOINT = 1 << 16


def lookup(plan: tuple[Any, ...]) -> tuple[Any, ...]:
    """A ``("bits", fallback, blocks)`` plan turned into the cheapest lookup for batches.

    - ``("min", groups)`` when the entries fall into column groups (an entry tests columns of
      one group only; groups of one column, or joint value tables of at most ``_JOINT`` cells):
      per group a table from the (joint) value to the group's first entry that holds, else the
      fallback; the first entry is the minimum over groups, whatever the number of entries.
    - ``("direct", tabs, table)`` with at most 16 live entries: 16-bit masks per column and one
      table from the AND of them straight to the entry (fallback when no bit is set).
    - ``("bits", blocks)``: per block of 32 entries, 32-bit masks and two 16-bit tables giving
      the entry of the first set bit of each half (the block map folded in); the minimum over
      halves and blocks (entries ascend with bits), without early exit.
    """
    fallback, blocks = plan[1], plan[2]
    # per entry, the columns it tests (its bit is not set for every value) and its bit masks
    sizes: dict[str, int] = {}
    tests: dict[int, list[tuple[str, npt.NDArray[np.bool_]]]] = {}
    alive: list[int] = []
    for blockmap, tabs in blocks:
        for j, k in enumerate(blockmap[:32].tolist()):
            if k < 0:
                continue
            alive.append(k)
            mine = tests.setdefault(k, [])
            for key, tab32 in tabs:
                sizes[key] = len(tab32)
                ok = (tab32 >> np.uint32(j)) & np.uint32(1) == 1
                if not ok.all():
                    mine.append((key, ok))
    # union-find of columns tested together
    parent = {key: key for key in sizes}

    def root(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for mine in tests.values():
        for key, _ in mine[1:]:
            parent[root(key)] = root(mine[0][0])
    groups: dict[str, list[str]] = {}
    for key in sizes:
        groups.setdefault(root(key), []).append(key)
    joint = {r: int(np.prod([sizes[k] for k in ks])) for r, ks in groups.items()}
    singles = all(len(ks) == 1 for ks in groups.values())
    if singles or (len(alive) > 16 and all(v <= _JOINT for v in joint.values())):
        # an entry whose conditions hold for every value of these tables always matches
        fallback = min([fallback, *(k for k in alive if not tests[k])])
        dt = np.int16
        out = []
        for r, keys in groups.items():
            shape = [sizes[k] for k in keys]
            tab = np.full(joint[r], fallback, dt)
            for k in sorted(alive, reverse=True):  # the first entry wins: write it last
                mine = [(key, ok) for key, ok in tests[k] if root(key) == r]
                if not mine or len(mine) != len(tests[k]):
                    continue  # tests no column of this group (or of others too: cannot be)
                holds = np.ones(shape, bool)
                for key, ok in mine:
                    axis = keys.index(key)
                    view = [1] * len(keys)
                    view[axis] = sizes[key]
                    holds &= ok.reshape(view)
                tab[holds.reshape(-1)] = k
            out.append((tuple(keys), tuple(shape), tab))
        return ("min", out)
    if len(alive) <= 16:
        blockmap, tabs = blocks[0]
        direct = np.full(1 << 16, fallback, np.int16)
        first = _FIRST16
        has = first >= 0
        direct[has] = blockmap[first[has]]
        direct[direct < 0] = fallback  # (bits past the block's entries are never set)
        return ("direct", [(key, tab32.astype(np.uint16)) for key, tab32 in tabs], direct)
    out_blocks = []
    for blockmap, tabs in blocks:
        lo = np.full(1 << 16, fallback, np.int16)
        hi = np.full(1 << 16, fallback, np.int16)
        has = _FIRST16 >= 0
        lo[has] = blockmap[_FIRST16[has]]
        hi[has] = blockmap[_FIRST16[has] + 16]
        lo[lo < 0] = fallback  # (bits past the block's entries are never set)
        hi[hi < 0] = fallback
        out_blocks.append((tabs, lo, hi))
    return ("bits", out_blocks)


__all__ = ["EntryMatch", "lookup"]
