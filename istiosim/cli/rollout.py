"""``istiosim rollout``: the VirtualServices a Flagger Canary or Argo Rollout writes, step by
step, the canary's share of the traffic at each step, and whether the step sees enough requests
to verify its split (exit 0; 1 when a step has an error; 2 on bad input)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from .common import Subparsers


def register(sub: Subparsers, name: str) -> None:
    r = sub.add_parser(
        name, help="step through a Flagger Canary / Argo Rollout plan (weights, shares, samples)"
    )
    r.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="PATH",
        help="YAML file, folder or - (stdin): the Canary/Rollout and the configs it acts on",
    )
    r.add_argument("--traffic", default=None, metavar="TRAFFIC.yaml", help="a traffic model file")
    r.add_argument(
        "--rate", default=None, help="requests per second of the traffic: 200, 200/s, 12000/m"
    )
    r.add_argument("--alpha", type=float, default=0.05, help="error rate of the split check")
    r.add_argument(
        "--tolerance", type=float, default=0.01, help="largest share error the check accepts"
    )
    r.add_argument("--name", default=None, help="which Canary/Rollout, when several are loaded")
    r.add_argument("--format", choices=("text", "json"), default="text")
    r.add_argument(
        "--config-namespace", default="default", help="namespace for objects without one"
    )
    r.set_defaults(func=cmd_rollout)


def cmd_rollout(args: argparse.Namespace) -> int:
    from ..analysis.rollout import rollout
    from .common import load_simulator
    from .simulate import read_traffic

    sim = load_simulator(args)
    traffic = read_traffic(args.traffic) if args.traffic else None
    plan = rollout(
        sim, traffic, rate=args.rate, alpha=args.alpha, tolerance=args.tolerance, name=args.name
    )
    print(plan.to_json() if args.format == "json" else str(plan))
    return 0 if plan.ok else 1
