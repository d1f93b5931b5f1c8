"""Streaming on 1 and 2 threads: wall time, CPU time and peak memory (issue 9, item 5).

Run: ``python benchmarks/bench_threads.py [--n N]``. Prints a table; nothing here is a
pass/fail test. Each row runs in a fresh process: ``simulate(traffic, n, rng=1,
method="vector", threads=T)`` on bench_floor's 5-rule workload (user header, path and method
vary) and on a constant request to a 50/50 canary, after one warm-up run.

``cores used`` is CPU time / wall time: on an idle 2-core machine a perfectly parallel run
shows 2.0. ``control`` runs two threads of ``np.sqrt`` over 32 MiB arrays, which scale
perfectly when 2 cores are free: it shows how much of the machine this process got at that
moment (the machine is shared; when the control is well under 2, so is everything else).
The peak RSS of the whole process at two sizes of n shows that memory does not grow with n.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

WORKER = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {here!r})
import bench_floor
import istiosim
from istiosim import Request, Traffic
from istiosim.simulate import keep_freed_memory
keep_freed_memory()
if {name!r} == "5 rules":
    sim, t = bench_floor.simulator(5), bench_floor.traffic()
else:
    b = bench_floor.BOOKINFO
    sim = istiosim.load(str(b / "bookinfo-k8s.yaml"), str(b / "destination.yaml"),
                        str(b / "canary-50-50.yaml"))
    t = Traffic.constant(Request("reviews"))
sim.simulate(t, 1 << 18, rng=1, method="vector", threads={threads}, chunk_size={chunk})
c, w = time.process_time(), time.perf_counter()
res = sim.simulate(t, {n}, rng=1, method="vector", threads={threads}, chunk_size={chunk})
cpu, wall = time.process_time() - c, time.perf_counter() - w
digest = sorted((str(k), int(v)) for k, v in res.counts().items())
print(json.dumps([cpu, wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, digest]))
"""


def run(name: str, n: int, threads: int, chunk: int) -> tuple[float, float, float, object]:
    code = WORKER.format(here=str(HERE), name=name, n=n, threads=threads, chunk=chunk)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HERE
    )
    cpu, wall, rss, digest = json.loads(out.stdout)
    return cpu, wall, rss, digest


def control() -> float:
    import time
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    a = np.random.default_rng(0).random(1 << 22)

    def work(_: int) -> None:
        for _ in range(100):
            np.sqrt(a)

    c0, t0 = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(2) as ex:
        list(ex.map(work, range(2)))
    return (time.process_time() - c0) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=4e7)
    args = ap.parse_args()
    n = int(args.n)
    default_chunk = 1 << 16
    print(f"control (2 threads of np.sqrt): {control():.2f} cores")
    head = ["workload", "threads", "chunk", "wall s", "CPU s", "cores used", "M req/s", "RSS MiB"]
    print("  ".join(f"{h:>10}" for h in head))
    for name in ("5 rules", "50/50 canary"):
        digests = set()
        for threads, chunk in ((1, default_chunk), (2, default_chunk), (2, 1 << 18)):
            cpu, wall, rss, digest = run(name, n, threads, chunk)
            digests.add(json.dumps(digest))
            row = [name, threads, chunk, wall, cpu, cpu / wall, n / wall / 1e6, rss]
            print("  ".join(f"{x:>10.2f}" if isinstance(x, float) else f"{x!s:>10}" for x in row))
        print(f"{'':>10}  same counts for every thread count and chunk: {len(digests) == 1}")
    print(f"control again: {control():.2f} cores")
    print("peak RSS (2 threads, 5 rules) by n:")
    for m in (n // 10, n):
        _, wall, rss, _ = run("5 rules", m, 2, default_chunk)
        print(f"  n = {m:.0e}: {rss:.0f} MiB ({wall:.1f} s)")


if __name__ == "__main__":
    main()
