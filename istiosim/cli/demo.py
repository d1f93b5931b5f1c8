"""``istiosim demo``: the Bookinfo walkthrough on the bundled configs (all to v1, blue-green,
canary, header canary), each step routed and, from the canary on, simulated; then the tools a
team runs on such configs (``check``, ``test`` with route coverage, ``verify``), each printed as
a command the reader can rerun. ``--export DIR`` first writes the bundled files to DIR, and the
walkthrough then runs on (and its commands point at) those copies."""

from __future__ import annotations

import argparse
import contextlib
import shlex
from typing import TYPE_CHECKING

from .common import examples

if TYPE_CHECKING:
    from fractions import Fraction

    from ..results import Decision
    from ..simulator import Simulator
    from .common import Subparsers

_STARS = {"v1": "no stars", "v2": "black stars", "v3": "red stars"}
_STEPS = [
    ("All traffic to v1", "virtual-service.yaml"),
    ("Blue-green: reviews switches to v2", "blue-green-v2.yaml"),
    ("Canary: reviews v2 50% / v3 50%", "canary-50-50.yaml"),
    ("Header canary: end-user jason to v3, everyone else to v2", "header-jason-v3.yaml"),
]
#: the bundled files, in the order ``--export`` lists them
FILES = (
    "bookinfo-k8s.yaml",
    "destination.yaml",
    "virtual-service.yaml",
    "blue-green-v2.yaml",
    "canary-50-50.yaml",
    "header-jason-v3.yaml",
    "reviews.cases.yaml",
    "reviews-counts.yaml",
    "traffic.yaml",
    "rollout-argo.yaml",
    "rollout-traffic.yaml",
)
EXAMPLES = [
    ("the walkthrough on the bundled configs", "istiosim demo"),
    ("write the bundled configs to ./bookinfo, then walk through them there",
     "istiosim demo --export bookinfo"),
    ("the simulations with another seed", "istiosim demo --seed 7"),
]  # fmt: skip


def register(sub: Subparsers, name: str) -> None:
    d = sub.add_parser(
        name,
        help="the Bookinfo walkthrough on bundled configs",
        description="Walk through Istio's Bookinfo traffic shifting (v1, blue-green, a 50/50"
        " canary, a header canary) on bundled configs, then check, test and verify them with"
        " the commands printed so you can rerun them.",
        epilog=examples(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument(
        "--seed", type=int, default=1, metavar="N", help="seed of the random draws (default 1)"
    )
    d.add_argument(
        "--export",
        default=None,
        metavar="DIR",
        help="write the bundled configs, cases, counts and traffic files to DIR (created if"
        " needed; existing files are replaced) and run the walkthrough on them",
    )
    d.set_defaults(func=cmd_demo)


def _shares(d: Decision) -> dict[str, Fraction]:
    from fractions import Fraction

    out: dict[str, Fraction] = {}
    for c in d.candidates:
        out[c.subset or "(all)"] = out.get(c.subset or "(all)", Fraction(0)) + c.probability
    return out


def export(directory: str) -> list[str]:
    """Write the bundled files to ``directory``; their paths, as they will be printed."""
    import os
    from importlib import resources

    data = resources.files("istiosim") / "data" / "bookinfo"
    os.makedirs(directory, exist_ok=True)
    out = []
    for name in FILES:
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write((data / name).read_text(encoding="utf-8"))
        out.append(path)
    return out


def cmd_demo(args: argparse.Namespace) -> int:
    import os
    from importlib import resources

    from ..request import Request
    from ..simulate import keep_freed_memory
    from ..simulator import load

    keep_freed_memory()  # this process is ours: reuse freed chunk buffers (simulate.py)

    if args.export is not None:
        export(args.export)
        where = args.export
    else:
        where = str(resources.files("istiosim") / "data" / "bookinfo")

    def f(name: str) -> str:
        return os.path.join(where, name)

    base = [f("bookinfo-k8s.yaml"), f("destination.yaml"), f("virtual-service.yaml")]
    readers = [("a reader", {}), ("jason", {"end-user": "jason"})]
    print(
        "istiosim demo: Istio's Bookinfo, productpage -> reviews (v1: no stars, v2: black, v3: red)"
    )
    if args.export is not None:
        print(f"Wrote {len(FILES)} files to {where}: {', '.join(FILES)}\n")
    else:
        print(f"Configs: {where}  (`istiosim demo --export DIR` copies them to DIR)\n")
    sim: Simulator | None = None
    for i, (title, fname) in enumerate(_STEPS, 1):
        files = base if fname == "virtual-service.yaml" else [*base, f(fname)]
        sim = load(*files, rng=args.seed)
        print(f"Step {i}. {title}   (kubectl apply -f {fname})")
        for who, headers in readers:
            d = sim.route(Request("reviews", "/reviews/0", headers=headers, port=9080))
            shares = _shares(d)
            seen = ", ".join(f"{_STARS.get(s, s)} ({s}) {float(p):.0%}" for s, p in shares.items())
            rule = f"rule {d.rule}" if d.rule is not None else "default route"
            print(f"  {who:<9} sees {seen}   [{d.virtual_service} {rule}]")
        if i == 3:
            d = sim.route(Request("reviews", "/reviews/0", port=9080), trace=True)
            print(f"  why: {_split_explained(d)}")
        if i >= 3:
            _demo_simulation(sim, args.seed)
        print()
    configs = [*base, f("header-jason-v3.yaml")]
    flags = [a for p in configs for a in ("-f", p)]
    canary = [a for p in (*base, f("canary-50-50.yaml")) for a in ("-f", p)]
    print("The tools on these files (step 4's configs; rerun any of these commands):\n")
    _run("Validate them with Istio's analyzer codes:", ["check", *flags])
    _run(
        "Run route cases and measure route coverage (rules, match blocks, weights reached):",
        ["test", f("reviews.cases.yaml"), *flags, "--fail-under", "100"],
    )
    _run(
        "Check counts observed in a cluster during the 50/50 canary against its weights:",
        ["verify", *canary, "--host", "reviews", "--observed", f("reviews-counts.yaml")],
    )
    print("Next:")
    print(f"  istiosim route {shlex.join(flags)} --host reviews -H 'end-user: jason'")
    print(
        f"  istiosim simulate {shlex.join(flags)} --traffic {shlex.quote(f('traffic.yaml'))}"
        f" -n 1e6 --seed {args.seed}"
    )
    return 0


def _split_explained(d: Decision) -> str:
    """The weighted split of a decision: every candidate, its weight, its probability, and how
    Envoy picks among them (one draw per request), rather than one request's draw."""
    total = sum(c.weight for c in d.candidates)
    parts, lo = [], 0
    for c in d.candidates:
        parts.append(
            f"{c.subset} with weight {c.weight}/{total} = {float(c.probability):.0%}"
            f" (draws {lo}..{lo + c.weight - 1})"
        )
        lo += c.weight
    return (
        f"rule {d.rule} of {d.virtual_service} matches every request and splits it: "
        + ", ".join(parts)
        + f"; each request draws a random number r and goes where r % {total} falls"
    )


def _run(title: str, argv: list[str]) -> None:
    """Print ``title`` and the command, run it in this process, indent its output."""
    import io
    import sys

    from . import main

    print(title)
    print(f"$ istiosim {shlex.join(argv)}")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = out.getvalue() + err.getvalue()
    sys.stdout.write("".join(f"  {line}\n" if line else "\n" for line in text.splitlines()))
    print(f"  [exit {code}]\n")


def _demo_simulation(sim: Simulator, seed: int | None) -> None:
    """One million page views from 10,000 readers, 10% of the traffic from jason."""
    from ..request import Request
    from ..traffic import Traffic

    users = Traffic.users(
        Request("reviews", "/reviews/0", port=9080),
        header="end-user",
        n_users=10_000,
        named={"jason": 0.1},
    )
    res = sim.simulate(users, n=1_000_000, rng=seed)
    counts = res.subset_counts()
    total = sum(counts.values())
    parts = ", ".join(f"{s} {c / total:.2%}" for s, c in sorted(counts.items()))
    print(f"  simulated 1,000,000 page views (10,000 readers, jason 10%): {parts}")
