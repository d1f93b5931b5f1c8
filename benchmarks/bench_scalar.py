"""Scalar engine, loading and whole-process figures (issue 2's speed goals).

Run: ``python benchmarks/bench_scalar.py`` (reads the corpus from ../shared/corpus beside the
checkout). Prints tables; nothing here is a pass/fail test.

The scalar rows give three figures per case, so that they stay readable on a loaded machine:
routes/s (wall clock, best of 5 runs of 200,000 routes), CPU µs per route (``process_time``,
best of 5: what the route costs this process, whatever else runs) and the function calls per
route (``sys.setprofile``: Python functions and builtins apart; deterministic, the same on
every machine; ``tests/test_scalar_cost.py`` pins them).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import istiosim
from istiosim import Request

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
NET = CORPUS / "istio-bookinfo" / "networking"
KUBE = CORPUS / "istio-bookinfo" / "platform-kube" / "bookinfo.yaml"


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def route_cost(
    sim: istiosim.Simulator, requests: list[Request], n: int = 200_000, repeat: int = 5
) -> tuple[float, float, float, float]:
    """(routes/s wall, CPU µs per route, Python calls per route, builtin calls per route)."""
    k = len(requests)
    route = sim.route
    for r in requests:  # warm the caches: the fixed cost is what is measured
        route(r)
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            route(requests[i % k])
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    py, c = calls_per_route(sim, requests)
    return n / min(wall), min(cpu) / n * 1e6, py, c


def calls_per_route(sim: istiosim.Simulator, requests: list[Request]) -> tuple[float, float]:
    """Python function calls and builtin calls per ``sim.route(request)``, counted by
    ``sys.setprofile`` over 100 rounds of ``requests`` (the caches warm)."""
    counts = [0, 0]

    def prof(frame: object, event: str, arg: object) -> None:
        if event == "call":
            counts[0] += 1
        elif event == "c_call":
            counts[1] += 1

    route = sim.route
    k = len(requests)
    n = 100 * k
    sys.setprofile(prof)
    try:
        for i in range(n):
            route(requests[i % k])
    finally:
        sys.setprofile(None)
    return counts[0] / n, (counts[1] - 1) / n  # - 1: the setprofile(None) call itself


def main() -> None:
    rows: list[tuple[str, str]] = []
    base = [KUBE, NET / "destination-rule-all.yaml"]
    users = [
        Request("reviews", "/reviews/0", headers={"end-user": u})
        for u in ("jason", "bob", "alice", "eve")
    ]
    cases = {
        "route() all-v1 (1 rule)": (NET / "virtual-service-all-v1.yaml", users),
        "route() jason header (2 rules)": (NET / "virtual-service-reviews-jason-v2-v3.yaml", users),
        "route() 50/50 weighted": (NET / "virtual-service-reviews-v2-v3.yaml", users),
    }
    scalar: list[tuple[str, str, str, str, str]] = []
    for label, (vs, reqs) in cases.items():
        sim = istiosim.load(*base, vs, rng=1)
        rate, cpu, py, c = route_cost(sim, reqs)
        scalar.append((label, f"{rate:,.0f}", f"{cpu:.2f}", f"{py:.2f}", f"{c:.2f}"))
    sim = istiosim.load(*base, NET / "virtual-service-reviews-jason-v2-v3.yaml", rng=1)
    n = 20_000
    t = best_of(lambda: [sim.route(users[i % 4], trace=True) for i in range(n)], 3)
    rows.append(("route(trace=True) jason header", f"{n / t:,.0f} requests/s"))

    files = sorted((CORPUS / "istio-bookinfo").rglob("*.yaml"))
    t = best_of(lambda: istiosim.load(*files), 5)
    rows.append(
        (f"load + compile whole Bookinfo corpus ({len(files)} files)", f"{t * 1000:.1f} ms")
    )
    files = [KUBE, NET / "destination-rule-all.yaml", NET / "virtual-service-all-v1.yaml"]
    t = best_of(lambda: istiosim.load(*files), 5)
    rows.append(("load + compile bookinfo.yaml + DR + all-v1 VS", f"{t * 1000:.1f} ms"))

    cmd = [
        sys.executable,
        "-m",
        "istiosim",
        "route",
        "-f",
        str(KUBE),
        "-f",
        str(NET / "destination-rule-all.yaml"),
        "-f",
        str(NET / "virtual-service-reviews-test-v2.yaml"),
        "--host",
        "reviews",
        "-H",
        "end-user: jason",
    ]
    procs = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        procs.append(time.perf_counter() - t0)
    rows.append(
        (
            "whole `istiosim route` process (median of 5)",
            f"{statistics.median(procs) * 1000:.0f} ms",
        )
    )
    probe = (
        "import sys, istiosim; sim = istiosim.load(sys.argv[1]); "
        "sim.route(istiosim.Request('reviews')); print('scipy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(KUBE)], capture_output=True, text=True, check=True
    )
    rows.append(("scipy imported by the routing path", out.stdout.strip()))

    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    head = ("scalar route, 4 users in turn", "routes/s", "CPU µs/route", "py calls", "C calls")
    ws = [max(len(r[i]) for r in [head, *scalar]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in ws), *scalar]:
        cells = [f"{r[0]:<{ws[0]}}", *(f"{v:>{w}}" for v, w in zip(r[1:], ws[1:], strict=True))]
        print("  ".join(cells))
    print()
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  value")
    print(f"{'-' * w}  {'-' * 20}")
    for a, b in rows:
        print(f"{a:<{w}}  {b}")


if __name__ == "__main__":
    main()
