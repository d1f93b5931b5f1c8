"""Weights, load balancing and DestinationRules, rule by rule: semantics.md §0.1-§0.4, §0.16,
§2 and §3.

Every random pick is pinned with explicit draws (helpers.draws): the route draw (or
``Request.random_value``) for the weighted cluster and the endpoint draw for the pod.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from istiosim import ConfigError, Outcome, Request

from helpers import doc, dr, go, load, pods, probs, reviews, split, svc, trace_text, vs

F = Fraction


HASH_ON_USER = """
trafficPolicy:
  loadBalancer:
    consistentHash:
      httpHeaderName: x-user
"""


# -- §0.1 consistentHash is not sticky across weighted subsets ---------------------------------


def test_s0_1_consistent_hash_does_not_pin_a_user_to_a_weighted_subset() -> None:
    sim = load(reviews("v2", "v3", replicas=2, policy=HASH_ON_USER), split(("v2", 50), ("v3", 50)))
    alice = Request("reviews", headers={"x-user": "alice"})
    assert go(sim, alice, route=0).subset == "v2"
    assert go(sim, alice, route=50).subset == "v3", "the same user flips subset per request"
    for route in (0, 50):
        assert len(pods(sim, alice, route=route)) == 1, "…but is sticky to one pod within it"
    assert probs(go(sim, alice)) == {"v2": F(1, 2), "v3": F(1, 2)}


def test_s0_1_consistent_hash_without_key_spreads_randomly() -> None:
    sim = load(reviews("v2", replicas=2, policy=HASH_ON_USER), split(("v2", None)))
    assert pods(sim, Request("reviews")) == {"reviews-v2-0", "reviews-v2-1"}


# -- §0.2 / §2 weights -------------------------------------------------------------------------


def test_s0_2_weights_need_not_sum_to_100() -> None:
    sim = load(reviews("v1", "v2"), split(("v1", 550), ("v2", 500)))
    d = go(sim, Request("reviews"))
    assert probs(d) == {"v1": F(11, 21), "v2": F(10, 21)}
    assert [c.weight for c in d.candidates] == [550, 500]
    load(reviews("v1", "v2"), split(("v1", 49), ("v2", 50)))  # accepted too


def test_s2_2_envoy_pick_is_random_value_mod_total_in_half_open_intervals() -> None:
    sim = load(reviews("v1", "v2"), split(("v1", 80), ("v2", 20)))
    subset = lambda rv: go(sim, Request("reviews", random_value=rv)).subset  # noqa: E731
    assert [subset(rv) for rv in (0, 79, 80, 99, 100, 179, 180)] == [
        "v1", "v1", "v2", "v2", "v1", "v1", "v2",
    ]  # fmt: skip
    big = 2**64 - 1  # 2**64 - 1 ≡ 15 (mod 100)
    assert subset(big) == "v1"
    assert go(sim, Request("reviews"), route=85).subset == "v2", "the route draw is the same pick"


def test_s2_2_random_value_trace_shows_the_modulo() -> None:
    sim = load(reviews("v1", "v2"), split(("v1", 550), ("v2", 500)))
    text = trace_text(go(sim, Request("reviews", random_value=1600)))
    assert "random_value % 1050 = 550 → v2" in text


def test_s2_1_weighted_clusters_keep_vs_order() -> None:
    sim = load(reviews("v1", "v2", "v3"), split(("v3", 10), ("v1", 30), ("v2", 60)))
    d = go(sim, Request("reviews"))
    assert [c.subset for c in d.candidates] == ["v3", "v1", "v2"]
    assert go(sim, Request("reviews", random_value=9)).subset == "v3"
    assert go(sim, Request("reviews", random_value=10)).subset == "v1"
    assert go(sim, Request("reviews", random_value=40)).subset == "v2"


def test_s0_3_single_destination_gets_everything_whatever_its_weight() -> None:
    sim = load(reviews("v1"), split(("v1", 0)))
    d = go(sim, Request("reviews", random_value=12345))
    assert (d.outcome, d.subset) == (Outcome.OK, "v1")
    assert probs(d) == {"v1": F(1)}


def test_s0_3_omitted_weight_is_zero_and_zero_weights_are_dropped() -> None:
    sim = load(reviews("v1", "v2"), split(("v1", None), ("v2", 100)))
    d = go(sim, Request("reviews"))
    assert probs(d) == {"v2": F(1)}
    assert all(
        go(sim, Request("reviews", random_value=rv)).subset == "v2" for rv in range(0, 200, 7)
    )
    sim = load(reviews("v1", "v2"), split(("v1", 0), ("v2", 3)))
    assert probs(go(sim, Request("reviews"))) == {"v2": F(1)}


def test_s0_3_all_zero_weights_with_several_destinations_rejected() -> None:
    with pytest.raises(ConfigError, match="total destination weight = 0"):
        load(reviews("v1", "v2"), split(("v1", None), ("v2", None)))


def test_s2_4_negative_weight_rejected() -> None:
    with pytest.raises(ConfigError, match="weight -1 < 0"):
        load(reviews("v1", "v2"), split(("v1", -1), ("v2", 101)))


def test_s2_5_empty_subset_keeps_its_share_and_answers_503_uh() -> None:
    sim = load(
        reviews("v1", "v2"), dr("reviews", ["v1", "v9"], name="r2"), split(("v1", 50), ("v9", 50))
    )
    # two DRs for one host merge; v9 selects no pod
    d = go(sim, Request("reviews", random_value=50))
    assert (d.outcome, d.status, d.subset) == (Outcome.UH, 503, "v9")
    assert probs(d) == {"v1": F(1, 2), "v9": F(1, 2)}
    assert {c.subset: c.status for c in d.candidates} == {"v1": "OK", "v9": "UH"}
    assert go(sim, Request("reviews", random_value=49)).outcome is Outcome.OK


# -- §0.4 / §3 load balancer -------------------------------------------------------------------


def test_s0_4_default_load_balancer_is_least_request() -> None:
    sim = load(reviews("v1", replicas=3), split(("v1", None)))
    d = go(sim, Request("reviews"))
    assert "LEAST_REQUEST" in trace_text(d)
    assert pods(sim, Request("reviews"), n=3) == {"reviews-v1-0", "reviews-v1-1", "reviews-v1-2"}


@pytest.mark.parametrize(
    "simple,shown",
    [("ROUND_ROBIN", "ROUND_ROBIN"), ("RANDOM", "RANDOM"), ("LEAST_CONN", "LEAST_REQUEST"),
     ("LEAST_REQUEST", "LEAST_REQUEST"), ("UNSPECIFIED", "LEAST_REQUEST")],
)  # fmt: skip
def test_s3_load_balancer_simple_maps_to_envoy_policy(simple: str, shown: str) -> None:
    policy = f"trafficPolicy:\n  loadBalancer:\n    simple: {simple}\n"
    sim = load(reviews("v1", replicas=2, policy=policy), split(("v1", None)))
    text = trace_text(go(sim, Request("reviews")))
    assert f"{shown} picks" in text


@pytest.mark.parametrize(
    "key,request_kw",
    [
        ("httpHeaderName: x-user", {"headers": {"x-user": "alice"}}),
        ("httpCookie: {name: session, ttl: 0s}", {"headers": {"cookie": "a=1; session=s42"}}),
        ("httpQueryParameterName: user", {"path": "/r?user=alice"}),
        ("useSourceIp: true", {"source_workload": "productpage-v1"}),
    ],
)
def test_s3_consistent_hash_keys_pin_a_client_to_one_pod(key: str, request_kw: dict) -> None:
    policy = f"trafficPolicy:\n  loadBalancer:\n    consistentHash:\n      {key}\n"
    sim = load(reviews("v1", replicas=4, policy=policy), split(("v1", None)))
    req = Request("reviews", **request_kw)
    assert len(pods(sim, req, n=8)) == 1
    assert "consistentHash on" in trace_text(go(sim, req))


def test_s3_consistent_hash_key_absent_uses_the_random_draw() -> None:
    policy = (
        "trafficPolicy:\n  loadBalancer:\n    consistentHash:\n      httpCookie: {name: session}\n"
    )
    sim = load(reviews("v1", replicas=3, policy=policy), split(("v1", None)))
    assert len(pods(sim, Request("reviews", headers={"cookie": "other=1"}), n=3)) == 3


def test_s3_hash_policy_precedence_subset_then_port_level_then_top_level() -> None:
    policy = """
    trafficPolicy:
      loadBalancer:
        consistentHash: {httpHeaderName: x-top}
      portLevelSettings:
      - port: {number: 9080}
        loadBalancer:
          consistentHash: {httpHeaderName: x-port}
    """
    subsets = """
    - name: v1
      labels: {version: v1}
    - name: v2
      labels: {version: v2}
      trafficPolicy:
        loadBalancer:
          consistentHash: {httpHeaderName: x-subset}
    """
    http = """
    - match:
      - headers: {to: {exact: v2}}
      route:
      - destination: {host: reviews, subset: v2, port: {number: 9080}}
    - route:
      - destination: {host: reviews, subset: v1, port: {number: 9080}}
    """
    sim = load(
        reviews("v1", "v2", replicas=4, policy=policy, subset_policies=subsets), vs("reviews", http)
    )
    v1 = lambda h: len(pods(sim, Request("reviews", headers=h), n=8))  # noqa: E731
    assert v1({"x-port": "a"}) == 1, "DR port-level hash beats top-level"
    assert v1({"x-top": "a"}) > 1, "top-level hash key replaced by the port-level one"
    v2 = lambda h: len(pods(sim, Request("reviews", headers={"to": "v2", **h}), n=8))  # noqa: E731
    assert v2({"x-subset": "a"}) == 1, "subset hash beats DR port-level"
    assert v2({"x-port": "a"}) > 1


def test_s3_port_level_hash_policy_needs_the_destination_to_name_its_port() -> None:
    """The cluster for 9080 is ring-hash (port-level policy), but istiod adds the route's hash
    policy from port-level settings only when the VS destination names a port
    (route.go ``portLevelSettingsConsistentHash``); without one the ring is hit at random."""
    policy = """
    trafficPolicy:
      portLevelSettings:
      - port: {number: 9080}
        loadBalancer:
          consistentHash: {httpHeaderName: x-user}
    """
    alice = Request("reviews", headers={"x-user": "alice"})
    unnamed = load(reviews("v1", replicas=3, policy=policy), split(("v1", None)))
    assert len(pods(unnamed, alice, n=3)) == 3
    named_vs = vs(
        "reviews", "- route:\n  - destination: {host: reviews, subset: v1, port: {number: 9080}}\n"
    )
    named = load(reviews("v1", replicas=3, policy=policy), named_vs)
    assert len(pods(named, alice, n=3)) == 1
    no_vs = load(reviews("v1", replicas=3, policy=policy))
    assert len(pods(no_vs, alice, n=3)) == 1, "the default route uses the listener port's hash"


# -- §0.16 / §3 subset policy merge -------------------------------------------------------------


SUBSET_RANDOM = """
- name: v1
  labels: {version: v1}
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
- name: v2
  labels: {version: v2}
"""


def test_s0_16_subset_load_balancer_replaces_the_top_level_one_wholesale() -> None:
    sim = load(
        reviews("v1", "v2", replicas=2, policy=HASH_ON_USER, subset_policies=SUBSET_RANDOM),
        vs(
            "reviews",
            "- match:\n  - headers: {to: {exact: v2}}\n  route:\n  - destination: {host: reviews, subset: v2}\n"
            "- route:\n  - destination: {host: reviews, subset: v1}\n",
        ),
    )
    alice = {"x-user": "alice"}
    d = go(sim, Request("reviews", headers=alice))
    assert d.subset == "v1" and "RANDOM picks" in trace_text(d)
    assert len(pods(sim, Request("reviews", headers=alice))) == 2, "no hash on the RANDOM subset"
    assert len(pods(sim, Request("reviews", headers={**alice, "to": "v2"}))) == 1, (
        "v2 inherits the hash"
    )


def test_s0_16_subset_policies_never_apply_to_the_default_route() -> None:
    subsets = """
    - name: v1
      labels: {version: v1}
      trafficPolicy:
        loadBalancer:
          consistentHash: {httpHeaderName: x-user}
    """
    policy = "trafficPolicy:\n  loadBalancer: {simple: RANDOM}\n"
    sim = load(reviews("v1", replicas=3, policy=policy, subset_policies=subsets))
    alice = Request("reviews", headers={"x-user": "alice"})
    assert len(pods(sim, alice, n=3)) == 3, "default route: top-level RANDOM, subset hash unused"
    assert "RANDOM picks" in trace_text(go(sim, alice))


def test_s3_top_level_consistent_hash_applies_to_the_default_route() -> None:
    sim = load(reviews("v1", "v2", "v3", policy=HASH_ON_USER))
    assert len(pods(sim, Request("reviews", headers={"x-user": "bob"}))) == 1


def test_s3_subset_membership_is_label_superset() -> None:
    canary = doc(
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: reviews-v1-canary}
        spec:
          selector: {matchLabels: {app: reviews}}
          template:
            metadata:
              labels: {app: reviews, version: v1, track: canary}
        """
    )
    subsets = """
    - name: canary
      labels: {version: v1, track: canary}
    - name: v1
      labels: {version: v1}
    - name: all
    """
    base = reviews("v1", policy="", subset_policies=subsets) + "---\n" + canary
    to = lambda s: load(base, split((s, None)))  # noqa: E731
    assert pods(to("canary"), Request("reviews")) == {"reviews-v1-canary-0"}
    assert pods(to("v1"), Request("reviews")) == {"reviews-v1-0", "reviews-v1-canary-0"}
    assert pods(to("all"), Request("reviews")) == {"reviews-v1-0", "reviews-v1-canary-0"}


def test_s3_several_destination_rules_for_one_host_merge() -> None:
    first = dr(
        "reviews", ["v1"], name="a", policy="trafficPolicy:\n  loadBalancer: {simple: RANDOM}\n"
    )
    # a second definition of v1 (selecting v2 pods) is ignored: the first wins
    second = dr("reviews", ["v1", "v2"], name="b", policy=HASH_ON_USER).replace(
        "name: v1\n    labels:\n      version: v1", "name: v1\n    labels:\n      version: v2"
    )
    base = svc("reviews", ["v1", "v2"], replicas=2) + "---\n" + first + "---\n" + second
    sim = load(base, split(("v1", 50), ("v2", 50)))
    d1 = go(sim, Request("reviews", random_value=0))
    assert d1.pod is not None and d1.pod.startswith("reviews-v1-")
    d2 = go(sim, Request("reviews", random_value=50))
    assert d2.outcome is Outcome.OK and d2.pod is not None and d2.pod.startswith("reviews-v2-")
    assert "RANDOM picks" in trace_text(d2), "first top-level trafficPolicy wins"


def test_s3_merged_destination_rules_first_written_traffic_policy_wins_whole() -> None:
    """mergeDestinationRule keeps the first trafficPolicy written, even one without a loadBalancer.

    istio/istio pilot/pkg/model/destination_rule.go: the merged rule takes a later rule's
    trafficPolicy only when it has none yet; so a later RANDOM does not fill the gap.
    """
    first = dr(
        "reviews",
        ["v1"],
        name="a",
        policy="trafficPolicy:\n  connectionPool: {tcp: {maxConnections: 10}}\n",
    )
    second = dr(
        "reviews", ["v2"], name="b", policy="trafficPolicy:\n  loadBalancer: {simple: RANDOM}\n"
    )
    base = svc("reviews", ["v1", "v2"], replicas=2) + "---\n" + first + "---\n" + second
    sim = load(base, split(("v2", None)))
    text = trace_text(go(sim, Request("reviews")))
    assert "LEAST_REQUEST picks" in text and "RANDOM" not in text
