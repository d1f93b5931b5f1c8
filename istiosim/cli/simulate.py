"""``istiosim simulate``: route many requests and print counts per destination and outcome.

The request comes from the same flags as ``route`` (``--host``, ``-H``, ``--path``...) or from
a traffic file (``--traffic``)::

    classes:
      - name: jason
        weight: 1
        request: {host: reviews, headers: {end-user: jason}}
      - name: others
        weight: 9
        request: {host: reviews}
        users: {header: end-user, n_users: 10000}
      - request: {host: ratings}
        vary: {path: [/ratings/1, /ratings/2], method: {GET: 0.9, POST: 0.1}}

``--format json`` prints ``{"n", "rows": [{host, subset, workload, outcome, status, count}],
...}``; exit 0 whenever it could answer, 2 on bad input.
"""

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
    from ..request import Request
    from ..simulator import Simulator
    from ..traffic import Traffic
    from .common import Subparsers


def _count(text: str) -> int | float:
    """``-n``: a number of requests, ``1_000_000`` or ``1e6``; whether it is a whole number is
    checked by ``Simulator.simulate``, so the CLI and Python accept the same values (same words)."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        pass
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of requests: {text!r}") from None


EXAMPLES = [
    ("a million requests to the 50/50 canary, seeded (files from `istiosim demo --export bookinfo`)",
     "istiosim simulate -f bookinfo/bookinfo-k8s.yaml -f bookinfo/destination.yaml"
     " -f bookinfo/canary-50-50.yaml --host reviews -n 1e6 --seed 1"),
    ("the exact shares, no sampling",
     "istiosim simulate -f bookinfo/bookinfo-k8s.yaml -f bookinfo/destination.yaml"
     " -f bookinfo/canary-50-50.yaml --host reviews --mode exact"),
    ("jason and 10,000 other readers on the header canary, counts per class",
     "istiosim simulate -f bookinfo/bookinfo-k8s.yaml -f bookinfo/destination.yaml"
     " -f bookinfo/header-jason-v3.yaml --traffic bookinfo/traffic.yaml -n 1e6 --seed 1"),
]  # fmt: skip


def register(sub: Subparsers, name: str) -> None:
    p = sub.add_parser(
        name,
        help="route many requests; counts by destination and outcome",
        description="Route many requests (one request from the flags, or a --traffic model) and"
        " print counts per host, subset, workload and outcome. Problems of the config are"
        " printed on stderr.",
        epilog=examples(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_request_flags(p)
    for action in p._actions:
        if action.dest == "host":
            action.required = False
            action.help = "the host the client calls (or give --traffic)"
    p.add_argument(
        "-n",
        type=_count,
        default=100_000,
        metavar="N",
        help="number of requests: 1000000, 1_000_000 or 1e6 (default 100000)",
    )
    p.add_argument(
        "--seed", type=int, default=None, metavar="N", help="seed (same seed, same counts)"
    )
    p.add_argument(
        "--mode",
        choices=("sample", "exact", "stratified"),
        default="sample",
        help="sample: seeded Monte Carlo (default); exact: analytic probabilities;"
        " stratified: deterministic counts, each within 1 of n × p",
    )
    p.add_argument(
        "--sampler",
        choices=("auto", "counts", "vector"),
        default="auto",
        help="sample by one multinomial per request class (counts) or request by request (vector)",
    )
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    p.add_argument(
        "--traffic",
        default=None,
        metavar="TRAFFIC.yaml",
        help="a traffic model file (request classes with weights), instead of --host",
    )
    p.add_argument(
        "--sessions",
        type=int,
        default=None,
        metavar="K",
        help="user sessions instead: N/K users each send their one request K times; per user"
        " the subsets and pods reached (what consistentHash keeps sticky), sampled and exact",
    )
    p.add_argument(
        "--config-namespace",
        default="default",
        metavar="NS",
        help="namespace for objects without one (default: default)",
    )
    p.set_defaults(func=cmd_simulate)


def read_traffic(path: str) -> Traffic:
    """The traffic model of a ``--traffic`` file (errors at file:line:col with a code)."""
    from ..traffic import read_traffic as _read

    return _read(path)


def cmd_simulate(args: argparse.Namespace) -> int:
    import json

    from ..errors import InvalidArgument

    if args.traffic is not None and args.host is not None:
        raise InvalidArgument("give either --host (and request flags) or --traffic, not both")
    if args.traffic is None and args.host is None:
        raise InvalidArgument("--host or --traffic is required")
    from ..simulate import keep_freed_memory

    traffic = read_traffic(args.traffic) if args.traffic else build_request(args)
    sim = load_simulator(args, report=False)
    if args.sessions is not None:
        return _sessions(sim, traffic, args)
    keep_freed_memory()  # this process is ours: reuse freed chunk buffers (simulate.py)
    res = sim.simulate(
        traffic,
        args.n,
        rng=args.seed,
        mode=args.mode,
        method=args.sampler,
        threads=args.threads,
    )
    report_problems(sim, args.filename)  # once there is an answer (exit 2 shows only the bad input)
    passthrough = sorted(
        {str(h) for h, outcome in res.counts(by=("host", "outcome")) if outcome == "PASSTHROUGH"}
    )
    for host in passthrough:
        print(unknown_host_hint(sim, host), file=sys.stderr)
    if args.format == "json":
        print(json.dumps(res.to_dict(), indent=2))
    else:
        print(res)
        if len(res.classes) > 1:
            for name, part in res.by_class().items():
                print(f"\nclass {name}:")
                print(part)
    return 0


def _sessions(sim: Simulator, traffic: Traffic | Request, args: argparse.Namespace) -> int:
    """``--sessions K``: ``Simulator.sessions`` with N/K users of K requests each."""
    import json

    from ..errors import InvalidArgument

    k = args.sessions
    if k < 1:
        raise InvalidArgument(f"--sessions must be a positive number of requests, got {k}")
    if args.mode != "sample" or args.sampler != "auto":
        raise InvalidArgument(
            "--sessions samples users (its exact shares come with it): drop --mode and --sampler"
        )
    if isinstance(args.n, float):
        if not args.n.is_integer():
            raise InvalidArgument(f"-n must be a whole number, got {args.n}")
        args.n = int(args.n)
    users = args.n // k
    if users < 1:
        raise InvalidArgument(f"-n {args.n} is fewer than one session of --sessions {k} requests")
    res = sim.sessions(traffic, users=users, requests_per_user=k, rng=args.seed)
    report_problems(sim, args.filename)
    if args.format == "json":
        print(json.dumps(res.to_dict(), indent=2))
    else:
        print(res)
        print()
        print(res.per_user())
    return 0
