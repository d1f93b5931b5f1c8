"""Our diagnostics against upstream's analyzer tests (corpus istio-analyzer-testdata/).

``expected-messages.yaml`` transcribes istio/istio ``pkg/config/analysis/analyzers/
analyzers_test.go`` (``testGrid``): one analyzer run alone over the listed inputs must produce
exactly the listed messages (a multiset of code + resource, gomega ``ConsistOf``).
istiosim runs all of its checks at once, as ``istioctl analyze`` does, so each upstream analyzer
is mapped to the subset of our diagnostics it corresponds to (``OURS``), and the two multisets
are compared, case by case. The inputs are read as upstream has them, including the objects
Istio's webhook refuses: ``check`` reports those (IST0106) and still analyses them, as
istioctl's analyzers see every object.

No case differs from upstream: ``KNOWN`` (a case → the difference and its reason in Istio's own
code) is empty, and stays the place to record one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from istiosim.analysis import analyze
from istiosim.compiler import compile_plan, compile_valid
from istiosim.errors import ConfigError, Diagnostic
from istiosim.loader import load_config

from conftest import CORPUS, DATA, KUBE, NET

ANALYZER_DATA = CORPUS / "istio-analyzer-testdata"
OUR_DATA = DATA / "analyzers"
CASES: list[dict[str, Any]] = yaml.safe_load(
    (ANALYZER_DATA / "expected-messages.yaml").read_text()
)["cases"]

_HOST_NOT_FOUND = re.compile(r"^Referenced (host|mirror host|host:port) not found")
_SUBSET_NOT_FOUND = re.compile(r"^Referenced (host|mirror)\+subset in destinationrule not found")

#: upstream analyzer → which of our diagnostics it stands for
OURS: dict[str, Callable[[Diagnostic], bool]] = {
    "deprecation.FieldAnalyzer": lambda d: d.code == "IST0002",
    "virtualservice.ConflictingMeshGatewayHostsAnalyzer": lambda d: d.code == "IST0109",
    "virtualservice.DestinationHostAnalyzer": lambda d: (
        d.code in ("IST0112", "IST0140")
        or (d.code == "IST0101" and bool(_HOST_NOT_FOUND.match(d.message)))
    ),
    "virtualservice.DestinationRuleAnalyzer": lambda d: (
        d.code == "IST0101" and bool(_SUBSET_NOT_FOUND.match(d.message))
    ),
    "virtualservice.GatewayAnalyzer": lambda d: (
        d.code in ("IST0132", "IST0165")
        or (d.code == "IST0101" and d.message.startswith("Referenced gateway not found"))
    ),
    "virtualservice.JWTClaimRouteAnalyzer": lambda d: d.code == "IST0149",
    "schema.ValidationAnalyzer.VirtualService": lambda d: d.code in ("IST0130", "IST0131"),
    "destinationrule.CaCertificateAnalyzer": lambda d: d.code in ("IST0128", "IST0129"),
    "destinationrule.SubsetSelectPodAnalyzer": lambda d: d.code in ("IST0173", "IST0174"),
    "sidecar.SelectorAnalyzer": lambda d: (
        d.code in ("IST0110", "IST0111", "IST0167")
        or (d.code == "IST0101" and d.message.startswith("Referenced selector not found"))
    ),
}

Key = tuple[str, str]

#: case name → (expected but not produced, produced but not expected, why in Istio's code)
KNOWN: dict[str, tuple[list[Key], list[Key], str]] = {}


def _resource(r: str) -> str:
    """Upstream omits the namespace when the YAML has none; we load those in 'default'."""
    kind, _, name = r.partition(" ")
    return r if "/" in name else f"{kind} default/{name}"


def check(*sources: str | Path) -> tuple[Diagnostic, ...]:
    """What ``istiosim check`` reports: the refused objects, then every analyzer's findings."""
    config = load_config(*sources, partial=True)
    plan, refused = compile_valid(config)
    return (*refused, *analyze(config, plan))


def _compare(case: dict[str, Any], diags: tuple[Diagnostic, ...]) -> None:
    expected = Counter((e["code"], _resource(e["resource"])) for e in case["expected"])
    mine = OURS[case["analyzer"]]
    got = Counter((d.code, d.resource or "") for d in diags if mine(d))
    missing, extra, why = KNOWN.get(case["name"], ([], [], ""))
    assert why or not (missing or extra)
    assert expected - got == Counter(missing), (why, sorted(got.elements()))
    assert got - expected == Counter(extra), (why, sorted(got.elements()))


def test_every_case_is_mapped() -> None:
    assert len(CASES) == 30
    assert {c["analyzer"] for c in CASES} <= set(OURS)
    assert set(KNOWN) <= {c["name"] for c in CASES}
    assert not KNOWN  # every case of the grid matches upstream


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_analyzer_matches_upstream(case: dict[str, Any]) -> None:
    _compare(case, check(*(ANALYZER_DATA / name for name in case["inputs"])))


#: upstream cases whose inputs we rewrote as our own files (tests/data/analyzers), citing them
OUR_CASES: list[dict[str, Any]] = [
    {
        "name": "sidecarSelector",  # analyzers_test.go, testdata/sidecar-selector.yaml
        "inputs": ["sidecar-selector.yaml"],
        "analyzer": "sidecar.SelectorAnalyzer",
        "expected": [
            {"code": "IST0101", "resource": "Sidecar default/maps-to-nonexistent"},
            {"code": "IST0101", "resource": "Sidecar other/maps-to-different-ns"},
            {"code": "IST0110", "resource": "Sidecar default/dupe-1"},
            {"code": "IST0110", "resource": "Sidecar default/dupe-2"},
            {"code": "IST0110", "resource": "Sidecar default/overlap-1"},
            {"code": "IST0110", "resource": "Sidecar default/overlap-2"},
        ],
    },
    {
        "name": "sidecarDefaultSelector",  # analyzers_test.go, sidecar-default-selector.yaml
        "inputs": ["sidecar-default-selector.yaml"],
        "analyzer": "sidecar.SelectorAnalyzer",
        "expected": [
            {"code": "IST0111", "resource": "Sidecar ns2/has-conflict-2"},
            {"code": "IST0111", "resource": "Sidecar ns2/has-conflict-1"},
            {"code": "IST0167", "resource": "Sidecar ns-ambient/namespace-scoped"},
            {"code": "IST0167", "resource": "Sidecar ns-ambient/pod-scoped"},
        ],
    },
]


@pytest.mark.parametrize("case", OUR_CASES, ids=[c["name"] for c in OUR_CASES])
def test_sidecar_analyzer_matches_upstream(case: dict[str, Any]) -> None:
    _compare(case, check(*(OUR_DATA / name for name in case["inputs"])))


def test_refused_objects_are_reported_and_still_analysed() -> None:
    """Upstream's deprecation input has an http rule with nothing but a fault: Istio's webhook
    refuses it (IST0106, as compile_plan does for the API), and istioctl's deprecation analyzer
    still reports its ``fault.delay.percent`` (IST0002), as check does."""
    with pytest.raises(ConfigError) as info:
        compile_plan(load_config(ANALYZER_DATA / "deprecation.yaml"))
    (d,) = info.value.diagnostics
    assert (d.resource, d.field_path) == ("VirtualService foo/productpage", "spec.http[0]")
    assert "got none" in d.message
    diags = check(ANALYZER_DATA / "deprecation.yaml")
    assert [(d.code, d.resource, d.field_path) for d in diags if d.severity.value == "error"] == [
        ("IST0106", "VirtualService foo/productpage", "spec.http[0]")
    ]
    dep = [d for d in diags if d.code == "IST0002"]
    assert [(d.resource, d.field_path) for d in dep] == [
        ("VirtualService foo/productpage", "spec.http[0].fault.delay.percent"),
        ("Sidecar default/no-selector", "spec.outboundTrafficPolicy.egressProxy"),
    ]
    assert dep[0].location is not None and dep[0].location.line == 26


def test_one_message_per_destination_not_per_match_block() -> None:
    """``getRouteDestinations`` (virtualservice/util.go) lists each route destination once;
    a rule with three match blocks is one rule."""
    text = (
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\n"
        "spec:\n  hosts: [reviews]\n  http:\n"
        "  - match: [{uri: {prefix: /a}}, {uri: {prefix: /b}}, {headers: {x: {exact: y}}}]\n"
        "    route:\n    - destination: {host: nowhere, subset: v1}\n"
        "    mirror: {host: nowhere-mirror}\n"
    )
    diags = [d for d in check(text) if d.code == "IST0101"]
    assert sorted(d.field_path or "" for d in diags) == [
        "spec.http[0].mirror.host",
        "spec.http[0].route[0].destination.host",
        "spec.http[0].route[0].destination.subset",
    ]


def test_delegate_virtual_services_are_analyzed_under_their_own_name() -> None:
    """Most DestinationHostAnalyzer inputs have no hosts: they are delegates, and upstream
    reports their destinations under the delegate's name, as we do."""
    diags = check(ANALYZER_DATA / "virtualservice_destinationhosts.yaml")
    (mirror,) = [d for d in diags if d.resource == "VirtualService default/reviews-mirror-bogushost"
                 and _HOST_NOT_FOUND.match(d.message)]  # fmt: skip
    assert "mirror host" in mirror.message
    assert mirror.location is not None and mirror.location.line == 186  # the mirror's host key
    assert mirror.field_path == "spec.http[0].mirror.host"
    # the `- {}` route (no destination; the webhook refuses it) is "host not found: ''"
    empty = [d for d in diags if d.resource == "VirtualService default/reviews-bogushost"
             and d.message == "Referenced host not found: ''"]  # fmt: skip
    assert [d.field_path for d in empty] == ["spec.http[0].route[0].destination.host"]


def test_jwt_claim_route_is_satisfied_by_a_request_authentication() -> None:
    """jwtclaimroute.go: a RequestAuthentication in istio-system (or the pod's namespace) whose
    selector matches the gateway pod removes IST0149; one selecting other pods does not."""
    base = ANALYZER_DATA / "virtualservice_jwtclaimroute.yaml"

    def ra(ns: str, labels: str) -> str:
        return (
            "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\n"
            f"metadata: {{name: jwt, namespace: {ns}}}\n"
            f"spec:\n  selector: {{matchLabels: {labels}}}\n"
            "  jwtRules: [{issuer: 'https://issuer', jwksUri: 'https://issuer/jwks'}]\n"
        )

    def codes(*extra: str) -> list[str]:
        return [d.code for d in check(base, *extra) if d.code == "IST0149"]

    assert codes() == ["IST0149"]
    assert codes(ra("istio-system", "{istio: ingressgateway}")) == []
    assert codes(ra("istio-system", "{istio: egressgateway}")) == ["IST0149"]
    assert codes(ra("default", "{istio: ingressgateway}")) == ["IST0149"]  # pod in istio-system
    (d,) = [d for d in check(base) if d.code == "IST0149"]
    assert "(key: @request.auth.claims.foo)" in d.message
    assert "gateway (default/foo-gateway) pod (istio-ingressgateway-dummypod)" in d.message


def test_deprecated_fields_are_coded_as_istioctl_codes_them() -> None:
    """``fault.delay.percent`` and a Sidecar's egressProxy are the deprecation analyzer's
    (IST0002); ``mirrorPercent``, ``minimumRingSize`` and ``consecutiveErrors`` are Istio's
    webhook warnings (validation/virtualservice.go, validation.go), IST0133 in istioctl."""
    text = (
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\n"
        "spec:\n  hosts: [r]\n  http:\n  - route: [{destination: {host: r}}]\n"
        "    mirror: {host: r}\n    mirrorPercent: 10\n"
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\n"
        "spec:\n  host: r\n  trafficPolicy:\n"
        "    loadBalancer: {consistentHash: {httpHeaderName: x, minimumRingSize: 64}}\n"
        "    outlierDetection: {consecutiveErrors: 5}\n"
        "---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s}\n"
        "spec:\n  outboundTrafficPolicy: {mode: REGISTRY_ONLY, egressProxy: {host: egress}}\n"
    )
    got = [(d.code, d.field_path) for d in check(text) if d.code in ("IST0002", "IST0133")]
    assert got == [
        ("IST0133", "spec.http[0].mirrorPercent"),
        ("IST0002", "spec.outboundTrafficPolicy.egressProxy"),
        ("IST0133", "spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize"),
        ("IST0133", "spec.trafficPolicy.outlierDetection.consecutiveErrors"),
    ]


def test_bookinfo_subsets_without_pods_differ_from_offline_analyze() -> None:
    """semantics §6: offline ``istioctl analyze`` sees Deployments but matches Pods only, so it
    would flag every subset of destination-rule-all.yaml; on a live cluster it matches subset
    labels against all pods, ignoring the Service selector, and flags only ratings v2-mysql and
    v2-mysql-vm. We model each Deployment's pods and select them with the Service selector, and
    flag exactly the subsets that answer 503 UH at runtime."""
    diags = check(KUBE, NET / "destination-rule-all.yaml")
    flagged = sorted(
        (d.resource, re.search(r"subset '([^']+)'", d.message).group(1))  # type: ignore[union-attr]
        for d in diags
        if d.code == "IST0173"
    )
    assert flagged == [
        ("DestinationRule default/details", "v2"),  # upstream live: reviews-v2 has version: v2
        ("DestinationRule default/ratings", "v2"),  # idem
        ("DestinationRule default/ratings", "v2-mysql"),  # upstream live: flagged too
        ("DestinationRule default/ratings", "v2-mysql-vm"),  # upstream live: flagged too
    ]


def test_gateway_server_host_namespaces() -> None:
    """gateways.go ``sanitizeServerHostNamespace`` then ``host.NamesForNamespace``: ``./h`` is
    the gateway's namespace, ``*/h`` any namespace, ``ns/h`` that namespace only; a gateway
    named without its namespace is looked up in the VirtualService's (IST0101 when absent)."""
    gw = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
        "metadata: {name: gw, namespace: istio-system}\n"
        "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
        "  - port: {number: 80, name: http, protocol: HTTP}\n"
        "    hosts: ['./own.example.com', '*/any.example.com', 'team/team.example.com']\n"
    )

    def vs(name: str, ns: str, host: str, gateway: str = "istio-system/gw") -> str:
        return (
            "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
            f"metadata: {{name: {name}, namespace: {ns}}}\n"
            f"spec:\n  hosts: [{host}]\n  gateways: [{gateway}]\n"
            "  http: [{route: [{destination: {host: httpbin.org}}]}]\n"
        )

    text = gw + "".join(
        [
            vs("own-here", "istio-system", "own.example.com"),
            vs("own-elsewhere", "default", "own.example.com"),  # IST0132
            vs("any", "default", "any.example.com"),
            vs("wild", "default", "'*.example.com'"),  # matches any.example.com
            vs("team", "team", "team.example.com"),
            vs("not-team", "default", "team.example.com"),  # IST0132
            vs("short-name", "default", "any.example.com", "gw"),  # default/gw: IST0101+IST0132
        ]
    )
    got = sorted(
        (d.code, d.resource or "")
        for d in check(text)
        if d.code in ("IST0132", "IST0165") or d.message.startswith("Referenced gateway")
    )
    assert got == [
        ("IST0101", "VirtualService default/short-name"),
        ("IST0132", "VirtualService default/not-team"),
        ("IST0132", "VirtualService default/own-elsewhere"),
        ("IST0132", "VirtualService default/short-name"),
    ]
