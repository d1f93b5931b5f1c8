"""IST0109: two mesh-bound VirtualServices claim overlapping hosts in overlapping exportTo
scopes (istioctl's ``ConflictingMeshGatewayHostsAnalyzer``); only the oldest applies."""

from __future__ import annotations

from ..errors import Diagnostic
from ..plan import CompiledVirtualService, export_scope, hosts_overlap
from .subject import Subject


def analyze(s: Subject) -> list[Diagnostic]:
    """As istioctl: hosts compared as FQDNs, wildcards overlap (``*.d`` and
    ``*.productpage.d``), ``*`` export overlaps every namespace, and each VirtualService is
    reported once, naming the others."""
    mesh = [v for v in s.plan.virtual_services if "mesh" in v.gateways]
    scopes = {v.key: export_scope(v.export_to, v.namespace) for v in mesh}
    # candidate pairs without comparing every VS with every other: exact hosts by index,
    # wildcard hosts (rare) against every host
    by_host: dict[str, list[int]] = {}
    wild: list[tuple[int, str]] = []
    for i, v in enumerate(mesh):
        for h in v.hosts:
            if h.startswith("*"):
                wild.append((i, h))
            else:
                by_host.setdefault(h, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for members in by_host.values():
        pairs.update((a, b) for n, a in enumerate(members) for b in members[n + 1 :] if a != b)
    for n, (i, w) in enumerate(wild):
        for h, members in by_host.items():
            if hosts_overlap(w, h):
                pairs.update((min(i, j), max(i, j)) for j in members if j != i)
        for j, w2 in wild[n + 1 :]:
            if j != i and hosts_overlap(w, w2):
                pairs.add((min(i, j), max(i, j)))
    partners: dict[str, list[CompiledVirtualService]] = {}
    for i, j in sorted(pairs):
        a, b = mesh[i], mesh[j]
        sa, sb = scopes[a.key], scopes[b.key]
        if not sa or not sb or not ("*" in sa or "*" in sb or sa & sb):
            continue
        partners.setdefault(a.key, [a]).append(b)
        partners.setdefault(b.key, [b]).append(a)
    out: list[Diagnostic] = []
    for v in mesh:
        group = partners.get(v.key)
        if not group:
            continue
        names = ", ".join(x.key for x in group)
        first = min(group, key=lambda x: x.order)
        out.append(
            Diagnostic.make(
                "IST0109",
                f"the VirtualServices {names} associated with mesh define the same host; "
                f"only {first.key} applies on sidecars",
                v.location,
                resource=f"VirtualService {v.key}",
            )
        )
    return out
