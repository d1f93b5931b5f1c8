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
    """``name: value`` (or ``name=value``); a pseudo header keeps its colon (``:authority: x``)."""
    lead = ":" if text.startswith(":") else ""
    name, sep, value = text[len(lead) :].partition(":")
    name = lead + name
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
    p.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header; repeatable (also NAME=VALUE)",
    )
    p.add_argument("--path", default="/", help="path, may carry a query string (default: /)")
    p.add_argument("--method", default="GET", help="HTTP method (default: GET)")
    p.add_argument("--port", type=int, default=None, help="listener port (default: the service's)")
    p.add_argument("--authority", default=None, help="Host header (default: --host)")
    p.add_argument("--scheme", default="http", help="http or https (default: http)")
    p.add_argument(
        "--namespace", default="default", help="the client's namespace (default: default)"
    )
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
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people, json for programs (default: text)",
    )


def examples(items: Sequence[tuple[str, str]]) -> str:
    """The epilog of a subcommand's ``--help``: examples, each a comment and a command."""
    lines = ["examples:"]
    for what, command in items:
        lines += [f"  # {what}", f"  {command}"]
    return "\n".join(lines)


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


def load_simulator(args: argparse.Namespace, *, report: bool = True, **kw: Any) -> Simulator:
    """``istiosim.load`` of the ``-f`` files, objects without a namespace in --config-namespace;
    with ``report``, the problems the config has are printed on stderr (:func:`report_problems`)."""
    from ..simulator import Simulator, load

    sim = load(*args.filename, namespace=getattr(args, "config_namespace", "default"), **kw)
    path = getattr(args, "mesh_config", None)
    if path is not None:
        policy, root = read_mesh_config(path)
        plan = sim.plan.with_mesh_config(policy, root)
        sim = Simulator(plan, config=sim.config, rng=kw.get("rng"))
    if report:
        report_problems(sim, args.filename)
    return sim


def report_problems(sim: Simulator, sources: Sequence[str], file: Any = None) -> None:
    """On stderr, what a loaded config gets wrong, so that an answer never hides it: the
    warnings and errors of loading and analysis (``sim.diagnostics``: a subset that selects no
    pods, a destination that does not exist...), objects that replace one another within one
    ``-f`` file or folder (applied together, one silently wins), and weights that do not total
    100 (Istio accepts them; the line says which shares they give)."""
    from pathlib import Path

    from ..errors import Severity

    out = file if file is not None else sys.stderr
    roots = [Path(s).resolve() for s in sources if s != "-" and "\n" not in s]

    def root(path: str) -> Path | None:
        p = Path(path).resolve()
        for r in roots:
            if p == r or r in p.parents:
                return r
        return None

    for d in sim.diagnostics:
        if d.severity is not Severity.INFO:
            print(d, file=out)
        elif d.code == "ISM0102" and d.location is not None:
            # "replaces the <kind> loaded from <file>:<line>:<col>"
            earlier = d.message.rpartition(" loaded from ")[2].rsplit(":", 2)[0]
            here = root(d.location.file)
            if here is not None and here == root(earlier):
                print(f"{d} (both come from -f {here.name or here})", file=out)
    for line in weight_notes(sim):
        print(line, file=out)


def weight_notes(sim: Simulator) -> list[str]:
    """``file:line:col: info: ...`` for each weighted route whose weights do not total 100."""
    from ..plan import Forward

    notes: list[str] = []
    for vs in [*sim.plan.virtual_services, *sim.plan.delegates]:
        seen: set[int] = set()
        for e in vs.entries:
            act = e.action
            if not isinstance(act, Forward) or e.rule in seen or len(act.destinations) < 2:
                continue
            seen.add(e.rule)
            table = act.weights
            if table.total == 100:
                continue
            shares = ", ".join(
                f"{d.subset or d.host} {w}/{table.total} = {w / table.total:.2%}"
                for d, w in zip(act.destinations, table.weights, strict=True)
                if w
            )
            where = f"{e.location}: " if e.location else ""
            notes.append(
                f"{where}info: the weights of VirtualService {vs.key} rule {e.rule} total "
                f"{table.total}, not 100; Istio accepts them as relative shares: {shares}"
            )
    return notes


def unknown_host_hint(sim: Simulator, host: str) -> str:
    """ "no Service or VirtualService for 'review'; did you mean 'reviews'?" for a host that
    falls through to the passthrough cluster."""
    import difflib

    names: set[str] = set()
    for fqdn in sim.plan.services:
        names.update((fqdn, fqdn.split(".")[0]))
    for vs in sim.plan.virtual_services:
        names.update(vs.hosts)
    guess = difflib.get_close_matches(host, sorted(names), n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    return (
        f"istiosim: warning: no Service or VirtualService for {host!r}{hint}"
        " (the request goes to the passthrough cluster)"
    )


def read_mesh_config(path: str) -> tuple[str | None, str | None]:
    """(outboundTrafficPolicy mode, rootNamespace) of a MeshConfig file, or of the ``mesh``
    key of an ``istio`` ConfigMap."""
    from ..errors import InvalidArgument
    from ..loader.yaml import documents, read_text

    name, text = next(read_text(path), (path, ""))
    doc: Any = next((d.data for d in documents(name, text)), {})
    if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
        data = doc.get("data")
        mesh = data.get("mesh") if isinstance(data, dict) else None
        doc = next((d.data for d in documents(name, str(mesh or ""))), {})
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{name}: a mesh config is a mapping, not {type(doc).__name__}")
    outbound = doc.get("outboundTrafficPolicy")
    policy = outbound.get("mode") if isinstance(outbound, dict) else None
    root = doc.get("rootNamespace")
    if not isinstance(policy, (str, type(None))) or not isinstance(root, (str, type(None))):
        raise InvalidArgument(f"{name}: outboundTrafficPolicy.mode and rootNamespace are strings")
    return policy, root


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
