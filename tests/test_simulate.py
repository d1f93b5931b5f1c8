"""Simulator.simulate: exact, stratified and sampled modes, streaming, reproducibility, bad input."""

from __future__ import annotations

import math
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import istiosim
from istiosim import InvalidArgument, Request, SimulationResult, Traffic
from istiosim.testing import strategies as ist

from conftest import examples, load_demo

HOST = "reviews.default.svc.cluster.local"

THIRDS = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /down}}]
    fault: {abort: {httpStatus: 503, percentage: {value: 20}}}
    route: [{destination: {host: reviews, subset: v1}}]
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 1}
    - {destination: {host: reviews, subset: v2}, weight: 1}
    - {destination: {host: reviews, subset: v3}, weight: 1}
"""


@pytest.fixture(scope="module")
def canary() -> istiosim.Simulator:
    return load_demo("canary-50-50.yaml")


@pytest.fixture(scope="module")
def header() -> istiosim.Simulator:
    return load_demo("header-jason-v3.yaml")


@pytest.fixture(scope="module")
def thirds() -> istiosim.Simulator:
    return load_demo(THIRDS)


USERS = Traffic.users(Request("reviews"), n_users=1000, named={"jason": 0.1})


def test_exact_mode_gives_candidate_probabilities(canary, thirds):
    res = canary.simulate(Request("reviews"), 1000, mode="exact")
    assert res.shares("subset") == {"v2": 0.5, "v3": 0.5}
    assert res.counts("subset") == {"v2": 500.0, "v3": 500.0}
    res = thirds.simulate(
        Traffic.request(Request("reviews"), path=["/down", "/up"]), 1, mode="exact"
    )
    shares = res.shares(("subset", "outcome"))
    # an aborted request keeps its route's destination (v1 here)
    assert shares[("v1", "FI")] == pytest.approx(0.5 * 0.2, abs=1e-15)
    assert shares[("v1", "OK")] == pytest.approx(0.5 * 0.8 + 0.5 / 3, abs=1e-15)
    assert shares[("v3", "OK")] == pytest.approx(0.5 / 3, abs=1e-15)
    # each workload of v1 (2 pods... all in one Deployment) and status
    assert res.counts("status")[503] == pytest.approx(0.1)


def test_exact_by_class_for_a_user_population(header):
    res = header.simulate(USERS, 10**6, mode="exact")
    assert res.shares("subset") == pytest.approx({"v3": 0.1, "v2": 0.9}, abs=1e-12)
    by = res.by_class()
    assert by["reviews end-user=jason"].shares("subset") == {"v3": 1.0}
    assert by["reviews other users"].shares("subset") == pytest.approx({"v2": 1.0})


def test_stratified_counts_within_one_of_n_p(thirds):
    for n in (1, 2, 10, 1001, 999_999):
        res = thirds.simulate(Request("reviews"), n, mode="stratified")
        exact = thirds.simulate(Request("reviews"), n, mode="exact")
        assert sum(res.counts().values()) == n
        for cell, c in res.counts().items():
            assert isinstance(c, int) and abs(c - exact.counts()[cell]) <= 1


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ist.simulators(), ist.requests())
def test_exact_shares_are_candidate_probabilities(sim, request):
    """Any generated config: the exact mode's destination shares are the route's candidates'."""
    d = sim.route(request, rng=0)
    res = sim.simulate(request, 1, mode="exact")
    assert math.isclose(sum(res.shares().values()), 1.0, rel_tol=1e-12)
    faults = any(o == "FI" for o in res.counts("outcome"))
    if (
        d.candidates
        and request.random_value is None
        and not faults
        and d.outcome.value != "PASSTHROUGH"
    ):
        want: dict[tuple[str, str | None], Fraction] = {}
        for c in d.candidates:
            want[(c.host, c.subset)] = want.get((c.host, c.subset), Fraction(0)) + c.probability
        got = res.shares(("host", "subset"))
        for key, p in want.items():
            assert got.get(key, 0.0) == pytest.approx(float(p), abs=1e-12)


def test_sample_mode_is_seeded(header):
    a = header.simulate(USERS, 100_000, rng=7)
    b = header.simulate(USERS, 100_000, rng=7)
    c = header.simulate(USERS, 100_000, rng=8)
    assert a.counts() == b.counts() and a.counts() != c.counts()
    assert a.seed == 7 and a.method == "counts"
    assert sum(a.counts().values()) == 100_000


def test_huge_n_counts_are_instant(canary):
    t0 = time.perf_counter()
    res = canary.simulate(Request("reviews"), 10**12, rng=1)
    assert time.perf_counter() - t0 < 2.0
    counts = res.subset_counts()
    assert sum(counts.values()) == 10**12
    # binomial sd = 5e5; 10 sd bound
    assert abs(counts["v2"] - 5 * 10**11) < 5_000_000


def test_vector_streaming_independent_of_chunks_and_threads(header):
    runs = [
        header.simulate(USERS, 300_000, rng=3, method="vector", chunk_size=cs, threads=th)
        for cs, th in ((1 << 16, 1), (1 << 18, 2), (3 << 16, 2), (1 << 20, 1))
    ]
    assert all(r.counts() == runs[0].counts() for r in runs)
    assert all(
        r.by_class()["reviews end-user=jason"].counts()
        == runs[0].by_class()["reviews end-user=jason"].counts()
        for r in runs
    )
    jason = runs[0].by_class()["reviews end-user=jason"]
    assert set(jason.counts("subset")) == {"v3"}
    # pods of a subset share its load (2 pods of v2)
    pods = runs[0].counts("workload")
    assert set(pods) == {"reviews-v2", "reviews-v3"}


def test_keep_per_request_arrays(thirds):
    t = Traffic.request(Request("reviews"), path=["/down", "/up"])
    res = thirds.simulate(t, 50_000, rng=11, keep=True)
    pr = res.per_request
    assert pr is not None and len(pr) == 50_000 and res.method == "vector"
    counts = np.bincount(pr.cell, minlength=len(res.cells))
    assert {res.cells[i]: int(c) for i, c in enumerate(counts) if c} == res.counts()
    fi = np.asarray([res.cells[i][3] == "FI" for i in pr.cell])
    assert np.all(pr.status[fi] == 503) and np.all(pr.rule[fi] == 0)
    assert set(np.unique(pr.rule).tolist()) == {0, 1}
    pods = {None, *(f"reviews-{v}-{i}" for v in ("v1", "v2", "v3") for i in (0, 1))}
    assert set(pr.pod.tolist()) == pods  # each has probability >= 8%: all appear in 50,000
    assert np.all(pr.delay_ms == -1)


@pytest.mark.slow
def test_sampled_shares_converge(thirds):
    """1e6 requests per path, both samplers: each subset within 6 sd of its exact share."""
    t = Traffic.request(Request("reviews"), path=["/down", "/up"])
    exact = thirds.simulate(t, 1, mode="exact").shares()
    n = 1_000_000
    for method in ("counts", "vector"):
        res = thirds.simulate(t, n, rng=2026, method=method)
        for cell, p in exact.items():
            sd = math.sqrt(n * p * (1 - p))
            assert abs(res.counts().get(cell, 0) - n * p) <= 6 * sd + 1, (method, cell)


def test_result_helpers(canary, header):
    res = canary.simulate(Request("reviews"), 10_000, rng=5)
    assert isinstance(res, SimulationResult)
    rows = res.rows()
    assert {r["subset"] for r in rows} == {"v2", "v3"}
    assert set(rows[0]) == {"host", "subset", "workload", "outcome", "status", "count"}
    d = res.to_dict()
    assert d["n"] == 10_000 and d["seed"] == 5 and sum(r["count"] for r in d["rows"]) == 10_000
    text = str(res)
    assert "v2" in text and "seed 5" in text and "<table" in res._repr_html_()
    assert res.subset_counts(host="reviews") == res.subset_counts()
    split = istiosim.stats.split_test(res, {"v2": 50, "v3": 50})
    assert split is not None
    assert res.shares("outcome") == {"OK": 1.0}
    with pytest.raises(InvalidArgument, match="cannot count by"):
        res.counts("nope")


BOTH_V1 = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: both}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: v1}}]}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http: [{route: [{destination: {host: ratings, subset: v1}}]}]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  subsets: [{name: v1, labels: {version: v1}}]
"""


def test_subset_counts_ambiguous_hosts():
    """Two hosts with a subset v1: subset_counts() needs host= to know which one."""
    sim = load_demo(BOTH_V1)
    mix = Traffic.mix([(Request("reviews"), 1), (Request("ratings"), 1)])
    res = sim.simulate(mix, 1000, mode="stratified")
    with pytest.raises(InvalidArgument, match="pass host="):
        res.subset_counts()
    assert res.subset_counts(host="ratings") == {"v1": 500}
    assert res.subset_counts(host="reviews.default.svc.cluster.local") == {"v1": 500}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must be >= 0"),
        ({"n": True}, "n must be an integer"),
        ({"n": 1.5}, "n must be an integer"),
        ({"n": 10, "mode": "guess"}, "mode must be one of"),
        ({"n": 10, "method": "fast"}, "method must be one of"),
        ({"n": 10, "mode": "exact", "keep": True}, "keep=True needs mode='sample'"),
        ({"n": 10**15, "keep": True}, "keep=True for n = 1,000,000,000,000,000"),
        ({"n": 10, "rng": "seed"}, "rng must be None"),
        ({"n": 10, "rng": -3}, "non-negative"),
        ({"n": 10, "chunk_size": 0}, "chunk_size"),
        ({"n": 10, "threads": 0}, "threads"),
    ],
)
def test_bad_arguments_fail_before_work(canary, kwargs, message):
    with pytest.raises(InvalidArgument) as exc:
        canary.simulate(Request("reviews"), **kwargs)
    assert message in str(exc.value)


HASHED = """
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: a}}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
"""


def test_bad_traffic(canary):
    with pytest.raises(InvalidArgument, match="Request or a Traffic"):
        canary.simulate("reviews", 10)


BIG = Traffic.request(
    Request("reviews", "/reviews/1"),
    path=[f"/reviews/{i}" for i in range(64)],
    headers={
        "a": [str(i) for i in range(2048)],
        "end-user": [*(f"u{i}" for i in range(99)), "jason"],
    },
)


def test_large_classes_are_factored_not_enumerated(header):
    """13 million distinct requests: exact mode convolves the columns (no enumeration)."""
    assert BIG.classes[0].support_size > 10**7
    res = header.simulate(BIG, 10**6, mode="exact")
    assert res.shares("subset") == pytest.approx({"v3": 0.01, "v2": 0.99}, abs=1e-12)
    counts = header.simulate(BIG, 10**6, rng=1)  # sampled by multinomial from those shares
    assert counts.method == "counts"


def test_hashing_a_huge_column_is_factored_too():
    """13 million distinct requests whose pod is picked by hashing header ``a`` (2,048
    values): exact mode hashes each value once and weights its pod (no enumeration). Each
    pod's share is the share of the values hashing to it (``stable_hash`` % 2), by subset."""
    from istiosim.plan import stable_hash

    sim = load_demo("header-jason-v3.yaml", HASHED)
    res = sim.simulate(BIG, 10, mode="exact")
    assert res.shares("subset") == pytest.approx({"v3": 0.01, "v2": 0.99}, abs=1e-12)
    odd = sum(stable_hash(str(i)) % 2 for i in range(2048)) / 2048
    from istiosim.simulate import class_leaf_probabilities

    leaves = class_leaf_probabilities(sim.router, BIG)[0]  # one leaf per pod
    got = leaves[leaves > 0]
    assert 0.3 < odd < 0.7
    want = sorted([0.99 * (1 - odd), 0.99 * odd, 0.01 * (1 - odd), 0.01 * odd])
    assert sorted(got.tolist()) == pytest.approx(want, abs=1e-12)
    assert len(res.cells) == 2  # rows are by workload: each subset's two pods merge
    counts = sim.simulate(BIG, 1000, rng=1)  # sampled by multinomial from those shares
    assert counts.method == "counts" and sum(counts.counts().values()) == 1000


@pytest.mark.parametrize("which", ["thirds", "header"])
def test_streamed_requests_agree_with_scalar_engine(which, thirds, header):
    """End to end: the requests and draws of block 0, regenerated here, routed by the scalar
    engine, give exactly the rule and row that simulate(keep=True) recorded for each request."""
    from istiosim.engine import route
    from istiosim.engine.draws import seed_sequence, uniform_below
    from istiosim.simulate import _draw_plan, block_traffic

    sim = thirds if which == "thirds" else header
    t = (
        Traffic.request(Request("reviews"), path=["/down", "/up"])
        if which == "thirds"
        else Traffic.users(Request("reviews"), n_users=50, named={"jason": 0.3})
    )
    n = 3000  # one block
    res = sim.simulate(t, n, rng=42, keep=True)
    ss, _ = seed_sequence(42)
    g, cls, batch = block_traffic(t.generator(), ss, 0, n)
    slots = _draw_plan(list(sim.router.programs.values()), True)
    arrays = {s: uniform_below(g, bound, n) for s, bound in slots}
    pr = res.per_request
    assert pr is not None
    assert np.array_equal(pr.cls, cls)
    for i in range(n):
        row = [int(arrays[s][i]) if s in arrays else 0 for s in range(sim.plan.n_draws)]
        d = route(sim.plan, batch[i], row)
        cell = res.cells[int(pr.cell[i])]
        host = d.destination.host if d.destination else cell[0]
        assert cell == (host, d.subset, d.workload, d.outcome.value, d.status), i
        assert pr.rule[i] == (-1 if d.rule is None else d.rule)


ALWAYS_DELAYED = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - fault: {delay: {fixedDelay: 2s, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
"""


def test_keep_records_delays_even_when_certain():
    sim = load_demo(ALWAYS_DELAYED)
    res = sim.simulate(Request("ratings"), 1000, rng=1, keep=True)
    assert res.per_request is not None and res.per_request.delay_ms is not None
    assert np.all(res.per_request.delay_ms == 2000)


def test_streaming_with_faults_is_chunk_and_thread_independent(thirds):
    """The non-fused path (a random abort) and kept arrays: identical for any chunking."""
    t = Traffic.mix(
        [
            (Traffic.request(Request("reviews"), path=["/down", "/up"]), 3),
            (Request("reviews", random_value=99), 1),  # fixed pick: always v1 (99 % 3 == 0)
        ]
    )
    runs = [
        thirds.simulate(t, 200_000, rng=9, keep=True, chunk_size=cs, threads=th)
        for cs, th in ((1 << 16, 1), (1 << 17, 2), (5 << 16, 2))
    ]
    first = runs[0]
    assert first.per_request is not None
    for r in runs[1:]:
        assert r.counts() == first.counts()
        assert r.per_request is not None
        assert np.array_equal(r.per_request.leaf, first.per_request.leaf)
        assert np.array_equal(r.per_request.cls, first.per_request.cls)
    assert first.classes == ("reviews", "reviews#2")
    fixed = first.by_class()["reviews#2"]
    assert set(fixed.counts("subset")) == {"v1"}
    exact = thirds.simulate(t, 1, mode="exact").by_class()["reviews#2"]
    assert exact.shares("subset") == {"v1": 1.0}


def test_per_request_destination_columns_agree_with_counts(header):
    """keep=True: host/subset/workload/outcome per request add up to the result's own counts."""
    users = Traffic.users(Request("reviews"), header="end-user", n_users=1000, named={"jason": 0.2})
    res = header.simulate(users, n=20_000, rng=5, keep=True)
    pr = res.per_request
    subsets, counts = np.unique(pr.subset.astype(str), return_counts=True)
    assert dict(zip(subsets.tolist(), counts.tolist(), strict=True)) == res.subset_counts()
    assert set(pr.outcome.tolist()) == {"OK"}
    assert all(
        w == f"reviews-{s}" for w, s in zip(pr.workload.tolist(), pr.subset.tolist(), strict=True)
    )
    assert set(pr.host.tolist()) == {"reviews.default.svc.cluster.local"}


def test_keep_freed_memory_is_an_explicit_opt_in():
    """The library never tunes the process's allocator by itself; an application may."""
    import istiosim.simulate as simulate_module

    src = Path(simulate_module.__file__).read_text()
    assert src.count("keep_freed_memory(") == 1  # its definition only: no call in the library
    assert simulate_module.keep_freed_memory() in (True, False)
