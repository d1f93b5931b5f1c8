"""Every Host form a sidecar's virtual host answers to (semantics §8.3).

Upstream: istio/istio ``pilot/pkg/networking/core/httproute_test.go``
``TestGenerateVirtualHostDomains`` (name, name.ns, name.ns.svc, FQDN, FQDN with a trailing dot,
ClusterIP; ``:port`` ignored by ``ignore_port_in_host_matching``) and
``pilot/pkg/networking/core/sidecar_simulation_test.go`` ``TestHeadlessServices`` (per-pod
hosts of a headless Service) and ``TestExternalNameServices`` (an ExternalName Service is an
alias of the host it names; a VirtualService on the alias FQDN is a host outside the
registry). Every row goes through both engines.
"""

from __future__ import annotations

import numpy as np
import pytest

from istiosim import Outcome, Request, Simulator
from istiosim.batch import RequestBatch
from istiosim.engine import route, route_batch
from istiosim.results import Decision

from helpers import load

MESH = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  clusterIP: 10.96.0.10
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: reviews}}
  template: {metadata: {labels: {app: reviews, version: v1}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}}
---
apiVersion: v1
kind: Service
metadata: {name: alias, namespace: default}
spec:
  type: ExternalName
  externalName: reviews.default.svc.cluster.local
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: noports, namespace: default}
spec:
  selector: {app: reviews}
"""
REVIEWS = "outbound|9080||reviews.default.svc.cluster.local"
WEB = "outbound|80||web.default.svc.cluster.local"


def both(sim: Simulator, request: Request) -> Decision:
    n = sim.plan.n_draws
    d = route(sim.plan, request, [0] * n)
    batch = RequestBatch.from_requests([request])
    assert route_batch(sim.plan, batch, np.zeros((1, n), np.uint64))[0] == d
    return d


@pytest.mark.parametrize(
    "host,namespace,cluster",
    [
        # TestGenerateVirtualHostDomains: the k8s forms, from the service's namespace
        ("reviews", "default", REVIEWS),
        ("reviews.default", "default", REVIEWS),
        ("reviews.default.svc", "default", REVIEWS),
        ("reviews.default.svc.cluster.local", "default", REVIEWS),
        ("reviews.default.svc.cluster.local.", "default", REVIEWS),
        ("10.96.0.10", "default", REVIEWS),
        # ... and with a port in the Host: the port is not part of the match
        ("reviews.default:9080", "default", REVIEWS),
        ("reviews.default.svc.cluster.local.:9080", "default", REVIEWS),
        # from another namespace: everything but the short name
        ("reviews.default", "other", REVIEWS),
        ("reviews.default.svc.cluster.local.", "other", REVIEWS),
        ("10.96.0.10", "other", REVIEWS),
        ("reviews", "other", None),
        # TestHeadlessServices: per-pod hosts of a headless Service
        ("web-0.web.default.svc.cluster.local", "default", WEB),
        ("web-1.web.default", "other", WEB),
        ("web-0.web", "default", WEB),
        # TestExternalNameServices: the alias reaches the concrete host
        ("alias", "default", REVIEWS),
        ("alias.default.svc.cluster.local", "default", REVIEWS),
        # a Service without ports is on no listener: no virtual host
        ("noports.default.svc.cluster.local", "default", None),
    ],
)
def test_host_forms(host: str, namespace: str, cluster: str | None) -> None:
    sim = load(MESH)
    port = 80 if host.startswith(("web", "noports")) else 9080
    d = both(sim, Request(host, port=port, namespace=namespace))
    if cluster is None:
        assert d.outcome is Outcome.PASSTHROUGH
    else:
        assert d.destination is not None and d.destination.cluster == cluster
        assert d.outcome is Outcome.OK


def test_host_keeps_its_port_as_the_authority_and_routes_on_the_listener_port() -> None:
    sim = load(MESH)
    d = route(sim.plan, Request("reviews:1234", port=9080), [0] * sim.plan.n_draws, trace=True)
    assert d.destination is not None and d.destination.cluster == REVIEWS
    assert Request("reviews:1234", port=9080).authority == "reviews:1234"


def test_external_name_destination_is_the_aliased_cluster() -> None:
    vs = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-alias, namespace: default}
spec:
  hosts: [web.default.svc.cluster.local]
  http:
  - route: [{destination: {host: alias.default.svc.cluster.local, port: {number: 9080}}}]
"""
    sim = load(MESH, vs)
    d = both(sim, Request("web.default", port=80))
    assert d.destination is not None and d.destination.cluster == REVIEWS


def test_virtual_service_on_the_alias_fqdn_applies_to_that_host_only() -> None:
    """TestExternalNameServices: a VS on the alias FQDN claims that exact host (port 80 only)
    and does not affect the concrete host."""
    vs = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: on-alias, namespace: default}
spec:
  hosts: [alias.default.svc.cluster.local]
  http:
  - route: [{destination: {host: web.default.svc.cluster.local, port: {number: 80}}}]
"""
    sim = load(MESH, vs)
    d = both(sim, Request("alias.default.svc.cluster.local", port=80))
    assert d.destination is not None and d.destination.cluster == WEB
    d = both(sim, Request("reviews.default.svc.cluster.local", port=9080))
    assert d.destination is not None and d.destination.cluster == REVIEWS
