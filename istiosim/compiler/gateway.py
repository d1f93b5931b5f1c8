"""Gateway → CompiledGateway (semantics §8.1): servers with their port, protocol, hosts as
(namespace filter, dnsName) and ``tls.httpsRedirect``.

Server hosts follow Istio's ``sanitizeServerHostNamespace`` (pilot/pkg/model/gateway.go):
``host`` and ``*/host`` admit VirtualServices of any namespace, ``./host`` those of the
Gateway's namespace, ``ns/host`` those of ``ns``.
"""

from __future__ import annotations

from .. import config as cfg
from ..plan import CompiledGateway, CompiledServer
from .collector import Collector

__all__ = ["server_host", "translate_gateway"]


def server_host(entry: str, gateway_ns: str) -> tuple[str, str]:
    """``[ns/]dnsName`` → (namespace filter, lower-cased dnsName); ``*`` = any namespace."""
    ns, sep, name = entry.partition("/")
    if not sep:
        return "*", entry.lower()
    if ns == ".":
        ns = gateway_ns
    return ns, name.lower()


def translate_gateway(gw: cfg.Gateway, order: int, col: Collector | None = None) -> CompiledGateway:
    ns = gw.metadata.namespace or "default"
    servers: list[CompiledServer] = []
    for s in gw.spec.servers:
        if s.port is None or s.port.number is None:
            continue
        tls = s.tls
        servers.append(
            CompiledServer(
                s.port.number,
                (s.port.protocol or "HTTP").upper(),
                tuple(server_host(h, ns) for h in s.hosts),
                bool(tls and tls.https_redirect),
                tls.mode if tls is not None else None,
            )
        )
    return CompiledGateway(
        ns,
        gw.metadata.name,
        tuple(sorted(gw.spec.selector.items())),
        tuple(servers),
        order,
        col.loc(()) if col is not None else None,
    )
