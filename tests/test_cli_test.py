"""`istiosim test` and `istiosim verify`: output, JSON, exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from istiosim.cli import main

from conftest import DATA, KUBE, NET

CASES = DATA / "cases"
COUNTS = DATA / "counts"
CANARY = ["-f", str(KUBE), "-f", str(NET / "destination-rule-all.yaml")]
CANARY += ["-f", str(NET / "virtual-service-reviews-80-20.yaml")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _cases(tmp_path: Path, text: str) -> str:
    f = tmp_path / "cases.yaml"
    f.write_text(text)
    return str(f)


# -- istiosim test ---------------------------------------------------------------------------


def test_passing_cases_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "test", str(CASES / "bookinfo-canary.cases.yaml"), *CANARY)
    assert code == 0, out + err
    assert out.splitlines()[-2:] == [
        "6 case(s): 6 passed, 0 failed",
        "route coverage: 100.0% (rules 1/1, match blocks 1/1, weighted destinations 2/2)",
    ]
    assert out.startswith(
        "PASS the canary sends 80% to v1 and 20% to v2  ["
        + str(CASES / "bookinfo-canary.cases.yaml")
        + ":5:3]\n"
    )


def test_failing_case_exits_1_with_expected_actual_and_trace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = _cases(
        tmp_path,
        "tests:\n- test_name: v2 gets half\n  input: {host: reviews}\n"
        "  validate: {split: {v1: 50, v2: 50}, rule: 0}\n",
    )
    code, out, _ = run(capsys, "test", f, *CANARY)
    assert code == 1
    lines = out.splitlines()
    assert lines[:3] == [
        f"FAIL v2 gets half  [{f}:2:3]",
        "  split: expected [v1 50%, v2 50%], actual [v1 80%, v2 20%]",
        "  trace:",
    ]
    assert "weighted pick among [v1 80/100, v2 20/100]" in out
    assert lines[-2:] == [
        "1 case(s): 0 passed, 1 failed",
        "route coverage: 100.0% (rules 1/1, match blocks 1/1, weighted destinations 2/2)",
    ]


def test_fail_under_and_details(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = _cases(
        tmp_path,
        "tests:\n- {test_name: v1, input: {host: reviews, random_value: 0}, validate: {subset: v1}}\n",
    )
    code, out, _ = run(capsys, "test", f, *CANARY, "--fail-under", "80")
    assert code == 1
    assert out.splitlines()[-2:] == [
        "route coverage: 75.0% (rules 1/1, match blocks 1/1, weighted destinations 1/2)",
        "coverage 75.0% is below --fail-under 80% (--details lists what no case reached)",
    ]
    code, out, _ = run(capsys, "test", f, *CANARY, "--fail-under", "75", "--details")
    assert code == 0
    assert out.splitlines()[-3:] == [
        "route coverage: 75.0% (rules 1/1, match blocks 1/1, weighted destinations 1/2)",
        "  not reached (weighted destinations):",
        "    default/reviews rule 0 destination 1: reviews v2 (weight 20/100)  ["
        + str(NET / "virtual-service-reviews-80-20.yaml")
        + ":14:7]",
    ]


def test_json_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = _cases(
        tmp_path,
        "tests:\n- {test_name: ok, input: {host: reviews, random_value: 0}, validate: {subset: v1}}\n"
        "- {test_name: bad, input: {host: reviews, random_value: 0}, validate: {status: 503}}\n",
    )
    code, out, _ = run(capsys, "test", f, *CANARY, "--format", "json", "--fail-under", "50")
    assert code == 1
    d = json.loads(out)
    assert d["ok"] is False and d["passed"] is False and d["coverage_ok"] is True
    assert d["fail_under"] == 50
    assert d["summary"] == {"total": 2, "passed": 1, "failed": 1}
    assert [c["passed"] for c in d["cases"]] == [True, False]
    assert d["cases"][1]["mismatches"] == [
        {"field": "status", "expected": "503", "actual": "200", "when": None}
    ]
    assert d["cases"][1]["line"] == 3
    assert d["coverage"]["percent"] == 75.0
    assert [i["label"] for i in d["coverage"]["uncovered"]] == [
        "default/reviews rule 0 destination 1: reviews v2 (weight 20/100)"
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--fail-under", "101"],
            "istiosim: error: --fail-under must be a percentage in 0..100, got 101",
        ),
        (
            ["--fail-under", "nan"],
            "istiosim: error: --fail-under must be a percentage in 0..100, got nan",
        ),
        (["--seed", "-1"], "istiosim: error: --seed must be a non-negative integer"),
    ],
)
def test_bad_flags_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "test", str(CASES / "bookinfo-canary.cases.yaml"), *CANARY, *argv)
    assert (code, out, err.strip()) == (2, "", message)


def test_malformed_case_file_exits_2_with_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = _cases(
        tmp_path, "tests:\n- test_name: a\n  input: {host: reviews}\n  validate: {sbset: v1}\n"
    )
    code, out, err = run(capsys, "test", f, *CANARY)
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"{f}:4:14: error[ISM0003] tests[0].validate.sbset: unknown field 'sbset';"
        " did you mean 'subset'? (cases)"
    )


def test_missing_case_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "test", str(tmp_path / "none.yaml"), *CANARY)
    assert code == 2
    assert "none.yaml: error[ISM0001] cannot read file" in err


# -- istiosim verify -------------------------------------------------------------------------


def verify(capsys: pytest.CaptureFixture[str], counts: str, *extra: str) -> tuple[int, str, str]:
    return run(
        capsys, "verify", *CANARY, "--host", "reviews", "--observed", str(COUNTS / counts), *extra
    )


def test_verify_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(capsys, "reviews-80-20-ok.json")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "reviews: 40,000 observed requests vs default/reviews rule 0 (v1 80/100, v2 20/100)"
    )
    assert lines[2].startswith("SRM check (binomial): p = ")
    assert lines[2].endswith("alpha = 0.0005 -> consistent")
    assert lines[-1] == "verified: every share is within ±0.01 of its weight"


def test_verify_accepts_simulate_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(capsys, "reviews-80-20-rows.json", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["observed"] == {"v1": 32080, "v2": 7920}
    assert d["ignored"] == 200
    assert d["weights"] == {"v1": 80, "v2": 20}
    assert d["virtual_service"] == "default/reviews" and d["rule"] == 0
    assert d["srm"]["verdict"] == "consistent"
    assert d["equivalence"]["verdict"] == "equivalent"
    assert d["equivalence"]["tolerance"] == 0.01 and d["ok"] is True


def test_verify_srm_mismatch_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(capsys, "reviews-80-20-srm.json")
    assert code == 1
    assert "-> mismatch" in out
    assert out.splitlines()[-1] == (
        "NOT VERIFIED: sample ratio mismatch (the counts do not fit the weights)"
    )


def test_verify_too_few_requests_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(capsys, "reviews-80-20-small.json")
    assert code == 1
    assert out.splitlines()[-1] == (
        "NOT VERIFIED: too few requests to show every share within ±0.01"
        " (about 17,316 needed, 100 observed)"
    )


def test_verify_inconclusive_above_n_required_does_not_say_too_few(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # 40,000 requests (more than the 17,316 needed) with v1 at 79.0 %, exactly on the edge of
    # the ±1 pp band: neither inside nor outside is shown, and the reason is not the sample size.
    counts = tmp_path / "edge.json"
    counts.write_text('{"v1": 31600, "v2": 8400}\n')
    code, out, _ = run(
        capsys, "verify", *CANARY, "--host", "reviews", "--observed", str(counts),
        "--srm-alpha", "1e-300",
    )  # fmt: skip
    assert code == 1
    last = out.splitlines()[-1]
    assert "too few" not in last
    assert last == (
        "NOT VERIFIED: 40,000 requests are more than the 17,316 a correct split needs"
        " (power 0.9) to show every share within ±0.01; some share sits near the edge of the"
        " band, so the split is probably off"
    )


def test_verify_not_equivalent_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(capsys, "reviews-80-20-srm.json", "--srm-alpha", "1e-300")
    assert code == 1
    assert out.splitlines()[-1] == "NOT VERIFIED: some share is off by more than ±0.01"


BAD_COUNTS = [
    (
        "reviews-80-20-unknown.json",
        ":3:3: error[ISM0004] observed 'v3' is not a destination of the matched rule"
        " (weights: v1, v2)",
    ),
    (
        "reviews-80-20-negative.json",
        ":3:3: error[ISM0004] v2: a count must not be negative (got -20)",
    ),
    (
        "reviews-80-20-fraction.json",
        ":4:5: error[ISM0004] counts.v2: a count must be a whole number (got 19.5)",
    ),
    (
        "reviews-80-20-broken.json",
        ":3:14: error[ISM0002] while parsing a flow node did not find expected node content",
    ),
]


@pytest.mark.parametrize(("name", "message"), BAD_COUNTS)
def test_verify_bad_counts_exit_2_with_file_and_line(
    capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    code, out, err = verify(capsys, name)
    assert (code, out, err.strip()) == (2, "", str(COUNTS / name) + message)


def test_verify_empty_sample_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = verify(capsys, "reviews-80-20-empty.json")
    assert code == 2
    assert err.strip() == (
        f"istiosim: error: {COUNTS / 'reviews-80-20-empty.json'}: the sample is empty (n = 0):"
        " nothing to verify"
    )


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--tolerance", "0", "--tolerance must be between 0 and 1 (exclusive), got 0"),
        ("--tolerance", "1.5", "--tolerance must be between 0 and 1 (exclusive), got 1.5"),
        ("--alpha", "0.5", "--alpha must be between 0 and 0.5 (exclusive), got 0.5"),
        ("--alpha", "-1", "--alpha must be between 0 and 0.5 (exclusive), got -1"),
        ("--srm-alpha", "1", "--srm-alpha must be between 0 and 1 (exclusive), got 1"),
    ],
)
def test_verify_levels_out_of_range_exit_2(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    code, _, err = verify(capsys, "reviews-80-20-ok.json", flag, value)
    assert (code, err.strip()) == (2, f"istiosim: error: {message}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", ":1:1: error[ISM0007] a document must be a mapping, not list"),
        ("{}", ":1:1: error[ISM0004] no counts: the sample is empty"),
        (
            '{"rows": {"a": 1}}',
            ":1:2: error[ISM0004] rows: Input should be a valid list (got dict)",
        ),
        (
            '{"rows": [{"subset": "v1"}]}',
            ":1:11: error[ISM0008] rows[0].count: missing required field 'count'",
        ),
        (
            '{"rows": [{"subset": 1, "count": 3}]}',
            ":1:12: error[ISM0004] rows[0].subset: Input should be a valid string (got 1)",
        ),
        (
            '{"v1": true}',
            ":1:2: error[ISM0004] v1: a count must be a whole number, not bool (got True)",
        ),
        (
            '{"v1": 1}\n---\n{"v1": 2}\n',
            ":3:1: error[ISM0007] a counts file holds one mapping of subset -> count",
        ),
    ],
)
def test_verify_malformed_counts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    f = tmp_path / "counts.json"
    f.write_text(text)
    code, _, err = run(capsys, "verify", *CANARY, "--host", "reviews", "--observed", str(f))
    assert (code, err.strip()) == (2, f"{f}{message}")


def test_verify_without_a_split_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "verify",
        *CANARY,
        "--host",
        "ratings",
        "--observed",
        str(COUNTS / "reviews-80-20-ok.json"),
    )
    assert code == 2
    assert err.strip() == (
        "istiosim: error: the config gives ratings no weighted route for this request"
        " (a single destination): there is no split to verify counts against"
    )


def test_simulate_output_verifies(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Round trip: `istiosim simulate --format json` output is a counts file for verify."""
    code, out, _ = run(
        capsys,
        "simulate",
        *CANARY,
        "--host",
        "reviews",
        "-n",
        "40000",
        "--seed",
        "3",
        "--format",
        "json",
    )
    assert code == 0
    f = tmp_path / "observed.json"
    f.write_text(out)
    code, out, _ = run(
        capsys, "verify", *CANARY, "--host", "reviews", "--observed", str(f), "--format", "json"
    )
    d = json.loads(out)
    assert sum(d["observed"].values()) == 40000
    assert (code, d["ok"]) == (0, True)
