"""The ``istiosim`` command line (argparse): the table of subcommands and ``main``.

Exit codes: 0 answered (a 404 NR or 503 UH is an answer), 1 findings or failed cases, 2 bad input
(one ``file:line:col: error[CODE] message`` line per problem on stderr, never a traceback).

Each subcommand is one module with ``register(subparsers, name)``; :data:`COMMANDS` lists them
in the order ``istiosim --help`` shows, by module path: ``istiosim route ...`` imports and
registers ``route`` alone, ``istiosim --help`` all of them. They import their heavy dependencies
(numpy, pydantic, the loader) inside the function that runs the command, so building the parser
stays cheap.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .common import print_error

__all__ = ["COMMANDS", "build_parser", "main"]

#: name -> the module whose ``register(subparsers, name)`` adds it, in the order of
#: ``istiosim --help`` (imported when the command is used or listed)
COMMANDS: dict[str, str] = {
    "demo": "istiosim.cli.demo",
    "route": "istiosim.cli.route",
    "check": "istiosim.cli.check",
    "simulate": "istiosim.cli.simulate",
    "test": "istiosim.cli.test",
    "verify": "istiosim.cli.verify",
    "diff": "istiosim.cli.diff",
    "rollout": "istiosim.cli.rollout",
    "journey": "istiosim.cli.journey",
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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of subcommand ``only`` alone (what ``main`` builds
    for ``istiosim ONLY ...``: the other subcommands' modules are not imported)."""
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
    for name, module in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module).register(sub, name)
            _teach(sub.choices[name], name)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # numpy's OpenBLAS starts a worker thread per core at import that spins for ~130 ms of CPU;
    # istiosim makes no BLAS call worth a thread (its threads are its own). Set before numpy
    # is first imported; a user's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
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
