"""``istiosim test``: run route cases (Envoy's route table check format, for Istio) and report
route coverage.

Exit codes as everywhere: 0 all good, 1 a case failed or coverage is below ``--fail-under``,
2 bad input (``file:line:col: error[CODE] message``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .common import load_simulator

if TYPE_CHECKING:
    import argparse

    from .common import Subparsers


def register(sub: Subparsers, name: str) -> None:
    t = sub.add_parser(
        name,
        help="run route cases (Envoy route check format, for Istio) and report coverage",
        description="Run route cases against configs; exit 1 on a failed case or low coverage.",
    )
    t.add_argument("cases", metavar="CASES.yaml", help="case file (YAML or JSON), or -")
    t.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="PATH",
        help="YAML file, folder or -; repeatable, later objects replace earlier",
    )
    t.add_argument(
        "--fail-under",
        type=float,
        default=None,
        metavar="PCT",
        help="exit 1 when route coverage is below PCT percent",
    )
    t.add_argument(
        "--details", action="store_true", help="list the rules, blocks and weights no case reached"
    )
    t.add_argument("--seed", type=int, default=0, help="draws for pod picks and fault percentages")
    t.add_argument("--format", choices=("text", "json"), default="text")
    t.add_argument("--config-namespace", default="default")
    t.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    import json

    from ..errors import InvalidArgument
    from ..testing import load_cases, run_cases

    pct = args.fail_under
    if pct is not None and not (math.isfinite(pct) and 0 <= pct <= 100):
        raise InvalidArgument(f"--fail-under must be a percentage in 0..100, got {pct:g}")
    if args.seed < 0:
        raise InvalidArgument("--seed must be a non-negative integer")
    cases = load_cases(args.cases)
    sim = load_simulator(args)
    report = run_cases(sim, cases, seed=args.seed)
    below = pct is not None and report.coverage.fail_under(pct)
    if args.format == "json":
        out = report.to_dict()
        out["fail_under"] = pct
        out["coverage_ok"] = not below
        out["ok"] = report.passed and not below
        print(json.dumps(out, indent=2))
    else:
        for r in report.results:
            print(r)
        print(report.summary())
        print(report.coverage.details() if args.details else report.coverage.summary())
        if below:
            print(
                f"coverage {report.coverage.percent:.1f}% is below --fail-under {pct:g}%"
                + ("" if args.details else " (--details lists what no case reached)")
            )
    return 0 if report.passed and not below else 1
