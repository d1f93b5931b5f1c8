"""The vector engine against hand-written numpy floors, R = 1, 5, 20 and 100 rules (issue 9).

Run: ``python benchmarks/bench_floor.py [--n N] [--rules 1 5 20 100]`` (about a minute).
Prints a table; nothing here is a pass/fail test.

Workload for R rules (``vs_yaml``): a VirtualService on ``reviews`` whose rules cycle through
four shapes, each routing to a subset (every third rule is a 50/50 split, so the route draw
matters): ``end-user`` exact, ``end-user`` regex, ``uri`` prefix + ``method`` exact, ``uri``
prefix. Traffic (``traffic``): one class varying the ``end-user`` header (1,000 users), the
path (200 paths) and the method (5), each uniform. Rules test two column groups ({end-user}
and {path, method}); about half the requests match no rule (404).

The engine: ``Simulator.simulate(traffic, n, rng=1, method="vector", threads=1)``, which
generates the requests as codes, matches, draws and counts, in blocks of 2^16.

The floor: the same pipeline hand-written for this workload and nothing else, with the same
draws (each 2^16 block from its own ``SeedSequence(1, spawn_key=(b,))`` Generator: the route
draw as uint16 and the endpoint draw, one subset having two pods; each of the three columns
from its own child ``spawn_key=(b, name as an integer)``, drawn only when some rule reads it,
as the engine does): per-column rule-bitmask tables (uint16 for R ≤ 16,
uint32 blocks beyond), the AND over columns, the first set bit by 16-bit lookup tables (the
minimum over 32-bit blocks beyond 32 rules, no early exit), one gather to the destination by
(rule, route draw, endpoint draw) and a bincount. Both are timed in CPU seconds (``time.process_time``),
median of ``--repeat`` runs, alternating engine and floor so that load on the shared machine
hits both alike; the ratio is floor time / engine time (1.0 = at the floor).

A second table times streaming with every traffic column drawn (``Program.reads`` patched to
name them all) against the engine as it is, which draws only the columns some rule reads,
on a 50/50 canary (no rule reads a column) and on R = 1 (one rule reads the user header).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import time
from pathlib import Path

import numpy as np

import istiosim
from istiosim import Request, Traffic

ROOT = Path(__file__).resolve().parent.parent
BOOKINFO = ROOT / "istiosim" / "data" / "bookinfo"
N_USERS = 1000
N_PATHS = 200
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
BLOCK = 1 << 16


def rules(r: int) -> list[tuple[str, str, str | None, str]]:
    """Rule i: (kind, value, method or None, route) with route "v1" / "v2" / "v3" / "split"."""
    out = []
    for i in range(r):
        route = "split" if i % 3 == 2 else f"v{1 + i % 3}"
        shape = i % 4
        if shape == 0:
            out.append(("user-exact", f"user-{7 * i % N_USERS}", None, route))
        elif shape == 1:
            out.append(("user-regex", f"user-{i % 10}[0-9]*", None, route))
        elif shape == 2:
            out.append(("uri-prefix", f"/api/s{i % 100}/", METHODS[i % 5], route))
        else:
            out.append(("uri-prefix", f"/p{i % 100}", None, route))
    return out


def vs_yaml(r: int) -> str:
    lines = [
        "apiVersion: networking.istio.io/v1beta1",
        "kind: VirtualService",
        "metadata: {name: reviews}",
        "spec:",
        "  hosts: [reviews]",
        "  http:",
    ]
    for kind, value, method, route in rules(r):
        if kind == "user-exact":
            m = f"{{headers: {{end-user: {{exact: {value!r}}}}}}}"
        elif kind == "user-regex":
            m = f"{{headers: {{end-user: {{regex: {value!r}}}}}}}"
        elif method is not None:
            m = f"{{uri: {{prefix: {value!r}}}, method: {{exact: {method}}}}}"
        else:
            m = f"{{uri: {{prefix: {value!r}}}}}"
        lines.append(f"  - match: [{m}]")
        if route == "split":
            lines.append("    route:")
            lines.append("    - {destination: {host: reviews, subset: v1}, weight: 50}")
            lines.append("    - {destination: {host: reviews, subset: v2}, weight: 50}")
        else:
            lines.append(f"    route: [{{destination: {{host: reviews, subset: {route}}}}}]")
    return "\n".join(lines) + "\n"


USERS = [f"user-{i}" for i in range(N_USERS)]
PATHS = [f"/api/s{i}/x" for i in range(N_PATHS // 2)] + [f"/p{i}" for i in range(N_PATHS // 2)]


def traffic() -> Traffic:
    return Traffic.request(
        Request("reviews"), path=PATHS, method=METHODS, headers={"end-user": USERS}
    )


def simulator(r: int) -> istiosim.Simulator:
    files = [str(BOOKINFO / "bookinfo-k8s.yaml"), str(BOOKINFO / "destination.yaml")]
    return istiosim.load(*files, vs_yaml(r))


# -- the floor --------------------------------------------------------------------------------


def _first16() -> np.ndarray:
    """FIRST[b] = index of the lowest set bit of the 16-bit b, 999 when b == 0."""
    b = np.arange(1 << 16)
    out = np.full(1 << 16, 999, np.int16)
    for i in range(15, -1, -1):
        out[(b >> i) & 1 == 1] = i
    return out


def floor_tables(r: int) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
    """Per 32-rule block, per column the rule bitmask of each value; and the rule → leaf table
    by (rule, route draw % 100) (leaf 0..2 = v1..v3, 3 = no route)."""
    rs = rules(r)
    width = np.uint16 if r <= 16 else np.uint32
    blocks = []
    for b0 in range(0, r, 32):
        tabs = {
            "user": np.zeros(N_USERS, width),
            "path": np.zeros(N_PATHS, width),
            "method": np.zeros(len(METHODS), width),
        }
        for j, (kind, value, method, _route) in enumerate(rs[b0 : b0 + 32]):
            bit = width(1 << j)
            if kind == "user-exact":
                ok_u = np.asarray([u == value for u in USERS])
            elif kind == "user-regex":
                rx = re.compile(value)
                ok_u = np.asarray([rx.fullmatch(u) is not None for u in USERS])
            else:
                ok_u = np.ones(N_USERS, bool)
            ok_p = (
                np.asarray([p.startswith(value) for p in PATHS])
                if kind == "uri-prefix"
                else np.ones(N_PATHS, bool)
            )
            ok_m = np.asarray([method is None or m == method for m in METHODS])
            tabs["user"][ok_u] |= bit
            tabs["path"][ok_p] |= bit
            tabs["method"][ok_m] |= bit
        blocks.append(tabs)
    dest = np.full((r + 1, 100), 3, np.intp)
    for i, (*_, route) in enumerate(rs):
        dest[i] = (np.arange(100) >= 50).astype(np.intp) if route == "split" else int(route[1]) - 1
    return blocks, np.repeat(dest.reshape(-1), 2)  # the same leaf for both pods


def column(b: int, name: str) -> np.random.Generator:
    """A traffic column's own stream in block b (as ``simulate.block_traffic`` keys it)."""
    key = (b, int.from_bytes(name.encode(), "big"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(1, spawn_key=key)))


def floor_run(r: int, n: int) -> np.ndarray:
    """Counts per leaf (v1, v2, v3, none), the hand-written pipeline."""
    blocks, dest = floor_tables(r)
    first16 = _first16()
    first16_hi = np.where(first16 == 999, 999, first16 + 16).astype(np.int16)
    counts = np.zeros(4, np.int64)
    reads_path = any(kind == "uri-prefix" for kind, _, _, _ in rules(r))
    reads_method = any(method is not None for _, _, method, _ in rules(r))
    for b in range(-(-n // BLOCK)):
        m = min(BLOCK, n - b * BLOCK)
        g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(1, spawn_key=(b,))))
        # only the columns some rule reads (as the engine): the others' streams are skipped
        u = column(b, "header:end-user").integers(0, N_USERS, size=m, dtype=np.uint16)
        me = p = None
        if reads_path:
            p = column(b, "path").integers(0, N_PATHS, size=m, dtype=np.uint16)
        if reads_method:
            me = column(b, "method").integers(0, len(METHODS), size=m, dtype=np.uint16)
        d = g.integers(0, 100, size=m, dtype=np.uint16)
        pod = np.unpackbits(np.frombuffer(g.bytes(-(-m // 8)), np.uint8))[:m]  # of 2 pods
        first = None
        for bi, tabs in enumerate(blocks):
            bits = np.take(tabs["user"], u)
            if p is not None:
                bits &= np.take(tabs["path"], p)
            if me is not None:
                bits &= np.take(tabs["method"], me)
            if bits.dtype == np.uint16:
                f = np.take(first16, bits)
            else:
                halves = bits.view(np.uint16)
                f = np.minimum(np.take(first16, halves[0::2]), np.take(first16_hi, halves[1::2]))
            if bi:
                f = f + np.int16(32 * bi)
            first = f if first is None else np.minimum(first, f, out=first)
        assert first is not None
        idx = np.minimum(first, np.int16(r)).astype(np.intp)
        idx *= 100
        idx += d
        idx <<= 1
        idx += pod
        counts += np.bincount(np.take(dest, idx), minlength=4)
    return counts


# -- the engine -------------------------------------------------------------------------------


def engine_run(sim: istiosim.Simulator, t: Traffic, n: int) -> list[int]:
    """Counts per leaf as the floor counts them: v1, v2, v3, no route."""
    res = sim.simulate(t, n, rng=1, method="vector", threads=1)
    out = [0, 0, 0, 0]
    for cell, c in res.counts().items():
        subset = cell[1]
        out[3 if subset is None else int(subset[1]) - 1] += int(c)
    return out


def cpu(fn: object) -> float:
    c = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=2e7)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rules", type=int, nargs="*", default=[1, 5, 20, 100])
    args = ap.parse_args()
    n = int(args.n)
    print(
        f"machine: {os.cpu_count()} cores (shared with other jobs; load average "
        f"{os.getloadavg()[0]:.2f}); Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"n = {n:,} requests per run, 1 thread, CPU seconds (median of {args.repeat}, engine "
        "and floor alternating)"
    )
    head = ["R", "engine s", "floor s", "engine M/s", "floor M/s", "engine/floor", "same counts"]
    print("  ".join(f"{h:>12}" for h in head))
    t = traffic()
    for r in args.rules:
        sim = simulator(r)
        got = engine_run(sim, t, 1 << 17)  # warm-up: tables built, regexes evaluated
        fl = floor_run(r, 1 << 17)
        same = got == fl.tolist()  # the same draws: the same counts, request for request
        te, tf = [], []
        for _ in range(args.repeat):
            te.append(cpu(lambda sim=sim: engine_run(sim, t, n)))
            tf.append(cpu(lambda r=r: floor_run(r, n)))
        e, f = statistics.median(te), statistics.median(tf)
        row = [r, e, f, n / e / 1e6, n / f / 1e6, f / e, "yes" if same else "NO"]
        print("  ".join(f"{x:>12.3f}" if isinstance(x, float) else f"{x!s:>12}" for x in row))
    unread_columns(t, n, args.repeat)


def unread_columns(t: Traffic, n: int, repeat: int) -> None:
    """Streaming draws only the columns the plan reads: the same run with every column drawn
    (``Program.reads`` patched to name them all) against the engine as it is, same counts."""
    from unittest import mock

    from istiosim.engine.program import Program

    canary = istiosim.load(
        str(BOOKINFO / "bookinfo-k8s.yaml"),
        str(BOOKINFO / "destination.yaml"),
        str(BOOKINFO / "canary-50-50.yaml"),
    )
    every = frozenset({"path", "method", "header:end-user"})
    print("\ncolumns no rule reads (the floor traffic; CPU s, median of", repeat, "runs):")
    head = ["workload", "all drawn s", "read only s", "speed-up", "same counts"]
    print("  ".join(f"{h:>14}" for h in head))
    for label, sim in (("50/50 canary", canary), ("R = 1", simulator(1))):
        sim.simulate(t, 1 << 17, rng=1, method="vector", threads=1)
        times: dict[bool, list[float]] = {True: [], False: []}
        counts = {}
        for _ in range(repeat):
            for every_col in (True, False):
                with mock.patch.object(
                    Program, "reads", (lambda self: every) if every_col else Program.reads
                ):
                    c = time.process_time()
                    res = sim.simulate(t, n, rng=1, method="vector", threads=1)
                    times[every_col].append(time.process_time() - c)
                counts[every_col] = res.counts()
        a, b = statistics.median(times[True]), statistics.median(times[False])
        same = "yes" if counts[True] == counts[False] else "NO"
        row = [label, a, b, a / b, same]
        print("  ".join(f"{x:>14.3f}" if isinstance(x, float) else f"{x!s:>14}" for x in row))


if __name__ == "__main__":
    main()
