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

from . import check, demo, diff, route, simulate, test, verify
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
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="istiosim", description="Simulate Istio HTTP routing, no cluster needed."
    )
    from .. import __version__

    p.add_argument("--version", action="version", version=f"istiosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, register in COMMANDS.items():
        register(sub, name)
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
