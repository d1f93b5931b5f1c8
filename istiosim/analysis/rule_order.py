"""IST0130 and IST0131: webhook warnings about rule order (Istio's ``analyzeUnreachable{HTTP,TCP,TLS}Rules``).

They become IST0130 (VirtualServiceUnreachableRule) and IST0131 (VirtualServiceIneffectiveMatch)
in ``istioctl analyze``. Mirrors Istio's validation.go rule for rule, so that the counts match
upstream's analyzer tests:

- a rule without matches after a rule without matches: "only the last rule can have no
  matches"; each match of a rule after a match-less rule: "route without matches defined before";
- a match identical (ignoring its ``name``) to an earlier rule's: ineffective; a rule whose every
  match is such a duplicate: unreachable ("all matches used by prior rules");
- HTTP only, the prefix-overlap heuristic (``genMatchHTTPRoutes`` / ``coveredValidation``): an
  earlier prefix match covers a later one when the later prefix extends it and port, method
  (a match without method counts as ``GET``), authority, headers, query parameters and
  withoutHeaders are prefix-compatible. Exact and regex URIs take no part.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .. import config as cfg
from ..errors import Diagnostic
from .subject import Subject


class _Sink(Protocol):
    def warn(self, message: str, path: tuple[str | int, ...], code: str = ...) -> None: ...


def _key(m: Any) -> str:
    """Istio's ``asJSON``: the match serialised without its name."""
    if isinstance(m, cfg.HTTPMatchRequest):
        data: Any = m.model_dump(exclude_none=True, exclude_defaults=True)
    else:
        data = dict(m) if isinstance(m, dict) else m
    if isinstance(data, dict):
        data.pop("name", None)
    return json.dumps(data, sort_keys=True, default=str)


def _route_name(route: Any, i: int) -> str:
    name = route.name if isinstance(route, cfg.HTTPRoute) else None
    return f'"{name}"' if name else f"#{i}"


def _match_name(m: Any, j: int) -> str:
    name = m.name if isinstance(m, cfg.HTTPMatchRequest) else None
    return f'"{name}"' if name else f"#{j}"


def _matches(route: Any) -> list[Any]:
    if isinstance(route, cfg.HTTPRoute):
        return list(route.match)
    if isinstance(route, dict):  # tcp/tls routes are loaded as plain data, not checked
        m = route.get("match")
        return list(m) if isinstance(m, list) else []
    return []


@dataclass(frozen=True)
class _Prefixed:
    """One HTTP prefix match, as ``OverlappingMatchValidationForHTTPRoute``."""

    route: str
    match: str
    path: tuple[str | int, ...]
    prefix: str
    port: int
    method: str
    authority: str
    headers: dict[str, str]
    query: dict[str, str]
    without: dict[str, str]


def _exact_or_prefix(sm: cfg.StringMatch | None) -> str:
    if sm is None:
        return ""
    if sm.exact:
        return "exact:" + sm.exact
    if sm.prefix:
        return "prefix:" + sm.prefix
    return ""


def _prefixed(
    m: cfg.HTTPMatchRequest, route: str, match: str, path: tuple[str | int, ...]
) -> _Prefixed | None:
    if m.uri is None or not m.uri.prefix:
        return None
    return _Prefixed(
        route,
        match,
        path,
        m.uri.prefix,
        m.port or 0,
        _exact_or_prefix(m.method) or "exact:GET",
        _exact_or_prefix(m.authority),
        {k: _exact_or_prefix(v) for k, v in m.headers.items()},
        {k: _exact_or_prefix(v) for k, v in m.query_params.items()},
        {k: _exact_or_prefix(v) for k, v in m.without_headers.items()},
    )


def _covered_map(a: dict[str, str], b: dict[str, str]) -> bool:
    if len(a) != len(b):
        return False
    return all(k in b and (v == b[k] or v.startswith(b[k])) for k, v in a.items())


def _covers(a: _Prefixed, b: _Prefixed) -> bool:
    """Istio's ``coveredValidation(vA, vB)``: does earlier ``a`` cover later ``b``?"""
    if not b.prefix.startswith(a.prefix) or a.port != b.port:
        return False
    if a.method != b.method and not a.method.startswith(b.method):
        return False
    if a.authority != b.authority and not a.authority.startswith(b.authority):
        return False
    return (
        _covered_map(a.headers, b.headers)
        and _covered_map(a.query, b.query)
        and _covered_map(a.without, b.without)
    )


def check_routes(routes: Sequence[Any], kind: str, sink: _Sink) -> None:
    """IST0130/IST0131 for one route list of a VirtualService (``kind``: http, tcp or tls)."""
    seen: dict[str, int] = {}
    empty_at = -1
    prefixed: list[_Prefixed] = []
    for i, route in enumerate(routes):
        if route is None:
            continue
        path: tuple[str | int, ...] = ("spec", kind, i)
        rname = _route_name(route, i)
        matches = _matches(route)
        if not matches:
            if empty_at >= 0:
                sink.warn(
                    f"virtualService rule {rname} not used "
                    "(only the last rule can have no matches)",
                    path,
                    "IST0130",
                )
            empty_at = i
            continue
        dups = 0
        for j, m in enumerate(matches):
            mpath = (*path, "match", j)
            if empty_at >= 0:
                sink.warn(
                    f"virtualService rule {rname} not used (route without matches defined "
                    f"before, rule {_route_name(routes[empty_at], empty_at)})",
                    mpath,
                    "IST0130",
                )
                continue
            k = _key(m)
            if k in seen:
                dups += 1
                d = seen[k]
                sink.warn(
                    f"virtualService rule {rname} match {_match_name(m, j)} is not used "
                    f"(duplicate/overlapping match in rule {_route_name(routes[d], d)})",
                    mpath,
                    "IST0131",
                )
                continue
            seen[k] = i
            if isinstance(m, cfg.HTTPMatchRequest):
                p = _prefixed(m, rname, _match_name(m, j), mpath)
                if p is not None:
                    prefixed.append(p)
        if dups == len(matches):
            sink.warn(
                f"virtualService rule {rname} not used (all matches used by prior rules)",
                path,
                "IST0130",
            )
    for a, b in _covering_pairs(prefixed):
        sink.warn(
            f"virtualService rule {b.route} match {b.match} of prefix {b.prefix} is not "
            f"used (duplicate/overlapping match in rule {a.match} of prefix {a.prefix} "
            f"on {a.route})",
            b.path,
            "IST0131",
        )


def _covering_pairs(prefixed: list[_Prefixed]) -> list[tuple[_Prefixed, _Prefixed]]:
    """Every (earlier a, later b) with ``_covers(a, b)``, ordered by a then b.

    Only an earlier match whose prefix is a proper prefix of b's can cover b, so the
    candidates come from an index by prefix (one lookup per prefix length of b), not from
    every earlier match: near-linear for the common shapes, where Istio's own loop is
    quadratic."""
    by_prefix: dict[str, list[int]] = {}
    pairs: list[tuple[int, int]] = []
    for j, b in enumerate(prefixed):
        for cut in range(1, len(b.prefix)):
            for i in by_prefix.get(b.prefix[:cut], ()):
                if _covers(prefixed[i], b):
                    pairs.append((i, j))
        by_prefix.setdefault(b.prefix, []).append(j)
    pairs.sort()
    return [(prefixed[i], prefixed[j]) for i, j in pairs]


def check_virtual_service(spec: cfg.VirtualServiceSpec, sink: _Sink) -> None:
    """All three route lists of a VirtualService, as Istio's ValidateVirtualService does."""
    check_routes(spec.http, "http", sink)
    check_routes(spec.tcp, "tcp", sink)
    check_routes(spec.tls, "tls", sink)


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for vs in s.config.virtual_services:
        ns = vs.metadata.namespace or "default"
        check_virtual_service(vs.spec, s.collector(out, "VirtualService", ns, vs.metadata.name))
    return out
