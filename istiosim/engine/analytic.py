"""Exact leaf probabilities for the vector engine's request classes (no sampling).

The match is the engine's own (per unique value, or per column); the draws are integrated out:
faults by ``pm / 10^6``, the weighted pick by ``weight / total`` (or a fixed random value), a
pod uniformly or by its hash key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from ..batch import RequestBatch
from ..plan import Forward, Target, fire_probability
from ..request import attribute_source
from .cors import preflight_mask
from .leaf import n_pods
from .program import Program, hash_key_column
from .vector import Router


def leaf_distribution(
    router: Router, batch: RequestBatch, weights: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Exact probability of each leaf when row i occurs with probability ``weights[i]``.

    The match is the engine's (deterministic per row); the draws are integrated out: faults by
    ``pm / 10^6``, the pick by ``weight / total``, a pod uniformly (or by its hash key).
    """
    acc: dict[int, float] = {}
    for prog, off, rows in router.groups(batch):
        sub = batch if rows is None else batch.take(rows)
        w = weights if rows is None else weights[rows]
        local = np.zeros(len(prog.leaves))
        prog_dist(prog, sub, w, local)
        for i in np.flatnonzero(local):
            acc[off + int(i)] = acc.get(off + int(i), 0.0) + float(local[i])
    ids = np.asarray(sorted(acc), np.intp)
    return ids, np.asarray([acc[int(i)] for i in ids], np.float64)


def _base_column(key: str) -> str | None:
    """The traffic column a matcher key reads (None: fixed per request class)."""
    field, _ = attribute_source(key)
    return field if field in ("path", "method") or field.startswith("header:") else None


def factored_leaf_distribution(
    router: Router, batch: RequestBatch, probs: Mapping[str, npt.NDArray[np.float64]]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]] | None:
    """Exact leaf probabilities of a request class whose columns vary independently.

    ``batch`` holds each varying column's support (``Traffic.marginals``), ``probs`` their
    probabilities. The match is the engine's per-column rule-bitmask tables; the distribution
    of their AND is a convolution over columns (a few distinct masks each), never the product
    of supports. A pod picked by hashing a varying column c (a consistent hash on a header of
    millions of users) is a mixture over c's values: P(entry, value v) = p(v) × P(entry | the
    rule mask of v), so the values of c are grouped by their mask (one group when no rule
    reads c), each group's entry distribution is the convolution of the other columns with
    that mask, and within a group each value's key is hashed once (the engines' hash) and its
    pod taken: O(values of c), not O(support). None when the class spans several route tables.
    """
    groups = router.groups(batch)
    if len(groups) != 1 or groups[0][2] is not None:
        return None
    prog, off, _ = groups[0]
    one = batch.take(np.zeros(1, np.intp))
    acc = np.zeros(len(prog.leaves))
    table = prog.table

    def hashed_column(t: Target) -> str | None:
        """The varying column ``t`` picks its pod by hashing (None: none)."""
        src = t.lb.hash_source()
        if src is None or n_pods(t) <= 1:
            return None
        base = _base_column(src[0])
        return base if base in probs else None

    def rows_of(c: str, idx: npt.NDArray[np.intp] | None = None) -> RequestBatch:
        """A batch whose row i holds value ``idx[i]`` (default i) of column ``c``."""
        return batch.take(np.arange(len(probs[c]), dtype=np.intp) if idx is None else idx)

    if table.passthrough:
        acc[0] = 1.0
    elif table.default is not None:
        c = hashed_column(table.default)
        if c is None:
            _target_dist(prog, table.default, prog.default_base, one, np.ones(1), acc)
        else:
            _target_dist(prog, table.default, prog.default_base, rows_of(c), probs[c], acc)
    else:
        plan = prog.matching.compile(batch, len(batch))
        # per hashed column: [(its values in the group, P(entry | group))]
        by_column: dict[str, list[tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]]] = {}
        hashed = {
            c
            for re_ in prog.entries[: prog.nr]
            if isinstance(re_.entry.action, Forward)
            for c in map(hashed_column, re_.targets)
            if c is not None
        }
        entry_p = np.zeros(prog.nr + 1)
        if plan[0] == "const":
            entry_p[plan[1]] = 1.0
        elif plan[0] == "single":
            base_of_single = _base_column(plan[2]) or ""
            np.add.at(entry_p, plan[1], probs[base_of_single])
            if base_of_single in hashed:
                etab = np.asarray(plan[1])
                by_column[base_of_single] = [
                    (np.flatnonzero(etab == k), np.eye(prog.nr + 1)[int(k)])
                    for k in np.unique(etab)
                ]
        else:
            fallback, blocks = plan[1], plan[2]
            alive = [int(k) for bm, _ in blocks for k in bm if k >= 0]
            per_base: dict[str, list[int]] = {}
            for b, (bm, tabs) in enumerate(blocks):
                width = int(np.count_nonzero(bm >= 0))
                for key, tab in tabs:
                    base = _base_column(key) or ""
                    masks = per_base.setdefault(base, [-1] * len(probs[base]))
                    for v, m in enumerate(tab.tolist()):
                        masks[v] &= ~(((1 << width) - 1) << (32 * b)) | (int(m) << (32 * b))
            slots = [
                (32 * b + j) for b, (bm, _) in enumerate(blocks) for j in range(32) if bm[j] >= 0
            ]

            def convolve(columns: list[str]) -> dict[int, float]:
                dist: dict[int, float] = {-1: 1.0}
                for base in columns:
                    col: dict[int, float] = {}
                    for m, p in zip(per_base[base], probs[base].tolist(), strict=True):
                        col[m] = col.get(m, 0.0) + p
                    new: dict[int, float] = {}
                    for m1, p1 in dist.items():
                        for m2, p2 in col.items():
                            new[m1 & m2] = new.get(m1 & m2, 0.0) + p1 * p2
                    dist = new
                return dist

            def entries(
                dist: Mapping[int, float], out: npt.NDArray[np.float64], within: int = -1
            ) -> None:
                """Add P(entry) given the masks' distribution (each ANDed with ``within``)."""
                for m, p in dist.items():
                    m &= within
                    k = next((alive[i] for i, bit in enumerate(slots) if m >> bit & 1), fallback)
                    out[k] += p

            entries(convolve(list(per_base)), entry_p)
            for c in hashed & set(per_base):
                others = convolve([b for b in per_base if b != c])
                group_of: dict[int, int] = {}
                code = np.fromiter(
                    (group_of.setdefault(m, len(group_of)) for m in per_base[c]),
                    np.intp,
                    len(per_base[c]),
                )
                order = np.argsort(code, kind="stable")
                cuts = np.searchsorted(code[order], np.arange(1, len(group_of)))
                groups_c = []
                for m_c, idx in zip(group_of, np.split(order, cuts), strict=True):
                    cond = np.zeros(prog.nr + 1)
                    entries(others, cond, m_c)
                    groups_c.append((idx, cond))
                by_column[c] = groups_c
        for c in hashed - set(by_column):  # no rule reads c: one group, the class's entries
            by_column[c] = [(np.arange(len(probs[c]), dtype=np.intp), entry_p)]
        # targets not hashed on a varying column (and faults, redirects...): by entry
        for k in np.flatnonzero(entry_p):
            act = prog.entries[int(k)].entry.action if k < prog.nr else None
            if isinstance(act, Forward) and act.cors:
                return None  # a preflight depends on the method and headers: enumerate
            prog_entry_dist(
                prog,
                int(k),
                one,
                np.asarray([entry_p[k]]),
                acc,
                keep=lambda t: hashed_column(t) is None,
            )
        # targets hashed on column c: per value of c, by its group's entry distribution
        for c, groups_c in by_column.items():
            for idx, cond in groups_c:
                sub = rows_of(c, idx)
                for e in np.flatnonzero(cond).tolist():
                    act = prog.entries[e].entry.action if e < prog.nr else None
                    if not isinstance(act, Forward) or all(
                        hashed_column(t) != c for t in prog.entries[e].targets
                    ):
                        continue
                    prog_entry_dist(
                        prog,
                        e,
                        sub,
                        probs[c][idx] * cond[e],
                        acc,
                        keep=lambda t, c=c: hashed_column(t) == c,  # type: ignore[misc]
                        rest=False,
                    )
    ids = np.flatnonzero(acc)
    return (ids + off).astype(np.intp), acc[ids]


def prog_dist(
    prog: Program, batch: RequestBatch, w: npt.NDArray[np.float64], acc: npt.NDArray[np.float64]
) -> None:
    table = prog.table
    if table.passthrough:
        acc[0] += w.sum()
        return
    if table.default is not None:
        _target_dist(prog, table.default, prog.default_base, batch, w, acc)
        return
    e = prog.match(batch)
    e_arr = np.full(len(batch), e, np.int16) if isinstance(e, int) else e
    for k in np.unique(e_arr):
        sel = np.flatnonzero(e_arr == k)
        prog_entry_dist(prog, int(k), batch.take(sel), w[sel], acc)


def prog_entry_dist(
    prog: Program,
    k: int,
    sub: RequestBatch,
    p: npt.NDArray[np.float64],
    acc: npt.NDArray[np.float64],
    keep: Callable[[Target], bool] | None = None,
    rest: bool = True,
) -> None:
    """Add the leaves of entry ``k`` for rows ``sub`` of probabilities ``p``: faults by
    ``pm / 10^6``, the pick by ``weight / total`` (or the row's random value), pods uniform or
    by hash key. ``keep``: only the targets it accepts; ``rest``: also the leaves that are not
    a target's (fault aborts, redirects, direct responses, no route)."""
    act = prog.entries[k].entry.action if k < prog.nr else None
    if not isinstance(act, Forward):
        if rest:
            acc[prog.first[k]] += p.sum()
        return
    re_ = prog.entries[k]
    if act.cors:
        pre = preflight_mask(act.cors, sub)
        if pre.any():
            if rest:
                acc[prog.cors_leaf[k]] += p[pre].sum()
            p = np.where(pre, 0.0, p)
    pfi = 0.0
    if act.fault is not None and act.fault.abort_status is not None:
        pfi = fire_probability(act.fault.abort_per_million)
    wt = act.weights
    n = len(p)
    has = (
        sub.has_random
        if sub.random_value is not None and sub.has_random is not None
        else np.zeros(n, bool)
    )
    fixed = np.full(n, -1, np.intp)
    if has.any():
        fixed[has] = wt.pick(sub.random_value[has].astype(np.uint64))  # type: ignore[index]
    for j, (t, pj) in enumerate(zip(re_.targets, wt.probabilities(), strict=True)):
        if keep is not None and not keep(t):
            continue
        share = np.where(fixed < 0, float(pj), (fixed == j).astype(float))
        if pfi > 0:
            acc[prog.fi_leaf[k][j]] += (p * share).sum() * pfi
        mass = p * share * (1.0 - pfi)
        if not mass.any():
            continue
        _target_dist(prog, t, int(prog.tbase[k][j]), sub, mass, acc)


def _target_dist(
    prog: Program,
    t: Target,
    base: int,
    batch: RequestBatch,
    mass: npt.NDArray[np.float64],
    acc: npt.NDArray[np.float64],
) -> None:
    n = n_pods(t)
    if n <= 1:
        acc[base] += mass.sum()
        return
    if t.lb.hash_on is not None:
        col = hash_key_column(batch, t.lb, prog.matching.shared)
        keys = np.take(prog.router.hash_table(col.values), col.codes)
        hashed = keys >= 0
        if hashed.any():
            eps = (keys[hashed].astype(np.uint64) % np.uint64(n)).astype(np.intp)
            np.add.at(acc, base + eps, mass[hashed])
        acc[base : base + n] += mass[~hashed].sum() / n
        return
    acc[base : base + n] += mass.sum() / n


__all__ = ["factored_leaf_distribution", "leaf_distribution"]
