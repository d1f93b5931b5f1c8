"""`route` and `simulate` show what the config gets wrong instead of hiding it (issue 13 item 3),
and the help teaches (item 4): every option has help text, every subcommand's --help ends with
examples, --version, and Python and the CLI accept the same request counts."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import istiosim
from istiosim.cli import build_parser, main

from conftest import DEMO

BASE = ["-f", str(DEMO / "bookinfo-k8s.yaml"), "-f", str(DEMO / "destination.yaml")]

#: v2 is fine; v9 is no subset of the DestinationRule: 503 NC for the requests drawn there
BROKEN = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
      weight: 90
    - destination: {host: reviews, subset: v9}
      weight: 10
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_route_that_misses_a_broken_candidate_still_shows_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vs = tmp_path / "vs.yaml"
    vs.write_text(BROKEN)
    # random value 5: 5 % 100 falls in v2's [0, 90): the answer is OK, the problem is not hidden
    code, out, err = run(
        capsys, "route", *BASE, "-f", str(vs), "--host", "reviews", "--random-value", "5"
    )
    assert code == 0 and out.startswith("OK 200")
    assert f"{vs}:10:36: error[IST0101]" in err and '"reviews+v9"' in err
    rows = {
        ln.split()[0].split("|")[2]: ln.split()[-2:]
        for ln in out.splitlines()
        if ln.startswith("outbound|")
    }
    assert rows == {"v2": ["OK", "200"], "v9": ["NC", "503"]}
    assert "The pick used --random-value 5: 5 % 100 = 5 (v2 [0, 90); v9 [90, 100))." in out


def test_route_says_the_pick_is_random_and_how_to_pin_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys, "route", *BASE, "-f", str(DEMO / "canary-50-50.yaml"), "--host", "reviews"
    )
    assert code == 0 and err == ""  # a clean config: nothing on stderr
    note = out.strip().splitlines()[-1]
    assert note.startswith("The weighted pick is random: another run may differ.")
    assert "--random-value N (N % 100 falls in: v2 [0, 50); v3 [50, 100))" in note
    assert "--seed N" in note
    _, out, _ = run(
        capsys, "route", *BASE, "-f", str(DEMO / "canary-50-50.yaml"), "--host", "reviews",
        "--seed", "3",
    )  # fmt: skip
    assert "The weighted pick is seeded (--seed 3)." in out


@pytest.mark.parametrize("command", ["route", "simulate"])
def test_a_host_that_falls_through_gets_a_did_you_mean(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, err = run(
        capsys, command, *BASE, "-f", str(DEMO / "virtual-service.yaml"), "--host", "review"
    )
    assert code == 0 and "PASSTHROUGH" in out
    assert err == (
        "istiosim: warning: no Service or VirtualService for 'review'; did you mean 'reviews'?"
        " (the request goes to the passthrough cluster)\n"
    )
    _, _, err = run(capsys, command, *BASE, "--host", "example.com")
    assert "no Service or VirtualService for 'example.com' (the request" in err  # no guess


def test_simulate_reports_the_config_problems_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vs = tmp_path / "vs.yaml"
    vs.write_text(BROKEN)
    code, out, err = run(
        capsys, "simulate", *BASE, "-f", str(vs), "--host", "reviews", "--mode", "exact"
    )
    assert code == 0 and " NC " in out
    assert err.count("error[IST0101]") == 1


def test_files_of_one_folder_that_replace_each_other_are_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    for name in ("bookinfo-k8s.yaml", "destination.yaml", "canary-50-50.yaml"):
        (folder / name).write_text((DEMO / name).read_text())
    (folder / "header-jason-v3.yaml").write_text((DEMO / "header-jason-v3.yaml").read_text())
    code, _, err = run(capsys, "route", "-f", str(folder), "--host", "reviews")
    assert code == 0
    (line,) = err.splitlines()
    assert line.startswith(f"{folder / 'header-jason-v3.yaml'}:1:1: info[ISM0102] replaces the")
    assert f"loaded from {folder / 'canary-50-50.yaml'}:1:1" in line
    assert line.endswith("(both come from -f configs)")
    # given as separate -f files, a later file replacing an earlier one is the point: no line
    files = [
        a for n in ("canary-50-50.yaml", "header-jason-v3.yaml") for a in ("-f", str(DEMO / n))
    ]
    code, _, err = run(capsys, "route", *BASE, *files, "--host", "reviews")
    assert (code, err) == (0, "")


def test_weights_that_do_not_total_100_get_an_info_line_with_their_shares(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vs = tmp_path / "vs.yaml"
    vs.write_text(BROKEN.replace("v9", "v3").replace("weight: 90", "weight: 20"))
    code, out, err = run(capsys, "route", *BASE, "-f", str(vs), "--host", "reviews")
    assert code == 0
    assert err == (
        f"{vs}:7:5: info: the weights of VirtualService default/reviews rule 0 total 30, not 100;"
        " Istio accepts them as relative shares: v2 20/30 = 66.67%, v3 10/30 = 33.33%\n"
    )
    assert "66.6667%" in out


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_option_of_every_subcommand_has_help() -> None:
    missing = [
        f"{name} {'/'.join(a.option_strings) or a.dest}"
        for name, p in _subparsers().items()
        for a in p._actions
        if not a.help
    ]
    assert missing == []


def test_every_subcommand_help_ends_with_two_or_three_examples() -> None:
    for name, p in _subparsers().items():
        text = p.format_help()
        tail = text[text.index("\nexamples:\n") :].strip().splitlines()[1:]
        commands = [ln.strip() for ln in tail if not ln.strip().startswith("#")]
        assert 2 <= len(commands) <= 3, name
        assert all(c.startswith(f"istiosim {name}") for c in commands), commands
        assert all(ln.strip().startswith("# ") for ln in tail[::2]), tail  # each one explained


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"istiosim {istiosim.__version__}\n"


def test_python_and_cli_accept_the_same_counts(capsys: pytest.CaptureFixture[str]) -> None:
    sim = istiosim.load(*BASE[1::2], str(DEMO / "canary-50-50.yaml"))
    req = istiosim.Request("reviews")
    assert sim.simulate(req, n=1e6, mode="exact").n == 1_000_000
    code, out, _ = run(
        capsys, "simulate", *BASE, "-f", str(DEMO / "canary-50-50.yaml"), "--host", "reviews",
        "-n", "1e6", "--mode", "exact",
    )  # fmt: skip
    assert code == 0 and out.startswith("1,000,000 requests (exact)")
    with pytest.raises(istiosim.InvalidArgument) as exc:
        sim.simulate(req, n=1.5)
    code, _, err = run(
        capsys, "simulate", *BASE, "-f", str(DEMO / "canary-50-50.yaml"), "--host", "reviews",
        "-n", "1.5",
    )  # fmt: skip
    assert code == 2 and err == f"istiosim: error: {exc.value}\n"
    assert str(exc.value) == "n must be an integer (a whole float such as 1e6 is taken), got 1.5"


def test_an_srm_check_is_titled_as_one() -> None:
    from istiosim.stats import split_test, srm_check

    counts, weights = {"v2": 5_021, "v3": 4_979}, {"v2": 50, "v3": 50}
    assert str(srm_check(counts, weights)).startswith("SRM check (binomial): p = ")
    assert str(split_test(counts, weights)).startswith("split test (binomial): p = ")


def test_a_named_traffic_class_keeps_its_name() -> None:
    from istiosim import Request, Traffic

    readers = Traffic.users(Request("reviews"), n_users=100, name="readers")
    assert readers.names == ("readers",)
    mixed = Traffic.users(Request("reviews"), n_users=100, named={"jason": 0.1}, name="readers")
    assert mixed.names == ("readers end-user=jason", "readers other users")


def test_pseudo_headers_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    """``-H ':authority: x'`` keeps its leading colon (it was read as a header with no name);
    a request-line pseudo header is refused with the flag to use instead."""
    code, out, _ = run(
        capsys, "route", *BASE, "--host", "reviews", "-H", ":authority: reviews:9080"
    )
    assert code == 0 and "GET reviews:9080/" in out
    code, _, err = run(capsys, "route", *BASE, "--host", "reviews", "-H", ":path: /reviews/1")
    assert code == 2 and "header ':path' is the request's path" in err and "--path" in err
