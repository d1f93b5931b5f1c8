"""First use of a million header values: the per-value predicate work (issue 9, item 4).

Run: ``python benchmarks/bench_first_use.py [--users N] [--rules 5 20]``. Prints a table;
nothing here is a pass/fail test.

A VirtualService of R regex rules on ``end-user`` (``user-<i>[0-9]*``-style patterns, the
last rule a catch-all), traffic ``Traffic.users(n_users=N)``. The first
``simulate(n=10^6, method="vector")`` evaluates every rule's condition on the N distinct
users (then cached by the Router); the second run shows the routing alone. Each R runs in a
fresh process, CPU seconds (``time.process_time``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import json, sys, time
import istiosim
from istiosim import Request, Traffic
bookinfo = {bookinfo!r}
rules = []
for i in range({r}):
    sub = ("v1", "v2", "v3")[i % 3]
    rules.append(
        f'  - match: [{{{{headers: {{{{end-user: {{{{regex: "user-{{i % 10}}{{i}}[0-9]*"}}}}}}}}}}}}]\\n'
        f'    route: [{{{{destination: {{{{host: reviews, subset: {{sub}}}}}}}}}}]'
    )
rules.append("  - route: [{{destination: {{host: reviews, subset: v1}}}}]")
vs = ("apiVersion: networking.istio.io/v1beta1\\nkind: VirtualService\\nmetadata: {{name: r}}\\n"
      "spec:\\n  hosts: [reviews]\\n  http:\\n" + "\\n".join(rules) + "\\n")
sim = istiosim.load(bookinfo + "/bookinfo-k8s.yaml", bookinfo + "/destination.yaml", vs)
t = Traffic.users(Request("reviews"), n_users={users})
out = []
for _ in range(2):
    c = time.process_time()
    res = sim.simulate(t, 10**6, rng=1, method="vector", threads=1)
    out.append(time.process_time() - c)
print(json.dumps([out, sorted((str(k), int(v)) for k, v in res.counts().items())]))
"""


def run(r: int, users: int) -> tuple[list[float], list[object]]:
    code = WORKER.format(r=r, users=users, bookinfo=str(ROOT / "istiosim" / "data" / "bookinfo"))
    # cwd: not the checkout's root, so that PYTHONPATH (not ./istiosim) says which istiosim runs
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    times, counts = json.loads(out.stdout)
    return times, counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=float, default=1e6)
    ap.add_argument("--rules", type=int, nargs="*", default=[5, 20])
    args = ap.parse_args()
    users = int(args.users)
    print(f"{users:,} users, simulate(n=10^6, method='vector', threads=1), CPU seconds")
    print(f"{'regex rules':>12}  {'first call':>10}  {'second call':>11}  counts")
    for r in args.rules:
        (first, second), counts = run(r, users)
        digest = hashlib.sha256(json.dumps(counts).encode()).hexdigest()[:8]
        print(f"{r:>12}  {first:>10.2f}  {second:>11.2f}  {digest}")


if __name__ == "__main__":
    main()
