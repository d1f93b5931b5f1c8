"""The analytic evaluator (``mode="exact"``, ``engine.analytic``) against sampling and enumeration.

On generated configs where most forward rules carry a fault (delay and/or abort percentages)
and mirrors (``strategies.simulators(faulty=True)``) and generated traffic mixes:

- sampling: each cell's (and each leaf's) count in a seeded sample is tested against
  Binomial(class count, exact probability), two-sided, Bonferroni over every test made, at a
  family-wise false-alarm rate of ``ALPHA`` = 1e-6 per example; a cell the exact mode gives
  probability 0 must never be sampled. Delays and mirrors do not change where a request goes
  (no leaf), so they are tested per leaf: among the requests in a leaf, the delayed ones are
  Binomial(count, delay percentage) and the ones whose mirror j fired Binomial(count, its
  percentage). Two samplers: ``simulate(mode="sample", method="vector")`` (the streaming path,
  bounded draws and fused tables) and ``route_batch`` with raw 64-bit draws (the path the
  scalar ≡ vector property tests pin to the scalar engine).
  (``method="counts"`` is not tested here: it draws a multinomial from the exact probabilities.)
- enumeration: every distinct request of a class crossed with every route draw below the lcm
  of the weight totals, every endpoint draw below the lcm of the endpoint counts and one abort
  draw per interval between abort thresholds, each weighted by its exact probability and
  routed by the vector engine, gives the exact leaf probabilities (to 1e-9), when that grid is
  small enough.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from istiosim.engine import route_batch
from istiosim.engine.analytic import factored_leaf_distribution, leaf_distribution
from istiosim.engine.draws import SlotDraws
from istiosim.engine.leaf import TARGET
from istiosim.engine.vector import Router
from istiosim.plan import DRAW_ABORT, DRAW_ENDPOINT, DRAW_ROUTE, PER_MILLION, Forward
from istiosim.simulate import class_leaf_probabilities
from istiosim.testing import strategies as ist
from istiosim.traffic import Traffic

#: family-wise probability, per generated example, of a false alarm from sampling noise
ALPHA = 1e-6
#: sample size per example (a few ms through the vector engine)
N = 20_000
SEED = 20260
#: largest draw grid enumerated (rows through the vector engine)
MAX_GRID = 400_000

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _traffic(sim, data, max_classes: int = 3) -> Traffic:
    """Generated traffic to the hosts the config's VirtualServices claim (so that requests
    reach its faults and mirrors), else to the strategies' hosts."""
    claimed = tuple(
        sorted({h for vs in sim.plan.virtual_services for h in vs.hosts if "*" not in h})
    )
    return data.draw(ist.traffics(max_classes, claimed or ist.HOSTS))


class Binomials:
    """Collects (observed, trials, p, what) and checks them all at ALPHA, Bonferroni."""

    def __init__(self) -> None:
        self.tests: list[tuple[int, int, float, str]] = []

    def add(self, observed: int, trials: int, p: float, what: str) -> None:
        self.tests.append((int(observed), int(trials), min(max(float(p), 0.0), 1.0), what))

    def check(self) -> None:
        level = ALPHA / max(1, len(self.tests))
        for x, n, p, what in self.tests:
            if p <= 1e-15:
                assert x == 0, f"{what}: {x} of {n} observed, exact probability {p}"
                continue
            if p >= 1 - 1e-15:
                assert x == n, f"{what}: {x} of {n} observed, exact probability {p}"
                continue
            lo = stats.binom.cdf(x, n, p)
            hi = stats.binom.sf(x - 1, n, p)
            pvalue = min(1.0, 2 * min(lo, hi))
            assert pvalue >= level, (
                f"{what}: {x} of {n} observed, expected {n * p:.1f} (p = {p:.6g}); "
                f"two-sided p-value {pvalue:.3g} < {level:.3g}"
            )


def _forward(router: Router, leaf: int) -> Forward | None:
    e = router.leaves[leaf].resolved
    act = e.entry.action if e is not None else None
    return act if isinstance(act, Forward) else None


def _delay_pm(router: Router, leaf: int) -> int:
    act = _forward(router, leaf)
    f = act.fault if act is not None else None
    return f.delay_per_million if f is not None and f.delay_ms is not None else 0


def _side_effect_tests(
    b: Binomials,
    router: Router,
    leaf: np.ndarray,
    delayed: np.ndarray | None,
    mirror_bits: np.ndarray | None,
    label: str,
) -> None:
    """Per leaf: delayed ~ Binomial(count, delay pm); mirror j ~ Binomial(count, its pm)."""
    ids, inverse = np.unique(leaf, return_inverse=True)
    for u, lf in enumerate(ids.tolist()):
        rows = inverse == u
        count = int(rows.sum())
        pm = _delay_pm(router, lf)
        if delayed is not None:
            b.add(int(delayed[rows].sum()), count, pm / PER_MILLION, f"{label} leaf {lf} delayed")
        if mirror_bits is None:
            continue
        lv = router.leaves[lf]
        e = lv.resolved
        mirrors = e.mirrors if e is not None else ()
        reached = lv.kind == TARGET and lv.target_obj is not None and lv.endpoint >= 0
        for j in range(router.plan.max_mirrors):
            p = mirrors[j][1] / PER_MILLION if reached and j < len(mirrors) else 0.0
            fired = int(((mirror_bits[rows] >> j) & 1).sum())
            b.add(fired, count, p, f"{label} leaf {lf} mirror {j}")


@SETTINGS
@given(ist.simulators(faulty=True), ist.data())
def test_exact_mode_agrees_with_streamed_sampling(sim, data):
    traffic = _traffic(sim, data)
    exact = sim.simulate(traffic, N, mode="exact")
    sample = sim.simulate(traffic, N, mode="sample", method="vector", keep=True, rng=SEED)
    assert sample.method == "vector"
    b = Binomials()
    per_class = sample.matrix.sum(axis=1)
    assert int(per_class.sum()) == N
    cells = sorted(set(exact.cells) | set(sample.cells), key=repr)
    ex_col = {c: i for i, c in enumerate(exact.cells)}
    sa_col = {c: i for i, c in enumerate(sample.cells)}
    for k, name in enumerate(traffic.names):
        for cell in cells:
            p = float(exact.matrix[k, ex_col[cell]]) if cell in ex_col else 0.0
            x = int(sample.matrix[k, sa_col[cell]]) if cell in sa_col else 0
            b.add(x, int(per_class[k]), p, f"class {name!r} cell {cell}")
    pr = sample.per_request
    assert pr is not None
    router = sim.router
    _side_effect_tests(b, router, pr.leaf, pr.delayed, None, "streamed")
    b.check()


@SETTINGS
@given(ist.simulators(faulty=True), ist.data(), st.integers(0, 2**32 - 1))
def test_exact_leaves_agree_with_route_batch_sampling(sim, data, seed):
    """Raw 64-bit draws through ``route_batch``: leaves, delays and every mirror."""
    traffic = _traffic(sim, data)
    rng = np.random.default_rng(seed)
    cls, batch = traffic.sample(N, rng)
    draws = rng.integers(0, 2**64, size=(N, sim.plan.n_draws), dtype=np.uint64)
    bd = route_batch(sim.plan, batch, draws, router=sim.router)
    router = sim.router
    probs = class_leaf_probabilities(router, traffic)
    b = Binomials()
    cls = np.asarray(cls, np.intp)
    for k, name in enumerate(traffic.names):
        rows = cls == k
        n_k = int(rows.sum())
        counts = np.bincount(bd.leaf[rows], minlength=len(router.leaves))
        for lf in np.flatnonzero(counts + (probs[k] > 0)):
            b.add(int(counts[lf]), n_k, float(probs[k, lf]), f"class {name!r} leaf {lf}")
    _side_effect_tests(b, router, bd.leaf, bd.delayed, bd.mirror_bits, "route_batch")
    b.check()


def _grid_axes(router: Router, progs: list) -> tuple[int, int, list[tuple[int, float]]] | None:
    """(route draws, endpoint draws, [(abort draw, weight)]) covering every random choice of
    these programs exactly, or None when the grid would be too large."""
    totals, eps, thresholds = {1}, {1}, set()
    for prog in progs:
        table = prog.table
        targets = [table.default] if table.default is not None else []
        for k, re_ in enumerate(table.entries):
            act = re_.entry.action
            if not isinstance(act, Forward):
                continue
            if not isinstance(prog.picks[k], int):
                totals.add(act.weights.total)
            targets.extend(re_.targets)
            f = act.fault
            if (
                f is not None
                and f.abort_status is not None
                and 0 < f.abort_per_million < PER_MILLION
            ):
                thresholds.add(f.abort_per_million)
        eps.update(len(t.endpoints) for t in targets if t.status == "OK" and t.endpoints)
    lr, le = math.lcm(*totals), math.lcm(*eps)
    cuts = [0, *sorted(thresholds), PER_MILLION]
    aborts = [(lo, (hi - lo) / PER_MILLION) for lo, hi in itertools.pairwise(cuts)]
    if lr * le * len(aborts) > MAX_GRID:
        return None
    return lr, le, aborts


@SETTINGS
@given(ist.simulators(faulty=True), ist.data())
def test_exact_equals_enumeration_over_draws(sim, data):
    traffic = _traffic(sim, data, max_classes=2)
    router = sim.router
    exact = class_leaf_probabilities(router, traffic)
    for k in range(len(traffic.classes)):
        support, p = traffic.support(k)
        progs = [prog for prog, _off, _rows in router.groups(support)]
        axes = _grid_axes(router, progs)
        if axes is None or len(support) * axes[0] * axes[1] * len(axes[2]) > MAX_GRID:
            continue  # not applicable: too many draw combinations to enumerate
        lr, le, aborts = axes
        r, e, a = np.meshgrid(
            np.arange(lr, dtype=np.uint64),
            np.arange(le, dtype=np.uint64),
            np.arange(len(aborts)),
            indexing="ij",
        )
        r, e, a = r.ravel(), e.ravel(), a.ravel()
        a_draw = np.asarray([lo for lo, _ in aborts], np.uint64)[a]
        a_w = np.asarray([w for _, w in aborts])[a]
        g = len(r)
        rows = np.repeat(np.arange(len(support)), g)
        batch = support.take(rows)
        draws = SlotDraws(
            {
                DRAW_ROUTE: np.tile(r, len(support)),
                DRAW_ENDPOINT: np.tile(e, len(support)),
                DRAW_ABORT: np.tile(a_draw, len(support)),
            }
        )
        weight = np.repeat(p, g) * np.tile(a_w / (lr * le), len(support))
        leaf, _, _ = router.run(batch, draws)
        got = np.bincount(leaf, weights=weight, minlength=len(router.leaves))
        want = np.zeros(len(router.leaves))
        want[: exact.shape[1]] = exact[k]
        assert np.allclose(got, want, rtol=0, atol=1e-9), (k, np.flatnonzero(got - want))
        ids, probs = leaf_distribution(router, support, p)
        assert np.allclose(got[ids], probs, rtol=0, atol=1e-9)
        batch_m, marg = traffic.marginals(k)
        factored = factored_leaf_distribution(router, batch_m, marg)
        if factored is not None:
            dense = np.zeros(len(router.leaves))
            dense[factored[0]] = factored[1]
            assert np.allclose(got, dense, rtol=0, atol=1e-9)


def test_fault_and_mirror_percentages_sampled_on_a_fixed_config():
    """A hand-written rule with every side effect: the samplers agree with the percentages."""
    import istiosim

    from helpers import svc

    text = svc("reviews", ["v1", "v2"]) + (
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {name: reviews}\nspec:\n  host: reviews\n  subsets:\n"
        "  - {name: v1, labels: {version: v1}}\n  - {name: v2, labels: {version: v2}}\n"
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        "metadata: {name: reviews}\nspec:\n  hosts: [reviews]\n  http:\n"
        "  - fault:\n      delay: {fixedDelay: 1s, percentage: {value: 30}}\n"
        "      abort: {httpStatus: 503, percentage: {value: 10}}\n"
        "    mirrors:\n    - destination: {host: reviews, subset: v1}\n"
        "      percentage: {value: 25}\n    - destination: {host: reviews}\n"
        "    route:\n    - destination: {host: reviews, subset: v1}\n      weight: 1\n"
        "    - destination: {host: reviews, subset: v2}\n      weight: 3\n"
    )
    sim = istiosim.load(text)
    t = Traffic.constant(istiosim.Request("reviews"))
    exact = sim.simulate(t, 1, mode="exact").shares(("subset", "outcome"))
    # an aborted request keeps the subset its route picked (1:3), as Envoy picks the weighted
    # cluster before the fault filter runs
    assert exact == pytest.approx(
        {("v1", "OK"): 0.225, ("v2", "OK"): 0.675, ("v1", "FI"): 0.025, ("v2", "FI"): 0.075}
    )
    rng = np.random.default_rng(SEED)
    _cls, batch = t.sample(N, rng)
    draws = rng.integers(0, 2**64, size=(N, sim.plan.n_draws), dtype=np.uint64)
    bd = route_batch(sim.plan, batch, draws, router=sim.router)
    b = Binomials()
    _side_effect_tests(b, sim.router, bd.leaf, bd.delayed, bd.mirror_bits, "fixed")
    b.add(int(bd.delayed.sum()), N, 0.3, "delayed overall")
    b.add(int((bd.outcome == "FI").sum()), N, 0.1, "aborted overall")
    fi = bd.outcome == "FI"
    b.add(int((fi & (bd.subset == "v2")).sum()), int(fi.sum()), 0.75, "aborted keep the pick")
    b.add(int(((bd.mirror_bits >> 1) & 1).sum()), N, 0.9, "second mirror overall")
    b.check()


def test_binomial_check_catches_a_wrong_probability():
    fair = Binomials()
    fair.add(5_020, 10_000, 0.5, "fair coin")  # 0.4 sigma
    fair.add(0, 10_000, 0.0, "never")
    fair.check()
    for observed, p in ((5_600, 0.5), (1, 0.0), (9_999, 1.0)):  # 12 sigma, impossible x2
        b = Binomials()
        b.add(observed, 10_000, p, "wrong")
        with pytest.raises(AssertionError):
            b.check()
