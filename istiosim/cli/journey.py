"""``istiosim journey``: whole page views through the application's call graph.

One page view (``-n 1``, the default) prints its call tree: each hop's workload, status, start
and duration, the VirtualService rule that routed it, faults (DI delay, FI abort), timeouts (UT)
and the application's own give-ups; ``-n N`` or ``--mode exact`` prints the page views by
outcome with the share of each "what the user sees" and latency p50/p90/p99. The application
model is a YAML file (``--app app.yaml``) or ``--app bookinfo``, the bundled Bookinfo model::

    workloads:
      productpage:
        latency: 5ms
        propagate: [end-user, x-request-id]
        calls:
        - {host: reviews, path: /reviews/0, timeout: 3s, attempts: 2}
      reviews:
        calls:
        - {host: ratings, versions: [v2], timeout: 10s}
    sees:
    - {label: reviews unavailable, when: [{call: reviews, failed: true}]}
    - {label: ok}

``--format json`` prints ``{"n", "outcomes": [{sees, status, hops: [{workload, status}], share,
latency_ms: {p50, p90, p99}}], "tree"}`` (``tree`` with ``-n 1``); exit 0 whenever it could
answer, 2 on bad input.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .common import build_request, examples, load_simulator, report_problems

if TYPE_CHECKING:
    from ..request import Request
    from ..traffic import Traffic
    from .common import Subparsers

_F = "-f bookinfo/bookinfo-k8s.yaml -f bookinfo/destination.yaml -f bookinfo/virtual-service.yaml"
EXAMPLES = [
    ("one page view of the bundled Bookinfo, traced (files from `istiosim demo --export bookinfo`)",
     f"istiosim journey {_F} --app bookinfo --entry productpage --path /productpage"
     " -H 'end-user: jason' --seed 1"),
    ("the exact distribution of what readers see with the 50/50 canary",
     "istiosim journey -f bookinfo/bookinfo-k8s.yaml -f bookinfo/destination.yaml"
     " -f bookinfo/canary-50-50.yaml --app bookinfo --entry productpage --mode exact"),
]  # fmt: skip


def _count(text: str) -> int:
    try:
        v = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of page views: {text!r}") from None
    if not v.is_integer() or v < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return int(v)


def register(sub: Subparsers, name: str) -> None:
    p = sub.add_parser(
        name,
        help="whole page views through the call graph (timeouts, retries, faults as time)",
        description="Simulate page views: the entry request and every call the application"
        " model makes, each routed as Istio routes it, with propagated headers, timeouts,"
        " retries and faults acting on simulated time. Prints one page view's call tree, or"
        " the page views by outcome.",
        epilog=examples(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="PATH",
        help="YAML file, folder or - (stdin); repeatable, later objects replace earlier",
    )
    p.add_argument(
        "--app", required=True, metavar="APP.yaml", help="the application model, or 'bookinfo'"
    )
    p.add_argument(
        "--entry",
        default=None,
        metavar="HOST",
        help="the service the user calls (default: the model's entry)",
    )
    p.add_argument("--path", default=None, help="the entry path (default: the model's)")
    p.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a header of the user's request; repeatable",
    )
    p.add_argument("--method", default="GET", help="HTTP method (default: GET)")
    p.add_argument(
        "--gateway",
        default=None,
        metavar="NS/NAME",
        help="the entry request arrives through this ingress gateway (default: from a sidecar)",
    )
    p.add_argument("-n", type=_count, default=1, metavar="N", help="page views (default 1)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed")
    p.add_argument(
        "--mode",
        choices=("sample", "exact"),
        default="sample",
        help="sample (default) or exact: every branch with its probability",
    )
    p.add_argument(
        "--traffic", default=None, metavar="TRAFFIC.yaml", help="entry requests from a model"
    )
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="text or json (default text)"
    )
    p.set_defaults(
        func=cmd_journey,
        authority=None,
        scheme="http",
        port=None,
        source_label=[],
        source_workload=None,
        config_namespace="default",
    )


def cmd_journey(args: argparse.Namespace) -> int:
    import json

    from ..errors import InvalidArgument
    from ..journey import journey, journeys, read_application
    from ..traffic import read_traffic

    app = read_application(args.app)
    if args.traffic is not None and (args.entry or args.header):
        raise InvalidArgument("give either --entry (and -H) or --traffic, not both")
    args.namespace = app.namespace
    entry: Request | Traffic
    if args.traffic is not None:
        entry = read_traffic(args.traffic)
    else:
        args.host = args.entry or app.entry_host
        if args.host is None:
            raise InvalidArgument("--entry is required (the model names no entry)")
        if args.path is None:
            args.path = app.entry_path if args.host == app.entry_host else "/"
        entry = build_request(args)
    sim = load_simulator(args, report=False)
    if args.n == 1 and args.mode == "sample":
        res = journey(sim, app, entry, rng=args.seed)
    else:
        res = journeys(sim, app, entry, args.n, rng=args.seed, mode=args.mode)
    report_problems(sim, args.filename)
    if args.format == "json":
        print(json.dumps(res.to_dict(), indent=2))
    else:
        print(res)
    return 0
