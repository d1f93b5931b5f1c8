"""Small engine gaps (issue 14 item 5), each checked against Istio's or Envoy's code.

* the cluster of a destination outside the registry carries the listener port:
  istio/istio pilot/pkg/networking/core/route/route.go ``GetDestinationCluster`` (``port :=
  listenerPort`` unless the destination names one or the service has exactly one) and
  ``model.BuildSubsetKey`` (``outbound|PORT|SUBSET|HOST``); upstream
  sidecar_simulation_test.go ``TestSidecarRoutes`` "unknown port 80" expects
  ``outbound|80||foo.default.svc.cluster.local``.
* Envoy's router_check_tool reports a route entry's path and host rewrite whether or not its
  cluster exists (envoyproxy/envoy test/tools/router_check/router.cc ``compareRewritePath`` /
  ``compareRewriteHost``: ``finalizeRequestHeaders`` on the route entry, no cluster lookup).
* a ``directResponse`` route's ``headers.response`` operations are on the answer (route.go
  ``translateRoute`` sets ``ResponseHeadersToAdd`` on every route, direct responses included).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from istiosim import Outcome, Request
from istiosim.batch import RequestBatch
from istiosim.engine import route, route_batch
from istiosim.testing import run_cases

from helpers import load

CONFIG = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{port: 80, name: http}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: foo, namespace: default}
spec:
  hosts: [foo.example.com]
  http:
  - route:
    - destination: {host: foo.example.com, subset: v2}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bar, namespace: default}
spec:
  hosts: [bar.example.com]
  http:
  - match: [{uri: {prefix: /a}}]
    rewrite: {uri: /b, authority: new.example.com}
    route:
    - destination: {host: nowhere.example.com}
  - directResponse: {status: 418, body: {string: teapot}}
    headers: {response: {set: {x-a: b}, add: {x-c: d}}}
"""


def both(sim: object, req: Request) -> object:
    plan = sim.plan  # type: ignore[attr-defined]
    n = plan.n_draws
    d = route(plan, req, [0] * n)
    assert route_batch(plan, RequestBatch.from_requests([req]), np.zeros((1, n), np.uint64))[0] == d
    return d


def test_cluster_of_a_host_outside_the_registry_carries_the_listener_port() -> None:
    sim = load(CONFIG)
    d = both(sim, Request("foo.example.com"))
    assert d.outcome is Outcome.NC  # type: ignore[attr-defined]
    assert d.destination.cluster == "outbound|80|v2|foo.example.com"  # type: ignore[attr-defined]
    d = both(sim, Request("bar.example.com", path="/a/x"))
    assert d.destination.cluster == "outbound|80||nowhere.example.com"  # type: ignore[attr-defined]


def test_direct_response_carries_the_route_response_headers() -> None:
    sim = load(CONFIG)
    d = both(sim, Request("bar.example.com", path="/z"))
    assert (d.outcome, d.status, d.body) == (Outcome.DIRECT, 418, "teapot")  # type: ignore[attr-defined]
    assert d.response_headers == (("set", "x-a", "b"), ("add", "x-c", "d"))  # type: ignore[attr-defined]


def test_router_check_rewrites_of_a_route_whose_cluster_does_not_exist(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    cases = tmp_path / "t.yaml"
    cases.write_text(
        "tests:\n"
        "- test_name: nc rewrite\n"
        "  input: {authority: bar.example.com, path: /a/x}\n"
        "  validate:\n"
        "    cluster_name: outbound|80||nowhere.example.com\n"
        "    path_rewrite: /b/x\n"
        "    host_rewrite: new.example.com\n"
    )
    import istiosim

    report = run_cases(istiosim.load(cfg), cases)
    assert report.passed, str(report)
