"""Issue 8: one Simulator shared by several threads (a web handler, parallel tests) gives the
answers serial use gives: ``route`` and ``simulate`` (counts and streamed vector runs), on hosts
seen before and hosts each thread routes for the first time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from istiosim import Request, Simulator, Traffic

from conftest import load_demo

HOSTS = ["reviews", "ratings", "details", "productpage"]


def _sim() -> Simulator:
    return load_demo("canary-50-50.yaml", "header-jason-v3.yaml")


def _jobs() -> list[tuple[str, Any]]:
    jobs: list[tuple[str, Any]] = []
    for i in range(24):
        host = HOSTS[i % len(HOSTS)]
        port = [None, 9080][i % 2]
        if i % 3 == 0:
            jobs.append(("route", (Request(host, port=port, headers={"end-user": f"u{i}"}), i)))
        elif i % 3 == 1:
            t = Traffic.users(Request(host, port=port), n_users=20, named={"jason": 0.2})
            jobs.append(("vector", (t, 200_000 + i, i)))
        else:
            jobs.append(("counts", (Request(host, namespace=f"ns{i % 5}"), 10_000, i)))
    return jobs


def _run(sim: Simulator, job: tuple[str, Any]) -> Any:
    kind, args = job
    if kind == "route":
        req, seed = args
        d = sim.route(req, rng=seed)
        return (d.outcome, d.destination, d.rule)
    t, n, seed = args
    method = "vector" if kind == "vector" else "counts"
    res = sim.simulate(t, n, rng=seed, method=method, chunk_size=1 << 16, threads=2)
    return res.to_dict()


@pytest.mark.parametrize("workers", [4, 8])
def test_threads_on_one_simulator_equal_serial(workers: int) -> None:
    jobs = _jobs()
    serial = [_run(_sim(), job) for job in jobs]  # each job on a fresh simulator
    shared = _sim()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parallel = list(pool.map(lambda j: _run(shared, j), jobs))
    assert parallel == serial
    # and once more on the now warm simulator (every host known): still the same answers
    with ThreadPoolExecutor(max_workers=workers) as pool:
        again = list(pool.map(lambda j: _run(shared, j), reversed(jobs)))
    assert again[::-1] == serial


def test_unseeded_route_draws_are_not_handed_out_twice() -> None:
    """``route`` without rng takes draws from the simulator's buffer under a lock: N threads
    taking draws get N distinct positions (no two requests share a draw)."""
    sim = _sim()
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda _: sim.draws(), range(4000)))
    assert len(got) == 4000
    assert len(set(got)) == 4000
