"""The webhook's rules for a Gateway and a Sidecar, in the order Istio reports them.

istio/istio pkg/config/validation/validation.go ``ValidateGateway`` (``validateServer``,
``validateServerPort``, ``validateServerBind``, ``validateTLSOptions``) and
``ValidateSidecar`` (``validateSidecarIngressPortAndBind``,
``validateSidecarEgressPortBindAndCaptureMode``, ``validateSidecarOutboundTrafficPolicy``);
hosts through pkg/config/validation/agent/validation.go
``ValidateNamespaceSlashWildcardHostname``. Messages are Istio's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from ... import config as cfg
from .values import DNS1123, LABEL, Site

__all__ = ["GATEWAY", "SIDECAR"]

#: pkg/config/protocol/instance.go ``Parse`` (case-insensitive)
PROTOCOLS = frozenset(
    {"tcp", "udp", "grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tls"}
    | {"mongo", "redis", "mysql"}
)
HTTP_PROTOCOLS = frozenset({"http", "http2", "http_proxy", "grpc", "grpc-web"})
TLS_PROTOCOLS = frozenset({"https", "tls"})
UNIX = "unix://"


def _wildcard_domain(host: str) -> str | None:
    """agent ``ValidateWildcardDomain``: DNS-1123 labels, a wildcard only as the first label."""
    if not host or len(host) > 255:
        return f"domain name {host!r} invalid (too long or empty)"
    first, _, rest = host.partition(".")
    if not (
        first == "*" or (first.startswith("*") and LABEL.match(first[1:])) or LABEL.match(first)
    ):
        return f"domain name {host!r} invalid (label {first!r} invalid)"
    for label in rest.split(".") if rest else ():
        if not LABEL.match(label) or len(label) > 63:
            return f"domain name {host!r} invalid (label {label!r} invalid)"
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def hostname_part(name: str, is_gateway: bool) -> list[str]:
    """agent ``validateSidecarOrGatewayHostnamePart``."""
    out = []
    if name != "*" and "." not in name:
        out.append("short names (non FQDN) are not allowed")
    bad = _wildcard_domain(name)
    if bad is not None and not (is_gateway and _is_ip(name)):
        out.append(bad)
    if "*" in name and len(name) != 1 and not name.startswith("*."):
        out.append(f"partial wildcard {name!r} not allowed")
    return out


def namespace_slash_host(entry: str, is_gateway: bool) -> list[str]:
    """agent ``ValidateNamespaceSlashWildcardHostname``."""
    ns, sep, name = entry.partition("/")
    if not sep:
        if is_gateway:
            return hostname_part(entry, True)
        return ["host must be of form namespace/dnsName"]
    out = []
    if not ns or not name:
        out.append("config namespace and dnsName in host entry cannot be empty")
    if not is_gateway:
        bare = ns.removeprefix("~")
        if bare not in ("", "*", ".") and not DNS1123.match(bare):
            out.append(f"invalid namespace value {ns!r} in sidecar")
    elif ns not in ("*", ".") and not DNS1123.match(ns):
        out.append(f"invalid namespace value {ns!r} in gateway")
    return out + hostname_part(name, is_gateway)


def _port_range(n: int | None) -> str | None:
    n = n or 0
    return None if 1 <= n <= 65535 else f"port number {n} must be in the range 1..65535"


def _protocol(p: str | None) -> str:
    return (p or "").lower()


# -- Gateway -------------------------------------------------------------------------------------


def gw_name(gw: cfg.Gateway, site: Site) -> None:
    if not DNS1123.match(gw.metadata.name) or len(gw.metadata.name) > 63:
        site.col.error(f"invalid gateway name: {gw.metadata.name!r}", ("metadata", "name"))


def gw_servers(gw: cfg.Gateway, site: Site) -> None:
    if not gw.spec.servers:
        site.col.error("gateway must have at least one server", ("spec",))
        return
    for i, s in enumerate(gw.spec.servers):
        _server(s, site.at("spec", "servers", i))


def _server(s: cfg.Server, site: Site) -> None:
    col, at = site.col, site.path
    if not s.hosts:
        col.error("server config must contain at least one host", (*at, "hosts"))
    for j, h in enumerate(s.hosts):
        for msg in namespace_slash_host(h, True):
            col.error(msg, (*at, "hosts", j))
    port_ok = _server_port(s, site)
    _server_bind(s, site)
    _tls_options(s.tls, site.at("tls"))
    if port_ok and s.port is not None:
        p = _protocol(s.port.protocol)
        if p in TLS_PROTOCOLS and s.tls is None:
            col.error("server must have TLS settings for HTTPS/TLS protocols", (*at, "port"))
        elif p not in TLS_PROTOCOLS and s.tls is not None:
            tls = s.tls
            # an unset mode is PASSTHROUGH (the enum's 0): ``tls: {httpsRedirect: true}`` on an
            # HTTP server is a pass-through server (gateway.go ``IsPassThroughServer``)
            passthrough = _mode(tls) in ("PASSTHROUGH", "AUTO_PASSTHROUGH")
            certs = tls.ca_certificates or tls.private_key or tls.server_certificate
            if p in HTTP_PROTOCOLS:
                if not passthrough or certs:
                    col.error(
                        "server cannot have TLS settings for plain text HTTP ports", (*at, "tls")
                    )
            else:
                col.error("server cannot have TLS settings for non HTTPS/TLS ports", (*at, "tls"))


def _mode(tls: cfg.ServerTLSSettings) -> str:
    """The TLS mode; unset is PASSTHROUGH, the 0 of Istio's ``ServerTLSSettings.TLSmode``."""
    return tls.mode or "PASSTHROUGH"


def _server_port(s: cfg.Server, site: Site) -> bool:
    col, at = site.col, (*site.path, "port")
    port = s.port
    if port is None:
        col.error("port is required", site.path)
        return False
    ok = True
    if _protocol(port.protocol) not in PROTOCOLS:
        col.error(
            f"invalid protocol {port.protocol or ''!r}, supported protocols are HTTP, HTTP2, "
            "GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP",
            (*at, "protocol"),
        )
        ok = False
    if (port.number or 0) > 0 or not (s.bind or "").startswith(UNIX):
        bad = _port_range(port.number)
        if bad is not None:
            col.error(bad, (*at, "number"))
            ok = False
    if (port.target_port or 0) > 0:
        col.error("targetPort has no impact on Gateways", (*at, "targetPort"))
        ok = False
    if not port.name:
        col.error(f"port name must be set: number:{port.number or 0}", at)
        ok = False
    return ok


def _server_bind(s: cfg.Server, site: Site) -> None:
    bind = s.bind or ""
    if bind.startswith(UNIX):
        if s.port is not None and s.port.number:
            site.col.error(
                "port number must be 0 for unix domain socket", (*site.path, "port", "number")
            )
    elif bind and not _is_ip(bind):
        site.col.error(f"{bind} is not a valid IP", (*site.path, "bind"))


def _tls_options(tls: cfg.ServerTLSSettings | None, site: Site) -> None:
    if tls is None:
        return
    col, at = site.col, site.path
    mode = _mode(tls)
    if mode == "ISTIO_MUTUAL":
        for field_name, value, what in (
            ("serverCertificate", tls.server_certificate, "server certificate"),
            ("privateKey", tls.private_key, "private key"),
            ("caCertificates", tls.ca_certificates, "CA bundle"),
            ("tlsCertificates", tls.tls_certificates, "tlsCertificates"),
            ("credentialName", tls.credential_name, "credentialName"),
            ("credentialNames", tls.credential_names, "credentialNames"),
        ):
            if value:
                col.error(f"ISTIO_MUTUAL TLS cannot have associated {what}", (*at, field_name))
        return
    if mode in ("PASSTHROUGH", "AUTO_PASSTHROUGH") and (
        tls.ca_crl or tls.server_certificate or tls.private_key or tls.ca_certificates
        or tls.tls_certificates or tls.credential_name or tls.credential_names
    ):  # fmt: skip
        col.warn(f"{mode} mode does not use certificates, they will be ignored", at)
    sources = sum(
        (
            bool(tls.server_certificate and tls.private_key),
            bool(tls.credential_name),
            bool(tls.credential_names),
            bool(tls.tls_certificates),
        )
    )
    if sources > 1:
        col.error(
            "only one of credential_name, credential_names, server_certificate/private_key, "
            "tls_certificates should be specified",
            at,
        )
    terminating = mode in ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL")
    if terminating and (tls.credential_name or tls.credential_names):
        return
    if terminating:
        prefix = "SIMPLE TLS" if mode == "SIMPLE" else "MUTUAL TLS"
        if prefix == "MUTUAL TLS" and not tls.ca_certificates:
            col.error(f"{prefix} requires a client CA bundle", at)
        certs = tls.tls_certificates or [
            {"serverCertificate": tls.server_certificate, "privateKey": tls.private_key}
        ]
        for c in certs:
            if not c.get("serverCertificate"):
                col.error(f"{prefix} requires a server certificate", at)
            if not c.get("privateKey"):
                col.error(f"{prefix} requires a private key", at)
    if tls.ca_crl:
        if tls.credential_name:
            col.error(
                "CRL is not supported with credentialName. CRL has to be specified in the"
                " credential",
                (*at, "caCrl"),
            )
        if mode == "SIMPLE":
            col.error("CRL is not supported with SIMPLE TLS", (*at, "caCrl"))


def gw_unique_port_names(gw: cfg.Gateway, site: Site) -> None:
    seen: set[str | None] = set()
    for i, s in enumerate(gw.spec.servers):
        if s.port is None:
            continue
        if s.port.name in seen:
            site.col.error(
                f"port names in servers must be unique: duplicate name {s.port.name or ''}",
                ("spec", "servers", i, "port", "name"),
            )
        seen.add(s.port.name)
        if _protocol(s.port.protocol) not in HTTP_PROTOCOLS and s.tls and s.tls.https_redirect:
            site.col.warn(
                "tls.httpsRedirect should only be used with http servers",
                ("spec", "servers", i, "tls", "httpsRedirect"),
            )


GatewayRule = Callable[[cfg.Gateway, Site], None]

#: ValidateGateway, in its order
GATEWAY: tuple[GatewayRule, ...] = (gw_name, gw_servers, gw_unique_port_names)


# -- Sidecar -------------------------------------------------------------------------------------


def sc_not_empty(sc: cfg.Sidecar, site: Site) -> None:
    s = sc.spec
    if (
        not s.egress
        and not s.ingress
        and s.outbound_traffic_policy is None
        and s.inbound_connection_pool is None
    ):
        site.col.error("sidecar: empty configuration provided", ("spec",))


def _sidecar_port(
    port: cfg.Port, at: tuple[str | int, ...], site: Site, check_number: bool
) -> None:
    col = site.col
    if port.name and not DNS1123.match(port.name):
        col.error(f"invalid port name: {port.name}", (*at, "name"))
    if port.protocol and _protocol(port.protocol) not in PROTOCOLS:
        col.error(f"unsupported protocol: {port.protocol}", (*at, "protocol"))
    if check_number:
        bad = _port_range(port.number)
        if bad is not None:
            col.error(bad, (*at, "number"))


def sc_ingress(sc: cfg.Sidecar, site: Site) -> None:
    col = site.col
    ports: set[int | None] = set()
    for i, lis in enumerate(sc.spec.ingress):
        at: tuple[str | int, ...] = ("spec", "ingress", i)
        if lis.port is None:
            col.error("sidecar: port is required for ingress listeners", at)
            continue
        if (lis.port.target_port or 0) > 0:
            col.error("targetPort has no impact on Sidecars", (*at, "port", "targetPort"))
        _sidecar_port(lis.port, (*at, "port"), site, True)
        if lis.bind and not _is_ip(lis.bind):
            col.error(f"{lis.bind} is not a valid IP", (*at, "bind"))
        if lis.port.number in ports:
            col.error(
                "sidecar: ports on IP bound listeners must be unique", (*at, "port", "number")
            )
        ports.add(lis.port.number)
        tls = lis.tls
        if tls is not None:
            if tls.https_redirect:
                col.error("sidecar: httpsRedirect is not supported", (*at, "tls", "httpsRedirect"))
            if tls.credential_name:
                col.error(
                    "sidecar: credentialName is not currently supported",
                    (*at, "tls", "credentialName"),
                )
            if tls.mode in ("ISTIO_MUTUAL", "AUTO_PASSTHROUGH"):
                col.error(
                    f"configuration is invalid: cannot set mode to {tls.mode} in sidecar"
                    " ingress tls",
                    (*at, "tls", "mode"),
                )
            if _protocol(lis.port.protocol) not in TLS_PROTOCOLS:
                col.error("server cannot have TLS settings for non HTTPS/TLS ports", (*at, "tls"))


def sc_egress(sc: cfg.Sidecar, site: Site) -> None:
    col = site.col
    ports: set[int] = set()
    uds: set[str] = set()
    catch_all = False
    last = len(sc.spec.egress) - 1
    for i, lis in enumerate(sc.spec.egress):
        at: tuple[str | int, ...] = ("spec", "egress", i)
        if lis.port is None:
            if catch_all:
                col.error("sidecar: egress can have only one listener with empty port", at)
                continue
            if i == last:
                catch_all = True
            else:
                col.error(
                    "sidecar: the egress listener with empty port should be the last listener"
                    " in the list",
                    at,
                )
        else:
            port = lis.port
            if (port.target_port or 0) > 0:
                col.error("targetPort has no impact on Sidecars", (*at, "port", "targetPort"))
            bind = lis.bind or ""
            _sidecar_port(port, (*at, "port"), site, bool(port.number))
            if not port.number:
                if not bind.startswith(UNIX):
                    col.error(
                        "sidecar: ports with 0 value must have a unix domain socket bind address",
                        (*at, "port"),
                    )
                elif lis.capture_mode not in (None, "DEFAULT", "NONE"):
                    col.error(
                        "sidecar: captureMode must be DEFAULT/NONE for unix domain socket"
                        " listeners",
                        (*at, "captureMode"),
                    )
                if bind in uds:
                    col.error(
                        "sidecar: unix domain socket values for listeners must be unique",
                        (*at, "bind"),
                    )
                uds.add(bind)
            else:
                if bind and not _is_ip(bind):
                    col.error(f"{bind} is not a valid IP", (*at, "bind"))
                if port.number in ports:
                    col.error(
                        "sidecar: ports on IP bound listeners must be unique",
                        (*at, "port", "number"),
                    )
                ports.add(port.number)
        _egress_hosts(lis, sc.metadata.namespace or "default", at, site)


def _egress_hosts(
    lis: cfg.IstioEgressListener, own_ns: str, at: tuple[str | int, ...], site: Site
) -> None:
    col = site.col
    if not lis.hosts:
        col.error("sidecar: egress listener must contain at least one host", (*at, "hosts"))
        return
    seen: dict[str, set[str]] = {}
    for j, h in enumerate(lis.hosts):
        where = (*at, "hosts", j)
        ns, sep, name = h.partition("/")
        if sep and not ns.startswith("~"):
            ns = own_ns if ns == "." else ns
            names = seen.setdefault(ns, set())
            dup = (name in names or "*" in names) if name != "*" else bool(names)
            if dup:
                col.warn(f"duplicated egress host: {h}", where)
            names.add(name)
        for msg in namespace_slash_host(h, False):
            col.error(msg, where)
    if "*" in seen.get("*", ()) and len(seen) != 1:
        col.warn("`*/*` host select all resources, no other hosts can be added", (*at, "hosts"))


def sc_outbound_policy(sc: cfg.Sidecar, site: Site) -> None:
    tp = sc.spec.outbound_traffic_policy
    if tp is None or tp.egress_proxy is None:
        return
    at = ("spec", "outboundTrafficPolicy", "egressProxy")
    if tp.mode != "ALLOW_ANY":
        site.col.error(
            "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode",
            at,
        )
        return
    if tp.egress_proxy.port is None:
        site.col.error("sidecar: egress_proxy port must be non-nil", at)


SidecarRule = Callable[[cfg.Sidecar, Site], None]

#: ValidateSidecar, in its order
SIDECAR: tuple[SidecarRule, ...] = (sc_not_empty, sc_ingress, sc_egress, sc_outbound_policy)
