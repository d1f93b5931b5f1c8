"""Cluster scale: time and peak memory of each stage against the number of services (issue 9).

Run: ``python benchmarks/bench_scale.py [SIZES...]`` (default 10 100 1000 5000 10000). Each
size is generated as one YAML export and measured in a fresh process, stage by stage:

- ``load``: ``load_config`` (YAML → validated models → mesh)
- ``compile``: ``compile_plan`` (webhook validation + the RoutePlan)
- ``check``: what ``istiosim check`` adds: ``compile_valid`` + ``analyze``
- ``route``: the first ``Simulator.route`` (route tables resolved on first use)

Every service has three versions (a Deployment each, 2 replicas), a Service, a
DestinationRule with three subsets, a VirtualService of five mixed rules (header exact and
regex, uri prefix, method, weighted default) bound to the mesh and to its own Gateway, and a
Sidecar selecting its pods; 100 services per namespace. The table shows CPU seconds per stage
(wall time is noisy on a shared machine), the process's peak RSS after the stage, and, per
stage, the exponent k of time ∝ services^k fitted (least squares on log-log) over the sizes
≥ 100 (at 10 the fixed costs dominate). Nothing here is a pass/fail test.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("load", "compile", "check", "route")
PER_NAMESPACE = 100


def export(n: int) -> str:
    """A cluster export of ``n`` services (see the module docstring)."""
    docs: list[str] = []
    docs.append(
        """apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  replicas: 1
  selector: {matchLabels: {istio: ingressgateway}}
  template: {metadata: {labels: {istio: ingressgateway}}}"""
    )
    for i in range(n):
        ns = f"team{i // PER_NAMESPACE}"
        s = f"svc{i}"
        docs.append(
            f"""apiVersion: v1
kind: Service
metadata: {{name: {s}, namespace: {ns}}}
spec:
  selector: {{app: {s}}}
  ports: [{{name: http, port: 80}}]"""
        )
        for v in ("v1", "v2", "v3"):
            docs.append(
                f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {s}-{v}, namespace: {ns}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {s}, version: {v}}}}}
  template: {{metadata: {{labels: {{app: {s}, version: {v}}}}}}}"""
            )
        docs.append(
            f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {s}, namespace: {ns}}}
spec:
  host: {s}
  trafficPolicy: {{loadBalancer: {{simple: ROUND_ROBIN}}}}
  subsets:
  - {{name: v1, labels: {{version: v1}}}}
  - {{name: v2, labels: {{version: v2}}}}
  - {{name: v3, labels: {{version: v3}}}}"""
        )
        docs.append(
            f"""apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: {s}-gw, namespace: {ns}}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
  - port: {{number: 80, name: http, protocol: HTTP}}
    hosts: ["{s}.example.com"]"""
        )
        docs.append(
            f"""apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {{name: {s}, namespace: {ns}}}
spec:
  workloadSelector: {{labels: {{app: {s}}}}}
  egress:
  - hosts: ["./*", "istio-system/*"]"""
        )
        docs.append(
            f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {s}, namespace: {ns}}}
spec:
  hosts: [{s}, {s}.example.com]
  gateways: [mesh, {s}-gw]
  http:
  - match: [{{headers: {{end-user: {{exact: jason}}}}}}]
    route: [{{destination: {{host: {s}, subset: v2}}}}]
  - match: [{{uri: {{prefix: /api/v3}}}}]
    route: [{{destination: {{host: {s}, subset: v3}}}}]
  - match: [{{headers: {{x-canary: {{regex: "^(yes|true)$"}}}}}}]
    route: [{{destination: {{host: {s}, subset: v3}}}}]
  - match: [{{method: {{exact: POST}}}}]
    route:
    - {{destination: {{host: {s}, subset: v1}}, weight: 50}}
    - {{destination: {{host: {s}, subset: v2}}, weight: 50}}
  - route:
    - {{destination: {{host: {s}, subset: v1}}, weight: 80}}
    - {{destination: {{host: {s}, subset: v2}}, weight: 10}}
    - {{destination: {{host: {s}, subset: v3}}, weight: 10}}"""
        )
    return "\n---\n".join(docs) + "\n"


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: str) -> dict[str, tuple[float, float, float]]:
    """In this process: stage → (CPU s, wall s, peak RSS MB after the stage)."""
    from istiosim import Request, Simulator
    from istiosim.analysis import analyze
    from istiosim.compiler import compile_plan, compile_valid
    from istiosim.loader import load_config

    out: dict[str, tuple[float, float, float]] = {}

    def stage(name: str, fn):  # type: ignore[no-untyped-def]
        c, w = time.process_time(), time.perf_counter()
        value = fn()
        out[name] = (time.process_time() - c, time.perf_counter() - w, _rss_mb())
        return value

    config = stage("load", lambda: load_config(path, partial=True))
    plan = stage("compile", lambda: compile_plan(config))

    def check() -> int:
        p, refused = compile_valid(config)
        return len(refused) + len(analyze(config, p))

    stage("check", check)
    sim = Simulator(plan, config=config, rng=1)
    stage("route", lambda: sim.route(Request("svc0", "/api/v3/x", namespace="team0")))
    return out


def fit(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y on log x."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(max(y, 1e-6)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    num = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True))
    den = sum((a - mx) ** 2 for a in lx)
    return num / den


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2])))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 1000, 5000, 10000]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    results: dict[int, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f"export-{n}.yaml")
            Path(path).write_text(export(n))
            proc = subprocess.run(
                [sys.executable, __file__, "--child", path],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            results[n] = json.loads(proc.stdout)
            row = "  ".join(
                f"{s} {results[n][s][0]:8.3f} s {results[n][s][2]:7.0f} MB" for s in STAGES
            )
            print(f"{n:>6} services  {row}", flush=True)
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    print("CPU seconds per stage (peak RSS after the stage)")
    print(f"{'services':>8}  " + "  ".join(f"{s:>18}" for s in STAGES))
    for n in sizes:
        cells = [f"{results[n][s][0]:8.3f}s {results[n][s][2]:6.0f}MB" for s in STAGES]
        print(f"{n:>8}  " + "  ".join(f"{c:>18}" for c in cells))
    big = [n for n in sizes if n >= 100]
    if len(big) >= 2:
        exps = [fit([float(n) for n in big], [results[n][s][0] for n in big]) for s in STAGES]
        print(f"{'exponent':>8}  " + "  ".join(f"{e:>18.2f}" for e in exps))
        print(f"(fitted over {', '.join(map(str, big))} services)")


if __name__ == "__main__":
    main()
