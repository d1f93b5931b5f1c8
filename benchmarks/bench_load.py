"""Load time and memory per object, next to PyYAML's C loader alone (issue 8, "Cliffs").

Run: ``python benchmarks/bench_load.py [--objects N ...]`` (default 10000 and 40000; a
file over istiosim's 32 MiB limit is reported as refused). Prints
one table, asserts nothing. Each row is measured in a fresh subprocess, so that peak memory is
the row's own:

- ``pyyaml``: ``list(yaml.load_all(text, Loader=yaml.CSafeLoader))``, the floor: parsing alone,
  no positions, no validation
- ``documents``: istiosim's YAML stage (``loader.yaml.documents``: the same libyaml parser read
  event by event, every field's position kept, duplicate keys and aliases refused)
- ``load_config``: the whole load (YAML, pydantic validation of every object, the Mesh)

Two workloads: VirtualServices alone (a match and a 90/10 split each, as in the issue's
178,000-object file), and a ``kubectl get -o yaml`` style export mix (Services, Deployments
with the status and managed fields kubectl writes, Pods, DestinationRules, VirtualServices, and
a kind istiosim ignores). Times are CPU seconds of the child (``time.process_time``: steadier
than wall time on a shared machine) per 10,000 objects; memory is the peak RSS the step added
over the child's RSS before it (text already in memory, modules imported), per object, and the
RSS still held after it with the result alive. ``× yaml`` is the ratio to the pyyaml row of the
same workload and size, taken in the same run. Each row is run ``--repeat`` times (default 3)
and the run of least CPU is shown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_inputs import many_vs  # the same VirtualServices as bench_inputs' load rows

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("pyyaml", "documents", "load_config")
NL = "\n"


def _meta(name: str, ns: str, i: int, labels: str = "") -> str:
    return f"""metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{{"kind":"x","name":"{name}"}}'
  creationTimestamp: "2026-11-0{1 + i % 9}T10:00:00Z"
  generation: 1
  labels:
    app: {name}{labels}
  name: {name}
  namespace: {ns}
  resourceVersion: "{1000 + i}"
  uid: 0000-{i:08d}"""


def export_mix(n: int) -> str:
    """``n`` objects of a cluster export, cycling through seven kinds."""
    items = []
    for i in range(n):
        ns, s = f"ns{i % 50}", f"svc-{i // 7}"
        k = i % 7
        if k == 0:
            items.append(
                f"""apiVersion: v1
kind: Service
{_meta(s, ns, i)}
spec:
  clusterIP: 10.0.{i % 250}.{i % 200}
  ports:
  - name: http
    port: 9080
    protocol: TCP
    targetPort: 9080
  selector:
    app: {s}
  type: ClusterIP
status:
  loadBalancer: {{}}"""
            )
        elif k in (1, 2):
            v = f"v{k}"
            meta = _meta(f"{s}-{v}", ns, i, f"{NL}    version: {v}")
            items.append(
                f"""apiVersion: apps/v1
kind: Deployment
{meta}
spec:
  progressDeadlineSeconds: 600
  replicas: 1
  revisionHistoryLimit: 10
  selector:
    matchLabels:
      app: {s}
      version: {v}
  strategy:
    rollingUpdate: {{maxSurge: 25%, maxUnavailable: 25%}}
    type: RollingUpdate
  template:
    metadata:
      labels:
        app: {s}
        version: {v}
    spec:
      containers:
      - image: docker.io/istio/examples-bookinfo-{s}-{v}:1.20.2
        imagePullPolicy: IfNotPresent
        name: {s}
        ports:
        - containerPort: 9080
          protocol: TCP
        resources: {{}}
      dnsPolicy: ClusterFirst
      restartPolicy: Always
status:
  availableReplicas: 1
  conditions:
  - lastTransitionTime: "2026-11-01T10:00:00Z"
    message: Deployment has minimum availability.
    reason: MinimumReplicasAvailable
    status: "True"
    type: Available
  observedGeneration: 1
  readyReplicas: 1
  replicas: 1"""
            )
        elif k == 3:
            meta = _meta(f"{s}-v1-{i:x}", ns, i, f"{NL}    version: v1")
            items.append(
                f"""apiVersion: v1
kind: Pod
{meta}
spec:
  containers:
  - image: docker.io/istio/examples-bookinfo-{s}-v1:1.20.2
    name: {s}
  nodeName: node-{i % 3}
status:
  phase: Running
  podIP: 10.1.{i % 250}.{i % 200}"""
            )
        elif k == 4:
            items.append(
                f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
{_meta(s, ns, i)}
spec:
  host: {s}
  subsets:
  - labels:
      version: v1
    name: v1
  - labels:
      version: v2
    name: v2"""
            )
        elif k == 5:
            items.append(
                f"""apiVersion: networking.istio.io/v1
kind: VirtualService
{_meta(s, ns, i)}
spec:
  hosts:
  - {s}
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: {s}
        subset: v2
  - route:
    - destination:
        host: {s}
        subset: v1
      weight: 90
    - destination:
        host: {s}
        subset: v2
      weight: 10"""
            )
        else:
            items.append(
                f"""apiVersion: v1
kind: ConfigMap
{_meta(f"{s}-config", ns, i)}
data:
  settings.json: '{{"retries": 3}}'"""
            )
    return "\n---\n".join(items) + "\n"


WORKLOADS = {"virtualservices": many_vs, "export mix": export_mix}

CHILD = r"""
import gc, json, resource, sys, time
path, step = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
import yaml
from istiosim.loader import load_config
from istiosim.loader.yaml import MAX_FILE_BYTES, documents

def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (resource.getpagesize() // 1024)

def run():
    if len(text) > MAX_FILE_BYTES:  # istiosim refuses it: say so instead of a number
        print(json.dumps({"refused": f"{len(text)} bytes, over the {MAX_FILE_BYTES} limit"}))
        sys.exit(0)
    if step == "pyyaml":
        return list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    if step == "documents":
        return list(documents(path, text))
    return load_config(path)

gc.collect()
before = rss_kib()
peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c = time.process_time()
out = run()
cpu = time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
held = rss_kib() - before
print(json.dumps({"cpu": cpu, "peak_kib": max(peak, peak0) - before, "held_kib": held}))
"""


def child(path: str, step: str) -> dict[str, Any]:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    res = subprocess.run(
        [sys.executable, "-c", CHILD, path, step],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--objects", type=int, nargs="+", default=[10_000, 40_000])
    ap.add_argument("--repeat", type=int, default=3, help="runs per row; the least CPU is shown")
    ap.add_argument("--workload", choices=list(WORKLOADS), nargs="+", default=list(WORKLOADS))
    args = ap.parse_args()
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
        f" (load average {os.getloadavg()[0]:.1f}); CPU s per 10k objects, memory per object"
    )
    print(
        f"{'workload':<16} {'objects':>8} {'MB':>5} {'step':<12} {'cpu s/10k':>9} {'× yaml':>7}"
        f" {'peak KB/obj':>11} {'× yaml':>7} {'held KB/obj':>11}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for wname in args.workload:
            for n in args.objects:
                text = WORKLOADS[wname](n)
                path = Path(tmp) / f"{wname.replace(' ', '-')}-{n}.yaml"
                path.write_text(text, encoding="utf-8")
                base: dict[str, float] = {}
                for step in STEPS:
                    runs = [child(str(path), step) for _ in range(args.repeat)]
                    r = min(runs, key=lambda x: float(x.get("cpu", 0.0)))
                    if "refused" in r:
                        print(
                            f"{wname:<16} {n:>8,} {len(text) / 1e6:>5.1f} refused: {r['refused']}"
                        )
                        break
                    if step == "pyyaml":
                        base = r
                    print(
                        f"{wname:<16} {n:>8,} {len(text) / 1e6:>5.1f} {step:<12}"
                        f" {r['cpu'] * 1e4 / n:>9.2f} {r['cpu'] / base['cpu']:>7.2f}"
                        f" {r['peak_kib'] * 1.024 / n:>11.2f}"
                        f" {r['peak_kib'] / max(base['peak_kib'], 1):>7.2f}"
                        f" {r['held_kib'] * 1.024 / n:>11.2f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
