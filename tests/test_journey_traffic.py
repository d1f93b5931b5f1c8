"""Traffic models as entry traffic of the vector path: the sampled requests are grouped by their
columns' codes (no Request built per row), one walk per distinct request."""

from __future__ import annotations

import numpy as np

import istiosim
from istiosim import Request, Traffic
from istiosim.journey import _distinct, journeys

DEMO = "istiosim/data/bookinfo/"


def test_distinct_requests_in_order_of_first_appearance() -> None:
    readers = Traffic.users(
        Request("productpage", "/productpage"), n_users=50, named={"jason": 0.3}
    )
    batch = readers.batch(2_000, 4)
    reps, inv = _distinct(batch)
    rows = [batch[i] for i in range(len(batch))]
    # every row is its representative, and the representatives are distinct, first seen first
    assert all(rows[i] == reps[g] for i, g in enumerate(inv.tolist()))
    assert len(set(map(repr, reps))) == len(reps) > 10
    firsts = [int(np.flatnonzero(inv == g)[0]) for g in range(len(reps))]
    assert firsts == sorted(firsts)


def test_vector_traffic_shares_follow_the_named_user() -> None:
    # header-jason-v3.yaml: jason's reviews go to v3 (red stars), everyone else's to v2 (black)
    sim = istiosim.load(
        DEMO + "bookinfo-k8s.yaml", DEMO + "destination.yaml", DEMO + "header-jason-v3.yaml"
    )
    readers = Traffic.users(
        Request("productpage", "/productpage"), n_users=5_000, named={"jason": 0.2}
    )
    n = 50_000
    res = journeys(sim, "bookinfo", readers, n, rng=3, method="vector")
    shares = res.shares()
    sd = (0.2 * 0.8 / n) ** 0.5
    # 4.5 sd: false-failure rate < 1e-5
    assert abs(shares["red stars"] - 0.2) <= 4.5 * sd, shares
    assert set(shares) == {"red stars", "black stars"}


def test_users_no_condition_tells_apart_walk_as_one_request() -> None:
    sim = istiosim.load(
        DEMO + "bookinfo-k8s.yaml", DEMO + "destination.yaml", DEMO + "header-jason-v3.yaml"
    )
    readers = Traffic.users(
        Request("productpage", "/productpage"), n_users=100_000, named={"jason": 0.2}
    )
    reps, inv = _distinct(readers.batch(20_000, 1), sim.plan)
    # the plan's only header condition is end-user exact jason: two classes of users
    assert sorted(r.headers.get("end-user") == "jason" for r in reps) == [False, True]
    assert len(inv) == 20_000


def test_a_hashed_header_keeps_every_value_apart() -> None:
    # a consistent hash on end-user: each user's pod depends on the value, no merging
    hashed = """
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: end-user}}}
  subsets:
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
"""
    sim = istiosim.load(DEMO + "bookinfo-k8s.yaml", DEMO + "header-jason-v3.yaml").apply(hashed)
    readers = Traffic.users(Request("productpage", "/productpage"), n_users=300)
    batch = readers.batch(3_000, 2)
    reps, _ = _distinct(batch, sim.plan)
    assert len(reps) == len(_distinct(batch)[0]) > 100
