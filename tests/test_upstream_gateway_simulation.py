"""Istio's gateway simulation tests, translated case by case (semantics §8.1).

Upstream: istio/istio ``pilot/pkg/networking/core/gateway_simulation_test.go`` (``TestHTTPGateway``,
``TestGatewayConflicts``). Each upstream call becomes one row: the request as the call sends it
(port, Host, TLS → scheme https) to the gateway pod, and what the upstream result asserts:
``ErrNoRoute`` / ``ErrNoVirtualHost`` / ``ErrNoListener`` → 404 NR here (a gateway never passes
through), ``ErrTLSRedirect`` → 301 to https, ``ClusterMatched`` → the destination's cluster (the
fake registry's ``a.default`` is our ``a.default.svc.cluster.local``).

The upstream proxy is a pod labelled ``istio: ingressgateway`` in ``istio-system``; every
upstream Gateway selects it, so a request sent through any of them reaches the same pod and the
same merged listeners. Upstream objects carry no creationTimestamp (Istio then orders by name,
then namespace); where the order matters the translation gives them one identical timestamp,
which yields that same order here (without any timestamp istiosim keeps file order).

Both engines route every row (``routed_both``). Not translated: TCP/TLS routes (not simulated),
``duplicate tls gateway`` (an Envoy NACK), the target-port and port-translation tests (the
listener is the server's number here), ``TestIngress`` (Kubernetes Ingress is not loaded).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from istiosim import Outcome, Request, Simulator
from istiosim.batch import RequestBatch
from istiosim.engine import route, route_batch
from istiosim.results import Decision

from helpers import load


def gateway(name: str, namespace: str, *servers: str, stamp: str | None = None) -> str:
    """upstream ``createGateway``: selector ``istio: ingressgateway``."""
    body = "".join(
        "  -\n" + textwrap.indent(textwrap.dedent(s).strip(), "    ") + "\n" for s in servers
    )
    meta = f"  name: {name}\n  namespace: {namespace}\n"
    if stamp:
        meta += f"  creationTimestamp: {stamp}\n"
    return (
        "apiVersion: networking.istio.io/v1alpha3\nkind: Gateway\nmetadata:\n"
        + meta
        + "spec:\n  selector:\n    istio: ingressgateway\n  servers:\n"
        + body
    )


HTTP_SERVER = """
port: {number: 80, name: http, protocol: HTTP}
hosts: ["foo.bar"]
"""
TCP_SERVER = """
port: {number: 80, name: tcp, protocol: TCP}
hosts: ["foo.bar"]
"""
SIMPLE_ROUTE = """
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: vs}
spec:
  hosts: ["example.com"]
  gateways: [gateway]
  http:
  - match: [{uri: {prefix: /}}]
    route: [{destination: {host: b}}]
"""
REDIRECT_80 = """
port: {number: 80, name: http, protocol: HTTP}
hosts: ["example.com"]
tls: {httpsRedirect: true}
"""

# (upstream test, case name, config docs)
CONFIGS: dict[str, list[str]] = {
    "no virtual services": [gateway("default", "default", HTTP_SERVER)],
    "simple http and virtual service": [
        gateway("gateway", "default", HTTP_SERVER),
        """
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata: {name: bookinfo}
        spec:
          hosts: ["*"]
          gateways: [gateway]
          http:
          - match: [{uri: {exact: /productpage}}]
            route: [{destination: {host: productpage, port: {number: 9080}}}]
        """,
    ],
    "virtual service merging": [
        gateway(
            "gateway",
            "default",
            """
            port: {number: 80, name: http, protocol: HTTP}
            hosts: ["*.example.com"]
            """,
        ),
        """
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata: {name: a}
        spec:
          hosts: ["a.example.com"]
          gateways: [gateway]
          http:
          - match: [{uri: {prefix: /}}]
            route: [{destination: {host: a, port: {number: 80}}}]
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata: {name: b}
        spec:
          hosts: ["b.example.com"]
          gateways: [gateway]
          http:
          - match: [{uri: {prefix: /}}]
            route: [{destination: {host: b, port: {number: 80}}}]
        """,
    ],
    "httpsRedirect without routes": [gateway("gateway", "default", REDIRECT_80)],
    "httpsRedirect with routes": [gateway("gateway", "default", REDIRECT_80), SIMPLE_ROUTE],
    "mixed httpsRedirect with routes": [
        gateway("gateway", "default", REDIRECT_80),
        gateway(
            "gateway2",
            "default",
            """
            port: {number: 80, name: http, protocol: HTTP}
            hosts: ["example.com"]
            """,
        ),
        SIMPLE_ROUTE,
    ],
    "httpsRedirect on https": [
        gateway(
            "gateway",
            "default",
            """
            port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["example.com"]
            tls: {httpsRedirect: true, mode: SIMPLE, credentialName: test}
            """,
        ),
        SIMPLE_ROUTE,
    ],
    "multiple protocols on a port - tcp first": [
        gateway("alpha", "default", TCP_SERVER, stamp="2020-01-01T00:00:00Z"),
        gateway("beta", "default", HTTP_SERVER, stamp="2020-01-01T00:00:00Z"),
    ],
    "multiple protocols on a port - http first": [
        gateway("beta", "default", TCP_SERVER, stamp="2020-01-01T00:00:00Z"),
        gateway("alpha", "default", HTTP_SERVER, stamp="2020-01-01T00:00:00Z"),
    ],
    "multiple wildcards with virtual service disambiguator": [
        gateway(
            "alpha",
            "default",
            """
            hosts: [ns-1/*.example.com]
            port: {name: http, number: 80, protocol: HTTP}
            """,
        ),
        gateway(
            "beta",
            "default",
            """
            hosts: [ns-2/*.example.com]
            port: {name: http, number: 80, protocol: HTTP}
            """,
        ),
        """
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata: {name: default, namespace: ns-1}
        spec:
          hosts: ["ns-1.example.com"]
          gateways: [default/alpha]
          http:
          - route: [{destination: {host: echo}}]
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata: {name: default, namespace: ns-2}
        spec:
          hosts: ["ns-2.example.com"]
          gateways: [default/beta]
          http:
          - route: [{destination: {host: echo}}]
        """,
    ],
    "multiple virtual services that should become separate vhosts": [
        """
        apiVersion: networking.istio.io/v1beta1
        kind: Gateway
        metadata: {name: public-gw, namespace: istio-system}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: [foo.example.com, bar.example.com]
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata: {name: foobar-vs, namespace: default, creationTimestamp: 2010-01-01T00:00:00Z}
        spec:
          hosts: [foo.example.com, bar.example.com]
          gateways: [istio-system/public-gw]
          http:
          - name: foobar
            match: [{uri: {prefix: /1}}, {uri: {prefix: /2}}, {uri: {prefix: /3}}]
            route: [{destination: {host: echo-foobar}}]
        ---
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata: {name: foo-vs, namespace: default, creationTimestamp: 2015-01-01T00:00:00Z}
        spec:
          gateways: [istio-system/public-gw]
          hosts: [foo.example.com]
          http:
          - name: foo
            match: [{uri: {prefix: /foo}}]
            route: [{destination: {host: echo-foo, port: {number: 80}}}]
        ---
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata: {name: bar-vs, namespace: default, creationTimestamp: 2020-01-01T00:00:00Z}
        spec:
          gateways: [istio-system/public-gw]
          hosts: [bar.example.com]
          http:
          - name: bar
            match: [{uri: {prefix: /bar}}]
            route: [{destination: {host: echo-bar, port: {number: 80}}}]
        """,
    ],
}

C = "svc.cluster.local"
#: (upstream test, case, call name, gateway, port, Host, path, tls, expected)
#: expected: "NR", "301", or the cluster the route names
CALLS = [
    ("TestHTTPGateway", "no virtual services", "defined port", "default/default", 80, "foo.bar", "/", False, "NR"),
    ("TestHTTPGateway", "no virtual services", "undefined port", "default/default", 81, "foo.bar", "/", False, "NR"),
    ("TestHTTPGateway", "simple http and virtual service", "uri mismatch", "default/gateway", 80, "foo.bar", "/", False, "NR"),
    ("TestHTTPGateway", "simple http and virtual service", "host mismatch", "default/gateway", 80, "bad.bar", "/", False, "NR"),
    ("TestHTTPGateway", "simple http and virtual service", "match", "default/gateway", 80, "foo.bar", "/productpage", False, f"outbound|9080||productpage.default.{C}"),
    ("TestHTTPGateway", "virtual service merging", "a", "default/gateway", 80, "a.example.com", "/", False, f"outbound|80||a.default.{C}"),
    ("TestHTTPGateway", "virtual service merging", "b", "default/gateway", 80, "b.example.com", "/", False, f"outbound|80||b.default.{C}"),
    ("TestHTTPGateway", "virtual service merging", "undefined hostname", "default/gateway", 80, "c.example.com", "/", False, "NR"),
    ("TestHTTPGateway", "httpsRedirect without routes", "request", "default/gateway", 80, "example.com", "/", False, "301"),
    ("TestHTTPGateway", "httpsRedirect with routes", "request", "default/gateway", 80, "example.com", "/", False, "301"),
    ("TestHTTPGateway", "mixed httpsRedirect with routes", "request", "default/gateway", 80, "example.com", "/", False, "301"),
    ("TestHTTPGateway", "httpsRedirect on https", "request", "default/gateway", 443, "example.com", "/", True, f"outbound|443||b.default.{C}"),
    ("TestGatewayConflicts", "multiple protocols on a port - tcp first", "call tcp", "default/beta", 80, "foo.bar", "/", False, "NR"),
    ("TestGatewayConflicts", "multiple protocols on a port - http first", "call http", "default/alpha", 80, "foo.bar", "/", False, "NR"),
    ("TestGatewayConflicts", "multiple wildcards with virtual service disambiguator", "ns-1", "default/alpha", 80, "ns-1.example.com", "/", False, f"outbound|80||echo.ns-1.{C}"),
    ("TestGatewayConflicts", "multiple wildcards with virtual service disambiguator", "ns-2", "default/alpha", 80, "ns-2.example.com", "/", False, f"outbound|80||echo.ns-2.{C}"),
    ("TestGatewayConflicts", "multiple virtual services that should become separate vhosts", "foobar", "istio-system/public-gw", 80, "foo.example.com", "/1", False, f"outbound|80||echo-foobar.default.{C}"),
    ("TestGatewayConflicts", "multiple virtual services that should become separate vhosts", "foo", "istio-system/public-gw", 80, "foo.example.com", "/foo", False, f"outbound|80||echo-foo.default.{C}"),
    ("TestGatewayConflicts", "multiple virtual services that should become separate vhosts", "bar", "istio-system/public-gw", 80, "bar.example.com", "/bar", False, f"outbound|80||echo-bar.default.{C}"),
]  # fmt: skip


def routed_both(sim: Simulator, request: Request) -> Decision:
    """The scalar engine's decision, after checking the vector engine gives the same one."""
    draws = np.zeros((1, sim.plan.n_draws), np.uint64)
    one = route(sim.plan, request, [0] * sim.plan.n_draws)
    assert route_batch(sim.plan, RequestBatch.from_requests([request]), draws)[0] == one
    return route(sim.plan, request, [0] * sim.plan.n_draws, trace=True)


@pytest.mark.parametrize(
    "upstream,case,call,gw,port,host,path,tls,expected",
    CALLS,
    ids=[f"{c[0]}/{c[1]}/{c[2]}" for c in CALLS],
)
def test_gateway_simulation(
    upstream: str, case: str, call: str, gw: str, port: int, host: str, path: str, tls: bool,
    expected: str,
) -> None:  # fmt: skip
    sim = load(*CONFIGS[case])
    req = Request(
        host, path, gateway=gw, port=port, authority=host, scheme="https" if tls else "http"
    )
    d = routed_both(sim, req)
    if expected == "NR":
        assert (d.outcome, d.status) == (Outcome.NR, 404)
    elif expected == "301":
        assert (d.outcome, d.status) == (Outcome.REDIRECT, 301)
        assert d.redirect_location == f"https://{host}{path}"
    else:
        assert d.destination is not None and d.destination.cluster == expected, d.explain()
