"""Issue 12 item 4: consistent-hash stickiness over a session (``Simulator.sessions``).

Upstream behaviour this pins (the order is what users get wrong):

- Envoy picks the weighted cluster first, per request, from the request's own random value:
  ``WeightedClusterSpecifierPlugin::pickWeightedCluster`` in
  ``source/common/router/weighted_cluster_specifier.cc`` (``random_value % total_cluster_weight``
  located in the clusters' cumulative intervals; earlier in ``config_impl.cc``). The hash
  plays no part in that pick.
- The hash only picks the host inside the chosen cluster: the router's
  ``computeHashKey()`` (``source/common/router/router.h``) hashes the request with the route's
  hash policy, and the chosen cluster's ring hash or Maglev load balancer maps it to one of its
  own hosts (``RingHashLoadBalancer::Ring::chooseHost`` in
  ``source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc``).
- Istio puts each weighted destination's ``consistentHash`` on the route's hash policy and the
  ring on that destination's cluster (``processWeightedDestination`` in
  ``pilot/pkg/networking/core/route/route.go``); istio/api's ``ConsistentHashLB``
  (``networking/v1alpha3/destination_rule.proto``) promises only "soft session affinity ...
  to a particular destination host".

So with k requests under weights w_s, a user stays on one subset with probability
sum_s w_s^k (0.5^(k-1) for 50/50), and with every subset hashed, on one pod with the same
probability; inside one subset, always on one pod.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats

import istiosim
import istiosim.sessions as sessions_mod
from istiosim import InvalidArgument, Request, Traffic

from conftest import ROOT, load_demo

HASHED = """apiVersion: networking.istio.io/v1
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
COOKIE = HASHED.replace("{httpHeaderName: end-user}", "{httpCookie: {name: session, ttl: 0s}}")
USERS = Traffic.users(Request("reviews"), n_users=5000)


def binomial_ok(hits: int, n: int, p: float) -> bool:
    """Two-sided exact binomial test at error rate 1e-3 (a fixed seed: deterministic)."""
    return bool(stats.binomtest(hits, n, p).pvalue > 1e-3)


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_a_50_50_split_is_not_sticky_across_subsets(k: int) -> None:
    """Hash on the user's header, 50/50 between v2 and v3 (two pods each): a user of k
    requests stays on one subset, and so on one pod, with probability 0.5^(k-1) exactly;
    sees both subsets otherwise."""
    sim = load_demo(HASHED, "canary-50-50.yaml")
    res = sim.sessions(USERS, users=4000, requests_per_user=k, rng=k)
    want = 0.5 ** (k - 1)
    for what, p in (
        [
            ("stayed on one subset", want),
            ("stayed on one pod", want),
            ("saw both v2 and v3", 1 - want),
        ]
        if k > 1
        else [("stayed on one subset", 1.0), ("stayed on one pod", 1.0)]
    ):
        s = res.share(what)
        assert s.how == "exact"
        assert s.probability == pytest.approx(p, abs=1e-12), what
        assert binomial_ok(s.users, res.users, p) if 0 < p < 1 else s.share == p
    # per user: the pods seen never exceed one per subset seen (the hash is fixed per subset)
    assert (res.n_pods <= res.n_subsets).all() and (res.n_pods >= 1).all()


def test_weights_decide_the_subset_stickiness() -> None:
    """80/20: one subset over k = 4 requests with probability 0.8^4 + 0.2^4, from the weights
    alone; the hash changes nothing about it."""
    sim = load_demo(HASHED, "canary-50-50.yaml").with_weights(
        "default/reviews", rule=0, weights={"v2": 80, "v3": 20}
    )
    res = sim.sessions(USERS, users=5000, requests_per_user=4, rng=3)
    want = 0.8**4 + 0.2**4
    s = res.share("stayed on one subset")
    assert s.probability == pytest.approx(want, abs=1e-12)
    assert binomial_ok(s.users, 5000, want)


def test_within_one_subset_every_user_stays_on_one_pod() -> None:
    """Everyone but jason goes to v2 (two pods): with the hash each user stays on one pod
    (probability 1); without it (the default LEAST_REQUEST, modelled as uniform), a user of
    k requests stays with probability 2 × 0.5^k."""
    hashed = load_demo(HASHED, "header-jason-v3.yaml")
    res = hashed.sessions(USERS, users=1000, requests_per_user=8, rng=1)
    assert res.share("stayed on one pod").probability == pytest.approx(1.0)
    assert res.share("stayed on one pod").users == 1000
    assert (res.n_pods == 1).all() and (res.n_subsets == 1).all()
    plain = load_demo("header-jason-v3.yaml")
    res = plain.sessions(USERS, users=4000, requests_per_user=3, rng=1)
    s = res.share("stayed on one pod")
    assert s.probability == pytest.approx(2 * 0.5**3)
    assert binomial_ok(s.users, 4000, 2 * 0.5**3)


def test_a_cookie_hash_behaves_the_same() -> None:
    """``httpCookie``: the session cookie is the key; the split still comes first."""
    sim = load_demo(COOKIE, "canary-50-50.yaml")
    t = Traffic.request(
        Request("reviews"), headers={"cookie": [f"session=s{i}" for i in range(300)]}
    )
    res = sim.sessions(t, users=3000, requests_per_user=3, rng=5)
    assert res.share("stayed on one pod").probability == pytest.approx(0.25)
    assert res.share("saw both").probability == pytest.approx(0.75)
    assert res.labels[0].startswith("cookie=session=s")


def test_sampled_users_give_an_estimate_when_the_model_is_large(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past ``EXACT_ROWS`` distinct requests the probabilities are the mean of each sampled
    user's exact probabilities (an estimate); with every user alike here it is still exact."""
    monkeypatch.setattr(sessions_mod, "EXACT_ROWS", 10)
    sim = load_demo(HASHED, "canary-50-50.yaml")
    res = sim.sessions(USERS, users=500, requests_per_user=3, rng=2)
    s = res.share("stayed on one subset")
    assert s.how == "estimate" and s.probability == pytest.approx(0.25)


def test_faults_count_as_leaving_the_pod() -> None:
    """A request aborted by a fault reaches no pod: a 10% abort over 3 requests leaves
    0.9^3 of each subset-stable session on its pod. The aborted request keeps the subset its
    route picked (Envoy resolves the route and cluster before the fault filter runs:
    conn_manager_impl.cc refreshCachedRoute), so every session stays on its subset."""
    fault = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - fault: {abort: {httpStatus: 503, percentage: {value: 10}}}
    route: [{destination: {host: reviews, subset: v2}}]
"""
    sim = load_demo(HASHED, fault)
    res = sim.sessions(USERS, users=3000, requests_per_user=3, rng=4)
    s = res.share("stayed on one pod")
    assert s.probability == pytest.approx(0.9**3)
    assert binomial_ok(s.users, 3000, 0.9**3)
    assert res.share("stayed on one subset").probability == pytest.approx(1.0)
    assert set(res.seen) == {"v2 ×3"}


def test_same_seed_same_sessions() -> None:
    sim = load_demo(HASHED, "canary-50-50.yaml")
    a = sim.sessions(USERS, users=200, requests_per_user=4, rng=9)
    b = sim.sessions(USERS, users=200, requests_per_user=4, rng=9)
    assert a.to_dict() == b.to_dict()
    assert sum(r["count"] for r in a.to_dict()["rows"]) == 800


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"users": 0}, "users"),
        ({"users": True}, "users"),
        ({"requests_per_user": 2.5}, "requests_per_user"),
        ({"users": 10**6, "requests_per_user": 1000}, "limit"),
        ({"rng": "x"}, "rng"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], word: str) -> None:
    sim = load_demo(HASHED)
    with pytest.raises(InvalidArgument, match=word):
        sim.sessions(USERS, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Request or a Traffic"):
        sim.sessions("reviews")


def test_display() -> None:
    sim = load_demo(HASHED, "canary-50-50.yaml")
    res = sim.sessions(USERS, users=100, requests_per_user=5, rng=1)
    text = str(res)
    assert "stayed on one pod" in text and "6.25%" in text and "Envoy picks" in text
    assert "stayed on one subset" in res._repr_html_()
    df = res.to_pandas()
    assert len(df) == 100 and list(df.columns)[:2] == ["user", "class"]
    assert "requests by subset" in str(res.per_user())
    assert "SessionResult(users=100" in repr(res)


def test_cli_sessions(tmp_path: Path) -> None:
    """``istiosim simulate --sessions K``: N/K users of K requests; the JSON keeps simulate's
    ``n`` and ``rows`` (every routed request) and adds ``sessions``."""
    dr = tmp_path / "sticky.yaml"
    dr.write_text(HASHED)
    demo = ROOT / "istiosim" / "data" / "bookinfo"
    base = [
        sys.executable, "-m", "istiosim", "simulate",
        "-f", str(demo / "bookinfo-k8s.yaml"), "-f", str(dr),
        "-f", str(demo / "canary-50-50.yaml"),
    ]  # fmt: skip
    users = tmp_path / "users.yaml"
    users.write_text(
        "classes:\n- request: {host: reviews}\n  users: {header: end-user, n_users: 1000}\n"
    )
    r = subprocess.run(
        [*base, "--traffic", str(users), "-n", "2000", "--sessions", "4", "--seed", "1",
         "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["n"] == 2000 and sum(row["count"] for row in out["rows"]) == 2000
    s = out["sessions"]
    assert s["users"] == 500 and s["requests_per_user"] == 4 and len(s["per_user"]) == 500
    lines = {x["what"]: x for x in s["summary"]}
    assert lines["stayed on one subset"]["probability"] == pytest.approx(0.125)
    r = subprocess.run(
        [*base, "--host", "reviews", "-n", "10", "--sessions", "4"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0 and "stayed on one pod" in r.stdout
    for bad, msg in [(["--sessions", "0"], "positive"), (["--sessions", "20"], "fewer than one"),
                     (["--sessions", "2", "--mode", "exact"], "drop --mode")]:  # fmt: skip
        r = subprocess.run(
            [*base, "--host", "reviews", "-n", "10", *bad],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr


def test_public_name() -> None:
    doc = istiosim.Simulator.sessions.__doc__ or ""
    assert "consistentHash" in doc and "not the subset" in doc
