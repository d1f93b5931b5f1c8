"""Property tests: the vector engine and the scalar engine give identical decisions.

For any generated config (mesh and client workloads in several namespaces, ServiceEntries,
DestinationRules, VirtualServices bound to the mesh and to gateways, delegating rules and their
delegates, config-time sourceLabels / sourceNamespace / gateways / port matches, faults and
several mirrors per rule), request batch (from sidecars in several namespaces, with or without
labels, and from gateways) and draws,
``route_batch(plan, batch, draws)[i] == route(plan, batch[i], draws[i])`` for every i, comparing
every field of the ``Decision`` but the trace (outcome, status, VirtualService, rule, match,
destination, workload, pod, candidates, flags, delay, redirect, rewritten path and authority,
headers, mirrors, timeout).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from istiosim import Request
from istiosim.batch import RequestBatch
from istiosim.engine import route, route_batch
from istiosim.engine.analytic import leaf_distribution
from istiosim.engine.draws import SlotDraws
from istiosim.engine.leaf import LeafKind
from istiosim.engine.vector import Router
from istiosim.testing import strategies as ist

from conftest import examples

BOOKINFO = Path(__file__).resolve().parent.parent / "istiosim" / "data" / "bookinfo"


@pytest.fixture(scope="module")
def bookinfo_canary():
    import istiosim

    files = ("bookinfo-k8s.yaml", "destination.yaml", "canary-50-50.yaml")
    return istiosim.load(*(str(BOOKINFO / f) for f in files))


SETTINGS = settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(ist.simulators(), ist.data())
def test_vector_engine_equals_scalar_engine(sim, data):
    batch = data.draw(ist.batches())
    k = data.draw(st.integers(0, sim.plan.n_draws))  # slots past k count as 0 in both engines
    draws = data.draw(ist.draws(len(batch), k))
    bd = route_batch(sim.plan, batch, draws)
    for i in range(len(batch)):
        row = [int(x) for x in draws[i]]
        expected = route(sim.plan, batch[i], row)
        got = bd[i]
        assert got == expected, (i, batch[i], row, got, expected)
        assert bd.status[i] == expected.status
        assert bd.rule[i] == (-1 if expected.rule is None else expected.rule)
        assert bd.outcome[i] == expected.outcome.value


@SETTINGS
@given(ist.simulators(), ist.data())
def test_weight_zero_destination_never_picked(sim, data):
    batch = data.draw(ist.batches())
    draws = data.draw(ist.draws(len(batch), sim.plan.n_draws))
    bd = route_batch(sim.plan, batch, draws)
    for i in range(len(batch)):
        d = bd[i]
        if d.destination is None or not d.candidates or d.outcome.value == "PASSTHROUGH":
            continue
        picked = [c for c in d.candidates if c.cluster == d.destination.cluster]
        assert any(c.weight > 0 for c in picked), (batch[i], d)


@SETTINGS
@given(ist.simulators(), ist.data())
def test_rule_after_catch_all_never_chosen(sim, data):
    batch = data.draw(ist.batches())
    router = Router(sim.plan)
    draws = np.zeros((len(batch), sim.plan.n_draws), np.uint64)
    bd = route_batch(sim.plan, batch, draws, router=router)
    for i in range(len(batch)):
        leaf = router.leaves[int(bd.leaf[i])]
        table = leaf.table
        if leaf.entry < 0:
            continue
        catch_alls = [j for j, e in enumerate(table.entries) if e.entry.is_catch_all]
        if catch_alls:
            assert leaf.entry <= catch_alls[0]


@SETTINGS
@given(ist.simulators(), ist.requests())
def test_exact_distribution_matches_candidates(sim, request):
    """One request: the analytic leaf distribution gives each candidate its probability."""
    d = route(sim.plan, request, [0] * sim.plan.n_draws)
    router = Router(sim.plan)
    ids, probs = leaf_distribution(router, RequestBatch.from_requests([request]), np.ones(1))
    assert abs(probs.sum() - 1) < 1e-12
    fault = d.outcome.value == "FI" or any(
        lf for lf in ids if router.leaves[lf].kind == LeafKind.FI
    )
    if d.candidates and request.random_value is None and not fault:
        by_cluster: dict[str, float] = {}
        for lf, p in zip(ids, probs, strict=True):
            t = router.leaves[int(lf)].target_obj
            if t is not None:
                by_cluster[t.cluster] = by_cluster.get(t.cluster, 0.0) + float(p)
        want: dict[str, Fraction] = {}
        for c in d.candidates:
            want[c.cluster] = want.get(c.cluster, Fraction(0)) + c.probability
        for cluster, p in want.items():
            assert abs(by_cluster.get(cluster, 0.0) - float(p)) < 1e-12, (cluster, by_cluster, want)


def test_row_draws_match_scalar_on_bookinfo(bookinfo_canary):
    plan = bookinfo_canary.plan
    reqs = [
        Request("reviews"),
        Request("reviews", random_value=49),
        Request("reviews", random_value=50),
    ]
    batch = RequestBatch.from_requests(reqs * 100)
    draws = np.random.default_rng(3).integers(0, 2**64, (len(batch), plan.n_draws), dtype=np.uint64)
    bd = route_batch(plan, batch, draws)
    assert [bd[i] for i in range(len(batch))] == [
        route(plan, batch[i], [int(x) for x in draws[i]]) for i in range(len(batch))
    ]
    assert bd[1].subset == "v2" and bd[2].subset == "v3"  # random_value overrides the draw


@SETTINGS
@given(ist.simulators(), ist.data())
def test_bounded_draws_equal_scalar(sim, data):
    """Draws known to lie below a bound (as simulate makes them) take the engine's fused
    table path; row i still agrees with the scalar engine given the same values."""
    batch = data.draw(ist.batches())
    n = len(batch)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    bounds = {}
    arrays = {}
    for slot in range(sim.plan.n_draws):
        b = data.draw(st.sampled_from((1, 2, 3, 100, 600, 1_000_000)))
        bounds[slot] = b
        arrays[slot] = rng.integers(0, b, size=n, dtype=np.uint32)
    bd = route_batch(sim.plan, batch, SlotDraws(arrays, bounds), delays=False, mirrors=False)
    for i in range(n):
        row = [int(arrays[s][i]) for s in range(sim.plan.n_draws)]
        expected = route(sim.plan, batch[i], row)
        assert bd.status[i] == expected.status, (i, batch[i], row)
        assert bd.rule[i] == (-1 if expected.rule is None else expected.rule)
        assert bd.outcome[i] == expected.outcome.value
        assert bd.pod[i] == expected.pod
        assert bd.subset[i] == expected.subset


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ist.simulators(), ist.requests(), ist.data())
def test_factored_distribution_equals_enumeration(sim, template, data):
    """Convolving per-column rule bitmasks gives the same leaf probabilities as routing every
    distinct request of the class (when no pod is hashed on a varying column)."""
    from istiosim.engine.analytic import factored_leaf_distribution
    from istiosim.traffic import Traffic

    paths = data.draw(st.lists(st.sampled_from(ist.PATHS), min_size=1, max_size=5, unique=True))
    users = data.draw(st.lists(st.sampled_from(ist.USERS), min_size=1, max_size=4, unique=True))
    methods = data.draw(st.lists(st.sampled_from(ist.METHODS), min_size=1, max_size=3, unique=True))
    t = Traffic.request(template, path=paths, method=methods, headers={"end-user": [*users, None]})
    router = Router(sim.plan)
    batch, marg = t.marginals(0)
    got = factored_leaf_distribution(router, batch, marg)
    sb, p = t.support(0)
    ids, probs = leaf_distribution(router, sb, p)
    if got is None:
        return
    assert list(got[0]) == list(ids)
    assert np.allclose(got[1], probs, rtol=0, atol=1e-12)


@SETTINGS
@given(st.booleans(), ist.data())
def test_route_program_equals_scalar_engine(plain, data):
    """``route_drawn`` (a table's route program where every entry is a plain forward, else
    ``route``) gives ``route``'s Decision, every field (the inputs ``explain()`` routes again
    included), on every generated config, request and draw; one cache across requests, as the
    Simulator keeps it. Half the configs have only plain forwards, so programs run often."""
    from istiosim.engine.scalar import ScalarCache, route_drawn

    sim = data.draw(ist.simulators(plain=plain))
    batch = data.draw(ist.batches())
    draws = data.draw(ist.draws(len(batch), sim.plan.n_draws))
    cache = ScalarCache()
    for i in range(len(batch)):
        row = tuple(int(x) for x in draws[i])
        want = route(sim.plan, batch[i], row)
        got = route_drawn(sim.plan, batch[i], row, cache)
        assert tuple.__eq__(got, want), (i, batch[i], row, got, want)
