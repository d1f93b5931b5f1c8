"""The Istio ``ServiceEntry`` (``networking.istio.io``; routing-relevant fields, strict like the
other Istio kinds). Its own module, so that a config without ServiceEntries never builds its
models (start-up, issue 9).
"""

# No ``from __future__ import annotations`` here: pydantic then takes the annotations Python
# evaluated rather than evaluating each string itself (a quarter of building these classes,
# paid by every command that loads a file: start-up, issue 9).

from typing import Any, Literal

from pydantic import Field

from .base import IstioModel, ObjectMeta, new_dict, new_list


class EntryWorkloadSelector(IstioModel):
    """A ServiceEntry's ``networking.v1alpha3.WorkloadSelector``: ``labels``, not matchLabels."""

    labels: dict[str, str] = Field(default_factory=new_dict)


class ServicePortSpec(IstioModel):
    number: int
    protocol: str | None = None
    name: str | None = None
    target_port: int | None = None


class WorkloadEntrySpec(IstioModel):
    address: str | None = None
    ports: dict[str, int] = Field(default_factory=new_dict)
    labels: dict[str, str] = Field(default_factory=new_dict)
    network: str | None = None
    locality: str | None = None
    weight: int | None = None
    service_account: str | None = None


class ServiceEntrySpec(IstioModel):
    hosts: list[str] = Field(default_factory=new_list)
    addresses: list[str] = Field(default_factory=new_list)
    ports: list[ServicePortSpec] = Field(default_factory=new_list)
    location: Literal["MESH_EXTERNAL", "MESH_INTERNAL"] | None = None
    resolution: Literal["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"] | None = None
    endpoints: list[WorkloadEntrySpec] = Field(default_factory=new_list)
    workload_selector: EntryWorkloadSelector | None = None
    export_to: list[str] = Field(default_factory=new_list)
    subject_alt_names: list[str] = Field(default_factory=new_list)


class ServiceEntry(IstioModel):
    api_version: str = "networking.istio.io/v1"
    kind: Literal["ServiceEntry"] = "ServiceEntry"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ServiceEntrySpec
    status: dict[str, Any] | None = None
