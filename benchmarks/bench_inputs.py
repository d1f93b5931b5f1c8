"""What inputs cost as they grow (issue 8's cliffs): prints tables, asserts nothing.

Run: ``python benchmarks/bench_inputs.py`` (a few minutes; ``--quick`` stops at 10k rules,
20k objects and 10^5 classes). Times are CPU seconds of this process (``time.process_time``,
steadier than wall time on a shared machine) and wall seconds; memory is the peak RSS so far.

1. ``istiosim check`` time against the rules of one VirtualService (1k, 10k, 20k): the rule-order
   analyzer (IST0130) compares rules, so this is where a quadratic cost would show.
2. Load time per 10,000 objects (VirtualServices with a match and a weighted route each), next to
   what PyYAML's C loader alone takes to parse the same text.
3. ``simulate`` time against the number of request classes (10^3-10^6), each class one request
   (a distinct path on one of four hosts), n = 10^9 by counts.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

import istiosim
from istiosim import Request, Traffic
from istiosim.loader import load_config

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "istiosim" / "data" / "bookinfo"


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def one_vs(rules: int) -> str:
    """One VirtualService on reviews with ``rules`` prefix/header rules, then a default route."""
    lines = [
        "apiVersion: networking.istio.io/v1",
        "kind: VirtualService",
        "metadata: {name: reviews, namespace: default}",
        "spec:",
        "  hosts: [reviews]",
        "  http:",
    ]
    for i in range(rules):
        if i % 2:
            m = f"[{{uri: {{prefix: /api/{i}}}}}]"
        else:
            m = f"[{{headers: {{x-user: {{exact: u{i}}}}}}}]"
        lines.append(f"  - match: {m}")
        lines.append(f"    route: [{{destination: {{host: reviews, subset: v{1 + i % 3}}}}}]")
    lines.append("  - route: [{destination: {host: reviews, subset: v1}}]")
    return "\n".join(lines) + "\n"


def many_vs(count: int) -> str:
    docs = []
    for i in range(count):
        docs.append(
            f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs-{i}
  namespace: ns{i % 50}
spec:
  hosts:
  - svc-{i}.ns{i % 50}.svc.cluster.local
  http:
  - match:
    - uri:
        prefix: /api/{i}
    route:
    - destination:
        host: svc-{i}
        subset: v1
      weight: 90
    - destination:
        host: svc-{i}
        subset: v2
      weight: 10
"""
        )
    return "---\n".join(docs)


def bench_check(sizes: list[int], tmp: Path) -> None:
    print("\n1. istiosim check: one VirtualService with N rules (+ Bookinfo)")
    print(f"{'rules':>8} {'cpu s':>8} {'wall s':>8} {'diagnostics':>12} {'peak MiB':>9}")
    for n in sizes:
        f = tmp / f"vs-{n}.yaml"
        f.write_text(one_vs(n))

        def run(f: Path = f) -> int:
            sim = istiosim.load(
                str(DEMO / "bookinfo-k8s.yaml"), str(DEMO / "destination.yaml"), str(f)
            )
            return len(sim.diagnostics)

        diags, cpu, wall = timed(run)
        print(f"{n:>8,} {cpu:>8.2f} {wall:>8.2f} {diags:>12,} {rss_mib():>9.0f}")


def bench_load(sizes: list[int], tmp: Path) -> None:
    print("\n2. load time per 10,000 VirtualServices (one file)")
    print(
        f"{'objects':>8} {'MB':>6} {'load cpu s':>11} {'per 10k':>8} "
        f"{'PyYAML C cpu s':>15} {'per 10k':>8} {'peak MiB':>9}"
    )
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for n in sizes:
        text = many_vs(n)
        f = tmp / f"many-{n}.yaml"
        f.write_text(text)
        cfg, cpu, _ = timed(lambda f=f: load_config(str(f), partial=True))
        if cfg.errors:  # e.g. over the 32 MiB file limit
            print(f"{n:>8,} {len(text) / 1e6:>6.1f} refused: {cfg.errors[0].message}")
            continue
        _, ycpu, _ = timed(lambda text=text: sum(1 for _ in yaml.load_all(text, Loader=loader)))
        mb = len(text) / 1e6
        print(
            f"{n:>8,} {mb:>6.1f} {cpu:>11.2f} {cpu * 1e4 / n:>8.2f} "
            f"{ycpu:>15.2f} {ycpu * 1e4 / n:>8.2f} {rss_mib():>9.0f}"
        )


def bench_classes(sizes: list[int]) -> None:
    print("\n3. simulate(n=10^9) against the number of request classes (one request each)")
    print(f"{'classes':>9} {'build s':>8} {'simulate cpu s':>15} {'wall s':>8} {'peak MiB':>9}")
    sim = istiosim.load(
        str(DEMO / "bookinfo-k8s.yaml"),
        str(DEMO / "destination.yaml"),
        str(DEMO / "canary-50-50.yaml"),
    )
    hosts = ["reviews", "ratings", "details", "productpage"]
    for k in sizes:
        t, build, _ = timed(
            lambda k=k: Traffic.mix(
                [(Request(hosts[i % 4], path=f"/p{i}"), 1 + i % 7) for i in range(k)]
            )
        )
        _, cpu, wall = timed(lambda t=t: sim.simulate(t, 10**9, rng=1))
        print(f"{k:>9,} {build:>8.2f} {cpu:>15.2f} {wall:>8.2f} {rss_mib():>9.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    args = ap.parse_args()
    print(f"istiosim {istiosim.__file__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench_check([1_000, 10_000] if args.quick else [1_000, 10_000, 20_000], tmp)
        bench_load([10_000, 20_000] if args.quick else [10_000, 40_000, 80_000], tmp)
    bench_classes([10**3, 10**4, 10**5] if args.quick else [10**3, 10**4, 10**5, 10**6])


if __name__ == "__main__":
    main()
