"""The exact mode (and ``method="counts"``) on a consistent-hash destination.

The engines pick the pod of a consistent-hash destination from the hashed key when the request
carries it (``Target.endpoint_index``: ``stable_hash(key) % n``), and uniformly by the endpoint
draw when it does not (key None: ``draw % n``), as Envoy's ring/maglev load balancers hash a
random number when the hash policy yields no hash (envoy source/common/upstream/
thread_aware_lb_impl.cc ``chooseHost``: ``hash ? hash.value() : random_.random()``; a cookie
without ``ttl`` is not generated, so its absence gives no hash either). The exact
mode must enumerate the same: every pod with probability 1/npods when the key is absent, the
one hashed pod when present. A retry on a consistent-hash destination gets no previous_hosts
predicate (istio/istio pilot/pkg/networking/core/route/retry/retry.go
``DefaultConsistentHashPolicy``), so without the key each try is an independent uniform pick.

The mesh: the bundled Bookinfo, two pods of each reviews Deployment (v1, v2, v3); v1 and v2
fail every request, v3 answers. Statistical checks: 4.5 standard deviations, a false-failure
rate below 1e-5 per comparison (fixed seeds, so in practice deterministic).
"""

from __future__ import annotations

import math

import pytest

import istiosim
from istiosim.journey import Application, journeys

DEMO = "istiosim/data/bookinfo/"

NO_RETRY = "{attempts: 0}"
RETRY = "{attempts: 2, retryOn: 5xx, backoff: 1ms}"
LBS = {
    "header": "{consistentHash: {httpHeaderName: end-user}}",
    "cookie": "{consistentHash: {httpCookie: {name: user}}}",  # no ttl: none generated
    "query": "{consistentHash: {httpQueryParameterName: user}}",
}


def model(path: str = "/") -> Application:
    call = {"host": "reviews", "path": path}
    return Application.from_dict(
        {
            "workloads": {
                "productpage": {"latency": "5ms", "propagate": "*", "calls": [call]},
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


def sim(retries: str, lb: str) -> istiosim.Simulator:
    return istiosim.load(DEMO + "bookinfo-k8s.yaml").apply(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\n"
        "spec:\n  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}}]\n"
        f"    retries: {retries}\n"
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {name: reviews}\nspec:\n  host: reviews\n"
        f"  trafficPolicy: {{loadBalancer: {lb}}}\n"
    )


def within(got: float, p: float, n: int) -> bool:
    return abs(got - p) <= 4.5 * math.sqrt(p * (1 - p) / n)


# the page request lacks the hashed value: each try lands on a failing pod with probability 4/6
@pytest.mark.parametrize("kind", sorted(LBS))
@pytest.mark.parametrize(("retries", "failed"), [(NO_RETRY, 2 / 3), (RETRY, (2 / 3) ** 3)])
def test_exact_enumerates_every_pod_when_the_key_is_absent(
    kind: str, retries: str, failed: float
) -> None:
    s = sim(retries, LBS[kind])
    page = istiosim.Request("productpage", "/")  # no end-user header, no cookie, no query
    exact = journeys(s, model(), page, mode="exact").shares().get("failed", 0.0)
    assert exact == pytest.approx(failed)
    n = 20_000
    counts = journeys(s, model(), page, n, rng=3, method="counts").shares().get("failed", 0.0)
    assert within(counts, failed, n), counts
    vec = journeys(s, model(), page, n, rng=4, method="vector").shares().get("failed", 0.0)
    assert within(vec, failed, n), vec
    n = 3_000
    views = journeys(s, model(), page, n, rng=5, method="views").shares().get("failed", 0.0)
    assert within(views, failed, n), views


def _case(kind: str, user: str) -> tuple[istiosim.Request, Application]:
    """The page request and model whose call to reviews carries ``user`` as the hashed value
    (headers are propagated to the call; a query parameter is the call's own path)."""
    if kind == "header":
        return istiosim.Request("productpage", "/", headers={"end-user": user}), model()
    if kind == "cookie":
        return istiosim.Request("productpage", "/", headers={"cookie": f"user={user}"}), model()
    return istiosim.Request("productpage", "/"), model(f"/reviews?user={user}")


@pytest.mark.parametrize("kind", sorted(LBS))
def test_exact_keeps_the_hashed_pod_when_the_key_is_present(kind: str) -> None:
    s = sim(RETRY, LBS[kind])
    seen = set()
    for user in ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"):
        page, app = _case(kind, user)
        exact = journeys(s, app, page, mode="exact").shares().get("failed", 0.0)
        assert exact in (0.0, 1.0), (user, exact)
        for method in ("counts", "vector", "views"):
            got = journeys(s, app, page, 300, rng=1, method=method).shares()
            assert got.get("failed", 0.0) == exact, (user, method)
        seen.add(exact)
    assert seen == {0.0, 1.0}  # these users hash to failing and to answering pods
