"""The webhook's Gateway and Sidecar rules: what Istio accepts stays accepted, warnings are
warnings. The refusals are data files, tests/data/invalid/gateway-*.yaml and sidecar-*.yaml
(tests/test_invalid.py), each citing its case in istio/istio
pkg/config/validation/validation_test.go.
"""

from __future__ import annotations

import pytest

from istiosim.compiler import compile_plan
from istiosim.errors import Severity
from istiosim.loader import load_config

GW = """apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
"""
SC = """apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
"""

ACCEPTED = {
    # TestValidateGateway / TestValidateServer happy cases
    "happy domain": GW + "  - port: {number: 7, name: http, protocol: http}\n    hosts: [foo.bar.com]\n",
    "happy ip": GW + "  - port: {number: 7, name: http, protocol: http}\n    hosts: [1.1.1.1]\n",
    "happy ns/name": GW + "  - port: {number: 7, name: http, protocol: http}\n    hosts: [ns1/foo.bar.com]\n",
    "happy */name": GW + "  - port: {number: 7, name: http, protocol: http}\n    hosts: ['*/foo.bar.com']\n",
    "happy ./name": GW + "  - port: {number: 7, name: http, protocol: http}\n    hosts: [./foo.bar.com]\n",
    "tls redirect on HTTP": GW + "  - port: {number: 80, name: http, protocol: http}\n    hosts: [foo.bar.com]\n"
    "    tls: {httpsRedirect: true}\n",
    "https with credentialName": GW + "  - port: {number: 443, name: https, protocol: HTTPS}\n"
    "    hosts: [foo.bar.com]\n    tls: {mode: SIMPLE, credentialName: foo-cert}\n",
    "bind ip": GW + "  - port: {number: 7, name: http, protocol: http}\n    hosts: [foo.bar.com]\n    bind: 127.0.0.1\n",
    # TestValidateSidecar valid cases
    "default": SC + "  egress:\n  - hosts: ['*/*']\n",
    "import local namespace with wildcard": SC + "  egress:\n  - hosts: ['./*']\n",
    "import nothing": SC + "  egress:\n  - hosts: ['~/*']\n",
    "import all except a namespace": SC + "  egress:\n  - hosts: ['*/*', '~ns1/*']\n",
    "import all except an exact host": SC + "  egress:\n  - hosts: ['*/*', '~/foo.com']\n",
    "just outbound traffic policy": SC + "  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n",
    "valid ingress and egress in IPv4": SC + "  ingress:\n  - port: {protocol: http, number: 90, name: foo}\n"
    "    defaultEndpoint: 127.0.0.1:9999\n  egress:\n  - hosts: ['*/*']\n",
    "empty protocol in IPv4": SC + "  egress:\n  - port: {number: 90, name: foo}\n    hosts: ['*/*']\n",
}  # fmt: skip


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_upstream_valid_cases_are_accepted(case: str) -> None:
    plan = compile_plan(load_config(ACCEPTED[case]))
    assert [d for d in plan.diagnostics if d.severity is Severity.ERROR] == []


WARNED = {
    # TestValidateGateway "invalid https httpsRedirect": a warning, not a refusal
    "invalid https httpsRedirect": (
        GW + "  - port: {number: 443, name: https, protocol: https}\n    hosts: [bar.com]\n"
        "    tls: {httpsRedirect: true, mode: SIMPLE, credentialName: c}\n",
        "tls.httpsRedirect should only be used with http servers",
    ),
    # TestValidateSidecar "sidecar egress only one wildcarded" and "... wildcarded ns"
    "sidecar egress only one wildcarded": (
        SC + "  egress:\n  - hosts: ['*/*', 'test/a.com']\n",
        "`*/*` host select all resources, no other hosts can be added",
    ),
    "sidecar egress duplicated with wildcarded same namespace": (
        SC + "  egress:\n  - hosts: ['test/*', 'test/a.com']\n",
        "duplicated egress host: test/a.com",
    ),
    # validateTLSOptions: PASSTHROUGH ignores certificates, with a warning
    "passthrough with certificates": (
        GW + "  - port: {number: 443, name: tls, protocol: TLS}\n    hosts: [bar.com]\n"
        "    tls: {mode: PASSTHROUGH, serverCertificate: c.pem}\n",
        "PASSTHROUGH mode does not use certificates, they will be ignored",
    ),
}


@pytest.mark.parametrize("case", list(WARNED))
def test_upstream_warning_cases_warn(case: str) -> None:
    text, message = WARNED[case]
    plan = compile_plan(load_config(text))
    found = [(d.code, d.severity, d.message) for d in plan.diagnostics]
    assert ("IST0133", Severity.WARNING, message) in found
    assert all(sev is not Severity.ERROR for _, sev, _ in found)
