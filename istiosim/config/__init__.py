"""Pydantic models of the Istio and Kubernetes objects istiosim reads, and the kind table.

The models live in :mod:`.base` (shared bases and metadata), :mod:`.networking` (Istio) and
:mod:`.kubernetes`; every model name is re-exported here, so ``config.HTTPRoute`` is the one
spelling the rest of istiosim uses.
"""

from __future__ import annotations

from pydantic import BaseModel

from .base import ISTIO_NETWORKING_VERSIONS as ISTIO_NETWORKING_VERSIONS
from .base import IstioModel as IstioModel
from .base import K8sModel as K8sModel
from .base import ObjectMeta as ObjectMeta
from .base import schema_name as schema_name
from .kubernetes import Deployment as Deployment
from .kubernetes import GatewayListener as GatewayListener
from .kubernetes import K8sPod as K8sPod
from .kubernetes import K8sService as K8sService
from .kubernetes import K8sServicePort as K8sServicePort
from .kubernetes import KubernetesGateway as KubernetesGateway
from .kubernetes import KubernetesGatewaySpec as KubernetesGatewaySpec
from .kubernetes import LabelSelector as LabelSelector
from .kubernetes import Namespace as Namespace
from .kubernetes import Node as Node
from .kubernetes import PodSpec as PodSpec
from .kubernetes import PodTemplate as PodTemplate
from .kubernetes import PodTemplateMeta as PodTemplateMeta
from .kubernetes import ServiceSpecK8s as ServiceSpecK8s
from .kubernetes import WorkloadSpec as WorkloadSpec
from .networking import ClientTLSSettings as ClientTLSSettings
from .networking import ConnectionPoolSettings as ConnectionPoolSettings
from .networking import ConsistentHashLB as ConsistentHashLB
from .networking import CorsPolicy as CorsPolicy
from .networking import Delegate as Delegate
from .networking import Destination as Destination
from .networking import DestinationRule as DestinationRule
from .networking import DestinationRuleSpec as DestinationRuleSpec
from .networking import EntryWorkloadSelector as EntryWorkloadSelector
from .networking import FaultAbort as FaultAbort
from .networking import FaultDelay as FaultDelay
from .networking import Gateway as Gateway
from .networking import GatewaySpec as GatewaySpec
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
from .networking import IstioEgressListener as IstioEgressListener
from .networking import IstioIngressListener as IstioIngressListener
from .networking import LoadBalancerSettings as LoadBalancerSettings
from .networking import MagLev as MagLev
from .networking import OutboundTrafficPolicy as OutboundTrafficPolicy
from .networking import OutlierDetection as OutlierDetection
from .networking import Percent as Percent
from .networking import Port as Port
from .networking import PortSelector as PortSelector
from .networking import PortTrafficPolicy as PortTrafficPolicy
from .networking import RegexRewrite as RegexRewrite
from .networking import RingHash as RingHash
from .networking import Server as Server
from .networking import ServerTLSSettings as ServerTLSSettings
from .networking import ServiceEntry as ServiceEntry
from .networking import ServiceEntrySpec as ServiceEntrySpec
from .networking import ServicePortSpec as ServicePortSpec
from .networking import Sidecar as Sidecar
from .networking import SidecarSpec as SidecarSpec
from .networking import SidecarWorkloadSelector as SidecarWorkloadSelector
from .networking import StringMatch as StringMatch
from .networking import Subset as Subset
from .networking import TCPKeepalive as TCPKeepalive
from .networking import TCPSettings as TCPSettings
from .networking import TrafficPolicy as TrafficPolicy
from .networking import TrafficPolicyFields as TrafficPolicyFields
from .networking import VirtualService as VirtualService
from .networking import VirtualServiceSpec as VirtualServiceSpec
from .networking import WarmupConfiguration as WarmupConfiguration
from .networking import WorkloadEntrySpec as WorkloadEntrySpec
from .networking import WorkloadSelector as WorkloadSelector
from .rollouts import ROLLOUT_API_VERSIONS as ROLLOUT_API_VERSIONS
from .rollouts import Canary as Canary
from .rollouts import Rollout as Rollout
from .security import SECURITY_VERSIONS as SECURITY_VERSIONS
from .security import ClaimToHeader as ClaimToHeader
from .security import JWTHeader as JWTHeader
from .security import JWTRule as JWTRule
from .security import PolicyTargetReference as PolicyTargetReference
from .security import RequestAuthentication as RequestAuthentication
from .security import RequestAuthenticationSpec as RequestAuthenticationSpec

#: kind -> model for the kinds istiosim reads; other kinds load with an info diagnostic.
MODELS: dict[str, type[BaseModel]] = {
    "VirtualService": VirtualService,
    "DestinationRule": DestinationRule,
    "ServiceEntry": ServiceEntry,
    "Gateway": Gateway,
    "Sidecar": Sidecar,
    "RequestAuthentication": RequestAuthentication,
    "Service": K8sService,
    "Deployment": Deployment,
    "StatefulSet": Deployment,
    "Pod": K8sPod,
    "Node": Node,
    "Namespace": Namespace,
    "Canary": Canary,
    "Rollout": Rollout,
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

#: the Kubernetes Gateway API group: its ``Gateway`` loads as :class:`KubernetesGateway`
KUBERNETES_GATEWAY_GROUP = "gateway.networking.k8s.io"
