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
from typing import TYPE_CHECKING

from .common import add_request_flags, build_request, load_simulator

if TYPE_CHECKING:
    from ..traffic import Traffic
    from .common import Subparsers


def _count(text: str) -> int:
    """``-n``: an integer, also written ``1e9`` or ``1_000_000``."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of requests: {text!r}") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"not a whole number of requests: {text!r}")
    return int(value)


def register(sub: Subparsers, name: str) -> None:
    p = sub.add_parser(name, help="route many requests; counts by destination and outcome")
    add_request_flags(p)
    for action in p._actions:
        if action.dest == "host":
            action.required = False
    p.add_argument("-n", type=_count, default=100_000, help="number of requests (default 100000)")
    p.add_argument("--seed", type=int, default=None, help="seed (same seed, same counts)")
    p.add_argument("--mode", choices=("sample", "exact", "stratified"), default="sample")
    p.add_argument(
        "--sampler",
        choices=("auto", "counts", "vector"),
        default="auto",
        help="sample by one multinomial per request class (counts) or request by request (vector)",
    )
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    p.add_argument("--traffic", default=None, metavar="TRAFFIC.yaml", help="a traffic model file")
    p.add_argument(
        "--config-namespace", default="default", help="namespace for objects without one"
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
    sim = load_simulator(args)
    keep_freed_memory()  # this process is ours: reuse freed chunk buffers (simulate.py)
    res = sim.simulate(
        traffic,
        args.n,
        rng=args.seed,
        mode=args.mode,
        method=args.sampler,
        threads=args.threads,
    )
    if args.format == "json":
        print(json.dumps(res.to_dict(), indent=2))
    else:
        print(res)
        if len(res.classes) > 1:
            for name, part in res.by_class().items():
                print(f"\nclass {name}:")
                print(part)
    return 0
