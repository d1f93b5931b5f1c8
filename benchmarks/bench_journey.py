"""Whole page views of Bookinfo (issue 12's speed goals: page views per second, one traced page
view's time).

Run: ``python benchmarks/bench_journey.py``. Bookinfo (four hops: productpage → details,
productpage → reviews → ratings) with the bundled model and the 50/50 reviews canary; CPU time
(``time.process_time``), best of 3. Prints a table; nothing here is a pass/fail test.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import istiosim
from istiosim import Request, Traffic
from istiosim.journey import Application, journey, journeys, read_application

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "istiosim" / "data" / "bookinfo"


def best(fn, repeat: int = 3) -> float:
    out = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        out.append(time.process_time() - t)
    return min(out)


def continuous() -> Application:
    """The bundled model with exponential latencies (same means): no exact mode, no counts."""
    data = {
        "workloads": {
            "productpage": {
                "latency": {"exponential": {"mean": "5ms"}},
                "calls": [
                    {"host": "details", "path": "/details/0", "timeout": "3s"},
                    {"host": "reviews", "path": "/reviews/0", "timeout": "3s", "attempts": 2},
                ],
            },
            "details": {"latency": {"exponential": {"mean": "2ms"}}},
            "reviews": {
                "latency": {"lognormal": {"median": "10ms", "sigma": 0.5}},
                "calls": [
                    {"host": "ratings", "versions": ["v2"], "timeout": "10s"},
                    {"host": "ratings", "versions": ["v3"], "timeout": "2500ms"},
                ],
            },
            "ratings": {"latency": {"exponential": {"mean": "3ms"}}},
        },
        "sees": [
            {"label": "reviews unavailable", "when": [{"call": "reviews", "failed": True}]},
            {"label": "no stars", "when": [{"call": "reviews", "version": "v1"}]},
            {"label": "stars"},
        ],
    }
    return Application.from_dict(data)


def main() -> None:
    sim = istiosim.load(
        DEMO / "bookinfo-k8s.yaml", DEMO / "destination.yaml", DEMO / "canary-50-50.yaml"
    )
    app = read_application("bookinfo")
    cont = continuous()
    page = Request("productpage", "/productpage")
    rows = []

    t1 = best(lambda: journey(sim, app, page, rng=1), repeat=20)
    rows.append(("one page view, traced (journey)", f"{t1 * 1e3:.2f} ms", "-"))
    for label, a, method, n in (
        ("constant latencies, counts (exact classes + multinomial)", app, "counts", 10**8),
        ("continuous latencies, vector (hop by hop over arrays)", cont, "vector", 10**6),
        ("continuous latencies, views (one page view at a time)", cont, "views", 20_000),
    ):
        t = best(lambda a=a, method=method, n=n: journeys(sim, a, page, n, rng=1, method=method))
        rows.append((label, f"{t:.3f} s for {n:,}", f"{n / t:,.0f}/s"))
    readers = Traffic.users(page, n_users=100_000, named={"jason": 0.1})
    n = 10**6
    t = best(lambda: journeys(sim, cont, readers, n, rng=1, method="vector"))
    rows.append(("Traffic.users(100,000 users), vector", f"{t:.3f} s for {n:,}", f"{n / t:,.0f}/s"))
    t = best(lambda: journeys(sim, app, page, mode="exact"))
    rows.append(("exact distribution (mode='exact')", f"{t * 1e3:.1f} ms", "-"))

    print(f"{platform.machine()} {platform.python_version()}; CPU seconds, best of 3")
    w = max(len(r[0]) for r in rows)
    for r in rows:
        print(f"{r[0]:<{w}}  {r[1]:>22}  {r[2]:>14}")


if __name__ == "__main__":
    main()
