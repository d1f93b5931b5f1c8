"""Sidecar egress listeners bound to a port (issue 14 item 3).

istio/istio pilot/pkg/model/sidecar.go ``GetEgressListenerForRDS``: the route configuration
of port P is built from the first egress listener bound to P, else from the port-less
catch-all listener (the last one, ValidateSidecar makes sure); with neither, no route
configuration exists for P. pilot/pkg/networking/core/httproute.go
``buildSidecarOutboundHTTPRouteConfig`` then uses only that listener's services and
VirtualServices (``egressListener.Services()`` / ``VirtualServices()``). So a listener on
port 8080 importing only ``a`` hides every other service on 8080, even those the catch-all
imports. Each request goes through both engines.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from istiosim import Outcome, Request
from istiosim.batch import RequestBatch
from istiosim.engine import route, route_batch
from istiosim.results import Decision

from helpers import load, svc, vs

MESH = "---\n".join(
    (
        svc("a", ports=(80, 8080)),
        svc("b", ports=(80,)),
        svc("d", ports=(8080,)),
        svc("c", ns="other", ports=(9080,)),
    )
)


def sidecar(*listeners: tuple[int | None, list[str]]) -> str:
    egress: list[dict[str, object]] = []
    for port, hosts in listeners:
        lis: dict[str, object] = {"hosts": hosts}
        if port is not None:
            lis["port"] = {"number": port, "protocol": "HTTP", "name": f"http-{port}"}
        egress.append(lis)
    return json.dumps(
        {"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
         "metadata": {"name": "default", "namespace": "default"}, "spec": {"egress": egress}}
    )  # fmt: skip


def both(sim: object, req: Request) -> Decision:
    plan = sim.plan  # type: ignore[attr-defined]
    n = plan.n_draws
    d = route(plan, req, [0] * n, trace=True)
    assert route_batch(plan, RequestBatch.from_requests([req]), np.zeros((1, n), np.uint64))[0] == d
    return d


PORT_AND_CATCH_ALL = sidecar((8080, ["./a.default.svc.cluster.local"]), (None, ["./*"]))


@pytest.mark.parametrize(
    ("host", "port", "outcome", "why"),
    [
        ("a", 8080, Outcome.OK, "the 8080 listener imports a"),
        ("d", 8080, Outcome.PASSTHROUGH, "the 8080 listener does not import d; the catch-all does not serve 8080"),
        ("a", 80, Outcome.OK, "port 80 has no listener of its own: the catch-all ./* imports a"),
        ("b", 80, Outcome.OK, "the catch-all ./* imports b"),
        ("c.other.svc.cluster.local", 9080, Outcome.PASSTHROUGH, "./* does not import namespace other"),
    ],
)  # fmt: skip
def test_a_port_bound_listener_scopes_its_port_only(
    host: str, port: int, outcome: Outcome, why: str
) -> None:
    sim = load(MESH, PORT_AND_CATCH_ALL)
    d = both(sim, Request(host, port=port))
    assert d.outcome is outcome, why


def test_the_trace_names_the_listener_port() -> None:
    sim = load(MESH, PORT_AND_CATCH_ALL)
    d = both(sim, Request("d", port=8080))
    assert (
        "service d.default.svc.cluster.local is not imported by Sidecar default/default"
        " (egress.hosts of its listener for port 8080)"
    ) in d.explain()


def test_without_a_catch_all_other_ports_import_nothing() -> None:
    sim = load(MESH, sidecar((8080, ["*/*"])))
    assert both(sim, Request("a", port=8080)).outcome is Outcome.OK
    assert both(sim, Request("a", port=80)).outcome is Outcome.PASSTHROUGH
    assert both(sim, Request("b", port=80)).outcome is Outcome.PASSTHROUGH


def test_a_virtual_service_is_scoped_by_the_listener_of_its_port() -> None:
    # a VS on a sending to b is seen on a port whose listener imports namespace default;
    # with the port-80 listener importing only other/*, a:80 is outside the scope (passthrough)
    # while a:8080 (the catch-all ./*) still applies the VS
    rule = vs("a", "- route:\n  - destination: {host: b}\n")
    sim = load(MESH, rule, sidecar((8080, ["./a.default.svc.cluster.local"]), (None, ["./*"])))
    d80 = both(sim, Request("a", port=80))
    assert d80.destination is not None and d80.destination.host == "b.default.svc.cluster.local"
    sim = load(MESH, rule, sidecar((80, ["other/*"]), (None, ["./*"])))
    assert both(sim, Request("a", port=80)).outcome is Outcome.PASSTHROUGH
    d = both(sim, Request("a", port=8080))
    assert d.destination is not None and d.destination.host == "b.default.svc.cluster.local"
