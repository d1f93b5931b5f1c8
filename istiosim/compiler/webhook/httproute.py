"""The webhook's rules for one http route and its match blocks (``validateHTTPRoute``)."""

from __future__ import annotations

from collections.abc import Callable

from ... import config as cfg
from ...plan import visible
from ..collector import Path
from .values import (
    DNS1123,
    GRPC_CODES,
    HEADER_NAME,
    INT32_MAX,
    UINT32_MAX,
    Site,
    compile_regex,
    destination,
    duration_problem,
    header_operations,
    labels,
    parse_duration_ms,
    percentage,
    string_match,
)

CORS_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
RETRY_ON = frozenset(
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
            if tok not in RETRY_ON and not (tok.isdigit() and 100 <= int(tok) <= 599):
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
            if col.source.get((*where, missing)) is not None:
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
        if method not in CORS_METHODS:
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
        and rd.prefix_rewrite is None
    ):
        col.error(
            "redirect must specify uri, authority, scheme, port, derivePort or prefixRewrite", path
        )
    if rd.prefix_rewrite is not None:
        # validation.go ``validateHTTPRedirect``: not with uri; only under prefix uri matches
        if rd.uri is not None:
            col.error("redirect cannot have both uri and prefixRewrite", path)
        if any(m is not None and m.uri is not None and m.uri.prefix is None for m in r.match):
            col.error("redirect.prefixRewrite requires every uri match to be a prefix", path)
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


HTTPRouteRule = Callable[[cfg.HTTPRoute, Site], None]

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
