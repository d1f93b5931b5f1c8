"""Reviewing a change: what-if, diff and reachability timings (issue 10's speed goals).

Run: ``python benchmarks/bench_review.py`` (a few seconds). Prints a table; nothing here is a
pass/fail test. Each figure is the best of several repeats (``time.perf_counter``).

- ``with_weights`` on Bookinfo (a new Simulator with one rule re-weighted: goal well under 10 ms);
- ``istiosim.diff`` of each Bookinfo step against the previous one (goal < 100 ms each);
- reachability of a 1,000-rule VirtualService (goal < 1 s): one prefix per rule (the common
  shape), and a two-attribute shape (a prefix and a header per rule), plus 10,000 prefix rules.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import istiosim
from istiosim.analysis.reachability import reachability

DEMO = Path(istiosim.__file__).parent / "data" / "bookinfo"
BASE = (DEMO / "bookinfo-k8s.yaml", DEMO / "destination.yaml")
STEPS = ("virtual-service.yaml", "blue-green-v2.yaml", "canary-50-50.yaml", "header-jason-v3.yaml")


def best(fn: Callable[[], Any], repeat: int = 7) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def _vs(rules: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": "reviews"},
            "spec": {"hosts": ["reviews"], "http": rules},
        }
    )


def _to(subset: str) -> list[dict[str, Any]]:
    return [{"destination": {"host": "reviews", "subset": subset}}]


def main() -> None:
    rows: list[tuple[str, float, str]] = []
    sims = [istiosim.load(*BASE, DEMO / STEPS[0])]
    for s in STEPS[1:]:
        sims.append(sims[-1].apply(DEMO / s))
    canary = sims[2]
    rows.append(
        (
            "with_weights on Bookinfo (v2 80 / v3 20)",
            best(lambda: canary.with_weights("default/reviews", 0, {"v2": 80, "v3": 20}), 50),
            "well under 10 ms",
        )
    )
    rows.append(
        (
            "apply header-jason-v3.yaml on Bookinfo",
            best(lambda: canary.apply(DEMO / STEPS[3]), 20),
            "-",
        )
    )
    for i in range(3):
        a, b = sims[i], sims[i + 1]
        rows.append(
            (
                f"diff {STEPS[i]} → {STEPS[i + 1]}",
                best(lambda a=a, b=b: istiosim.diff(a, b)),
                "< 100 ms",
            )
        )
    shapes = {
        "1,000 rules, one uri prefix each": [
            {"match": [{"uri": {"prefix": f"/svc{i}/"}}], "route": _to("v1")} for i in range(1000)
        ],
        "1,000 rules, uri prefix + header each": [
            {
                "match": [
                    {
                        "uri": {"prefix": f"/svc{i % 100}/"},
                        "headers": {"end-user": {"exact": f"u{i}"}},
                    }
                ],
                "route": _to("v2"),
            }
            for i in range(1000)
        ],
        "10,000 rules, one uri prefix each": [
            {"match": [{"uri": {"prefix": f"/svc{i}/"}}], "route": _to("v1")} for i in range(10_000)
        ],
    }
    for name, rules in shapes.items():
        sim = istiosim.load(*BASE, _vs([*rules, {"route": _to("v3")}]))
        goal = "< 1 s" if name.startswith("1,000") else "seconds"
        rows.append((f"reachability, {name}", best(lambda sim=sim: reachability(sim), 3), goal))
    print(
        f"istiosim {istiosim.__version__}, Python {platform.python_version()}, {platform.machine()}"
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'what'.ljust(width)}  {'time':>10}  goal")
    print(f"{'-' * width}  {'-' * 10}  ----")
    for what, t, goal in rows:
        shown = f"{t * 1e3:.2f} ms" if t < 1 else f"{t:.2f} s"
        print(f"{what.ljust(width)}  {shown:>10}  {goal}")


if __name__ == "__main__":
    main()
