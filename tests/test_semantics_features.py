"""Route features, rule by rule: semantics.md §4 (redirect, directResponse, rewrite, header
operations, fault injection, mirrors, retries/timeout, delegation).

Every random pick is pinned with explicit draws (helpers.draws): the delay / abort / mirror draws
fire when ``draw % 1_000_000 < percentage * 10_000``.
"""

from __future__ import annotations

import pytest

from istiosim import ConfigError, Outcome, Request
from istiosim.plan import Forward

from helpers import NEVER, doc, go, load, reviews, split, svc, trace_text, vs

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


def test_s4_fault_percentage_is_truncated_to_per_million_like_istio() -> None:
    """route.go translatePercentToFractionalPercent: uint32(p * 10000) of a million, truncated.

    0.57 * 10000 is 5699.999… in binary floating point, so Envoy gets 5699, not 5700.
    """
    sim = fault("{abort: {httpStatus: 503, percentage: {value: 0.57}}}")
    assert go(sim, Request("reviews"), abort=5698).outcome is Outcome.FI
    assert go(sim, Request("reviews"), abort=5699).outcome is Outcome.OK


def test_s4_rewrite_uri_after_empty_prefix_match_prepends() -> None:
    """Envoy's prefix_rewrite replaces the matched prefix: "" → "/v1" gives /v1/abc, "/" gives /v1abc."""
    empty = rewrite("match:\n  - uri: {prefix: ''}\n  ", "{uri: /v1}")
    assert go(empty, Request("reviews", "/abc")).path == "/v1/abc"
    slash = rewrite("match:\n  - uri: {prefix: /}\n  ", "{uri: /v1}")
    assert go(slash, Request("reviews", "/abc")).path == "/v1abc"
