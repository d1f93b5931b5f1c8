"""The ``istiosim`` command line (argparse).

Exit codes: 0 answered (a 404 NR or 503 UH is an answer), 1 findings or failed cases, 2 bad input
(one ``file:line:col: error[CODE] message`` line per problem on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, InvalidArgument, IstiosimError, Severity

Handler = Callable[[argparse.Namespace], int]


def _parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep and "=" in text:
        name, _, value = text.partition("=")
    elif not sep:
        raise InvalidArgument(f"header {text!r} must look like 'name: value'")
    if not name.strip():
        raise InvalidArgument(f"header {text!r} has no name")
    return name.strip(), value.strip()


def _parse_labels(items: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        k, sep, v = item.partition("=")
        if not sep or not k:
            raise InvalidArgument(f"label {item!r} must look like key=value")
        out[k] = v
    return out


def add_request_flags(p: argparse.ArgumentParser) -> None:
    """The flags that describe one request (shared by route and simulate)."""
    p.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="PATH",
        help="YAML file, folder or - (stdin); repeatable, later objects replace earlier",
    )
    p.add_argument("--host", required=True, help="the host the client calls (short name or FQDN)")
    p.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'")
    p.add_argument("--path", default="/", help="path, may carry a query string")
    p.add_argument("--method", default="GET")
    p.add_argument("--port", type=int, default=None, help="listener port (default: the service's)")
    p.add_argument("--authority", default=None, help="Host header (default: --host)")
    p.add_argument("--scheme", default="http")
    p.add_argument("--namespace", default="default", help="the client's namespace")
    p.add_argument(
        "--source-label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label of the client pod (for sourceLabels matches)",
    )
    p.add_argument(
        "--source-workload", default=None, help="the client's Deployment (its labels are used)"
    )
    p.add_argument(
        "--gateway", default=None, help="route as this gateway (ns/name) instead of a sidecar"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")


def build_request(args: argparse.Namespace, random_value: int | None = None) -> Any:
    from .request import Request

    headers: dict[str, list[str]] = {}
    for h in args.header:
        name, value = _parse_header(h)
        headers.setdefault(name, []).append(value)
    return Request(
        args.host,
        args.path,
        args.method,
        headers,
        authority=args.authority,
        scheme=args.scheme,
        port=args.port,
        namespace=args.namespace,
        source_labels=_parse_labels(args.source_label),
        source_workload=args.source_workload,
        gateway=args.gateway,
        random_value=random_value,
    )


def _load(args: argparse.Namespace, **kw: Any) -> Any:
    from .simulator import load

    return load(*args.filename, namespace=getattr(args, "config_namespace", "default"), **kw)


# -- route -----------------------------------------------------------------------------------


def cmd_route(args: argparse.Namespace) -> int:
    if args.random_value is not None and args.random_value < 0:
        raise InvalidArgument("--random-value must be a non-negative integer")
    sim = _load(args, rng=args.seed)
    req = build_request(args, args.random_value)
    d = sim.route(req, trace=True)
    if args.format == "json":
        print(json.dumps(d.to_dict(), indent=2))
    else:
        print(d.explain())
        if len(d.candidates) > 1:
            from .display import table

            print()
            print(
                table(
                    ["destination", "weight", "probability"],
                    [(c.cluster, c.weight, f"{float(c.probability):.4%}") for c in d.candidates],
                )
            )
    return 0


# -- check -----------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from .analysis.registry import analyze
    from .compiler import compile_plan
    from .loader import load_config

    config = load_config(*args.filename, namespace=args.config_namespace, partial=True)
    plan = compile_plan(config)
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
    return 1 if any(d.severity is Severity.ERROR for d in diags) else 0


# -- demo ------------------------------------------------------------------------------------

_STARS = {"v1": "no stars", "v2": "black stars", "v3": "red stars"}
_STEPS = [
    ("All traffic to v1", "virtual-service.yaml"),
    ("Blue-green: reviews switches to v2", "blue-green-v2.yaml"),
    ("Canary: reviews v2 50% / v3 50%", "canary-50-50.yaml"),
    ("Header canary: end-user jason to v3, everyone else to v2", "header-jason-v3.yaml"),
]


def _shares(d: Any) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    for c in d.candidates:
        out[c.subset or "(all)"] = out.get(c.subset or "(all)", Fraction(0)) + c.probability
    return out


def cmd_demo(args: argparse.Namespace) -> int:
    from .request import Request
    from .simulator import load

    data = resources.files("istiosim") / "data" / "bookinfo"
    base = [
        str(data / "bookinfo-k8s.yaml"),
        str(data / "destination.yaml"),
        str(data / "virtual-service.yaml"),
    ]
    readers = [("a reader", {}), ("jason", {"end-user": "jason"})]
    print(
        "istiosim demo: Istio's Bookinfo, productpage -> reviews (v1: no stars, v2: black, v3: red)\n"
    )
    for i, (title, fname) in enumerate(_STEPS, 1):
        files = base if fname == "virtual-service.yaml" else [*base, str(data / fname)]
        sim = load(*files, rng=args.seed)
        print(f"Step {i}. {title}   (kubectl apply -f {fname})")
        for who, headers in readers:
            d = sim.route(Request("reviews", "/reviews/0", headers=headers, port=9080))
            shares = _shares(d)
            seen = ", ".join(f"{_STARS.get(s, s)} ({s}) {float(p):.0%}" for s, p in shares.items())
            rule = f"rule {d.rule}" if d.rule is not None else "default route"
            print(f"  {who:<9} sees {seen}   [{d.virtual_service} {rule}]")
        if i == 3:
            d = sim.route(Request("reviews", "/reviews/0", port=9080), trace=True)
            print(
                "  why:",
                "; ".join(s.message for s in (d.trace or ()) if s.kind in ("match", "weight")),
            )
        if i >= 3:
            _demo_simulation(sim, args.seed)
        print()
    print("Try:  istiosim route -f <configs> --host reviews -H 'end-user: jason'")
    print("      istiosim simulate -f <configs> --host reviews -n 1000000 --seed 1")
    return 0


def _demo_simulation(sim: Any, seed: int | None) -> None:
    """One million page views from 10,000 readers, 10% of the traffic from jason."""
    from .request import Request
    from .traffic import Traffic

    users = Traffic.users(
        Request("reviews", "/reviews/0", port=9080),
        header="end-user",
        n_users=10_000,
        named={"jason": 0.1},
    )
    res = sim.simulate(users, n=1_000_000, rng=seed)
    counts = res.subset_counts()
    total = sum(counts.values())
    parts = ", ".join(f"{s} {c / total:.2%}" for s, c in sorted(counts.items()))
    print(f"  simulated 1,000,000 page views (10,000 readers, jason 10%): {parts}")


# -- main ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="istiosim", description="Simulate Istio HTTP routing, no cluster needed."
    )
    from . import __version__

    p.add_argument("--version", action="version", version=f"istiosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="the Bookinfo walkthrough on bundled configs")
    d.add_argument("--seed", type=int, default=1, help="seed of the random draws (default 1)")
    d.set_defaults(func=cmd_demo)

    r = sub.add_parser("route", help="route one request and explain why")
    add_request_flags(r)
    r.add_argument("--random-value", type=int, default=None, help="fix the weighted pick's draw")
    r.add_argument("--seed", type=int, default=None)
    r.add_argument(
        "--config-namespace", default="default", help="namespace for objects without one"
    )
    r.set_defaults(func=cmd_route)

    c = sub.add_parser("check", help="validate configs (Istio's codes) and report diagnostics")
    c.add_argument("-f", "--filename", action="append", required=True, metavar="PATH")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument(
        "--all", action="store_true", help="also list info about ignored kinds and replaced objects"
    )
    c.add_argument("--config-namespace", default="default")
    c.set_defaults(func=cmd_check)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return p


#: other modules add subcommands here: ``register(subparsers)``
_EXTRA_COMMANDS: list[Callable[[Any], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    _load_extra_commands()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for diag in exc.diagnostics:
            print(diag, file=sys.stderr)
        return 2
    except IstiosimError as exc:
        print(f"istiosim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - `istiosim ... | head`
        return 0
    except KeyboardInterrupt:  # pragma: no cover
        return 130


def _load_extra_commands() -> None:
    """Subcommands living in their own modules (``istiosim/_cli_*.py``) register themselves."""
    here = Path(__file__).parent
    import importlib

    for f in sorted(here.glob("_cli_*.py")):
        mod = importlib.import_module(f"istiosim.{f.stem}")
        reg = getattr(mod, "register", None)
        if reg is not None and reg not in _EXTRA_COMMANDS:
            _EXTRA_COMMANDS.append(reg)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
