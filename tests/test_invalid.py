"""Bad input: every broken file under tests/data/invalid/ is refused with the exact diagnostics.

The expectations live in ONE place, the ``# expect:`` header comments of each file::

    # expect: CODE LINE:COL FIELD "message substring"

(FIELD is ``-`` when the problem has no field, e.g. malformed YAML). Each file must give exactly
those diagnostics, in that order, through the Python API (``ConfigError.diagnostics``) and through
the CLI (``istiosim check`` / ``istiosim route``: exit 2, one ``file:line:col: error[CODE] ...``
line per diagnostic on stderr, never a traceback). Line and column are those of the offending
field itself, 1-based. Other bad inputs (missing paths, folders, stdin, huge files, deep nesting,
alias bombs) are built in tmp_path below.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from istiosim import loader
from istiosim.cli import main
from istiosim.compiler import compile_plan
from istiosim.errors import ConfigError, Diagnostic, Location
from istiosim.loader import load_config

from conftest import DATA

INVALID = DATA / "invalid"
FILES = sorted(INVALID.glob("*.yaml"))
_EXPECT = re.compile(r'^# expect: (\S+) (\d+):(\d+) (.+?) "(.*)"$')


@dataclass(frozen=True)
class Expected:
    code: str
    line: int
    column: int
    field: str | None
    message: str


def expectations(path: Path) -> list[Expected]:
    out = []
    for raw in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        if not raw.startswith("# expect:"):
            break
        m = _EXPECT.match(raw)
        assert m, f"{path.name}: malformed expectation {raw!r}"
        code, line, col, fld, msg = m.groups()
        out.append(Expected(code, int(line), int(col), None if fld == "-" else fld, msg))
    return out


def refuse(*sources: str | os.PathLike[str]) -> tuple[Diagnostic, ...]:
    """Load and compile; the input must be refused. Returns the diagnostics."""
    with pytest.raises(ConfigError) as info:
        compile_plan(load_config(*sources))
    return info.value.diagnostics


def test_the_table_covers_the_promised_problems() -> None:
    names = {f.stem for f in FILES}
    promised = {
        "yaml-malformed", "not-a-mapping", "missing-kind", "missing-apiversion", "missing-name",
        "unknown-field-prefx", "duplicate-key", "alias-bomb", "merge-key", "regex-lookahead",
        "regex-backreference", "regex-end-anchor-Z", "regex-too-long", "weight-negative",
        "weights-all-zero", "route-and-redirect", "redirect-code-305", "redirect-scheme-ftp",
        "fault-empty", "fault-percentage-150", "fault-http-status-700", "header-match-null",
        "header-prefix-empty", "subset-name-dot", "dr-subsets-duplicate",
        "dr-traffic-policy-empty", "dr-maglev-not-prime", "host-star-mesh", "hosts-duplicate",
        "export-to-invalid", "mirror-and-mirrors", "rewrite-uri-and-regex",
        "retries-attempts-0-retry-on", "duration-timeout-bad", "api-version-unknown",
        "weight-string", "not-utf8",
    }  # fmt: skip
    assert promised <= names, sorted(promised - names)
    for f in FILES:
        assert expectations(f), f"{f.name} has no '# expect:' header"


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_api_reports_exactly_the_expected_diagnostics(path: Path) -> None:
    expected = expectations(path)
    got = refuse(path)
    assert len(got) == len(expected), "\n".join(map(str, got))
    for d, e in zip(got, expected, strict=True):
        assert d.code == e.code, str(d)
        assert d.location is not None and d.location.file == str(path), str(d)
        assert (d.location.line, d.location.column) == (e.line, e.column), str(d)
        assert d.field_path == e.field, str(d)
        assert e.message in d.message, str(d)
        assert d.severity.value == "error"


def _stderr_matches(stderr: str, path: str, expected: list[Expected]) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == len(expected), stderr
    for line, e in zip(lines, expected, strict=True):
        prefix = f"{path}:{e.line}:{e.column}: error[{e.code}] "
        if e.field:
            prefix += f"{e.field}: "
        assert line.startswith(prefix), (line, prefix)
        assert e.message in line, line


def _refusals(stdout: str) -> str:
    """``check``'s lines about refused input (IST0106 and the loader's ISM codes), in order;
    its other lines are the analyzers' findings on what loaded, and the summary."""
    return "\n".join(
        line for line in stdout.splitlines() if re.search(r" error\[(IST0106|ISM\d+)\] ", line)
    )


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_route_prints_one_line_per_diagnostic_and_exits_2(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["route", "-f", str(path), "--host", "x"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    _stderr_matches(err, str(path), expectations(path))


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_check_reports_refusals_and_goes_on(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As ``istioctl analyze``: what Istio refuses is reported (IST0106 with file:line) among
    the other findings, and the exit status is 1, not a usage error."""
    assert main(["check", "-f", str(path)]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    _stderr_matches(_refusals(out), str(path), expectations(path))
    assert re.match(r"\d+ VirtualService\(s\), ", out.splitlines()[-1])


# -- the same in a real process: exit status 2 and no traceback ---------------------------------


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "istiosim", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", ["alias-bomb", "regex-lookahead", "not-utf8", "yaml-malformed"])
def test_cli_process_exit_2_without_traceback(name: str) -> None:
    path = INVALID / f"{name}.yaml"
    r = _run("route", "-f", str(path), "--host", "x")
    assert r.returncode == 2, r.stderr
    _stderr_matches(r.stderr, str(path), expectations(path))
    r = _run("check", "-f", str(path))
    assert (r.returncode, r.stderr) == (1, "")
    _stderr_matches(_refusals(r.stdout), str(path), expectations(path))


def test_stdin_is_named_stdin() -> None:
    text = (INVALID / "unknown-field-prefx.yaml").read_text()
    r = _run("check", "-f", "-", stdin=text)
    assert r.returncode == 1
    _stderr_matches(
        _refusals(r.stdout), "<stdin>", expectations(INVALID / "unknown-field-prefx.yaml")
    )


# -- paths that are not YAML files -------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    (d,) = refuse(missing)
    assert (d.code, d.location) == ("ISM0001", Location(str(missing)))
    assert "No such file or directory" in d.message


def test_unreadable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    (d,) = refuse(blocker / "vs.yaml")  # a path through a regular file: ENOTDIR, even for root
    assert d.code == "ISM0001" and "cannot read file" in d.message
    if os.geteuid() != 0:  # permission bits bind everyone but root
        locked = tmp_path / "locked.yaml"
        locked.write_text("apiVersion: v1\n")
        locked.chmod(0)
        (d,) = refuse(locked)
        assert d.code == "ISM0001" and "Permission denied" in d.message


def test_folder_reports_each_broken_file(tmp_path: Path) -> None:
    # a VirtualService and a DestinationRule (two VirtualServices named alike would replace
    # each other, as with kubectl apply)
    for name in ("regex-lookahead.yaml", "dr-subsets-duplicate.yaml"):
        (tmp_path / name).write_bytes((INVALID / name).read_bytes())
    (tmp_path / "notes.txt").write_text("not yaml, not read")
    got = refuse(tmp_path)
    assert [(Path(d.location.file).name, d.code) for d in got if d.location] == [
        ("dr-subsets-duplicate.yaml", "IST0106"),  # a folder is read in name order
        ("regex-lookahead.yaml", "IST0106"),
    ]


def test_folder_without_yaml_is_an_error_not_an_empty_mesh(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# nothing here")
    (d,) = refuse(tmp_path)
    assert d.code == "ISM0001" and "no .yaml" in d.message


def test_huge_file_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:  # sparse: nothing is written to disk
        f.truncate(loader.MAX_FILE_BYTES + 1)
    t0 = time.perf_counter()
    (d,) = refuse(big)
    assert time.perf_counter() - t0 < 1.0
    assert d.code == "ISM0009" and str(loader.MAX_FILE_BYTES) in d.message


def test_huge_text_refused() -> None:
    text = "apiVersion: v1\n#" + "x" * loader.MAX_FILE_BYTES
    (d,) = refuse(text)
    assert d.code == "ISM0009"


# -- hang and crash guards ---------------------------------------------------------------------


def test_alias_bomb_refused_in_well_under_a_second() -> None:
    t0 = time.perf_counter()
    (d,) = refuse(INVALID / "alias-bomb.yaml")
    # a hang guard, not a benchmark: expanding the bomb would take minutes and gigabytes
    assert time.perf_counter() - t0 < 1.0
    assert d.code == "ISM0006"


@pytest.mark.parametrize(
    "value",
    [
        "[" * 100_000 + "]" * 100_000,  # flow sequences
        "{a: " * 100_000 + "x" + "}" * 100_000,  # flow mappings
        "\n    " + "- " * 300 + "x",  # block sequences, compact
    ],
    ids=["flow-seq", "flow-map", "block"],
)
def test_deep_nesting_is_a_config_error(value: str, tmp_path: Path) -> None:
    """libyaml's composer recursed in C and crashed the interpreter (SIGSEGV) near 100k levels."""
    path = tmp_path / "deep.yaml"
    path.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: deep\n  labels: " + value)
    t0 = time.perf_counter()
    (d,) = refuse(path)
    assert time.perf_counter() - t0 < 2.0
    # our own limit (ISM0009), or libyaml's flow-level limit where the scanner meets it first
    # (PyYAML >= 6.0.4 bundles a libyaml that refuses more than 1000 flow levels: ISM0002)
    assert (d.code == "ISM0009" and f"more than {loader.MAX_DEPTH} levels" in d.message) or (
        d.code == "ISM0002" and "maximum nesting depth" in d.message
    ), d
    assert d.location is not None and d.location.line >= 5


def test_nesting_just_under_the_limit_loads(tmp_path: Path) -> None:
    depth = loader.MAX_DEPTH - 5
    path = tmp_path / "ok.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: " + "[" * depth + "]" * depth
    )
    cfg = load_config(path)
    assert cfg.diagnostics[0].code == "ISM0100"  # ConfigMap is loaded and ignored


def test_every_error_is_collected_across_files() -> None:
    a, b = INVALID / "regex-lookahead.yaml", INVALID / "dr-subsets-duplicate.yaml"
    got = refuse(a, b)
    assert [d.location.file for d in got if d.location] == [str(a), str(b)]


# -- what Istio accepts is not refused (a warning at most) --------------------------------------

_VS = (
    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
    "spec:\n  hosts:\n  - reviews\n"
)
_ROUTE = "    route:\n    - destination:\n        host: reviews\n"
ACCEPTED = {
    # validateHTTPFaultInjectionDelay has no case for a delay without a type
    "delay-without-fixed-delay": (
        _VS + "  http:\n  - fault:\n      delay:\n        percentage: {value: 10}\n" + _ROUTE,
        [("IST0133", "spec.http[0].fault.delay")],
    ),
    # validateHTTPRouteMatchRequest only refuses null *headers*
    "null-query-param-and-without-header": (
        _VS + "  http:\n  - match:\n    - queryParams:\n        debug:\n"
        "      withoutHeaders:\n        x-canary:\n" + _ROUTE,
        [],
    ),
    # the webhook compares hosts as written: a short name and its FQDN are two hosts
    "short-name-and-fqdn": (
        _VS + "  - reviews.default.svc.cluster.local\n  http:\n  - route:\n"
        "    - destination:\n        host: reviews\n",
        [("IST0133", "spec.hosts[1]")],
    ),
    # validateHTTPStatus allows 200-600
    "direct-response-600": (_VS + "  http:\n  - directResponse:\n      status: 600\n", []),
    # legacy gateway names are a warning
    "legacy-gateway-name": (
        _VS.replace("spec:\n", "spec:\n  gateways:\n  - ingress.istio-system\n")
        + "  http:\n  - route:\n    - destination:\n        host: reviews\n",
        [("IST0133", "spec.gateways[0]")],
    ),
    # abort without an error type is a warning
    "abort-without-error-type": (
        _VS + "  http:\n  - fault:\n      abort:\n        percentage: {value: 10}\n" + _ROUTE,
        [("IST0133", "spec.http[0].fault.abort")],
    ),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_what_istio_accepts_loads(name: str) -> None:
    text, warnings = ACCEPTED[name]
    plan = compile_plan(load_config(text))
    got = [(d.code, d.field_path) for d in plan.diagnostics if d.code == "IST0133"]
    assert got == warnings
    assert not [d for d in plan.diagnostics if d.code == "IST0106"]


def test_cli_bad_paths_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    for bad in (tmp_path / "nope.yaml", empty):
        for argv in (["check", "-f", str(bad)], ["route", "-f", str(bad), "--host", "x"]):
            assert main(argv) == 2
            out, err = capsys.readouterr()
            assert out == ""
            (line,) = err.splitlines()
            assert line.startswith(f"{bad}: error[ISM0001] ")
