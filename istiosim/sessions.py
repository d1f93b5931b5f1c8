"""``Simulator.sessions``: what a consistent hash does for one user's sequence of requests.

Users expect ``consistentHash`` on a header or cookie to keep a user on one pod. It does, but
only *within* one destination (subset): Envoy's router first picks the weighted cluster of the
route from the request's own random value (``WeightedClusterSpecifierPlugin::
pickWeightedCluster``, ``source/common/router/weighted_cluster_specifier.cc``), and only then
does the chosen cluster's load balancer (ring hash or Maglev) map the request's hash to one of
*its* hosts (``RingHashLoadBalancer::Ring::chooseHost``); Istio attaches the hash policy to the
route and the ring to each destination's cluster (``processWeightedDestination``,
``pilot/pkg/networking/core/route/route.go``). So a user behind a 50/50 split changes subset
from request to request, and stays on one pod only if every request drew the same subset.

A session is ``requests_per_user`` requests that are all the user's one request (same headers,
same cookie, same path), each routed with fresh draws. ``sessions`` draws ``users`` users from
the traffic model, routes every session through the vector engine and counts, per user, the
distinct subsets and pods seen. Beside the sampled shares it gives the exact probabilities: per
distinct request r with leaf distribution P(· | r), a session of k requests stays on one pod
with probability sum_q P(q | r)^k, on one subset with sum_s P(s | r)^k, and sees every subset
of a set S with sum over A ⊆ S of (-1)^|A| (1 - P(A | r))^k (inclusion-exclusion); averaged
over the traffic model's distinct requests (exact) or, when it has more than ``EXACT_ROWS``, over
the sampled users (the mean of exact per-user probabilities: an estimate).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from ._display import Displayable
from .batch import RequestBatch
from .engine.draws import SlotDraws, seed_sequence, uniform_below
from .engine.vector import Router
from .errors import InvalidArgument
from .traffic import Traffic, as_traffic

#: traffic models with at most this many distinct requests get exact population shares
EXACT_ROWS = 1 << 16
#: limits of one call: users, requests per user, and their product (routed requests, each
#: holding a few 8-byte per-request arrays while it is counted)
MAX_USERS = 10**6
MAX_REQUESTS_PER_USER = 10**4
MAX_ROUTED = 10**7
#: "saw every subset" is given for up to this many subsets (2^k inclusion-exclusion terms)
MAX_SET = 8


@dataclass(frozen=True)
class SessionShare:
    """One summary line: how many sampled users did ``what``, and its probability."""

    what: str
    users: int
    share: float
    probability: float | None
    how: str  # "exact" (over the traffic model) or "estimate" (over the sampled users)


@dataclass(frozen=True)
class SessionResult(Displayable):
    """Sessions of ``requests_per_user`` requests by ``users`` users (``Simulator.sessions``).

    Per user (arrays of length ``users``, text made on demand): ``labels`` (the user's varying
    request values, e.g. ``end-user=user-042``), ``classes`` (traffic class index), ``n_subsets`` and ``n_pods``
    (distinct subsets and pods its requests reached), ``subset_counts`` (requests per subset of
    ``subsets``, the last column those with no destination) and ``seen`` (the same as text).
    ``summary``: the shares of users who stayed on one pod, on one subset, and who saw every
    subset reached (e.g. both v2 and v3), sampled and exact. ``rows``/``counts``: all routed
    requests by (host, subset, workload, outcome, status), as ``simulate`` counts them.
    """

    users: int
    requests_per_user: int
    seed: int | None
    class_names: tuple[str, ...]
    label_columns: tuple[tuple[str, Any, Any], ...]
    classes: npt.NDArray[np.intp]
    n_subsets: npt.NDArray[np.int64]
    n_pods: npt.NDArray[np.int64]
    subset_counts: npt.NDArray[np.int64]
    subsets: tuple[str, ...]
    summary: tuple[SessionShare, ...]
    rows: tuple[tuple[str, str | None, str | None, str, int], ...]
    counts: tuple[int, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """Per user, its varying request values (``end-user=user-042``), else its class."""
        out = []
        for i, c in enumerate(self.classes.tolist()):
            parts = [
                f"{name}={values[int(codes[i])]}"
                for name, values, codes in self.label_columns
                if values[int(codes[i])] is not None
            ]
            out.append(", ".join(parts) or self.class_names[c])
        return tuple(out)

    @property
    def seen(self) -> tuple[str, ...]:
        """Per user, its requests by subset as text (``v2 ×6, v3 ×4``)."""
        names = [*self.subsets, "(no destination)"]
        return tuple(
            ", ".join(f"{names[int(j)]} ×{int(row[j])}" for j in np.flatnonzero(row))
            for row in self.subset_counts
        )

    def share(self, what: str) -> SessionShare:
        """The summary line whose ``what`` starts with ``what`` ("stayed on one pod"...)."""
        for s in self.summary:
            if s.what.startswith(what):
                return s
        raise InvalidArgument(
            f"no summary line {what!r}; there are: {', '.join(s.what for s in self.summary)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.users * self.requests_per_user,
            "rows": [
                {
                    "host": h,
                    "subset": s,
                    "workload": w,
                    "outcome": o,
                    "status": st,
                    "count": c,
                }
                for (h, s, w, o, st), c in zip(self.rows, self.counts, strict=True)
            ],
            "sessions": {
                "users": self.users,
                "requests_per_user": self.requests_per_user,
                "seed": self.seed,
                "summary": [
                    {
                        "what": s.what,
                        "users": s.users,
                        "share": s.share,
                        "probability": s.probability,
                        "how": s.how,
                    }
                    for s in self.summary
                ],
                "per_user": [
                    {
                        "user": lab,
                        "class": self.class_names[int(c)],
                        "subsets": int(ns),
                        "pods": int(npd),
                        "seen": seen,
                    }
                    for lab, c, ns, npd, seen in zip(
                        self.labels,
                        self.classes,
                        self.n_subsets,
                        self.n_pods,
                        self.seen,
                        strict=True,
                    )
                ],
            },
        }

    # -- display ------------------------------------------------------------------------------

    def _table(self) -> Any:
        from .display.table import Col, Table

        k = self.requests_per_user
        rows = [(s.what, s.users, s.share, s.probability, s.how) for s in self.summary]
        return Table(
            title=f"{self.users:,} users × {k:,} requests each"
            + (f" (seed {self.seed})" if self.seed is not None else ""),
            columns=(
                Col("users who", "text"),
                Col("users", "count"),
                Col("share", "share"),
                Col("probability", "share"),
                Col("", "text"),
            ),
            rows=rows,
            notes=(
                "Envoy picks the weighted destination (subset) per request from its own random "
                "draw, then the hash picks the pod inside it: consistentHash keeps a user on one "
                "pod within a subset, not on one subset.",
            ),
        )

    def per_user(self) -> Any:
        """A :class:`~istiosim.display.Table` of the sessions, one row per user."""
        from .display.table import Col, Table

        return Table(
            title=f"{self.users:,} sessions of {self.requests_per_user:,} requests",
            columns=(
                Col("user", "text"),
                Col("class", "text"),
                Col("subsets", "int"),
                Col("pods", "int"),
                Col("requests by subset", "text"),
            ),
            rows=[
                (lab, self.class_names[int(c)], int(ns), int(npd), seen)
                for lab, c, ns, npd, seen in zip(
                    self.labels, self.classes, self.n_subsets, self.n_pods, self.seen, strict=True
                )
            ],
            max_rows=20,
        )

    def __str__(self) -> str:
        from .display import as_text

        return as_text(self)

    def __repr__(self) -> str:
        return (
            f"SessionResult(users={self.users}, requests_per_user={self.requests_per_user}, "
            + ", ".join(f"{s.what}: {s.share:.4g}" for s in self.summary)
            + ")"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def to_pandas(self) -> Any:
        """The per-user table as a DataFrame (the summary: ``display.to_pandas(result)``)."""
        return self.per_user().to_pandas()


def _positive(v: Any, what: str, high: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 1 <= v <= high:
        raise InvalidArgument(f"{what} must be an integer in [1, {high:,}], got {v!r}")
    return int(v)


def sessions(
    router: Router,
    traffic: Any,
    *,
    users: int = 1000,
    requests_per_user: int = 10,
    rng: Any = None,
) -> SessionResult:
    """See ``Simulator.sessions``."""
    users = _positive(users, "users", MAX_USERS)
    k = _positive(requests_per_user, "requests_per_user", MAX_REQUESTS_PER_USER)
    if users * k > MAX_ROUTED:
        raise InvalidArgument(
            f"users × requests_per_user = {users * k:,} requests; the limit is {MAX_ROUTED:,} "
            "(the exact shares do not depend on users: fewer users give the same probabilities)"
        )
    t = as_traffic(traffic)
    ss, seed = seed_sequence(rng)
    gen = np.random.Generator(np.random.PCG64(ss))
    from .simulate import _concat, _draw_plan, row_leaf_probabilities

    groups = {(c.template.host, c.template.port, c.source) for c in t.classes}
    programs = {id(p): p for p in (router.program(*g)[0] for g in groups)}
    drawn, batch = t.sample(users, gen)
    cls: npt.NDArray[np.intp] = np.asarray(drawn, np.intp)
    rep = batch.take(np.repeat(np.arange(users, dtype=np.intp), k))
    slots = _draw_plan(list(programs.values()), keep=False)
    draws = SlotDraws({s: uniform_below(gen, b, users * k) for s, b in slots}, dict(slots))
    leaf = router.run(rep, draws)[0].astype(np.intp).reshape(users, k)

    n_leaves = len(router.leaves)
    sub_of, pod_of, sub_names = _leaf_keys(router, n_leaves)
    subs = sub_of[leaf]
    pods = pod_of[leaf]
    n_subsets = _distinct(subs)
    n_pods = _distinct(pods)
    one_pod = (pods[:, :1] >= 0) & (pods == pods[:, :1])
    one_sub = (subs[:, :1] >= 0) & (subs == subs[:, :1])
    stayed_pod = one_pod.all(axis=1)
    stayed_sub = one_sub.all(axis=1)
    reached = sorted({int(s) for s in np.unique(subs) if s >= 0}, key=lambda s: sub_names[s])
    every = reached if 2 <= len(reached) <= MAX_SET else []
    saw_all = np.ones(users, bool)
    for s in every:
        saw_all &= (subs == s).any(axis=1)

    # exact: per distinct request (the model's, when few enough; else the sampled users)
    exact_rows = sum(c.support_size for c in t.classes)
    if exact_rows <= EXACT_ROWS:
        how = "exact"
        parts = [t.support(c) for c in range(len(t.classes))]
        rows_batch = _concat([b for b, _ in parts])
        weights = np.concatenate([p * share for (_, p), share in zip(parts, t.shares, strict=True)])
    else:
        how = "estimate"
        rows_batch = batch
        weights = np.full(users, 1.0 / users)
    r, lf, p = row_leaf_probabilities(router, rows_batch, np.arange(len(rows_batch), dtype=np.intp))
    n_rows = len(rows_batch)
    p_sub = _by_key(r, sub_of[lf], p, n_rows, len(sub_names))
    p_pod = _by_key(r, pod_of[lf], p, n_rows, int(pod_of.max(initial=-1)) + 1)
    exact_pod = float(weights @ (p_pod**k).sum(axis=1))
    exact_sub = float(weights @ (p_sub**k).sum(axis=1))
    exact_all = None
    if every:
        acc = np.zeros(n_rows)
        for size in range(len(every) + 1):
            for a in combinations(every, size):
                pa = p_sub[:, list(a)].sum(axis=1) if a else np.zeros(n_rows)
                acc += (-1) ** size * np.clip(1.0 - pa, 0.0, 1.0) ** k
        exact_all = float(weights @ acc)

    def line(what: str, hits: npt.NDArray[np.bool_], prob: float | None) -> SessionShare:
        n_hit = int(hits.sum())
        return SessionShare(what, n_hit, n_hit / users, prob, how)

    summary = [
        line("stayed on one pod", stayed_pod, exact_pod),
        line("stayed on one subset", stayed_sub, exact_sub),
    ]
    if every:
        names = [sub_names[s] for s in every]
        what = (
            f"saw both {names[0]} and {names[1]}"
            if len(names) == 2
            else "saw every one of " + ", ".join(names)
        )
        summary.append(line(what, saw_all, exact_all))

    n_sub = len(sub_names)
    by_user = np.bincount(
        (np.arange(users)[:, None] * (n_sub + 1) + np.where(subs >= 0, subs, n_sub)).ravel(),
        minlength=users * (n_sub + 1),
    ).reshape(users, n_sub + 1)
    cells = np.bincount(leaf.ravel(), minlength=n_leaves)
    by_cell: dict[Any, int] = {}
    for i in np.flatnonzero(cells):
        cell = router.leaves[int(i)].cell()
        by_cell[cell] = by_cell.get(cell, 0) + int(cells[i])
    from .results import _sort_key

    order = sorted(by_cell, key=_sort_key)
    return SessionResult(
        users=users,
        requests_per_user=k,
        seed=seed,
        class_names=t.names,
        label_columns=_label_columns(t, batch),
        classes=cls,
        n_subsets=n_subsets,
        n_pods=n_pods,
        subset_counts=by_user,
        subsets=tuple(sub_names),
        summary=tuple(summary),
        rows=tuple(order),
        counts=tuple(by_cell[c] for c in order),
    )


def _leaf_keys(
    router: Router, n_leaves: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], list[str]]:
    """Per leaf: its subset id and pod id (-1: no destination / no pod), and subset names."""
    subs: dict[tuple[str, str | None], int] = {}
    pods: dict[tuple[str, str], int] = {}
    sub_of = np.full(max(1, n_leaves), -1, np.intp)
    pod_of = np.full(max(1, n_leaves), -1, np.intp)
    for i, lf in enumerate(router.leaves[:n_leaves]):
        tg = lf.target_obj
        if tg is None:
            continue
        sub_of[i] = subs.setdefault((tg.host, tg.subset), len(subs))
        pod = lf.pod
        if pod is not None:
            pod_of[i] = pods.setdefault((tg.host, pod), len(pods))
    hosts = {h for h, _ in subs}
    names = [
        (s if s is not None else h.split(".")[0])
        if len(hosts) == 1
        else f"{h.split('.')[0]}/{s if s is not None else '-'}"
        for h, s in subs
    ]
    return sub_of, pod_of, names


def _distinct(a: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
    """Per row: how many distinct non-negative values."""
    s = np.sort(a, axis=1)
    new = np.ones(s.shape, bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    out: npt.NDArray[np.int64] = (new & (s >= 0)).sum(axis=1).astype(np.int64)
    return out


def _by_key(
    r: npt.NDArray[np.intp],
    key: npt.NDArray[np.intp],
    p: npt.NDArray[np.float64],
    n_rows: int,
    n_keys: int,
) -> npt.NDArray[np.float64]:
    """[row, key] probabilities from (row, key, p) triples (key -1 dropped)."""
    out = np.zeros((n_rows, max(1, n_keys)))
    ok = key >= 0
    np.add.at(out, (r[ok], key[ok]), p[ok])
    return out


def _label_columns(t: Traffic, batch: RequestBatch) -> tuple[tuple[str, Any, Any], ...]:
    """The columns a user's label is made of: (name, value table, codes) per varying column."""
    out = []
    for name in sorted({k for c in t.classes for k in c.columns}):
        col = batch.headers.get(name[7:]) if name.startswith("header:") else getattr(batch, name)
        if col is not None:
            out.append((name.removeprefix("header:"), col.values, np.asarray(col.codes)))
    return tuple(out)


__all__ = ["SessionResult", "SessionShare", "sessions"]
