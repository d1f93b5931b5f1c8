"""``istiosim journey``: the call tree, the distribution, JSON per DESIGN.md, bad input exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import istiosim

ROOT = Path(istiosim.__file__).resolve().parent.parent
DEMO = ROOT / "istiosim" / "data" / "bookinfo"
F = ["-f", str(DEMO / "bookinfo-k8s.yaml"), "-f", str(DEMO / "destination.yaml")]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "istiosim", "journey", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_one_page_view_json_has_the_tree() -> None:
    r = run(*F, "-f", str(DEMO / "header-jason-v3.yaml"), "--app", "bookinfo", "-H",
            "end-user: jason", "--seed", "1", "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"n", "outcomes", "tree"} and out["n"] == 1
    (o,) = out["outcomes"]
    assert set(o) == {"sees", "status", "hops", "share", "latency_ms"}
    assert o["sees"] == "red stars" and o["status"] == 200
    assert [h["workload"] for h in o["hops"]] == [
        "productpage-v1",
        "details-v1",
        "reviews-v3",
        "ratings-v1",
    ]
    assert set(o["latency_ms"]) == {"p50", "p90", "p99"}
    tree = out["tree"]
    assert tree["workload"] == "productpage-v1" and len(tree["children"]) == 2
    assert tree["children"][1]["virtual_service"] == "default/reviews"


def test_exact_distribution_text() -> None:
    r = run(*F, "-f", str(DEMO / "canary-50-50.yaml"), "--app", "bookinfo", "--mode", "exact")
    assert r.returncode == 0, r.stderr
    assert "black stars" in r.stdout and "red stars" in r.stdout and "50.00%" in r.stdout


def test_bad_app_file_exits_2_located(tmp_path: Path) -> None:
    bad = tmp_path / "app.yaml"
    bad.write_text("workloads:\n  productpage:\n    calls:\n    - host: nowhere\n")
    r = run(*F, "--app", str(bad), "--entry", "productpage")
    assert r.returncode == 2
    assert f"{bad}:4:7: error[ISM0400]" in r.stderr and "Traceback" not in r.stderr
    r = run(*F, "--app", "bookinfo", "-n", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr
