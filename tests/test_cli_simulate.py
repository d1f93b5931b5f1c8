"""``istiosim simulate``: text and JSON forms, traffic files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import istiosim
from istiosim.cli import main

BOOKINFO = Path(istiosim.__file__).parent / "data" / "bookinfo"
FILES = [
    "-f",
    str(BOOKINFO / "bookinfo-k8s.yaml"),
    "-f",
    str(BOOKINFO / "destination.yaml"),
    "-f",
    str(BOOKINFO / "header-jason-v3.yaml"),
]
HOST = "reviews.default.svc.cluster.local"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["simulate", *FILES, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_rows(capsys):
    code, out, _ = run(
        capsys,
        "--host",
        "reviews",
        "-H",
        "end-user: jason",
        "-n",
        "1000",
        "--seed",
        "1",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["n"] == 1000
    assert data["rows"] == [
        {
            "host": HOST,
            "subset": "v3",
            "workload": "reviews-v3",
            "outcome": "OK",
            "status": 200,
            "count": 1000,
        }
    ]


def test_text_table_and_modes(capsys):
    code, out, _ = run(capsys, "--host", "reviews", "-n", "1e6", "--mode", "exact")
    assert code == 0 and "1,000,000 requests (exact)" in out and "reviews-v2" in out
    code, out, _ = run(
        capsys, "--host", "reviews", "-n", "10", "--mode", "stratified", "--format", "json"
    )
    assert json.loads(out)["rows"][0]["count"] == 10


def test_traffic_file(capsys, tmp_path):
    f = tmp_path / "traffic.yaml"
    f.write_text(
        "classes:\n"
        "  - name: jason\n    weight: 1\n    request: {host: reviews, headers: {end-user: jason}}\n"
        "  - name: others\n    weight: 3\n    request: {host: reviews}\n    users: {n_users: 100}\n"
    )
    code, out, _ = run(
        capsys, "--traffic", str(f), "-n", "4000", "--mode", "stratified", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    counts = {r["subset"]: r["count"] for r in data["rows"]}
    assert counts == {"v3": 1000, "v2": 3000}
    assert [c["name"] for c in data["classes"]] == ["jason", "others"]  # a named class keeps its name
    code, out, _ = run(
        capsys, "--traffic", str(f), "-n", "4000", "--seed", "3", "--sampler", "vector"
    )
    assert code == 0 and "class jason:" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "reviews", "-n", "-5"], "n must be >= 0"),
        (["-n", "5"], "--host or --traffic is required"),
        (["--host", "reviews", "--traffic", "x.yaml"], "not both"),
    ],
)
def test_bad_input_exits_2(capsys, args, message):
    code, _, err = run(capsys, *args)
    assert code == 2 and message in err


def test_bad_traffic_file_exits_2(capsys, tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("classes:\n  - request: {host: reviews}\n    vary: {path: {/a: 0.5, /b: 0.2}}\n")
    code, _, err = run(capsys, "--traffic", str(f))
    assert code == 2 and "shares sum to 0.7, not 1" in err and "t.yaml" in err


def test_bad_count_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", *FILES, "--host", "reviews", "-n", "lots"])
    assert exc.value.code == 2
