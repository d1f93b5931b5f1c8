"""The indexes that keep compile and check linear (issue 9) select exactly what a scan selects:
``Mesh.endpoints`` through its label index, ``find_destination_rule`` through ``dr_index``."""

from __future__ import annotations

import itertools

from istiosim.lookup import find_destination_rule
from istiosim.mesh import Mesh, Pod, Service, Workload, labels_match
from istiosim.plan import CompiledDestinationRule, RoutePlan, host_matches, visible


def _scan(mesh: Mesh, svc: Service) -> list[Pod]:
    """The selection as written before the index: every pod, in mesh order."""
    if svc.endpoints:
        return list(svc.endpoints)
    if svc.selector is None:
        return []
    return [
        p
        for p in mesh.pods()
        if (svc.kind == "ServiceEntry" or p.namespace == svc.namespace)
        and labels_match(svc.selector, p.labels)
    ]


def test_endpoints_match_a_scan_of_every_pod() -> None:
    workloads = [
        Workload(f"w{i}", ns, {"app": app, "version": v, "tier": "web"}, replicas=2, kind=kind)
        for i, (ns, app, v, kind) in enumerate(
            itertools.product(("a", "b"), ("x", "y"), ("v1", "v2"), ("Deployment", "Pod"))
        )
    ]
    selectors: list[dict[str, str] | None] = [
        None,
        {},
        {"app": "x"},
        {"app": "x", "version": "v2"},
        {"tier": "web", "version": "v1"},
        {"app": "nope"},
        {"app": "y", "version": "v3"},
    ]
    services = [
        Service(f"s{i}", ns, selector=sel, kind=kind)
        for i, (ns, sel, kind) in enumerate(
            itertools.product(("a", "b", "c"), selectors, ("Service", "ServiceEntry"))
        )
    ]
    explicit = Service("e", "a", endpoints=(Pod("p", "a", {}, "p"),), kind="ServiceEntry")
    mesh = Mesh.build([*services, explicit], workloads)
    for svc in [*services, explicit]:
        assert mesh.endpoints(svc) == _scan(mesh, svc), svc
    # the selection is not empty where it should not be (the comparison is not vacuous)
    assert len(mesh.endpoints(Service("q", "a", selector={"app": "x"}))) == 6
    assert len(mesh.endpoints(Service("q", "c", selector={"app": "x"}, kind="ServiceEntry"))) == 12


def _dr(ns: str, name: str, host: str, order: int, export: str = "*") -> CompiledDestinationRule:
    return CompiledDestinationRule(ns, name, host, frozenset({export}), (), order=order)


def test_destination_rule_lookup_matches_a_scan() -> None:
    hosts = ["r.a.svc.cluster.local", "*.a.svc.cluster.local", "*", "r.b.svc.cluster.local"]
    drs = tuple(
        _dr(ns, f"d{i}", h, i, export)
        for i, (ns, h, export) in enumerate(
            itertools.product(("a", "b", "istio-system"), hosts, ("*", "."))
        )
    )
    plan = RoutePlan({}, (), drs)
    assert set(plan.dr_index) == {"r.a.svc.cluster.local", "r.b.svc.cluster.local", "*"}
    for host, client, svc_ns in itertools.product(
        ["r.a.svc.cluster.local", "r.b.svc.cluster.local", "z.a.svc.cluster.local", "x.com"],
        ("a", "b", "c"),
        ("a", "b", None),
    ):
        got = find_destination_rule(plan, host, client, svc_ns)
        cands = [
            d
            for d in drs
            if host_matches(d.host, host) and visible(d.export_to, d.namespace, client)
        ]
        want = None
        for ns in (client, svc_ns, "istio-system"):
            here = [d for d in cands if d.namespace == ns]
            if here:
                exact = [d for d in here if d.host == host]
                want = exact[0] if exact else max(here, key=lambda d: len(d.host))
                break
        assert (got.name if got else None) == (want.name if want else None), (host, client)
