"""`istiosim route` and `istiosim demo`: the text and JSON contract of DESIGN.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from istiosim.cli import main

from conftest import KUBE, NET

BASE = ["-f", str(KUBE), "-f", str(NET / "destination-rule-all.yaml")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_route_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "route",
        *BASE,
        "-f",
        str(NET / "virtual-service-reviews-50-v3.yaml"),
        "--host",
        "reviews",
        "--random-value",
        "149",
        "--format",
        "json",
    )
    assert code == 0
    d = json.loads(out)
    for key in (
        "outcome",
        "status",
        "virtual_service",
        "rule",
        "candidates",
        "destination",
        "trace",
    ):
        assert key in d
    assert (d["outcome"], d["status"], d["virtual_service"], d["rule"]) == (
        "OK",
        200,
        "default/reviews",
        0,
    )
    assert [(c["subset"], c["weight"], c["probability"]) for c in d["candidates"]] == [
        ("v1", 50, 0.5),
        ("v3", 50, 0.5),
    ]
    # Envoy: 149 % 100 = 49 falls in [0, 50) → v1; 150 would give v3
    assert d["destination"] == {
        "host": "reviews.default.svc.cluster.local",
        "subset": "v1",
        "port": 9080,
    }
    assert all(isinstance(s, str) for s in d["trace"]) and any(
        "weighted pick" in s for s in d["trace"]
    )
    code, out, _ = run(
        capsys,
        "route",
        *BASE,
        "-f",
        str(NET / "virtual-service-reviews-50-v3.yaml"),
        "--host",
        "reviews",
        "--random-value",
        "150",
        "--format",
        "json",
    )
    assert json.loads(out)["destination"]["subset"] == "v3"


def test_route_text_explains_the_failed_condition(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "route",
        *BASE,
        "-f",
        str(NET / "virtual-service-reviews-test-v2.yaml"),
        "--host",
        "reviews",
        "-H",
        "end-user: Jason",
    )
    assert code == 0
    assert out.splitlines()[0].startswith(
        "OK 200 → outbound|9080|v1|reviews.default.svc.cluster.local"
    )
    assert "header end-user exact 'jason': no (got 'Jason')" in out


def test_route_404_is_an_answer_not_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "route",
        "-f",
        str(KUBE),
        "-f",
        str(NET / "bookinfo-gateway.yaml"),
        "--host",
        "bookinfo.example.com",
        "--gateway",
        "default/bookinfo-gateway",
        "--path",
        "/admin",
        "--format",
        "json",
    )
    assert code == 0
    assert (json.loads(out)["outcome"], json.loads(out)["status"]) == ("NR", 404)


def test_route_path_query_feeds_query_params(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vs = tmp_path / "vs.yaml"
    vs.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\n"
        "spec:\n  hosts: [reviews]\n  http:\n  - match: [{queryParams: {beta: {exact: 'on'}}, uri: {exact: /items}}]\n"
        "    route: [{destination: {host: reviews, subset: v3}}]\n  - route: [{destination: {host: reviews, subset: v1}}]\n"
    )
    code, out, _ = run(
        capsys,
        "route",
        *BASE,
        "-f",
        str(vs),
        "--host",
        "reviews",
        "--path",
        "/items?beta=on",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out)["destination"]["subset"] == "v3"
    _code, out, _ = run(
        capsys,
        "route",
        *BASE,
        "-f",
        str(vs),
        "--host",
        "reviews",
        "--path",
        "/items?beta=off",
        "--format",
        "json",
    )
    assert json.loads(out)["destination"]["subset"] == "v1"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--host", "reviews", "-H", "no-colon"], "must look like 'name: value'"),
        (
            ["--host", "reviews", "--random-value", "-1"],
            "--random-value must be a non-negative integer",
        ),
        (["--host", "reviews", "--path", "no-slash"], "request path must start with '/'"),
    ],
)
def test_route_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "route", *BASE, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_missing_file_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "route", "-f", "/nonexistent/x.yaml", "--host", "reviews")
    assert code == 2
    assert err.startswith("/nonexistent/x.yaml: error[ISM0001] cannot read file")


def test_demo_shows_each_step_with_exact_shares() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "istiosim", "demo"], capture_output=True, text=True, check=True
    ).stdout
    steps = out.split("Step ")[1:]
    assert len(steps) == 4
    assert "a reader  sees no stars (v1) 100%" in steps[0]
    assert "a reader  sees black stars (v2) 100%" in steps[1]
    assert "black stars (v2) 50%, red stars (v3) 50%" in steps[2]
    assert (
        "a reader  sees black stars (v2) 100%" in steps[3]
        and "jason     sees red stars (v3) 100%" in steps[3]
    )
    # the simulated page views: 50/50, and 90% v2 / 10% v3 (jason's share), each within 0.5 pp
    # (1e6 draws: a share's standard error is at most 0.05 pp, so 0.5 pp is 10 sigma; seed fixed)
    sims = [
        ln.split(": ", 1)[1] for ln in out.splitlines() if "simulated 1,000,000 page views" in ln
    ]
    assert len(sims) == 2
    shares = [{p.split()[0]: float(p.split()[1].rstrip("%")) for p in s.split(", ")} for s in sims]
    assert abs(shares[0]["v2"] - 50) < 0.5 and abs(shares[0]["v3"] - 50) < 0.5
    assert abs(shares[1]["v2"] - 90) < 0.5 and abs(shares[1]["v3"] - 10) < 0.5
    again = subprocess.run(
        [sys.executable, "-m", "istiosim", "demo"], capture_output=True, text=True, check=True
    ).stdout
    assert again == out, "the demo is deterministic (seed 1 by default)"


def test_help_lists_the_command_table_and_imports_nothing_heavy() -> None:
    """`istiosim --help` builds the parser only: no subcommand's dependencies get imported."""
    from istiosim.cli import COMMANDS

    code = (
        "import sys\n"
        "from istiosim.cli import build_parser\n"
        "print(build_parser().format_usage().strip())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'pydantic', 'yaml', 'scipy')"
        " or (m.startswith('istiosim.') and not m.startswith(('istiosim.cli', 'istiosim._lazy')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    *usage_lines, heavy = out.stdout.splitlines()
    usage = " ".join(line.strip() for line in usage_lines)
    assert f"{{{','.join(COMMANDS)}}}" in usage
    assert list(COMMANDS) == [
        "demo", "route", "check", "simulate", "test", "verify", "diff", "rollout", "journey"
    ]  # fmt: skip
    assert heavy == "[]"


def test_a_command_imports_its_own_module_only() -> None:
    """`istiosim route ...` registers and imports the route subcommand alone (start-up, issue 9
    item 6); an unknown command still lists every choice."""
    code = (
        "import sys\n"
        "from istiosim.cli import main\n"
        "try:\n"
        "    main(['route', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('istiosim.cli.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("usage: istiosim route [-h] -f PATH --host HOST")
    assert out.stdout.splitlines()[-1] == "['istiosim.cli.common', 'istiosim.cli.route']"
    bad = subprocess.run(
        [sys.executable, "-m", "istiosim", "rout"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert "invalid choice: 'rout' (choose from 'demo', 'route', 'check'" in bad.stderr
