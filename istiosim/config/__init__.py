"""Pydantic models of the Istio and Kubernetes objects istiosim reads, and the kind table.

The models live in :mod:`.base` (shared bases and metadata), :mod:`.networking` (Istio's
VirtualService and DestinationRule), :mod:`.serviceentry`, :mod:`.listeners` (Gateway, Sidecar),
:mod:`.security`, :mod:`.kubernetes`, :mod:`.gateway_api` and :mod:`.rollouts`; every model
name is re-exported here, so ``config.HTTPRoute`` is the one spelling the rest of istiosim uses.
The names are lazy (PEP 562): a family's module is imported, and its models built, when one of
its names is first used, so a command pays only for the kinds it reads (issue 9, start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy
from .kinds import ISTIO_KINDS as ISTIO_KINDS
from .kinds import ISTIO_NETWORKING_VERSIONS as ISTIO_NETWORKING_VERSIONS
from .kinds import KUBERNETES_GATEWAY_GROUP as KUBERNETES_GATEWAY_GROUP
from .kinds import ROLLOUT_API_VERSIONS as ROLLOUT_API_VERSIONS
from .kinds import SECURITY_VERSIONS as SECURITY_VERSIONS
from .kinds import KindModels

#: name → the module that defines it
_NAMES: dict[str, str] = {
    "IstioModel": "istiosim.config.base",
    "K8sModel": "istiosim.config.base",
    "ObjectMeta": "istiosim.config.base",
    "schema_name": "istiosim.config.base",
    "Deployment": "istiosim.config.kubernetes",
    "K8sPod": "istiosim.config.kubernetes",
    "K8sService": "istiosim.config.kubernetes",
    "K8sServicePort": "istiosim.config.kubernetes",
    "LabelSelector": "istiosim.config.kubernetes",
    "Namespace": "istiosim.config.kubernetes",
    "Node": "istiosim.config.kubernetes",
    "PodSpec": "istiosim.config.kubernetes",
    "PodTemplate": "istiosim.config.kubernetes",
    "PodTemplateMeta": "istiosim.config.kubernetes",
    "ServiceSpecK8s": "istiosim.config.kubernetes",
    "WorkloadSpec": "istiosim.config.kubernetes",
    "GatewayListener": "istiosim.config.gateway_api",
    "KubernetesGateway": "istiosim.config.gateway_api",
    "KubernetesGatewaySpec": "istiosim.config.gateway_api",
    "ClientTLSSettings": "istiosim.config.networking",
    "ConnectionPoolSettings": "istiosim.config.networking",
    "ConsistentHashLB": "istiosim.config.networking",
    "CorsPolicy": "istiosim.config.networking",
    "Delegate": "istiosim.config.networking",
    "Destination": "istiosim.config.networking",
    "DestinationRule": "istiosim.config.networking",
    "DestinationRuleSpec": "istiosim.config.networking",
    "EntryWorkloadSelector": "istiosim.config.serviceentry",
    "FaultAbort": "istiosim.config.networking",
    "FaultDelay": "istiosim.config.networking",
    "Gateway": "istiosim.config.listeners",
    "GatewaySpec": "istiosim.config.listeners",
    "HTTP2KeepAlive": "istiosim.config.networking",
    "HTTPBody": "istiosim.config.networking",
    "HTTPCookie": "istiosim.config.networking",
    "HTTPDirectResponse": "istiosim.config.networking",
    "HTTPFaultInjection": "istiosim.config.networking",
    "HTTPMatchRequest": "istiosim.config.networking",
    "HTTPMirrorPolicy": "istiosim.config.networking",
    "HTTPRedirect": "istiosim.config.networking",
    "HTTPRetry": "istiosim.config.networking",
    "HTTPRewrite": "istiosim.config.networking",
    "HTTPRoute": "istiosim.config.networking",
    "HTTPRouteDestination": "istiosim.config.networking",
    "HTTPSettings": "istiosim.config.networking",
    "HeaderOperations": "istiosim.config.networking",
    "Headers": "istiosim.config.networking",
    "IstioEgressListener": "istiosim.config.listeners",
    "IstioIngressListener": "istiosim.config.listeners",
    "LoadBalancerSettings": "istiosim.config.networking",
    "MagLev": "istiosim.config.networking",
    "OutboundTrafficPolicy": "istiosim.config.listeners",
    "OutlierDetection": "istiosim.config.networking",
    "Percent": "istiosim.config.networking",
    "Port": "istiosim.config.listeners",
    "PortSelector": "istiosim.config.networking",
    "PortTrafficPolicy": "istiosim.config.networking",
    "RegexRewrite": "istiosim.config.networking",
    "RingHash": "istiosim.config.networking",
    "Server": "istiosim.config.listeners",
    "ServerTLSSettings": "istiosim.config.listeners",
    "ServiceEntry": "istiosim.config.serviceentry",
    "ServiceEntrySpec": "istiosim.config.serviceentry",
    "ServicePortSpec": "istiosim.config.serviceentry",
    "Sidecar": "istiosim.config.listeners",
    "SidecarSpec": "istiosim.config.listeners",
    "SidecarWorkloadSelector": "istiosim.config.listeners",
    "StringMatch": "istiosim.config.networking",
    "Subset": "istiosim.config.networking",
    "TCPKeepalive": "istiosim.config.networking",
    "TCPSettings": "istiosim.config.networking",
    "TrafficPolicy": "istiosim.config.networking",
    "TrafficPolicyFields": "istiosim.config.networking",
    "VirtualService": "istiosim.config.networking",
    "VirtualServiceSpec": "istiosim.config.networking",
    "WarmupConfiguration": "istiosim.config.networking",
    "WorkloadEntrySpec": "istiosim.config.serviceentry",
    "WorkloadSelector": "istiosim.config.networking",
    "Canary": "istiosim.config.rollouts",
    "Rollout": "istiosim.config.rollouts",
    "ClaimToHeader": "istiosim.config.security",
    "JWTHeader": "istiosim.config.security",
    "JWTRule": "istiosim.config.security",
    "PolicyTargetReference": "istiosim.config.security",
    "RequestAuthentication": "istiosim.config.security",
    "RequestAuthenticationSpec": "istiosim.config.security",
}

__getattr__, __dir__ = lazy(__name__, _NAMES)

#: kind -> model for the kinds istiosim reads (resolved on lookup); other kinds load with an
#: info diagnostic.
MODELS = KindModels()

if TYPE_CHECKING:
    from .base import IstioModel as IstioModel
    from .base import K8sModel as K8sModel
    from .base import ObjectMeta as ObjectMeta
    from .base import schema_name as schema_name
    from .gateway_api import GatewayListener as GatewayListener
    from .gateway_api import KubernetesGateway as KubernetesGateway
    from .gateway_api import KubernetesGatewaySpec as KubernetesGatewaySpec
    from .kubernetes import Deployment as Deployment
    from .kubernetes import K8sPod as K8sPod
    from .kubernetes import K8sService as K8sService
    from .kubernetes import K8sServicePort as K8sServicePort
    from .kubernetes import LabelSelector as LabelSelector
    from .kubernetes import Namespace as Namespace
    from .kubernetes import Node as Node
    from .kubernetes import PodSpec as PodSpec
    from .kubernetes import PodTemplate as PodTemplate
    from .kubernetes import PodTemplateMeta as PodTemplateMeta
    from .kubernetes import ServiceSpecK8s as ServiceSpecK8s
    from .kubernetes import WorkloadSpec as WorkloadSpec
    from .listeners import Gateway as Gateway
    from .listeners import GatewaySpec as GatewaySpec
    from .listeners import IstioEgressListener as IstioEgressListener
    from .listeners import IstioIngressListener as IstioIngressListener
    from .listeners import OutboundTrafficPolicy as OutboundTrafficPolicy
    from .listeners import Port as Port
    from .listeners import Server as Server
    from .listeners import ServerTLSSettings as ServerTLSSettings
    from .listeners import Sidecar as Sidecar
    from .listeners import SidecarSpec as SidecarSpec
    from .listeners import SidecarWorkloadSelector as SidecarWorkloadSelector
    from .networking import ClientTLSSettings as ClientTLSSettings
    from .networking import ConnectionPoolSettings as ConnectionPoolSettings
    from .networking import ConsistentHashLB as ConsistentHashLB
    from .networking import CorsPolicy as CorsPolicy
    from .networking import Delegate as Delegate
    from .networking import Destination as Destination
    from .networking import DestinationRule as DestinationRule
    from .networking import DestinationRuleSpec as DestinationRuleSpec
    from .networking import FaultAbort as FaultAbort
    from .networking import FaultDelay as FaultDelay
    from .networking import HeaderOperations as HeaderOperations
    from .networking import Headers as Headers
    from .networking import HTTP2KeepAlive as HTTP2KeepAlive
    from .networking import HTTPBody as HTTPBody
    from .networking import HTTPCookie as HTTPCookie
    from .networking import HTTPDirectResponse as HTTPDirectResponse
    from .networking import HTTPFaultInjection as HTTPFaultInjection
    from .networking import HTTPMatchRequest as HTTPMatchRequest
    from .networking import HTTPMirrorPolicy as HTTPMirrorPolicy
    from .networking import HTTPRedirect as HTTPRedirect
    from .networking import HTTPRetry as HTTPRetry
    from .networking import HTTPRewrite as HTTPRewrite
    from .networking import HTTPRoute as HTTPRoute
    from .networking import HTTPRouteDestination as HTTPRouteDestination
    from .networking import HTTPSettings as HTTPSettings
    from .networking import LoadBalancerSettings as LoadBalancerSettings
    from .networking import MagLev as MagLev
    from .networking import OutlierDetection as OutlierDetection
    from .networking import Percent as Percent
    from .networking import PortSelector as PortSelector
    from .networking import PortTrafficPolicy as PortTrafficPolicy
    from .networking import RegexRewrite as RegexRewrite
    from .networking import RingHash as RingHash
    from .networking import StringMatch as StringMatch
    from .networking import Subset as Subset
    from .networking import TCPKeepalive as TCPKeepalive
    from .networking import TCPSettings as TCPSettings
    from .networking import TrafficPolicy as TrafficPolicy
    from .networking import TrafficPolicyFields as TrafficPolicyFields
    from .networking import VirtualService as VirtualService
    from .networking import VirtualServiceSpec as VirtualServiceSpec
    from .networking import WarmupConfiguration as WarmupConfiguration
    from .networking import WorkloadSelector as WorkloadSelector
    from .rollouts import Canary as Canary
    from .rollouts import Rollout as Rollout
    from .security import ClaimToHeader as ClaimToHeader
    from .security import JWTHeader as JWTHeader
    from .security import JWTRule as JWTRule
    from .security import PolicyTargetReference as PolicyTargetReference
    from .security import RequestAuthentication as RequestAuthentication
    from .security import RequestAuthenticationSpec as RequestAuthenticationSpec
    from .serviceentry import EntryWorkloadSelector as EntryWorkloadSelector
    from .serviceentry import ServiceEntry as ServiceEntry
    from .serviceentry import ServiceEntrySpec as ServiceEntrySpec
    from .serviceentry import ServicePortSpec as ServicePortSpec
    from .serviceentry import WorkloadEntrySpec as WorkloadEntrySpec
