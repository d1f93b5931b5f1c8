"""The Kubernetes Gateway API ``Gateway`` (``gateway.networking.k8s.io``), read for its
listeners' hostnames (IST0132). Its own module so that only configs that hold one build it.
"""

from __future__ import annotations

from pydantic import Field

from .base import K8sModel, ObjectMeta, new_list


class GatewayListener(K8sModel):
    name: str | None = None
    hostname: str | None = None
    port: int | None = None
    protocol: str | None = None


class KubernetesGatewaySpec(K8sModel):
    gateway_class_name: str | None = None
    listeners: list[GatewayListener] = Field(default_factory=new_list)


class KubernetesGateway(K8sModel):
    """A ``gateway.networking.k8s.io`` Gateway, read for its listeners' hostnames (IST0132)."""

    api_version: str = "gateway.networking.k8s.io/v1"
    kind: str = "Gateway"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: KubernetesGatewaySpec = Field(default_factory=KubernetesGatewaySpec)
