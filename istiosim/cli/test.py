"""``istiosim test``: run route cases (Envoy's route table check format, for Istio; also Envoy
router_check_tool tests and istio-config-validator testCases as they are) and report route
coverage, as text, JSON or text with GitHub annotations, optionally with a JUnit XML file.

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
    t.add_argument(
        "cases",
        metavar="CASES.yaml",
        nargs="+",
        help="case files (YAML or JSON, several documents each), or -: istiosim's format,"
        " Envoy router_check_tool tests or istio-config-validator testCases",
    )
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
    t.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text; json; github: the text plus GitHub Actions annotations at file:line",
    )
    t.add_argument(
        "--junit",
        metavar="FILE",
        default=None,
        help="also write a JUnit XML report to FILE (GitLab, Jenkins, GitHub test reporters)",
    )
    t.add_argument(
        "--case-format",
        choices=("auto", "istiosim", "envoy", "istio-config-validator"),
        default="auto",
        help="the format of the case files (default: detected per YAML document)",
    )
    t.add_argument("--config-namespace", default="default")
    t.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    import json

    from ..errors import ConfigError, Diagnostic, InvalidArgument
    from ..testing import RouteCase, load_cases, run_cases
    from ..testing.cases.ci import (
        diagnostic_annotation,
        github_annotations,
        junit_error_xml,
        write_junit,
    )

    pct = args.fail_under
    if pct is not None and not (math.isfinite(pct) and 0 <= pct <= 100):
        raise InvalidArgument(f"--fail-under must be a percentage in 0..100, got {pct:g}")
    if args.seed < 0:
        raise InvalidArgument("--seed must be a non-negative integer")
    cases: list[RouteCase] = []
    problems: list[Diagnostic] = []
    for path in args.cases:
        try:
            cases.extend(load_cases(path, format=args.case_format))
        except ConfigError as exc:
            problems.extend(exc.diagnostics)
    try:
        if problems:
            raise ConfigError(problems)
        sim = load_simulator(args)
    except ConfigError as exc:
        if args.format == "github":  # exit 2 as usual, and the problems as annotations
            for d in exc.diagnostics:
                print(diagnostic_annotation(d))
        if args.junit:  # and a report that says why nothing ran
            write_junit(args.junit, junit_error_xml(exc.diagnostics))
        raise
    report = run_cases(sim, cases, seed=args.seed)
    below = pct is not None and report.coverage.fail_under(pct)
    if args.junit:
        write_junit(args.junit, report)
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
        if below and report.coverage.empty:
            print(f"no VirtualService rule was loaded: --fail-under {pct:g}% cannot be met")
        elif below:
            print(
                f"coverage {report.coverage.percent:.1f}% is below --fail-under {pct:g}%"
                + ("" if args.details else " (--details lists what no case reached)")
            )
        if args.format == "github":
            for line in github_annotations(report, fail_under=pct):
                print(line)
    return 0 if report.passed and not below else 1
