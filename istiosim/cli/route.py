"""``istiosim route``: route one request and explain why (the trace, and the weighted
candidates when the rule splits traffic)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import add_request_flags, build_request, load_simulator

if TYPE_CHECKING:
    import argparse

    from .common import Subparsers


def register(sub: Subparsers, name: str) -> None:
    r = sub.add_parser(name, help="route one request and explain why")
    add_request_flags(r)
    r.add_argument("--random-value", type=int, default=None, help="fix the weighted pick's draw")
    r.add_argument("--seed", type=int, default=None)
    r.add_argument(
        "--config-namespace", default="default", help="namespace for objects without one"
    )
    r.set_defaults(func=cmd_route)


def cmd_route(args: argparse.Namespace) -> int:
    import json

    from ..errors import InvalidArgument

    if args.random_value is not None and args.random_value < 0:
        raise InvalidArgument("--random-value must be a non-negative integer")
    sim = load_simulator(args, rng=args.seed)
    req = build_request(args, args.random_value)
    d = sim.route(req, trace=True)
    if args.format == "json":
        print(json.dumps(d.to_dict(), indent=2))
    else:
        print(d.explain())
        if len(d.candidates) > 1:
            from ..display import table

            print()
            print(
                table(
                    ["destination", "weight", "probability"],
                    [(c.cluster, c.weight, f"{float(c.probability):.4%}") for c in d.candidates],
                )
            )
    return 0
