"""Rollout plans: time to step through a plan (issue 10's goal: a 10-step rollout over a
3-class traffic model in < 0.5 s).

Run: ``python benchmarks/bench_rollout.py`` (a few seconds). Prints a table; nothing here is a
pass/fail test. Each plan is built end to end as ``istiosim.rollout`` does it: the steps'
VirtualServices written, each compiled (webhook checks included) and routed exactly through the
traffic model, and the sample size of every timed step computed. The config is loaded once,
outside the timing (``istiosim.load``); the best of ``--repeat`` runs is reported.

Plans:

* Argo 10 steps: a Rollout with setWeight 10/pause 1m × 4, a setHeaderRoute and a final
  setWeight/pause (10 steps + the 2 promotion steps), on a VirtualService with a user rule for
  ``end-user: jason`` ahead of the weighted route; traffic: jason, firefox users, everyone else.
* Flagger 10 steps: stepWeight 10 up to maxWeight 100 (initialise + 10 + promotion), same
  3-class traffic.
"""

from __future__ import annotations

import argparse
import platform
import time

import istiosim
from istiosim import Request, Traffic

ARGO = """
apiVersion: v1
kind: Service
metadata: {name: stable-svc}
spec: {selector: {app: demo}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: canary-svc}
spec: {selector: {app: demo}, ports: [{name: http, port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo}
spec: {replicas: 3, template: {metadata: {labels: {app: demo}}}}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: demo-vs}
spec:
  hosts: [stable-svc]
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: stable-svc}}]
  - name: primary
    route:
    - {destination: {host: stable-svc}, weight: 100}
    - {destination: {host: canary-svc}, weight: 0}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  strategy:
    canary:
      canaryService: canary-svc
      stableService: stable-svc
      trafficRouting:
        managedRoutes: [{name: firefox}]
        istio: {virtualService: {name: demo-vs, routes: [primary]}}
      steps:
      - setWeight: 10
      - pause: {duration: 1m}
      - setWeight: 20
      - pause: {duration: 1m}
      - setHeaderRoute:
          name: firefox
          match: [{headerName: agent, headerValue: {prefix: firefox}}]
      - setWeight: 40
      - pause: {duration: 1m}
      - setWeight: 80
      - pause: {duration: 1m}
      - setWeight: 100
"""

FLAGGER = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: stable-svc}
spec: {replicas: 3, template: {metadata: {labels: {app: stable-svc}}}}
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: stable-svc}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: stable-svc}
  service: {port: 80}
  analysis: {interval: 1m, stepWeight: 10, maxWeight: 100}
"""


def traffic(host: str) -> Traffic:
    return Traffic.mix(
        [
            (Request(host, headers={"end-user": "jason"}), 1),
            (Request(host, headers={"agent": "firefox/120"}), 2),
            (Request(host), 7),
        ]
    )


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}; best of {args.repeat}")
    rows = []
    for name, text, host in (
        ("Argo Rollout, 10 steps", ARGO, "stable-svc"),
        ("Flagger Canary, stepWeight 10", FLAGGER, "stable-svc.default.svc.cluster.local"),
    ):
        sim = istiosim.load(text)
        t = traffic(host)
        plan = istiosim.rollout(sim, t, rate=200)
        secs = best(lambda sim=sim, t=t: istiosim.rollout(sim, t, rate=200), args.repeat)
        rows.append((name, len(plan), len(t.classes), secs))
    print(f"{'plan':32} {'steps':>5} {'classes':>7} {'time':>9} {'per step':>9}  goal")
    for name, n, k, secs in rows:
        print(f"{name:32} {n:5d} {k:7d} {secs * 1e3:7.1f}ms {secs / n * 1e3:7.2f}ms  < 500 ms")


if __name__ == "__main__":
    main()
