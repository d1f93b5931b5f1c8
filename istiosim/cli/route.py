"""``istiosim route``: route one request and explain why (the trace, and the weighted
candidates when the rule splits traffic). What the config gets wrong goes to stderr."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .common import (
    add_request_flags,
    build_request,
    examples,
    load_simulator,
    report_problems,
    unknown_host_hint,
)

if TYPE_CHECKING:
    from ..results import Decision
    from .common import Subparsers

_B = "-f bookinfo/bookinfo-k8s.yaml -f bookinfo/destination.yaml"
EXAMPLES = [
    ("jason's request on the header canary (files from `istiosim demo --export bookinfo`)",
     f"istiosim route {_B} -f bookinfo/header-jason-v3.yaml --host reviews -H 'end-user: jason'"),
    ("pin the weighted pick: random value 49 falls in v2's [0, 50) of the 50/50 canary",
     f"istiosim route {_B} -f bookinfo/canary-50-50.yaml --host reviews --random-value 49"),
    ("the same decision as JSON",
     f"istiosim route {_B} -f bookinfo/canary-50-50.yaml --host reviews --seed 1 --format json"),
]  # fmt: skip


def register(sub: Subparsers, name: str) -> None:
    r = sub.add_parser(
        name,
        help="route one request and explain why",
        description="Route one request as the client's sidecar (or --gateway) would, and explain"
        " every step: virtual host, VirtualService, the rule that matched (file:line), the"
        " weighted pick and the pod. Problems of the config are printed on stderr.",
        epilog=examples(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_request_flags(r)
    r.add_argument(
        "--random-value",
        type=int,
        default=None,
        metavar="N",
        help="fix Envoy's draw for the weighted pick: N %% total weight picks the destination",
    )
    r.add_argument(
        "--seed", type=int, default=None, metavar="N", help="seed the random draws (repeatable run)"
    )
    r.add_argument(
        "--config-namespace",
        default="default",
        metavar="NS",
        help="namespace for objects without one (default: default)",
    )
    r.set_defaults(func=cmd_route)


def _pick_note(d: Decision, args: argparse.Namespace) -> str:
    """How the weighted pick was made and how to pin it."""
    total = sum(c.weight for c in d.candidates)
    ranges, lo = [], 0
    for c in d.candidates:
        ranges.append(f"{c.subset or c.host} [{lo}, {lo + c.weight})")
        lo += c.weight
    pins = "; ".join(ranges)
    if args.random_value is not None:
        return (
            f"The pick used --random-value {args.random_value}:"
            f" {args.random_value} % {total} = {args.random_value % total} ({pins})."
        )
    how = (
        f"seeded (--seed {args.seed})"
        if args.seed is not None
        else "random: another run may differ"
    )
    return (
        f"The weighted pick is {how}. Pin it with --random-value N (N % {total} falls in: {pins}),"
        " or make runs repeatable with --seed N."
    )


def cmd_route(args: argparse.Namespace) -> int:
    import json

    from ..errors import InvalidArgument
    from ..results import Outcome

    if args.random_value is not None and args.random_value < 0:
        raise InvalidArgument("--random-value must be a non-negative integer")
    sim = load_simulator(args, report=False, rng=args.seed)
    req = build_request(args, args.random_value)
    d = sim.route(req, trace=True)
    report_problems(sim, args.filename)  # once there is an answer (exit 2 shows only the bad input)
    if d.outcome is Outcome.PASSTHROUGH:
        print(unknown_host_hint(sim, req.host), file=sys.stderr)
    if args.format == "json":
        print(json.dumps(d.to_dict(), indent=2))
    else:
        print(d.explain())
        if len(d.candidates) > 1:
            from ..display import table

            print()
            print(
                table(
                    ["destination", "weight", "probability", "status"],
                    [
                        (c.cluster, c.weight, f"{float(c.probability):.4%}", _status(c.status))
                        for c in d.candidates
                    ],
                )
            )
            print(_pick_note(d, args))
    return 0


def _status(status: str) -> str:
    """A candidate's status as the outcome it gives: ``OK 200``, ``NC 503``, ``UH 503``."""
    return "OK 200" if status == "OK" else f"{status} 503" if status in ("NC", "UH") else status
