"""Which VirtualService wins for one host on a sidecar (semantics §8.4): the oldest by
``metadata.creationTimestamp``, ties by name then namespace (model/config.go
``configCompareByCreationTime``), not file order; file order only when no object has a
timestamp, and the trace says which order was used.

Upstream: istio/istio ``pilot/pkg/networking/core/sidecar_simulation_test.go``
``TestSidecarRoutes`` cases "same namespace conflict" and "cross namespace conflict"
(``vsArgs`` with ``TimeOlder`` / ``TimeNewer``; the sidecar expectation). Both are written with
the newer object first, as an alphabetical ``kubectl get -o yaml`` export can list them.
"""

from __future__ import annotations

import numpy as np
import pytest

from istiosim import Request
from istiosim.batch import RequestBatch
from istiosim.engine import route, route_batch

from helpers import load, trace_text

KNOWN = """
apiVersion: v1
kind: Service
metadata: {name: known, namespace: default}
spec:
  selector: {app: known}
  ports: [{name: http, port: 80}]
"""


def vs_args(name: str, ns: str, dest: str, stamp: str | None) -> str:
    meta = f"name: {name}, namespace: {ns}" + (f", creationTimestamp: {stamp}" if stamp else "")
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{{meta}}}
spec:
  hosts: [known.default.svc.cluster.local]
  http:
  - route: [{{destination: {{host: {dest}, port: {{number: 80}}}}}}]
"""


OLDER, NEWER = "2010-01-01T00:00:00Z", "2020-01-01T00:00:00Z"


def cluster(sim, request: Request) -> str:  # type: ignore[no-untyped-def]
    n = sim.plan.n_draws
    d = route(sim.plan, request, [0] * n)
    assert (
        route_batch(sim.plan, RequestBatch.from_requests([request]), np.zeros((1, n), np.uint64))[0]
        == d
    )
    assert d.destination is not None
    return str(d.destination.cluster)


@pytest.mark.parametrize(
    "case,docs,expected",
    [
        (
            "same namespace conflict",
            [vs_args("new", "default", "new.example.com", NEWER), vs_args("old", "default", "old.example.com", OLDER)],
            "outbound|80||old.example.com",
        ),
        (
            "cross namespace conflict",
            [vs_args("consumer", "default", "consumer.example.com", NEWER), vs_args("producer", "not-default", "producer.example.com", OLDER)],
            "outbound|80||producer.example.com",
        ),
    ],
)  # fmt: skip
def test_sidecar_routes_oldest_wins(case: str, docs: list[str], expected: str) -> None:
    sim = load(KNOWN, *docs)
    req = Request("known.default.svc.cluster.local", port=80)
    assert cluster(sim, req) == expected
    d = route(sim.plan, req, [0] * sim.plan.n_draws, trace=True)
    assert "oldest creationTimestamp first" in trace_text(d)


def test_ties_go_by_name_then_namespace() -> None:
    sim = load(
        KNOWN,
        vs_args("b", "default", "b.example.com", OLDER),
        vs_args("a", "zeta", "a-zeta.example.com", OLDER),
        vs_args("a", "alpha", "a-alpha.example.com", OLDER),
    )
    assert cluster(sim, Request("known.default", port=80)) == "outbound|80||a-alpha.example.com"


def test_without_timestamps_file_order_and_the_trace_says_so() -> None:
    sim = load(
        KNOWN,
        vs_args("new", "default", "new.example.com", None),
        vs_args("old", "default", "old.example.com", None),
    )
    req = Request("known.default", port=80)
    assert cluster(sim, req) == "outbound|80||new.example.com"
    d = route(sim.plan, req, [0] * sim.plan.n_draws, trace=True)
    assert "file order: no VirtualService has a creationTimestamp" in trace_text(d)
