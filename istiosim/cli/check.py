"""``istiosim check``: validate configs with Istio's codes and report the diagnostics
(exit 1 when there is an error)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from .common import Subparsers


def register(sub: Subparsers, name: str) -> None:
    c = sub.add_parser(name, help="validate configs (Istio's codes) and report diagnostics")
    c.add_argument("-f", "--filename", action="append", required=True, metavar="PATH")
    c.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text; json; github: the text plus GitHub Actions annotations at file:line",
    )
    c.add_argument(
        "--all", action="store_true", help="also list info about ignored kinds and replaced objects"
    )
    c.add_argument("--config-namespace", default="default")
    c.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    import json

    from ..analysis import analyze
    from ..compiler import compile_plan
    from ..errors import ConfigError, Severity
    from ..loader import load_config

    try:
        config = load_config(*args.filename, namespace=args.config_namespace, partial=True)
        plan = compile_plan(config)
    except ConfigError as exc:
        if args.format == "github":  # exit 2 as usual, and the problems as annotations
            from ..testing.cases.ci import diagnostic_annotation

            for d in exc.diagnostics:
                print(diagnostic_annotation(d))
        raise
    diags = [d for d in analyze(config, plan) if args.all or d.code not in ("ISM0100", "ISM0102")]
    if args.format == "json":
        print(json.dumps({"diagnostics": [d.to_dict() for d in diags]}, indent=2))
    else:
        for d in diags:
            print(d)
        n_err = sum(d.severity is Severity.ERROR for d in diags)
        n_warn = sum(d.severity is Severity.WARNING for d in diags)
        print(
            f"{len(config.virtual_services)} VirtualService(s), {len(config.destination_rules)} "
            f"DestinationRule(s), {len(plan.services)} service(s): {n_err} error(s), {n_warn} warning(s)"
        )
        if args.format == "github":
            from ..testing.cases.ci import diagnostic_annotation

            for d in diags:
                print(diagnostic_annotation(d))
    return 1 if any(d.severity is Severity.ERROR for d in diags) else 0
