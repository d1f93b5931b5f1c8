"""The RoutePlan: what will run, as frozen dataclasses (no pydantic, no YAML).

The compiler turns the config into these objects once; both engines only read them. Each match
condition is a ``Matcher`` whose ``test(value)`` is *the* semantics of that condition, called by
the scalar engine per request and by the vector engine once per unique column value. The
weighted pick is the ``WeightTable``'s and the endpoint pick the ``Target``'s, shared the same
way.

Per client proxy (namespace, labels, gateway) and listener port, ``RoutePlan.table`` resolves
the request's host to an Envoy-style route table: virtual host selection, the VirtualService that
applies, the config-time match filters (``sourceLabels``, ``sourceNamespace``, ``gateways``,
``port``), and the DestinationRule lookup for each destination. Tables are cached.

Known differences from Envoy/Istio (documented, deliberate):
- ROUND_ROBIN is modelled as a uniform pick (Envoy keeps per-worker state with a random start).
- LEAST_REQUEST is modelled as uniform over the subset's pods (exact at low load).
- Consistent hashing maps a key to a pod with a stable hash, not Envoy's ring (same key →
  same pod within a subset, as in Envoy; which pod differs).
- Path normalisation (dot segments) is not applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from ._display import Displayable
from .errors import Diagnostic, Location
from .mesh import labels_match
from .request import Request, cookie, source_ip
from .weights import WeightTable

#: draw slots: each request gets independent 64-bit draws, one per purpose
DRAW_ROUTE, DRAW_ENDPOINT, DRAW_DELAY, DRAW_ABORT, DRAW_MIRROR0 = 0, 1, 2, 3, 4
PER_MILLION = 1_000_000

MatchKind = Literal["exact", "prefix", "regex", "present"]


# -- names and visibility: one implementation each, for the compiler, lookup and analyzers ----


def host_matches(pattern: str, host: str) -> bool:
    """Istio's host ``Matches``: exact, ``*`` or a ``*.suffix`` covering a deeper name."""
    if pattern == host or pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return False


def hosts_overlap(a: str, b: str) -> bool:
    """Istio's ``host.Name.Matches`` both ways: equal, or equal once wildcards are substituted."""
    if a == b:
        return True
    aw, bw = a.startswith("*"), b.startswith("*")
    if aw and bw:
        return a[1:].endswith(b[1:]) or b[1:].endswith(a[1:])
    if aw:
        return b.endswith(a[1:])
    if bw:
        return a.endswith(b[1:])
    return False


def visible(export_to: frozenset[str], owner_ns: str, client_ns: str) -> bool:
    """Istio's ``exportTo``: empty or ``*`` everywhere, ``~`` nowhere, ``.`` the owner's
    namespace, else the namespaces named."""
    if not export_to or "*" in export_to:
        return True
    if "~" in export_to:
        return False
    return client_ns in export_to or ("." in export_to and owner_ns == client_ns)


def export_scope(export_to: frozenset[str], owner_ns: str) -> frozenset[str]:
    """The namespaces ``exportTo`` names (``*`` = all, ``.`` resolved, ``~`` none)."""
    if not export_to or "*" in export_to:
        return frozenset({"*"})
    return frozenset(owner_ns if x == "." else x for x in export_to if x != "~")


def gateway_key(name: str, namespace: str) -> str:
    """A gateway reference as ``ns/name``: ``mesh`` stays, a bare name is in ``namespace``,
    the legacy ``name.ns`` form is turned around."""
    if name == "mesh" or "/" in name:
        return name
    if "." in name:
        gname, _, gns = name.partition(".")
        return f"{gns}/{gname}"
    return f"{namespace}/{name}"


@overload
def fires(draw: int, per_million: int, below: int = ...) -> bool: ...


@overload
def fires(draw: npt.NDArray[Any], per_million: int, below: int = ...) -> npt.NDArray[np.bool_]: ...


def fires(draw: Any, per_million: int, below: int = 1 << 64) -> Any:
    """Envoy's runtime fraction (fault delay/abort, mirror): ``draw % 10^6 < per_million``.

    The one rule for both engines: a Python int (scalar) or an unsigned array (vector).
    ``below``: an exclusive bound known for the draws (under 10^6 the modulo is a no-op).
    """
    return (draw if below <= PER_MILLION else draw % PER_MILLION) < per_million


def fire_probability(per_million: int) -> float:
    """The chance that ``fires`` holds for a uniform draw (the analytic mode's)."""
    return min(max(per_million, 0), PER_MILLION) / PER_MILLION


@dataclass(frozen=True, slots=True)
class Matcher:
    """One runtime condition of a match block.

    ``key`` names the request attribute: ``uri``, ``method``, ``scheme``, ``authority``,
    ``header:<name>`` (lower-cased) or ``query:<name>``. ``invert`` is a ``withoutHeaders``
    entry, for which a missing header counts as the empty string (semantics §0.9) unless the
    condition is a presence match.
    """

    key: str
    kind: MatchKind
    value: str = ""
    ignore_case: bool = False
    invert: bool = False
    regex: Any = None
    location: Location | None = None

    def test(self, value: str | None) -> bool:
        """Does this condition hold for an attribute value (None = absent)?"""
        if value is None:
            if self.invert and self.kind != "present":
                value = ""
            else:
                return self.invert
        if self.kind == "exact":
            ok = value.lower() == self.value.lower() if self.ignore_case else value == self.value
        elif self.kind == "prefix":
            ok = (
                value.lower().startswith(self.value.lower())
                if self.ignore_case
                else value.startswith(self.value)
            )
        elif self.kind == "regex":
            ok = self.regex.fullmatch(value) is not None
        else:
            ok = True
        return ok != self.invert

    def describe(self) -> str:
        what = self.key.replace("header:", "header ").replace("query:", "query param ")
        if self.kind == "present":
            cond = "is present"
        else:
            cond = f"{self.kind} {self.value!r}" + (" (ignoring case)" if self.ignore_case else "")
        return f"{'without ' if self.invert else ''}{what} {cond}"


@dataclass(frozen=True, slots=True)
class SourceCondition:
    """The config-time part of a match: which proxies and listener port the route exists on.

    Istio's ``sourceMatchHTTP``: when the match names ``gateways`` only they count; otherwise
    the client's labels must include ``sourceLabels`` and its namespace equal
    ``sourceNamespace``. ``port`` keeps the route to the listener of that port.
    """

    gateways: frozenset[str] = frozenset()
    source_labels: tuple[tuple[str, str], ...] = ()
    source_namespace: str | None = None
    port: int | None = None

    def failure(self, ctx: ProxyContext, listener_port: int | None) -> str | None:
        """Why the route is not generated for this proxy and port, or None when it is."""
        if self.port is not None and listener_port != self.port:
            return f"port {self.port} != listener port {listener_port}"
        if self.gateways:
            where = ctx.gateway or "mesh"
            if where not in self.gateways:
                return f"match gateways {sorted(self.gateways)} do not include {where}"
            return None
        if not labels_match(dict(self.source_labels), dict(ctx.labels)):
            return f"sourceLabels {dict(self.source_labels)} not a subset of the client's labels"
        if self.source_namespace is not None and self.source_namespace != ctx.namespace:
            return f"sourceNamespace {self.source_namespace} != client namespace {ctx.namespace}"
        return None

    def __bool__(self) -> bool:
        return bool(self.gateways or self.source_labels or self.source_namespace or self.port)


@dataclass(frozen=True, slots=True)
class ProxyContext:
    """The client proxy: its namespace, its pod labels, and the gateway (None = sidecar)."""

    namespace: str = "default"
    labels: tuple[tuple[str, str], ...] = ()
    gateway: str | None = None


@dataclass(frozen=True, slots=True)
class HeaderOps:
    """Header operations of a route or destination: set, add (append), remove."""

    set: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.set or self.add or self.remove)

    def then(self, other: HeaderOps) -> HeaderOps:
        """These operations followed by ``other`` (a later ``set`` wins)."""
        return HeaderOps(self.set + other.set, self.add + other.add, self.remove + other.remove)

    def apply(self, headers: Mapping[str, str]) -> dict[str, str]:
        out = dict(headers)
        for k in self.remove:
            out.pop(k.lower(), None)
        for k, v in self.set:
            out[k.lower()] = v
        for k, v in self.add:
            key = k.lower()
            out[key] = f"{out[key]},{v}" if key in out else v
        return out


@dataclass(frozen=True, slots=True)
class DestinationSpec:
    """A route destination as configured: FQDN (resolved in the VS namespace), subset, port."""

    host: str
    subset: str | None
    port: int | None
    headers_request: HeaderOps = HeaderOps()
    headers_response: HeaderOps = HeaderOps()
    location: Location | None = None
    #: where it is written (``("spec", "http", 0, "route", 1, "destination")``), for analyzers
    field_path: tuple[str | int, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Fault:
    """A route's fault injection: a delay and an abort, each firing per million requests."""

    delay_ms: int | None = None
    delay_per_million: int = 0
    abort_status: int | None = None
    abort_grpc: str | None = None
    abort_per_million: int = 0
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class MirrorSpec:
    """One mirror of a route: its destination and the share it copies, per million."""

    destination: DestinationSpec
    per_million: int = PER_MILLION


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A route's rewrite: the uri (or a regex over it) and the authority."""

    uri: str | None = None
    authority: str | None = None
    regex: Any = None
    regex_substitution: str | None = None


@dataclass(frozen=True, slots=True)
class Forward:
    """A route that forwards: weighted destinations and what the route does on the way."""

    destinations: tuple[DestinationSpec, ...]
    weights: WeightTable
    rewrite: Rewrite | None = None
    headers_request: HeaderOps = HeaderOps()
    headers_response: HeaderOps = HeaderOps()
    fault: Fault | None = None
    mirrors: tuple[MirrorSpec, ...] = ()
    timeout: str | None = None
    retries: Mapping[str, Any] | None = None
    cors: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Redirect:
    """A route answered with a redirect (``redirect``)."""

    uri: str | None = None
    authority: str | None = None
    scheme: str | None = None
    port: int | None = None
    derive_port: str | None = None
    status: int = 301
    #: ``redirect.prefixRewrite``, and the uri prefix its match block matched ("/" without one)
    prefix_rewrite: str | None = None
    matched_prefix: str = "/"
    #: the route's ``headers.response`` (Envoy applies them to the redirect reply too)
    headers_response: HeaderOps = HeaderOps()
    #: a Gateway server's ``tls.httpsRedirect`` (Envoy's ``SslRedirector``): ``https://`` +
    #: the Host as sent, port included, + path and query
    https_redirect: bool = False


@dataclass(frozen=True, slots=True)
class DirectResponse:
    """A route answered by the proxy itself (``directResponse``)."""

    status: int
    body: str | None = None
    #: the route's ``headers.response`` (applied to the local reply)
    headers_response: HeaderOps = HeaderOps()


Action = Forward | Redirect | DirectResponse


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One Envoy route: one match block of one http rule (Istio emits one per block)."""

    rule: int
    match: int | None
    matchers: tuple[Matcher, ...]
    source: SourceCondition
    action: Action
    rule_name: str | None = None
    match_name: str | None = None
    uri_prefix: str | None = None  # matched prefix, for rewrite.uri
    uri_kind: str | None = None
    location: Location | None = None
    fault: Fault | None = None
    #: ``ns/name`` of the delegate VirtualService this entry was merged from, if any
    delegate: str | None = None

    @property
    def is_catch_all(self) -> bool:
        """Istio's ``IsCatchAllRoute``: prefix ``/`` (no uri condition) or uri regex ``.*``,
        and no header or query condition (method, scheme, authority are header matchers)."""
        if not self.matchers:
            return True
        (m, *rest) = self.matchers
        return not rest and m.key == "uri" and m.kind == "regex" and m.value == ".*"


@dataclass(frozen=True, slots=True)
class CompiledVirtualService:
    """A VirtualService compiled: its hosts, gateways, scope and route entries."""

    namespace: str
    name: str
    hosts: tuple[str, ...]
    gateways: frozenset[str]
    export_to: frozenset[str]
    entries: tuple[RouteEntry, ...]
    order: int = 0
    location: Location | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class LbPolicy:
    """The load-balancer policy of a cluster (semantics §3)."""

    simple: str = "LEAST_REQUEST"
    hash_on: tuple[str, str] | None = None  # ("header"|"cookie"|"query"|"source_ip", name)

    def hash_source(self) -> tuple[str, Callable[[Any], Any] | None] | None:
        """The request attribute the consistent hash reads (``request.attribute_source``
        keys) and the function of it that gives the key; None without a usable hash."""
        if self.hash_on is None:
            return None
        kind, name = self.hash_on
        if kind == "header":
            return f"header:{name.lower()}", None
        if kind == "query":
            return f"query:{name}", None
        if kind == "cookie":
            return "header:cookie", lambda v: cookie(v, name)
        if kind == "source_ip":
            return "source", source_ip
        return None

    def describe(self) -> str:
        if self.hash_on:
            kind, name = self.hash_on
            return f"consistentHash on {kind} {name}".rstrip()
        return self.simple


@dataclass(frozen=True, slots=True)
class SubsetSpec:
    """A DestinationRule subset: its pod labels and load-balancing policies."""

    name: str
    labels: tuple[tuple[str, str], ...]
    lb: LbPolicy | None = None
    port_lb: tuple[tuple[int, LbPolicy], ...] = ()
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class CompiledDestinationRule:
    """A DestinationRule compiled: its host, scope, subsets and policies."""

    namespace: str
    name: str
    host: str
    export_to: frozenset[str]
    subsets: tuple[SubsetSpec, ...]
    lb: LbPolicy | None = None
    port_lb: tuple[tuple[int, LbPolicy], ...] = ()
    order: int = 0
    location: Location | None = None
    has_policy: bool = False  # a top-level trafficPolicy was written (merge: first one wins)

    def subset(self, name: str) -> SubsetSpec | None:
        for s in self.subsets:
            if s.name == name:
                return s
        return None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One pod behind a service: its name, workload and labels."""

    pod: str
    workload: str
    labels: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A Service or ServiceEntry host: its ports, endpoints and export scope."""

    fqdn: str
    name: str
    namespace: str
    ports: tuple[int, ...]
    endpoints: tuple[Endpoint, ...]
    kind: str = "Service"
    export_to: frozenset[str] = frozenset({"*"})
    #: ``spec.clusterIP`` (``"None"`` = headless) of a Kubernetes Service
    cluster_ip: str | None = None
    #: an ExternalName Service: the host it aliases (no listener, cluster or vhost of its own)
    alias_of: str | None = None


Status = Literal["OK", "NC", "UH"]


@dataclass(frozen=True, slots=True)
class Target:
    """A destination resolved for one client: its cluster, its pods and its LB policy."""

    host: str
    subset: str | None
    port: int | None
    cluster: str
    status: Status
    endpoints: tuple[Endpoint, ...]
    lb: LbPolicy
    spec: DestinationSpec | None = None
    destination_rule: str | None = None
    reason: str = ""

    def hash_key(self, request: Request) -> str | None:
        """The consistent-hash key of a request (``LbPolicy.hash_source``); None = no hash."""
        src = self.lb.hash_source()
        if src is None:
            return None
        key, derive = src
        value = request.attribute(key)
        return derive(value) if derive is not None else value  # type: ignore[no-any-return]

    def endpoint_index(self, draw: int, key: str | None) -> int:
        """Which pod: hashed key within the subset, else uniform by the endpoint draw."""
        n = len(self.endpoints)
        if key is not None:
            return stable_hash(key) % n
        return int(draw) % n

    def endpoint_indexes(
        self, draws: npt.NDArray[np.uint64], keys: npt.NDArray[np.int64] | None
    ) -> npt.NDArray[np.intp]:
        """Vector form of ``endpoint_index``: ``keys`` are precomputed stable hashes or -1."""
        n = np.uint64(len(self.endpoints))
        idx = (draws % n).astype(np.intp)
        if keys is not None:
            hashed = keys >= 0
            idx[hashed] = (keys[hashed].astype(np.uint64) % n).astype(np.intp)
        out: npt.NDArray[np.intp] = idx
        return out


def stable_hash(key: str) -> int:
    """A hash that does not change between processes (Python's ``hash`` is salted)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") >> 1


@dataclass(frozen=True, slots=True)
class ResolvedEntry:
    """A route entry of a route table, with its targets and mirrors resolved."""

    entry: RouteEntry
    virtual_service: CompiledVirtualService
    targets: tuple[Target, ...] = ()
    mirrors: tuple[tuple[Target, int], ...] = ()


@dataclass(frozen=True, slots=True)
class CompiledServer:
    """One server of a Gateway: its port (the number VirtualServices' ``match.port`` sees),
    protocol, hosts as (namespace filter, dnsName) with ``*`` = any namespace, and whether it
    answers plain HTTP with a 301 to https (``tls.httpsRedirect``)."""

    port: int
    protocol: str
    hosts: tuple[tuple[str, str], ...]
    https_redirect: bool = False
    tls_mode: str | None = None

    @property
    def is_http(self) -> bool:
        """Does Envoy route HTTP on it? HTTP/HTTP2/GRPC, and HTTPS unless TLS passes through."""
        proto = self.protocol.upper()
        if proto in ("HTTP", "HTTP2", "GRPC", "GRPC-WEB"):
            return True
        return proto == "HTTPS" and self.tls_mode not in ("PASSTHROUGH", "AUTO_PASSTHROUGH")


@dataclass(frozen=True, slots=True)
class CompiledGateway:
    """A ``networking.istio.io`` Gateway: which gateway pods it configures (``selector``) and
    its servers. ``order``: Istio's config order (oldest first)."""

    namespace: str
    name: str
    selector: tuple[tuple[str, str], ...]
    servers: tuple[CompiledServer, ...]
    order: int = 0
    location: Location | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class CompiledSidecar:
    """A Sidecar resource: which proxies it scopes (``selector``; empty = the namespace
    default) and what they see: egress hosts as (namespace, dnsName) with ``*`` = any
    namespace, ``.`` = the proxy's, and exclusions (``~ns/host``) apart."""

    namespace: str
    name: str
    selector: tuple[tuple[str, str], ...]
    hosts: tuple[tuple[str, str], ...]
    excluded: tuple[tuple[str, str], ...] = ()
    outbound_policy: str | None = None
    order: int = 0
    #: the egress listeners in order: (port or None for the port-less catch-all, hosts,
    #: exclusions); ``hosts``/``excluded`` above are their union
    listeners: tuple[
        tuple[int | None, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]], ...
    ] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class RouteTable:
    """What one client proxy's Envoy holds for one host and port (semantics §1.1)."""

    host: str
    port: int | None
    service: ServiceInfo | None
    entries: tuple[ResolvedEntry, ...] = ()
    virtual_services: tuple[CompiledVirtualService, ...] = ()
    default: Target | None = None
    skipped: tuple[tuple[RouteEntry, str], ...] = ()
    notes: tuple[str, ...] = ()
    passthrough: bool = False


@dataclass(frozen=True, repr=False)
class RoutePlan(Displayable):
    """The compiled configuration. Immutable; route tables are resolved lazily and cached.
    ``explain()`` prints its rule table."""

    services: Mapping[str, ServiceInfo]
    virtual_services: tuple[CompiledVirtualService, ...]
    destination_rules: tuple[CompiledDestinationRule, ...]
    workload_labels: Mapping[tuple[str, str], tuple[tuple[str, str], ...]] = field(
        default_factory=dict
    )
    domain: str = "cluster.local"
    root_namespace: str = "istio-system"
    diagnostics: tuple[Diagnostic, ...] = ()
    n_draws: int = DRAW_MIRROR0
    #: delegate VirtualServices (no hosts) compiled on their own: never routed, analyzed
    delegates: tuple[CompiledVirtualService, ...] = ()
    #: Gateways (``networking.istio.io``), oldest first
    gateways: tuple[CompiledGateway, ...] = ()
    #: Sidecar resources, oldest first
    sidecars: tuple[CompiledSidecar, ...] = ()
    #: the mesh's ``outboundTrafficPolicy.mode`` (ALLOW_ANY or REGISTRY_ONLY)
    outbound_policy: str = "ALLOW_ANY"
    #: how VirtualServices claiming one host are ordered: "creationTimestamp" (Istio's config
    #: sort: oldest, then name, then namespace) or "file order" (no object has a timestamp)
    vs_precedence: str = "file order"
    #: every name a Service answers to (``name``, ``name.ns``, ``name.ns.svc``, the FQDN) →
    #: the services with that name, in plan order; built once with the plan (``lookup``)
    names: Mapping[str, tuple[ServiceInfo, ...]] = field(init=False, compare=False, repr=False)
    #: DestinationRule host → positions in ``destination_rules`` (wildcard hosts under ``*``);
    #: built once with the plan (``lookup.destination_rule_index``)
    dr_index: Mapping[str, tuple[int, ...]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        from .lookup import destination_rule_index, service_names

        object.__setattr__(self, "names", service_names(self.services))
        object.__setattr__(self, "dr_index", destination_rule_index(self.destination_rules))

    # -- public lookups ------------------------------------------------------------------------

    def context(
        self,
        namespace: str = "default",
        labels: Mapping[str, str] | None = None,
        workload: str | None = None,
        gateway: str | None = None,
    ) -> ProxyContext:
        """The client proxy: labels given, else those of the named workload."""
        lab: dict[str, str] = {}
        if workload is not None:
            lab.update(self.workload_labels.get((namespace, workload), ()))
        lab.update(labels or {})
        gw = None if gateway in (None, "", "mesh") else gateway_key(str(gateway), namespace)
        return ProxyContext(namespace, tuple(sorted(lab.items())), gw)

    def with_mesh_config(
        self, outbound_policy: str | None = None, root_namespace: str | None = None
    ) -> RoutePlan:
        """This plan under another mesh config: ``outboundTrafficPolicy.mode`` (ALLOW_ANY or
        REGISTRY_ONLY) and ``rootNamespace`` (where the mesh-wide Sidecar and
        DestinationRules live)."""
        import dataclasses

        if outbound_policy not in (None, "ALLOW_ANY", "REGISTRY_ONLY"):
            from .errors import InvalidArgument

            raise InvalidArgument(
                f"outboundTrafficPolicy mode must be ALLOW_ANY or REGISTRY_ONLY, got {outbound_policy!r}"
            )
        return dataclasses.replace(
            self,
            outbound_policy=outbound_policy or self.outbound_policy,
            root_namespace=root_namespace or self.root_namespace,
        )

    def sidecar(self, namespace: str) -> ProxyContext:
        """The context of a plain sidecar (no labels) in ``namespace``."""
        return ProxyContext(namespace)

    def table(self, host: str, port: int | None, ctx: ProxyContext) -> RouteTable:
        """The route table a proxy uses for a request to ``host`` on ``port``, resolved anew:
        the engines keep the tables they resolve on their own caches (``ScalarCache``,
        ``Router``), which belong to whoever keeps the plan."""
        from .lookup import resolve_table  # the lookup rules are a module of their own

        return resolve_table(self, host, port, ctx)

    @property
    def max_mirrors(self) -> int:
        return max(0, self.n_draws - DRAW_MIRROR0)

    def explain(self) -> str:
        """The rule table: each VirtualService's entries in order, with their conditions,
        weighted destinations and file:line, then the DestinationRules' subsets."""
        from .rule_table import explain

        return explain(self)

    def __repr__(self) -> str:
        from .rule_table import summary

        return f"<{summary(self)}>"

    # ---- display (istiosim.display): the rule table, one row per route entry ----

    def _table(self) -> Any:
        from .display.objects import plan_table

        return plan_table(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self) if cycle else self.explain())
