"""Webhook warnings about rule order (Istio's ``analyzeUnreachableHTTPRules``).

They become IST0130 (VirtualServiceUnreachableRule) and IST0131 (VirtualServiceIneffectiveMatch)
in ``istioctl analyze``: a rule after a rule without matches, a match identical (ignoring its
name) to an earlier one, and a rule whose every match is such a duplicate.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from . import config as cfg


class _Sink(Protocol):
    def warn(self, message: str, path: tuple[str | int, ...], code: str = ...) -> None: ...


def _key(m: cfg.HTTPMatchRequest) -> str:
    data = m.model_dump(exclude_none=True, exclude_defaults=True)
    data.pop("name", None)
    return json.dumps(data, sort_keys=True)


def _name(route: cfg.HTTPRoute, i: int) -> str:
    return f"rule {i}" + (f" ({route.name})" if route.name else "")


def check_virtual_service_routes(http: list[cfg.HTTPRoute | None], sink: _Sink) -> None:
    seen: dict[str, str] = {}
    empty_at: int | None = None
    for i, route in enumerate(http):
        if route is None:
            continue
        path: tuple[Any, ...] = ("spec", "http", i)
        if empty_at is not None:
            sink.warn(
                f"{_name(route, i)} is unreachable: rule {empty_at} has no match conditions "
                "(only the last rule can have no matches)",
                path,
                "IST0130",
            )
        if not route.match:
            if empty_at is None:
                empty_at = i
            continue
        dups = 0
        for j, m in enumerate(route.match):
            k = _key(m)
            if k in seen:
                dups += 1
                sink.warn(
                    f"match {j} of {_name(route, i)} is ineffective: used by {seen[k]}",
                    (*path, "match", j),
                    "IST0131",
                )
            else:
                seen[k] = f"{_name(route, i)} match {j}"
        if dups == len(route.match) and empty_at is None:
            sink.warn(
                f"{_name(route, i)} is unreachable: all matches used by prior rules",
                path,
                "IST0130",
            )
