"""compile_plan(config) → RoutePlan: validate once, then build the immutable plan.

Refuses what Istio's admission webhook refuses (semantics §5.1–5.2: bad regex, negative or
all-zero weights, one-of violations, bad names and durations, …) with one ``ConfigError``
listing every problem with file:line:col and field. Accepts what Istio accepts but that points
nowhere (unknown host, undefined subset, subset with no pods) and reports it as a diagnostic;
the engines then produce what Envoy would (503 NC, 503 UH).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import re2

from . import config as cfg
from ._compile_checks import check_virtual_service
from .errors import ConfigError, Diagnostic, Location, Severity
from .loader import ConfigSet, SourceMap
from .mesh import Mesh, Service, labels_match, resolve_short_name
from .plan import (
    DRAW_MIRROR0,
    PER_MILLION,
    CompiledDestinationRule,
    CompiledVirtualService,
    DestinationSpec,
    DirectResponse,
    Endpoint,
    Fault,
    Forward,
    HeaderOps,
    LbPolicy,
    Matcher,
    MirrorSpec,
    Redirect,
    Rewrite,
    RouteEntry,
    RoutePlan,
    ServiceInfo,
    SourceCondition,
    SubsetSpec,
)
from .weights import WeightTable

_LABEL = re.compile(r"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$")
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_MS = {
    "ns": 1e-6,
    "us": 1e-3,
    "µs": 1e-3,
    "ms": 1.0,
    "s": 1000.0,
    "m": 60000.0,
    "h": 3600000.0,
}
_HEADER_NAME = re.compile(r"^:?[-!#$%&'*+.^_`|~0-9a-zA-Z]+$")
_K8S_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
MAX_REGEX_LEN = 1024
_INT32_MAX = 2**31 - 1
_UINT32_MAX = 2**32 - 1


def parse_duration_ms(text: str) -> float | None:
    """Go duration (``1.5s``, ``100ms``, ``1h2m``) → milliseconds; None when malformed."""
    if not isinstance(text, str) or not _DURATION.match(text):
        return None
    return sum(float(n) * _UNIT_MS[u] for n, u in _DURATION_PART.findall(text))


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
    return all(len(p) <= 63 and _LABEL.match(p) for p in name.split("."))


@dataclass
class _Collector:
    """Diagnostics of one object, located through its source map."""

    resource: str
    source: SourceMap
    fallback: Location
    out: list[Diagnostic] = field(default_factory=list)

    def loc(self, path: Iterable[str | int]) -> Location:
        return self.source.find(tuple(path)) or self.fallback

    def add(
        self, code: str, message: str, path: tuple[str | int, ...], severity: Severity | None = None
    ) -> None:
        dotted = ""
        for p in path:
            dotted += f"[{p}]" if isinstance(p, int) else ("." if dotted else "") + str(p)
        self.out.append(
            Diagnostic.make(
                code,
                message,
                self.loc(path),
                resource=self.resource,
                field_path=dotted,
                severity=severity,
            )
        )

    def error(self, message: str, path: tuple[str | int, ...]) -> None:
        self.add("IST0106", message, path)

    def warn(self, message: str, path: tuple[str | int, ...], code: str = "IST0133") -> None:
        self.add(code, message, path)


def compile_regex(pattern: str, col: _Collector, path: tuple[str | int, ...]) -> Any:
    """RE2 (Envoy's engine): full-match semantics, ≤1024 characters, no look-around."""
    if pattern == "":
        col.error("regex match must not be empty", path)
        return None
    if len(pattern) > MAX_REGEX_LEN:
        col.error(f"regex is {len(pattern)} characters; the limit is {MAX_REGEX_LEN}", path)
        return None
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
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


def _string_matcher(
    key: str,
    sm: cfg.StringMatch | None,
    col: _Collector,
    path: tuple[str | int, ...],
    *,
    allow_empty_prefix: bool = False,
    ignore_case: bool = False,
    invert: bool = False,
    presence_ok: bool = True,
    star_is_presence: bool = False,
) -> Matcher | None:
    """One StringMatch → Matcher. ``{}`` is a presence match.

    ``regex: "*"`` is a presence match only under ``withoutHeaders``: Istio's route translation
    would convert it anywhere (``canBeConvertedToPresentMatch``), but the admission webhook
    compiles every other regex with Go's RE2 first and refuses ``*``
    (pkg/config/validation/virtualservice.go ``validateHTTPRouteMatchRequest`` →
    ``validateStringMatchRegexp``), and never validates ``withoutHeaders``.
    """
    if sm is None:
        what = f"header match {key[7:]!r}" if key.startswith("header:") else f"{key} match"
        col.error(f"{what} cannot be null", path)
        return None
    set_ = [k for k in ("exact", "prefix", "regex") if getattr(sm, k) is not None]
    loc = col.loc(path)
    if len(set_) > 1:
        col.error(
            f"only one of exact, prefix, regex may be set (got {', '.join(set_)})",
            (*path, _written_last(col, path, set_)),
        )
        return None
    if not set_ or (sm.regex == "*" and star_is_presence):
        if not presence_ok:
            return None
        return Matcher(key, "present", invert=invert, location=loc)
    kind = set_[0]
    value = getattr(sm, kind)
    if kind == "prefix" and value == "" and not allow_empty_prefix:
        col.error("prefix match must not be empty", (*path, "prefix"))
        return None
    if kind == "regex":
        rx = compile_regex(value, col, (*path, "regex"))
        if rx is None:
            return None
        return Matcher(key, "regex", value, invert=invert, regex=rx, location=loc)
    return Matcher(key, kind, value, ignore_case=ignore_case, invert=invert, location=loc)  # type: ignore[arg-type]


_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _check_labels(labels: dict[str, str], col: _Collector, path: tuple[str | int, ...]) -> None:
    """Kubernetes label keys (``[prefix/]name``) and values, as ``labels.Instance.Validate``."""
    for k, v in labels.items():
        prefix, _, name = k.rpartition("/")
        if (
            not name
            or len(name) > 63
            or not _LABEL_NAME.match(name)
            or (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)))
        ):
            col.error(f"invalid label key {k!r}", (*path, k))
        elif len(v) > 63 or not _K8S_LABEL_VALUE.match(v):
            col.error(f"invalid label value {v!r} for {k!r}", (*path, k))


def _written_last(col: _Collector, path: tuple[str | int, ...], keys: list[str]) -> str:
    """Of several mutually exclusive keys, the one written last: the one that conflicts."""

    def where(k: str) -> tuple[int, int]:
        loc = col.source.locations.get((*path, k))
        return (loc.line, loc.column) if loc else (0, 0)

    return max(keys, key=where)


def _hosts_overlap(a: str, b: str) -> bool:
    """Istio's ``host.Name.Matches``: equal, or equal once wildcards are substituted."""
    if a == b:
        return True
    aw, bw = a.startswith("*"), b.startswith("*")
    if aw and bw:
        return a[1:].endswith(b[1:]) or b[1:].endswith(a[1:])
    if aw:
        return b.endswith(a[1:])
    if bw:
        return a.endswith(b[1:])
    return False


def _header_ops(ops: cfg.HeaderOperations | None) -> HeaderOps:
    if ops is None:
        return HeaderOps()
    return HeaderOps(tuple(ops.set.items()), tuple(ops.add.items()), tuple(ops.remove))


def _per_million(p: cfg.Percent | None, default: int) -> int:
    if p is None:
        return default
    # Istio truncates: uint32(percentage * 10000) out of a million (route.go translatePercentToFractionalPercent)
    return int(p.value * 10_000)


class _Compiler:
    def __init__(self, config: ConfigSet, mesh: Mesh) -> None:
        self.config = config
        self.mesh = mesh
        self.diags: list[Diagnostic] = []
        self.max_mirrors = 0
        #: delegate VirtualServices' own routes, analyzed under their own name (IST0101)
        self.delegate_routes: list[tuple[cfg.VirtualService, str, list[RouteEntry]]] = []
        #: ids of root entries that came from a delegate (analyzed with the delegate)
        self.inherited: set[int] = set()
        #: id(DestinationSpec) → its path, so analyzer findings point at host, port or subset
        self.dest_paths: dict[int, tuple[str | int, ...]] = {}

    def col(self, kind: str, ns: str, name: str) -> _Collector:
        src = self.config.source(kind, ns, name)
        fallback = src.find(()) or Location(
            self.config.files[0] if self.config.files else "<config>"
        )
        return _Collector(f"{kind} {ns}/{name}", src, fallback, self.diags)

    # -- virtual services ----------------------------------------------------------------------

    def virtual_services(
        self,
    ) -> tuple[list[CompiledVirtualService], dict[tuple[str, str], cfg.VirtualService]]:
        by_key = {
            (v.metadata.namespace or "default", v.metadata.name): v
            for v in self.config.virtual_services
        }
        out = []
        for order, vs in enumerate(self.config.virtual_services):
            ns = vs.metadata.namespace or "default"
            if not vs.spec.hosts:
                self._check_delegate_vs(vs, ns)
                continue  # delegates are compiled into their roots
            c = self.compile_vs(vs, ns, order, by_key)
            if c is not None:
                out.append(c)
        return out, by_key

    def _check_delegate_vs(self, vs: cfg.VirtualService, ns: str) -> None:
        col = self.col("VirtualService", ns, vs.metadata.name)
        if vs.spec.gateways:
            col.error(
                "delegate VirtualService (no hosts) must not have gateways", ("spec", "gateways")
            )
        for kind in ("tcp", "tls"):
            if getattr(vs.spec, kind):
                col.error(
                    f"delegate VirtualService (no hosts) must not have {kind} routes",
                    ("spec", kind),
                )
        if not vs.spec.http and not vs.spec.tcp and not vs.spec.tls:
            col.error("http, tcp or tls must be provided in virtual service", ("spec",))
        self._export_to(vs.spec.export_to, col, ("spec", "exportTo"))
        for i, r in enumerate(vs.spec.http):
            if r is not None and r.delegate is not None:
                col.error(
                    "a delegate VirtualService's routes cannot delegate again",
                    ("spec", "http", i, "delegate"),
                )
        entries = self._routes(vs, ns, col, list(vs.spec.http), ("spec", "http"), delegate=True)
        self.delegate_routes.append((vs, ns, entries))
        check_virtual_service(vs.spec, col)

    def compile_vs(
        self,
        vs: cfg.VirtualService,
        ns: str,
        order: int,
        by_key: dict[tuple[str, str], cfg.VirtualService],
    ) -> CompiledVirtualService | None:
        col = self.col("VirtualService", ns, vs.metadata.name)
        spec = vs.spec
        gateways = (
            frozenset(self._gateway(g, ns) for g in spec.gateways)
            if spec.gateways
            else frozenset({"mesh"})
        )
        hosts: list[str] = []
        all_valid = True
        for i, h in enumerate(spec.hosts):
            if not valid_host(h):
                col.error(f"invalid host {h!r}", ("spec", "hosts", i))
                all_valid = False
            elif h == "*" and "mesh" in gateways:
                col.error(
                    "wildcard host * is not allowed for virtual services bound to the mesh gateway",
                    ("spec", "hosts", i),
                )
                all_valid = False
        for i, h in enumerate(spec.hosts):
            # Istio compares the names as written (``host.Name.Matches``), wildcards included
            earlier = next((e for e in spec.hosts[:i] if _hosts_overlap(e, h)), None)
            if all_valid and earlier is not None:
                col.error(
                    f"duplicate hosts in virtual service: {earlier} & {h}", ("spec", "hosts", i)
                )
                continue
            r = resolve_short_name(h, ns, self.mesh.domain)
            if r in hosts:
                col.warn(
                    f"host {h!r} names the same service as an earlier host ({r})",
                    ("spec", "hosts", i),
                )
                continue
            hosts.append(r)
        for i, g in enumerate(spec.gateways):
            self._gateway_name(g, col, ("spec", "gateways", i))
        if "mesh" in gateways:
            self._jwt_claims_on_mesh(spec.http, col)
        if not spec.http and not spec.tcp and not spec.tls:
            col.error("http, tcp or tls must be provided in virtual service", ("spec",))
        self._export_to(spec.export_to, col, ("spec", "exportTo"))
        entries = self._routes(
            vs, ns, col, list(spec.http), ("spec", "http"), delegate=False, by_key=by_key
        )
        check_virtual_service(spec, col)
        return CompiledVirtualService(
            ns,
            vs.metadata.name,
            tuple(hosts),
            gateways,
            frozenset(spec.export_to),
            tuple(entries),
            order,
            col.loc(()),
        )

    def _gateway_name(self, g: str, col: _Collector, path: tuple[str | int, ...]) -> None:
        """Istio's ``validateGatewayNames``: ``ns/name`` of DNS-1123 labels, or a legacy FQDN."""
        if g == "mesh":
            return
        if "/" not in g:
            if not all(_LABEL.match(p) for p in g.split(".")) or len(g) > 255:
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
        elif not _DNS1123.match(gns) or len(gns) > 63:
            col.error(f"invalid value for namespace: {gns!r} (gateway {g!r})", path)
        elif not _DNS1123.match(name) or len(name) > 63:
            col.error(f"invalid value for gateway name: {name!r} (gateway {g!r})", path)

    def _jwt_claims_on_mesh(self, http: list[cfg.HTTPRoute | None], col: _Collector) -> None:
        """JWT claim matches need a gateway's RequestAuthentication; sidecars cannot do them."""
        for i, r in enumerate(http):
            for j, m in enumerate(r.match if r is not None else ()):
                for field_name, mapping in (
                    ("headers", m.headers),
                    ("withoutHeaders", m.without_headers),
                ):
                    for key in mapping:
                        if key.startswith("@request.auth.claims"):
                            col.error(
                                f"JWT claim based routing (key: {key}) is only supported for "
                                "gateway, found no gateways",
                                ("spec", "http", i, "match", j, field_name, key),
                            )

    def _gateway(self, g: str, ns: str) -> str:
        if g == "mesh":
            return g
        if "/" in g:
            return g
        if "." in g:  # legacy name.namespace
            name, _, gns = g.partition(".")
            return f"{gns}/{name}"
        return f"{ns}/{g}"

    def _export_to(
        self, export_to: list[str], col: _Collector, path: tuple[str | int, ...]
    ) -> None:
        seen: set[str] = set()
        for i, e in enumerate(export_to):
            if e in seen:
                col.error(f"duplicate entry {e!r} in exportTo", (*path, i))
            seen.add(e)
            if e not in ("*", ".", "~") and not _DNS1123.match(e):
                col.error(f"invalid exportTo namespace {e!r}", (*path, i))
        if "*" in seen and len(seen) > 1:
            col.error("exportTo '*' must be the only entry", path)

    def _routes(
        self,
        vs: cfg.VirtualService,
        ns: str,
        col: _Collector,
        http: list[cfg.HTTPRoute | None],
        base: tuple[str | int, ...],
        *,
        delegate: bool,
        by_key: dict[tuple[str, str], cfg.VirtualService] | None = None,
    ) -> list[RouteEntry]:
        entries: list[RouteEntry] = []
        for i, r in enumerate(http):
            path = (*base, i)
            if r is None:
                col.error("http route must not be null", path)
                continue
            if r.delegate is not None and not delegate and by_key is not None:
                entries.extend(self._delegate(r, i, ns, col, path, by_key))
                continue
            entries.extend(self._route(r, i, ns, col, path))
        return entries

    def _route(
        self,
        r: cfg.HTTPRoute,
        index: int,
        ns: str,
        col: _Collector,
        path: tuple[str | int, ...],
        matches: list[tuple[cfg.HTTPMatchRequest, tuple[str | int, ...]]] | None = None,
    ) -> list[RouteEntry]:
        action = self._action(r, ns, col, path)
        if matches is None:
            matches = [(m, (*path, "match", j)) for j, m in enumerate(r.match)]
        fault = action.fault if isinstance(action, Forward) else None
        out: list[RouteEntry] = []
        if not matches:
            if action is not None:
                out.append(
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
                    )
                )
            return out
        for j, (m, mpath) in enumerate(matches):
            built = self._match(m, col, mpath)
            if built is None or action is None:
                continue
            matchers, source, prefix, kind = built
            out.append(
                RouteEntry(
                    index,
                    j,
                    matchers,
                    source,
                    action,
                    r.name,
                    m.name,
                    prefix,
                    kind,
                    col.loc(mpath),
                    fault,
                )
            )
        return out

    def _match(
        self, m: cfg.HTTPMatchRequest, col: _Collector, path: tuple[str | int, ...]
    ) -> tuple[tuple[Matcher, ...], SourceCondition, str | None, str | None] | None:
        n_err = len(self.diags)
        ms: list[Matcher] = []
        prefix: str | None = "/"
        kind: str | None = None
        if m.uri is not None:
            u = m.uri
            if u.prefix in ("", "/") and u.exact is None and u.regex is None:
                prefix = u.prefix  # catch-all uri; the matched prefix still drives rewrite.uri
            else:
                um = _string_matcher(
                    "uri",
                    u,
                    col,
                    (*path, "uri"),
                    allow_empty_prefix=True,
                    ignore_case=m.ignore_uri_case,
                    presence_ok=False,
                )
                if um is not None:
                    ms.append(um)
                    kind = um.kind
                    prefix = um.value if um.kind == "prefix" else None
        for key, sm in (("scheme", m.scheme), ("method", m.method), ("authority", m.authority)):
            if sm is not None:
                x = _string_matcher(key, sm, col, (*path, key))
                if x is not None:
                    ms.append(x)
        for attr, field_name, invert, pref in (
            ("headers", "headers", False, "header:"),
            ("query_params", "queryParams", False, "query:"),
            ("without_headers", "withoutHeaders", True, "header:"),
        ):
            mapping: dict[str, cfg.StringMatch | None] = getattr(m, attr)
            for name in sorted(mapping):
                hpath = (*path, field_name, name)
                if (
                    pref == "header:"
                    and not _HEADER_NAME.match(name)
                    and not name.startswith("@request.auth.claims")
                ):
                    col.error(f"invalid header name {name!r}", hpath)
                    continue
                key = pref + (name.lower() if pref == "header:" else name)
                sm = mapping[name]
                if sm is None and field_name != "headers":
                    sm = cfg.StringMatch()  # Istio accepts null here: a presence match
                x = _string_matcher(key, sm, col, hpath, invert=invert, star_is_presence=invert)
                if x is not None:
                    ms.append(x)
        if m.port is not None and not (0 < m.port < 65536):
            col.error(f"port {m.port} must be in 1-65535", (*path, "port"))
        if m.source_namespace is not None and not _DNS1123.match(m.source_namespace):
            col.error(f"invalid sourceNamespace {m.source_namespace!r}", (*path, "sourceNamespace"))
        _check_labels(m.source_labels, col, (*path, "sourceLabels"))
        if len(self.diags) > n_err and any(
            d.severity is Severity.ERROR for d in self.diags[n_err:]
        ):
            return None
        gws = frozenset(
            self._gateway(g, col.resource.split(" ")[1].split("/")[0]) for g in m.gateways
        )
        source = SourceCondition(
            gws, tuple(sorted(m.source_labels.items())), m.source_namespace, m.port
        )
        return tuple(ms), source, prefix, kind

    def _destination(
        self,
        d: cfg.Destination | None,
        ns: str,
        col: _Collector,
        path: tuple[str | int, ...],
        headers: cfg.Headers | None = None,
    ) -> DestinationSpec | None:
        if d is None:
            col.error("destination is required", path)
            return None
        ok = True
        if not d.host or d.host == "*" or not valid_host(d.host):
            col.error(f"invalid destination host {d.host!r}", (*path, "host"))
            ok = False
        if d.subset is not None and (len(d.subset) > 63 or not _LABEL.match(d.subset)):
            col.error(
                f"invalid subset name {d.subset!r}: must be a DNS-1123 label", (*path, "subset")
            )
            ok = False
        port = d.port.number if d.port is not None else None
        if port is not None and not (0 < port < 65536):
            col.error(f"port {port} must be in 1-65535", (*path, "port", "number"))
            ok = False
        if not ok:
            return None
        req = _header_ops(headers.request) if headers else HeaderOps()
        resp = _header_ops(headers.response) if headers else HeaderOps()
        spec = DestinationSpec(
            resolve_short_name(d.host, ns, self.mesh.domain),
            d.subset,
            port,
            req,
            resp,
            col.loc(path),
        )
        self.dest_paths[id(spec)] = path
        return spec

    def _action(
        self, r: cfg.HTTPRoute, ns: str, col: _Collector, path: tuple[str | int, ...]
    ) -> Forward | Redirect | DirectResponse | None:
        n = len(self.diags)
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
            where = path if not kinds else (*path, _written_last(col, path, kinds))
            col.error(
                f"exactly one of route, redirect, directResponse or delegate must be set (got {what})",
                where,
            )
        if r.redirect or r.direct_response:
            other = "redirect" if r.redirect else "directResponse"
            for extra, val in (("fault", r.fault), ("rewrite", r.rewrite)):
                if val is not None:
                    col.error(f"HTTP route cannot contain both {extra} and {other}", (*path, extra))
        self._authority_once(r, col, path)
        if r.mirror is not None and r.mirrors:
            col.error("mirror and mirrors cannot both be set", (*path, "mirrors"))
        for key in ("timeout",):
            val = getattr(r, key)
            if val is not None:
                problem = duration_problem(val)
                if problem:
                    col.error(problem, (*path, key))
        if r.retries is not None:
            self._retries(r.retries, col, (*path, "retries"))
        fault = self._fault(r.fault, col, (*path, "fault")) if r.fault is not None else None
        rewrite = (
            self._rewrite(r.rewrite, col, (*path, "rewrite")) if r.rewrite is not None else None
        )
        self._header_checks(r.headers, col, (*path, "headers"))
        if r.cors_policy is not None:
            self._cors(r.cors_policy, col, (*path, "corsPolicy"))
        act: Forward | Redirect | DirectResponse | None
        if r.redirect is not None:
            act = self._redirect(r.redirect, col, (*path, "redirect"))
        elif r.direct_response is not None:
            dr = r.direct_response
            if not (200 <= dr.status <= 600):
                col.error(
                    f"directResponse status {dr.status} must be in 200-600",
                    (*path, "directResponse", "status"),
                )
            body = None
            if dr.body is not None:
                body = dr.body.string if dr.body.string is not None else dr.body.bytes
                if body is not None and len(body) > 1024 * 1024:
                    col.error(
                        "directResponse body is larger than 1 MB", (*path, "directResponse", "body")
                    )
                elif body is not None and len(body) > 100 * 1024:
                    col.warn(
                        "large direct_responses may impact control plane performance",
                        (*path, "directResponse", "body"),
                    )
            act = DirectResponse(dr.status, body)
        elif r.route:
            act = self._forward(r, ns, col, path, fault, rewrite)
        else:
            act = None
        if any(d.severity is Severity.ERROR for d in self.diags[n:]):
            return None
        return act

    def _forward(
        self,
        r: cfg.HTTPRoute,
        ns: str,
        col: _Collector,
        path: tuple[str | int, ...],
        fault: Fault | None,
        rewrite: Rewrite | None,
    ) -> Forward | None:
        dests: list[DestinationSpec] = []
        weights: list[int | None] = []
        ok = True
        for i, rd in enumerate(r.route):
            dpath = (*path, "route", i)
            if rd.weight is not None and rd.weight < 0:
                col.error(f"weight {rd.weight} < 0", (*dpath, "weight"))
                ok = False
            elif rd.weight is not None and rd.weight > _INT32_MAX:
                # the API's weight is an int32: the API server refuses larger numbers
                col.error(
                    f"weight {rd.weight} is out of range (max {_INT32_MAX})", (*dpath, "weight")
                )
                ok = False
            self._header_checks(rd.headers, col, (*dpath, "headers"))
            d = self._destination(rd.destination, ns, col, (*dpath, "destination"), rd.headers)
            if d is None:
                ok = False
                continue
            dests.append(d)
            weights.append(rd.weight)
        if ok and len(r.route) > 1 and sum(w or 0 for w in weights) == 0:
            col.error("total destination weight = 0", (*path, "route"))
            ok = False
        if ok and sum(w or 0 for w in weights) > _UINT32_MAX:
            # Envoy's weighted clusters add up in a uint32
            col.error(
                f"total destination weight {sum(w or 0 for w in weights)} exceeds {_UINT32_MAX}",
                (*path, "route"),
            )
            ok = False
        mirrors: list[MirrorSpec] = []
        if r.mirror is not None:
            md = self._destination(r.mirror, ns, col, (*path, "mirror"))
            if r.mirror_percentage is not None and not (0 <= r.mirror_percentage.value <= 100):
                col.error(
                    f"mirrorPercentage {r.mirror_percentage.value} must be in [0, 100]",
                    (*path, "mirrorPercentage", "value"),
                )
            if r.mirror_percent is not None:
                if not (0 <= r.mirror_percent <= 100):
                    col.error("mirrorPercent must be in [0, 100]", (*path, "mirrorPercent"))
                col.warn(
                    "mirrorPercent is deprecated; use mirrorPercentage",
                    (*path, "mirrorPercent"),
                    "IST0002",
                )
            pm = _per_million(
                r.mirror_percentage,
                PER_MILLION if r.mirror_percent is None else r.mirror_percent * 10_000,
            )
            if md is not None:
                mirrors.append(MirrorSpec(md, pm))
        for i, mp in enumerate(r.mirrors):
            md = self._destination(mp.destination, ns, col, (*path, "mirrors", i, "destination"))
            if mp.percentage is not None and not (0 <= mp.percentage.value <= 100):
                col.error(
                    f"mirror percentage {mp.percentage.value} must be in [0, 100]",
                    (*path, "mirrors", i, "percentage", "value"),
                )
            if md is not None:
                mirrors.append(MirrorSpec(md, _per_million(mp.percentage, PER_MILLION)))
        if not ok or not dests:
            return None
        self.max_mirrors = max(self.max_mirrors, len(mirrors))
        hdr = r.headers
        cors = r.cors_policy.model_dump(exclude_none=True) if r.cors_policy else None
        retries = r.retries.model_dump(exclude_none=True) if r.retries else None
        return Forward(
            tuple(dests),
            WeightTable.from_config(weights),
            rewrite,
            _header_ops(hdr.request) if hdr else HeaderOps(),
            _header_ops(hdr.response) if hdr else HeaderOps(),
            fault,
            tuple(mirrors),
            r.timeout,
            retries,
            cors,
        )

    def _header_checks(
        self, h: cfg.Headers | None, col: _Collector, path: tuple[str | int, ...]
    ) -> None:
        if h is None:
            return
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
                    elif lname.startswith(":") and not (
                        side == "request" and lname == ":authority"
                    ):
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

    def _authority_once(
        self, r: cfg.HTTPRoute, col: _Collector, path: tuple[str | int, ...]
    ) -> None:
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
                    col.error(
                        f"authority header cannot be set multiple times: have {current!r}, "
                        f"attempting to set {value!r}",
                        (*path, "headers", "request", op, name),
                    )
                    return
                current = value

    def _cors(self, cp: cfg.CorsPolicy, col: _Collector, path: tuple[str | int, ...]) -> None:
        """Istio's ``validateCORSPolicy``."""
        for i, origin in enumerate(cp.allow_origins):
            op = (*path, "allowOrigins", i)
            kinds = [k for k in ("exact", "prefix", "regex") if getattr(origin, k)]
            if not kinds:
                col.error("'' is not a valid match type for CORS allow origins", op)
            elif origin.regex:
                compile_regex(origin.regex, col, (*op, "regex"))
        for i, method in enumerate(cp.allow_methods):
            if method not in _CORS_METHODS:
                col.error(f"{method!r} is not a supported HTTP method", (*path, "allowMethods", i))
        for field_name in ("allowHeaders", "exposeHeaders"):
            names = cp.allow_headers if field_name == "allowHeaders" else cp.expose_headers
            for i, name in enumerate(names):
                if name != "*" and not _HEADER_NAME.match(name):
                    col.error(f"invalid header name {name!r}", (*path, field_name, i))
        if cp.max_age is not None:
            problem = duration_problem(cp.max_age, "maxAge")
            if problem:
                col.error(problem, (*path, "maxAge"))
            elif (parse_duration_ms(cp.max_age) or 0) % 1000:
                col.error(
                    "max_age duration is accurate only to seconds precision", (*path, "maxAge")
                )

    def _retries(self, rt: cfg.HTTPRetry, col: _Collector, path: tuple[str | int, ...]) -> None:
        known = {
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
        }
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
        for key in ("per_try_timeout", "backoff"):
            val = getattr(rt, key)
            if val is not None:
                problem = duration_problem(val)
                if problem:
                    col.error(
                        problem, (*path, "perTryTimeout" if key == "per_try_timeout" else key)
                    )
        if rt.retry_on:
            for tok in rt.retry_on.split(","):
                tok = tok.strip()
                if tok not in known and not (tok.isdigit() and 100 <= int(tok) <= 599):
                    col.error(f"{tok!r} is not a valid retryOn policy", (*path, "retryOn"))

    def _fault(
        self, f: cfg.HTTPFaultInjection, col: _Collector, path: tuple[str | int, ...]
    ) -> Fault | None:
        if f.delay is None and f.abort is None:
            col.error("fault must have an abort and/or a delay", path)
            return None
        delay_ms = None
        delay_pm = 0
        abort_status = None
        abort_grpc = None
        abort_pm = 0
        if f.delay is not None:
            d = f.delay
            dp = (*path, "delay")
            if d.exponential_delay is not None:
                col.error("exponentialDelay is not supported", (*dp, "exponentialDelay"))
            elif d.fixed_delay is None:
                # Istio accepts it; istiod then emits no delay (it only translates fixedDelay)
                col.warn("delay has no fixedDelay: no delay is injected", dp)
            if d.fixed_delay is not None:
                problem = duration_problem(d.fixed_delay, "fixedDelay")
                if problem:
                    col.error(problem, (*dp, "fixedDelay"))
                else:
                    delay_ms = round(parse_duration_ms(d.fixed_delay) or 0)
            if d.percent:  # as istioctl's deprecation analyzer: a zero percent is unset
                col.warn("percent is deprecated; use percentage", (*dp, "percent"), "IST0002")
                if not (0 <= d.percent <= 100):
                    col.error("percent must be in [0, 100]", (*dp, "percent"))
            self._percentage(d.percentage, col, (*dp, "percentage"))
            delay_pm = _per_million(d.percentage, (d.percent or 0) * 10_000)
        if f.abort is not None:
            a = f.abort
            ap = (*path, "abort")
            if a.http2_error is not None:
                col.error("http2Error is not supported", (*ap, "http2Error"))
            if a.http_status is not None and a.grpc_status is not None:
                col.error("only one of httpStatus and grpcStatus may be set", ap)
            if a.http_status is not None and not (200 <= a.http_status <= 600):
                col.error(f"httpStatus {a.http_status} must be in 200-600", (*ap, "httpStatus"))
            if a.grpc_status is not None and a.grpc_status not in _GRPC_CODES:
                col.error(f"unknown grpcStatus {a.grpc_status!r}", (*ap, "grpcStatus"))
            if a.http_status is None and a.grpc_status is None and a.http2_error is None:
                col.warn("abort has no error type", ap)
            self._percentage(a.percentage, col, (*ap, "percentage"))
            abort_status = (
                a.http_status if a.http_status is not None else (200 if a.grpc_status else None)
            )
            abort_grpc = a.grpc_status
            abort_pm = _per_million(a.percentage, 0)
        return Fault(delay_ms, delay_pm, abort_status, abort_grpc, abort_pm, col.loc(path))

    def _percentage(
        self, p: cfg.Percent | None, col: _Collector, path: tuple[str | int, ...]
    ) -> None:
        if p is not None and p.value != 0 and not (0.0001 <= p.value <= 100):
            col.error(f"percentage {p.value} must be 0 or in [0.0001, 100]", (*path, "value"))

    def _rewrite(
        self, rw: cfg.HTTPRewrite, col: _Collector, path: tuple[str | int, ...]
    ) -> Rewrite | None:
        if rw.uri is not None and rw.uri_regex_rewrite is not None:
            col.error(
                "rewrite may set uri or uriRegexRewrite, not both", (*path, "uriRegexRewrite")
            )
            return None
        if rw.uri is None and rw.authority is None and rw.uri_regex_rewrite is None:
            col.error("rewrite must specify uri, uriRegexRewrite or authority", path)
            return None
        rx = None
        sub = None
        if rw.uri_regex_rewrite is not None:
            rr = rw.uri_regex_rewrite
            if not rr.match or not rr.rewrite:
                missing = "match" if not rr.match else "rewrite"
                where: tuple[str | int, ...] = (*path, "uriRegexRewrite")
                if (*where, missing) in col.source.locations:
                    where = (*where, missing)  # written, but empty
                col.error(f"uriRegexRewrite needs both match and rewrite ({missing})", where)
                return None
            rx = compile_regex(rr.match, col, (*path, "uriRegexRewrite", "match"))
            sub = rr.rewrite
        return Rewrite(rw.uri, rw.authority, rx, sub)

    def _redirect(
        self, rd: cfg.HTTPRedirect, col: _Collector, path: tuple[str | int, ...]
    ) -> Redirect | None:
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
            col.error(
                f"redirect scheme must be http or https, got {rd.scheme!r}", (*path, "scheme")
            )
        if rd.port is not None and not (0 < rd.port < 65536):
            col.error(f"port {rd.port} must be in 1-65535", (*path, "port"))
        return Redirect(rd.uri, rd.authority, rd.scheme, rd.port, rd.derive_port, code)

    # -- delegation (semantics §4 delegate) ---------------------------------------------------

    def _delegate(
        self,
        root: cfg.HTTPRoute,
        index: int,
        ns: str,
        col: _Collector,
        path: tuple[str | int, ...],
        by_key: dict[tuple[str, str], cfg.VirtualService],
    ) -> list[RouteEntry]:
        assert root.delegate is not None
        if root.route or root.redirect:
            return []  # already reported by _action's one-of check
        dns = root.delegate.namespace or ns
        target = by_key.get((dns, root.delegate.name))
        if target is None or target.spec.hosts or not _export_ok(target, ns):
            why = (
                "not found"
                if target is None
                else ("has hosts" if target.spec.hosts else "not exported")
            )
            col.warn(
                f"delegate VirtualService {dns}/{root.delegate.name} {why}: the route is dropped",
                (*path, "delegate"),
            )
            return []
        dcol = self.col("VirtualService", dns, target.metadata.name)
        out: list[RouteEntry] = []
        for j, dr in enumerate(target.spec.http):
            if dr is None or dr.delegate is not None:
                continue
            merged = _inherit(dr, root)
            dpath: tuple[str | int, ...] = ("spec", "http", j)
            root_matches: list[cfg.HTTPMatchRequest | None] = list(root.match) or [None]
            del_matches: list[cfg.HTTPMatchRequest | None] = list(dr.match) or [None]
            ms: list[tuple[cfg.HTTPMatchRequest, tuple[str | int, ...]]] = []
            for rm in root_matches:
                for k, dm in enumerate(del_matches):
                    m = _merge_match(rm, dm)
                    if m is not None:
                        ms.append((m, (*dpath, "match", k) if dm is not None else dpath))
            if not ms:
                continue
            entries = self._route(merged, index, dns, dcol, dpath, ms)
            self.inherited.update(id(e) for e in entries)
            out.extend(entries)
        return out

    # -- destination rules ---------------------------------------------------------------------

    def destination_rules(self) -> list[CompiledDestinationRule]:
        out = []
        for order, dr in enumerate(self.config.destination_rules):
            ns = dr.metadata.namespace or "default"
            col = self.col("DestinationRule", ns, dr.metadata.name)
            spec = dr.spec
            if not spec.host:
                col.error("host is required", ("spec", "host"))
            elif spec.host == "*" or not valid_host(spec.host):
                col.error(f"invalid host {spec.host!r}", ("spec", "host"))
            self._export_to(spec.export_to, col, ("spec", "exportTo"))
            if spec.workload_selector is not None and spec.export_to and spec.export_to != ["."]:
                col.error(
                    "a DestinationRule with workloadSelector may only be exported to its own namespace",
                    ("spec", "exportTo"),
                )
            lb, port_lb = self._traffic_policy(spec.traffic_policy, col, ("spec", "trafficPolicy"))
            subsets: list[SubsetSpec] = []
            names: set[str] = set()
            for i, s in enumerate(spec.subsets):
                sp: tuple[str | int, ...] = ("spec", "subsets", i)
                if s is None:
                    col.error("subset must not be null", sp)
                    continue
                if not s.name:
                    col.error("subset name is required", sp)
                elif len(s.name) > 63 or not _LABEL.match(s.name):
                    col.error(
                        f"invalid subset name {s.name!r}: must be a DNS-1123 label", (*sp, "name")
                    )
                if s.name in names:
                    col.error(f"duplicate subset name {s.name!r}", (*sp, "name"))
                names.add(s.name)
                _check_labels(s.labels, col, (*sp, "labels"))
                slb, sport = self._traffic_policy(s.traffic_policy, col, (*sp, "trafficPolicy"))
                subsets.append(
                    SubsetSpec(s.name, tuple(sorted(s.labels.items())), slb, sport, col.loc(sp))
                )
            host = resolve_short_name(spec.host, ns, self.mesh.domain) if spec.host else ""
            out.append(
                CompiledDestinationRule(
                    ns,
                    dr.metadata.name,
                    host,
                    frozenset(spec.export_to),
                    tuple(subsets),
                    lb,
                    port_lb,
                    order,
                    col.loc(()),
                    spec.traffic_policy is not None,
                )
            )
        return out

    def _traffic_policy(
        self, tp: cfg.TrafficPolicy | None, col: _Collector, path: tuple[str | int, ...]
    ) -> tuple[LbPolicy | None, tuple[tuple[int, LbPolicy], ...]]:
        if tp is None:
            return None, ()
        if not tp.model_fields_set:
            col.error("traffic policy must have at least one field", path)
            return None, ()
        if tp.tunnel is not None and tp.proxy_protocol is not None:
            col.error(
                "tunnel and proxyProtocol cannot both be set",
                (*path, _written_last(col, path, ["tunnel", "proxyProtocol"])),
            )
        lb = self._lb(tp.load_balancer, col, (*path, "loadBalancer"))
        ports: list[tuple[int, LbPolicy]] = []
        for i, p in enumerate(tp.port_level_settings):
            pp = (*path, "portLevelSettings", i)
            if p.port is None or p.port.number is None:
                col.error("portLevelSettings entry must set port", pp)
                continue
            if len(p.model_fields_set - {"port"}) == 0:
                col.error("portLevelSettings entry must set at least one field besides port", pp)
            plb = self._lb(p.load_balancer, col, (*pp, "loadBalancer"))
            # a port-level policy replaces the top level wholesale (semantics §3)
            ports.append((p.port.number, plb or LbPolicy()))
        return lb, tuple(ports)

    def _lb(
        self, lb: cfg.LoadBalancerSettings | None, col: _Collector, path: tuple[str | int, ...]
    ) -> LbPolicy | None:
        if lb is None:
            return None
        if lb.simple is not None and lb.consistent_hash is not None:
            col.error(
                "loadBalancer may set simple or consistentHash, not both",
                (*path, _written_last(col, path, ["simple", "consistentHash"])),
            )
        ch = lb.consistent_hash
        if ch is not None:
            cp = (*path, "consistentHash")
            keys = [
                k
                for k in (
                    "http_header_name",
                    "http_cookie",
                    "use_source_ip",
                    "http_query_parameter_name",
                )
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
            if ch.minimum_ring_size is not None:
                col.warn(
                    "minimumRingSize is deprecated; use ringHash",
                    (*cp, "minimumRingSize"),
                    "IST0002",
                )
                if ch.ring_hash is not None or ch.maglev is not None:
                    col.error("minimumRingSize cannot be combined with ringHash or maglev", cp)
            if ch.maglev is not None:
                ts = ch.maglev.table_size
                if ts is None or not _is_prime(ts) or ts >= 5000011:
                    col.error(
                        "maglev tableSize must be a prime below 5000011",
                        (*cp, "maglev", "tableSize"),
                    )
            if ch.http_header_name:
                return LbPolicy("CONSISTENT_HASH", ("header", ch.http_header_name.lower()))
            if ch.http_cookie is not None:
                return LbPolicy("CONSISTENT_HASH", ("cookie", ch.http_cookie.name or ""))
            if ch.http_query_parameter_name:
                return LbPolicy("CONSISTENT_HASH", ("query", ch.http_query_parameter_name))
            if ch.use_source_ip:
                return LbPolicy("CONSISTENT_HASH", ("source_ip", ""))
            return LbPolicy("CONSISTENT_HASH", None)
        if lb.warmup is not None:
            self._warmup(lb.warmup, col, (*path, "warmup"))
        simple = lb.simple or "LEAST_REQUEST"
        if simple in ("UNSPECIFIED", "LEAST_CONN"):
            simple = "LEAST_REQUEST"
        return LbPolicy(simple)

    def _warmup(
        self, w: cfg.WarmupConfiguration, col: _Collector, path: tuple[str | int, ...]
    ) -> None:
        """The CRD's rules for ``warmup`` (istio/api destinationrule-invalid.yaml)."""
        if w.duration is None:
            col.error("warmup duration is required", (*path, "duration"))
        else:
            problem = duration_problem(w.duration)
            if problem:
                col.error(problem, (*path, "duration"))
        if w.minimum_percent is not None and not (0 <= w.minimum_percent <= 100):
            col.error(
                f"minimumPercent {w.minimum_percent} must be in [0, 100]",
                (*path, "minimumPercent"),
            )
        if w.aggression is not None and not w.aggression > 0:
            col.error(f"aggression {w.aggression} must be > 0", (*path, "aggression"))

    # -- the mesh ------------------------------------------------------------------------------

    def services(self) -> dict[str, ServiceInfo]:
        out: dict[str, ServiceInfo] = {}
        for s in self.mesh.services:
            fq = s.fqdn(self.mesh.domain)
            if fq in out:
                continue
            eps = tuple(
                Endpoint(p.name, p.workload, tuple(sorted(p.labels.items())))
                for p in self.mesh.endpoints(s)
            )
            out[fq] = ServiceInfo(
                fq,
                s.name,
                s.namespace,
                tuple(p.number for p in s.ports),
                eps,
                s.kind,
                frozenset(s.export_to) or frozenset({"*"}),
            )
        return out


_CORS_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

_GRPC_CODES = {
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
}


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def _export_ok(vs: cfg.VirtualService, ns: str) -> bool:
    e = set(vs.spec.export_to)
    own = vs.metadata.namespace or "default"
    return not e or "*" in e or ns in e or ("." in e and own == ns)


def _inherit(d: cfg.HTTPRoute, root: cfg.HTTPRoute) -> cfg.HTTPRoute:
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
    return d.model_copy(update=fill) if fill else d


def _sm_conflict(root: cfg.StringMatch | None, sub: cfg.StringMatch | None) -> bool:
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
    return False


def _merge_match(
    root: cfg.HTTPMatchRequest | None, sub: cfg.HTTPMatchRequest | None
) -> cfg.HTTPMatchRequest | None:
    """Field-wise merge (delegate wins, root fills gaps); None when they conflict."""
    if root is None:
        return sub or cfg.HTTPMatchRequest()
    if sub is None:
        return root
    for f in ("uri", "scheme", "method", "authority"):
        if _sm_conflict(getattr(root, f), getattr(sub, f)):
            return None
    for f in ("headers", "query_params", "without_headers"):
        rmap, smap = getattr(root, f), getattr(sub, f)
        for k in rmap.keys() & smap.keys():
            if _sm_conflict(rmap[k], smap[k]):
                return None
    if root.port is not None and sub.port is not None and root.port != sub.port:
        return None
    if (
        root.source_namespace
        and sub.source_namespace
        and root.source_namespace != sub.source_namespace
    ):
        return None
    update: dict[str, Any] = {}
    for f in cfg.HTTPMatchRequest.model_fields:
        sv, rv = getattr(sub, f), getattr(root, f)
        if isinstance(sv, dict):
            update[f] = {**rv, **sv}
        elif sv in (None, [], False) and rv not in (None, [], False):
            update[f] = rv
    return sub.model_copy(update=update)


def _mesh_diagnostics(c: _Compiler, plan: RoutePlan, vss: list[CompiledVirtualService]) -> None:
    """What Istio accepts but that points nowhere: IST0101, IST0173, IST0174, IST0109."""
    from ._resolve import find_destination_rule

    services = plan.services
    routes = [
        (vs.namespace, vs.name, vs.export_to, [e for e in vs.entries if id(e) not in c.inherited])
        for vs in vss
    ] + [(ns, v.metadata.name, frozenset(v.spec.export_to), es) for v, ns, es in c.delegate_routes]
    by_fqdn: dict[str, list[Service]] = {}
    for svc_ in c.mesh.services:
        by_fqdn.setdefault(svc_.fqdn(c.mesh.domain), []).append(svc_)
    wild = [(fq, x) for fq, xs in by_fqdn.items() if fq.startswith("*") for x in xs]
    for vs_ns, vs_name, vs_export, entries in routes:
        col = c.col("VirtualService", vs_ns, vs_name)
        for e in entries:
            act = e.action
            if not isinstance(act, Forward):
                continue
            specs = [(d, "host") for d in act.destinations] + [
                (m.destination, "mirror host") for m in act.mirrors
            ]
            for d, what in specs:
                dpath = c.dest_paths.get(id(d))

                if d.subset:
                    svc_ns = services[d.host].namespace if d.host in services else None
                    svc_ns = svc_ns or _fqdn_namespace(d.host, c.mesh.domain)
                    dr = find_destination_rule(plan, d.host, vs_ns, svc_ns)
                    if dr is None or dr.subset(d.subset) is None:
                        sub = (
                            "host+subset in destinationrule"
                            if what == "host"
                            else "mirror+subset in destinationrule"
                        )
                        c.diags.append(
                            Diagnostic.make(
                                "IST0101",
                                f'Referenced {sub} not found: "{d.host}+{d.subset}" (503 NC at runtime)',
                                resource=col.resource,
                                **_at(col, dpath, ("subset",)),
                            )
                        )
                svc = _visible_host(by_fqdn, wild, d.host, vs_ns, vs_export)
                if svc is None:
                    c.diags.append(
                        Diagnostic.make(
                            "IST0101",
                            f"Referenced {what} not found: {d.host!r}",
                            resource=col.resource,
                            **_at(col, dpath, ("host",)),
                        )
                    )
                    continue
                ports = [p.number for p in svc.ports]
                if d.port is not None and d.port not in ports:
                    c.diags.append(
                        Diagnostic.make(
                            "IST0101",
                            f'Referenced host:port not found: "{d.host}:{d.port}"',
                            resource=col.resource,
                            **_at(col, dpath, ("port", "number")),
                        )
                    )
                if d.port is None and len(ports) > 1:
                    c.diags.append(
                        Diagnostic.make(
                            "IST0112",
                            f"destination {d.host} exposes several ports; the route needs a port",
                            resource=col.resource,
                            **_at(col, dpath, ()),
                        )
                    )
    for dr in plan.destination_rules:
        col = c.col("DestinationRule", dr.namespace, dr.name)
        info = services.get(dr.host) or _se_match(services, dr.host)
        if info is None:
            if not dr.host.startswith("*"):
                c.diags.append(
                    Diagnostic.make(
                        "IST0174",
                        f"host {dr.host!r} matches no Service or ServiceEntry",
                        col.loc(("spec", "host")),
                        resource=col.resource,
                    )
                )
            continue
        for s in dr.subsets:
            if not any(labels_match(dict(s.labels), dict(e.labels)) for e in info.endpoints):
                c.diags.append(
                    Diagnostic.make(
                        "IST0173",
                        f"subset {s.name!r} selects no pods (503 UH at runtime)",
                        s.location or col.fallback,
                        resource=col.resource,
                    )
                )
    _conflicting_mesh_hosts(c, vss)


def _export_scope(vs: CompiledVirtualService) -> frozenset[str]:
    """Namespaces that see a VirtualService (``*`` = all), as the IST0109 analyzer scopes it."""
    e = vs.export_to
    if not e or "*" in e:
        return frozenset({"*"})
    return frozenset(vs.namespace if x == "." else x for x in e if x != "~")


def _conflicting_mesh_hosts(c: _Compiler, vss: list[CompiledVirtualService]) -> None:
    """IST0109: two mesh-bound VSs claim overlapping hosts in overlapping exportTo scopes.

    As istioctl's ConflictingMeshGatewayHostsAnalyzer: hosts compared as FQDNs, wildcards
    overlap (``*.d`` and ``*.productpage.d``), ``*`` export overlaps every namespace, and each
    VirtualService is reported once, naming the others.
    """
    mesh = [v for v in vss if "mesh" in v.gateways]
    scopes = {v.key: _export_scope(v) for v in mesh}
    # candidate pairs without comparing every VS with every other: exact hosts by index,
    # wildcard hosts (rare) against every host
    by_host: dict[str, list[int]] = {}
    wild: list[tuple[int, str]] = []
    for i, v in enumerate(mesh):
        for h in v.hosts:
            if h.startswith("*"):
                wild.append((i, h))
            else:
                by_host.setdefault(h, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for members in by_host.values():
        pairs.update((a, b) for n, a in enumerate(members) for b in members[n + 1 :] if a != b)
    for n, (i, w) in enumerate(wild):
        for h, members in by_host.items():
            if _hosts_overlap(w, h):
                pairs.update((min(i, j), max(i, j)) for j in members if j != i)
        for j, w2 in wild[n + 1 :]:
            if j != i and _hosts_overlap(w, w2):
                pairs.add((min(i, j), max(i, j)))
    partners: dict[str, list[CompiledVirtualService]] = {}
    for i, j in sorted(pairs):
        a, b = mesh[i], mesh[j]
        sa, sb = scopes[a.key], scopes[b.key]
        if not sa or not sb or not ("*" in sa or "*" in sb or sa & sb):
            continue
        partners.setdefault(a.key, [a]).append(b)
        partners.setdefault(b.key, [b]).append(a)
    for v in mesh:
        group = partners.get(v.key)
        if not group:
            continue
        names = ", ".join(x.key for x in group)
        first = min(group, key=lambda x: x.order)
        c.diags.append(
            Diagnostic.make(
                "IST0109",
                f"the VirtualServices {names} associated with mesh define the same host; "
                f"only {first.key} applies on sidecars",
                v.location,
                resource=f"VirtualService {v.key}",
            )
        )


def _at(
    col: _Collector, dpath: tuple[str | int, ...] | None, leaf: tuple[str, ...]
) -> dict[str, Any]:
    """Location and field path of the offending key under a destination (Diagnostic.make)."""
    if dpath is None:
        return {"location": col.fallback}
    full = (*dpath, *leaf)
    return {"location": col.loc(full), "field_path": _dotted(full)}


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


def _fqdn_namespace(host: str, domain: str) -> str | None:
    """``name.ns.svc.<domain>`` → ``ns``; None for other hosts."""
    suffix = f".svc.{domain}"
    if host.endswith(suffix):
        parts = host[: -len(suffix)].split(".")
        if len(parts) == 2:
            return parts[1]
    return None


def _visible_host(
    by_fqdn: dict[str, list[Service]],
    wild: list[tuple[str, Service]],
    host: str,
    vs_ns: str,
    vs_export: frozenset[str],
) -> Service | None:
    """The Service or ServiceEntry a VirtualService's destination host names, as istioctl's
    DestinationHostAnalyzer (``util.GetDestinationHost``) finds it.

    A service exported to all namespaces is found from anywhere; otherwise it must be exported
    to a namespace the VirtualService is exported to (its own when it has no exportTo). Wildcard
    ServiceEntry hosts match by suffix, when exported everywhere or to the VS's own namespace.
    """

    def scopes(svc: Service) -> set[str]:
        e = set(svc.export_to)
        if not e or "*" in e:
            return {"*"}
        return {svc.namespace if x == "." else x for x in e if x != "~"}

    wanted = {vs_ns} if not vs_export else {vs_ns if x == "." else x for x in vs_export}
    for svc in by_fqdn.get(host, ()):
        sc = scopes(svc)
        if "*" in sc or sc & wanted:
            return svc
    bare = host.lstrip("*")
    for fq, svc in wild:
        if bare.endswith(fq[1:]):
            sc = scopes(svc)
            if "*" in sc or vs_ns in sc:
                return svc
    return None


def _se_match(services: Any, host: str) -> ServiceInfo | None:
    for s in services.values():
        if s.kind == "ServiceEntry" and s.fqdn.startswith("*.") and host.endswith(s.fqdn[1:]):
            return s  # type: ignore[no-any-return]
    return None


def _reading_order(config: ConfigSet, d: Diagnostic) -> tuple[int, int, int]:
    """Files in load order, then line and column: errors read top to bottom."""
    loc = d.location
    if loc is None:
        return (len(config.files), 0, 0)
    idx = config.files.index(loc.file) if loc.file in config.files else len(config.files)
    return (idx, loc.line, loc.column)


def compile_plan(config: ConfigSet, mesh: Mesh | None = None) -> RoutePlan:
    """Validate and compile; raise one ConfigError listing every error found."""
    m = mesh if mesh is not None else config.mesh
    c = _Compiler(config, m)
    vss, _ = c.virtual_services()
    drs = c.destination_rules()
    errors = list(config.errors) + [d for d in c.diags if d.severity is Severity.ERROR]
    if errors:
        raise ConfigError(sorted(errors, key=lambda d: _reading_order(config, d)))
    wl = {(w.namespace, w.name): tuple(sorted(w.labels.items())) for w in m.workloads}
    plan = RoutePlan(
        c.services(),
        tuple(vss),
        tuple(drs),
        wl,
        m.domain,
        m.root_namespace,
        (),
        DRAW_MIRROR0 + c.max_mirrors,
    )
    _mesh_diagnostics(c, plan, vss)
    diags = tuple(config.diagnostics) + tuple(c.diags)
    object.__setattr__(plan, "diagnostics", diags)
    return plan
