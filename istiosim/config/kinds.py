"""The kinds istiosim reads, without their models: the apiVersions of each, and which module
holds its model (imported on first use, so that a command reads only the families its files
hold: a ``route`` over Services, Deployments and VirtualServices never builds the Gateway API,
security or rollout models). No pydantic here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

ISTIO_NETWORKING_VERSIONS = (
    "networking.istio.io/v1alpha3",
    "networking.istio.io/v1beta1",
    "networking.istio.io/v1",
)
SECURITY_VERSIONS = ("security.istio.io/v1", "security.istio.io/v1beta1")
#: kind → the apiVersions istiosim reads for it
ROLLOUT_API_VERSIONS: dict[str, tuple[str, ...]] = {
    "Canary": ("flagger.app/v1beta1",),
    "Rollout": ("argoproj.io/v1alpha1",),
}
#: the Kubernetes Gateway API group: its ``Gateway`` loads as ``KubernetesGateway``
KUBERNETES_GATEWAY_GROUP = "gateway.networking.k8s.io"

#: kind → (module of istiosim.config, model class) for the kinds istiosim reads
MODEL_HOMES: dict[str, tuple[str, str]] = {
    "VirtualService": ("networking", "VirtualService"),
    "DestinationRule": ("networking", "DestinationRule"),
    "ServiceEntry": ("serviceentry", "ServiceEntry"),
    "Gateway": ("listeners", "Gateway"),
    "Sidecar": ("listeners", "Sidecar"),
    "RequestAuthentication": ("security", "RequestAuthentication"),
    "Service": ("kubernetes", "K8sService"),
    "Deployment": ("kubernetes", "Deployment"),
    "StatefulSet": ("kubernetes", "Deployment"),
    "Pod": ("kubernetes", "K8sPod"),
    "Node": ("kubernetes", "Node"),
    "Namespace": ("kubernetes", "Namespace"),
    "Canary": ("rollouts", "Canary"),
    "Rollout": ("rollouts", "Rollout"),
}

#: Istio kind -> the apiVersions Istio serves it under (another version of the group is refused;
#: the same kind name in another group is not ours)
ISTIO_KINDS: dict[str, tuple[str, ...]] = {
    "VirtualService": ISTIO_NETWORKING_VERSIONS,
    "DestinationRule": ISTIO_NETWORKING_VERSIONS,
    "ServiceEntry": ISTIO_NETWORKING_VERSIONS,
    "Gateway": ISTIO_NETWORKING_VERSIONS,
    "Sidecar": ISTIO_NETWORKING_VERSIONS,
    "RequestAuthentication": SECURITY_VERSIONS,
}


class KindModels(Mapping[str, type[Any]]):
    """kind → model class, each family's module imported when one of its kinds is looked up."""

    def __getitem__(self, kind: str) -> type[Any]:  # a pydantic model class
        module, name = MODEL_HOMES[kind]
        model: type[Any] = getattr(importlib.import_module(f"istiosim.config.{module}"), name)
        return model

    def __iter__(self) -> Iterator[str]:
        return iter(MODEL_HOMES)

    def __len__(self) -> int:
        return len(MODEL_HOMES)

    def __repr__(self) -> str:
        return f"<models of {', '.join(MODEL_HOMES)}>"
