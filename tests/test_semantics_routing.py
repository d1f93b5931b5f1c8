"""Routing semantics, rule by rule: semantics.md §0.10-§0.13, §0.15, §1.1, §1.4 and §1.5.

Virtual-host selection, which VirtualService applies to which proxy, config-time match filters,
and the outcome of every failure mode. Weights, DestinationRules and route features are in
test_semantics_features.py; runtime match conditions in test_semantics_match.py.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from istiosim import Outcome, Request

from helpers import doc, dr, go, load, probs, svc, trace_text, vs

REVIEWS = svc("reviews", ["v1", "v2"]) + "---\n" + dr("reviews", ["v1", "v2"])
TO_V1 = "- route:\n  - destination: {host: reviews, subset: v1}\n"
TO_V2 = "- route:\n  - destination: {host: reviews, subset: v2}\n"


#: the ingress Gateway the gateway tests route through: HTTP servers for every host on the
#: ports they use (a gateway with no Gateway resource routes nothing, §8.1)
INGRESS = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 8080, name: http-alt, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 8443, name: http-8443, protocol: HTTP}
    hosts: ["*"]
"""


def _fqdn(name: str, ns: str = "default") -> str:
    return f"{name}.{ns}.svc.cluster.local"


# -- §0.10 sourceLabels, sourceNamespace, gateways and port are config-time ------------------


SOURCE_VS = vs(
    "reviews",
    doc(
        """
    - match:
      - sourceLabels: {app: productpage}
      route:
      - destination: {host: reviews, subset: v2}
    """
    )
    + TO_V1,
)


def test_s0_10_source_labels_select_the_client_proxy_subset_of() -> None:
    sim = load(REVIEWS, svc("productpage"), SOURCE_VS)
    assert go(sim, Request("reviews", source_labels={"app": "productpage"})).subset == "v2"
    superset = {"app": "productpage", "version": "v1", "team": "x"}
    assert go(sim, Request("reviews", source_labels=superset)).subset == "v2"
    assert go(sim, Request("reviews", source_labels={"app": "ratings"})).subset == "v1"
    assert go(sim, Request("reviews")).subset == "v1"


def test_s0_10_source_labels_come_from_the_named_client_workload() -> None:
    sim = load(REVIEWS, svc("productpage"), SOURCE_VS)
    assert go(sim, Request("reviews", source_workload="productpage-v1")).subset == "v2"
    assert go(sim, Request("reviews", source_workload="reviews-v1")).subset == "v1"


def test_s0_10_config_time_filter_is_in_the_trace_not_a_runtime_miss() -> None:
    sim = load(REVIEWS, svc("productpage"), SOURCE_VS)
    d = go(sim, Request("reviews", source_labels={"app": "ratings"}))
    skip = [s for s in d.trace or () if s.kind == "skip"]
    assert len(skip) == 1 and "sourceLabels" in skip[0].message
    assert "not generated for this client" in skip[0].message
    assert not [s for s in d.trace or () if s.kind == "miss"]


def test_s0_10_source_namespace_must_equal_client_namespace() -> None:
    sim = load(
        REVIEWS,
        vs(
            "reviews",
            """
            - match:
              - sourceNamespace: frontend
              route:
              - destination: {host: reviews.default.svc.cluster.local, subset: v2}
            - route:
              - destination: {host: reviews.default.svc.cluster.local, subset: v1}
            """,
        ),
    )
    assert go(sim, Request("reviews.default", namespace="frontend")).subset == "v2"
    assert go(sim, Request("reviews.default", namespace="default")).subset == "v1"


def test_s0_10_match_gateways_override_and_skip_source_labels() -> None:
    sim = load(
        REVIEWS,
        vs(
            "reviews",
            doc(
                """
            - match:
              - gateways: [mesh]
                sourceLabels: {app: nobody}
              route:
              - destination: {host: reviews, subset: v2}
            """
            )
            + TO_V1,
        ),
    )
    d = go(sim, Request("reviews"))
    assert d.subset == "v2", "match.gateways set → sourceLabels are not checked"


def test_s0_10_match_gateways_without_mesh_not_generated_on_sidecars() -> None:
    sim = load(
        INGRESS,
        REVIEWS,
        vs(
            "reviews",
            doc(
                """
            - match:
              - gateways: [istio-system/ingress]
              route:
              - destination: {host: reviews, subset: v2}
            """
            )
            + TO_V1,
            extra="gateways: [mesh, istio-system/ingress]",
        ),
    )
    assert go(sim, Request("reviews")).subset == "v1"
    gw = go(sim, Request("reviews.default.svc.cluster.local", gateway="istio-system/ingress"))
    assert gw.subset == "v2"


def test_s0_10_port_match_keeps_route_to_that_listener() -> None:
    sim = load(
        svc("reviews", ["v1", "v2"], ports=(9080, 9090)),
        dr("reviews", ["v1", "v2"]),
        vs(
            "reviews",
            """
            - match:
              - port: 9090
              route:
              - destination: {host: reviews, subset: v2, port: {number: 9090}}
            - route:
              - destination: {host: reviews, subset: v1, port: {number: 9080}}
            """,
        ),
    )
    d = go(sim, Request("reviews", port=9090))
    assert d.subset == "v2" and d.destination is not None and d.destination.port == 9090
    assert go(sim, Request("reviews", port=9080)).subset == "v1"


# -- §0.11 no route matched → 404 NR; no route generated for the client → default route -----


def test_s0_11_no_route_matched_is_404_nr() -> None:
    sim = load(
        REVIEWS,
        vs(
            "reviews",
            """
            - match:
              - uri: {prefix: /api}
              route:
              - destination: {host: reviews, subset: v1}
            """,
        ),
    )
    d = go(sim, Request("reviews", "/other"))
    assert (d.outcome, d.status, d.virtual_service) == (Outcome.NR, 404, "default/reviews")
    assert d.destination is None and d.candidates == ()
    assert "no route matched: 404 NR" in trace_text(d)


def test_s0_11_vs_with_no_route_for_this_client_falls_back_to_default_route() -> None:
    sim = load(
        REVIEWS,
        vs(
            "reviews",
            """
            - match:
              - sourceLabels: {app: productpage}
              route:
              - destination: {host: reviews, subset: v2}
            """,
        ),
    )
    other = go(sim, Request("reviews", source_labels={"app": "ratings"}))
    assert other.outcome is Outcome.OK and other.subset is None
    assert other.destination is not None
    assert other.destination.cluster == f"outbound|9080||{_fqdn('reviews')}"
    assert other.virtual_service is None
    pp = go(sim, Request("reviews", source_labels={"app": "productpage"}))
    assert pp.subset == "v2"


# -- §0.12 several VSs for one host: first wins on sidecars, merged on gateways --------------


def test_s0_12_first_vs_wins_on_sidecars() -> None:
    first = vs("reviews", TO_V1, name="reviews-a")
    second = vs(
        "reviews",
        "- match:\n  - headers: {x: {exact: '1'}}\n  route:\n  - destination: {host: reviews, subset: v2}\n",
        name="reviews-b",
    )
    sim = load(REVIEWS, first, second)
    d = go(sim, Request("reviews", headers={"x": "1"}))
    assert (d.subset, d.virtual_service) == ("v1", "default/reviews-a")
    assert "reviews-b also claims" in trace_text(d)
    codes = [x.code for x in sim.diagnostics if x.code == "IST0109"]
    assert len(codes) == 2, "IST0109 on both VirtualServices"
    flipped = load(REVIEWS, second, first)
    assert go(flipped, Request("reviews", headers={"x": "1"})).subset == "v2"
    assert go(flipped, Request("reviews")).outcome is Outcome.NR


def test_s0_12_first_vs_without_routes_for_client_yields_to_the_next() -> None:
    """A VS generating no route for this proxy builds no virtual host, so the next VS claims
    the host (route.go ``buildSidecarVirtualHostsForVirtualService`` returns nil)."""
    only_pp = vs(
        "reviews",
        "- match:\n  - sourceLabels: {app: productpage}\n  route:\n"
        "  - destination: {host: reviews, subset: v2}\n",
        name="reviews-a",
    )
    sim = load(REVIEWS, only_pp, vs("reviews", TO_V1, name="reviews-b"))
    d = go(sim, Request("reviews", source_labels={"app": "ratings"}))
    assert (d.subset, d.virtual_service) == ("v1", "default/reviews-b")
    d = go(sim, Request("reviews", source_labels={"app": "productpage"}))
    assert (d.subset, d.virtual_service) == ("v2", "default/reviews-a")


GW_A = vs(
    "shop.example.com",
    """
    - route:
      - destination: {host: reviews.default.svc.cluster.local, subset: v1}
    """,
    name="gw-a",
    extra="gateways: [istio-system/ingress]",
)
GW_B = vs(
    "shop.example.com",
    """
    - match:
      - uri: {prefix: /v2}
      route:
      - destination: {host: reviews.default.svc.cluster.local, subset: v2}
    """,
    name="gw-b",
    extra="gateways: [istio-system/ingress]",
)


def test_s1_4_gateway_merges_vs_and_moves_catch_all_last() -> None:
    sim = load(INGRESS, REVIEWS, GW_A, GW_B, INGRESS)
    gw = "istio-system/ingress"
    d = go(sim, Request("shop.example.com", "/v2/x", gateway=gw))
    assert (d.subset, d.virtual_service) == ("v2", "default/gw-b")
    d = go(sim, Request("shop.example.com", "/other", gateway=gw))
    assert (d.subset, d.virtual_service) == ("v1", "default/gw-a")
    assert not [x for x in sim.diagnostics if x.code == "IST0109"], "not mesh-bound"


def test_s1_3_routes_after_a_catch_all_are_never_generated_even_on_gateways() -> None:
    """Istio stops generating a VS's routes at its first catch-all (``IsCatchAllRoute``), so
    the gateway's catch-all-last sort cannot bring a later rule of that VS forward."""
    sim = load(
        INGRESS,
        REVIEWS,
        vs(
            "shop.example.com",
            """
            - route:
              - destination: {host: reviews.default.svc.cluster.local, subset: v1}
            - match:
              - headers: {x: {exact: '1'}}
              route:
              - destination: {host: reviews.default.svc.cluster.local, subset: v2}
            """,
            name="gw",
            extra="gateways: [istio-system/ingress]",
        ),
    )
    d = go(sim, Request("shop.example.com", headers={"x": "1"}, gateway="istio-system/ingress"))
    assert d.subset == "v1"
    assert any(x.code == "IST0130" for x in sim.diagnostics)


def test_s1_4_gateway_host_without_virtual_service_is_404() -> None:
    sim = load(INGRESS, REVIEWS, GW_A)
    d = go(sim, Request("other.example.com", gateway="istio-system/ingress"))
    assert (d.outcome, d.status) == (Outcome.NR, 404)
    d = go(sim, Request("reviews.default.svc.cluster.local", gateway="istio-system/ingress"))
    assert d.outcome is Outcome.NR, "a gateway never routes to a service without a VS"


# -- §0.13 short names expand in the VS's namespace; dotted names are literal ----------------


def test_s0_13_short_name_expands_in_the_vs_namespace() -> None:
    sim = load(
        REVIEWS,
        svc("reviews", ["v1"], ns="other"),
        vs("reviews", TO_V2, ns="other"),
    )
    # VS in 'other' with host 'reviews' means reviews.other…, not reviews.default…
    assert go(sim, Request("reviews")).subset is None
    d = go(sim, Request("reviews.other"))
    assert d.virtual_service == "other/reviews"
    assert d.outcome is Outcome.NC, "subset v2 of reviews.other has no DestinationRule"


def test_s0_13_dotted_name_is_taken_literally() -> None:
    sim = load(REVIEWS, vs("reviews.default", TO_V2))
    for host in ("reviews", "reviews.default", "reviews.default:9080"):
        d = go(sim, Request(host))
        assert d.outcome is Outcome.OK and d.subset is None and d.virtual_service is None, host


# -- §0.15 / §1.5 failure outcomes -------------------------------------------------------------


def test_s0_15_subset_without_pods_is_503_uh() -> None:
    sim = load(
        REVIEWS,
        dr("reviews", ["v1", "v2", "v9"]),
        vs("reviews", "- route:\n  - destination: {host: reviews, subset: v9}\n"),
    )
    d = go(sim, Request("reviews"))
    assert (d.outcome, d.status, d.flags) == (Outcome.UH, 503, ("UH",))
    assert d.destination is not None and d.destination.subset == "v9"
    assert "no pods" in trace_text(d)
    assert any(x.code == "IST0173" and "v9" in x.message for x in sim.diagnostics)


def test_s0_15_subset_not_in_any_destination_rule_is_503_nc() -> None:
    sim = load(REVIEWS, vs("reviews", "- route:\n  - destination: {host: reviews, subset: v3}\n"))
    d = go(sim, Request("reviews"))
    assert (d.outcome, d.status, d.flags) == (Outcome.NC, 503, ("NC",))
    assert "subset v3 is not defined" in trace_text(d)
    assert any(x.code == "IST0101" and "v3" in x.message for x in sim.diagnostics)


def test_s1_5_destination_host_not_in_registry_is_503_nc() -> None:
    sim = load(REVIEWS, vs("reviews", "- route:\n  - destination: {host: nowhere.example.com}\n"))
    d = go(sim, Request("reviews"))
    assert (d.outcome, d.status) == (Outcome.NC, 503)
    assert any(x.code == "IST0101" for x in sim.diagnostics)


def test_s1_5_no_vs_is_default_route_to_all_endpoints() -> None:
    sim = load(svc("reviews", ["v1", "v2", "v3"]), dr("reviews", ["v1", "v2", "v3"]))
    pods = {go(sim, Request("reviews"), endpoint=i).pod for i in range(3)}
    assert pods == {"reviews-v1-0", "reviews-v2-0", "reviews-v3-0"}
    d = go(sim, Request("reviews"))
    assert (
        d.destination is not None and d.destination.cluster == f"outbound|9080||{_fqdn('reviews')}"
    )
    assert probs(d) == {None: Fraction(1)}


def test_s1_5_unknown_host_is_passthrough() -> None:
    sim = load(REVIEWS)
    d = go(sim, Request("www.example.com"))
    assert (d.outcome, d.status) == (Outcome.PASSTHROUGH, 200)
    assert d.destination is not None and d.destination.cluster == "PassthroughCluster"


# -- §1.1 virtual-host selection ----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "reviews",
        "reviews.default",
        "reviews.default.svc",
        _fqdn("reviews"),
        "REVIEWS",
        "reviews:9080",
    ],
)
def test_s1_1_vhost_domains_in_own_namespace(host: str) -> None:
    sim = load(REVIEWS, vs("reviews", TO_V2))
    d = go(sim, Request(host))
    assert (d.outcome, d.subset) == (Outcome.OK, "v2"), host


@pytest.mark.parametrize("host", ["reviews.default", "reviews.default.svc", _fqdn("reviews")])
def test_s1_1_vhost_domains_from_another_namespace(host: str) -> None:
    sim = load(REVIEWS, vs("reviews", TO_V2))
    d = go(sim, Request(host, namespace="frontend"))
    assert (d.outcome, d.subset) == (Outcome.OK, "v2"), host


def test_s1_1_bare_name_does_not_reach_another_namespace() -> None:
    sim = load(REVIEWS, vs("reviews", TO_V2))
    d = go(sim, Request("reviews", namespace="frontend"))
    assert d.outcome is Outcome.PASSTHROUGH


def test_s1_1_port_in_host_is_ignored_but_listener_is_chosen_by_port() -> None:
    sim = load(REVIEWS, vs("reviews", TO_V2))
    d = go(sim, Request("reviews:1234", port=9080))
    assert d.subset == "v2", "Host port ignored for vhost selection"
    d = go(sim, Request("reviews", port=1234))
    assert d.outcome is Outcome.PASSTHROUGH, "no listener for port 1234 on reviews"


def test_s1_1_exact_domain_beats_wildcard_service_entry() -> None:
    se = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: %s}
    spec:
      hosts: [%s]
      ports: [{number: 80, name: http, protocol: HTTP}]
      resolution: NONE
      location: MESH_EXTERNAL
      endpoints: [{address: %s}]
    """
    sim = load(
        se % ("wild", "'*.example.com'", "10.0.0.1"),
        se % ("api", "api.example.com", "10.0.0.2"),
    )
    assert go(sim, Request("api.example.com")).pod == "api-ep0"
    assert go(sim, Request("www.example.com")).pod == "wild-ep0"
    assert go(sim, Request("example.com")).outcome is Outcome.PASSTHROUGH


def test_s1_1_first_match_wins_in_route_order() -> None:
    sim = load(
        REVIEWS,
        vs(
            "reviews",
            """
            - match:
              - uri: {prefix: /a}
              route:
              - destination: {host: reviews, subset: v1}
            - match:
              - uri: {prefix: /a/b}
              route:
              - destination: {host: reviews, subset: v2}
            """,
        ),
    )
    d = go(sim, Request("reviews", "/a/b"))
    assert (d.rule, d.subset) == (0, "v1")


# -- §1.4 VS selection, hosts, gateways, exportTo, DR lookup -----------------------------------


def test_s1_4_vs_without_mesh_gateway_does_not_apply_to_sidecars() -> None:
    sim = load(REVIEWS, vs("reviews", TO_V2, extra="gateways: [istio-system/ingress]"))
    d = go(sim, Request("reviews"))
    assert d.subset is None and d.virtual_service is None


def test_s1_4_hosts_are_lower_cased() -> None:
    sim = load(REVIEWS, vs("Reviews", TO_V2))
    assert go(sim, Request("reviews")).subset == "v2"


def test_s1_4_wildcard_host_matches_deeper_names_only() -> None:
    se = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: %s}
    spec:
      hosts: [%s]
      ports: [{number: 80, name: http, protocol: HTTP}]
      resolution: DNS
      location: MESH_EXTERNAL
    """
    sim = load(
        se % ("a", "a.foo.com"),
        se % ("bare", "foo.com"),
        vs("*.foo.com", "- directResponse: {status: 418}\n", name="wild"),
    )
    assert go(sim, Request("a.foo.com")).status == 418
    assert go(sim, Request("foo.com")).outcome is Outcome.OK, "*.foo.com does not cover foo.com"


def test_s1_4_most_specific_wildcard_and_exact_host_win() -> None:
    broad = vs("*.svc.cluster.local", "- directResponse: {status: 401}\n", name="broad")
    narrow = vs("*.default.svc.cluster.local", "- directResponse: {status: 402}\n", name="narrow")
    exact = vs("reviews", "- directResponse: {status: 403}\n", name="exact")
    sim = load(REVIEWS, broad, narrow)
    assert go(sim, Request("reviews")).status == 402
    sim = load(REVIEWS, broad, narrow, exact)
    assert go(sim, Request("reviews")).status == 403


def test_s1_4_export_to_dot_is_own_namespace_only() -> None:
    sim = load(REVIEWS, vs("reviews", TO_V2, extra="exportTo: ['.']"))
    assert go(sim, Request("reviews")).subset == "v2"
    assert go(sim, Request("reviews.default", namespace="frontend")).subset is None


def test_s1_4_export_to_tilde_hides_from_everyone() -> None:
    sim = load(REVIEWS, vs("reviews", TO_V2, extra="exportTo: ['~']"))
    assert go(sim, Request("reviews")).subset is None


def test_s1_4_export_to_named_namespaces() -> None:
    sim = load(REVIEWS, vs("reviews", TO_V2, extra="exportTo: [frontend]"))
    assert go(sim, Request("reviews.default", namespace="frontend")).subset == "v2"
    assert go(sim, Request("reviews.default", namespace="batch")).subset is None


def test_s1_4_private_vs_in_client_namespace_beats_older_public_vs() -> None:
    public = vs(
        _fqdn("reviews"),
        TO_V1.replace("reviews,", f"{_fqdn('reviews')},"),
        name="pub",
        ns="default",
    )
    private = vs(
        _fqdn("reviews"),
        TO_V2.replace("reviews,", f"{_fqdn('reviews')},"),
        name="mine",
        ns="frontend",
        extra="exportTo: ['.']",
    )
    sim = load(REVIEWS, public, private)
    assert (
        go(sim, Request("reviews.default", namespace="frontend")).virtual_service == "frontend/mine"
    )
    assert go(sim, Request("reviews")).virtual_service == "default/pub"


def test_s1_4_destination_rule_lookup_client_ns_then_service_ns_then_root() -> None:
    host = _fqdn("reviews")
    route = f"- route:\n  - destination: {{host: {host}, subset: v2}}\n"
    root = dr(host, ["v2"], name="root", ns="istio-system").replace("version: v2", "version: v1")
    svc_ns = dr(host, ["v2"], name="svcns", ns="default")
    client = dr(host, ["v2"], name="client", ns="frontend").replace("version: v2", "version: v1")
    # service namespace beats root namespace
    sim = load(svc("reviews", ["v1", "v2"]), vs(host, route, name="r"), root, svc_ns)
    assert go(sim, Request("reviews.default", namespace="batch")).pod == "reviews-v2-0"
    # only the root namespace defines it: used
    sim = load(svc("reviews", ["v1", "v2"]), vs(host, route, name="r"), root)
    assert go(sim, Request("reviews.default", namespace="batch")).pod == "reviews-v1-0"
    # client namespace beats service namespace
    sim = load(svc("reviews", ["v1", "v2"]), vs(host, route, name="r"), svc_ns, client)
    assert go(sim, Request("reviews.default", namespace="frontend")).pod == "reviews-v1-0"
    assert go(sim, Request("reviews.default", namespace="batch")).pod == "reviews-v2-0"


def test_s1_4_destination_rule_in_an_unrelated_namespace_is_not_used() -> None:
    """push_context.go ``destinationRule``: client ns, service ns, root ns, nothing else."""
    host = _fqdn("reviews")
    route = f"- route:\n  - destination: {{host: {host}, subset: v2}}\n"
    sim = load(
        svc("reviews", ["v1", "v2"]), vs(host, route, name="r"), dr(host, ["v2"], ns="third")
    )
    d = go(sim, Request("reviews"))
    assert (d.outcome, d.status) == (Outcome.NC, 503)


def test_s1_4_same_object_in_two_files_is_replaced() -> None:
    sim = load(REVIEWS, vs("reviews", TO_V1), vs("reviews", TO_V2))
    assert go(sim, Request("reviews")).subset == "v2"
    assert not [x for x in sim.diagnostics if x.code == "IST0109"]


def test_s1_4_replaced_object_keeps_its_creation_order() -> None:
    """kubectl apply of an existing VS keeps its identity (and creation time): re-applying
    reviews-a after reviews-b leaves reviews-a first for the host."""
    a1 = vs("reviews", TO_V1, name="reviews-a")
    b = vs("reviews", TO_V2, name="reviews-b")
    a2 = vs("reviews", TO_V2.replace("v2", "v1") + "  timeout: 5s\n", name="reviews-a")
    sim = load(REVIEWS, a1, b, a2)
    d = go(sim, Request("reviews"))
    assert (d.virtual_service, d.subset, d.timeout) == ("default/reviews-a", "v1", "5s")


def test_s0_10_port_match_on_a_gateway_is_the_gateway_listener_port() -> None:
    sim = load(
        INGRESS,
        REVIEWS,
        vs(
            "shop.example.com",
            """
            - match:
              - port: 8443
              route:
              - destination: {host: reviews.default.svc.cluster.local, subset: v2}
            - route:
              - destination: {host: reviews.default.svc.cluster.local, subset: v1}
            """,
            name="gw",
            extra="gateways: [istio-system/ingress]",
        ),
    )
    gw = "istio-system/ingress"
    assert go(sim, Request("shop.example.com", gateway=gw, port=8443)).subset == "v2"
    assert go(sim, Request("shop.example.com", gateway=gw, port=8080)).subset == "v1"


def test_s1_3_uri_regex_dot_star_is_a_catch_all_moved_last_on_gateways() -> None:
    """route.go ``IsCatchAllRoute`` counts ``safe_regex: .*`` as a catch-all too."""
    star = vs(
        "shop.example.com",
        """
        - match:
          - uri: {regex: '.*'}
          route:
          - destination: {host: reviews.default.svc.cluster.local, subset: v1}
        """,
        name="gw-a",
        extra="gateways: [istio-system/ingress]",
    )
    sim = load(INGRESS, REVIEWS, star, GW_B)
    gw = "istio-system/ingress"
    assert go(sim, Request("shop.example.com", "/v2/x", gateway=gw)).subset == "v2"
    assert go(sim, Request("shop.example.com", "/other", gateway=gw)).subset == "v1"


def test_s1_1_destination_port_is_the_only_service_port_else_the_listener_port() -> None:
    """route.go ``GetDestinationCluster``: no ``port`` on a multi-port destination → the
    listener's port; a cluster for a port the service lacks does not exist → 503 NC."""
    multi = svc("multi", ["v1"], ports=(9080, 9090))
    other = svc("other", ["v1"], ports=(8080, 8081))
    single = svc("single", ["v1"], ports=(7070,))
    http = """
    - match: [{headers: {to: {exact: multi}}}]
      route: [{destination: {host: multi}}]
    - match: [{headers: {to: {exact: other}}}]
      route: [{destination: {host: other}}]
    - match: [{headers: {to: {exact: single}}}]
      route: [{destination: {host: single}}]
    - route: [{destination: {host: other, port: {number: 9999}}}]
    """
    sim = load(REVIEWS, multi, other, single, vs("reviews", http))
    to = lambda t: go(sim, Request("reviews", headers={"to": t} if t else {}))  # noqa: E731
    d = to("multi")
    assert d.outcome is Outcome.OK and d.destination is not None
    assert d.destination.cluster == f"outbound|9080||{_fqdn('multi')}"
    d = to("other")
    assert (d.outcome, d.status) == (Outcome.NC, 503)
    assert d.destination is not None and d.destination.cluster == f"outbound|9080||{_fqdn('other')}"
    assert any(x.code == "IST0112" and "other" in x.message for x in sim.diagnostics)
    d = to("single")
    assert d.outcome is Outcome.OK and d.destination is not None and d.destination.port == 7070
    d = to("")
    assert d.outcome is Outcome.NC and "has no port 9999" in trace_text(d)


def test_s1_1_vs_host_outside_the_registry_only_on_port_80() -> None:
    """A VS host that is no service gets a virtual host on the port-80 listener only."""
    sim = load(REVIEWS, vs("api.example.com", "- directResponse: {status: 418}\n", name="api"))
    assert go(sim, Request("api.example.com")).status == 418
    assert go(sim, Request("api.example.com", port=80)).status == 418
    assert go(sim, Request("api.example.com:80")).status == 418
    d = go(sim, Request("api.example.com", port=8080))
    assert d.outcome is Outcome.PASSTHROUGH
