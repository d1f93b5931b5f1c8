"""The Gateway, Sidecar and RequestAuthentication models: loaded strictly onto the ConfigSet.

Field names follow istio/api (networking/v1alpha3/gateway.proto, sidecar.proto,
security/v1beta1/request_authentication.proto); unknown fields are refused, as for the other
Istio kinds, and other apiVersions of the group are refused."""

from __future__ import annotations

import pytest

from istiosim import config as cfg
from istiosim.errors import ConfigError
from istiosim.loader import load_config

from conftest import NET

GATEWAY = """\
apiVersion: networking.istio.io/{version}
kind: Gateway
metadata: {{name: gw, namespace: istio-system}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
  - port: {{number: 80, name: http, protocol: HTTP}}
    hosts: ["./a.example.com", "*/b.example.com", "c.example.com"]
    tls: {{httpsRedirect: true}}
  - port: {{number: 443, name: https, protocol: HTTPS}}
    hosts: ["*"]
    tls: {{mode: SIMPLE, credentialName: cert}}
"""


@pytest.mark.parametrize("version", ["v1alpha3", "v1beta1", "v1"])
def test_gateway_versions_load(version: str) -> None:
    c = load_config(GATEWAY.format(version=version))
    (gw,) = c.gateways
    assert gw.spec.selector == {"istio": "ingressgateway"}
    http, https = gw.spec.servers
    assert (http.port, http.hosts) == (
        cfg.Port(number=80, name="http", protocol="HTTP"),
        ["./a.example.com", "*/b.example.com", "c.example.com"],
    )
    assert http.tls is not None and http.tls.https_redirect is True
    assert https.tls is not None and (https.tls.mode, https.tls.credential_name) == (
        "SIMPLE",
        "cert",
    )
    assert not [d for d in c.diagnostics if d.code == "ISM0100"]


def test_bookinfo_gateway_is_read() -> None:
    c = load_config(NET / "bookinfo-gateway.yaml")
    assert [g.metadata.name for g in c.gateways] == ["bookinfo-gateway"]
    assert c.gateways[0].spec.servers[0].hosts == ["*"]


def test_gateway_unknown_field_and_version_are_refused() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(GATEWAY.format(version="v1").replace("httpsRedirect", "httpRedirect"))
    assert [(d.code, d.field_path) for d in info.value.diagnostics] == [
        ("ISM0003", "spec.servers[0].tls.httpRedirect")
    ]
    with pytest.raises(ConfigError) as info:
        load_config(GATEWAY.format(version="v2"))
    assert [d.code for d in info.value.diagnostics] == ["ISM0004"]


def test_sidecar_and_request_authentication() -> None:
    c = load_config(
        "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s, namespace: a}\n"
        "spec:\n  workloadSelector: {labels: {app: x}}\n"
        "  egress: [{hosts: ['./*', 'istio-system/*', '~/*']}]\n"
        "  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n"
        "---\napiVersion: security.istio.io/v1beta1\nkind: RequestAuthentication\n"
        "metadata: {name: ra, namespace: istio-system}\n"
        "spec:\n  selector: {matchLabels: {istio: ingressgateway}}\n"
        "  jwtRules: [{issuer: 'https://i', jwksUri: 'https://i/jwks', forwardOriginalToken: true}]\n"
    )
    (sc,) = c.sidecars
    assert sc.spec.workload_selector == cfg.SidecarWorkloadSelector(labels={"app": "x"})
    assert sc.spec.egress[0].hosts == ["./*", "istio-system/*", "~/*"]
    assert sc.spec.outbound_traffic_policy is not None
    assert sc.spec.outbound_traffic_policy.mode == "REGISTRY_ONLY"
    (ra,) = c.request_authentications
    assert ra.spec.selector is not None and ra.spec.selector.match_labels == {
        "istio": "ingressgateway"
    }
    assert ra.spec.jwt_rules[0].forward_original_token is True
    with pytest.raises(ConfigError) as info:  # a Sidecar's selector is `labels`, not matchLabels
        load_config(
            "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s}\n"
            "spec:\n  workloadSelector: {matchLabels: {app: x}}\n"
        )
    assert [d.code for d in info.value.diagnostics] == ["ISM0003"]


def test_gateway_api_gateway_does_not_collide_with_istio_gateway() -> None:
    """Same name and namespace, two API groups: two objects (KubernetesGateway for the
    gateway.networking.k8s.io one), neither replacing the other."""
    c = load_config(
        GATEWAY.format(version="v1")
        + "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
        "metadata: {name: gw, namespace: istio-system}\n"
        "spec:\n  gatewayClassName: istio\n  listeners: [{name: h, hostname: a.com, port: 80}]\n"
    )
    assert len(c.gateways) == 1 and len(c.kubernetes_gateways) == 1
    assert c.kubernetes_gateways[0].spec.listeners[0].hostname == "a.com"
    assert not [d for d in c.diagnostics if d.code == "ISM0102"]
    assert ("KubernetesGateway", "istio-system", "gw") in c.sources
