"""IST0101, IST0110, IST0111 and IST0167: which workloads each Sidecar selects (istioctl's
``sidecar.SelectorAnalyzer``, ``pkg/config/analysis/analyzers/sidecar/selector.go``).

- a Sidecar with a ``workloadSelector`` that selects no pod of its namespace: IST0101;
- a pod selected by several Sidecars: IST0110 on each of them (once per such pod);
- several Sidecars without a selector in one namespace: IST0111 on each;
- a Sidecar selecting a pod in ambient mode (annotation ``ambient.istio.io/redirection:
  enabled``), or a namespace-wide Sidecar in an ambient namespace (label
  ``istio.io/dataplane-mode: ambient`` without sidecar injection): IST0167, once per Sidecar.

The pods are the workloads loaded, a Deployment standing for its pods (as the subset analyzer
does), where upstream offline analysis reads Pod objects only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Diagnostic
from ..mesh import Workload, labels_match
from .subject import Subject

if TYPE_CHECKING:
    from ..config import Sidecar

AMBIENT_REDIRECTION = "ambient.istio.io/redirection"
DATAPLANE_MODE = "istio.io/dataplane-mode"


def _key(sc: Sidecar) -> str:
    return f"{sc.metadata.namespace or 'default'}/{sc.metadata.name}"


def _selector(sc: Sidecar) -> dict[str, str]:
    ws = sc.spec.workload_selector
    return dict(ws.labels) if ws is not None else {}


def _namespace_ambient(labels: dict[str, str]) -> bool:
    """``util.NamespaceInAmbientMode``: sidecar injection or a revision label wins."""
    if labels.get("istio-injection") == "enabled" or labels.get("istio.io/rev"):
        return False
    return labels.get(DATAPLANE_MODE) == "ambient"


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    ambient_pods = {
        (p.metadata.namespace or "default", p.metadata.name)
        for p in s.config.pods
        if p.metadata.annotations.get(AMBIENT_REDIRECTION) == "enabled"
    }
    ns_labels = {n.metadata.name: dict(n.metadata.labels) for n in s.config.namespaces}
    # (namespace, label, value) → workloads in mesh order: a selector reads the workloads
    # carrying its rarest label only, not every workload of its namespace
    workloads: dict[tuple[str, str, str], list[Workload]] = {}
    for w in s.mesh.workloads:
        for k, v in w.labels.items():
            workloads.setdefault((w.namespace, k, v), []).append(w)
    by_pod: dict[tuple[str, str], list[Sidecar]] = {}
    by_ns: dict[str, list[Sidecar]] = {}
    for sc in s.config.sidecars:
        ns = sc.metadata.namespace or "default"
        sel = _selector(sc)
        if not sel:
            by_ns.setdefault(ns, []).append(sc)
            continue
        found = False
        candidates = min((workloads.get((ns, k, v), []) for k, v in sel.items()), key=len)
        for w in candidates:
            if labels_match(sel, w.labels):
                found = True
                by_pod.setdefault((w.namespace, w.name), []).append(sc)
        if not found:
            text = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
            col = s.collector(out, "Sidecar", ns, sc.metadata.name)
            col.add(
                "IST0101",
                f"Referenced selector not found: {text!r}",
                ("spec", "workloadSelector", "labels", sorted(sel)[0]),
            )
    reported: set[str] = set()

    def ineffective(sc: Sidecar, why: str) -> None:
        if _key(sc) in reported:
            return
        reported.add(_key(sc))
        ns = sc.metadata.namespace or "default"
        s.collector(out, "Sidecar", ns, sc.metadata.name).add(
            "IST0167", f"The policy has no impact: {why}.", ()
        )

    for (pns, pod), scs in by_pod.items():
        ambient = (pns, pod) in ambient_pods
        if len(scs) == 1 and not ambient:
            continue
        names = "[" + " ".join(_key(x) for x in scs) + "]"
        for sc in scs:
            if ambient:
                ineffective(sc, "selected workload is in ambient mode, the policy has no impact")
                continue
            s.collector(out, "Sidecar", pns, sc.metadata.name).add(
                "IST0110",
                f"The Sidecars {names} in namespace {pns!r} select the same workload pod "
                f"{pod!r}, which can lead to undefined behavior.",
                ("metadata", "name"),
            )
    for ns, scs in by_ns.items():
        if _namespace_ambient(ns_labels.get(ns, {})):
            for sc in scs:
                ineffective(sc, "namespace is in ambient mode, the policy has no impact")
            continue
        if len(scs) > 1:
            names = "[" + " ".join(_key(x) for x in scs) + "]"
            for sc in scs:
                s.collector(out, "Sidecar", ns, sc.metadata.name).add(
                    "IST0111",
                    f"The Sidecars {names} in namespace {ns!r} have no workload selector, "
                    "which can lead to undefined behavior.",
                    (),
                )
    return out
