"""What Istio's admission webhook refuses or warns about: small validators in ordered tables.

Each validator checks one concern of one object and reports through a ``Collector``; the
tables below list them in the order the webhook (``pkg/config/validation``) reports, the way
sqlglot orders its optimizer rules. ``validate(config)`` runs them over every object, so the
translators after it may trust what they read. Semantics §5.1–5.2.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import re2

from .. import config as cfg
from ..errors import Diagnostic
from ..loader import ConfigSet
from ..mesh import resolve_short_name
from ..plan import hosts_overlap, visible
from .collector import Collector, Path, collector

LABEL = re.compile(r"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$")
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_MS = {
    "ns": Fraction(1, 10**6),
    "us": Fraction(1, 1000),
    "µs": Fraction(1, 1000),
    "ms": Fraction(1),
    "s": Fraction(1000),
    "m": Fraction(60_000),
    "h": Fraction(3_600_000),
}
HEADER_NAME = re.compile(r"^:?[-!#$%&'*+.^_`|~0-9a-zA-Z]+$")
_K8S_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
MAX_REGEX_LEN = 1024
INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1
_CORS_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
GRPC_CODES = frozenset(
    [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ]
)
_RETRY_ON = frozenset(
    [
        "5xx",
        "gateway-error",
        "reset",
        "connect-failure",
        "retriable-4xx",
        "refused-stream",
        "retriable-status-codes",
        "retriable-headers",
        "envoy-ratelimited",
        "http3-post-connect-failure",
        "reset-before-request",
        "cancelled",
        "deadline-exceeded",
        "internal",
        "resource-exhausted",
        "unavailable",
    ]
)


# -- values shared by several validators ---------------------------------------------------------


def parse_duration_ms(text: str) -> float | None:
    """Go duration (``1.5s``, ``100ms``, ``1h2m``) → milliseconds; None when malformed.
    Summed exactly (``1.005s`` is 1005 ms, not 1004.999…), for the compiler and case files."""
    if not isinstance(text, str) or not _DURATION.match(text):
        return None
    return float(
        sum((Fraction(n) * _UNIT_MS[u] for n, u in _DURATION_PART.findall(text)), Fraction(0))
    )


def duration_problem(text: str, what: str = "duration") -> str | None:
    """Istio's ``ValidateDuration``: at least 1ms, whole milliseconds. None when fine."""
    ms = parse_duration_ms(text)
    if ms is None or ms < 1:
        return f"invalid {what} {text!r} (at least 1ms)"
    if abs(ms - round(ms)) > 1e-9:
        return f"invalid {what} {text!r}: only durations to ms precision are supported"
    return None


def valid_host(host: str) -> bool:
    """A (wildcard-prefixed) DNS name of labels, or an IP address."""
    if host == "*":
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host[2:] if host.startswith("*.") else host
    if not name or len(host) > 255:
        return False
    return all(len(p) <= 63 and LABEL.match(p) for p in name.split("."))


def mesh_bound(spec: cfg.VirtualServiceSpec) -> bool:
    """A VirtualService without gateways, or naming ``mesh``, applies on sidecars."""
    return not spec.gateways or "mesh" in spec.gateways


@dataclass
class Site:
    """Where a validator looks: the object's collector, namespace and field path."""

    col: Collector
    ns: str
    path: Path = ()
    domain: str = "cluster.local"
    #: every VirtualService by (namespace, name), for delegate lookups; None inside a delegate
    by_key: dict[tuple[str, str], cfg.VirtualService] | None = None
    #: compiled regexes by pattern, shared with the translators
    regexes: dict[str, Any] = field(default_factory=dict)

    def at(self, *more: str | int) -> Site:
        return Site(self.col, self.ns, (*self.path, *more), self.domain, self.by_key, self.regexes)


def compile_regex(pattern: str, site: Site) -> Any:
    """RE2 (Envoy's engine): full-match semantics, ≤1024 characters, no look-around."""
    col, path = site.col, site.path
    if pattern == "":
        col.error("regex match must not be empty", path)
        return None
    if len(pattern) > MAX_REGEX_LEN:
        col.error(f"regex is {len(pattern)} characters; the limit is {MAX_REGEX_LEN}", path)
        return None
    hit = site.regexes.get(pattern)
    if hit is not None:
        return hit
    try:
        rx = site.regexes[pattern] = re2.compile(pattern, options=_RE2_OPTIONS)
        return rx
    except re2.error as exc:
        msg = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        # shown as written (a repr would double every backslash)
        hint = (
            " (a presence match is written {}; only withoutHeaders accepts regex '*')"
            if pattern == "*"
            else ""
        )
        col.error(f"invalid RE2 regex `{pattern}`: {msg}{hint}", path)
        return None


def string_match(
    key: str,
    sm: cfg.StringMatch | None,
    site: Site,
    *,
    allow_empty_prefix: bool = False,
    star_is_presence: bool = False,
) -> None:
    """One StringMatch: one of exact/prefix/regex, no empty prefix, a valid RE2 regex.

    ``regex: "*"`` is a presence match only under ``withoutHeaders``: the webhook compiles
    every other regex with Go's RE2 first and refuses ``*``
    (pkg/config/validation/virtualservice.go ``validateHTTPRouteMatchRequest`` →
    ``validateStringMatchRegexp``), and never validates ``withoutHeaders``.
    """
    col, path = site.col, site.path
    if sm is None:
        what = f"header match {key[7:]!r}" if key.startswith("header:") else f"{key} match"
        col.error(f"{what} cannot be null", path)
        return
    set_ = [k for k in ("exact", "prefix", "regex") if getattr(sm, k) is not None]
    if len(set_) > 1:
        col.error(
            f"only one of exact, prefix, regex may be set (got {', '.join(set_)})",
            (*path, col.written_last(path, set_)),
        )
        return
    if not set_ or (sm.regex == "*" and star_is_presence):
        return
    if set_[0] == "prefix" and sm.prefix == "" and not allow_empty_prefix:
        col.error("prefix match must not be empty", (*path, "prefix"))
    elif set_[0] == "regex":
        compile_regex(sm.regex or "", site.at("regex"))


def labels(values: dict[str, str], site: Site) -> None:
    """Kubernetes label keys (``[prefix/]name``) and values, as ``labels.Instance.Validate``."""
    for k, v in values.items():
        prefix, _, name = k.rpartition("/")
        if (
            not name
            or len(name) > 63
            or not _LABEL_NAME.match(name)
            or (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)))
        ):
            site.col.error(f"invalid label key {k!r}", (*site.path, k))
        elif len(v) > 63 or not _K8S_LABEL_VALUE.match(v):
            site.col.error(f"invalid label value {v!r} for {k!r}", (*site.path, k))


def export_to(values: list[str], site: Site) -> None:
    seen: set[str] = set()
    for i, e in enumerate(values):
        if e in seen:
            site.col.error(f"duplicate entry {e!r} in exportTo", (*site.path, i))
        seen.add(e)
        if e not in ("*", ".", "~") and not DNS1123.match(e):
            site.col.error(f"invalid exportTo namespace {e!r}", (*site.path, i))
    if "*" in seen and len(seen) > 1:
        site.col.error("exportTo '*' must be the only entry", site.path)


def gateway_name(g: str, site: Site) -> None:
    """Istio's ``validateGatewayNames``: ``ns/name`` of DNS-1123 labels, or a legacy FQDN."""
    col, path = site.col, site.path
    if g == "mesh":
        return
    if "/" not in g:
        if not all(LABEL.match(p) for p in g.split(".")) or len(g) > 255:
            col.error(f"invalid gateway name {g!r}", path)
        elif "." in g:
            parts = g.split(".")
            col.warn(
                f"using legacy gatewayName format {g!r}; prefer the <namespace>/<name> "
                f"format: '{parts[1]}/{parts[0]}'",
                path,
            )
        return
    gns, _, name = g.partition("/")
    if not gns or not name:
        col.error("config namespace and gateway name cannot be empty", path)
    elif not DNS1123.match(gns) or len(gns) > 63:
        col.error(f"invalid value for namespace: {gns!r} (gateway {g!r})", path)
    elif not DNS1123.match(name) or len(name) > 63:
        col.error(f"invalid value for gateway name: {name!r} (gateway {g!r})", path)


def header_operations(h: cfg.Headers | None, site: Site) -> None:
    """Header names and values a route may set, add or remove (``ValidateHTTPHeader*``)."""
    if h is None:
        return
    col, path = site.col, site.path
    for side in ("request", "response"):
        ops = getattr(h, side)
        if ops is None:
            continue
        for op in ("set", "add"):
            for name, value in getattr(ops, op).items():
                hp = (*path, side, op, name)
                lname = name.lower()
                if not name:
                    col.error("header name must not be empty", hp)
                elif lname.startswith(":") and not (side == "request" and lname == ":authority"):
                    col.error(f"invalid header {name!r}: pseudo headers cannot be modified", hp)
                elif lname == "host" and side == "response":
                    col.error("the host header cannot be modified on responses", hp)
                if any((ord(c) < 32 and c != "\t") or c == "\x7f" for c in value):
                    col.error(f"header {name!r} value contains control characters", hp)
                elif value.count("%") % 2:
                    col.error(
                        f"header {name!r} value {value!r}: single % not allowed; escape by "
                        "doubling to %% or encase an Envoy variable name in a pair of %",
                        hp,
                    )
        for i, name in enumerate(ops.remove):
            if not name or name.lower() == "host" or name.startswith(":"):
                col.error(f"invalid header to remove {name!r}", (*path, side, "remove", i))


def destination(d: cfg.Destination | None, site: Site) -> bool:
    """A route's or mirror's destination: host, subset name and port. False when refused."""
    col, path = site.col, site.path
    if d is None:
        col.error("destination is required", path)
        return False
    ok = True
    if not d.host or d.host == "*" or not valid_host(d.host):
        col.error(f"invalid destination host {d.host!r}", (*path, "host"))
        ok = False
    if d.subset is not None and (len(d.subset) > 63 or not LABEL.match(d.subset)):
        col.error(f"invalid subset name {d.subset!r}: must be a DNS-1123 label", (*path, "subset"))
        ok = False
    port = d.port.number if d.port is not None else None
    if port is not None and not (0 < port < 65536):
        col.error(f"port {port} must be in 1-65535", (*path, "port", "number"))
        ok = False
    return ok


def percentage(p: cfg.Percent | None, site: Site) -> None:
    if p is not None and p.value != 0 and not (0.0001 <= p.value <= 100):
        site.col.error(f"percentage {p.value} must be 0 or in [0.0001, 100]", (*site.path, "value"))


# -- VirtualService ------------------------------------------------------------------------------


def vs_hosts(vs: cfg.VirtualService, site: Site) -> None:
    """Valid, no ``*`` on the mesh, no duplicates as written (``host.Name.Matches``)."""
    spec, col = vs.spec, site.col
    all_valid = True
    for i, h in enumerate(spec.hosts):
        if not valid_host(h):
            col.error(f"invalid host {h!r}", ("spec", "hosts", i))
            all_valid = False
        elif h == "*" and mesh_bound(spec):
            col.error(
                "wildcard host * is not allowed for virtual services bound to the mesh gateway",
                ("spec", "hosts", i),
            )
            all_valid = False
    resolved: list[str] = []
    for i, h in enumerate(spec.hosts):
        earlier = next((e for e in spec.hosts[:i] if hosts_overlap(e, h)), None)
        if all_valid and earlier is not None:
            col.error(f"duplicate hosts in virtual service: {earlier} & {h}", ("spec", "hosts", i))
            continue
        r = resolve_short_name(h, site.ns, site.domain)
        if r in resolved:
            col.warn(
                f"host {h!r} names the same service as an earlier host ({r})", ("spec", "hosts", i)
            )
            continue
        resolved.append(r)


def vs_gateways(vs: cfg.VirtualService, site: Site) -> None:
    for i, g in enumerate(vs.spec.gateways):
        gateway_name(g, Site(site.col, site.ns, ("spec", "gateways", i)))


def vs_jwt_claims_on_mesh(vs: cfg.VirtualService, site: Site) -> None:
    """JWT claim matches need a gateway's RequestAuthentication; sidecars cannot do them."""
    if not mesh_bound(vs.spec):
        return
    for i, r in enumerate(vs.spec.http):
        for j, m in enumerate(r.match if r is not None else ()):
            for field_name, mapping in (
                ("headers", m.headers),
                ("withoutHeaders", m.without_headers),
            ):
                for key in mapping:
                    if key.startswith("@request.auth.claims"):
                        site.col.error(
                            f"JWT claim based routing (key: {key}) is only supported for "
                            "gateway, found no gateways",
                            ("spec", "http", i, "match", j, field_name, key),
                        )


def vs_has_routes(vs: cfg.VirtualService, site: Site) -> None:
    if not vs.spec.http and not vs.spec.tcp and not vs.spec.tls:
        site.col.error("http, tcp or tls must be provided in virtual service", ("spec",))


def vs_export_to(vs: cfg.VirtualService, site: Site) -> None:
    export_to(vs.spec.export_to, site.at("spec", "exportTo"))


def vs_http_routes(vs: cfg.VirtualService, site: Site) -> None:
    for i, r in enumerate(vs.spec.http):
        at = site.at("spec", "http", i)
        if r is None:
            site.col.error("http route must not be null", at.path)
            continue
        for rule in HTTP_ROUTE:
            rule(r, at)


def delegate_no_gateways(vs: cfg.VirtualService, site: Site) -> None:
    if vs.spec.gateways:
        site.col.error(
            "delegate VirtualService (no hosts) must not have gateways", ("spec", "gateways")
        )


def delegate_no_tcp_tls(vs: cfg.VirtualService, site: Site) -> None:
    for kind in ("tcp", "tls"):
        if getattr(vs.spec, kind):
            site.col.error(
                f"delegate VirtualService (no hosts) must not have {kind} routes", ("spec", kind)
            )


def delegate_not_nested(vs: cfg.VirtualService, site: Site) -> None:
    for i, r in enumerate(vs.spec.http):
        if r is not None and r.delegate is not None:
            site.col.error(
                "a delegate VirtualService's routes cannot delegate again",
                ("spec", "http", i, "delegate"),
            )


# -- HTTP route ----------------------------------------------------------------------------------


def route_one_action(r: cfg.HTTPRoute, site: Site) -> None:
    kinds = [
        k
        for k, v in (
            ("route", r.route),
            ("redirect", r.redirect),
            ("directResponse", r.direct_response),
            ("delegate", r.delegate),
        )
        if v
    ]
    if len(kinds) != 1:
        what = "none" if not kinds else ", ".join(kinds)
        where = site.path if not kinds else (*site.path, site.col.written_last(site.path, kinds))
        site.col.error(
            f"exactly one of route, redirect, directResponse or delegate must be set (got {what})",
            where,
        )


def route_redirect_alone(r: cfg.HTTPRoute, site: Site) -> None:
    """A redirect or direct response cannot carry a fault or a rewrite."""
    if r.redirect or r.direct_response:
        other = "redirect" if r.redirect else "directResponse"
        for extra, val in (("fault", r.fault), ("rewrite", r.rewrite)):
            if val is not None:
                site.col.error(
                    f"HTTP route cannot contain both {extra} and {other}", (*site.path, extra)
                )


def route_authority_once(r: cfg.HTTPRoute, site: Site) -> None:
    """Istio's ``validateAuthorityRewrite``: the authority may be rewritten in one place."""
    current = r.rewrite.authority if r.rewrite is not None else None
    req = r.headers.request if r.headers is not None else None
    if req is None:
        return
    for op in ("set", "add"):
        for name, value in getattr(req, op).items():
            if name.lower() not in (":authority", "host"):
                continue
            if current:
                site.col.error(
                    f"authority header cannot be set multiple times: have {current!r}, "
                    f"attempting to set {value!r}",
                    (*site.path, "headers", "request", op, name),
                )
                return
            current = value


def route_one_mirror_field(r: cfg.HTTPRoute, site: Site) -> None:
    if r.mirror is not None and r.mirrors:
        site.col.error("mirror and mirrors cannot both be set", (*site.path, "mirrors"))


def route_timeout(r: cfg.HTTPRoute, site: Site) -> None:
    if r.timeout is not None:
        problem = duration_problem(r.timeout)
        if problem:
            site.col.error(problem, (*site.path, "timeout"))


def route_retries(r: cfg.HTTPRoute, site: Site) -> None:
    rt = r.retries
    if rt is None:
        return
    col, path = site.col, (*site.path, "retries")
    if rt.attempts is not None and rt.attempts < 0:
        col.error("attempts cannot be negative", (*path, "attempts"))
    extra = [
        name
        for name, val in (
            ("perTryTimeout", rt.per_try_timeout),
            ("retryOn", rt.retry_on),
            ("retryRemoteLocalities", rt.retry_remote_localities),
        )
        if val is not None and val != ""
    ]
    if rt.attempts == 0 and extra:
        col.error(
            f"http retry policy configured when attempts are set to 0 (disabled): {extra[0]}",
            (*path, extra[0]),
        )
    for key, name in (("per_try_timeout", "perTryTimeout"), ("backoff", "backoff")):
        val = getattr(rt, key)
        if val is not None:
            problem = duration_problem(val)
            if problem:
                col.error(problem, (*path, name))
    if rt.retry_on:
        for tok in rt.retry_on.split(","):
            tok = tok.strip()
            if tok not in _RETRY_ON and not (tok.isdigit() and 100 <= int(tok) <= 599):
                col.error(f"{tok!r} is not a valid retryOn policy", (*path, "retryOn"))


def route_fault(r: cfg.HTTPRoute, site: Site) -> None:
    f = r.fault
    if f is None:
        return
    col, path = site.col, (*site.path, "fault")
    if f.delay is None and f.abort is None:
        col.error("fault must have an abort and/or a delay", path)
        return
    if f.delay is not None:
        d, dp = f.delay, (*path, "delay")
        if d.exponential_delay is not None:
            col.error("exponentialDelay is not supported", (*dp, "exponentialDelay"))
        elif d.fixed_delay is None:
            # Istio accepts it; istiod then emits no delay (it only translates fixedDelay)
            col.warn("delay has no fixedDelay: no delay is injected", dp)
        if d.fixed_delay is not None:
            problem = duration_problem(d.fixed_delay, "fixedDelay")
            if problem:
                col.error(problem, (*dp, "fixedDelay"))
        if d.percent and not (0 <= d.percent <= 100):
            col.error("percent must be in [0, 100]", (*dp, "percent"))
        percentage(d.percentage, Site(col, site.ns, (*dp, "percentage")))
    if f.abort is not None:
        a, ap = f.abort, (*path, "abort")
        if a.http2_error is not None:
            col.error("http2Error is not supported", (*ap, "http2Error"))
        if a.http_status is not None and a.grpc_status is not None:
            col.error("only one of httpStatus and grpcStatus may be set", ap)
        if a.http_status is not None and not (200 <= a.http_status <= 600):
            col.error(f"httpStatus {a.http_status} must be in 200-600", (*ap, "httpStatus"))
        if a.grpc_status is not None and a.grpc_status not in GRPC_CODES:
            col.error(f"unknown grpcStatus {a.grpc_status!r}", (*ap, "grpcStatus"))
        if a.http_status is None and a.grpc_status is None and a.http2_error is None:
            col.warn("abort has no error type", ap)
        percentage(a.percentage, Site(col, site.ns, (*ap, "percentage")))


def route_rewrite(r: cfg.HTTPRoute, site: Site) -> None:
    rw = r.rewrite
    if rw is None:
        return
    col, path = site.col, (*site.path, "rewrite")
    if rw.uri is not None and rw.uri_regex_rewrite is not None:
        col.error("rewrite may set uri or uriRegexRewrite, not both", (*path, "uriRegexRewrite"))
        return
    if rw.uri is None and rw.authority is None and rw.uri_regex_rewrite is None:
        col.error("rewrite must specify uri, uriRegexRewrite or authority", path)
        return
    rr = rw.uri_regex_rewrite
    if rr is not None:
        if not rr.match or not rr.rewrite:
            missing = "match" if not rr.match else "rewrite"
            where: Path = (*path, "uriRegexRewrite")
            if (*where, missing) in col.source.locations:
                where = (*where, missing)  # written, but empty
            col.error(f"uriRegexRewrite needs both match and rewrite ({missing})", where)
            return
        compile_regex(
            rr.match, Site(col, site.ns, (*path, "uriRegexRewrite", "match"), regexes=site.regexes)
        )


def route_headers(r: cfg.HTTPRoute, site: Site) -> None:
    header_operations(r.headers, site.at("headers"))


def route_cors(r: cfg.HTTPRoute, site: Site) -> None:
    """Istio's ``validateCORSPolicy``."""
    cp = r.cors_policy
    if cp is None:
        return
    col, path = site.col, (*site.path, "corsPolicy")
    for i, origin in enumerate(cp.allow_origins):
        op = (*path, "allowOrigins", i)
        kinds = [k for k in ("exact", "prefix", "regex") if getattr(origin, k)]
        if not kinds:
            col.error("'' is not a valid match type for CORS allow origins", op)
        elif origin.regex:
            compile_regex(origin.regex, Site(col, site.ns, (*op, "regex"), regexes=site.regexes))
    for i, method in enumerate(cp.allow_methods):
        if method not in _CORS_METHODS:
            col.error(f"{method!r} is not a supported HTTP method", (*path, "allowMethods", i))
    for field_name, names in (
        ("allowHeaders", cp.allow_headers),
        ("exposeHeaders", cp.expose_headers),
    ):
        for i, name in enumerate(names):
            if name != "*" and not HEADER_NAME.match(name):
                col.error(f"invalid header name {name!r}", (*path, field_name, i))
    if cp.max_age is not None:
        problem = duration_problem(cp.max_age, "maxAge")
        if problem:
            col.error(problem, (*path, "maxAge"))
        elif (parse_duration_ms(cp.max_age) or 0) % 1000:
            col.error("max_age duration is accurate only to seconds precision", (*path, "maxAge"))


def route_redirect(r: cfg.HTTPRoute, site: Site) -> None:
    rd = r.redirect
    if rd is None:
        return
    col, path = site.col, (*site.path, "redirect")
    if (
        rd.uri is None
        and rd.authority is None
        and rd.scheme is None
        and rd.port is None
        and rd.derive_port is None
    ):
        col.error("redirect must specify uri, authority, scheme, port or derivePort", path)
    code = rd.redirect_code if rd.redirect_code is not None else 301
    if not (300 <= code <= 399):
        col.error(f"redirectCode {code} must be a 3xx code", (*path, "redirectCode"))
    elif code not in (301, 302, 303, 307, 308):
        col.error(
            f"redirectCode {code} is not supported by Envoy (301, 302, 303, 307, 308)",
            (*path, "redirectCode"),
        )
    if rd.scheme is not None and rd.scheme not in ("http", "https"):
        col.error(f"redirect scheme must be http or https, got {rd.scheme!r}", (*path, "scheme"))
    if rd.port is not None and not (0 < rd.port < 65536):
        col.error(f"port {rd.port} must be in 1-65535", (*path, "port"))


def route_direct_response(r: cfg.HTTPRoute, site: Site) -> None:
    dr = r.direct_response
    if r.redirect is not None or dr is None:
        return
    col, path = site.col, (*site.path, "directResponse")
    if not (200 <= dr.status <= 600):
        col.error(f"directResponse status {dr.status} must be in 200-600", (*path, "status"))
    if dr.body is not None:
        body = dr.body.string if dr.body.string is not None else dr.body.bytes
        if body is not None and len(body) > 1024 * 1024:
            col.error("directResponse body is larger than 1 MB", (*path, "body"))
        elif body is not None and len(body) > 100 * 1024:
            col.warn("large direct_responses may impact control plane performance", (*path, "body"))


def _forwards(r: cfg.HTTPRoute) -> bool:
    return r.redirect is None and r.direct_response is None and bool(r.route)


def route_destinations(r: cfg.HTTPRoute, site: Site) -> None:
    """Weighted destinations: weights in int32, not all zero, a total within uint32."""
    if not _forwards(r):
        return
    col, path = site.col, site.path
    ok = True
    weights: list[int] = []
    for i, rd in enumerate(r.route):
        dpath = (*path, "route", i)
        if rd.weight is not None and rd.weight < 0:
            col.error(f"weight {rd.weight} < 0", (*dpath, "weight"))
            ok = False
        elif rd.weight is not None and rd.weight > INT32_MAX:
            # the API's weight is an int32: the API server refuses larger numbers
            col.error(f"weight {rd.weight} is out of range (max {INT32_MAX})", (*dpath, "weight"))
            ok = False
        header_operations(rd.headers, Site(col, site.ns, (*dpath, "headers")))
        if not destination(rd.destination, Site(col, site.ns, (*dpath, "destination"))):
            ok = False
            continue
        weights.append(rd.weight or 0)
    if ok and len(r.route) > 1 and sum(weights) == 0:
        col.error("total destination weight = 0", (*path, "route"))
    elif ok and sum(weights) > UINT32_MAX:
        # Envoy's weighted clusters add up in a uint32
        col.error(f"total destination weight {sum(weights)} exceeds {UINT32_MAX}", (*path, "route"))


def route_mirrors(r: cfg.HTTPRoute, site: Site) -> None:
    if not _forwards(r):
        return
    col, path = site.col, site.path
    if r.mirror is not None:
        destination(r.mirror, Site(col, site.ns, (*path, "mirror")))
        if r.mirror_percentage is not None and not (0 <= r.mirror_percentage.value <= 100):
            col.error(
                f"mirrorPercentage {r.mirror_percentage.value} must be in [0, 100]",
                (*path, "mirrorPercentage", "value"),
            )
        if r.mirror_percent is not None and not (0 <= r.mirror_percent <= 100):
            col.error("mirrorPercent must be in [0, 100]", (*path, "mirrorPercent"))
    for i, mp in enumerate(r.mirrors):
        destination(mp.destination, Site(col, site.ns, (*path, "mirrors", i, "destination")))
        if mp.percentage is not None and not (0 <= mp.percentage.value <= 100):
            col.error(
                f"mirror percentage {mp.percentage.value} must be in [0, 100]",
                (*path, "mirrors", i, "percentage", "value"),
            )


def delegate_problem(
    r: cfg.HTTPRoute, ns: str, by_key: dict[tuple[str, str], cfg.VirtualService]
) -> str | None:
    """Why a root's delegate cannot be used (then Istio drops the route); None when it can."""
    assert r.delegate is not None
    target = by_key.get((r.delegate.namespace or ns, r.delegate.name))
    if target is None:
        return "not found"
    if target.spec.hosts:
        return "has hosts"
    owner = target.metadata.namespace or "default"
    if not visible(frozenset(target.spec.export_to), owner, ns):
        return "not exported"
    return None


def route_delegate_target(r: cfg.HTTPRoute, site: Site) -> None:
    """A root's delegate must name an exported VirtualService without hosts (else dropped)."""
    if r.delegate is None or site.by_key is None or r.route or r.redirect:
        return
    why = delegate_problem(r, site.ns, site.by_key)
    if why is not None:
        dns = r.delegate.namespace or site.ns
        site.col.warn(
            f"delegate VirtualService {dns}/{r.delegate.name} {why}: the route is dropped",
            (*site.path, "delegate"),
        )


def route_matches(r: cfg.HTTPRoute, site: Site) -> None:
    for j, m in enumerate(r.match):
        match_request(m, site.at("match", j))


def match_request(m: cfg.HTTPMatchRequest, site: Site) -> None:
    """One match block: its string matches, header names, port and source conditions."""
    col, path = site.col, site.path
    u = m.uri
    if u is not None and not (u.prefix in ("", "/") and u.exact is None and u.regex is None):
        string_match("uri", u, site.at("uri"), allow_empty_prefix=True)
    for key, sm in (("scheme", m.scheme), ("method", m.method), ("authority", m.authority)):
        if sm is not None:
            string_match(key, sm, site.at(key))
    for attr, field_name, invert, pref in MAP_MATCHES:
        mapping: dict[str, cfg.StringMatch | None] = getattr(m, attr)
        for name in sorted(mapping):
            if (
                pref == "header:"
                and not HEADER_NAME.match(name)
                and not name.startswith("@request.auth.claims")
            ):
                col.error(f"invalid header name {name!r}", (*path, field_name, name))
                continue
            sm = mapping[name]
            if sm is None and field_name != "headers":
                continue  # Istio accepts null here: a presence match
            key = pref + (name.lower() if pref == "header:" else name)
            string_match(key, sm, site.at(field_name, name), star_is_presence=invert)
    if m.port is not None and not (0 < m.port < 65536):
        col.error(f"port {m.port} must be in 1-65535", (*path, "port"))
    if m.source_namespace is not None and not DNS1123.match(m.source_namespace):
        col.error(f"invalid sourceNamespace {m.source_namespace!r}", (*path, "sourceNamespace"))
    labels(m.source_labels, site.at("sourceLabels"))


#: the mapping-valued matches: (model attribute, field name, inverted, matcher key prefix)
MAP_MATCHES = (
    ("headers", "headers", False, "header:"),
    ("query_params", "queryParams", False, "query:"),
    ("without_headers", "withoutHeaders", True, "header:"),
)


# -- DestinationRule -----------------------------------------------------------------------------


def dr_host(dr: cfg.DestinationRule, site: Site) -> None:
    if not dr.spec.host:
        site.col.error("host is required", ("spec", "host"))
    elif dr.spec.host == "*" or not valid_host(dr.spec.host):
        site.col.error(f"invalid host {dr.spec.host!r}", ("spec", "host"))


def dr_export_to(dr: cfg.DestinationRule, site: Site) -> None:
    export_to(dr.spec.export_to, site.at("spec", "exportTo"))
    if dr.spec.workload_selector is not None and dr.spec.export_to and dr.spec.export_to != ["."]:
        site.col.error(
            "a DestinationRule with workloadSelector may only be exported to its own namespace",
            ("spec", "exportTo"),
        )


def dr_traffic_policy(dr: cfg.DestinationRule, site: Site) -> None:
    traffic_policy(dr.spec.traffic_policy, site.at("spec", "trafficPolicy"))


def dr_subsets(dr: cfg.DestinationRule, site: Site) -> None:
    names: set[str] = set()
    col = site.col
    for i, s in enumerate(dr.spec.subsets):
        sp: Path = ("spec", "subsets", i)
        if s is None:
            col.error("subset must not be null", sp)
            continue
        if not s.name:
            col.error("subset name is required", sp)
        elif len(s.name) > 63 or not LABEL.match(s.name):
            col.error(f"invalid subset name {s.name!r}: must be a DNS-1123 label", (*sp, "name"))
        if s.name in names:
            col.error(f"duplicate subset name {s.name!r}", (*sp, "name"))
        names.add(s.name)
        labels(s.labels, Site(col, site.ns, (*sp, "labels")))
        traffic_policy(s.traffic_policy, Site(col, site.ns, (*sp, "trafficPolicy")))


def traffic_policy(tp: cfg.TrafficPolicy | None, site: Site) -> None:
    if tp is None:
        return
    col, path = site.col, site.path
    if not tp.model_fields_set:
        col.error("traffic policy must have at least one field", path)
        return
    if tp.tunnel is not None and tp.proxy_protocol is not None:
        col.error(
            "tunnel and proxyProtocol cannot both be set",
            (*path, col.written_last(path, ["tunnel", "proxyProtocol"])),
        )
    load_balancer(tp.load_balancer, site.at("loadBalancer"))
    for i, p in enumerate(tp.port_level_settings):
        pp = (*path, "portLevelSettings", i)
        if p.port is None or p.port.number is None:
            col.error("portLevelSettings entry must set port", pp)
            continue
        if len(p.model_fields_set - {"port"}) == 0:
            col.error("portLevelSettings entry must set at least one field besides port", pp)
        load_balancer(p.load_balancer, Site(col, site.ns, (*pp, "loadBalancer")))


def load_balancer(lb: cfg.LoadBalancerSettings | None, site: Site) -> None:
    if lb is None:
        return
    col, path = site.col, site.path
    if lb.simple is not None and lb.consistent_hash is not None:
        col.error(
            "loadBalancer may set simple or consistentHash, not both",
            (*path, col.written_last(path, ["simple", "consistentHash"])),
        )
    ch = lb.consistent_hash
    if ch is None:
        if lb.warmup is not None:
            warmup(lb.warmup, site.at("warmup"))
        return
    cp = (*path, "consistentHash")
    keys = [
        k
        for k in ("http_header_name", "http_cookie", "use_source_ip", "http_query_parameter_name")
        if getattr(ch, k)
    ]
    if len(keys) > 1:
        col.error("consistentHash may set only one hash key", cp)
    if ch.http_cookie is not None and not ch.http_cookie.name:
        col.error("httpCookie name is required", (*cp, "httpCookie"))
    if ch.http_cookie is not None:
        seen_attr: set[str] = set()
        for i, attr in enumerate(ch.http_cookie.attributes):
            name = attr.get("name", "")
            ap = (*cp, "httpCookie", "attributes", i)
            if not name:
                col.error("cookie attribute name is required", ap)
            elif name in seen_attr:
                col.error(f"duplicate cookie attribute name {name!r}", ap)
            seen_attr.add(name)
    if ch.minimum_ring_size is not None and (ch.ring_hash is not None or ch.maglev is not None):
        col.error("minimumRingSize cannot be combined with ringHash or maglev", cp)
    if ch.maglev is not None:
        ts = ch.maglev.table_size
        if ts is None or not _is_prime(ts) or ts >= 5000011:
            col.error(
                "maglev tableSize must be a prime below 5000011", (*cp, "maglev", "tableSize")
            )


def warmup(w: cfg.WarmupConfiguration, site: Site) -> None:
    """The CRD's rules for ``warmup`` (istio/api destinationrule-invalid.yaml)."""
    col, path = site.col, site.path
    if w.duration is None:
        col.error("warmup duration is required", (*path, "duration"))
    else:
        problem = duration_problem(w.duration)
        if problem:
            col.error(problem, (*path, "duration"))
    if w.minimum_percent is not None and not (0 <= w.minimum_percent <= 100):
        col.error(
            f"minimumPercent {w.minimum_percent} must be in [0, 100]", (*path, "minimumPercent")
        )
    if w.aggression is not None and not w.aggression > 0:
        col.error(f"aggression {w.aggression} must be > 0", (*path, "aggression"))


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


# -- the tables, in the order the webhook reports ------------------------------------------------

VirtualServiceRule = Callable[[cfg.VirtualService, Site], None]
HTTPRouteRule = Callable[[cfg.HTTPRoute, Site], None]
DestinationRuleRule = Callable[[cfg.DestinationRule, Site], None]

#: a VirtualService with hosts (a root, or a plain one)
VIRTUAL_SERVICE: tuple[VirtualServiceRule, ...] = (
    vs_hosts,
    vs_gateways,
    vs_jwt_claims_on_mesh,
    vs_has_routes,
    vs_export_to,
    vs_http_routes,
)
#: a delegate VirtualService (no hosts)
DELEGATE: tuple[VirtualServiceRule, ...] = (
    delegate_no_gateways,
    delegate_no_tcp_tls,
    vs_has_routes,
    vs_export_to,
    delegate_not_nested,
    vs_http_routes,
)
#: each http route of either
HTTP_ROUTE: tuple[HTTPRouteRule, ...] = (
    route_one_action,
    route_redirect_alone,
    route_authority_once,
    route_one_mirror_field,
    route_timeout,
    route_retries,
    route_fault,
    route_rewrite,
    route_headers,
    route_cors,
    route_redirect,
    route_direct_response,
    route_destinations,
    route_mirrors,
    route_delegate_target,
    route_matches,
)
DESTINATION_RULE: tuple[DestinationRuleRule, ...] = (
    dr_host,
    dr_export_to,
    dr_traffic_policy,
    dr_subsets,
)


def validate(config: ConfigSet, domain: str, regexes: dict[str, Any]) -> list[Diagnostic]:
    """Every webhook finding of every object, in load order (VirtualServices, then
    DestinationRules). ``regexes`` receives each valid regex compiled, for the translators."""
    out: list[Diagnostic] = []
    by_key = {
        (v.metadata.namespace or "default", v.metadata.name): v for v in config.virtual_services
    }
    for vs in config.virtual_services:
        ns = vs.metadata.namespace or "default"
        col = collector(config, out, "VirtualService", ns, vs.metadata.name)
        rules = VIRTUAL_SERVICE if vs.spec.hosts else DELEGATE
        site = Site(col, ns, (), domain, by_key if vs.spec.hosts else None, regexes)
        for rule in rules:
            rule(vs, site)
    for dr in config.destination_rules:
        ns = dr.metadata.namespace or "default"
        col = collector(config, out, "DestinationRule", ns, dr.metadata.name)
        site = Site(col, ns, (), domain, None, regexes)
        for drule in DESTINATION_RULE:
            drule(dr, site)
    return out
