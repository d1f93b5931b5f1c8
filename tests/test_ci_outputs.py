"""CI-native output (issue 13, item 7): ``istiosim test --junit``, ``--format github`` for
``check`` and ``test``, and the repository's ``.pre-commit-hooks.yaml``, each checked by its
consumer's parser or schema: xmlschema against the Jenkins junit-10 structure
(tests/data/ci/junit-10.xsd) and junitparser for the JUnit XML; pre-commit's own manifest
loader for the hooks; the workflow-command grammar of actions/toolkit
(packages/core/src/command.ts: ``::name k=v,k=v::message``, escapeData / escapeProperty) for the
annotations.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import junitparser
import pytest
import xmlschema
from pre_commit.clientlib import load_manifest

import istiosim
from istiosim.cli import main
from istiosim.errors import Location
from istiosim.testing import run_cases
from istiosim.testing.cases.ci import annotation, junit_xml

from conftest import DATA

ROOT = Path(__file__).resolve().parent.parent
ENVOY = DATA / "foreign" / "envoy"
XSD = xmlschema.XMLSchema(str(DATA / "ci" / "junit-10.xsd"))
BUNDLED = resources.files("istiosim") / "data" / "bookinfo"
K8S = str(BUNDLED / "bookinfo-k8s.yaml")
DR = str(BUNDLED / "destination.yaml")
CANARY = str(BUNDLED / "canary-50-50.yaml")

# -- workflow commands, parsed as the runner does ----------------------------------------------

_COMMAND = re.compile(r"^::(?P<name>[a-z]+)(?: (?P<props>[^:]*))?::(?P<msg>.*)$")


def _unescape(s: str, prop: bool = False) -> str:
    if prop:
        s = s.replace("%3A", ":").replace("%2C", ",")
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    m = _COMMAND.match(line)
    assert m is not None, f"not a workflow command: {line!r}"
    props: dict[str, str] = {}
    for kv in (m["props"] or "").split(","):
        if kv:
            k, _, v = kv.partition("=")
            props[k] = _unescape(v, prop=True)
    return m["name"], props, _unescape(m["msg"])


def test_annotation_escapes_round_trip() -> None:
    msg = "100% sure:\nline two, with a comma\r"
    line = annotation("warning", msg, Location("a:b,c.yaml", 3, 7), title="t: x, y")
    assert "\n" not in line
    assert parse_command(line) == (
        "warning",
        {"file": "a:b,c.yaml", "line": "3", "col": "7", "title": "t: x, y"},
        msg,
    )
    assert annotation("notice", "m") == "::notice::m"
    assert annotation("error", "m", Location("<string>", 2, 1)) == "::error::m"
    with pytest.raises(ValueError):
        annotation("fatal", "m")


# -- istiosim test: JUnit and annotations ------------------------------------------------------


def _report() -> istiosim.testing.CaseReport:
    sim = istiosim.load(ENVOY / "lyft-istio.yaml")
    cases = [ENVOY / "lyft.router_check.yaml", ENVOY / "failures.router_check.yaml"]
    from istiosim.testing import load_cases

    return run_cases(sim, [c for f in cases for c in load_cases(f)])


def test_junit_is_valid_and_junitparser_reads_it(tmp_path: Path) -> None:
    report = _report()
    text = junit_xml(
        report, timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), hostname="ci"
    )
    XSD.validate(text)  # raises on any element or attribute the schema does not allow
    f = tmp_path / "r.xml"
    f.write_text(text, encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(f))
    suites = list(xml)
    assert [s.name for s in suites] == [
        str(ENVOY / "lyft.router_check.yaml"),
        str(ENVOY / "failures.router_check.yaml"),
    ]
    assert [(s.tests, s.failures, s.errors) for s in suites] == [(14, 0, 0), (3, 3, 0)]
    assert suites[0].timestamp == "2026-01-02T03:04:05" and suites[0].hostname == "ci"
    failing = {c.name: c for c in suites[1]}
    assert set(failing) == {"wrong cluster", "header matchers fail", "not honoured"}
    (res,) = failing["wrong cluster"].result
    assert isinstance(res, junitparser.Failure)
    assert res.message == (
        "cluster_name: expected 'cluster1', actual 'outbound|80|v1|backend.default.svc.cluster.local'"
    )
    assert res.text.startswith(f"{ENVOY / 'failures.router_check.yaml'}:7\n")
    assert "trace:" in res.text
    assert all(c.is_passed for c in suites[0])
    props = {p.name: p.value for p in suites[0].properties()}
    assert props["route_coverage"] == f"{report.coverage.percent:.1f}"


def test_junit_escapes_what_xml_cannot_hold_raw(tmp_path: Path) -> None:
    sim = istiosim.load(K8S, DR, CANARY)
    text = (
        'tests:\n- test_name: "<&> \\"quoted\\" ünï"\n  input: {host: reviews}\n'
        "  validate: {subset: v1}\n"
    )
    xml = junit_xml(run_cases(sim, text))
    XSD.validate(xml)
    f = tmp_path / "r.xml"
    f.write_text(xml, encoding="utf-8")
    (suite,) = list(junitparser.JUnitXml.fromfile(str(f)))
    (case,) = list(suite)
    assert case.name == '<&> "quoted" ünï' and not case.is_passed


def test_cli_junit_and_github(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "reports" / "junit.xml"
    code = main(
        [
            "test",
            str(ENVOY / "lyft.router_check.yaml"),
            str(ENVOY / "failures.router_check.yaml"),
            "-f",
            str(ENVOY / "lyft-istio.yaml"),
            "--junit",
            str(out_file),
            "--format",
            "github",
            "--fail-under",
            "100",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    XSD.validate(str(out_file))
    cmds = [parse_command(line) for line in out.splitlines() if line.startswith("::")]
    errors = [
        (p["file"], p["line"], p["title"]) for n, p, _ in cmds if n == "error" and "file" in p
    ]
    src = str(ENVOY / "failures.router_check.yaml")
    assert errors == [
        (src, "7", "route case failed: wrong cluster"),
        (src, "10", "route case failed: header matchers fail"),
        (src, "16", "route case failed: not honoured"),
    ]
    name, props, msg = cmds[-1]
    assert (name, props) == ("error", {"title": "istiosim route coverage"})
    assert msg.startswith("route coverage: ") and msg.endswith("(below --fail-under 100%)")
    # the text report is still there for humans
    assert "17 case(s): 14 passed, 3 failed" in out


def test_cli_test_github_annotates_bad_case_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("tests:\n- test_name: t\n  input: {host: reviews}\n  validate: {sbset: v1}\n")
    code = main(["test", str(f), "-f", K8S, "--format", "github"])
    out, err = capsys.readouterr()
    assert code == 2
    ((name, props, msg),) = [parse_command(x) for x in out.splitlines()]
    assert name == "error" and props["file"] == str(f) and props["line"] == "4"
    assert "sbset" in msg and "ISM0003" in props["title"]
    assert "sbset" in err  # the usual file:line:col line on stderr too


# -- istiosim check --format github ------------------------------------------------------------


def test_check_github_annotations(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    vs = tmp_path / "vs.yaml"
    vs.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\n"
        "spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v9}\n"
    )
    code = main(["check", "-f", K8S, "-f", DR, "-f", str(vs), "--format", "github"])
    out = capsys.readouterr().out
    assert code == 1
    cmds = [parse_command(line) for line in out.splitlines() if line.startswith("::")]
    assert cmds, out
    level, props, msg = cmds[0]
    assert level == "error" and props["file"] == str(vs) and props["line"] == "8"
    assert props["title"].startswith("IST0101")
    assert "v9" in msg
    # every text diagnostic line has its annotation
    text = [x for x in out.splitlines() if ": error[" in x or ": warning[" in x or ": info[" in x]
    assert len(text) == len(cmds)


def test_check_github_on_unreadable_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A path that cannot be read is a usage error (exit 2); a file that does not parse is a
    finding of ``check`` (exit 1, as istioctl analyze reports it); both are annotated."""
    missing = tmp_path / "missing.yaml"
    code = main(["check", "-f", str(missing), "--format", "github"])
    out, err = capsys.readouterr()
    assert code == 2
    (level, props, _msg), *_ = [parse_command(x) for x in out.splitlines()]
    assert level == "error" and props["file"] == str(missing)
    assert str(missing) in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: VirtualService\nspec: [\n")
    code = main(["check", "-f", str(bad), "--format", "github"])
    out, err = capsys.readouterr()
    assert code == 1
    cmds = [parse_command(x) for x in out.splitlines() if x.startswith("::")]
    assert cmds[0][0] == "error" and cmds[0][1]["file"] == str(bad) and cmds[0][1]["line"] == "3"


# -- pre-commit hooks ---------------------------------------------------------------------------

HOOKS = {h["id"]: h for h in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}


def test_pre_commit_manifest_is_valid() -> None:
    """pre-commit's own loader (pre_commit.clientlib.load_manifest) accepts the file."""
    assert set(HOOKS) == {"istiosim-check", "istiosim-test"}
    assert (
        HOOKS["istiosim-check"]["types"] == ["yaml"] and HOOKS["istiosim-check"]["pass_filenames"]
    )
    assert HOOKS["istiosim-check"]["require_serial"]
    assert not HOOKS["istiosim-test"]["pass_filenames"]
    assert re.search(HOOKS["istiosim-test"]["files"], "x/routing.cases.yaml")


@pytest.fixture
def istiosim_on_path(tmp_path: Path) -> dict[str, str]:
    """An ``istiosim`` executable running this checkout, first on PATH (as pre-commit puts
    the hook's environment first)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "istiosim"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m istiosim "$@"\n')
    exe.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run_hook(
    hook: str, args: list[str], files: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    h = HOOKS[hook]
    cmd = [*shlex.split(h["entry"]), *h["args"], *args, *(files if h["pass_filenames"] else [])]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(shutil.which("bash") is None, reason="the check hook's entry runs bash")
def test_check_hook_runs_on_changed_files(istiosim_on_path: dict[str, str], tmp_path: Path) -> None:
    args = ["--config-namespace", "default"]
    files = [str(ENVOY / "prod-services.yaml"), str(ENVOY / "details-virtualservice.yaml")]
    good = _run_hook("istiosim-check", args, files, istiosim_on_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "1 VirtualService(s), 2 DestinationRule(s), 2 service(s): 0 error(s)" in good.stdout
    broken = tmp_path / "with space.yaml"
    broken.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\n"
        "spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviewz}\n"
    )
    bad = _run_hook(
        "istiosim-check", ["-f", K8S, "--format", "github"], [str(broken)], istiosim_on_path
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"::error file={broken},line=8" in bad.stdout


def test_test_hook_runs_the_configured_suite(
    istiosim_on_path: dict[str, str], tmp_path: Path
) -> None:
    cases = tmp_path / "routing.cases.yaml"
    cases.write_text(
        "tests:\n- test_name: split\n  input: {host: reviews}\n  validate: {split: {v2: 50, v3: 50}}\n"
    )
    args = [str(cases), "-f", K8S, "-f", DR, "-f", CANARY]
    ok = _run_hook("istiosim-test", args, ["ignored.yaml"], istiosim_on_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 case(s): 1 passed, 0 failed" in ok.stdout
    cases.write_text(cases.read_text().replace("v2: 50, v3: 50", "v2: 90, v3: 10"))
    assert _run_hook("istiosim-test", args, [], istiosim_on_path).returncode == 1


def test_the_schema_is_not_vacuous() -> None:
    """The XSD refuses what Jenkins' junit-10.xsd refuses: a testcase without a name, an
    attribute it does not define (``file``), a testsuite without its counts."""
    ok = '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="c"/></testsuite></testsuites>'
    XSD.validate(ok)
    for bad in (
        ok.replace('<testcase name="c"/>', "<testcase/>"),
        ok.replace('<testcase name="c"/>', '<testcase name="c" file="x.yaml"/>'),
        ok.replace(' failures="0"', ""),
    ):
        assert not XSD.is_valid(bad), bad


def test_junit_reports_why_nothing_ran(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Exit code 2 (a bad case file or config) still leaves a JUnit report, with an error."""
    f = tmp_path / "c.yaml"
    f.write_text("tests:\n- test_name: t\n  input: {host: reviews}\n  validate: {sbset: v1}\n")
    out_file = tmp_path / "junit.xml"
    assert main(["test", str(f), "-f", K8S, "--junit", str(out_file)]) == 2
    capsys.readouterr()
    XSD.validate(str(out_file))
    (suite,) = list(junitparser.JUnitXml.fromfile(str(out_file)))
    assert (suite.tests, suite.errors) == (1, 1)
    (case,) = list(suite)
    (res,) = case.result
    assert isinstance(res, junitparser.Error) and "sbset" in res.message
    assert res.message.startswith(f"{f}:4:")
