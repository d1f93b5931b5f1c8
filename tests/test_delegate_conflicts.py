"""Delegate merge conflicts as Istio's ``hasConflict`` (semantics §8.5).

Upstream: istio/istio ``pilot/pkg/model/virtualservice.go`` (``mergeHTTPMatchRequests``,
``hasConflict``, ``mergeHTTPRoute``) and its ``virtualservice_test.go`` (``TestHasConflict``,
``TestMergeHttpRoutes``). Routed through both engines.
"""

from __future__ import annotations

import numpy as np
import pytest

from istiosim import Outcome, Request
from istiosim.batch import RequestBatch
from istiosim.compiler.delegation import merge_match
from istiosim.config import HTTPMatchRequest
from istiosim.engine import route, route_batch
from istiosim.results import Decision

from helpers import load, svc


def sim_with(root_match: str, leaf_http: str):  # type: ignore[no-untyped-def]
    return load(
        svc("reviews", ["v1", "v2"]),
        f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: root, namespace: default}}
spec:
  hosts: [reviews]
  http:
  - name: r0
    match: {root_match}
    delegate: {{name: leaf, namespace: default}}
  - route: [{{destination: {{host: reviews, subset: v1}}}}]
""",
        f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: leaf, namespace: default}}
spec:
  http:
{leaf_http}
""",
        """
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
""",
    )


def both(sim, req: Request) -> Decision:  # type: ignore[no-untyped-def]
    n = sim.plan.n_draws
    d = route(sim.plan, req, [0] * n)
    assert (
        route_batch(sim.plan, RequestBatch.from_requests([req]), np.zeros((1, n), np.uint64))[0]
        == d
    )
    return d


def test_merged_route_is_named_root_dash_leaf() -> None:
    """``TestMergeHttpRoutes``: route names ``root-delegate``."""
    sim = sim_with(
        "[{uri: {prefix: /api}}]",
        "  - name: l0\n    match: [{uri: {prefix: /api/v2}}]\n"
        "    route: [{destination: {host: reviews, subset: v2}}]",
    )
    d = both(sim, Request("reviews", "/api/v2/x", port=9080))
    assert (d.subset, d.rule_name) == ("v2", "r0-l0")


def test_one_conflicting_leaf_match_drops_the_whole_leaf_route() -> None:
    """``mergeHTTPMatchRequests``: a delegate match with no compatible root match → the
    delegate route is dropped, even its compatible matches."""
    sim = sim_with(
        "[{uri: {prefix: /api}}]",
        "  - match: [{uri: {prefix: /api/v2}}, {uri: {prefix: /other}}]\n"
        "    route: [{destination: {host: reviews, subset: v2}}]",
    )
    d = both(sim, Request("reviews", "/api/v2/x", port=9080))
    assert (d.outcome, d.subset) == (Outcome.OK, "v1")


@pytest.mark.parametrize(
    "root,leaf,conflict",
    [
        # one row per field of hasConflict (semantics §8.5 table, from the Go code)
        ({"uri": {"prefix": "/api"}}, {"uri": {"prefix": "/api/v1"}}, False),
        ({"uri": {"prefix": "/api"}}, {"uri": {"exact": "/api/v1"}}, False),
        ({"uri": {"exact": "/api"}}, {"uri": {"prefix": "/api"}}, True),
        ({"uri": {"regex": "/api.*"}}, {"uri": {"prefix": "/api"}}, True),
        ({"uri": {"prefix": "/api"}}, {"uri": {"prefix": "/other"}}, True),
        ({"headers": {"h": {"exact": "a"}}}, {"headers": {"h": {"exact": "b"}}}, True),
        ({"headers": {"h": {"exact": "a"}}}, {"headers": {"x": {"exact": "b"}}}, False),
        ({"ignoreUriCase": True}, {}, True),
        ({"sourceNamespace": "ns"}, {}, True),
        ({"sourceNamespace": "ns"}, {"sourceNamespace": "ns"}, False),
        ({"sourceLabels": {"a": "1"}}, {"sourceLabels": {"a": "2"}}, True),
        ({"sourceLabels": {"a": "1"}}, {"sourceLabels": {"b": "2"}}, False),
        ({"gateways": ["gw1"]}, {"gateways": ["gw2"]}, True),
        ({"gateways": ["gw1", "gw2"]}, {"gateways": ["gw2"]}, False),
        ({"port": 80}, {"port": 8080}, True),
    ],
)
def test_has_conflict(root: dict[str, object], leaf: dict[str, object], conflict: bool) -> None:
    r, leaf_m = HTTPMatchRequest.model_validate(root), HTTPMatchRequest.model_validate(leaf)
    assert (merge_match(r, leaf_m) is None) == conflict
