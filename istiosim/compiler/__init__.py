"""compile_plan(config) → RoutePlan: validate once, then build the immutable plan.

The stages, one module each: ``webhook`` refuses what Istio's admission webhook refuses
(semantics §5.1–5.2) with one ``ConfigError`` listing every problem with file:line:col and
field; ``virtualservice`` and ``delegation`` translate the VirtualServices, ``destinationrule``
the DestinationRules, and ``services`` the mesh's Services and ServiceEntries. What Istio
accepts but that points nowhere (unknown host, undefined subset, subset with no pods) is not
the compiler's business: the analyzers in ``istiosim.analysis`` report it, and the engines
produce what Envoy would (503 NC, 503 UH).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from .. import config as cfg
from .._gc import gc_paused
from ..errors import ConfigError, Diagnostic, Severity
from ..loader import ConfigSet
from ..mesh import Mesh
from ..plan import (
    DRAW_MIRROR0,
    CompiledVirtualService,
    Endpoint,
    RouteEntry,
    RoutePlan,
    ServiceInfo,
)
from .collector import Path, collector
from .delegation import delegated_routes
from .destinationrule import translate_destination_rule
from .gateway import translate_gateway
from .sidecar import translate_sidecar
from .virtualservice import Translator, translate_route, translate_virtual_service
from .webhook import duration_problem, parse_duration_ms, valid_host, validate

__all__ = [
    "compile_plan",
    "compile_valid",
    "duration_problem",
    "parse_duration_ms",
    "valid_host",
]


def compile_plan(config: ConfigSet, mesh: Mesh | None = None) -> RoutePlan:
    """Validate and compile; raise one ConfigError listing every error found.

    The plan's ``diagnostics`` are the loader's and the webhook's (warnings); the analyzers'
    findings come from ``istiosim.analysis.analyze(config, plan)``.
    """
    m = mesh if mesh is not None else config.mesh
    regexes: dict[str, Any] = {}
    with gc_paused():  # the collector's passes over a large config's heap: half the time
        found = validate(config, m.domain, regexes)
        errors = list(config.errors) + [d for d in found if d.severity is Severity.ERROR]
        if errors:
            raise ConfigError(sorted(errors, key=lambda d: _reading_order(config, d)))
        return _build(config, m, found, regexes)


def _build(
    config: ConfigSet, m: Mesh, found: list[Diagnostic], regexes: dict[str, Any]
) -> RoutePlan:
    """The plan of a config the webhook accepts (``found``: its warnings, ``regexes``: its
    regexes compiled by ``validate``)."""
    t = Translator(config, m.domain, regexes)
    by_key = {
        (v.metadata.namespace or "default", v.metadata.name): v for v in config.virtual_services
    }
    vss: list[CompiledVirtualService] = []
    delegates: list[CompiledVirtualService] = []
    ranked, precedence = config_order(config.virtual_services)
    for order, vs in ranked:
        entries = _entries(t, vs, by_key if vs.spec.hosts else None)
        if vs.spec.hosts:
            vss.append(translate_virtual_service(t, vs, order, entries))
        else:
            delegates.append(translate_virtual_service(t, vs, order, entries))
    drs = tuple(
        translate_destination_rule(config, dr, order, m.domain)
        for order, dr in enumerate(config.destination_rules)
    )
    gw_ranked, _ = config_order(config.gateways)
    gateways = tuple(
        translate_gateway(
            g,
            order,
            collector(config, [], "Gateway", g.metadata.namespace or "default", g.metadata.name),
        )
        for order, g in sorted(gw_ranked, key=lambda t: t[0])
    )
    sc_ranked, _ = config_order(config.sidecars)
    sidecars = tuple(translate_sidecar(s, o) for o, s in sorted(sc_ranked, key=lambda t: t[0]))
    return RoutePlan(
        services(m),
        tuple(sorted(vss, key=lambda v: v.order)),
        drs,
        {(w.namespace, w.name): tuple(sorted(w.labels.items())) for w in m.workloads},
        m.domain,
        m.root_namespace,
        tuple(config.diagnostics) + tuple(found),
        DRAW_MIRROR0 + t.max_mirrors,
        delegates=tuple(delegates),
        gateways=gateways,
        sidecars=sidecars,
        outbound_policy=getattr(m, "outbound_policy", "ALLOW_ANY"),
        vs_precedence=precedence,
    )


def config_order(objs: Sequence[Any]) -> tuple[list[tuple[int, Any]], str]:
    """Istio's config order (model/config.go ``configCompareByCreationTime``): oldest
    ``metadata.creationTimestamp`` first, ties by name then namespace; an object without a
    timestamp counts as the zero time. When no object has one (files written by hand), file
    order. Returns (rank, object) in file order, and which order was used."""
    stamps = [_timestamp(o.metadata.creation_timestamp) for o in objs]
    if all(s is None for s in stamps):
        return list(enumerate(objs)), "file order"
    zero = datetime.min.replace(tzinfo=timezone.utc)
    keys = [
        (s or zero, o.metadata.name, o.metadata.namespace or "default")
        for s, o in zip(stamps, objs, strict=True)
    ]
    rank = {i: r for r, i in enumerate(sorted(range(len(objs)), key=lambda i: keys[i]))}
    return [(rank[i], o) for i, o in enumerate(objs)], "creationTimestamp"


def _timestamp(value: Any) -> datetime | None:
    """A creationTimestamp as YAML gives it (a datetime or RFC 3339 text), in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        out = datetime.fromisoformat(text)
    except ValueError:
        return None
    return out if out.tzinfo else out.replace(tzinfo=timezone.utc)


def compile_valid(
    config: ConfigSet, mesh: Mesh | None = None
) -> tuple[RoutePlan, tuple[Diagnostic, ...]]:
    """``check``'s entry point, as ``istioctl analyze``: never raises for a refused object.

    The objects Istio's webhook refuses (an error-level finding) are left out and the plan
    compiled from the others; returns that plan and the refused objects' findings (their
    IST0106 errors and warnings, and the loader's errors of documents that did not load), in
    reading order. ``compile_plan`` keeps raising for the API.
    """
    with gc_paused():
        return _compile_valid(config, mesh)


def _compile_valid(
    config: ConfigSet, mesh: Mesh | None
) -> tuple[RoutePlan, tuple[Diagnostic, ...]]:
    m = mesh if mesh is not None else config.mesh
    refused: list[Diagnostic] = list(config.errors)
    valid = dataclasses.replace(config, errors=[])
    while True:
        regexes: dict[str, Any] = {}
        found = validate(valid, m.domain, regexes)
        bad = {d.resource for d in found if d.severity is Severity.ERROR}
        if not bad:
            break
        # a refused delegate can make its root's route refer to nothing (a warning, not an
        # error), so this settles in one or two rounds
        refused.extend(d for d in found if d.resource in bad)
        valid = dataclasses.replace(
            valid,
            virtual_services=[
                v
                for v in valid.virtual_services
                if f"VirtualService {v.metadata.namespace or 'default'}/{v.metadata.name}"
                not in bad
            ],
            destination_rules=[
                d
                for d in valid.destination_rules
                if f"DestinationRule {d.metadata.namespace or 'default'}/{d.metadata.name}"
                not in bad
            ],
            gateways=[
                g
                for g in valid.gateways
                if f"Gateway {g.metadata.namespace or 'default'}/{g.metadata.name}" not in bad
            ],
            sidecars=[
                s
                for s in valid.sidecars
                if f"Sidecar {s.metadata.namespace or 'default'}/{s.metadata.name}" not in bad
            ],
        )
    plan = _build(valid, m, found, regexes)
    return plan, tuple(sorted(refused, key=lambda d: _reading_order(config, d)))


def _entries(
    t: Translator,
    vs: cfg.VirtualService,
    by_key: dict[tuple[str, str], cfg.VirtualService] | None,
) -> list[RouteEntry]:
    """A VirtualService's route entries; a root's delegating routes replaced by the delegate's
    (``by_key`` None: a delegate, compiled on its own for the analyzers)."""
    ns = vs.metadata.namespace or "default"
    col = t.col(ns, vs.metadata.name)
    out: list[RouteEntry] = []
    for i, r in enumerate(vs.spec.http):
        assert r is not None
        path: Path = ("spec", "http", i)
        if r.delegate is not None:
            if by_key is not None:
                out.extend(delegated_routes(t, r, i, ns, by_key))
            continue
        out.extend(translate_route(t, r, i, ns, col, path))
    return out


def services(mesh: Mesh) -> dict[str, ServiceInfo]:
    """Every Service and ServiceEntry by FQDN (the first written wins), with its endpoints."""
    out: dict[str, ServiceInfo] = {}
    for s in mesh.services:
        fq = s.fqdn(mesh.domain)
        if fq in out:
            continue
        eps = tuple(
            Endpoint(p.name, p.workload, tuple(sorted(p.labels.items()))) for p in mesh.endpoints(s)
        )
        out[fq] = ServiceInfo(
            fq,
            s.name,
            s.namespace,
            tuple(p.number for p in s.ports),
            eps,
            s.kind,
            frozenset(s.export_to) or frozenset({"*"}),
            s.cluster_ip,
            s.external_name,
        )
    return out


def _reading_order(config: ConfigSet, d: Diagnostic) -> tuple[int, int, int]:
    """Files in load order, then line and column: errors read top to bottom."""
    loc = d.location
    if loc is None:
        return (len(config.files), 0, 0)
    idx = config.files.index(loc.file) if loc.file in config.files else len(config.files)
    return (idx, loc.line, loc.column)
