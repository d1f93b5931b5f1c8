"""The ``istiosim`` command line (argparse): the table of subcommands and ``main``.

Exit codes: 0 answered (a 404 NR or 503 UH is an answer), 1 findings or failed cases, 2 bad input
(one ``file:line:col: error[CODE] message`` line per problem on stderr, never a traceback).

Each subcommand is one module with ``register(subparsers, name)``; :data:`COMMANDS` lists them
in the order ``istiosim --help`` shows. They import their heavy dependencies (numpy, pydantic,
the loader) inside the function that runs the command, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import check, demo, diff, journey, rollout, route, simulate, test, verify
from .common import print_error

if TYPE_CHECKING:
    from .common import Subparsers

__all__ = ["COMMANDS", "build_parser", "main"]

#: name -> register(subparsers, name), in the order of ``istiosim --help``
COMMANDS: dict[str, Callable[[Subparsers, str], None]] = {
    "demo": demo.register,
    "route": route.register,
    "check": check.register,
    "simulate": simulate.register,
    "test": test.register,
    "verify": verify.register,
    "diff": diff.register,
    "rollout": rollout.register,
    "journey": journey.register,
}


_B = "-f bookinfo/bookinfo-k8s.yaml -f bookinfo/destination.yaml"
#: ``--help`` examples of subcommands whose module states none (run as written in a folder
#: where ``istiosim demo --export bookinfo`` wrote the bundled files; tests/test_readme.py does)
EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "check": [
        ("the bundled Bookinfo with its header canary (files from `istiosim demo --export bookinfo`)",
         f"istiosim check {_B} -f bookinfo/header-jason-v3.yaml"),
        ("the same as JSON, also listing ignored kinds and replaced objects",
         f"istiosim check {_B} -f bookinfo/header-jason-v3.yaml --all --format json"),
    ],
    "test": [
        ("route cases with route coverage (files from `istiosim demo --export bookinfo`)",
         f"istiosim test bookinfo/reviews.cases.yaml {_B} -f bookinfo/virtual-service.yaml"
         " -f bookinfo/header-jason-v3.yaml"),
        ("fail under full coverage, listing what no case reached",
         f"istiosim test bookinfo/reviews.cases.yaml {_B} -f bookinfo/virtual-service.yaml"
         " -f bookinfo/header-jason-v3.yaml --fail-under 100 --details"),
    ],
    "diff": [
        ("what the header canary changes over the 50/50 canary (files from `istiosim demo --export bookinfo`)",
         f"istiosim diff {_B} --before bookinfo/canary-50-50.yaml --after bookinfo/header-jason-v3.yaml"),
        ("the same as JSON, for a script",
         f"istiosim diff {_B} --before bookinfo/canary-50-50.yaml --after bookinfo/header-jason-v3.yaml"
         " --format json"),
        ("in CI: fail only when requests land elsewhere, not on a header, delay or mirror change",
         f"istiosim diff {_B} --before bookinfo/canary-50-50.yaml --after bookinfo/header-jason-v3.yaml"
         " --fail-on move"),
    ],
    "rollout": [
        ("an Argo Rollout's steps over a traffic model at 200 requests/s (bundled example)",
         "istiosim rollout -f bookinfo/rollout-argo.yaml --traffic bookinfo/rollout-traffic.yaml"
         " --rate 200/s"),
        ("the same as JSON, with the VirtualServices of each step",
         "istiosim rollout -f bookinfo/rollout-argo.yaml --traffic bookinfo/rollout-traffic.yaml"
         " --rate 200/s --format json"),
    ],
}  # fmt: skip

#: help of options a subcommand registers without any, by destination
OPTION_HELP = {
    "filename": "YAML file, folder or - (stdin); repeatable, later objects replace earlier",
    "format": "output format (default: text)",
    "config_namespace": "namespace for objects without one (default: default)",
}


def _teach(parser: argparse.ArgumentParser, name: str) -> None:
    """Give ``parser`` the examples and option help its module did not state."""
    from .common import examples

    if parser.epilog is None and name in EXAMPLES:
        parser.epilog = examples(EXAMPLES[name])
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for action in parser._actions:
        if action.help is None and action.dest in OPTION_HELP:
            action.help = OPTION_HELP[action.dest]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="istiosim", description="Simulate Istio HTTP routing, no cluster needed."
    )
    from .. import __version__

    p.add_argument(
        "--version",
        action="version",
        version=f"istiosim {__version__}",
        help="print istiosim's version and exit",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, register in COMMANDS.items():
        register(sub, name)
        _teach(sub.choices[name], name)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # pragma: no cover - `istiosim ... | head`
        return 0
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except Exception as exc:
        code = print_error(exc)
        if code is None:
            raise
        return code
