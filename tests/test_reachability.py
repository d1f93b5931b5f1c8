"""Exact reachability of match blocks (ISM0130): a witness for each reachable block (checked
by routing it), the earlier blocks that shadow each unreachable one, and istioctl's own codes
left where they apply (istio/istio pkg/config/validation/virtualservice.go
``analyzeUnreachableHTTPRules``; the corpus file virtualservice_overlappingmatches.yaml is from
its analyzer tests)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import istiosim
from istiosim import Request
from istiosim.analysis import ANALYZERS
from istiosim.analysis.reachability import reachability
from istiosim.testing import strategies as ist

from conftest import CORPUS, examples

DEMO = Path(istiosim.__file__).parent / "data" / "bookinfo"
BASE = (DEMO / "bookinfo-k8s.yaml", DEMO / "destination.yaml")


def _vs(http: list[dict[str, object]], name: str = "reviews") -> str:
    return json.dumps(
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": name},
            "spec": {"hosts": ["reviews"], "http": http},
        }
    )


def _to(subset: str) -> list[dict[str, object]]:
    return [{"destination": {"host": "reviews", "subset": subset}}]


RULES = [
    {
        "match": [{"headers": {"end-user": {"exact": "jason"}}}, {"uri": {"prefix": "/api"}}],
        "route": _to("v2"),
    },
    {"match": [{"headers": {"end-user": {"prefix": "ja"}}}], "route": _to("v3")},
    # shadowed by rule 0's second block (every /api/v1 request), whatever the header
    {
        "match": [{"uri": {"prefix": "/api/v1"}, "headers": {"end-user": {"exact": "bob"}}}],
        "route": _to("v3"),
    },
    # /login GET: jason's go to rule 0, ja*'s to rule 1, the rest to rule 3: all three shadow it
    {"match": [{"method": {"exact": "GET"}}], "route": _to("v1")},
    {"match": [{"uri": {"exact": "/login"}, "method": {"exact": "GET"}}], "route": _to("v2")},
    # block 0 contradicts itself: header x = 1 and, in withoutHeaders, x = 1
    {
        "match": [
            {"headers": {"x": {"exact": "1"}}, "withoutHeaders": {"x": {"exact": "1"}}},
            {"uri": {"exact": "/b"}},
        ],
        "route": _to("v2"),
    },
    {"route": _to("v1")},
]


def test_blocks_reachable_with_witness_or_shadowed_with_reasons() -> None:
    sim = istiosim.load(*BASE, _vs(RULES))
    r = reachability(sim)
    verdicts = {(b.rule, b.match): b.verdict() for b in r.blocks}
    assert verdicts == {
        (0, 0): "reachable",
        (0, 1): "reachable",
        (1, 0): "reachable",
        (2, 0): "shadowed by rule #0 match #1",
        (3, 0): "reachable",
        (4, 0): "shadowed by rule #0 match #0, rule #1 match #0, rule #3 match #0",
        (5, 0): "never matches (its conditions contradict each other)",
        (5, 1): "reachable",
        (6, None): "reachable",
    }
    for b in r.blocks:
        if b.reachable:
            assert b.witness is not None
            d = sim.route(b.witness)
            assert (d.rule, d.match) == (
                b.rule,
                b.match or 0 if b.match is not None else None,
            ) or d.rule == b.rule
    assert len(r.unreachable) == 3
    assert "3 unreachable" in r.text() and "<table" in r._repr_html_()
    assert json.loads(r.to_json())["blocks"][3]["shadowed_by"] == [{"rule": 0, "match": 1}]


def test_union_of_earlier_rules_and_contradictions() -> None:
    rules = [
        {"match": [{"method": {"exact": "GET"}}], "route": _to("v1")},
        {"match": [{"method": {"exact": "POST"}}], "route": _to("v2")},
        # only GET or POST would reach it, and both are taken: shadowed by the two together
        {
            "match": [{"method": {"exact": "GET"}}, {"method": {"exact": "POST"}}],
            "route": _to("v3"),
        },
        {
            "match": [
                {
                    "uri": {"exact": "/a"},
                    "headers": {"x": {"exact": "1"}},
                    "queryParams": {"q": {"exact": "1"}},
                }
            ],
            "route": _to("v3"),
        },
        {"match": [{"uri": {"exact": "/a"}}], "route": _to("v3")},
    ]
    r = reachability(istiosim.load(*BASE, _vs(rules)))
    got = {(b.rule, b.match): b.verdict() for b in r.blocks}
    assert got[(2, 0)] == "shadowed by rule #0 match #0"
    assert got[(2, 1)] == "shadowed by rule #1 match #0"
    assert got[(3, 0)] == "reachable" and got[(4, 0)] == "reachable"
    contra = reachability(
        istiosim.load(
            *BASE,
            _vs(
                [
                    {
                        "match": [
                            {
                                "uri": {
                                    "exact": "/a",
                                },
                                "method": {"exact": "GET"},
                            },
                            {"uri": {"exact": "/a"}},
                        ],
                        "route": _to("v1"),
                    },
                    {
                        "match": [
                            {"uri": {"exact": "/a"}, "headers": {"x": {}}},
                        ],
                        "route": _to("v2"),
                    },
                ]
            ),
        )
    )
    # /a GET requests are taken by block 0, the other /a requests by block 1
    assert [b.verdict() for b in contra.blocks][
        -1
    ] == "shadowed by rule #0 match #0, rule #0 match #1"


def test_check_reports_ism0130_only_where_istioctl_does_not() -> None:
    assert (
        "reachability",
        ANALYZERS[[n for n, _ in ANALYZERS].index("reachability")][1],
    ) in ANALYZERS
    sim = istiosim.load(
        CORPUS / "istio-analyzer-testdata" / "virtualservice_overlappingmatches.yaml"
    )
    codes = [
        (d.code, d.resource, d.field_path)
        for d in sim.diagnostics
        if d.code in ("IST0131", "IST0130", "ISM0130")
    ]
    ism = [c for c in codes if c[0] == "ISM0130"]
    # prefix "/" takes every request, so the exact "/" GET block after it is never used:
    # istioctl's prefix-only overlap check misses it
    assert ism == [
        ("ISM0130", "VirtualService default/uri-with-prefix-exact", "spec.http[0].match[1]")
    ]
    ist_fields = {(r, f) for c, r, f in codes if c != "ISM0130"}
    assert not {(r, f) for _, r, f in ism} & ist_fields
    # a rule after a catch-all is istioctl's IST0130, not reported twice
    sim2 = istiosim.load(
        *BASE,
        _vs([{"route": _to("v1")}, {"match": [{"uri": {"prefix": "/x"}}], "route": _to("v2")}]),
    )
    got = sorted(d.code for d in sim2.diagnostics if d.code in ("IST0130", "ISM0130"))
    assert got == ["IST0130"]


def test_a_1000_rule_virtual_service_is_checked_quickly() -> None:
    rules = [{"match": [{"uri": {"prefix": f"/svc{i}/"}}], "route": _to("v1")} for i in range(1000)]
    rules.insert(500, {"match": [{"uri": {"prefix": "/svc7/x"}}], "route": _to("v2")})
    rules.append({"route": _to("v3")})
    sim = istiosim.load(*BASE, _vs(rules))
    t = time.perf_counter()
    r = reachability(sim)
    took = time.perf_counter() - t
    assert [(b.rule, b.verdict()) for b in r.unreachable] == [(500, "shadowed by rule #7 match #0")]
    assert took < 20  # a sanity bound only; benchmarks/bench_review.py measures (< 1 s)
    assert Request  # witness type


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ist.simulators(), st.lists(ist.requests(), min_size=1, max_size=12))
def test_unreachable_blocks_are_never_taken_and_witnesses_take_theirs(
    sim: istiosim.Simulator, reqs: list[Request]
) -> None:
    """On generated configs (Services, ServiceEntries with wildcard hosts, Gateways whose
    VirtualServices merge, Sidecar scopes): no generated request takes a block called
    unreachable, and each reachable block's witness takes that very block, with source,
    port and gateway conditions, through sidecars and gateways alike."""
    r = reachability(sim)
    # a delegating rule yields several entries with one (rule, match): a block is dead when
    # every entry it yields is
    used = {(b.virtual_service, b.rule, b.match) for b in r.blocks if b.reachable is not False}
    dead = {(b.virtual_service, b.rule, b.match) for b in r.unreachable} - used
    for q in reqs:
        d = sim.route(q)
        if d.virtual_service is not None:
            assert (d.virtual_service, d.rule, d.match) not in dead, q
    by_vs = {vs.key: vs for vs in sim.plan.virtual_services}
    for b in r.blocks:
        if not b.reachable:
            continue
        assert b.virtual_service in by_vs
        assert b.witness is not None
        d = sim.route(b.witness)
        assert (d.virtual_service, d.rule, d.match) == (b.virtual_service, b.rule, b.match), b


_GATEWAY = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*/*.example.com"]
"""

_BOUND = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: edge}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/public]
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: api.backend.svc.cluster.local}}]
  - route: [{destination: {host: web.frontend.svc.cluster.local}}]
"""


def test_a_virtualservice_bound_to_a_gateway_that_is_not_loaded_is_unreachable() -> None:
    """gateway.go buildGatewayHTTPRouteConfig builds virtual hosts only from loaded Gateways'
    servers: without the Gateway no request reaches the VirtualService (404 NR)."""
    r = reachability(istiosim.load(_BOUND))
    assert len(r.unreachable) == 2
    assert all("no loaded Gateway serves it" in b.verdict() for b in r.blocks)
    assert all(b.witness is None for b in r.blocks)


def test_witnesses_through_a_gateway_use_its_listener_port_and_take_their_block() -> None:
    sim = istiosim.load(_GATEWAY + "---\n" + _BOUND)
    r = reachability(sim)
    assert not r.unreachable and all(b.reachable for b in r.blocks)
    for b in r.blocks:
        assert b.witness is not None
        assert (b.witness.gateway, b.witness.port) == ("istio-system/public", 8080)
        d = sim.route(b.witness)
        assert (d.virtual_service, d.rule, d.match) == (b.virtual_service, b.rule, b.match)


def test_a_witness_hidden_by_a_sidecar_is_sent_from_a_namespace_that_sees_the_host() -> None:
    """A Sidecar of the VirtualService's own namespace that imports nothing hides the host
    there (sidecar.go selectVirtualServices); a client elsewhere still takes the block."""
    sidecar = (
        "apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
        "metadata: {name: closed, namespace: default}\n"
        "spec:\n  egress:\n  - hosts: ['./nothing.example.com']\n"
    )
    sim = istiosim.load(*BASE, sidecar + "---\n" + _vs([{"route": _to("v2")}]))
    (b,) = reachability(sim).blocks
    assert b.reachable and b.witness is not None and b.witness.namespace != "default"
    d = sim.route(b.witness)
    assert (d.virtual_service, d.rule) == (b.virtual_service, b.rule)


_SHOP = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: NAME, namespace: default, creationTimestamp: "TS"}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/public]
  http: HTTP
"""


def _shop(name: str, ts: str, http: list[dict[str, object]]) -> str:
    return _SHOP.replace("NAME", name).replace("TS", ts).replace("HTTP", json.dumps(http))


def _dest(host: str) -> list[dict[str, object]]:
    return [{"destination": {"host": f"{host}.default.svc.cluster.local"}}]


def test_virtual_services_merged_at_a_gateway_are_decided_on_the_merged_list() -> None:
    """gateway.go ``buildGatewayHTTPRouteConfig`` appends the routes of every VirtualService
    bound to the gateway for a host to one virtual host, the older VirtualService first, and
    ``SortVHostRoutes`` moves catch-all routes last: the newer VirtualService's /api/v1 block
    is taken by the older one's /api; its /static block is reached although the older one's
    catch-all comes first in the older VirtualService itself."""
    gw = _GATEWAY.replace("*/*.example.com", "*/shop.example.com")
    old = _shop(
        "old",
        "2024-01-01T00:00:00Z",
        [
            {"match": [{"uri": {"prefix": "/api"}}], "route": _dest("reviews")},
            {"route": _dest("productpage")},
        ],
    )
    new = _shop(
        "new",
        "2024-02-01T00:00:00Z",
        [
            {"match": [{"uri": {"prefix": "/api/v1"}}], "route": _dest("ratings")},
            {"match": [{"uri": {"prefix": "/static"}}], "route": _dest("details")},
        ],
    )
    sim = istiosim.load(*BASE, gw, old, new)
    r = reachability(sim)
    verdicts = {(b.virtual_service, b.rule): b.verdict() for b in r.blocks}
    assert verdicts == {
        ("default/old", 0): "reachable",
        ("default/old", 1): "reachable",
        ("default/new", 0): "shadowed at the gateway by default/old rule #0 match #0",
        ("default/new", 1): "reachable",
    }
    for b in r.blocks:
        if b.reachable:
            assert b.witness is not None and b.witness.gateway == "istio-system/public"
            d = sim.route(b.witness)
            assert (d.virtual_service, d.rule, d.match) == (b.virtual_service, b.rule, b.match)
    static = next(b for b in r.blocks if (b.virtual_service, b.rule) == ("default/new", 1))
    assert static.witness is not None
    assert (static.witness.host, static.witness.path) == ("shop.example.com", "/static")


_ORG = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: org, namespace: default}
spec:
  hosts: ["*.example.org"]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  location: MESH_EXTERNAL
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: org, namespace: default}
spec:
  hosts: ["*.example.org"]
  http:
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: "*.example.org"}}]
  - route: [{destination: {host: "*.example.org"}}]
"""


def test_witnesses_of_a_wildcard_host_call_a_name_under_it_on_a_port_it_listens_on() -> None:
    sim = istiosim.load(_ORG)
    r = reachability(sim)
    assert [b.reachable for b in r.blocks] == [True, True]
    for b in r.blocks:
        assert b.witness is not None
        # no port: the ServiceEntry's first (only) port, 8080
        assert (b.witness.host, b.witness.port) == ("any.example.org", None)
        d = sim.route(b.witness)
        assert (d.virtual_service, d.rule) == ("default/org", b.rule)


def test_a_gateway_route_for_one_namespace_only_shadows_nothing_for_the_others() -> None:
    """A route with ``sourceNamespace: default`` is generated only for clients in default
    (route.go ``sourceMatchHTTP``): from another namespace the newer VirtualService's
    /api/v1 block is reached through the gateway, so it is not called shadowed."""
    gw = _GATEWAY.replace("*/*.example.com", "*/shop.example.com")
    old = _shop(
        "old",
        "2024-01-01T00:00:00Z",
        [
            {
                "match": [{"uri": {"prefix": "/api"}, "sourceNamespace": "default"}],
                "route": _dest("reviews"),
            },
            {"route": _dest("productpage")},
        ],
    )
    new = _shop(
        "new",
        "2024-02-01T00:00:00Z",
        [{"match": [{"uri": {"prefix": "/api/v1"}}], "route": _dest("ratings")}],
    )
    sim = istiosim.load(*BASE, gw, old, new)
    b = next(x for x in reachability(sim).blocks if x.virtual_service == "default/new")
    assert b.reachable and b.witness is not None
    assert b.witness.namespace != "default" and b.witness.path == "/api/v1"
    d = sim.route(b.witness)
    assert (d.virtual_service, d.rule) == ("default/new", 0)
