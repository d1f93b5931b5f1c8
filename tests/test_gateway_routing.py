"""Requests entering through an ingress Gateway (semantics §8.1; gateway.go
``buildGatewayHTTPRouteConfig``): only the virtual hosts the Gateway's servers declare, on the
server's port."""

from __future__ import annotations

from istiosim import Outcome, Request

from helpers import go, load, svc, trace_text

GW = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["shop.example.com"]
    tls: {httpsRedirect: true}
  - port: {number: 8080, name: http-alt, protocol: HTTP}
    hosts: ["shop.example.com", "bookinfo/*.internal.example.com"]
"""
VS = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: default}
spec:
  hosts: ["shop.example.com", "api.internal.example.com"]
  gateways: [istio-system/web]
  http:
  - route: [{destination: {host: reviews}}]
"""
G = "istio-system/web"


def test_host_no_server_declares_is_404() -> None:
    sim = load(svc("reviews", ["v1"]), GW, VS)
    assert go(sim, Request("shop.example.com", gateway=G, port=8080)).pod == "reviews-v1-0"
    d = go(sim, Request("other.example.com", gateway=G, port=8080))
    assert (d.outcome, d.status) == (Outcome.NR, 404)


def test_vs_host_outside_a_namespace_scoped_server_host_does_not_apply() -> None:
    """``bookinfo/*.internal.example.com`` admits VirtualServices of ``bookinfo`` only."""
    sim = load(svc("reviews", ["v1"]), GW, VS)
    d = go(sim, Request("api.internal.example.com", gateway=G, port=8080))
    assert (d.outcome, d.status) == (Outcome.NR, 404)


def test_https_redirect_server_answers_301_with_the_host_as_sent() -> None:
    sim = load(svc("reviews", ["v1"]), GW, VS)
    d = go(sim, Request("shop.example.com", "/a?b=1", gateway=G, port=80))
    assert (d.outcome, d.status) == (Outcome.REDIRECT, 301)
    assert d.redirect_location == "https://shop.example.com:80/a?b=1"
    assert "httpsRedirect" in trace_text(d)


def test_gateway_that_does_not_exist_routes_nothing() -> None:
    sim = load(svc("reviews", ["v1"]), GW, VS.replace("istio-system/web", "istio-system/nope"))
    d = go(sim, Request("shop.example.com", gateway="istio-system/nope", port=8080))
    assert (d.outcome, d.status) == (Outcome.NR, 404)
    assert "no Gateway istio-system/nope is loaded" in trace_text(d)
    # and the VS bound to it does not apply to the real gateway either
    d = go(sim, Request("shop.example.com", gateway=G, port=8080))
    assert d.outcome is Outcome.NR


def test_port_without_a_server_is_404() -> None:
    sim = load(svc("reviews", ["v1"]), GW, VS)
    assert go(sim, Request("shop.example.com", gateway=G, port=9999)).outcome is Outcome.NR
