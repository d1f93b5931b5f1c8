"""What the subcommands share: the request flags, building the request, loading the configs,
and printing an error as the one-line-per-problem text of exit code 2.

Import-light (argparse only at import time) so that ``istiosim --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from ..request import Request
    from ..simulator import Simulator

    #: what ``ArgumentParser.add_subparsers`` returns; each subcommand registers itself on it
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _invalid(message: str) -> Exception:
    from ..errors import InvalidArgument

    return InvalidArgument(message)


def _parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep and "=" in text:
        name, _, value = text.partition("=")
    elif not sep:
        raise _invalid(f"header {text!r} must look like 'name: value'")
    if not name.strip():
        raise _invalid(f"header {text!r} has no name")
    return name.strip(), value.strip()


def _parse_labels(items: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        k, sep, v = item.partition("=")
        if not sep or not k:
            raise _invalid(f"label {item!r} must look like key=value")
        out[k] = v
    return out


def add_request_flags(p: argparse.ArgumentParser) -> None:
    """The flags that describe one request (shared by route, simulate and verify)."""
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
    p.add_argument(
        "--mesh-config",
        default=None,
        metavar="FILE",
        help="Istio MeshConfig YAML (or the istio ConfigMap): outboundTrafficPolicy, rootNamespace",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")


def build_request(args: argparse.Namespace, random_value: int | None = None) -> Request:
    """The request the flags of :func:`add_request_flags` describe."""
    from ..request import Request

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


def load_simulator(args: argparse.Namespace, **kw: Any) -> Simulator:
    """``istiosim.load`` of the ``-f`` files, objects without a namespace in --config-namespace."""
    from ..simulator import Simulator, load

    sim = load(*args.filename, namespace=getattr(args, "config_namespace", "default"), **kw)
    path = getattr(args, "mesh_config", None)
    if path is None:
        return sim
    policy, root = read_mesh_config(path)
    plan = sim.plan.with_mesh_config(policy, root)
    return Simulator(plan, config=sim.config, rng=kw.get("rng"))


def read_mesh_config(path: str) -> tuple[str | None, str | None]:
    """(outboundTrafficPolicy mode, rootNamespace) of a MeshConfig file, or of the ``mesh``
    key of an ``istio`` ConfigMap."""
    from ..errors import InvalidArgument
    from ..loader.yaml import documents

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise InvalidArgument(f"cannot read mesh config {path}: {exc}") from exc
    doc: dict[str, Any] = next((d.data for d in documents(path, text)), {})
    if doc.get("kind") == "ConfigMap":
        mesh = (doc.get("data") or {}).get("mesh") or ""
        doc = next((d.data for d in documents(path, str(mesh))), {})
    policy = (doc.get("outboundTrafficPolicy") or {}).get("mode")
    return policy, doc.get("rootNamespace")


def print_error(exc: Exception) -> int | None:
    """Print an istiosim error for exit code 2 (one line per diagnostic, never a traceback);
    None when ``exc`` is not istiosim's and must propagate."""
    from ..errors import ConfigError, IstiosimError

    if isinstance(exc, ConfigError):
        for diag in exc.diagnostics:
            print(diag, file=sys.stderr)
        return 2
    if isinstance(exc, IstiosimError):
        print(f"istiosim: error: {exc}", file=sys.stderr)
        return 2
    return None
