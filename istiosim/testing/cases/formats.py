"""Case files of other tools, read as they are: Envoy's ``router_check_tool`` tests and
getyourguide's istio-config-validator ``testCases``. Each becomes :class:`RouteCase` values;
what istiosim cannot honour is kept on the case (``unsupported``) and fails it, never skipped.

Envoy's router_check_tool (envoy ``test/tools/router_check/validation.proto`` and
``docs/root/configuration/operations/tools/router_check.rst``), run against the route
configuration Istio generates for a sidecar in namespace ``default`` (the tool takes one route
table; Istio builds one per client proxy):

* ``input``: ``authority``, ``path`` (with its query), ``method`` (default GET),
  ``random_value`` (default 0, as the tool: the weighted pick is pinned), ``ssl``
  (``x-forwarded-proto: https`` and the https scheme), ``internal`` (``x-envoy-internal:
  true``), ``additional_request_headers`` (and the older ``additional_headers``).
  ``runtime``, ``dynamic_metadata`` and ``additional_response_headers`` are not honoured.
* ``validate``: ``cluster_name`` (Istio's ``outbound|port|subset|host``, ``PassthroughCluster``),
  ``virtual_host_name`` (Istio's ``host:port``, ``allow_any``), ``virtual_cluster_name``
  (Istio configures none: always ""), ``host_rewrite``, ``path_rewrite`` (the forwarded
  Host and path), ``path_redirect`` (the redirect URL; a direct response's is the request's
  own URL, as Envoy's ``newUri``), ``code_redirect``, ``request_header_fields`` /
  ``response_header_fields`` (and the older ``header_fields`` / ``custom_header_fields``) and
  ``request_header_matches`` / ``response_header_matches`` (Envoy HeaderMatchers). "" means
  "none": a field of a route that has no route entry (no route, redirect, direct response)
  is "".

istio-config-validator (``internal/pkg/parser/testcase.go``, ``internal/pkg/unit/unit.go``):
each request is every combination of ``authority`` × ``method`` × ``uri`` with ``headers``
(a query in ``uri`` is kept, for ``queryParams`` matches; the upstream tool drops it);
the rule istiosim matches (with Istio's full matching, where the upstream tool evaluates only
uri, method, authority and headers; through the gateway a VirtualService is bound to when it
is not bound to the mesh) is compared with ``route``, ``redirect``, ``rewrite``,
``fault``, ``headers`` and ``delegate`` as written in the config, field by field as the
upstream tool does (``reflect.DeepEqual`` on the protobuf), and ``wantMatch: false`` asks each
of them to differ. Through a delegate, ``delegate`` is compared with the root rule and the
others with the delegate's rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ...errors import ConfigError, Diagnostic, Location
from ...request import Request
from ...results import Decision, Outcome
from .models import CaseInput, CaseValidate, ExtraCheck, HeaderMatch, RouteCase

__all__ = ["ENVOY_INPUT_ONLY", "ENVOY_VALIDATE_ONLY", "load_foreign"]

ENVOY_INPUT_ONLY = frozenset(
    {
        "ssl",
        "internal",
        "additional_request_headers",
        "additional_response_headers",
        "additional_headers",
        "runtime",
        "dynamic_metadata",
    }
)
ENVOY_VALIDATE_ONLY = frozenset(
    {
        "cluster_name",
        "virtual_cluster_name",
        "virtual_host_name",
        "host_rewrite",
        "path_rewrite",
        "path_redirect",
        "code_redirect",
        "request_header_fields",
        "response_header_fields",
        "header_fields",
        "custom_header_fields",
        "request_header_matches",
        "response_header_matches",
    }
)
_ENVOY_INPUT = frozenset({"authority", "path", "method", "random_value"}) | ENVOY_INPUT_ONLY


class _Errors:
    def __init__(self, smap: Any, loc: Location) -> None:
        self.smap, self.loc, self.items = smap, loc, []  # type: ignore[var-annotated]

    def add(self, code: str, message: str, path: tuple[str | int, ...]) -> None:
        where = self.smap.find(path) or self.loc
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        self.items.append(Diagnostic.make(code, message, where, field_path=dotted))

    def raise_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def load_foreign(fmt: str, data: dict[str, Any], smap: Any, loc: Location) -> list[RouteCase]:
    """The cases of one document in another tool's format (``envoy`` or
    ``istio-config-validator``); ConfigError with file:line when it is malformed."""
    if fmt == "envoy":
        return _load_envoy(data, smap, loc)
    return _load_gyg(data, smap, loc)


# -- Envoy router_check_tool ----------------------------------------------------------------


def _str(v: object) -> bool:
    return isinstance(v, str)


def _load_envoy(data: dict[str, Any], smap: Any, loc: Location) -> list[RouteCase]:
    err = _Errors(smap, loc)
    for k in data.keys() - {"tests", "runtime"}:
        err.add("ISM0003", f"unknown field {k!r} in a router_check_tool test file", (k,))
    tests = data.get("tests")
    if not isinstance(tests, list) or not tests:
        err.add("ISM0008", "'tests' must be a non-empty list", ("tests",))
        err.raise_any()
        return []
    top_unsupported = (
        ("runtime: runtime overrides of the Envoy process are not modelled",)
        if "runtime" in data
        else ()
    )
    out: list[RouteCase] = []
    for i, t in enumerate(tests):
        here: tuple[str | int, ...] = ("tests", i)
        if not isinstance(t, Mapping):
            err.add("ISM0007", "a test must be a mapping", here)
            continue
        for k in t.keys() - {"test_name", "input", "validate"}:
            err.add("ISM0003", f"unknown field {k!r} of a test", (*here, k))
        name, inp, val = t.get("test_name"), t.get("input"), t.get("validate")
        if not _str(name) or not name:
            err.add("ISM0008", "test_name must be a non-empty string", (*here, "test_name"))
            continue
        if not isinstance(inp, Mapping) or not isinstance(val, Mapping) or not val:
            err.add("ISM0008", "a test needs an 'input' and a non-empty 'validate'", here)
            continue
        case = _envoy_case(name, inp, val, err, here)
        if case is not None:
            where = smap.find(here) or loc
            out.append(
                RouteCase(
                    name,
                    case[0],
                    CaseValidate(),
                    where,
                    (*top_unsupported, *case[2]),
                    case[1],
                    "envoy",
                )
            )
    err.raise_any()
    return out


def _header_values(
    items: object, err: _Errors, path: tuple[str | int, ...], *, old: bool = False
) -> list[tuple[str, str]] | None:
    if not isinstance(items, list):
        err.add("ISM0004", "must be a list of {key, value}", path)
        return None
    out: list[tuple[str, str]] = []
    for j, h in enumerate(items):
        key = h.get("key", h.get("field") if old else None) if isinstance(h, Mapping) else None
        value = h.get("value", "") if isinstance(h, Mapping) else None
        if not _str(key) or not key or not _str(value):
            err.add("ISM0004", "a header needs a string 'key' and 'value'", (*path, j))
            return None
        out.append((str(key), str(value)))
    return out


def _envoy_case(
    name: str,
    inp: Mapping[str, Any],
    val: Mapping[str, Any],
    err: _Errors,
    here: tuple[str | int, ...],
) -> tuple[CaseInput, tuple[ExtraCheck, ...], tuple[str, ...]] | None:
    n_err = len(err.items)
    ip: tuple[str | int, ...] = (*here, "input")
    for k in inp.keys() - _ENVOY_INPUT:
        err.add("ISM0003", f"unknown input field {k!r} of router_check_tool", (*ip, k))
    authority, path = inp.get("authority"), inp.get("path")
    if not _str(authority) or not authority:
        err.add("ISM0008", "input.authority is required (a non-empty string)", (*ip, "authority"))
    if not _str(path) or not str(path).startswith("/"):
        err.add("ISM0004", "input.path is required and starts with '/'", (*ip, "path"))
    method = inp.get("method", "GET")
    rv = inp.get("random_value", 0)
    if not _str(method) or not method:
        err.add("ISM0004", "input.method must be a string", (*ip, "method"))
    if isinstance(rv, bool) or not isinstance(rv, int) or rv < 0:
        err.add("ISM0004", "input.random_value must be an integer >= 0", (*ip, "random_value"))
    for flag in ("ssl", "internal"):
        if flag in inp and not isinstance(inp[flag], bool):
            err.add("ISM0004", f"input.{flag} must be true or false", (*ip, flag))
    headers: dict[str, list[str]] = {}
    for key in ("additional_request_headers", "additional_headers"):
        if key in inp:
            hv = _header_values(inp[key], err, (*ip, key), old=key == "additional_headers")
            for k, v in hv or ():
                headers.setdefault(k, []).append(v)
    ssl = bool(inp.get("ssl", False))
    headers["x-forwarded-proto"] = ["https" if ssl else "http"]
    if inp.get("internal", False):
        headers["x-envoy-internal"] = ["true"]
    unsupported: list[str] = []
    for key, why in (
        ("runtime", "runtime keys of routes are not modelled (Istio generates none)"),
        ("dynamic_metadata", "dynamic metadata matchers are not modelled (Istio generates none)"),
        ("additional_response_headers", "upstream response headers are not modelled"),
    ):
        if key in inp:
            unsupported.append(f"input.{key}: {why}")
    checks: list[ExtraCheck] = []
    vp: tuple[str | int, ...] = (*here, "validate")
    for k, v in val.items():
        p = (*vp, k)
        if k in _ENVOY_STRINGS:
            if not _str(v):
                err.add("ISM0004", f"validate.{k} must be a string ('' for none)", p)
            else:
                checks.append(_string_check(k, str(v)))
        elif k == "code_redirect":
            if isinstance(v, bool) or not isinstance(v, int):
                err.add("ISM0004", "validate.code_redirect must be an integer", p)
            else:
                checks.append(_code_redirect(v))
        elif k in (
            "request_header_fields",
            "response_header_fields",
            "header_fields",
            "custom_header_fields",
        ):
            hv = _header_values(v, err, p, old=k in ("header_fields", "custom_header_fields"))
            side = "response" if k == "response_header_fields" else "request"
            for hk, hval in hv or ():
                # HeaderValue checks compare strings: an absent header reads "" (router.cc)
                checks.append(_header_check(k, side, hk, HeaderMatch(exact=hval), absent=""))
        elif k in ("request_header_matches", "response_header_matches"):
            side = k.split("_", 1)[0]
            if not isinstance(v, list):
                err.add("ISM0004", f"validate.{k} must be a list of HeaderMatchers", p)
                continue
            for j, m in enumerate(v):
                got = _header_matcher(m, err, (*p, j))
                if got is not None:
                    checks.append(_header_check(k, side, got[0], got[1]))
        else:
            err.add("ISM0003", f"unknown validate field {k!r} of router_check_tool", p)
    if len(err.items) > n_err:
        return None
    assert isinstance(authority, str) and isinstance(path, str)
    try:
        ci = CaseInput(
            host=authority,
            path=path,
            method=str(method),
            headers={k: v[0] if len(v) == 1 else v for k, v in headers.items()},
            scheme="https" if ssl else "http",
            random_value=int(rv),
        )
    except ValidationError as exc:
        err.add("ISM0004", str(exc.errors()[0]["msg"]), ip)
        return None
    return ci, tuple(checks), tuple(unsupported)


_ENVOY_STRINGS = (
    "cluster_name",
    "virtual_cluster_name",
    "virtual_host_name",
    "host_rewrite",
    "path_rewrite",
    "path_redirect",
)

_FORWARDED = (Outcome.OK, Outcome.NC, Outcome.UH, Outcome.FI, Outcome.PASSTHROUGH)


def _route_entry(d: Decision) -> bool:
    """Whether Envoy would have a route entry (a forwarding route) for this decision."""
    return d.outcome in _FORWARDED and d.destination is not None


def _virtual_host(sim: Any, req: Request, d: Decision) -> str:
    from ...lookup import find_service

    if d.outcome is Outcome.PASSTHROUGH:
        return "allow_any"
    raw = str(req.authority or req.host).lower()
    port = req.port
    if ":" in raw:
        raw, _, p = raw.rpartition(":")
        if port is None and p.isdigit():
            port = int(p)
    svc = find_service(sim.plan, raw, req.namespace)
    if svc is not None:
        return f"{svc.fqdn}:{port or svc.ports[0]}"
    return f"{raw}:{port or 80}"


def _actual(field: str, sim: Any, d: Decision, req: Request) -> str:
    if field == "path_redirect":
        if d.outcome is Outcome.REDIRECT:
            return d.redirect_location or ""
        if d.outcome is Outcome.DIRECT:
            return f"{req.scheme}://{req.authority or req.host}{req.path}"
        return ""
    if not _route_entry(d):
        return ""
    if field == "cluster_name":
        return d.destination.cluster if d.destination else ""
    if field == "virtual_cluster_name":
        return ""  # Istio's route configuration has no virtual_clusters
    if field == "virtual_host_name":
        return _virtual_host(sim, req, d)
    path, authority = d.path, d.authority
    if d.outcome in (Outcome.NC, Outcome.UH, Outcome.FI):
        # Envoy's router_check applies the route entry's rewrites whether or not its cluster
        # exists or has healthy hosts (test/tools/router_check/router.cc ``compareRewritePath`` calls
        # ``finalizeRequestHeaders`` on the route entry); istiosim forwards nothing on a 503
        path, authority = _rewritten(sim, d, req)
    if field == "host_rewrite":
        return authority or str(req.authority or req.host)
    # path_rewrite
    return path or req.path


def _rewritten(sim: Any, d: Decision, req: Request) -> tuple[str | None, str | None]:
    """The path and authority the matched route entry of an NC/UH/FI decision rewrites to."""
    from ...engine.decision import forwarded
    from ...plan import Forward

    plan = sim.plan
    ctx = plan.context(req.namespace, req.source_labels, req.source_workload, req.gateway)
    table = plan.table(req.host, req.port, ctx)
    for hit in table.entries:
        e = hit.entry
        if (hit.virtual_service.key, e.rule, e.match) != (d.virtual_service, d.rule, d.match):
            continue
        if not isinstance(e.action, Forward):
            break
        for t in hit.targets:
            if d.destination is not None and t.cluster == d.destination.cluster:
                path, authority, _, _ = forwarded(e.action, hit, t, req)
                return path, authority
    return d.path, d.authority


def _string_check(field: str, want: str) -> ExtraCheck:
    def check(sim: Any, d: Decision, req: Request) -> list[tuple[str, str, str]]:
        got = _actual(field, sim, d, req)
        return [] if got == want else [(field, repr(want), repr(got))]

    return check


def _code_redirect(want: int) -> ExtraCheck:
    def check(sim: Any, d: Decision, req: Request) -> list[tuple[str, str, str]]:
        got = d.status if d.outcome is Outcome.REDIRECT else 0
        return [] if got == want else [("code_redirect", str(want), str(got))]

    return check


def _request_header(d: Decision, req: Request, name: str) -> str | None:
    n = name.lower()
    if n in (":authority", "host"):
        return d.authority or str(req.authority or req.host)
    if n == ":path":
        return d.path or req.path
    if n == ":method":
        return str(req.method)
    fwd = d.request_headers if d.request_headers is not None else req.headers
    got = fwd.get(n)
    if isinstance(got, list | tuple):
        return ",".join(got)
    return None if got is None else str(got)


def _header_check(
    field: str, side: str, name: str, m: HeaderMatch, *, absent: str | None = None
) -> ExtraCheck:
    def check(sim: Any, d: Decision, req: Request) -> list[tuple[str, str, str]]:
        if side == "response":
            vals = [
                v for op, k, v in d.response_headers if k.lower() == name.lower() and op != "remove"
            ]
            got = ",".join(vals) if vals else None
        else:
            got = _request_header(d, req, name)
        if got is None:
            got = absent
        if m.matches(got):
            return []
        return [(f"{field}.{name}", str(m), "absent" if got is None else repr(got))]

    return check


def _header_matcher(
    m: object, err: _Errors, path: tuple[str | int, ...]
) -> tuple[str, HeaderMatch] | None:
    """An Envoy HeaderMatcher as a :class:`HeaderMatch` (range_match included as a regex-free
    integer check is not: it is reported)."""
    if not isinstance(m, Mapping) or not _str(m.get("name")):
        err.add("ISM0004", "a HeaderMatcher needs a 'name'", path)
        return None
    spec: dict[str, Any] = {"invert": bool(m.get("invert_match", False))}
    known = {"name", "invert_match", "treat_missing_header_as_empty"}
    simple = {
        "exact_match": "exact",
        "prefix_match": "prefix",
        "suffix_match": "suffix",
        "contains_match": "contains",
        "present_match": "present",
    }
    for k, ours in simple.items():
        if k in m:
            spec[ours] = m[k]
            known.add(k)
    if "safe_regex_match" in m:
        known.add("safe_regex_match")
        rx = m["safe_regex_match"]
        spec["regex"] = rx.get("regex") if isinstance(rx, Mapping) else rx
    if "string_match" in m:
        known.add("string_match")
        sm = m["string_match"]
        if isinstance(sm, Mapping):
            for k in ("exact", "prefix", "suffix", "contains"):
                if k in sm:
                    spec[k] = sm[k]
            if "safe_regex" in sm:
                rx = sm["safe_regex"]
                spec["regex"] = rx.get("regex") if isinstance(rx, Mapping) else rx
            spec["ignore_case"] = bool(sm.get("ignore_case", False))
    for k in m.keys() - known:
        what = "range_match is not supported" if k == "range_match" else f"unknown field {k!r}"
        err.add(
            "ISM0003" if k != "range_match" else "ISM0004", f"HeaderMatcher: {what}", (*path, k)
        )
        return None
    try:
        return str(m["name"]), HeaderMatch.model_validate(spec)
    except ValidationError as exc:
        err.add("ISM0004", f"HeaderMatcher: {exc.errors()[0]['msg']}", path)
        return None


# -- getyourguide istio-config-validator ----------------------------------------------------

_GYG_CASE = frozenset(
    {
        "description",
        "wantMatch",
        "request",
        "route",
        "redirect",
        "rewrite",
        "fault",
        "headers",
        "delegate",
    }
)
_GYG_REQUEST = frozenset({"authority", "method", "uri", "headers"})
_GYG_CHECKS = ("route", "rewrite", "fault", "headers", "redirect", "delegate")


def _load_gyg(data: dict[str, Any], smap: Any, loc: Location) -> list[RouteCase]:
    from ... import config as cfg

    err = _Errors(smap, loc)
    for k in data.keys() - {"testCases"}:
        err.add("ISM0003", f"unknown field {k!r} in an istio-config-validator test file", (k,))
    tests = data.get("testCases")
    if not isinstance(tests, list):
        err.add("ISM0008", "'testCases' must be a list", ("testCases",))
        err.raise_any()
    out: list[RouteCase] = []
    for i, t in enumerate(tests or ()):
        here: tuple[str | int, ...] = ("testCases", i)
        if not isinstance(t, Mapping):
            err.add("ISM0007", "a test case must be a mapping", here)
            continue
        unsupported = [
            f"{k}: not a field of istio-config-validator's TestCase"
            for k in sorted(t.keys() - _GYG_CASE)
        ]
        desc = t.get("description", "")
        want = t.get("wantMatch", False)
        if not _str(desc):
            err.add("ISM0004", "description must be a string", (*here, "description"))
        if not isinstance(want, bool):
            err.add("ISM0004", "wantMatch must be true or false", (*here, "wantMatch"))
        req = t.get("request")
        rp: tuple[str | int, ...] = (*here, "request")
        if not isinstance(req, Mapping):
            err.add("ISM0008", "a test case needs a 'request'", rp)
            continue
        unsupported += [
            f"request.{k}: not a field of istio-config-validator's Request"
            for k in sorted(req.keys() - _GYG_REQUEST)
        ]
        lists: dict[str, list[str]] = {}
        for k in ("authority", "method", "uri"):
            v = req.get(k)
            if not isinstance(v, list) or not v or not all(_str(x) and x for x in v):
                # the upstream tool stops at an empty list (ErrEmpty...List)
                err.add("ISM0008", f"request.{k} must be a non-empty list of strings", (*rp, k))
            else:
                lists[k] = list(v)
        hdrs = req.get("headers") or {}
        if not isinstance(hdrs, Mapping) or not all(_str(x) for x in hdrs.values()):
            err.add("ISM0004", "request.headers must map names to strings", (*rp, "headers"))
            hdrs = {}
        checks: list[ExtraCheck] = []
        for k in _GYG_CHECKS:
            if k in t and t[k] is not None:
                checks.append(_gyg_check(k, t[k], bool(want), cfg, err, (*here, k)))
        if len(lists) < 3:
            continue
        where = smap.find(here) or loc
        for uri in lists["uri"]:
            if not uri.startswith("/"):
                err.add("ISM0004", f"request.uri {uri!r} must start with '/'", (*rp, "uri"))
                break
            for auth in lists["authority"]:
                for method in lists["method"]:
                    ci = CaseInput(host=auth, path=uri, method=method, headers=dict(hdrs))
                    out.append(
                        RouteCase(
                            f"{desc} [{auth} {method} {uri}]",
                            ci,
                            CaseValidate(),
                            where,
                            tuple(unsupported),
                            tuple(checks),
                            "istio-config-validator",
                            _through_gateway,
                        )
                    )
    err.raise_any()
    return out


def _host_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*"):
        return host.endswith(pattern[1:]) or pattern == "*"
    return pattern == host


def _through_gateway(sim: Any, inp: CaseInput) -> CaseInput:
    """The upstream tool matches a request against every VirtualService naming its authority,
    whatever the VirtualService is bound to. A VirtualService bound only to gateways does not
    apply to sidecars, so such a request is routed as the first of those gateways (the trace
    says so); with one bound to the mesh, as a sidecar."""
    host = inp.host.lower().split(":")[0]
    claims = [
        vs for vs in sim.plan.virtual_services if any(_host_matches(h, host) for h in vs.hosts)
    ]
    if not claims or any("mesh" in vs.gateways for vs in claims):
        return inp
    gateway = sorted(claims[0].gateways)[0]
    return inp.model_copy(update={"source": inp.source.model_copy(update={"gateway": gateway})})


def _normalise(adapter: TypeAdapter[Any], value: Any) -> Any:
    return adapter.dump_python(value, by_alias=True, exclude_defaults=True, mode="json")


def _gyg_check(
    field: str, raw: Any, want_match: bool, cfg: Any, err: _Errors, path: tuple[str | int, ...]
) -> ExtraCheck:
    ann = cfg.HTTPRoute.model_fields[field].annotation
    adapter: TypeAdapter[Any] = TypeAdapter(ann)
    try:
        expected = _normalise(adapter, adapter.validate_python(raw))
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e["loc"])
        err.add("ISM0004", f"{field}: {e['msg']}" + (f" at {loc}" if loc else ""), path)
        expected = None

    def check(sim: Any, d: Decision, req: Request) -> list[tuple[str, str, str]]:
        root, rule = _matched_rules(sim, d)
        src = root if field == "delegate" else rule
        value = getattr(src, field) if src is not None else None
        got = _normalise(adapter, value) if value is not None else None
        if got in ([], {}):
            got = None
        equal = got == expected
        if equal == want_match:
            return []
        shown = "null" if got is None else _compact(got)
        if want_match:
            return [(field, _compact(expected), shown)]
        return [(field, f"not {_compact(expected)} (wantMatch: false)", shown)]

    return check


def _compact(v: Any) -> str:
    import json

    return json.dumps(v, separators=(", ", ": "), sort_keys=True)


def _matched_rules(sim: Any, d: Decision) -> tuple[Any, Any]:
    """(root rule, rule that routed) of the VirtualService config the decision matched, the
    second being the delegate's rule through a delegate; (None, None) when no rule matched."""
    if d.virtual_service is None or d.rule is None:
        return None, None
    ns, _, name = d.virtual_service.partition("/")
    vs = _find_vs(sim, ns, name)
    if vs is None or d.rule >= len(vs.spec.http):
        return None, None
    root = vs.spec.http[d.rule]
    if root is None or root.delegate is None:
        return root, root
    dns = root.delegate.namespace or ns
    target = _find_vs(sim, dns, root.delegate.name)
    if target is None:
        return root, None
    smap = sim.config.source("VirtualService", dns, root.delegate.name)
    for j, r in enumerate(target.spec.http):
        if r is None:
            continue
        spots = [smap.find(("spec", "http", j))]
        spots += [smap.find(("spec", "http", j, "match", k)) for k in range(len(r.match))]
        if d.location is not None and d.location in spots:
            return root, r
    return root, None


def _find_vs(sim: Any, ns: str, name: str) -> Any:
    for vs in sim.config.virtual_services:
        if (vs.metadata.namespace or "default") == ns and vs.metadata.name == name:
            return vs
    return None
