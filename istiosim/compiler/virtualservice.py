"""VirtualService → CompiledVirtualService: routes, match blocks and actions as plan objects.

Runs after ``webhook.validate`` found no error, so it trusts what it reads: every regex is
in the shared cache, every weight and destination is valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .. import config as cfg
from ..loader import ConfigSet
from ..mesh import resolve_short_name
from ..plan import (
    PER_MILLION,
    CompiledVirtualService,
    DestinationSpec,
    DirectResponse,
    Fault,
    Forward,
    HeaderOps,
    Matcher,
    MirrorSpec,
    Redirect,
    Rewrite,
    RouteEntry,
    SourceCondition,
    gateway_key,
)
from ..weights import WeightTable
from .collector import Collector, Path, collector
from .webhook import MAP_MATCHES, mesh_bound


@dataclass
class Translator:
    """Shared state of one compilation: the config, compiled regexes, the widest mirror list."""

    config: ConfigSet
    domain: str
    regexes: dict[str, Any]
    max_mirrors: int = 0
    _cols: dict[tuple[str, str], Collector] = field(default_factory=dict)

    def col(self, ns: str, name: str) -> Collector:
        """Locations only: translation reports nothing, so the diagnostics go nowhere."""
        hit = self._cols.get((ns, name))
        if hit is None:
            hit = self._cols[(ns, name)] = collector(self.config, [], "VirtualService", ns, name)
        return hit

    def regex(self, pattern: str) -> Any:
        return self.regexes[pattern]


def header_ops(ops: cfg.HeaderOperations | None) -> HeaderOps:
    if ops is None:
        return HeaderOps()
    return HeaderOps(tuple(ops.set.items()), tuple(ops.add.items()), tuple(ops.remove))


def per_million(p: cfg.Percent | None, default: int) -> int:
    """Istio truncates: ``uint32(percentage * 10000)`` out of a million (route.go
    ``translatePercentToFractionalPercent``)."""
    if p is None:
        return default
    return int(p.value * 10_000)


def translate_virtual_service(
    t: Translator, vs: cfg.VirtualService, order: int, entries: list[RouteEntry]
) -> CompiledVirtualService:
    """A VirtualService with hosts, its (already delegated) route entries given."""
    ns = vs.metadata.namespace or "default"
    spec = vs.spec
    gateways = (
        frozenset({"mesh"})
        if not spec.gateways
        else frozenset(gateway_key(g, ns) for g in spec.gateways)
    )
    assert mesh_bound(spec) == ("mesh" in gateways)
    hosts: list[str] = []
    for h in spec.hosts:
        r = resolve_short_name(h, ns, t.domain)
        if r not in hosts:
            hosts.append(r)
    return CompiledVirtualService(
        ns,
        vs.metadata.name,
        tuple(hosts),
        gateways,
        frozenset(spec.export_to),
        tuple(entries),
        order,
        t.col(ns, vs.metadata.name).loc(()),
    )


def translate_route(
    t: Translator,
    r: cfg.HTTPRoute,
    index: int,
    ns: str,
    col: Collector,
    path: Path,
    matches: list[tuple[cfg.HTTPMatchRequest, Path]] | None = None,
    delegate: str | None = None,
) -> list[RouteEntry]:
    """One http route → one entry per match block (one without matches)."""
    action = translate_action(t, r, ns, col, path)
    if action is None:
        return []
    if matches is None:
        matches = [(m, (*path, "match", j)) for j, m in enumerate(r.match)]
    fault = action.fault if isinstance(action, Forward) else None
    if not matches:
        return [
            RouteEntry(
                index,
                None,
                (),
                SourceCondition(),
                action,
                r.name,
                None,
                "/",
                None,
                col.loc(path),
                fault,
                delegate,
            )
        ]
    out: list[RouteEntry] = []
    for j, (m, mpath) in enumerate(matches):
        matchers, source, prefix, kind = translate_match(t, m, ns, col, mpath)
        act = action
        if isinstance(action, Redirect) and action.prefix_rewrite is not None:
            act = replace(action, matched_prefix=prefix or "/")
        out.append(
            RouteEntry(
                index,
                j,
                matchers,
                source,
                act,
                r.name,
                m.name,
                prefix,
                kind,
                col.loc(mpath),
                fault,
                delegate,
            )
        )
    return out


def string_matcher(
    t: Translator,
    key: str,
    sm: cfg.StringMatch,
    loc: Any,
    *,
    ignore_case: bool = False,
    invert: bool = False,
    presence_ok: bool = True,
    star_is_presence: bool = False,
) -> Matcher | None:
    """One (valid) StringMatch → Matcher. ``{}`` is a presence match."""
    kind = next((k for k in ("exact", "prefix", "regex") if getattr(sm, k) is not None), None)
    if kind is None or (sm.regex == "*" and star_is_presence):
        return Matcher(key, "present", invert=invert, location=loc) if presence_ok else None
    value = getattr(sm, kind)
    if kind == "regex":
        return Matcher(key, "regex", value, invert=invert, regex=t.regex(value), location=loc)
    return Matcher(key, kind, value, ignore_case=ignore_case, invert=invert, location=loc)  # type: ignore[arg-type]


def translate_match(
    t: Translator, m: cfg.HTTPMatchRequest, ns: str, col: Collector, path: Path
) -> tuple[tuple[Matcher, ...], SourceCondition, str | None, str | None]:
    """Matchers, the config-time source condition, the matched prefix and the uri kind."""
    ms: list[Matcher] = []
    prefix: str | None = "/"
    kind: str | None = None
    u = m.uri
    if u is not None:
        if u.prefix in ("", "/") and u.exact is None and u.regex is None:
            prefix = u.prefix  # catch-all uri; the matched prefix still drives rewrite.uri
        else:
            um = string_matcher(
                t,
                "uri",
                u,
                col.loc((*path, "uri")),
                ignore_case=m.ignore_uri_case,
                presence_ok=False,
            )
            if um is not None:
                ms.append(um)
                kind = um.kind
                prefix = um.value if um.kind == "prefix" else None
    for key, sm in (("scheme", m.scheme), ("method", m.method), ("authority", m.authority)):
        if sm is not None:
            x = string_matcher(t, key, sm, col.loc((*path, key)))
            if x is not None:
                ms.append(x)
    for attr, field_name, invert, pref in MAP_MATCHES:
        mapping: dict[str, cfg.StringMatch | None] = getattr(m, attr)
        for name in sorted(mapping):
            key = pref + (name.lower() if pref == "header:" else name)
            sm = mapping[name] or cfg.StringMatch()  # null: a presence match
            x = string_matcher(
                t,
                key,
                sm,
                col.loc((*path, field_name, name)),
                invert=invert,
                star_is_presence=invert,
            )
            if x is not None:
                ms.append(x)
    gws = frozenset(gateway_key(g, ns) for g in m.gateways)
    source = SourceCondition(
        gws, tuple(sorted(m.source_labels.items())), m.source_namespace, m.port
    )
    return tuple(ms), source, prefix, kind


def _response_ops(r: cfg.HTTPRoute) -> HeaderOps:
    """A route's ``headers.response``: route.go ``TranslateRoute`` sets the header operations
    before the action, so redirects and direct responses carry them (semantics §8.6)."""
    return header_ops(r.headers.response) if r.headers is not None else HeaderOps()


def translate_action(
    t: Translator, r: cfg.HTTPRoute, ns: str, col: Collector, path: Path
) -> Forward | Redirect | DirectResponse | None:
    if r.redirect is not None:
        rd = r.redirect
        code = rd.redirect_code if rd.redirect_code is not None else 301
        return Redirect(
            rd.uri,
            rd.authority,
            rd.scheme,
            rd.port,
            rd.derive_port,
            code,
            rd.prefix_rewrite,
            headers_response=_response_ops(r),
        )
    if r.direct_response is not None:
        dr = r.direct_response
        body = None
        if dr.body is not None:
            body = dr.body.string if dr.body.string is not None else dr.body.bytes
        return DirectResponse(dr.status, body, _response_ops(r))
    if r.route:
        return translate_forward(t, r, ns, col, path)
    return None


def translate_destination(
    t: Translator,
    d: cfg.Destination,
    ns: str,
    col: Collector,
    path: Path,
    headers: cfg.Headers | None = None,
) -> DestinationSpec:
    return DestinationSpec(
        resolve_short_name(d.host, ns, t.domain),
        d.subset,
        d.port.number if d.port is not None else None,
        header_ops(headers.request) if headers else HeaderOps(),
        header_ops(headers.response) if headers else HeaderOps(),
        col.loc(path),
        path,
    )


def translate_forward(
    t: Translator, r: cfg.HTTPRoute, ns: str, col: Collector, path: Path
) -> Forward:
    dests = [
        translate_destination(t, d, ns, col, (*path, "route", i, "destination"), rd.headers)
        for i, rd in enumerate(r.route)
        if (d := rd.destination) is not None
    ]
    mirrors: list[MirrorSpec] = []
    if r.mirror is not None:
        pm = per_million(
            r.mirror_percentage,
            PER_MILLION if r.mirror_percent is None else r.mirror_percent * 10_000,
        )
        mirrors.append(
            MirrorSpec(translate_destination(t, r.mirror, ns, col, (*path, "mirror")), pm)
        )
    for i, mp in enumerate(r.mirrors):
        md = translate_destination(t, mp.destination, ns, col, (*path, "mirrors", i, "destination"))
        mirrors.append(MirrorSpec(md, per_million(mp.percentage, PER_MILLION)))
    t.max_mirrors = max(t.max_mirrors, len(mirrors))
    hdr = r.headers
    return Forward(
        tuple(dests),
        WeightTable.from_config([rd.weight for rd in r.route]),
        translate_rewrite(t, r.rewrite),
        header_ops(hdr.request) if hdr else HeaderOps(),
        header_ops(hdr.response) if hdr else HeaderOps(),
        translate_fault(r.fault, col, (*path, "fault")),
        tuple(mirrors),
        r.timeout,
        r.retries.model_dump(exclude_none=True) if r.retries else None,
        translate_cors(t, r.cors_policy),
    )


def translate_cors(t: Translator, cp: cfg.CorsPolicy | None) -> dict[str, Any] | None:
    """The corsPolicy as written (its YAML keys), plus what Envoy's CORS filter reads
    (route.go ``TranslateCORSPolicy``): ``origin_matchers`` ((kind, value), regexes compiled;
    ``allowOrigins``, else the deprecated ``allowOrigin`` as exact matches), ``max_age_s``
    (whole seconds) and ``forward_unmatched`` (false only for ``unmatchedPreflights: IGNORE``)."""
    import re

    from .webhook import parse_duration_ms

    if cp is None:
        return None
    out: dict[str, Any] = cp.model_dump(exclude_none=True)
    matchers: list[tuple[str, Any]] = []
    if cp.allow_origins:
        for m in cp.allow_origins:
            if m.exact is not None:
                matchers.append(("exact", m.exact))
            elif m.prefix is not None:
                matchers.append(("prefix", m.prefix))
            elif m.regex is not None:
                rx = t.regexes.get(m.regex)
                matchers.append(("regex", rx if rx is not None else re.compile(m.regex)))
    else:
        matchers += [("exact", o) for o in cp.allow_origin]
    out["origin_matchers"] = tuple(matchers)
    if cp.max_age is not None:
        out["max_age_s"] = int((parse_duration_ms(cp.max_age) or 0) // 1000)
    out["forward_unmatched"] = (cp.unmatched_preflights or "").upper() != "IGNORE"
    return out


def translate_fault(f: cfg.HTTPFaultInjection | None, col: Collector, path: Path) -> Fault | None:
    from .webhook import parse_duration_ms

    if f is None:
        return None
    delay_ms = None
    delay_pm = abort_pm = 0
    abort_status = abort_grpc = None
    if f.delay is not None:
        d = f.delay
        if d.fixed_delay is not None:
            delay_ms = round(parse_duration_ms(d.fixed_delay) or 0)
        delay_pm = per_million(d.percentage, (d.percent or 0) * 10_000)
    if f.abort is not None:
        a = f.abort
        abort_status = (
            a.http_status if a.http_status is not None else (200 if a.grpc_status else None)
        )
        abort_grpc = a.grpc_status
        abort_pm = per_million(a.percentage, 0)
    return Fault(delay_ms, delay_pm, abort_status, abort_grpc, abort_pm, col.loc(path))


def translate_rewrite(t: Translator, rw: cfg.HTTPRewrite | None) -> Rewrite | None:
    if rw is None:
        return None
    rr = rw.uri_regex_rewrite
    if rr is None:
        return Rewrite(rw.uri, rw.authority, None, None)
    return Rewrite(rw.uri, rw.authority, t.regex(rr.match or ""), rr.rewrite)
