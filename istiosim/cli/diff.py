"""``istiosim diff``: what a change does, per request class (exit 0 no routing change, 1
change, 2 bad input; ``--fail-on move`` counts only requests that land elsewhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from .common import Subparsers


def register(sub: Subparsers, name: str) -> None:
    c = sub.add_parser(
        name,
        help="what changes from one config to another, per request class (exit 1: something does)",
        description=(
            "Compare two configs: for each request class (derived from both configs' match "
            "conditions, or from --traffic) the exact distribution over destination, subset, "
            "outcome and status before and after, and what moved. Exit 0 when no routing "
            "changes, 1 when routing changes, 2 on bad input. A routing change is any change "
            "of the route a request gets, as Envoy's route configuration changes: where it "
            "lands (destination, subset, weight, status) or what is done to it on the way "
            "(header operations, rewrites, fault delays, timeouts, retries, mirrors, "
            "redirects); with --fail-on move, only requests that land elsewhere count. "
            "An undecided (regex) region that may route differently counts as a change."
        ),
    )
    c.add_argument(
        "-f",
        "--filename",
        action="append",
        default=[],
        metavar="PATH",
        help="YAML both sides share (the mesh, DestinationRules); repeatable",
    )
    c.add_argument(
        "--before",
        action="append",
        required=True,
        metavar="PATH",
        help="the config before the change: file, folder or -; repeatable (on top of -f)",
    )
    c.add_argument(
        "--after",
        action="append",
        required=True,
        metavar="PATH",
        help="the config after the change: file, folder or -; repeatable (on top of -f)",
    )
    c.add_argument("--traffic", default=None, metavar="TRAFFIC.yaml", help="a traffic model file")
    c.add_argument("--config-namespace", default="default")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument(
        "--fail-on",
        choices=("change", "move"),
        default="change",
        help="exit 1 on any routing change (default: destinations, weights, headers, rewrites, "
        "delays, timeouts, retries, mirrors) or only when requests move (land elsewhere)",
    )
    c.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    from ..analysis.diff import diff
    from ..simulator import load

    ns = args.config_namespace
    before = load(*args.filename, *args.before, namespace=ns)
    after = load(*args.filename, *args.after, namespace=ns)
    traffic = None
    if args.traffic is not None:
        from .simulate import read_traffic

        traffic = read_traffic(args.traffic)
    d = diff(before, after, traffic=traffic)
    print(d.to_json() if args.format == "json" else d.text())
    return d.exit_code(args.fail_on)
