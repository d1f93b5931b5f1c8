"""``istiosim check``: ``istioctl analyze`` on the routing analyzers. Validate configs with
Istio's codes and report the diagnostics: exit 1 when one is an error, 2 when a path cannot be
read (``--format json`` still prints its JSON then).

As istioctl: an object Istio's webhook refuses is reported (IST0106, with its file:line) and
every analyzer still runs on everything else; ``--suppress CODE=RESOURCE`` (repeatable, ``*``
globs) drops matching messages, and so does a ``galley.istio.io/analyze-suppress`` annotation
on the resource."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from ..errors import Diagnostic
    from ..loader import ConfigSet
    from .common import Subparsers

#: istioctl's per-resource suppression annotation (codes, comma-separated, or ``*``)
SUPPRESS_ANNOTATION = "galley.istio.io/analyze-suppress"


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
    c.add_argument(
        "-S",
        "--suppress",
        action="append",
        default=[],
        metavar="CODE=RESOURCE",
        help="suppress a code on a resource, as istioctl: 'IST0102=Namespace frod', "
        "'IST0101=VirtualService reviews.default' or 'IST0101=VirtualService default/reviews'; "
        "'*' matches any characters; repeatable",
    )
    c.set_defaults(func=cmd_check)


def parse_suppressions(values: list[str]) -> list[tuple[str, re.Pattern[str]]]:
    """``CODE=RESOURCE`` values → (code, pattern); a value without exactly one ``=`` is refused
    as istioctl refuses it (``analyze.go``: "is not a valid suppression value")."""
    from ..errors import InvalidArgument

    out = []
    for v in values:
        parts = v.split("=")
        if len(parts) != 2:
            raise InvalidArgument(f"{v} is not a valid suppression value (CODE=RESOURCE)")
        code, resource = parts
        # go-glob as istioctl uses it: '*' is the only wildcard, matching any characters
        pattern = re.compile(".*".join(re.escape(p) for p in resource.split("*")), re.DOTALL)
        out.append((code, pattern))
    return out


def _names(resource: str) -> tuple[str, ...]:
    """Our ``Kind ns/name`` and istioctl's ``Kind name.ns`` (``FriendlyName``) of a resource."""
    kind, _, full = resource.partition(" ")
    ns, slash, name = full.partition("/")
    return (resource, f"{kind} {name}.{ns}") if slash else (resource,)


def suppressed(
    d: Diagnostic,
    rules: list[tuple[str, re.Pattern[str]]],
    annotated: dict[str, set[str]],
) -> bool:
    """Is ``d`` suppressed by a ``--suppress`` rule or by its resource's annotation?"""
    if d.resource is None:
        return False
    codes = annotated.get(d.resource, set())
    if "*" in codes or d.code in codes:
        return True
    names = _names(d.resource)
    return any(code == d.code and any(p.fullmatch(n) for n in names) for code, p in rules)


def suppress_annotations(config: ConfigSet) -> dict[str, set[str]]:
    """Resource → the codes its ``galley.istio.io/analyze-suppress`` annotation suppresses."""
    objs: list[Any] = [
        *config.virtual_services,
        *config.destination_rules,
        *config.service_entries,
        *config.gateways,
        *config.sidecars,
        *config.request_authentications,
    ]
    out: dict[str, set[str]] = {}
    for o in objs:
        value = o.metadata.annotations.get(SUPPRESS_ANNOTATION, "")
        if value:
            res = f"{o.kind} {o.metadata.namespace or 'default'}/{o.metadata.name}"
            out[res] = {c.strip() for c in value.split(",")}
    return out


def cmd_check(args: argparse.Namespace) -> int:
    import json
    import sys

    from ..analysis import analyze
    from ..compiler import compile_valid
    from ..errors import CODES, Severity
    from ..loader import load_config

    rules = parse_suppressions(args.suppress)
    for code, _ in rules:
        if code not in CODES:
            print(
                f"Warning: Supplied message code '{code}' is an unknown message code and will "
                "not have any effect.",
                file=sys.stderr,
            )
    config = load_config(*args.filename, namespace=args.config_namespace, partial=True)
    plan, refused = compile_valid(config)
    annotated = suppress_annotations(config)
    diags = [
        d
        for d in (*refused, *analyze(config, plan))
        if (args.all or d.code not in ("ISM0100", "ISM0102"))
        and not suppressed(d, rules, annotated)
    ]
    # a path that cannot be read is a usage error (exit 2), not a finding about a config
    # (a missing path or an empty folder; a file read but not UTF-8 has a position: a finding)
    unreadable = [
        d
        for d in config.errors
        if d.code == "ISM0001" and (d.location is None or d.location.line <= 0)
    ]
    if args.format == "json":
        print(json.dumps({"diagnostics": [d.to_dict() for d in diags]}, indent=2))
    elif unreadable:
        for d in unreadable:
            print(d, file=sys.stderr)
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

        for d in unreadable or diags:
            print(diagnostic_annotation(d))
    if unreadable:
        return 2
    return 1 if any(d.severity is Severity.ERROR for d in diags) else 0
