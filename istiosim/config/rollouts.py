"""Progressive-delivery objects that rewrite VirtualServices: Flagger's ``Canary``
(``flagger.app/v1beta1``) and Argo Rollouts' ``Rollout`` (``argoproj.io/v1alpha1``).

Field names and nesting follow the controllers' Go types (Flagger
``pkg/apis/flagger/v1beta1/canary.go``, Argo ``pkg/apis/rollouts/v1alpha1/types.go``); the
fields that decide the VirtualService each controller writes are typed, the others (metrics,
webhooks, pod templates, other traffic routers) are accepted as written and not interpreted.
Unknown fields are rejected, so a typo such as ``stepWieght`` fails with file:line instead of
silently giving another plan.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import IstioModel, ObjectMeta, new_dict, new_list
from .kinds import ROLLOUT_API_VERSIONS as ROLLOUT_API_VERSIONS
from .networking import CorsPolicy, Headers, HTTPMatchRequest, HTTPRetry

# ---------------------------------------------------------------------------------------------
# Flagger


class LocalObjectReference(IstioModel):
    api_version: str | None = None
    kind: str | None = None
    name: str
    namespace: str | None = None


class CustomMetadata(IstioModel):
    labels: dict[str, str] = Field(default_factory=new_dict)
    annotations: dict[str, str] = Field(default_factory=new_dict)


class FlaggerRewrite(IstioModel):
    """Flagger's ``HTTPRewrite``: Istio's ``uri`` and ``authority`` plus Gateway API's ``type``."""

    uri: str | None = None
    authority: str | None = None
    type: str | None = None


class CanaryService(IstioModel):
    """``spec.service``: the apex Service and the VirtualService Flagger generates for it."""

    name: str | None = None
    port: int
    port_name: str | None = None
    target_port: int | str | None = None
    app_protocol: str | None = None
    traffic_distribution: str | None = None
    port_discovery: bool = False
    headless: bool = False
    timeout: str | None = None
    backend_timeout: str | None = None
    gateways: list[str] = Field(default_factory=new_list)
    gateway_refs: list[dict[str, Any]] = Field(default_factory=new_list)
    hosts: list[str] = Field(default_factory=new_list)
    delegation: bool = False
    traffic_policy: dict[str, Any] | None = None
    match: list[HTTPMatchRequest] = Field(default_factory=new_list)
    rewrite: FlaggerRewrite | None = None
    retries: HTTPRetry | None = None
    headers: Headers | None = None
    mirror: list[dict[str, Any]] = Field(default_factory=new_list)
    cors_policy: CorsPolicy | None = None
    mesh_name: str | None = None
    backends: list[str] = Field(default_factory=new_list)
    apex: CustomMetadata | None = None
    primary: CustomMetadata | None = None
    canary: CustomMetadata | None = None
    unmanaged_metadata: dict[str, Any] | None = None


class SessionAffinity(IstioModel):
    cookie_name: str | None = None
    domain: str | None = None
    http_only: bool = False
    max_age: int = 0
    partitioned: bool = False
    path: str | None = None
    same_site: str | None = None
    secure: bool = False
    primary_cookie_name: str | None = None


class CanaryAnalysis(IstioModel):
    """``spec.analysis``: the schedule (interval, weights or iterations) and what is routed."""

    interval: str | None = None
    iterations: int = 0
    mirror: bool = False
    mirror_weight: int = 0
    max_weight: int = 0
    step_weight: int = 0
    step_weights: list[int] = Field(default_factory=new_list)
    step_weight_promotion: int = 0
    threshold: int = 0
    primary_ready_threshold: int | None = None
    canary_ready_threshold: int | None = None
    alerts: list[dict[str, Any]] = Field(default_factory=new_list)
    metrics: list[dict[str, Any]] = Field(default_factory=new_list)
    webhooks: list[dict[str, Any]] = Field(default_factory=new_list)
    match: list[HTTPMatchRequest] = Field(default_factory=new_list)
    session_affinity: SessionAffinity | None = None


class CanarySpec(IstioModel):
    provider: str | None = None
    metrics_server: str | None = None
    target_ref: LocalObjectReference
    autoscaler_ref: dict[str, Any] | None = None
    ingress_ref: dict[str, Any] | None = None
    route_ref: dict[str, Any] | None = None
    upstream_ref: dict[str, Any] | None = None
    service: CanaryService
    analysis: CanaryAnalysis | None = None
    #: the v1alpha3 spelling of ``analysis`` (Flagger still reads it)
    canary_analysis: CanaryAnalysis | None = None
    progress_deadline_seconds: int | None = None
    skip_analysis: bool = False
    revert_on_deletion: bool = False
    suspend: bool = False


class Canary(IstioModel):
    """A Flagger ``Canary``: Flagger owns the VirtualService named after the apex service."""

    api_version: str = "flagger.app/v1beta1"
    kind: Literal["Canary"] = "Canary"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: CanarySpec
    status: dict[str, Any] | None = None

    def get_analysis(self) -> CanaryAnalysis:
        """``GetAnalysis``: ``analysis``, else the older ``canaryAnalysis``, else defaults."""
        return self.spec.analysis or self.spec.canary_analysis or CanaryAnalysis()

    def service_names(self) -> tuple[str, str, str]:
        """``GetServiceNames``: apex (service.name or the target's name), primary, canary."""
        apex = self.spec.service.name or self.spec.target_ref.name
        return apex, f"{apex}-primary", f"{apex}-canary"


# ---------------------------------------------------------------------------------------------
# Argo Rollouts


class ArgoStringMatch(IstioModel):
    exact: str | None = None
    prefix: str | None = None
    regex: str | None = None


class HeaderRoutingMatch(IstioModel):
    header_name: str
    header_value: ArgoStringMatch


class SetHeaderRoute(IstioModel):
    name: str | None = None
    match: list[HeaderRoutingMatch] | None = None


class RouteMatch(IstioModel):
    method: ArgoStringMatch | None = None
    path: ArgoStringMatch | None = None
    headers: dict[str, ArgoStringMatch] = Field(default_factory=new_dict)


class SetMirrorRoute(IstioModel):
    name: str
    match: list[RouteMatch] | None = None
    percentage: int | None = None


class RolloutPause(IstioModel):
    duration: int | str | None = None


class SetCanaryScale(IstioModel):
    weight: int | None = None
    replicas: int | None = None
    match_traffic_weight: bool = False


class CanaryStep(IstioModel):
    set_weight: int | None = None
    pause: RolloutPause | None = None
    experiment: dict[str, Any] | None = None
    analysis: dict[str, Any] | None = None
    set_canary_scale: SetCanaryScale | None = None
    set_header_route: SetHeaderRoute | None = None
    set_mirror_route: SetMirrorRoute | None = None
    plugin: dict[str, Any] | None = None


class IstioVirtualServiceRef(IstioModel):
    name: str
    routes: list[str] = Field(default_factory=new_list)
    tls_routes: list[dict[str, Any]] = Field(default_factory=new_list)
    tcp_routes: list[dict[str, Any]] = Field(default_factory=new_list)


class IstioDestinationRuleRef(IstioModel):
    name: str
    canary_subset_name: str
    stable_subset_name: str
    additional_subset_names: list[str] = Field(default_factory=new_list)


class IstioTrafficRouting(IstioModel):
    virtual_service: IstioVirtualServiceRef | None = None
    destination_rule: IstioDestinationRuleRef | None = None
    virtual_services: list[IstioVirtualServiceRef] = Field(default_factory=new_list)

    def refs(self) -> list[IstioVirtualServiceRef]:
        """``getVirtualServices``: the single ``virtualService`` or the list."""
        return [self.virtual_service] if self.virtual_service else list(self.virtual_services)


class ManagedRoute(IstioModel):
    name: str


class RolloutTrafficRouting(IstioModel):
    istio: IstioTrafficRouting | None = None
    nginx: dict[str, Any] | None = None
    alb: dict[str, Any] | None = None
    smi: dict[str, Any] | None = None
    ambassador: dict[str, Any] | None = None
    app_mesh: dict[str, Any] | None = None
    traefik: dict[str, Any] | None = None
    apisix: dict[str, Any] | None = None
    managed_routes: list[ManagedRoute] | None = None
    plugins: dict[str, Any] | None = None
    max_traffic_weight: int | None = None


class ArgoCanaryStrategy(IstioModel):
    canary_service: str | None = None
    stable_service: str | None = None
    steps: list[CanaryStep] = Field(default_factory=new_list)
    traffic_routing: RolloutTrafficRouting | None = None
    max_unavailable: int | str | None = None
    max_surge: int | str | None = None
    analysis: dict[str, Any] | None = None
    anti_affinity: dict[str, Any] | None = None
    canary_metadata: dict[str, Any] | None = None
    stable_metadata: dict[str, Any] | None = None
    scale_down_delay_seconds: int | None = None
    scale_down_delay_revision_limit: int | None = None
    abort_scale_down_delay_seconds: int | None = None
    dynamic_stable_scale: bool = False
    ping_pong: dict[str, Any] | None = None
    min_pods_per_replica_set: int | None = None
    replica_progress_threshold: dict[str, Any] | None = None


class RolloutStrategy(IstioModel):
    blue_green: dict[str, Any] | None = None
    canary: ArgoCanaryStrategy | None = None


class RolloutSpec(IstioModel):
    replicas: int | None = None
    selector: dict[str, Any] | None = None
    template: dict[str, Any] | None = None
    workload_ref: dict[str, Any] | None = None
    min_ready_seconds: int | None = None
    rollback_window: dict[str, Any] | None = None
    strategy: RolloutStrategy
    revision_history_limit: int | None = None
    paused: bool = False
    progress_deadline_seconds: int | None = None
    progress_deadline_abort: bool = False
    restart_at: Any = None
    analysis: dict[str, Any] | None = None


class Rollout(IstioModel):
    """An Argo Rollouts ``Rollout``: its canary steps patch user-owned VirtualServices."""

    api_version: str = "argoproj.io/v1alpha1"
    kind: Literal["Rollout"] = "Rollout"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: RolloutSpec
    status: dict[str, Any] | None = None
