"""Shared values and the small validators several webhook rules use: durations, hosts,
labels, exportTo, gateway names, regexes (RE2), string matches, header operations,
destinations and percentages, each reporting through a ``Site``."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import re2

from ... import config as cfg
from ..collector import Collector, Path

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
