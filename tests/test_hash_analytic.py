"""Issue 8 (cliffs): a consistent hash on a header with millions of users, answered exactly.

In the default sampling mode the counts of n requests are multinomial over (subset, pod) with
P(subset, pod) = sum over users of share(user) × P(subset | user's request) × [hash(user) → pod];
``engine.analytic.factored_leaf_distribution`` computes it in O(users) (each user hashed once,
with the engines' own hash), so n = 10^12 over millions of users is one multinomial draw.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

import istiosim.simulate as simulate_mod
from istiosim import Request, Traffic
from istiosim.engine.analytic import factored_leaf_distribution, leaf_distribution

from conftest import load_demo

HASH_ON = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: reviews}}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash: {{{hash}}}
  subsets:
  - {{name: v1, labels: {{version: v1}}}}
  - {{name: v2, labels: {{version: v2}}}}
  - {{name: v3, labels: {{version: v3}}, trafficPolicy: {{loadBalancer: {v3}}}}}
"""
HEADER = HASH_ON.format(hash="httpHeaderName: end-user", v3="{simple: RANDOM}")
#: v1, v2 hash on the end-user header, v3 on the session cookie: two hashed columns
TWO_KEYS = HASH_ON.format(
    hash="httpHeaderName: end-user",
    v3="{consistentHash: {httpCookie: {name: session, ttl: 0s}}}",
)
QUERY = HASH_ON.format(hash="httpQueryParameterName: shard", v3="{simple: RANDOM}")
PREFIX_SPLIT = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {prefix: vip-}}, uri: {prefix: /api}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - match: [{uri: {prefix: /api}}]
    fault: {abort: {httpStatus: 503, percentage: {value: 10}}}
    route:
    - {destination: {host: reviews, subset: v1}, weight: 30}
    - {destination: {host: reviews, subset: v2}, weight: 70}
  - route:
    - {destination: {host: reviews, subset: v2}, weight: 50}
    - {destination: {host: reviews, subset: v3}, weight: 50}
"""
USERS = [f"user-{i}" for i in range(150)] + [f"vip-{i}" for i in range(50)] + ["jason"]
PATHS = {"/api/a": 0.3, "/api/b?shard=1": 0.2, "/api/b?shard=2": 0.1, "/web": 0.25, "/": 0.15}
COOKIES = [None, *(f"session={i}" for i in range(40))]


def traffic() -> Traffic:
    """One class of 201 × 5 × 41 = 41,205 distinct requests: enumerable, for the reference."""
    return Traffic.request(
        Request("reviews"), path=PATHS, headers={"end-user": USERS, "cookie": COOKIES}
    )


@pytest.mark.parametrize(
    "extra",
    [
        (HEADER,),  # no VirtualService: the default route over all six pods, hashed
        (HEADER, "canary-50-50.yaml"),  # a weighted split, hash within each subset
        (HEADER, "header-jason-v3.yaml"),  # the hashed header is also matched on
        (HEADER, PREFIX_SPLIT),  # matched on (prefix) with another column, a fault
        (TWO_KEYS, PREFIX_SPLIT),  # two hashed columns (header and cookie)
        (QUERY, PREFIX_SPLIT),  # hashed on a query parameter of the matched path
    ],
)
def test_factored_equals_enumeration(extra: tuple[str, ...]) -> None:
    """The O(values) answer equals routing every distinct request once (the reference),
    leaf by leaf (each leaf is one pod), to rounding."""
    sim = load_demo(*extra)
    t = traffic()
    assert t.classes[0].support_size == 201 * 5 * 41
    batch, marg = t.marginals(0)
    got = factored_leaf_distribution(sim.router, batch, marg)
    assert got is not None
    full, p = t.support(0)
    want = leaf_distribution(sim.router, full, p)
    assert (
        dict(zip(want[0].tolist(), want[1].tolist(), strict=True)).keys()
        == dict(zip(got[0].tolist(), got[1].tolist(), strict=True)).keys()
    )
    np.testing.assert_allclose(got[1], want[1], rtol=0, atol=1e-12)
    assert len(got[0]) >= 4  # pods of more than one subset were reached


def test_counts_agree_with_routing_each_request() -> None:
    """method='counts' (one multinomial draw from the exact probabilities) against the vector
    engine routing 200,000 requests one by one, each hashing its own header: a chi-square
    test of homogeneity over the pods; error rate 1e-3 (fixed seeds)."""
    sim = load_demo(HEADER, PREFIX_SPLIT)
    t = traffic()
    n = 200_000
    a = sim.simulate(t, n, rng=11, method="counts", keep=False)
    b = sim.simulate(t, n, rng=12, method="vector")
    assert a.method == "counts" and b.method == "vector"
    ca, cb = a.counts(), b.counts()
    keys = sorted(set(ca) | set(cb), key=str)
    table = np.asarray([[ca.get(k, 0) for k in keys], [cb.get(k, 0) for k in keys]])
    assert table.shape[1] >= 4
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_millions_of_users_at_n_10_12_are_answered_in_seconds() -> None:
    """The issue's example, beyond what can be enumerated: 2^20 + 1 users (more than any one
    class enumerates) hashed on their header behind a 50/50 split, n = 10^12. Was refused
    (it would have routed every request one by one); now one multinomial draw per class."""
    sim = load_demo(HEADER, "canary-50-50.yaml")
    users = simulate_mod.MAX_SUPPORT + 1
    t = Traffic.users(Request("reviews"), n_users=users, named={"jason": 0.1})
    t0 = time.process_time()
    res = sim.simulate(t, 10**12, rng=1)
    assert time.process_time() - t0 < 60  # about 2 s of CPU alone
    assert res.method == "counts" and int(res.matrix.sum()) == 10**12
    shares = res.shares()
    v2 = sum(s for k, s in shares.items() if k[1] == "v2")
    assert abs(v2 - 0.5) < 1e-4  # the split, whatever the users' hashes
    # jason's key hashes to one pod of v2; v3 balances RANDOM over its two pods: 3 pods
    probs = simulate_mod.class_leaf_probabilities(sim.router, t)
    assert t.names[0] == "reviews end-user=jason"
    assert np.count_nonzero(probs[0]) == 3
    # the other users spread over both pods of each subset
    assert np.count_nonzero(probs[1]) == 4


def test_exact_mode_needs_no_enumeration() -> None:
    """mode='exact' of a class of 41,000 × 100 distinct requests (past the enumeration
    limit, once refused): the pod shares within a subset follow the users' hashes."""
    sim = load_demo(HEADER, "canary-50-50.yaml")
    t = Traffic.request(
        Request("reviews"),
        path=[f"/p{i}" for i in range(100)],
        headers={"end-user": [f"u{i}" for i in range(simulate_mod.MAX_SUPPORT // 50)]},
    )
    assert t.classes[0].support_size > simulate_mod.MAX_SUPPORT
    res = sim.simulate(t, 1000, mode="exact")
    probs = res.matrix[0]
    assert abs(probs.sum() - 1.0) < 1e-12
