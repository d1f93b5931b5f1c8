"""Delegation (semantics §4): a root route's ``delegate`` is replaced by the delegate
VirtualService's routes, each match merged with the root's and the root's settings inherited.

Follows Istio's ``mergeVirtualServicesIfNeeded`` / ``mergeHTTPMatchRequests`` (pilot/pkg/model/
virtualservice.go): a delegate match that conflicts with the root's is dropped.
"""

from __future__ import annotations

from typing import Any

from .. import config as cfg
from ..plan import RouteEntry
from .collector import Path
from .virtualservice import Translator, translate_route
from .webhook import delegate_problem


def delegate_target(
    root: cfg.HTTPRoute, ns: str, by_key: dict[tuple[str, str], cfg.VirtualService]
) -> cfg.VirtualService | None:
    """The delegate a root route names, when it exists, has no hosts and is exported to the
    root's namespace; else None (the route is dropped, as Istio does)."""
    assert root.delegate is not None
    if root.route or root.redirect or delegate_problem(root, ns, by_key) is not None:
        return None
    return by_key[(root.delegate.namespace or ns, root.delegate.name)]


def delegated_routes(
    t: Translator,
    root: cfg.HTTPRoute,
    index: int,
    ns: str,
    by_key: dict[tuple[str, str], cfg.VirtualService],
) -> list[RouteEntry]:
    """The entries that replace root route ``index``: the delegate's, merged."""
    target = delegate_target(root, ns, by_key)
    if target is None:
        return []
    dns = target.metadata.namespace or "default"
    dcol = t.col(dns, target.metadata.name)
    out: list[RouteEntry] = []
    for j, dr in enumerate(target.spec.http):
        if dr is None or dr.delegate is not None:
            continue
        dpath: Path = ("spec", "http", j)
        root_matches: list[cfg.HTTPMatchRequest | None] = list(root.match) or [None]
        del_matches: list[cfg.HTTPMatchRequest | None] = list(dr.match) or [None]
        # virtualservice.go ``mergeHTTPMatchRequests``: each delegate match is merged with every
        # root match it does not conflict with; one delegate match with no such root match
        # drops the whole delegate route
        ms: list[tuple[cfg.HTTPMatchRequest, Path]] = []
        for k, dm in enumerate(del_matches):
            found = False
            for rm in root_matches:
                m = merge_match(rm, dm)
                if m is not None:
                    found = True
                    ms.append((m, (*dpath, "match", k) if dm is not None else dpath))
            if not found:
                ms = []
                break
        if ms:
            out.extend(
                translate_route(
                    t,
                    inherit(dr, root),
                    index,
                    dns,
                    dcol,
                    dpath,
                    ms,
                    f"{dns}/{target.metadata.name}",
                )
            )
    return out


def inherit(d: cfg.HTTPRoute, root: cfg.HTTPRoute) -> cfg.HTTPRoute:
    """Root's timeout/retries/fault/mirror/headers/rewrite/cors fill unset delegate fields."""
    fill: dict[str, Any] = {}
    for name in (
        "timeout",
        "retries",
        "fault",
        "mirror",
        "mirror_percentage",
        "headers",
        "rewrite",
        "cors_policy",
    ):
        if getattr(d, name) is None and getattr(root, name) is not None:
            fill[name] = getattr(root, name)
    if not d.mirrors and root.mirrors and d.mirror is None:
        fill["mirrors"] = root.mirrors
    # ``mergeHTTPRoute``: the route is named ``root-delegate`` when both are named
    if root.name:
        fill["name"] = f"{root.name}-{d.name}" if d.name else root.name
    return d.model_copy(update=fill) if fill else d


def string_match_conflict(root: cfg.StringMatch | None, sub: cfg.StringMatch | None) -> bool:
    """Istio's ``stringMatchConflict``: the delegate must narrow the root's condition."""
    if root is None or sub is None:
        return False
    if root.regex is not None or sub.regex is not None:
        return True  # regex on either side forbids a match on that property on the other
    if root.exact is not None:
        return sub.exact != root.exact
    if root.prefix is not None:
        val = sub.exact if sub.exact is not None else sub.prefix
        return val is None or not val.startswith(root.prefix)
    return True  # a presence match ``{}`` on the root admits no narrowing


def has_conflict(root: cfg.HTTPMatchRequest, sub: cfg.HTTPMatchRequest) -> bool:
    """The rest of virtualservice.go ``hasConflict``: ``ignoreUriCase`` differs, ports both set
    and different, a root ``sourceNamespace`` the delegate does not repeat, a ``sourceLabels``
    key with two values, delegate ``gateways`` outside the root's."""
    if bool(root.ignore_uri_case) != bool(sub.ignore_uri_case):
        return True
    if root.port and sub.port and root.port != sub.port:
        return True
    if root.source_namespace and sub.source_namespace != root.source_namespace:
        return True
    for k, v in sub.source_labels.items():
        if k in root.source_labels and root.source_labels[k] != v:
            return True
    return bool(root.gateways and sub.gateways and not set(sub.gateways) <= set(root.gateways))


def merge_match(
    root: cfg.HTTPMatchRequest | None, sub: cfg.HTTPMatchRequest | None
) -> cfg.HTTPMatchRequest | None:
    """Field-wise merge (delegate wins, root fills gaps); None when they conflict."""
    if root is None:
        return sub or cfg.HTTPMatchRequest()
    if sub is None:
        return root
    for f in ("uri", "scheme", "method", "authority"):
        if string_match_conflict(getattr(root, f), getattr(sub, f)):
            return None
    for f in ("headers", "query_params", "without_headers"):
        rmap, smap = getattr(root, f), getattr(sub, f)
        for k in rmap.keys() & smap.keys():
            if string_match_conflict(rmap[k], smap[k]):
                return None
    if has_conflict(root, sub):
        return None
    update: dict[str, Any] = {}
    for f in cfg.HTTPMatchRequest.model_fields:
        sv, rv = getattr(sub, f), getattr(root, f)
        if isinstance(sv, dict):
            update[f] = {**rv, **sv}
        elif sv in (None, [], False) and rv not in (None, [], False):
            update[f] = rv
    return sub.model_copy(update=update)
