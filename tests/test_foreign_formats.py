"""Other tools' case files read as they are (issue 13, item 6): Envoy's router_check_tool and
getyourguide's istio-config-validator, and what istiosim's own format gained from them.

The data under tests/data/foreign restate the upstream example and test files (each file
names the one it restates): getyourguide/istio-config-validator examples/ and
hack/istio-router-check/, envoyproxy/envoy test/tools/router_check/test/config/.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

import istiosim
from istiosim.cli import main
from istiosim.errors import ConfigError
from istiosim.testing import load_cases, run_cases
from istiosim.testing.cases.models import HeaderMatch, detect_format

from conftest import DATA

FOREIGN = DATA / "foreign"
ENVOY = FOREIGN / "envoy"
GYG = FOREIGN / "gyg"
BUNDLED = resources.files("istiosim") / "data" / "bookinfo"
EDGE = [str(BUNDLED / "bookinfo-k8s.yaml"), str(BUNDLED / "destination.yaml")]
EDGE.append(str(DATA / "cases" / "productpage-edge.config.yaml"))


def _failures(report: istiosim.testing.CaseReport) -> dict[str, list[str]]:
    return {r.name: [str(m) for m in r.mismatches] for r in report.failed}


# -- format detection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (ENVOY / "details.router_check.yaml", "envoy"),
        (ENVOY / "lyft.router_check.yaml", "envoy"),
        (ENVOY / "failures.router_check.yaml", "envoy"),
        (GYG / "virtualservice_test.yaml", "istio-config-validator"),
        (DATA / "cases" / "productpage-edge-more.cases.yaml", "istiosim"),
    ],
)
def test_format_is_detected(path: Path, fmt: str) -> None:
    cases = load_cases(path)
    assert cases and {c.format for c in cases} == {fmt}


def test_detect_format_by_fields() -> None:
    assert detect_format({"testCases": []}) == "istio-config-validator"
    assert detect_format({"tests": [{"input": {"authority": "a", "path": "/"}}]}) == "envoy"
    assert (
        detect_format({"tests": [{"input": {"host": "a"}, "validate": {"cluster_name": ""}}]})
        == "envoy"
    )
    assert detect_format({"tests": [{"input": {"host": "a", "authority": "b"}}]}) == "istiosim"


def test_format_can_be_forced(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(
        "tests:\n- test_name: t\n  input: {authority: reviews, path: /}\n  validate: {cluster_name: ''}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_cases(f, format="istiosim")  # 'authority' without 'host' is not ours
    assert "host" in str(exc.value)
    assert load_cases(f, format="envoy")[0].format == "envoy"


# -- Envoy router_check_tool -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tests", "configs", "n"),
    [
        # getyourguide/istio-config-validator hack/istio-router-check/examples/envoy-tests/test.yml
        ("details.router_check.yaml", ["prod-services.yaml", "details-virtualservice.yaml"], 2),
        # .../internal/pkg/istio-router-check/envoy/testdata/tests/reviews/reviews_test.yaml
        ("reviews.router_check.yaml", ["prod-services.yaml", "reviews-virtualservice.yaml"], 2),
        # envoyproxy/envoy test/tools/router_check/test/config/{Weighted,Redirect,
        # HeaderMatchedRouting,DirectResponse,TestRoutes}.golden.proto.json, Istio's names
        ("lyft.router_check.yaml", ["lyft-istio.yaml"], 14),
    ],
)
def test_envoy_router_check_files_pass(tests: str, configs: list[str], n: int) -> None:
    sim = istiosim.load(*(ENVOY / c for c in configs))
    report = run_cases(sim, ENVOY / tests)
    assert report.passed, str(report)
    assert len(report.results) == n


def test_envoy_random_value_defaults_to_zero() -> None:
    """router_check_tool's random_value defaults to 0 (validation.proto): the first cluster."""
    case = next(
        c for c in load_cases(ENVOY / "lyft.router_check.yaml") if c.name == "Weighted Test_1"
    )
    assert case.input.random_value == 0
    assert case.input.headers == {"x-forwarded-proto": "https", "x-envoy-internal": "true"}
    assert case.input.scheme == "https"


def test_envoy_failures_name_what_failed_and_what_is_not_honoured() -> None:
    """As route_tests.sh checks Envoy's failure output (expected vs actual, per test type),
    and every field istiosim cannot honour fails its case, named, instead of being skipped."""
    sim = istiosim.load(ENVOY / "lyft-istio.yaml")
    report = run_cases(sim, ENVOY / "failures.router_check.yaml")
    got = _failures(report)
    assert set(got) == {"wrong cluster", "header matchers fail", "not honoured"}
    assert (
        "cluster_name: expected 'cluster1', actual 'outbound|80|v1|backend.default.svc.cluster.local'"
        in got["wrong cluster"]
    )
    assert (
        "virtual_cluster_name: expected 'test_virtual_cluster', actual ''" in got["wrong cluster"]
    )
    assert (
        "request_header_matches.:path: expected exact '/new_endpoint/x', actual '/api/new_endpoint/x'"
        in got["header matchers fail"]
    )
    assert (
        "request_header_matches.x-forwarded-proto: expected not present, actual 'http'"
        in got["header matchers fail"]
    )
    honoured = [m.split(":")[0] for m in got["not honoured"]]
    assert honoured == ["runtime", "input.runtime", "input.dynamic_metadata"]
    assert all("not honoured" in m for m in got["not honoured"])


def test_envoy_malformed_files_give_file_line_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(
        "tests:\n"
        "- test_name: t\n"
        "  input: {authority: a, path: /}\n"
        "  validate:\n"
        "    cluster_name: x\n"
        "    route_metadata: y\n"
        "    request_header_matches: [{name: h, range_match: {start: 1, end: 2}}]\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_cases(f)
    text = str(exc.value)
    assert f"{f}:6:5: error[ISM0003]" in text and "route_metadata" in text
    assert f"{f}:7:" in text and "range_match is not supported" in text


# -- istio-config-validator ---------------------------------------------------------------------


def test_gyg_example_passes_as_upstream_testrun() -> None:
    """TestRun (internal/pkg/unit/unit_test.go): examples/virtualservice_test.yml against
    examples/virtualservice.yml; 24 requests from authority x method x uri."""
    sim = istiosim.load(GYG / "virtualservice.yaml")
    report = run_cases(sim, GYG / "virtualservice_test.yaml")
    assert report.passed, str(report)
    assert len(report.results) == 24
    names = [r.name for r in report.results]
    assert names[:2] == [
        "happy path users [www.example.com GET /users]",
        "happy path users [www.example.com POST /users]",
    ]


def test_gyg_checks_compare_the_rule_as_written() -> None:
    """Each assertion is the matched rule's own stanza, and wantMatch: false asks it to
    differ: a wrong route fails with wantMatch true and passes with false."""
    sim = istiosim.load(GYG / "virtualservice.yaml")
    text = (
        "testCases:\n"
        "- description: wrong\n  wantMatch: {want}\n"
        "  request: {{authority: [example.com], method: [GET], uri: [/reseller]}}\n"
        "  route: [{{destination: {{host: catalog.catalog.svc.cluster.local}}}}]\n"
        "  rewrite: {{uri: /partner}}\n"
    )
    bad = run_cases(sim, text.format(want="true"))
    assert _failures(bad) == {
        "wrong [example.com GET /reseller]": [
            'route: expected [{"destination": {"host": "catalog.catalog.svc.cluster.local"}}],'
            ' actual [{"destination": {"host": "partner.partner.svc.cluster.local"}}]'
        ]
    }
    neg = run_cases(sim, text.format(want="false"))
    assert _failures(neg) == {
        "wrong [example.com GET /reseller]": [
            'rewrite: expected not {"uri": "/partner"} (wantMatch: false), actual {"uri": "/partner"}'
        ]
    }


def test_gyg_delegate_example_shows_what_istio_drops() -> None:
    """TestRunDelegate passes upstream, whose matcher ignores Istio's delegation rules; Istio
    drops all three delegated routes (seller-delegate is missing; a root uri regex conflicts
    with any delegate uri match: pilot/pkg/model/virtualservice.go stringMatchConflict), so
    the request falls through and each assertion fails, saying what it found."""
    sim = istiosim.load(GYG / "delegate_virtualservice.yaml")
    codes = {d.code for d in sim.diagnostics}
    assert "IST0133" in codes  # the missing delegate
    report = run_cases(sim, GYG / "virtualservice_delegate_test.yaml")
    assert len(report.results) == 4 + 4 + 6 and not report.passed
    got = _failures(report)
    assert got["Delegate to seller [example.org GET /seller]"] == [
        'delegate: expected {"name": "seller-delegate"}, actual null'
    ]


def test_gyg_delegate_is_compared_on_the_root_and_route_on_the_delegate(tmp_path: Path) -> None:
    """unit.go: ``delegate`` is checked on the root rule, ``route`` on the delegate's rule."""
    cfg = tmp_path / "vs.yaml"
    cfg.write_text(
        (GYG / "delegate_virtualservice.yaml")
        .read_text()
        .replace(
            "- match: [{uri: {regex: /product(/.*)?}}]", "- match: [{uri: {prefix: /product}}]"
        )
        .replace("- match: [{uri: {prefix: /}}]", "- match: [{uri: {prefix: /product/v2}}]")
    )
    sim = istiosim.load(cfg)
    text = (
        "testCases:\n- description: product\n  wantMatch: true\n"
        "  request: {authority: [example.org], method: [GET], uri: [/product/v2/]}\n"
        "  route: [{destination: {host: product.product.svc.cluster.local, port: {number: 80}}}]\n"
        "  rewrite: {uri: /product}\n"
        "  delegate: {name: product-delegate}\n"
    )
    report = run_cases(sim, text)
    assert report.passed, str(report)


def test_gyg_unknown_fields_fail_the_case_instead_of_being_skipped() -> None:
    """internal/pkg/parser/testdata/invalid_test.yml: upstream ignores unknownField unless
    --strict; istiosim reports it on the case."""
    sim = istiosim.load(GYG / "virtualservice.yaml")
    report = run_cases(sim, GYG / "invalid_test.yaml")
    assert _failures(report) == {
        "a test [www.example.com GET /users]": [
            "unknownField: expected a field istiosim checks, actual not honoured:"
            " not a field of istio-config-validator's TestCase"
        ]
    }


def test_gyg_empty_request_lists_are_errors(tmp_path: Path) -> None:
    """parser.Request.Unfold refuses an empty authority, method or uri list."""
    f = tmp_path / "t.yaml"
    f.write_text(
        "testCases:\n- description: x\n  request: {authority: [], method: [GET], uri: [/]}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_cases(f)
    assert f"{f}:3:" in str(exc.value) and "request.authority" in str(exc.value)


# -- istiosim's own format: lists, not, matchers, documents -------------------------------------


def test_own_format_gains_pass() -> None:
    sim = istiosim.load(*EDGE)
    report = run_cases(sim, DATA / "cases" / "productpage-edge-more.cases.yaml")
    assert report.passed, str(report)
    assert len(report.results) == 4 + 4 + 1 + 1  # two 2x2 request lists, two documents


def test_not_block_fails_when_a_negated_field_holds() -> None:
    sim = istiosim.load(*EDGE)
    text = (
        "tests:\n- test_name: n\n  input: {host: productpage, path: /api/v1/x}\n"
        "  validate:\n    not: {rule: api-v1, subset: v9}\n"
    )
    assert _failures(run_cases(sim, text)) == {
        "n": ["not.rule: expected not 'api-v1', actual 'api-v1' holds"]
    }


def test_header_matchers_fail_with_what_they_saw() -> None:
    sim = istiosim.load(*EDGE)
    text = (
        "tests:\n- test_name: h\n  input: {host: productpage, path: /api/v1/x}\n"
        "  validate:\n    headers:\n      x-api-version: {regex: '2|3'}\n"
        "      x-debug: {present: true}\n"
    )
    assert _failures(run_cases(sim, text)) == {
        "h": [
            "headers.x-api-version: expected regex '2|3', actual '1'",
            "headers.x-debug: expected present, actual absent",
        ]
    }


@pytest.mark.parametrize(
    ("match", "value", "ok"),
    [
        ({"prefix": "ab"}, "abc", True),
        ({"prefix": "ab"}, None, False),
        ({"suffix": "bc"}, "abc", True),
        ({"contains": "b"}, "abc", True),
        ({"regex": "a.c"}, "abc", True),
        ({"regex": "a"}, "abc", False),  # RE2 full match, as Istio and Envoy
        ({"present": False}, None, True),
        ({"exact": "ABC", "ignore_case": True}, "abc", True),
        ({"exact": "abc", "invert": True}, "abc", False),
    ],
)
def test_header_match_semantics(match: dict[str, object], value: str | None, ok: bool) -> None:
    assert HeaderMatch.model_validate(match).matches(value) is ok


def test_header_match_needs_exactly_one_kind(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(
        "tests:\n- test_name: h\n  input: {host: productpage}\n"
        "  validate: {headers: {x: {prefix: a, suffix: b}}}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_cases(f)
    assert "exactly one of" in str(exc.value) and f"{f}:4:" in str(exc.value)


def test_not_cannot_hold_split(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(
        "tests:\n- test_name: h\n  input: {host: reviews}\n  validate: {not: {split: {v1: 1}}}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_cases(f)
    assert "'not' cannot hold split" in str(exc.value)


def test_duplicate_names_across_documents(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    one = "tests:\n- test_name: same\n  input: {host: reviews}\n  validate: {outcome: OK}\n"
    f.write_text(one + "---\n" + one)
    with pytest.raises(ConfigError) as exc:
        load_cases(f)
    assert "duplicate test_name 'same'" in str(exc.value) and f"{f}:7:3:" in str(exc.value)


def test_coverage_is_not_100_when_no_rule_was_loaded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("tests:\n- test_name: t\n  input: {host: reviews}\n  validate: {outcome: OK}\n")
    code = main(["test", str(f), "-f", EDGE[0], "--fail-under", "50"])
    out = capsys.readouterr().out
    assert "route coverage: n/a (no VirtualService http rule was loaded: nothing to cover)" in out
    assert "100.0%" not in out
    assert code == 1  # a coverage gate cannot be met with nothing to cover
    assert main(["test", str(f), "-f", EDGE[0]]) == 0


def test_gyg_routes_through_the_gateway_a_virtualservice_is_bound_to(tmp_path: Path) -> None:
    """The upstream tool ignores ``gateways`` (unit.go GetRoute checks hosts only); a
    VirtualService bound only to a gateway applies there, not on sidecars, so istiosim routes
    the request as that gateway. The Gateway must be loaded too: without it no gateway proxy
    listens for the host, and the case fails naming the missing Gateway (istioctl: IST0101)."""
    cfg = tmp_path / "gw.yaml"
    gateway = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
        "metadata: {name: public, namespace: istio-system}\n"
        "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
        "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*/www.example.com']\n"
        "---\n"
    )
    cfg.write_text(
        gateway + "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        "metadata: {name: web, namespace: edge}\n"
        "spec:\n  hosts: [www.example.com]\n  gateways: [istio-system/public]\n  http:\n"
        "  - match: [{uri: {prefix: /api}}]\n"
        "    route: [{destination: {host: api.backend.svc.cluster.local}}]\n"
        "  - route: [{destination: {host: web.frontend.svc.cluster.local}}]\n"
    )
    sim = istiosim.load(cfg)
    text = (
        "testCases:\n- description: api\n  wantMatch: true\n"
        "  request: {authority: [www.example.com], method: [GET], uri: [/api/x, /api]}\n"
        "  route: [{destination: {host: api.backend.svc.cluster.local}}]\n"
    )
    report = run_cases(sim, text)
    assert report.passed, str(report)
    assert {r.request.gateway for r in report.results} == {"istio-system/public"}
    cfg.write_text(cfg.read_text().removeprefix(gateway))
    missing = run_cases(istiosim.load(cfg), text)
    assert not missing.passed
    assert "no Gateway istio-system/public is loaded" in str(missing)


def test_envoy_json_test_file_and_header_fields(tmp_path: Path) -> None:
    """router_check_tool reads JSON as well as YAML (route_tests.sh runs *.golden.proto.json);
    ``*_header_fields`` compare strings, an absent header being "" (TestRoutes.golden.proto.json
    Header_Fields expects ``:cookie`` to be "")."""
    f = tmp_path / "t.golden.proto.json"
    f.write_text(
        '{"tests": [{"test_name": "Header_Fields",'
        ' "input": {"authority": "www.lyft.com", "path": "/new_endpoint/a", "method": "GET"},'
        ' "validate": {"request_header_fields": ['
        '{"key": ":path", "value": "/api/new_endpoint/a"},'
        '{"key": ":method", "value": "GET"}, {"key": "cookie", "value": ""}]}}]}'
    )
    sim = istiosim.load(ENVOY / "lyft-istio.yaml")
    report = run_cases(sim, f)
    assert report.passed, str(report)
    assert [c.format for c in load_cases(f)] == ["envoy"]


def test_cli_case_format_flag(capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(ENVOY / "details.router_check.yaml"), "-f", str(ENVOY / "prod-services.yaml")]
    args += ["-f", str(ENVOY / "details-virtualservice.yaml")]
    assert main(["test", *args, "--case-format", "envoy"]) == 0
    assert "2 case(s): 2 passed, 0 failed" in capsys.readouterr().out
    assert main(["test", *args, "--case-format", "istio-config-validator"]) == 2
    assert "unknown field 'tests'" in capsys.readouterr().err
