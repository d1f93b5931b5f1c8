"""Retries avoid the pods already tried: Istio sets Envoy's ``previous_hosts`` retry host
predicate on every outbound route (istio/istio pilot/pkg/networking/core/route/retry/retry.go:
``DefaultPolicy``, ``newRetryPolicy`` set ``RetryHostPredicate: [RetryPreviousHosts]`` with
``HostSelectionRetryMaxAttempts: 5``), unless the route sets ``retryIgnorePreviousHosts: false``
(``ConvertPolicy``) or the destination uses a consistent hash (``DefaultConsistentHashPolicy``:
"When Consistent Hashing is enabled, we don't want to use other hosts during retries").

The mesh: the bundled Bookinfo runs two pods of each reviews Deployment (v1, v2, v3: six pods);
routed to the host without a subset, a first try lands on each pod with probability 1/6.
Versions v1 and v2 fail every request (errorRate 1), v3 answers; the route retries 5xx twice
(three tries).
"""

from __future__ import annotations

import math

import pytest

import istiosim
from istiosim.engine.scalar import ScalarCache, route
from istiosim.journey import Application, journeys
from istiosim.journey.run import _target, retry_endpoints, retry_policy

DEMO = "istiosim/data/bookinfo/"
PAGE = istiosim.Request("productpage", "/")


def model() -> Application:
    return Application.from_dict(
        {
            "workloads": {
                "productpage": {"latency": "5ms", "propagate": "*", "calls": [{"host": "reviews"}]},
                "reviews": {
                    "latency": "10ms",
                    "errorRate": 1.0,
                    "versions": {"v3": {"errorRate": 0.0}},
                },
            },
            "sees": [
                {"label": "failed", "when": [{"call": "reviews", "failed": True}]},
                {"label": "ok"},
            ],
        }
    )


def sim(retries: str, lb: str = "") -> istiosim.Simulator:
    vs = (
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\n"
        "spec:\n  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}}]\n"
        f"    retries: {retries}\n"
    )
    if lb:
        vs += (
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
            "metadata: {name: reviews}\nspec:\n  host: reviews\n"
            f"  trafficPolicy: {{loadBalancer: {lb}}}\n"
        )
    return istiosim.load(DEMO + "bookinfo-k8s.yaml").apply(vs)


RETRY = "{attempts: 2, retryOn: 5xx, backoff: 1ms}"
# three failing pods in a row out of the six, none twice: 4/6 × 3/5 × 2/4
AVOIDING = 4 / 6 * 3 / 5 * 2 / 4
# without the predicate each try fails with probability 2/3, independently
UNIFORM = (2 / 3) ** 3


def test_retry_policy_reads_retry_ignore_previous_hosts() -> None:
    assert retry_policy({"attempts": 2}).avoid_previous
    assert retry_policy(None).avoid_previous  # Istio's default policy sets the predicate too
    assert not retry_policy({"attempts": 2, "retryIgnorePreviousHosts": False}).avoid_previous
    assert retry_policy({"attempts": 2, "retryIgnorePreviousHosts": True}).avoid_previous


@pytest.mark.parametrize(
    ("retries", "lb", "failed"),
    [
        (RETRY, "", AVOIDING),
        (RETRY[:-1] + ", retryIgnorePreviousHosts: false}", "", UNIFORM),
        # one retry: fails when both tries fail, 4/6 × 3/5 with the predicate
        ("{attempts: 1, retryOn: 5xx, backoff: 1ms}", "", 4 / 6 * 3 / 5),
    ],
)
def test_exact_share_of_failed_page_views(retries: str, lb: str, failed: float) -> None:
    res = journeys(sim(retries, lb), model(), PAGE, mode="exact")
    assert res.shares().get("failed", 0.0) == pytest.approx(failed)


@pytest.mark.parametrize("method", ["vector", "views"])
@pytest.mark.parametrize(
    ("retries", "failed"),
    [(RETRY, AVOIDING), (RETRY[:-1] + ", retryIgnorePreviousHosts: false}", UNIFORM)],
)
def test_sampled_paths_agree_with_exact(method: str, retries: str, failed: float) -> None:
    n = 20_000 if method == "vector" else 3_000
    got = journeys(sim(retries), model(), PAGE, n, rng=5, method=method).shares()
    sd = math.sqrt(failed * (1 - failed) / n)
    # 4.5 sd: false-failure rate < 1e-5 per case
    assert abs(got.get("failed", 0.0) - failed) <= 4.5 * sd, got


def test_retry_endpoints_weigh_the_pods_not_tried() -> None:
    plan, cache = sim(RETRY).plan, ScalarCache()
    req = istiosim.Request("reviews", "/", source_workload="productpage-v1")
    t = _target(plan, cache, req, route(plan, req, (0,) * plan.n_draws, cache=cache))
    pods = {e.workload for e in t.endpoints}
    assert len(t.endpoints) == 6 and len(pods) == 3
    share = {t.endpoints[j].workload: q for j, q in retry_endpoints(t, ["reviews-v1"], req)}
    assert share == pytest.approx({"reviews-v1": 1 / 5, "reviews-v2": 2 / 5, "reviews-v3": 2 / 5})
    both = retry_endpoints(t, ["reviews-v1", "reviews-v1"], req)  # both v1 pods tried
    assert {t.endpoints[j].workload for j, _ in both} == {"reviews-v2", "reviews-v3"}
    every = retry_endpoints(t, ["reviews-v1"] * 2 + ["reviews-v2"] * 2 + ["reviews-v3"] * 2, req)
    assert sorted(q for _, q in every) == pytest.approx([1 / 3] * 3)  # all tried: any pod


def test_consistent_hash_retries_keep_the_pod() -> None:
    # retry.go DefaultConsistentHashPolicy: no previous_hosts predicate; the hashed user's
    # pod answers every try, so a user's page views all fail or all succeed
    s = sim(RETRY, "{consistentHash: {httpHeaderName: end-user}}")
    seen = set()
    for user in ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"):
        page = istiosim.Request("productpage", "/", headers={"end-user": user})
        share = journeys(s, model(), page, mode="exact").shares().get("failed", 0.0)
        assert share in (0.0, 1.0), (user, share)
        got = journeys(s, model(), page, 200, rng=1, method="vector").shares().get("failed", 0.0)
        assert got == share
        seen.add(share)
    assert seen == {0.0, 1.0}  # these users hash to failing and to answering pods
