"""What a routed request's ``Decision`` says, built the same way by both engines.

The candidates of a route with their exact probabilities (``WeightTable.probabilities``), the
decision of a request that reached a target (503 NC/UH, or OK on a pod, forwarded with the
route's rewrite and header operations), and a redirect's ``Location``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..plan import Endpoint, Fault, Forward, HeaderOps, Redirect, ResolvedEntry, Target
from ..request import Request
from ..results import Candidate, Decision, DestinationRef, Outcome
from .cors import simple_headers


def candidates(entry: ResolvedEntry | None, default: Target | None) -> tuple[Candidate, ...]:
    """The weighted destinations of a route with their exact probabilities."""
    if default is not None:
        t = default
        return (Candidate(t.host, t.subset, t.port, t.cluster, 1, Fraction(1), t.status),)
    if entry is None or not isinstance(entry.entry.action, Forward):
        return ()
    wt = entry.entry.action.weights
    return tuple(
        Candidate(t.host, t.subset, t.port, t.cluster, w, p, t.status)
        for t, w, p in zip(entry.targets, wt.weights, wt.probabilities(), strict=True)
    )


def needs_forwarding(act: Forward, t: Target) -> bool:
    """Whether the forwarded request differs from the original (rewrite or header ops)."""
    spec = t.spec
    return bool(
        act.rewrite is not None
        or act.headers_request.set
        or act.headers_request.add
        or act.headers_request.remove
        or act.headers_response.set
        or act.headers_response.add
        or act.headers_response.remove
        or (spec is not None and (spec.headers_request or spec.headers_response))
    )


def dest_ref(t: Target) -> DestinationRef:
    return DestinationRef(t.host, t.subset, t.port, t.cluster)


def target_decision(
    t: Target,
    ep: Endpoint | None,
    act: Forward | None,
    hit: ResolvedEntry | None,
    request: Request,
    flags: list[str],
    delay_ms: int | None,
    cands: tuple[Candidate, ...],
    common: dict[str, Any],
    mirrors: tuple[str, ...] = (),
    dest: DestinationRef | None = None,
) -> Decision:
    """A request that reached target ``t``: 503 NC/UH when ``t`` is not healthy, else OK on pod
    ``ep``, forwarded with the route's rewrite and header operations. Shared by both engines."""
    dest = dest if dest is not None else dest_ref(t)
    if t.status != "OK" or ep is None:
        outcome = Outcome.NC if t.status == "NC" else Outcome.UH
        return Decision(
            outcome=outcome,
            status=503,
            response_headers=simple_headers(act.cors if act else None, request.headers),
            destination=dest,
            candidates=cands,
            flags=(*flags, t.status),
            delay_ms=delay_ms,
            **common,
        )
    path, authority = request.path, request.authority
    headers: dict[str, str] | None = None
    resp: tuple[tuple[str, str, str], ...] = ()
    if act is not None and needs_forwarding(act, t):
        path, authority, headers, resp = forwarded(act, hit, t, request)
    if act is not None and act.cors:
        # Envoy's CORS filter adds its headers after the router's own (cors_filter.cc
        # ``encodeHeaders``) when the request's Origin is allowed
        resp = resp + simple_headers(act.cors, request.headers)
    return Decision(
        outcome=Outcome.OK,
        status=200,
        destination=dest,
        workload=ep.workload,
        pod=ep.pod,
        candidates=cands,
        flags=tuple(flags),
        delay_ms=delay_ms,
        path=path,
        authority=authority,
        request_headers=headers,
        response_headers=resp,
        mirrors=mirrors,
        timeout=act.timeout if act is not None else None,
        **common,
    )


def forwarded(
    act: Forward, hit: ResolvedEntry | None, t: Target, request: Request
) -> tuple[str, str, dict[str, str] | None, tuple[tuple[str, str, str], ...]]:
    """The request as forwarded: rewritten path and authority, header operations applied."""
    path = request.path
    authority = request.authority
    rw = act.rewrite
    e = hit.entry if hit else None
    if rw is not None:
        uri, _, rest = path.partition("?")
        query = f"?{rest}" if _ else ""
        if rw.uri is not None and e is not None:
            if e.uri_kind in ("exact", "regex"):
                uri = rw.uri
            else:
                pre = e.uri_prefix if e.uri_prefix is not None else "/"
                uri = rw.uri + uri[len(pre) :]
        elif rw.regex is not None and rw.regex_substitution is not None:
            uri = rw.regex.sub(rw.regex_substitution, uri)
        path = uri + query
        if rw.authority:
            authority = rw.authority
    spec = t.spec
    dreq = spec.headers_request if spec else HeaderOps()
    dresp = spec.headers_response if spec else HeaderOps()
    multi = len(act.destinations) > 1
    resp_ops = dresp.then(act.headers_response) if multi else act.headers_response.then(dresp)
    headers = None
    if multi:
        # weighted: Envoy runs the cluster-weight header parser (remove, set, add), then the
        # route's as a second step, so route-level operations see and override its result
        if dreq or act.headers_request:
            headers = act.headers_request.apply(dreq.apply(request.headers))
    elif act.headers_request or dreq:
        # single destination: istiod appends destination ops to the route's, one parser
        headers = act.headers_request.then(dreq).apply(request.headers)
    if headers is not None:
        for k in (":authority", "host"):
            if k in headers:
                authority = headers.pop(k)
    # the route's authority (rewrite.authority, else its own :authority/host header
    # operation) is Envoy's route host_rewrite_literal, applied after every header list: it
    # wins over a destination's, single or weighted (semantics §8.6, route.go
    # ``applyHTTPRouteDestination``)
    route_auth = route_authority(act)
    if route_auth is not None:
        authority = route_auth
    return path, authority, headers, response_ops(resp_ops)


def route_authority(act: Forward) -> str | None:
    """The authority a route sets itself: ``rewrite.authority`` > ``headers.request.set`` >
    ``add`` of ``:authority`` / ``host``."""
    if act.rewrite is not None and act.rewrite.authority:
        return act.rewrite.authority
    for ops in (act.headers_request.set, act.headers_request.add):
        for k, v in ops:
            if k.lower() in (":authority", "host"):
                return v
    return None


def response_ops(ops: HeaderOps) -> tuple[tuple[str, str, str], ...]:
    """Header operations as a Decision reports them: (op, name, value)."""
    return (
        tuple(("set", k, v) for k, v in ops.set)
        + tuple(("add", k, v) for k, v in ops.add)
        + tuple(("remove", k, "") for k in ops.remove)
    )


#: gRPC status names (``fault.abort.grpcStatus``) → the ``grpc-status`` code Envoy sends
GRPC_CODES = {
    "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5, "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12,
    "INTERNAL": 13, "UNAVAILABLE": 14, "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
}  # fmt: skip


def abort_headers(fault: Fault) -> tuple[tuple[str, str, str], ...]:
    """A gRPC abort answers HTTP 200 with ``grpc-status`` (Envoy's fault filter)."""
    if fault.abort_grpc is None:
        return ()
    code = GRPC_CODES.get(fault.abort_grpc.upper(), fault.abort_grpc)
    return (("set", "grpc-status", str(code)),)


def redirect_location(r: Redirect, request: Request, listener_port: int | None = None) -> str:
    """Envoy's ``newUri`` for the RedirectAction istiod builds (route.go ``ApplyRedirect``).

    istiod sets ``port_redirect`` to ``port``, or to the listener port for FROM_REQUEST_PORT
    (FROM_PROTOCOL_DEFAULT sets none), and drops it when it is the default port of the
    redirect's scheme (http unless set). Envoy keeps the Host's own port unless a port is
    redirected, or the scheme changes away from the default port of the request's protocol
    (``processRequestHost``). A ``uri`` with ``?`` replaces the query; else the query is kept.
    """
    if r.https_redirect:
        return f"https://{request.authority}{request.path}"
    scheme = r.scheme or request.scheme
    new_port: int | None = r.port
    if new_port is None and r.derive_port == "FROM_REQUEST_PORT":
        new_port = listener_port or request.port or _port_of(request.host)
    if (new_port, r.scheme or "http") in ((80, "http"), (443, "https")):
        new_port = None
    host = r.authority or request.authority
    if not r.authority:
        name, hport = _split_host(host)
        if hport is not None:
            xfp = request.headers.get("x-forwarded-proto", request.scheme)
            dropped = (xfp, hport) in (("https", "443"), ("http", "80"))
            if new_port is not None or (scheme != xfp and dropped):
                host = name
    _, sep, q = request.path.partition("?")
    if r.prefix_rewrite is not None:
        # Envoy's prefix_rewrite: the matched prefix replaced, the query kept
        uri = request.uri
        rest = uri[len(r.matched_prefix) :] if len(uri) >= len(r.matched_prefix) else ""
        path = r.prefix_rewrite + rest + (f"?{q}" if sep else "")
    elif r.uri is not None:
        path = r.uri if "?" in r.uri or not sep else f"{r.uri}?{q}"
    else:
        path = request.path
    return f"{scheme}://{host}{f':{new_port}' if new_port else ''}{path}"


def _split_host(host: str) -> tuple[str, str | None]:
    """``name:port`` → (name, port); IPv6 literals keep their brackets."""
    end = host.rfind("]:") + 1 if host.startswith("[") else host.rfind(":")
    if end <= 0:
        return host, None
    return host[:end], host[end + 1 :]


def _port_of(host: str) -> int | None:
    _, port = _split_host(host)
    return int(port) if port and port.isdigit() else None


__all__ = [
    "candidates",
    "dest_ref",
    "forwarded",
    "needs_forwarding",
    "redirect_location",
    "target_decision",
]


def entry_fields(hit: ResolvedEntry) -> dict[str, Any]:
    """The fields of a Decision that name the route a request matched."""
    e = hit.entry
    return {
        "virtual_service": hit.virtual_service.key,
        "rule": e.rule,
        "match": e.match,
        "rule_name": e.rule_name,
        "location": e.location,
    }
