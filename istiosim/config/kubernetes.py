"""The Kubernetes kinds routing reads: Service, Deployment/StatefulSet, Pod, Node, Namespace.

Modelled only as far as routing needs them (labels, selectors, ports, replicas); their other
fields are accepted and ignored. ``Service``, ``ServicePort`` and ``Pod`` are named
``K8sService``, ``K8sServicePort`` and ``K8sPod`` here so that they never stand for the mesh's
own ``Service``, ``ServicePort`` and ``Pod`` (:mod:`istiosim.mesh`), which the loader builds from
them.
"""

# No ``from __future__ import annotations`` here: pydantic then takes the annotations Python
# evaluated rather than evaluating each string itself (a quarter of building these classes,
# paid by every command that loads a file: start-up, issue 9).

from typing import Literal

from pydantic import Field

from .base import K8sModel, ObjectMeta, new_dict, new_list


class K8sServicePort(K8sModel):
    name: str | None = None
    port: int
    target_port: int | str | None = None
    protocol: str | None = None
    app_protocol: str | None = None


class ServiceSpecK8s(K8sModel):
    selector: dict[str, str] | None = None
    ports: list[K8sServicePort] = Field(default_factory=new_list)
    type: str | None = None
    cluster_ip: str | None = Field(default=None, alias="clusterIP")
    external_name: str | None = None


class K8sService(K8sModel):
    api_version: str = "v1"
    kind: Literal["Service"] = "Service"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ServiceSpecK8s = Field(default_factory=ServiceSpecK8s)


class PodTemplateMeta(K8sModel):
    labels: dict[str, str] = Field(default_factory=new_dict)


class PodTemplate(K8sModel):
    metadata: PodTemplateMeta = Field(default_factory=PodTemplateMeta)


class LabelSelector(K8sModel):
    match_labels: dict[str, str] = Field(default_factory=new_dict)


class WorkloadSpec(K8sModel):
    replicas: int | None = None
    selector: LabelSelector | None = None
    template: PodTemplate = Field(default_factory=PodTemplate)


class Deployment(K8sModel):
    api_version: str = "apps/v1"
    kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: WorkloadSpec = Field(default_factory=WorkloadSpec)


class PodSpec(K8sModel):
    node_name: str | None = None


class K8sPod(K8sModel):
    api_version: str = "v1"
    kind: Literal["Pod"] = "Pod"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PodSpec = Field(default_factory=PodSpec)


class Node(K8sModel):
    """Read for its topology labels, which Istio copies onto the endpoints of its pods."""

    api_version: str = "v1"
    kind: Literal["Node"] = "Node"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)


class Namespace(K8sModel):
    api_version: str = "v1"
    kind: Literal["Namespace"] = "Namespace"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
