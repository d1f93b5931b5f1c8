"""corsPolicy simulated as Envoy's CORS filter (issue 14 item 1).

Istio: pilot/pkg/networking/core/route/route.go ``TranslateCORSPolicy`` (``allowOrigins``
as Envoy string matchers, else ``allowOrigin`` as exact ones; methods, headers and expose
headers joined with ``,``; ``maxAge`` in seconds; ``forwardNotMatchingPreflights`` false only
for ``unmatchedPreflights: IGNORE``). Envoy:
source/extensions/filters/http/cors/cors_filter.cc ``decodeHeaders`` (a preflight, OPTIONS
with Origin and Access-Control-Request-Method, is answered 200 when the origin is allowed,
and when it is not unless forwarded) and ``encodeHeaders`` (a request whose origin is allowed
gets Access-Control-Allow-Origin, credentials and expose headers on its response).
Every request goes through both engines; the simulation modes count preflights apart.
"""

from __future__ import annotations

import numpy as np
import pytest

from istiosim import Outcome, Request, Traffic
from istiosim.batch import RequestBatch
from istiosim.engine import route, route_batch
from istiosim.results import Decision

from helpers import load, svc, vs

CORS = """\
- corsPolicy:
    allowOrigins: [{exact: "https://a.example.com"}, {regex: "https://.*[.]b[.]example[.]com"}]
    allowMethods: [GET, POST]
    allowHeaders: [x-foo]
    exposeHeaders: [x-bar]
    maxAge: 24h
    allowCredentials: true
  fault: {delay: {fixedDelay: 1s, percentage: {value: 100}}}
  route:
  - destination: {host: web}
"""
IGNORE = """\
- corsPolicy:
    allowOrigin: ["https://a.example.com"]
    allowMethods: [PUT]
    allowHeaders: ["*"]
    unmatchedPreflights: IGNORE
  route:
  - destination: {host: web}
"""
PRE = {"origin": "https://a.example.com", "access-control-request-method": "POST"}


def both(sim: object, req: Request) -> Decision:
    plan = sim.plan  # type: ignore[attr-defined]
    n = plan.n_draws
    d = route(plan, req, [0] * n)
    assert route_batch(plan, RequestBatch.from_requests([req]), np.zeros((1, n), np.uint64))[0] == d
    return d


def test_preflight_from_an_allowed_origin_is_answered_by_the_filter() -> None:
    sim = load(svc("web", ports=(80,)), vs("web", CORS))
    d = both(sim, Request("web", method="OPTIONS", headers=PRE))
    assert (d.outcome, d.status, d.destination, d.delay_ms) == (Outcome.DIRECT, 200, None, None)
    assert d.response_headers == (
        ("set", "access-control-allow-origin", "https://a.example.com"),
        ("set", "access-control-allow-credentials", "true"),
        ("set", "access-control-allow-methods", "GET,POST"),
        ("set", "access-control-allow-headers", "x-foo"),
        ("set", "access-control-max-age", "86400"),
    )
    assert (
        "CORS preflight answered 200"
        in route(
            sim.plan,
            Request("web", method="OPTIONS", headers=PRE),
            [0] * sim.plan.n_draws,
            trace=True,
        ).explain()
    )


@pytest.mark.parametrize(
    "headers,method",
    [
        ({**PRE, "origin": "https://evil.example.org"}, "OPTIONS"),  # origin not allowed: forwarded
        ({"origin": "https://a.example.com"}, "OPTIONS"),  # no Access-Control-Request-Method
        (PRE, "GET"),  # not OPTIONS
        ({"access-control-request-method": "POST"}, "OPTIONS"),  # no Origin
    ],
)  # fmt: skip
def test_other_requests_are_routed(headers: dict[str, str], method: str) -> None:
    sim = load(svc("web", ports=(80,)), vs("web", CORS))
    d = both(sim, Request("web", method=method, headers=headers))
    assert (d.outcome, d.status, d.delay_ms) == (Outcome.OK, 200, 1000)


def test_a_simple_request_from_an_allowed_origin_gets_the_allow_headers() -> None:
    sim = load(svc("web", ports=(80,)), vs("web", CORS))
    d = both(sim, Request("web", headers={"origin": "https://x.b.example.com"}))
    assert d.outcome is Outcome.OK
    assert d.response_headers == (
        ("set", "access-control-allow-origin", "https://x.b.example.com"),
        ("set", "access-control-allow-credentials", "true"),
        ("set", "access-control-expose-headers", "x-bar"),
    )
    d = both(sim, Request("web", headers={"origin": "https://evil.example.org"}))
    assert d.response_headers == ()


def test_unmatched_preflights_ignore_answers_without_allow_origin() -> None:
    sim = load(svc("web", ports=(80,)), vs("web", IGNORE))
    h = {**PRE, "origin": "https://evil.example.org", "access-control-request-headers": "x-y"}
    d = both(sim, Request("web", method="OPTIONS", headers=h))
    assert (d.outcome, d.status) == (Outcome.DIRECT, 200)
    # allowHeaders "*" echoes the request's Access-Control-Request-Headers (cors_filter.cc)
    assert d.response_headers == (
        ("set", "access-control-allow-methods", "PUT"),
        ("set", "access-control-allow-headers", "x-y"),
    )


@pytest.mark.parametrize("mode", ["exact", "sample", "stratified"])
def test_simulation_counts_preflights_apart(mode: str) -> None:
    sim = load(svc("web", ports=(80,)), vs("web", CORS))
    t = Traffic.mix([(Request("web", method="OPTIONS", headers=PRE), 1), (Request("web"), 3)])
    res = sim.simulate(t, 4000, rng=1, mode=mode)
    shares = res.shares("outcome")
    if mode == "sample":
        # binomial(4000, 1/4): |share - 0.25| < 0.04 fails with probability < 1e-8
        assert abs(shares["DIRECT"] - 0.25) < 0.04
    else:
        assert shares == pytest.approx({"DIRECT": 0.25, "OK": 0.75})
