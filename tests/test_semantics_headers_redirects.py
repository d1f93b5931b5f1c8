"""Header and authority precedence, redirects and direct responses, gRPC aborts
(semantics §8.6), each through both engines.

Sources: istio/istio ``pilot/pkg/networking/core/route/route.go`` (``TranslateRoute`` sets the
route's header operations before the action; ``applyHTTPRouteDestination`` /
``processWeightedDestination``: the route's authority is ``host_rewrite_literal``), Envoy
``source/common/router/config_impl.cc`` (``finalizeRequestHeaders``: route host rewrite after
the header lists; direct responses get ``finalizeResponseHeaders``) and the fault filter
(a gRPC abort answers 200 with ``grpc-status``).
"""

from __future__ import annotations

import numpy as np
import pytest

from istiosim import Outcome, Request
from istiosim.batch import RequestBatch
from istiosim.engine import route, route_batch
from istiosim.results import Decision

from helpers import load, svc, vs

SIM = load(
    svc("reviews", ["v1"]),
    vs(
        "reviews",
        """
        - match: [{uri: {prefix: /redir}}]
          redirect: {uri: /x}
          headers: {response: {set: {x-r: "1"}, remove: [server]}}
        - match: [{uri: {prefix: /direct}}]
          directResponse: {status: 418}
          headers: {response: {add: {x-d: "1"}}}
        - match: [{uri: {prefix: /grpc}}]
          fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
          route: [{destination: {host: reviews}}]
        - match: [{uri: {prefix: /auth}}]
          headers: {request: {set: {":authority": route.example}}}
          route: [{destination: {host: reviews}, headers: {request: {set: {host: dest.example}}}}]
        - match: [{uri: {prefix: /rewrite}}]
          rewrite: {authority: rewritten.example}
          route: [{destination: {host: reviews}, headers: {request: {set: {host: dest.example}}}}]
        - match: [{uri: {prefix: /weighted}}]
          headers: {request: {set: {host: route.example}}}
          route:
          - {destination: {host: reviews}, weight: 50, headers: {request: {set: {host: a.example}}}}
          - {destination: {host: reviews}, weight: 50, headers: {request: {set: {host: b.example}}}}
        - match: [{uri: {prefix: /dest}}]
          route: [{destination: {host: reviews}, headers: {request: {set: {host: dest.example}}}}]
        """,
    ),
)


def both(path: str) -> Decision:
    req = Request("reviews", path, port=9080)
    n = SIM.plan.n_draws
    d = route(SIM.plan, req, [0] * n)
    assert (
        route_batch(SIM.plan, RequestBatch.from_requests([req]), np.zeros((1, n), np.uint64))[0]
        == d
    )
    return d


def test_route_response_headers_apply_to_redirects() -> None:
    d = both("/redir")
    assert d.outcome is Outcome.REDIRECT
    assert d.response_headers == (("set", "x-r", "1"), ("remove", "server", ""))


def test_route_response_headers_apply_to_direct_responses() -> None:
    d = both("/direct")
    assert (d.outcome, d.status, d.response_headers) == (
        Outcome.DIRECT,
        418,
        (("add", "x-d", "1"),),
    )


def test_grpc_abort_reports_its_grpc_status() -> None:
    d = both("/grpc")
    assert (d.outcome, d.status) == (Outcome.FI, 200)
    assert d.response_headers == (("set", "grpc-status", "14"),)


@pytest.mark.parametrize(
    "path,authority",
    [("/auth", "route.example"), ("/rewrite", "rewritten.example"), ("/weighted", "route.example"),
     ("/dest", "dest.example")],
)  # fmt: skip
def test_route_authority_wins_over_the_destination(path: str, authority: str) -> None:
    d = both(path)
    assert (d.outcome, d.authority) == (Outcome.OK, authority)
