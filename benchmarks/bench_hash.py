"""Consistent hashing at scale: ``simulate`` and ``sessions`` against the number of users.

Run: ``python benchmarks/bench_hash.py [USERS...]`` (default 10000 100000 1000000 4194304).
Bookinfo's reviews behind the 50/50 canary (two pods per subset), its DestinationRule hashing
on the ``end-user`` header, traffic ``Traffic.users(Request("reviews"), n_users=USERS)``:

- ``n=10^12``: ``Simulator.simulate(traffic, 10**12, rng=1)`` (default mode): each user hashed
  once, the per-(subset, pod) probabilities summed over users, one multinomial draw;
- ``sessions``: ``Simulator.sessions(traffic, users=min(USERS, 10^6), requests_per_user=10)``.

CPU seconds (``time.process_time``; wall time is noisy on a shared machine), a fresh
``Simulator`` per row (no hash table cached from the row before); building the traffic model
(a string per user) is timed apart. Nothing here is a pass/fail test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import istiosim
from istiosim import Request, Traffic

DEMO = Path(istiosim.__file__).parent / "data" / "bookinfo"
HASHED = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: end-user}}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
"""


def main(sizes: list[int]) -> None:
    print(f"{'users':>10}  {'traffic s':>9}  {'n=10^12 s':>9}  {'sessions s':>10}  method")
    for users in sizes:
        sim = istiosim.load(
            str(DEMO / "bookinfo-k8s.yaml"), HASHED, str(DEMO / "canary-50-50.yaml")
        )
        t0 = time.process_time()
        t = Traffic.users(Request("reviews"), n_users=users)
        t1 = time.process_time()
        res = sim.simulate(t, 10**12, rng=1)
        t2 = time.process_time()
        assert int(res.matrix.sum()) == 10**12
        sim = istiosim.load(
            str(DEMO / "bookinfo-k8s.yaml"), HASHED, str(DEMO / "canary-50-50.yaml")
        )
        t3 = time.process_time()
        sim.sessions(t, users=min(users, 10**6), requests_per_user=10, rng=1)
        t4 = time.process_time()
        print(f"{users:>10,}  {t1 - t0:>9.2f}  {t2 - t1:>9.2f}  {t4 - t3:>10.2f}  {res.method}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000, 4_194_304])
