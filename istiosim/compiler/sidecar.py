"""Sidecar → CompiledSidecar (semantics §8.2): the egress hosts that scope what a proxy sees.

``egress[].hosts`` entries are ``namespace/dnsName`` (pilot/pkg/model/sidecar.go
``convertIstioListenerToWrapper``): ``*`` any namespace, ``.`` the proxy's own, ``~ns/host``
an exclusion (``~`` alone = ``*``). An entry without exactly one ``/`` is skipped, as istiod
does; a Sidecar without egress imports ``*/*``. Each egress listener is kept with its port: a
listener bound to a port imports its hosts for that port only (sidecar.go
``GetEgressListenerForRDS``).
"""

from __future__ import annotations

from .. import config as cfg
from ..plan import CompiledSidecar

__all__ = ["translate_sidecar"]


def translate_sidecar(sc: cfg.Sidecar, order: int) -> CompiledSidecar:
    ns = sc.metadata.namespace or "default"
    hosts: list[tuple[str, str]] = []
    excluded: list[tuple[str, str]] = []
    listeners = []
    for listener in sc.spec.egress:
        inc: list[tuple[str, str]] = []
        exc: list[tuple[str, str]] = []
        for entry in listener.hosts:
            if entry.count("/") != 1:
                continue
            hns, _, name = entry.partition("/")
            target = inc
            if hns.startswith("~"):
                target, hns = exc, hns[1:] or "*"
            target.append((hns, name.lower()))
        hosts += inc
        excluded += exc
        port = listener.port.number if listener.port is not None else None
        listeners.append((port, tuple(inc), tuple(exc)))
    if not sc.spec.egress:
        hosts.append(("*", "*"))
    sel = sc.spec.workload_selector
    policy = sc.spec.outbound_traffic_policy
    return CompiledSidecar(
        ns,
        sc.metadata.name,
        tuple(sorted(sel.labels.items())) if sel is not None else (),
        tuple(hosts),
        tuple(excluded),
        policy.mode if policy is not None else None,
        order,
        tuple(listeners),
    )
