"""``istiosim demo``: the Bookinfo walkthrough on the bundled configs (all to v1, blue-green,
canary, header canary), each step routed and, from the canary on, simulated."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
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


def register(sub: Subparsers, name: str) -> None:
    d = sub.add_parser(name, help="the Bookinfo walkthrough on bundled configs")
    d.add_argument("--seed", type=int, default=1, help="seed of the random draws (default 1)")
    d.set_defaults(func=cmd_demo)


def _shares(d: Decision) -> dict[str, Fraction]:
    from fractions import Fraction

    out: dict[str, Fraction] = {}
    for c in d.candidates:
        out[c.subset or "(all)"] = out.get(c.subset or "(all)", Fraction(0)) + c.probability
    return out


def cmd_demo(args: argparse.Namespace) -> int:
    from importlib import resources

    from ..request import Request
    from ..simulate import keep_freed_memory
    from ..simulator import load

    keep_freed_memory()  # this process is ours: reuse freed chunk buffers (simulate.py)

    data = resources.files("istiosim") / "data" / "bookinfo"
    base = [
        str(data / "bookinfo-k8s.yaml"),
        str(data / "destination.yaml"),
        str(data / "virtual-service.yaml"),
    ]
    readers = [("a reader", {}), ("jason", {"end-user": "jason"})]
    print(
        "istiosim demo: Istio's Bookinfo, productpage -> reviews (v1: no stars, v2: black, v3: red)\n"
    )
    for i, (title, fname) in enumerate(_STEPS, 1):
        files = base if fname == "virtual-service.yaml" else [*base, str(data / fname)]
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
            print(
                "  why:",
                "; ".join(s.message for s in (d.trace or ()) if s.kind in ("match", "weight")),
            )
        if i >= 3:
            _demo_simulation(sim, args.seed)
        print()
    print("Try:  istiosim route -f <configs> --host reviews -H 'end-user: jason'")
    print("      istiosim simulate -f <configs> --host reviews -n 1000000 --seed 1")
    return 0


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
