"""Streaming on 1 and 2 threads, and what two cores of this machine give at all (issue 9, item 5).

Run: ``python benchmarks/bench_threads.py [--n N]``. Prints tables; nothing here is a
pass/fail test. Each row runs in a fresh process: ``simulate(traffic, n, rng=1,
method="vector", threads=T)`` on bench_floor's 5-rule workload (user header, path and method
vary) and on a constant request to a 50/50 canary, after one warm-up run.

Each row is the fastest of ``--repeat`` runs (default 3): the machine is shared, and a run
slowed by another job says nothing about istiosim. ``speed-up`` is the 1-thread wall time
over this row's. ``cores used`` is CPU time / wall
time (2.0 = both cores busy all along). Two kinds of ceiling are measured in the same run:

- ``2 processes``: two independent processes, each streaming n/2 on one thread, started
  together (a file is the starting gun); no GIL, no shared state, so their speed-up is the
  most any split of this work over two cores could give on this machine;
- ``controls``: numpy alone on two threads (the same total work as on one), once on arrays
  that stay in each core's cache and once on 32 MiB arrays that go to memory.

The peak RSS of the whole process at two sizes of n shows that memory does not grow with n.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
import os
while {gun!r} and not os.path.exists({gun!r}):
    time.sleep(0.001)
c, w = time.process_time(), time.perf_counter()
res = sim.simulate(t, {n}, rng=1, method="vector", threads={threads}, chunk_size={chunk})
cpu, wall = time.process_time() - c, time.perf_counter() - w
digest = sorted((str(k), int(v)) for k, v in res.counts().items())
print(json.dumps([cpu, wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, digest]))
"""


def _worker(name: str, n: int, threads: int, chunk: int, gun: str = "") -> subprocess.Popen[str]:
    code = WORKER.format(here=str(HERE), name=name, n=n, threads=threads, chunk=chunk, gun=gun)
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=HERE
    )


def _result(p: subprocess.Popen[str]) -> list[Any]:
    out, _ = p.communicate()
    if p.returncode:
        raise SystemExit(f"worker failed with exit code {p.returncode}")
    got: list[Any] = json.loads(out)
    return got


def run(name: str, n: int, threads: int, chunk: int) -> tuple[float, float, float, object]:
    cpu, wall, rss, digest = _result(_worker(name, n, threads, chunk))
    return float(cpu), float(wall), float(rss), digest


def two_processes(name: str, n: int) -> tuple[float, float]:
    """Two processes streaming n/2 each on one thread, started together: (wall, CPU)."""
    with tempfile.TemporaryDirectory() as tmp:
        gun = os.path.join(tmp, "go")
        procs = [_worker(name, n // 2, 1, 1 << 16, gun) for _ in range(2)]
        time.sleep(8)  # both imported and warmed up (they wait for the gun)
        open(gun, "w").close()
        outs = [_result(p) for p in procs]
    return max(float(o[1]) for o in outs), sum(float(o[0]) for o in outs)


def controls() -> dict[str, float]:
    """numpy alone: 1-thread time over 2-thread time for the same total work."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    big = np.random.default_rng(0).random(1 << 22)  # 32 MiB: memory-bound
    small = np.random.default_rng(0).random(1 << 15)  # 256 KiB: stays in each core's L2

    def speed_up(a: np.ndarray, total: int) -> float:
        def work(k: int) -> None:
            for _ in range(k):
                np.sqrt(a)

        walls = []
        for threads in (1, 2):
            t0 = time.perf_counter()
            with ThreadPoolExecutor(threads) as ex:
                list(ex.map(work, [total // threads] * threads))
            walls.append(time.perf_counter() - t0)
        return walls[0] / walls[1]

    return {"np.sqrt in cache": speed_up(small, 40_000), "np.sqrt 32 MiB": speed_up(big, 200)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=4e7)
    ap.add_argument("--repeat", type=int, default=3, help="runs per row; the fastest is shown")
    args = ap.parse_args()
    n = int(args.n)
    default_chunk = 1 << 16
    ctl = controls()
    print("controls, 2 threads: " + ", ".join(f"{k} {v:.2f}x" for k, v in ctl.items()))
    head = ["workload", "run", "chunk", "wall s", "CPU s", "cores used", "M req/s", "speed-up"]
    print("  ".join(f"{h:>12}" for h in head))
    for name in ("5 rules", "50/50 canary"):
        digests: set[str] = set()
        one = 0.0
        for threads, chunk in ((1, default_chunk), (2, default_chunk), (2, 1 << 18)):
            runs = [run(name, n, threads, chunk) for _ in range(args.repeat)]
            cpu, wall, _, _ = min(runs, key=lambda r: r[1])
            digests.update(json.dumps(r[3]) for r in runs)
            one = one or wall
            row = [name, f"{threads} thread(s)", chunk, wall, cpu, cpu / wall, n / wall / 1e6]
            row.append(one / wall)
            print("  ".join(f"{x:>12.2f}" if isinstance(x, float) else f"{x!s:>12}" for x in row))
        wall, cpu = min((two_processes(name, n) for _ in range(args.repeat)), key=lambda r: r[0])
        row = [name, "2 processes", 1 << 16, wall, cpu, cpu / wall, n / wall / 1e6, one / wall]
        print("  ".join(f"{x:>12.2f}" if isinstance(x, float) else f"{x!s:>12}" for x in row))
        print(f"{'':>12}  same counts for every thread count and chunk: {len(digests) == 1}")
    ctl = controls()
    print("controls again: " + ", ".join(f"{k} {v:.2f}x" for k, v in ctl.items()))
    print("peak RSS (2 threads, 5 rules) by n:")
    for m in (n // 10, n):
        _, wall, rss, _ = run("5 rules", m, 2, default_chunk)
        print(f"  n = {m:.0e}: {rss:.0f} MiB ({wall:.1f} s)")


if __name__ == "__main__":
    main()
