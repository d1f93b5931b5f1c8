"""Synthetic requests.

A ``Request`` is what a client sidecar (or gateway) sees: Host/authority, path with query,
method, scheme, headers, the listener port, and who sends it (namespace, workload labels,
gateway). Header names are lower-cased (HTTP names are case-insensitive; values are not), and
several values of one header are joined with ``,`` as Envoy does before matching.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from .errors import InvalidArgument

HeaderValue = str | Iterable[str]


def split_path(path: str) -> tuple[str, str]:
    """``/a?x=1#f`` → (``/a``, ``x=1``): uri matching never sees the query or the fragment."""
    base = path.split("#", 1)[0]
    if "?" in base:
        p, q = base.split("?", 1)
        return p, q
    return base, ""


def parse_query(query: str) -> dict[str, str]:
    """Query parameters, first occurrence of a repeated key winning, values not URL-decoded."""
    out: dict[str, str] = {}
    if not query:
        return out
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        out.setdefault(key, value)
    return out


#: pseudo headers answer from the request line (Envoy), as does ``host`` (the authority)
PSEUDO_HEADERS = {
    ":method": "method",
    ":scheme": "scheme",
    ":authority": "authority",
    "host": "authority",
    ":path": "path",
}

#: who sends a request: (namespace, sorted source labels, source workload, gateway)
Source = tuple[str, tuple[tuple[str, str], ...], str | None, str | None]


def uri_of(path: str) -> str:
    """What ``uri`` matches see: the path without query and fragment."""
    return split_path(path)[0]


def query_param(name: str) -> Callable[[str], str | None]:
    """The ``query:<name>`` attribute as a function of the path."""
    return lambda path: parse_query(split_path(path)[1]).get(name)


def cookie(header: str | None, name: str) -> str | None:
    """A cookie's value from a ``cookie`` header (None: absent)."""
    if not header:
        return None
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None


def source_ip(source: Source) -> str:
    """The stand-in for a client's address (consistent hash on ``useSourceIp``)."""
    return f"{source[0]}/{source[2] or '-'}"


def attribute_source(key: str) -> tuple[str, Callable[[Any], Any] | None]:
    """Where the attribute a matcher or hash key reads comes from: the one rule for both engines.

    Keys: ``uri``, ``method``, ``scheme``, ``authority``, ``header:<name>`` (pseudo headers
    from the request line), ``query:<name>`` and ``source``. Returns a request field (``path``,
    ``method``, ``scheme``, ``authority``, ``source`` or ``header:<name>``) and a function of
    that field's value (None: the value itself). ``Request.attribute`` and
    ``RequestBatch.attribute`` both follow it.
    """
    if key == "uri":
        return "path", uri_of
    if key in ("method", "scheme", "authority", "source"):
        return key, None
    if key.startswith("query:"):
        return "path", query_param(key[6:])
    if key.startswith("header:"):
        name = key[7:].lower()
        return PSEUDO_HEADERS.get(name, f"header:{name}"), None
    raise KeyError(key)


@lru_cache(maxsize=4096)
def attribute_getter(key: str) -> Callable[[Request], Any]:
    """``attribute_source(key)`` as a function of a ``Request`` (the scalar engine's reader).

    ``uri`` and ``query:<n>`` read the values the Request derived from its path at
    construction with the same ``uri_of`` and ``parse_query``.
    """
    field, derive = attribute_source(key)
    if field.startswith("header:"):
        name = field[7:]
        return lambda r: r.headers.get(name)
    if derive is None:
        return lambda r: getattr(r, field)
    if key == "uri":
        return lambda r: r._uri
    qname = key[6:]
    return lambda r: r._query.get(qname)


def _header_text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        parts = list(value)
        if all(isinstance(v, str) for v in parts):
            return ",".join(parts)
    raise InvalidArgument(
        f"header {name!r}: value must be a string or a list of strings, not {type(value).__name__}"
    )


#: pseudo headers that are the request line itself: a request gives them as fields
REQUEST_LINE_HEADERS = {":path": "path", ":method": "method", ":scheme": "scheme"}


def check_header_name(name: Any) -> str:
    """A header name, lower-cased; refused when empty or a request-line pseudo header
    (``:path``, ``:method``, ``:scheme``), which a request gives as its field: as a header its
    value would be ignored by every match, a silently wrong answer."""
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"header name must be a non-empty string, got {name!r}")
    key = name.lower()
    field = REQUEST_LINE_HEADERS.get(key)
    if field is not None:
        raise InvalidArgument(
            f"header {name!r} is the request's {field}: give it as {field}= (on the command "
            f"line --{field}), not as a header"
        )
    return key


def derived_authority(host: str, port: int | None, headers: Mapping[str, str]) -> str:
    """A request's authority when none is given: its :authority or Host header, else the
    host (with ``:port`` when a port is given)."""
    given = headers.get(":authority") or headers.get("host")
    if given is not None:
        return given
    return host if port is None or ":" in host else f"{host}:{port}"


def _check_args(
    host: Any,
    path: Any,
    method: Any,
    authority: Any,
    scheme: Any,
    port: Any,
    namespace: Any,
    source_labels: Any,
    source_workload: Any,
    gateway: Any,
    random_value: Any,
    query: Any,
    headers: Any,
) -> None:
    """Refuse every argument of the wrong kind, naming it (a bool is not a port, 5 is not a
    namespace): a value Python would coerce silently could route elsewhere."""
    if (  # the common request, all in one expression (the checks below cost ~4 us a request)
        type(host) is str
        and host
        and type(path) is str
        and path[:1] == "/"
        and type(method) is str
        and method
        and (authority is None or type(authority) is str)
        and type(scheme) is str
        and scheme
        and port is None
        and type(namespace) is str
        and namespace
        and source_labels is None
        and source_workload is None
        and gateway is None
        and random_value is None
        and query is None
        and (headers is None or type(headers) is dict)
    ):
        return

    def text(name: str, v: Any, *, optional: bool = False, empty: bool = False) -> None:
        if v is None and optional:
            return
        if not isinstance(v, str):
            kind = "a string or None" if optional else "a string"
            raise InvalidArgument(f"{name} must be {kind}, got {type(v).__name__} {v!r}")
        if not v and not empty:
            raise InvalidArgument(f"{name} must not be empty")

    def mapping(name: str, v: Any) -> None:
        if v is None:
            return
        if not isinstance(v, Mapping):
            raise InvalidArgument(f"{name} must be a mapping, got {type(v).__name__} {v!r}")

    text("host", host)
    text("path", path)
    if not path.startswith("/"):
        raise InvalidArgument(f"request path must start with '/', got {path!r}")
    text("method", method)
    text("authority", authority, optional=True, empty=True)
    text("scheme", scheme)
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536
    ):
        raise InvalidArgument(f"port must be an integer 1-65535, got {port!r}")
    text("namespace", namespace)
    mapping("source_labels", source_labels)
    for k, v in (source_labels or {}).items():
        text("source_labels key", k)
        text(f"source_labels[{k!r}]", v, empty=True)
    text("source_workload", source_workload, optional=True)
    text("gateway", gateway, optional=True)
    if random_value is not None and (
        isinstance(random_value, bool)
        or not isinstance(random_value, int)
        or not 0 <= random_value < 2**64
    ):
        raise InvalidArgument(f"random_value must be an integer in [0, 2^64), got {random_value!r}")
    mapping("query", query)
    for k, v in (query or {}).items():
        text("query parameter name", k)
        text(f"query[{k!r}]", v, empty=True)
    mapping("headers", headers)


class Request:
    """One HTTP request as a client proxy sees it.

    ``host`` is the name the client called (short name, ``name.ns``, FQDN, optionally with
    ``:port``); ``authority`` defaults to it (with ``:port`` when ``port`` is given), which is
    what ``authority`` matches see. ``namespace`` is the client's namespace (short names resolve
    there); ``source_labels`` / ``source_workload`` describe the client pod; ``gateway`` names
    the gateway the request enters through (``ns/name``), None for a sidecar.
    ``random_value`` fixes the draw of the weighted pick, as Envoy's route check tool allows.
    """

    __slots__ = (
        "_query",
        "_uri",
        "authority",
        "gateway",
        "headers",
        "host",
        "method",
        "namespace",
        "path",
        "port",
        "random_value",
        "scheme",
        "source_labels",
        "source_workload",
    )

    host: str
    path: str
    method: str
    headers: dict[str, str]
    authority: str
    scheme: str
    port: int | None
    namespace: str
    source_labels: dict[str, str]
    source_workload: str | None
    gateway: str | None
    random_value: int | None
    _uri: str
    _query: dict[str, str]

    def __init__(
        self,
        host: str,
        path: str = "/",
        method: str = "GET",
        headers: Mapping[str, HeaderValue] | None = None,
        *,
        authority: str | None = None,
        scheme: str = "http",
        port: int | None = None,
        namespace: str = "default",
        source_labels: Mapping[str, str] | None = None,
        source_workload: str | None = None,
        gateway: str | None = None,
        random_value: int | None = None,
        query: Mapping[str, str] | None = None,
    ) -> None:
        _check_args(
            host,
            path,
            method,
            authority,
            scheme,
            port,
            namespace,
            source_labels,
            source_workload,
            gateway,
            random_value,
            query,
            headers,
        )
        if query:
            extra = "&".join(f"{k}={v}" for k, v in query.items())
            path = path + ("&" if "?" in path else "?") + extra
        hdrs: dict[str, str] = {}
        for name, value in (headers or {}).items():
            key = check_header_name(name)
            text = _header_text(name, value)
            hdrs[key] = f"{hdrs[key]},{text}" if key in hdrs else text
        set_ = object.__setattr__
        set_(self, "host", host.lower())
        set_(self, "path", path)
        set_(self, "method", method)
        set_(self, "headers", hdrs)
        if authority is None:
            authority = derived_authority(host, port, hdrs)
        set_(self, "authority", authority)
        set_(self, "scheme", scheme)
        set_(self, "port", port)
        set_(self, "namespace", namespace)
        set_(self, "source_labels", dict(source_labels or {}))
        set_(self, "source_workload", source_workload)
        set_(self, "gateway", gateway)
        set_(self, "random_value", random_value)
        uri, q = split_path(path)
        set_(self, "_uri", uri)  # = uri_of(path)
        set_(self, "_query", parse_query(q))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Request is immutable; use replace()")

    @property
    def uri(self) -> str:
        """The path without query and fragment: what ``uri`` matches see."""
        return self._uri

    @property
    def source(self) -> Source:
        """Who sends it: (namespace, sorted source labels, source workload, gateway)."""
        return (
            self.namespace,
            tuple(sorted(self.source_labels.items())),
            self.source_workload,
            self.gateway,
        )

    @property
    def query_params(self) -> dict[str, str]:
        return dict(self._query)

    def header(self, name: str) -> str | None:
        """A header by name, case-insensitive; pseudo headers answer from the request line."""
        return attribute_getter(f"header:{name.lower()}")(self)  # type: ignore[no-any-return]

    def attribute(self, key: str) -> Any:
        """The attribute a matcher key reads (``attribute_source``); None when absent."""
        return attribute_getter(key)(self)

    def query(self, name: str) -> str | None:
        return self._query.get(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "path": self.path,
            "method": self.method,
            "headers": dict(self.headers),
            "authority": self.authority,
            "scheme": self.scheme,
            "port": self.port,
            "namespace": self.namespace,
            "source_labels": dict(self.source_labels),
            "source_workload": self.source_workload,
            "gateway": self.gateway,
            "random_value": self.random_value,
        }

    def replace(self, **changes: Any) -> Request:
        """A copy with ``changes``. An authority that was derived (from the Host or
        :authority header, else the host and port) is derived again from the new values."""
        data = self.to_dict()
        if (
            {"host", "port", "headers"} & changes.keys()
            and "authority" not in changes
            # (the host is kept lower-cased, the authority as written)
            and self.authority.lower()
            == derived_authority(self.host, self.port, self.headers).lower()
        ):
            data["authority"] = None
        data.update(changes)
        return Request(**data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Request) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.host, self.path, self.method, tuple(sorted(self.headers.items()))))

    def __repr__(self) -> str:
        parts = [f"host={self.host!r}"]
        if self.path != "/":
            parts.append(f"path={self.path!r}")
        if self.method != "GET":
            parts.append(f"method={self.method!r}")
        if self.headers:
            parts.append(f"headers={self.headers!r}")
        if self.port is not None:
            parts.append(f"port={self.port}")
        if self.namespace != "default":
            parts.append(f"namespace={self.namespace!r}")
        if self.gateway:
            parts.append(f"gateway={self.gateway!r}")
        if self.random_value is not None:
            parts.append(f"random_value={self.random_value}")
        return f"Request({', '.join(parts)})"
