"""Weights, DestinationRules and route features, rule by rule: semantics.md §0.1-§0.4, §0.16,
§2, §3 and §4.

Every random pick is pinned with explicit draws (helpers.draws): the route draw (or
``Request.random_value``) for the weighted cluster, the endpoint draw for the pod, and the
delay / abort / mirror draws, which fire when ``draw % 1_000_000 < percentage * 10_000``.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from istiosim import ConfigError, Outcome, Request
from istiosim.plan import Forward

from helpers import NEVER, doc, dr, go, load, probs, svc, trace_text, vs

F = Fraction


def reviews(*versions: str, replicas: int = 1, policy: str = "", subset_policies: str = "") -> str:
    """reviews Service + Deployments + one DR (optionally with a policy / custom subsets)."""
    out = svc("reviews", versions, replicas=replicas) + "---\n"
    if subset_policies:
        pol = "\n".join("  " + ln for ln in doc(policy).splitlines()) + "\n" if policy else ""
        sub = "\n".join("  " + ln for ln in doc(subset_policies).splitlines()) + "\n"
        return out + (
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n"
            f"  name: reviews\nspec:\n  host: reviews\n{pol}  subsets:\n{sub}"
        )
    return out + dr("reviews", versions, policy=policy)


def split(*pairs: tuple[str, int | None], extra: str = "") -> str:
    """A VS sending reviews to the given (subset, weight) destinations."""
    lines = ["- route:"]
    for subset, weight in pairs:
        lines.append(f"  - destination: {{host: reviews, subset: {subset}}}")
        if weight is not None:
            lines.append(f"    weight: {weight}")
    return vs("reviews", "\n".join(lines) + "\n" + extra)


def pods(sim: object, req: Request, n: int = 6, **kw: int) -> set[str | None]:
    """The pods reached with endpoint draws 0..n-1 (other draws fixed)."""
    return {go(sim, req, endpoint=i, **kw).pod for i in range(n)}  # type: ignore[arg-type]


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


# -- §4 redirect ---------------------------------------------------------------------------------


def redirect(spec: str) -> object:
    return load(reviews("v1"), vs("reviews", f"- redirect: {spec}\n"))


@pytest.mark.parametrize(
    "spec,req,location",
    [
        ("{uri: /v2/x}", Request("reviews", "/a?q=1"), "http://reviews/v2/x?q=1"),
        ("{uri: '/v2?x=1'}", Request("reviews", "/a?q=1"), "http://reviews/v2?x=1"),
        ("{authority: new.example.com}", Request("reviews", "/a"), "http://new.example.com/a"),
        ("{scheme: https}", Request("reviews", "/a"), "https://reviews/a"),
        ("{scheme: https}", Request("reviews:80", "/a", port=9080), "https://reviews/a"),
        ("{port: 8443}", Request("reviews:9080", "/a"), "http://reviews:8443/a"),
        ("{scheme: https, port: 443}", Request("reviews", "/a"), "https://reviews/a"),
        ("{derivePort: FROM_REQUEST_PORT}", Request("reviews", "/a"), "http://reviews:9080/a"),
        ("{derivePort: FROM_PROTOCOL_DEFAULT, scheme: https}", Request("reviews:80", "/a", port=9080), "https://reviews/a"),
    ],
)  # fmt: skip
def test_s4_redirect_location(spec: str, req: Request, location: str) -> None:
    d = go(redirect(spec), req)  # type: ignore[arg-type]
    assert (d.outcome, d.status, d.redirect_location) == (Outcome.REDIRECT, 301, location)
    assert d.pod is None and d.destination is None


def test_s4_redirect_keeps_a_non_default_host_port_unless_a_port_is_set() -> None:
    """Envoy ``newUri``/``processRequestHost``: without ``port_redirect`` the Host's port stays
    (only :80/:443 are dropped on a scheme change); FROM_PROTOCOL_DEFAULT sets no port_redirect
    (route.go ``ApplyRedirect``), and neither does ``port: 80`` on http (istiod drops it)."""
    req = Request("reviews:9080", "/a")
    assert go(redirect("{scheme: https}"), req).redirect_location == "https://reviews:9080/a"
    d = go(redirect("{derivePort: FROM_PROTOCOL_DEFAULT, scheme: https}"), req)
    assert d.redirect_location == "https://reviews:9080/a"
    assert go(redirect("{port: 80}"), req).redirect_location == "http://reviews:9080/a"


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_s4_redirect_code(code: int) -> None:
    d = go(redirect(f"{{uri: /x, redirectCode: {code}}}"), Request("reviews"))
    assert d.status == code


def test_s4_redirect_code_istio_cannot_emit_is_rejected() -> None:
    with pytest.raises(ConfigError, match="redirectCode"):
        redirect("{uri: /x, redirectCode: 304}")


def test_s4_direct_response() -> None:
    sim = load(
        reviews("v1"), vs("reviews", "- directResponse: {status: 503, body: {string: down}}\n")
    )
    d = go(sim, Request("reviews"))
    assert (d.outcome, d.status, d.body, d.pod) == (Outcome.DIRECT, 503, "down", None)


# -- §4 rewrite ------------------------------------------------------------------------------------


def rewrite(match: str, rw: str) -> object:
    http = f"- {match}rewrite: {rw}\n  route:\n  - destination: {{host: reviews}}\n"
    return load(reviews("v1"), vs("reviews", http))


def test_s4_rewrite_uri_replaces_matched_prefix() -> None:
    sim = rewrite("match:\n  - uri: {prefix: /reviews}\n  ", "{uri: /v2}")
    d = go(sim, Request("reviews", "/reviews/0?x=1"))
    assert d.path == "/v2/0?x=1"


def test_s4_rewrite_uri_replaces_whole_path_for_exact_and_regex() -> None:
    exact = rewrite("match:\n  - uri: {exact: /reviews/0}\n  ", "{uri: /v2}")
    assert go(exact, Request("reviews", "/reviews/0?x=1")).path == "/v2?x=1"
    regex = rewrite("match:\n  - uri: {regex: '/reviews/[0-9]+'}\n  ", "{uri: /v2}")
    assert go(regex, Request("reviews", "/reviews/12")).path == "/v2"


def test_s4_rewrite_uri_without_uri_match_uses_implicit_slash_prefix() -> None:
    sim = rewrite("", "{uri: /v1}")
    assert go(sim, Request("reviews", "/abc")).path == "/v1abc"


def test_s4_uri_regex_rewrite_substitutes_groups_and_every_match() -> None:
    sim = rewrite(
        "", "{uriRegexRewrite: {match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1'}}"
    )
    assert go(sim, Request("reviews", "/service/foo/v1/api?q=1")).path == "/v1/api/instance/foo?q=1"
    glob = rewrite("", "{uriRegexRewrite: {match: one, rewrite: two}}")
    assert go(glob, Request("reviews", "/xxx/one/yyy/one/zzz")).path == "/xxx/two/yyy/two/zzz"


def test_s4_rewrite_authority() -> None:
    sim = rewrite("", "{authority: internal.example.com}")
    d = go(sim, Request("reviews", "/a"))
    assert (d.authority, d.path) == ("internal.example.com", "/a")


def test_s4_rewrite_and_uri_regex_rewrite_are_exclusive() -> None:
    with pytest.raises(ConfigError, match="uriRegexRewrite"):
        rewrite("", "{uri: /a, uriRegexRewrite: {match: a, rewrite: b}}")


# -- §4 header operations ------------------------------------------------------------------------


def headers_vs(route_ops: str, dest_ops: str, weighted: bool) -> object:
    second = "  - destination: {host: reviews, subset: v2}\n    weight: 0\n" if weighted else ""
    weight = "    weight: 100\n" if weighted else ""
    http = (
        f"- headers: {{request: {route_ops}}}\n  route:\n"
        f"  - destination: {{host: reviews, subset: v1}}\n{weight}"
        f"    headers: {{request: {dest_ops}}}\n{second}"
    )
    return load(reviews("v1", "v2"), vs("reviews", http))


def test_s4_header_ops_single_destination_is_one_list_destination_set_wins() -> None:
    sim = headers_vs("{set: {x-a: route}, add: {x-b: r}}", "{set: {x-a: dest}}", weighted=False)
    h = go(sim, Request("reviews", headers={"x-a": "orig"})).request_headers
    assert h is not None and (h["x-a"], h["x-b"]) == ("dest", "r")


def test_s4_header_ops_single_destination_sets_before_adds() -> None:
    """One Envoy header parser: removes, then every overwrite, then every append."""
    sim = headers_vs("{add: {x: r}}", "{set: {x: d}}", weighted=False)
    h = go(sim, Request("reviews")).request_headers
    assert h is not None and h["x"] == "d,r"


def test_s4_header_ops_weighted_route_level_wins() -> None:
    sim = headers_vs("{set: {x-a: route}}", "{set: {x-a: dest}}", weighted=True)
    h = go(sim, Request("reviews")).request_headers
    assert h is not None and h["x-a"] == "route"


def test_s4_header_ops_weighted_cluster_ops_run_before_route_ops() -> None:
    """Envoy ``WeightedClusterEntry::finalizeRequestHeaders``: the cluster-weight parser runs
    (remove, set, add) and then the route's parser does, each as a separate step."""
    sim = headers_vs("{set: {x: r}}", "{add: {x: d}}", weighted=True)
    h = go(sim, Request("reviews")).request_headers
    assert h is not None and h["x"] == "r"
    sim = headers_vs("{remove: [x]}", "{set: {x: d}}", weighted=True)
    h = go(sim, Request("reviews")).request_headers
    assert h is not None and "x" not in h


def test_s4_header_set_host_is_an_authority_rewrite() -> None:
    sim = headers_vs("{set: {host: other.example.com}}", "{}", weighted=False)
    d = go(sim, Request("reviews"))
    assert d.authority == "other.example.com"
    assert d.request_headers is not None and "host" not in d.request_headers


def test_s4_header_remove() -> None:
    sim = headers_vs("{remove: [x-debug]}", "{}", weighted=False)
    h = go(sim, Request("reviews", headers={"x-debug": "1", "y": "2"})).request_headers
    assert h == {"y": "2"}


def test_s4_response_header_ops_are_reported() -> None:
    http = (
        "- headers: {response: {set: {x-r: '1'}, remove: [server]}}\n  route:\n"
        "  - destination: {host: reviews}\n"
    )
    d = go(load(reviews("v1"), vs("reviews", http)), Request("reviews"))
    assert ("set", "x-r", "1") in d.response_headers
    assert ("remove", "server", "") in d.response_headers


# -- §4 fault injection ------------------------------------------------------------------------------


def fault(spec: str) -> object:
    http = f"- fault: {spec}\n  route:\n  - destination: {{host: reviews}}\n"
    return load(reviews("v1"), vs("reviews", http))


def test_s4_fault_delay_applies_to_percentage_of_requests_by_its_own_draw() -> None:
    sim = fault("{delay: {fixedDelay: 7s, percentage: {value: 50}}}")
    d = go(sim, Request("reviews"), delay=499_999)
    assert (d.outcome, d.status, d.flags, d.delay_ms) == (Outcome.OK, 200, ("DI",), 7000)
    assert d.pod == "reviews-v1-0", "a delayed request still reaches the upstream"
    d = go(sim, Request("reviews"), delay=500_000)
    assert (d.flags, d.delay_ms) == ((), None)
    assert go(sim, Request("reviews"), delay=1_499_999).delayed, "draw is taken mod 1e6"


def test_s4_fault_percentage_granularity_is_one_per_million() -> None:
    sim = fault("{delay: {fixedDelay: 1ms, percentage: {value: 0.0001}}}")
    assert go(sim, Request("reviews"), delay=0).delayed
    assert not go(sim, Request("reviews"), delay=1).delayed


def test_s4_fault_without_percentage_never_fires() -> None:
    sim = fault("{delay: {fixedDelay: 5s}, abort: {httpStatus: 500}}")
    d = go(sim, Request("reviews"), delay=0, abort=0)
    assert (d.outcome, d.flags) == (Outcome.OK, ())


def test_s4_fault_deprecated_percent_integer() -> None:
    sim = fault("{delay: {fixedDelay: 5s, percent: 30}}")
    assert go(sim, Request("reviews"), delay=299_999).delayed
    assert not go(sim, Request("reviews"), delay=300_000).delayed
    assert any(x.code == "IST0002" for x in sim.diagnostics)  # type: ignore[attr-defined]


def test_s4_fault_abort_does_not_call_upstream() -> None:
    sim = fault("{abort: {httpStatus: 555, percentage: {value: 100}}}")
    d = go(sim, Request("reviews"), abort=NEVER)
    assert (d.outcome, d.status, d.flags, d.pod) == (Outcome.FI, 555, ("FI",), None)
    assert "upstream not called" in trace_text(d)


def test_s4_fault_abort_and_delay_draws_are_independent() -> None:
    sim = fault(
        "{delay: {fixedDelay: 2s, percentage: {value: 50}}, abort: {httpStatus: 503, percentage: {value: 50}}}"
    )
    both = go(sim, Request("reviews"), delay=0, abort=0)
    assert (both.outcome, both.status, both.flags, both.delay_ms) == (
        Outcome.FI,
        503,
        ("DI", "FI"),
        2000,
    )
    only_abort = go(sim, Request("reviews"), delay=NEVER, abort=0)
    assert (only_abort.outcome, only_abort.flags, only_abort.delay_ms) == (
        Outcome.FI,
        ("FI",),
        None,
    )
    only_delay = go(sim, Request("reviews"), delay=0, abort=NEVER)
    assert (only_delay.outcome, only_delay.flags) == (Outcome.OK, ("DI",))


def test_s4_fault_grpc_abort() -> None:
    sim = fault("{abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}")
    d = go(sim, Request("reviews"))
    assert d.outcome is Outcome.FI and d.status == 200, "gRPC aborts answer HTTP 200 + grpc-status"


# -- §4 mirrors, retries, timeout -------------------------------------------------------------------


def mirrored(spec: str) -> object:
    extra = "".join(f"  {line}\n" for line in doc(spec).splitlines())
    http = f"- route:\n  - destination: {{host: reviews}}\n{extra}"
    return load(reviews("v1"), svc("ratings"), vs("reviews", http))


RATINGS = "outbound|9080||ratings.default.svc.cluster.local"


def test_s4_mirror_defaults_to_100_percent_without_shadow_suffix() -> None:
    sim = mirrored("mirror: {host: ratings}\n")
    d = go(sim, Request("reviews"), mirrors=[NEVER - 1])
    assert d.mirrors == (RATINGS,)
    assert d.pod == "reviews-v1-0", "the original request still goes to its destination"


def test_s4_mirror_percentage_uses_its_own_draw() -> None:
    sim = mirrored("mirror: {host: ratings}\nmirrorPercentage: {value: 50}\n")
    assert go(sim, Request("reviews"), mirrors=[499_999]).mirrors == (RATINGS,)
    assert go(sim, Request("reviews"), mirrors=[500_000]).mirrors == ()


def test_s4_explicit_zero_mirror_percentage_never_mirrors() -> None:
    sim = mirrored("mirror: {host: ratings}\nmirrorPercentage: {value: 0}\n")
    assert go(sim, Request("reviews"), mirrors=[0]).mirrors == ()


def test_s4_mirrors_list_draws_independently_per_mirror() -> None:
    sim = mirrored(
        """
        mirrors:
        - destination: {host: ratings}
        - destination: {host: reviews, subset: v1}
          percentage: {value: 30}
        """
    )
    v1 = "outbound|9080|v1|reviews.default.svc.cluster.local"
    assert go(sim, Request("reviews"), mirrors=[0, 299_999]).mirrors == (RATINGS, v1)
    assert go(sim, Request("reviews"), mirrors=[0, 300_000]).mirrors == (RATINGS,)


def test_s4_mirror_to_a_cluster_that_does_not_exist_is_not_sent() -> None:
    """Envoy's shadow writer drops a copy for an unknown cluster; a subset without pods (UH)
    still gets the copy attempt."""
    sim = mirrored(
        """
        mirrors:
        - destination: {host: reviews, subset: nope}
        - destination: {host: reviews, subset: v1}
        """
    )
    v1 = "outbound|9080|v1|reviews.default.svc.cluster.local"
    assert go(sim, Request("reviews"), mirrors=[0, 0]).mirrors == (v1,)


def test_s4_mirror_and_mirrors_are_exclusive() -> None:
    with pytest.raises(ConfigError, match="mirror"):
        mirrored("mirror: {host: ratings}\nmirrors:\n- destination: {host: ratings}\n")


def test_s4_timeout_and_retries_are_passed_through() -> None:
    http = (
        "- timeout: 3s\n  retries: {attempts: 1, perTryTimeout: 2s}\n  route:\n"
        "  - destination: {host: reviews}\n"
    )
    sim = load(reviews("v1"), vs("reviews", http))
    assert go(sim, Request("reviews")).timeout == "3s"
    act = sim.plan.virtual_services[0].entries[0].action
    assert isinstance(act, Forward) and act.retries is not None and act.retries["attempts"] == 1
    no_timeout = load(reviews("v1"), split(("v1", None)))
    assert go(no_timeout, Request("reviews")).timeout is None, "default: no timeout"


# -- §4 delegate ----------------------------------------------------------------------------------


ROOT = vs(
    "reviews",
    """
    - match:
      - uri: {prefix: /reviews}
      delegate: {name: reviews-delegate}
      timeout: 4s
    """,
)
DELEGATE = doc(
    """
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews-delegate}
    spec:
      http:
      - match:
        - uri: {prefix: /reviews/v2}
        route:
        - destination: {host: reviews, subset: v2}
      - match:
        - uri: {prefix: /other}
        route:
        - destination: {host: reviews, subset: v3}
      - route:
        - destination: {host: reviews, subset: v1}
    """
)


def test_s4_delegate_routes_replace_the_root_route_merged_with_its_match() -> None:
    sim = load(reviews("v1", "v2", "v3"), ROOT, DELEGATE)
    d = go(sim, Request("reviews", "/reviews/v2/x"))
    assert (d.subset, d.virtual_service) == ("v2", "default/reviews")
    assert go(sim, Request("reviews", "/reviews/1")).subset == "v1", (
        "delegate catch-all ∧ root match"
    )
    assert go(sim, Request("reviews", "/other")).outcome is Outcome.NR, "conflicting route dropped"
    assert go(sim, Request("reviews", "/elsewhere")).outcome is Outcome.NR


def test_s4_delegate_inherits_unset_root_fields() -> None:
    sim = load(reviews("v1", "v2", "v3"), ROOT, DELEGATE)
    assert go(sim, Request("reviews", "/reviews/1")).timeout == "4s"


def test_s4_missing_delegate_drops_the_root_route() -> None:
    root = (
        ROOT
        + "  - match:\n    - uri: {prefix: /x}\n    route:\n    - destination: {host: reviews}\n"
    )
    sim = load(reviews("v1", "v2", "v3"), root)
    assert go(sim, Request("reviews", "/reviews/1")).outcome is Outcome.NR
    assert go(sim, Request("reviews", "/x")).outcome is Outcome.OK
    assert any("delegate" in x.message for x in sim.diagnostics)


def test_s4_root_left_without_routes_is_no_virtual_host() -> None:
    """Every root route dropped → the VS yields no route → the service's default route."""
    sim = load(reviews("v1", "v2", "v3"), ROOT)
    d = go(sim, Request("reviews", "/reviews/1"))
    assert (d.outcome, d.subset, d.virtual_service) == (Outcome.OK, None, None)


def test_s4_delegate_regex_conflicts_with_any_root_match_on_that_field() -> None:
    delegate = DELEGATE.replace("prefix: /reviews/v2", "regex: '/reviews/v2.*'")
    sim = load(reviews("v1", "v2", "v3"), ROOT, delegate)
    assert go(sim, Request("reviews", "/reviews/v2/x")).subset == "v1", "regex route dropped"
