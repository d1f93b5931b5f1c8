"""Envoy's CORS filter on a route's ``corsPolicy`` (Istio puts it on the route's
``typed_per_filter_config``: route.go ``TranslateCORSPolicy``).

envoyproxy/envoy source/extensions/filters/http/cors/cors_filter.cc: ``decodeHeaders`` looks
at requests with a non-empty ``Origin``; a preflight (``OPTIONS`` with a non-empty
``Access-Control-Request-Method``) is answered 200 by the filter itself when the origin is
allowed, or when it is not and ``forwardNotMatchingPreflights`` is false (Istio:
``unmatchedPreflights: IGNORE``); otherwise it goes on to be routed. ``encodeHeaders`` adds
``Access-Control-Allow-Origin`` (and credentials, expose headers) to the response of a
request whose origin is allowed. ``isOriginAllowed``: a matcher that matches ``*`` or the
origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ..batch import RequestBatch

__all__ = ["origin_allowed", "preflight_answer", "preflight_mask", "simple_headers"]

Ops = tuple[tuple[str, str, str], ...]


def _header(headers: Mapping[str, Any], name: str) -> str:
    v = headers.get(name)
    if isinstance(v, list | tuple):
        v = ",".join(str(x) for x in v)
    return "" if v is None else str(v)


def _match(kind: str, value: Any, text: str) -> bool:
    if kind == "exact":
        return bool(text == value)
    if kind == "prefix":
        return text.startswith(value)
    return value.fullmatch(text) is not None


def origin_allowed(cors: Mapping[str, Any], origin: str) -> bool:
    return any(
        _match(kind, value, "*") or _match(kind, value, origin)
        for kind, value in cors.get("origin_matchers", ())
    )


def preflight_answer(
    cors: Mapping[str, Any], method: str, headers: Mapping[str, Any]
) -> Ops | None:
    """The response headers of the 200 the filter answers a preflight with, or None when the
    request goes on to be routed."""
    origin = _header(headers, "origin")
    if not origin or method.upper() != "OPTIONS":
        return None
    request_method = _header(headers, "access-control-request-method")
    if not request_method:
        return None
    allowed = origin_allowed(cors, origin)
    if not allowed and cors.get("forward_unmatched", True):
        return None
    out: list[tuple[str, str, str]] = []
    if allowed:
        out.append(("set", "access-control-allow-origin", origin))
    if cors.get("allowCredentials"):
        out.append(("set", "access-control-allow-credentials", "true"))
    methods = ",".join(cors.get("allowMethods", ()))
    if methods:
        out.append(
            ("set", "access-control-allow-methods", request_method if methods == "*" else methods)
        )
    allow_headers = ",".join(cors.get("allowHeaders", ()))
    if allow_headers:
        value = (
            _header(headers, "access-control-request-headers")
            if allow_headers == "*"
            else allow_headers
        )
        out.append(("set", "access-control-allow-headers", value))
    if "max_age_s" in cors:
        out.append(("set", "access-control-max-age", str(cors["max_age_s"])))
    return tuple(out)


def simple_headers(cors: Mapping[str, Any] | None, headers: Mapping[str, Any]) -> Ops:
    """What ``encodeHeaders`` adds to the response of a request whose origin is allowed."""
    if not cors:
        return ()
    origin = _header(headers, "origin")
    if not origin or not origin_allowed(cors, origin):
        return ()
    out: list[tuple[str, str, str]] = [("set", "access-control-allow-origin", origin)]
    if cors.get("allowCredentials"):
        out.append(("set", "access-control-allow-credentials", "true"))
    expose = ",".join(cors.get("exposeHeaders", ()))
    if expose:
        out.append(("set", "access-control-expose-headers", expose))
    return tuple(out)


def preflight_mask(cors: Mapping[str, Any], batch: RequestBatch) -> npt.NDArray[np.bool_]:
    """Per request of ``batch``: does the CORS filter answer it (``preflight_answer`` is not
    None)? Evaluated once per distinct (method, Origin, Access-Control-Request-Method)."""
    from ..batch import Column  # the vector path's: a scalar route needs no batch module

    names = ("origin", "access-control-request-method")
    cols = [batch.method] + [batch.headers.get(h) or Column.constant(None, batch.n) for h in names]
    keys = np.stack([np.asarray(c.codes, np.int64) for c in cols], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    answers = np.zeros(len(uniq), bool)
    for i, row in enumerate(uniq):
        method = cols[0].values[int(row[0])]
        headers = {
            h: cols[j + 1].values[int(row[j + 1])]
            for j, h in enumerate(names)
            if cols[j + 1].values[int(row[j + 1])] is not None
        }
        answers[i] = preflight_answer(cors, str(method), headers) is not None
    return answers[np.asarray(inverse).reshape(-1)]
