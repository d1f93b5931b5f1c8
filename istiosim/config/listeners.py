"""The Istio ``Gateway`` and ``Sidecar`` (``networking.istio.io``; v1alpha3, v1beta1 and v1 share
the schema): the listeners of a gateway proxy and of a sidecar. Their own module, so that a
config without them never builds their models (start-up, issue 9).
"""

# No ``from __future__ import annotations`` here: pydantic then takes the annotations Python
# evaluated rather than evaluating each string itself (a quarter of building these classes,
# paid by every command that loads a file: start-up, issue 9).

from typing import Any, Literal

from pydantic import Field

from .base import IstioModel, ObjectMeta, new_dict, new_list
from .networking import ConnectionPoolSettings, Destination


class Port(IstioModel):
    """A Gateway server's or Sidecar listener's port."""

    number: int | None = None
    protocol: str | None = None
    name: str | None = None
    target_port: int | None = None


class ServerTLSSettings(IstioModel):
    https_redirect: bool | None = None
    mode: (
        Literal[
            "PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"
        ]
        | None
    ) = None
    server_certificate: str | None = None
    private_key: str | None = None
    ca_certificates: str | None = None
    ca_crl: str | None = None
    credential_name: str | None = None
    credential_names: list[str] = Field(default_factory=new_list)
    tls_certificates: list[dict[str, Any]] = Field(default_factory=new_list)
    subject_alt_names: list[str] = Field(default_factory=new_list)
    verify_certificate_spki: list[str] = Field(default_factory=new_list)
    verify_certificate_hash: list[str] = Field(default_factory=new_list)
    min_protocol_version: str | None = None
    max_protocol_version: str | None = None
    cipher_suites: list[str] = Field(default_factory=new_list)


class Server(IstioModel):
    port: Port | None = None
    bind: str | None = None
    #: ``host``, ``ns/host``, ``./host``, ``*/host``; wildcards as ``*.example.com`` or ``*``
    hosts: list[str] = Field(default_factory=new_list)
    tls: ServerTLSSettings | None = None
    default_endpoint: str | None = None
    name: str | None = None


class GatewaySpec(IstioModel):
    servers: list[Server] = Field(default_factory=new_list)
    #: labels of the gateway workload (pods) this Gateway configures
    selector: dict[str, str] = Field(default_factory=new_dict)


class Gateway(IstioModel):
    api_version: str = "networking.istio.io/v1"
    kind: Literal["Gateway"] = "Gateway"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: GatewaySpec = Field(default_factory=GatewaySpec)
    status: dict[str, Any] | None = None


# ---------------------------------------------------------------------------------------------
# Sidecar


class SidecarWorkloadSelector(IstioModel):
    """A Sidecar's (and EnvoyFilter's) selector: ``labels``, not ``matchLabels``."""

    labels: dict[str, str] = Field(default_factory=new_dict)


class IstioEgressListener(IstioModel):
    port: Port | None = None
    bind: str | None = None
    capture_mode: Literal["DEFAULT", "IPTABLES", "NONE"] | None = None
    #: ``ns/host``, ``./host``, ``*/host``, ``~/host``
    hosts: list[str] = Field(default_factory=new_list)


class IstioIngressListener(IstioModel):
    port: Port | None = None
    bind: str | None = None
    capture_mode: Literal["DEFAULT", "IPTABLES", "NONE"] | None = None
    default_endpoint: str | None = None
    tls: ServerTLSSettings | None = None
    connection_pool: ConnectionPoolSettings | None = None


class OutboundTrafficPolicy(IstioModel):
    mode: Literal["REGISTRY_ONLY", "ALLOW_ANY"] | None = None
    #: deprecated (IST0002 "OutboundTrafficPolicy.EgressProxy ignored")
    egress_proxy: Destination | None = None


class SidecarSpec(IstioModel):
    workload_selector: SidecarWorkloadSelector | None = None
    ingress: list[IstioIngressListener] = Field(default_factory=new_list)
    egress: list[IstioEgressListener] = Field(default_factory=new_list)
    inbound_connection_pool: ConnectionPoolSettings | None = None
    outbound_traffic_policy: OutboundTrafficPolicy | None = None


class Sidecar(IstioModel):
    api_version: str = "networking.istio.io/v1"
    kind: Literal["Sidecar"] = "Sidecar"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: SidecarSpec = Field(default_factory=SidecarSpec)
    status: dict[str, Any] | None = None
