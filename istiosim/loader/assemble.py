"""Documents → a ConfigSet: the Istio objects in apply order and the Mesh (services from
Kubernetes Services and ServiceEntries, workloads and pods from Deployments, StatefulSets and
Pods), with every object's source map.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import config as cfg
from .._gc import gc_paused
from ..errors import ConfigError, Diagnostic, Location
from ..mesh import Mesh, Pod, Service, ServicePort, Workload
from .errors import translate
from .yaml import Document, SourceMap, documents, read_text

#: Each replica becomes a modelled pod; more than this is refused rather than hanging.
MAX_REPLICAS = 100_000

ObjectKey = tuple[str, str, str]  # kind, namespace, name


@dataclass
class ConfigSet:
    """Everything loaded: the Istio objects in apply order, the mesh, and where each came from."""

    virtual_services: list[cfg.VirtualService] = field(default_factory=list)
    destination_rules: list[cfg.DestinationRule] = field(default_factory=list)
    service_entries: list[cfg.ServiceEntry] = field(default_factory=list)
    gateways: list[cfg.Gateway] = field(default_factory=list)
    sidecars: list[cfg.Sidecar] = field(default_factory=list)
    request_authentications: list[cfg.RequestAuthentication] = field(default_factory=list)
    #: ``gateway.networking.k8s.io`` Gateways (source map kind ``KubernetesGateway``)
    kubernetes_gateways: list[cfg.KubernetesGateway] = field(default_factory=list)
    #: the Pod and Namespace objects as written (labels, annotations), for the analyzers
    pods: list[cfg.K8sPod] = field(default_factory=list)
    namespaces: list[cfg.Namespace] = field(default_factory=list)
    #: Flagger Canaries and Argo Rollouts, in apply order (they write VirtualServices)
    rollouts: list[cfg.Canary | cfg.Rollout] = field(default_factory=list)
    mesh: Mesh = field(default_factory=Mesh)
    sources: dict[ObjectKey, SourceMap] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: errors of documents left out (``load_config(partial=True)``); compile_plan raises them
    errors: list[Diagnostic] = field(default_factory=list)

    def source(self, kind: str, namespace: str, name: str) -> SourceMap:
        return self.sources.get((kind, namespace, name), SourceMap())


@dataclass
class _Entry:
    kind: str
    namespace: str
    name: str
    model: BaseModel
    source: SourceMap
    location: Location


def load_config(
    *sources: str | os.PathLike[str], namespace: str = "default", partial: bool = False
) -> ConfigSet:
    """Load every object of every source; raise one ConfigError listing all problems.

    With ``partial=True`` the documents that loaded are returned and the errors of the others
    kept in ``ConfigSet.errors``: ``compile_plan`` then reports them together with the webhook
    errors of the valid documents, so one run lists every problem.
    """
    with gc_paused():
        return _load(sources, namespace, partial)


def _load(sources: tuple[str | os.PathLike[str], ...], namespace: str, partial: bool) -> ConfigSet:
    entries: dict[ObjectKey, _Entry] = {}
    errors: list[Diagnostic] = []
    infos: list[Diagnostic] = []
    files: list[str] = []
    for source in sources:
        try:
            for file, text in read_text(source):
                files.append(file)
                # each document is validated as soon as it is read (its plain data is not kept:
                # memory), but a file is all or nothing: its objects and findings join the
                # others only once the whole file has been read without a YAML error
                staged: dict[ObjectKey, _Entry] = {}
                file_errors: list[Diagnostic] = []
                file_infos: list[Diagnostic] = []
                seen = ChainMap(staged, entries)
                try:
                    for doc in documents(file, text):
                        _load_doc(doc, namespace, seen, file_errors, file_infos)
                except ConfigError as exc:
                    errors.extend(exc.diagnostics)
                    continue
                entries.update(staged)
                errors.extend(file_errors)
                infos.extend(file_infos)
        except ConfigError as exc:
            errors.extend(exc.diagnostics)
    if errors and not partial:
        raise ConfigError(errors)
    out = _assemble(list(entries.values()), infos, files, namespace)
    out.errors = errors
    return out


def _load_doc(
    doc: Document,
    namespace: str,
    entries: MutableMapping[ObjectKey, _Entry],
    errors: list[Diagnostic],
    infos: list[Diagnostic],
) -> None:
    data = doc.data
    kind = _required_string(doc, ("kind",), errors)
    api = _required_string(doc, ("apiVersion",), errors) if kind is not None else None
    if kind is None or api is None:
        return
    meta = data.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        errors.append(
            Diagnostic.make(
                "ISM0004",
                f"metadata must be a mapping, not {type(meta).__name__}",
                doc.source.find(("metadata",)) or doc.location,
                field_path="metadata",
            )
        )
        return
    name = _required_string(doc, ("metadata", "name"), errors)
    if name is None:
        return
    assert isinstance(meta, dict)
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    ns = ns if isinstance(ns, str) and ns else namespace
    resource = f"{kind} {ns}/{name}"
    # the model's kind while it may be read (its class is imported only to validate)
    model: str | None = kind if kind in cfg.MODELS else None
    group = api.split("/")[0]
    versions = cfg.ISTIO_KINDS.get(kind)
    istio_kind = versions is not None
    key_kind = kind if kind != "StatefulSet" else "Deployment"
    if kind == "Gateway" and group == cfg.KUBERNETES_GATEWAY_GROUP:
        model, versions, istio_kind, key_kind = (
            "KubernetesGateway",
            None,
            True,
            "KubernetesGateway",
        )
    elif model is not None and versions is not None and api not in versions:
        if group == versions[0].split("/")[0]:
            where = doc.source.find(("apiVersion",)) or doc.location
            errors.append(
                Diagnostic.make(
                    "ISM0004",
                    f"unknown apiVersion {api!r} for {kind}",
                    where,
                    resource=resource,
                    field_path="apiVersion",
                )
            )
            return
        model = None  # same kind name in another API group: not ours
    rollout_kind = kind in cfg.ROLLOUT_API_VERSIONS
    if model is not None and rollout_kind and api not in cfg.ROLLOUT_API_VERSIONS[kind]:
        model = None  # another version or API group: not read
    if model is not None and not (istio_kind or rollout_kind) and group not in ("v1", "apps"):
        model = None
    if model is None:
        infos.append(
            Diagnostic.make(
                "ISM0100",
                f"{kind} ({api}) is not simulated; loaded and ignored",
                doc.location,
                resource=resource,
            )
        )
        return
    cls: type[BaseModel] = (
        cfg.KubernetesGateway if model == "KubernetesGateway" else cfg.MODELS[model]
    )
    try:
        obj = cls.model_validate(data)
    except ValidationError as exc:
        errors.extend(translate(exc, cls, doc, resource))
        return
    if key_kind == "Deployment" and obj.spec.replicas is not None:  # type: ignore[attr-defined]
        n = obj.spec.replicas  # type: ignore[attr-defined]
        if not (0 <= n <= MAX_REPLICAS):
            errors.append(
                Diagnostic.make(
                    "ISM0004",
                    f"replicas {n} must be in [0, {MAX_REPLICAS}] (istiosim models every pod)",
                    doc.source.find(("spec", "replicas")) or doc.location,
                    resource=resource,
                    field_path="spec.replicas",
                )
            )
            return
    key = (key_kind, ns, name)
    if key in entries:
        infos.append(
            Diagnostic.make(
                "ISM0102",
                f"replaces the {kind} loaded from {entries[key].location}",
                doc.location,
                resource=resource,
            )
        )
        # kubectl apply keeps the object's identity (and creation time): keep its position
        entries[key] = _Entry(key_kind, ns, name, obj, doc.source, doc.location)
    else:
        entries[key] = _Entry(key_kind, ns, name, obj, doc.source, doc.location)


def _required_string(doc: Document, path: tuple[str, ...], errors: list[Diagnostic]) -> str | None:
    """A required string field (kind, apiVersion, metadata.name): missing → ISM0008 at its
    parent, present but not a non-empty string → ISM0004 at the field itself."""
    value: Any = doc.data
    for p in path:
        value = value.get(p) if isinstance(value, dict) else None
    dotted = ".".join(path)
    if isinstance(value, str) and value:
        return value
    if value is None:
        where = doc.source.find(path[:-1]) if len(path) > 1 else None
        errors.append(
            Diagnostic.make(
                "ISM0008",
                f"missing required field {dotted!r}",
                where or doc.location,
                field_path=dotted,
            )
        )
    else:
        errors.append(
            Diagnostic.make(
                "ISM0004",
                f"{dotted} must be a non-empty string (got {value!r})",
                doc.source.find(path) or doc.location,
                field_path=dotted,
            )
        )
    return None


def _with_ns(meta: cfg.ObjectMeta, ns: str) -> cfg.ObjectMeta:
    return meta if meta.namespace else meta.model_copy(update={"namespace": ns})


def _placed(m: Any, ns: str) -> Any:
    """An object with the namespace it was loaded into written in its metadata."""
    if m.metadata.namespace:  # as written (a kubectl export names every namespace): no copy
        return m
    return m.model_copy(update={"metadata": _with_ns(m.metadata, ns)})


#: kinds kept as written (namespace filled in), by the ConfigSet list that holds them (by
#: kind, not model class: a class is imported only when its kind is loaded)
_LISTED: dict[str, str] = {
    "VirtualService": "virtual_services",
    "DestinationRule": "destination_rules",
    "Gateway": "gateways",
    "Sidecar": "sidecars",
    "RequestAuthentication": "request_authentications",
    "KubernetesGateway": "kubernetes_gateways",
}


def _assemble(
    entries: list[_Entry], infos: list[Diagnostic], files: list[str], namespace: str
) -> ConfigSet:
    out = ConfigSet(diagnostics=infos, files=files)
    services: list[Service] = []
    workloads: list[Workload] = []
    namespaces: set[str] = {namespace}
    nodes: dict[str, Any] = {e.name: e.model for e in entries if e.kind == "Node"}
    for e in entries:
        out.sources[(e.kind, e.namespace, e.name)] = e.source
        m: Any = e.model
        kind = e.kind
        listed = _LISTED.get(kind)
        if listed is not None:
            getattr(out, listed).append(_placed(m, e.namespace))
        elif kind == "ServiceEntry":
            se = _placed(m, e.namespace)
            out.service_entries.append(se)
            services.extend(_service_entry_services(se, e.namespace))
        elif kind in ("Canary", "Rollout"):
            out.rollouts.append(_placed(m, e.namespace))
            if kind == "Rollout":  # a Rollout runs pods as a Deployment does
                workloads.extend(_rollout_workload(m, e.namespace))
        elif kind == "Service":
            # a Service without ports gets none (no listener, no virtual host; semantics §8.3)
            ports = tuple(ServicePort(p.port, p.name, p.protocol) for p in m.spec.ports)
            # Istio reads a Service's visibility from this annotation (default: everywhere)
            export = m.metadata.annotations.get("networking.istio.io/exportTo", "")
            export_to = tuple(x.strip() for x in export.split(",") if x.strip())
            external = m.spec.external_name if m.spec.type == "ExternalName" else None
            services.append(
                Service(
                    e.name,
                    e.namespace,
                    ports,
                    m.spec.selector,
                    export_to=export_to,
                    cluster_ip=m.spec.cluster_ip,
                    external_name=external.lower().rstrip(".") if external else None,
                )
            )
        elif kind == "Deployment":  # and StatefulSet
            replicas = 1 if m.spec.replicas is None else m.spec.replicas
            workloads.append(
                Workload(
                    e.name, e.namespace, dict(m.spec.template.metadata.labels), replicas, m.kind
                )
            )
        elif kind == "Pod":
            out.pods.append(_placed(m, e.namespace))
            labels = _augment(dict(m.metadata.labels), m.spec.node_name, nodes)
            workloads.append(Workload(e.name, e.namespace, labels, 1, "Pod"))
        elif kind == "Namespace":
            out.namespaces.append(m)
            namespaces.add(e.name)
        namespaces.add(e.namespace)
        for route_kind in ("tcp", "tls"):
            if kind == "VirtualService" and getattr(m.spec, route_kind):
                infos.append(
                    Diagnostic.make(
                        "ISM0101",
                        f"{route_kind} routes are loaded but not simulated",
                        e.source.find(("spec", route_kind)) or e.location,
                        resource=f"VirtualService {e.namespace}/{e.name}",
                    )
                )
    out.mesh = Mesh.build(services, workloads, namespaces)
    return out


def _rollout_workload(r: cfg.Rollout, ns: str) -> list[Workload]:
    """The pods of a Rollout's template (its stable and canary ReplicaSets share its labels)."""
    meta = (r.spec.template or {}).get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    if not isinstance(labels, dict) or not labels:
        return []
    n = 1 if r.spec.replicas is None else max(0, min(r.spec.replicas, MAX_REPLICAS))
    return [
        Workload(r.metadata.name, ns, {str(k): str(v) for k, v in labels.items()}, n, "Rollout")
    ]


#: Node labels Istio copies onto a pod's endpoint (``AugmentLabels``), when not empty.
_TOPOLOGY_LABELS = (
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
)


def _augment(
    labels: dict[str, str], node_name: str | None, nodes: dict[str, cfg.Node]
) -> dict[str, str]:
    """A pod's endpoint labels: its own, its node's region/zone/subzone, and the node's name."""
    if not node_name:
        return labels
    out = dict(labels)
    node = nodes.get(node_name)
    for key in _TOPOLOGY_LABELS:
        value = node.metadata.labels.get(key, "") if node is not None else ""
        if value:
            out[key] = value
    out["kubernetes.io/hostname"] = node_name
    return out


def _service_entry_services(se: cfg.ServiceEntry, ns: str) -> list[Service]:
    ports = tuple(ServicePort(p.number, p.name, p.protocol) for p in se.spec.ports) or (
        ServicePort(80),
    )
    endpoints = tuple(
        Pod(f"{se.metadata.name}-ep{i}", ns, dict(ep.labels), se.metadata.name, ep.address)
        for i, ep in enumerate(se.spec.endpoints)
    )
    selector = se.spec.workload_selector.labels if se.spec.workload_selector else None
    if (
        not endpoints
        and selector is None
        and se.spec.resolution in ("DNS", "DNS_ROUND_ROBIN", None)
    ):
        # DNS resolution with no endpoints: the host itself is the single endpoint
        endpoints = tuple(
            Pod(f"{h}", ns, {}, se.metadata.name, h)
            for h in se.spec.hosts[:1]
            if not h.startswith("*")
        )
    return [
        Service(
            se.metadata.name,
            ns,
            ports,
            selector,
            h,
            endpoints,
            tuple(se.spec.export_to),
            "ServiceEntry",
        )
        for h in se.spec.hosts
    ]
