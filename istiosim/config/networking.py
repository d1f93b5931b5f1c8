"""The Istio ``networking.istio.io`` kinds istiosim simulates: VirtualService, DestinationRule
and their parts (ServiceEntry is in :mod:`.serviceentry`, Gateway and Sidecar in
:mod:`.listeners`: a config without them never builds their models).

They mirror the API (v1alpha3, v1beta1 and v1 share one schema): snake_case fields with the
camelCase aliases of the YAML, unknown fields rejected. Semantic rules (one-of fields, ranges,
regex syntax) are the compiler's job, so that every problem is reported at once with file:line.
"""

# No ``from __future__ import annotations`` here: pydantic then takes the annotations Python
# evaluated rather than evaluating each string itself (a quarter of building these classes,
# paid by every command that loads a file: start-up, issue 9).

from typing import Any, Literal

from pydantic import Field

from .base import IstioModel, ObjectMeta, new_dict, new_list


class StringMatch(IstioModel):
    """One of exact / prefix / regex; none of them means "present" (Istio's presence match)."""

    exact: str | None = None
    prefix: str | None = None
    regex: str | None = None


class PortSelector(IstioModel):
    number: int | None = None


class Destination(IstioModel):
    host: str
    subset: str | None = None
    port: PortSelector | None = None


class HeaderOperations(IstioModel):
    set: dict[str, str] = Field(default_factory=new_dict)
    add: dict[str, str] = Field(default_factory=new_dict)
    remove: list[str] = Field(default_factory=new_list)


class Headers(IstioModel):
    request: HeaderOperations | None = None
    response: HeaderOperations | None = None


class HTTPRouteDestination(IstioModel):
    destination: Destination | None = None
    #: Relative share: weight / sum of weights. Omitted means 0; a single destination gets 100%.
    weight: int | None = None
    headers: Headers | None = None


class HTTPMatchRequest(IstioModel):
    name: str | None = None
    uri: StringMatch | None = None
    scheme: StringMatch | None = None
    method: StringMatch | None = None
    authority: StringMatch | None = None
    headers: dict[str, StringMatch | None] = Field(default_factory=new_dict)
    port: int | None = None
    source_labels: dict[str, str] = Field(default_factory=new_dict)
    gateways: list[str] = Field(default_factory=new_list)
    query_params: dict[str, StringMatch | None] = Field(default_factory=new_dict)
    ignore_uri_case: bool = False
    without_headers: dict[str, StringMatch | None] = Field(default_factory=new_dict)
    source_namespace: str | None = None
    stat_prefix: str | None = None


class HTTPRedirect(IstioModel):
    uri: str | None = None
    authority: str | None = None
    port: int | None = None
    derive_port: Literal["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"] | None = None
    scheme: str | None = None
    redirect_code: int | None = None
    #: replaces the matched uri prefix in the Location path (Envoy ``prefix_rewrite``)
    prefix_rewrite: str | None = None


class HTTPBody(IstioModel):
    string: str | None = None
    bytes: str | None = None


class HTTPDirectResponse(IstioModel):
    status: int
    body: HTTPBody | None = None


class Delegate(IstioModel):
    name: str
    namespace: str | None = None


class RegexRewrite(IstioModel):
    match: str | None = None
    rewrite: str | None = None


class HTTPRewrite(IstioModel):
    uri: str | None = None
    authority: str | None = None
    uri_regex_rewrite: RegexRewrite | None = None


class Percent(IstioModel):
    value: float = 0.0


class FaultDelay(IstioModel):
    fixed_delay: str | None = None
    exponential_delay: str | None = None
    percentage: Percent | None = None
    #: Deprecated integer percentage (IST0002).
    percent: int | None = None


class FaultAbort(IstioModel):
    http_status: int | None = None
    grpc_status: str | None = None
    http2_error: str | None = None
    percentage: Percent | None = None


class HTTPFaultInjection(IstioModel):
    delay: FaultDelay | None = None
    abort: FaultAbort | None = None


class HTTPRetry(IstioModel):
    attempts: int | None = None
    per_try_timeout: str | None = None
    retry_on: str | None = None
    retry_remote_localities: bool | None = None
    retry_ignore_previous_hosts: bool | None = None
    backoff: str | None = None


class CorsPolicy(IstioModel):
    allow_origins: list[StringMatch] = Field(default_factory=new_list)
    allow_origin: list[str] = Field(default_factory=new_list)
    allow_methods: list[str] = Field(default_factory=new_list)
    allow_headers: list[str] = Field(default_factory=new_list)
    expose_headers: list[str] = Field(default_factory=new_list)
    max_age: str | None = None
    allow_credentials: bool | None = None
    unmatched_preflights: str | None = None


class HTTPMirrorPolicy(IstioModel):
    destination: Destination
    percentage: Percent | None = None


class HTTPRoute(IstioModel):
    name: str | None = None
    match: list[HTTPMatchRequest] = Field(default_factory=new_list)
    route: list[HTTPRouteDestination] = Field(default_factory=new_list)
    redirect: HTTPRedirect | None = None
    direct_response: HTTPDirectResponse | None = None
    delegate: Delegate | None = None
    rewrite: HTTPRewrite | None = None
    timeout: str | None = None
    retries: HTTPRetry | None = None
    fault: HTTPFaultInjection | None = None
    mirror: Destination | None = None
    mirror_percent: int | None = None
    mirror_percentage: Percent | None = None
    mirrors: list[HTTPMirrorPolicy] = Field(default_factory=new_list)
    cors_policy: CorsPolicy | None = None
    headers: Headers | None = None


class VirtualServiceSpec(IstioModel):
    hosts: list[str] = Field(default_factory=new_list)
    gateways: list[str] = Field(default_factory=new_list)
    http: list[HTTPRoute | None] = Field(default_factory=new_list)
    #: TLS and TCP routes load, but are not simulated (an info diagnostic says so).
    tls: list[dict[str, Any]] = Field(default_factory=new_list)
    tcp: list[dict[str, Any]] = Field(default_factory=new_list)
    export_to: list[str] = Field(default_factory=new_list)


class VirtualService(IstioModel):
    api_version: str = "networking.istio.io/v1"
    kind: Literal["VirtualService"] = "VirtualService"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: VirtualServiceSpec
    status: dict[str, Any] | None = None


# ---------------------------------------------------------------------------------------------
# DestinationRule


class HTTPCookie(IstioModel):
    name: str | None = None
    path: str | None = None
    ttl: str | None = None
    attributes: list[dict[str, str]] = Field(default_factory=new_list)


class RingHash(IstioModel):
    minimum_ring_size: int | None = None


class MagLev(IstioModel):
    table_size: int | None = None


class ConsistentHashLB(IstioModel):
    http_header_name: str | None = None
    http_cookie: HTTPCookie | None = None
    use_source_ip: bool | None = None
    http_query_parameter_name: str | None = None
    ring_hash: RingHash | None = None
    maglev: MagLev | None = None
    minimum_ring_size: int | None = None


class WarmupConfiguration(IstioModel):
    duration: str | None = None
    minimum_percent: float | None = None
    aggression: float | None = None


class LoadBalancerSettings(IstioModel):
    simple: (
        Literal[
            "UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"
        ]
        | None
    ) = None
    consistent_hash: ConsistentHashLB | None = None
    locality_lb_setting: dict[str, Any] | None = None
    warmup_duration_secs: str | None = None
    warmup: WarmupConfiguration | None = None


class TCPKeepalive(IstioModel):
    probes: int | None = None
    time: str | None = None
    interval: str | None = None


class TCPSettings(IstioModel):
    max_connections: int | None = None
    connect_timeout: str | None = None
    tcp_keepalive: TCPKeepalive | None = None
    max_connection_duration: str | None = None
    idle_timeout: str | None = None


class HTTP2KeepAlive(IstioModel):
    """HTTP/2 PING keepalive (istio/api ``destinationrule-valid.yaml`` uses it)."""

    interval: str | None = None
    timeout: str | None = None


class HTTPSettings(IstioModel):
    http1_max_pending_requests: int | None = None
    http2_max_requests: int | None = None
    max_requests_per_connection: int | None = None
    max_retries: int | None = None
    idle_timeout: str | None = None
    h2_upgrade_policy: str | None = None
    use_client_protocol: bool | None = None
    max_concurrent_streams: int | None = None
    http2_keep_alive: HTTP2KeepAlive | None = None


class ConnectionPoolSettings(IstioModel):
    tcp: TCPSettings | None = None
    http: HTTPSettings | None = None


class OutlierDetection(IstioModel):
    split_external_local_origin_errors: bool | None = None
    consecutive_local_origin_failures: int | None = None
    consecutive_gateway_errors: int | None = None
    consecutive_5xx_errors: int | None = None
    consecutive_errors: int | None = None
    interval: str | None = None
    base_ejection_time: str | None = None
    max_ejection_percent: int | None = None
    min_health_percent: int | None = None


class ClientTLSSettings(IstioModel):
    mode: Literal["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"] | None = None
    client_certificate: str | None = None
    private_key: str | None = None
    ca_certificates: str | None = None
    ca_crl: str | None = None
    credential_name: str | None = None
    subject_alt_names: list[str] = Field(default_factory=new_list)
    sni: str | None = None
    insecure_skip_verify: bool | None = None


class TrafficPolicyFields(IstioModel):
    load_balancer: LoadBalancerSettings | None = None
    connection_pool: ConnectionPoolSettings | None = None
    outlier_detection: OutlierDetection | None = None
    tls: ClientTLSSettings | None = None
    tunnel: dict[str, Any] | None = None
    proxy_protocol: dict[str, Any] | None = None
    retry_budget: dict[str, Any] | None = None


class PortTrafficPolicy(TrafficPolicyFields):
    port: PortSelector | None = None


class TrafficPolicy(TrafficPolicyFields):
    port_level_settings: list[PortTrafficPolicy] = Field(default_factory=new_list)


class Subset(IstioModel):
    name: str = ""
    labels: dict[str, str] = Field(default_factory=new_dict)
    traffic_policy: TrafficPolicy | None = None


class WorkloadSelector(IstioModel):
    """``istio.type.v1beta1.WorkloadSelector`` (DestinationRule, Sidecar...): ``matchLabels``."""

    match_labels: dict[str, str] = Field(default_factory=new_dict)


class DestinationRuleSpec(IstioModel):
    host: str = ""
    traffic_policy: TrafficPolicy | None = None
    subsets: list[Subset | None] = Field(default_factory=new_list)
    export_to: list[str] = Field(default_factory=new_list)
    workload_selector: WorkloadSelector | None = None


class DestinationRule(IstioModel):
    api_version: str = "networking.istio.io/v1"
    kind: Literal["DestinationRule"] = "DestinationRule"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: DestinationRuleSpec
    status: dict[str, Any] | None = None
