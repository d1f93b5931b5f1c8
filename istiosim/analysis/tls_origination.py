"""IST0128 and IST0129: a DestinationRule originates TLS (``SIMPLE`` or ``MUTUAL``) without
``caCertificates``, so the server's certificate is not verified (istioctl's
``destinationrule.CaCertificateAnalyzer``, ``pkg/config/analysis/analyzers/destinationrule/
ca-certificates.go``). A ``credentialName`` counts as verification only when the
DestinationRule has a ``workloadSelector`` (the secret is then read by that workload). Only the
top-level ``trafficPolicy`` and its ``portLevelSettings`` are checked, as upstream (not the
subsets' policies)."""

from __future__ import annotations

from ..config import ClientTLSSettings, DestinationRule
from ..errors import Diagnostic
from .subject import Subject


def _unverified(tls: ClientTLSSettings | None, dr: DestinationRule) -> str | None:
    """The TLS mode when it originates TLS without a CA to verify the server, else None."""
    if tls is None or tls.mode not in ("SIMPLE", "MUTUAL"):
        return None
    if tls.ca_certificates:
        return None
    if tls.credential_name and dr.spec.workload_selector is not None:
        return None
    return tls.mode


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for dr in s.config.destination_rules:
        ns = dr.metadata.namespace or "default"
        col = s.collector(out, "DestinationRule", ns, dr.metadata.name)
        tp = dr.spec.traffic_policy
        if tp is None:
            continue
        head = f"DestinationRule {ns}/{dr.metadata.name} in namespace {ns} has TLS mode set to"
        mode = _unverified(tp.tls, dr)
        if mode is not None:
            col.add(
                "IST0128",
                f"{head} {mode} but no caCertificates are set to validate server identity for "
                f"host: {dr.spec.host}",
                ("spec", "trafficPolicy", "tls", "mode"),
            )
        for i, p in enumerate(tp.port_level_settings):
            mode = _unverified(p.tls, dr)
            if mode is not None:
                port = p.port.number if p.port is not None else None
                col.add(
                    "IST0129",
                    f"{head} {mode} but no caCertificates are set to validate server identity "
                    f"for host: {dr.spec.host} at port {port}",
                    ("spec", "trafficPolicy", "portLevelSettings", i, "tls", "mode"),
                )
    return out
