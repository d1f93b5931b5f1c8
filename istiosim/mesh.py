"""The mesh: namespaces, services and the pods behind them.

Built by the loader from Kubernetes Service / Deployment / StatefulSet / Pod and Istio
ServiceEntry objects, or by hand. Pods are what subsets select (by label) and what the load
balancer picks from; each pod belongs to a workload named after its Deployment, StatefulSet or
bare Pod.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

DEFAULT_DOMAIN = "cluster.local"


def labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """True when ``labels`` ⊇ ``selector`` (Istio's ``SubsetOf``, exact value equality)."""
    return all(labels.get(k) == v for k, v in selector.items())


def resolve_short_name(host: str, namespace: str, domain: str = DEFAULT_DOMAIN) -> str:
    """Istio's ``ResolveShortnameToFQDN``: only dot-free names are expanded (semantics §0.13).

    ``reviews`` in ``default`` becomes ``reviews.default.svc.cluster.local``; ``reviews.default``
    is kept as written; ``*`` and ``*.foo.com`` are kept.
    """
    host = host.lower()
    if host == "*" or "." in host:
        return host
    return f"{host}.{namespace}.svc.{domain}"


@dataclass(frozen=True, slots=True)
class ServicePort:
    number: int
    name: str | None = None
    protocol: str | None = None


@dataclass(frozen=True, slots=True)
class Pod:
    """One endpoint. ``workload`` names its Deployment/StatefulSet, or the Pod itself."""

    name: str
    namespace: str
    labels: Mapping[str, str]
    workload: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Workload:
    """A Deployment, StatefulSet or bare Pod: ``replicas`` pods sharing ``labels``."""

    name: str
    namespace: str = "default"
    labels: Mapping[str, str] = field(default_factory=dict)
    replicas: int = 1
    kind: str = "Deployment"

    def pods(self) -> list[Pod]:
        if self.kind == "Pod":
            return [Pod(self.name, self.namespace, dict(self.labels), self.name)]
        return [
            Pod(f"{self.name}-{i}", self.namespace, dict(self.labels), self.name)
            for i in range(self.replicas)
        ]


@dataclass(frozen=True, slots=True)
class Service:
    """A Kubernetes Service or a ServiceEntry host.

    ``selector`` None means a Service without selector (no pods unless ``endpoints`` are given).
    ``endpoints`` are explicit pods (ServiceEntry endpoints).
    """

    name: str
    namespace: str = "default"
    ports: tuple[ServicePort, ...] = (ServicePort(80),)
    selector: Mapping[str, str] | None = None
    hostname: str | None = None  # ServiceEntry host; None = Kubernetes FQDN
    endpoints: tuple[Pod, ...] = ()
    export_to: tuple[str, ...] = ()
    kind: str = "Service"
    #: ``spec.clusterIP`` (``"None"``: headless) and ``spec.externalName`` of an ExternalName
    #: Service (an alias of that host), for the Host forms a sidecar answers to
    cluster_ip: str | None = None
    external_name: str | None = None

    def fqdn(self, domain: str = DEFAULT_DOMAIN) -> str:
        if self.hostname is not None:
            return self.hostname.lower()
        return f"{self.name}.{self.namespace}.svc.{domain}"


@dataclass(frozen=True)
class Mesh:
    """Services, workloads and namespaces, with lookups by FQDN and label selection of pods."""

    services: tuple[Service, ...] = ()
    workloads: tuple[Workload, ...] = ()
    namespaces: frozenset[str] = frozenset({"default"})
    domain: str = DEFAULT_DOMAIN
    root_namespace: str = "istio-system"

    @classmethod
    def build(
        cls,
        services: Iterable[Service] = (),
        workloads: Iterable[Workload] = (),
        namespaces: Iterable[str] = (),
        *,
        domain: str = DEFAULT_DOMAIN,
    ) -> Mesh:
        svcs = tuple(services)
        wls = tuple(workloads)
        ns = {"default", *namespaces, *(s.namespace for s in svcs), *(w.namespace for w in wls)}
        return cls(svcs, wls, frozenset(ns), domain)

    def pods(self) -> list[Pod]:
        return list(self._pods)

    @cached_property
    def _pods(self) -> tuple[Pod, ...]:
        return tuple(p for w in self.workloads for p in w.pods())

    @cached_property
    def _pod_index(self) -> dict[tuple[str | None, str, str], list[Pod]]:
        """(namespace, label, value) → pods in mesh order, and (None, label, value) across
        namespaces: built once, so selecting a service's pods costs its candidates only."""
        out: dict[tuple[str | None, str, str], list[Pod]] = {}
        for p in self._pods:
            for k, v in p.labels.items():
                out.setdefault((p.namespace, k, v), []).append(p)
                out.setdefault((None, k, v), []).append(p)
        return out

    def service_by_fqdn(self) -> dict[str, Service]:
        out: dict[str, Service] = {}
        for s in self.services:
            out.setdefault(s.fqdn(self.domain), s)
        return out

    def endpoints(self, service: Service) -> list[Pod]:
        """Pods behind a service: its selector over pods of its namespace, or its endpoints."""
        if service.endpoints:
            return list(service.endpoints)
        selector = service.selector
        if selector is None:
            return []
        ns = None if service.kind == "ServiceEntry" else service.namespace
        if not selector:
            return [p for p in self._pods if ns is None or p.namespace == ns]
        # the pods carrying the rarest of the selector's labels, then the whole selector
        index = self._pod_index
        candidates = min((index.get((ns, k, v), []) for k, v in selector.items()), key=len)
        return [p for p in candidates if labels_match(selector, p.labels)]

    def workload(self, name: str, namespace: str | None = None) -> Workload | None:
        for w in self.workloads:
            if w.name == name and (namespace is None or w.namespace == namespace):
                return w
        return None
