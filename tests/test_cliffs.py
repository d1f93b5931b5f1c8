"""Issue 8, cliffs: runs that cannot finish are refused up front with a reason and a way out;
many request classes are routed together, with the same answer as one by one."""

from __future__ import annotations

import time

import numpy as np
import pytest

import istiosim.simulate as simulate_mod
from istiosim import InvalidArgument, Request, Traffic

from conftest import load_demo

HASH_REVIEWS = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: end-user}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
"""


def test_vector_run_of_10_15_is_refused_before_any_work() -> None:
    sim = load_demo("canary-50-50.yaml")
    t0 = time.monotonic()
    with pytest.raises(InvalidArgument) as exc:
        sim.simulate(Request("reviews"), 10**15, method="vector", rng=1)
    assert time.monotonic() - t0 < 1
    assert "method='counts'" in str(exc.value)
    # the same n by counts is answered at once
    res = sim.simulate(Request("reviews"), 10**15, rng=1)
    assert res.n == 10**15 and int(res.matrix.sum()) == 10**15


def test_unenumerable_class_is_refused_up_front_for_large_n(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guard that stays: a class whose leaf probabilities cannot be computed (neither
    enumerated nor factored; a class spanning several route tables, which no Traffic
    constructor makes) would stream every request; for n = 10^12 that is refused with the
    reason and the fix. A consistent hash on a header of millions of users no longer comes
    here: it is factored (tests/test_hash_analytic.py)."""
    monkeypatch.setattr(simulate_mod, "factored_leaf_distribution", lambda *a: None)
    sim = load_demo(HASH_REVIEWS)
    t = Traffic.users(Request("reviews"), n_users=simulate_mod.MAX_SUPPORT + 1)
    t0 = time.monotonic()
    with pytest.raises(InvalidArgument) as exc:
        sim.simulate(t, 10**12, rng=1)
    assert time.monotonic() - t0 < 30
    msg = str(exc.value)
    assert "too many to enumerate" in msg and "one by one" in msg and "method='vector'" in msg
    # small n still streams
    res = sim.simulate(t, 100_000, rng=1)
    assert res.method == "vector" and int(res.matrix.sum()) == 100_000


def test_unenumerable_hashed_class_is_answered_by_counts() -> None:
    """More users than a class enumerates, hashed on their header: method='auto' answers by
    one multinomial draw from the exact per-pod probabilities, at any n."""
    sim = load_demo(HASH_REVIEWS)
    t = Traffic.users(Request("reviews"), n_users=simulate_mod.MAX_SUPPORT + 1)
    res = sim.simulate(t, 10**12, rng=1)
    assert res.method == "counts" and int(res.matrix.sum()) == 10**12


def test_streamed_chunks_are_made_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many chunks on a thread pool: a bounded window in flight, same counts as one thread."""
    sim = load_demo("canary-50-50.yaml")
    t = Traffic.users(Request("reviews"), n_users=100)
    a = sim.simulate(t, 40 * simulate_mod.BLOCK, rng=3, method="vector", chunk_size=1, threads=1)
    b = sim.simulate(t, 40 * simulate_mod.BLOCK, rng=3, method="vector", chunk_size=1, threads=3)
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    "extra", [("canary-50-50.yaml",), ("header-jason-v3.yaml",), (HASH_REVIEWS,)]
)
def test_many_single_request_classes_equal_one_by_one(
    monkeypatch: pytest.MonkeyPatch, seed: int, extra: tuple[str, ...]
) -> None:
    """Weighted picks (with and without a fixed random value), header matches, a consistent
    hash over three pods, unknown hosts, two ports: the batched path equals the per-class one."""
    sim = load_demo(*extra)
    hosts = ["reviews", "ratings", "details", "productpage", "nosuch", "ratings.default"]
    rng = np.random.default_rng(seed)
    reqs: list[tuple[Traffic | Request, float]] = []
    for i in range(300):
        reqs.append(
            (
                Request(
                    hosts[int(rng.integers(len(hosts)))],
                    path=f"/p{i}",
                    headers={"end-user": ["jason", "x", f"u{i}"][i % 3]},
                    port=[None, 9080][i % 2],
                    random_value=[None, None, int(rng.integers(0, 2**40))][i % 3],
                ),
                1 + i % 7,
            )
        )
    reqs.append((Traffic.users(Request("reviews"), n_users=40), 3))
    t = Traffic.mix(reqs)
    together = simulate_mod.class_leaf_probabilities(sim.router, t)
    monkeypatch.setattr(simulate_mod, "_SINGLES_AT_ONCE", 10**9)
    one_by_one = simulate_mod.class_leaf_probabilities(sim.router, t)
    assert together.shape == one_by_one.shape
    np.testing.assert_allclose(together, one_by_one, rtol=0, atol=1e-15)
    np.testing.assert_allclose(together.sum(axis=1), 1.0)


def test_class_by_outcome_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Classes that each come from another client namespace each get a route table: the
    [class, outcome] table would not fit, so the run is refused before it allocates it."""
    monkeypatch.setattr(simulate_mod, "MAX_CELLS", 10_000)
    sim = load_demo("canary-50-50.yaml")
    t = Traffic.mix([(Request("reviews", namespace=f"ns{i}"), 1) for i in range(200)])
    with pytest.raises(InvalidArgument) as exc:
        sim.simulate(t, 1000, rng=1, method="vector")
    assert "route tables" in str(exc.value) and "merge classes" in str(exc.value)
    small = Traffic.mix([(Request("reviews", namespace=f"ns{i}"), 1) for i in range(20)])
    assert load_demo("canary-50-50.yaml").simulate(small, 1000, rng=1).n == 1000
