"""``RoutePlan.explain()``: the compiled rule table as text, one line per route entry.

Part of the plan stage; reads plan objects only. Hosts are shown without ``.svc.<domain>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .plan import DirectResponse, Forward, Redirect, RouteEntry

if TYPE_CHECKING:
    from .plan import CompiledDestinationRule, CompiledVirtualService, RoutePlan


def explain(plan: RoutePlan) -> str:
    lines = [summary(plan)]
    for vs in plan.virtual_services:
        lines += ["", *_virtual_service(vs, plan.domain)]
    for vs in plan.delegates:
        lines += ["", *_virtual_service(vs, plan.domain, delegate=True)]
    for dr in plan.destination_rules:
        lines += ["", *_destination_rule(dr, plan.domain)]
    return "\n".join(lines)


def summary(plan: RoutePlan) -> str:
    return (
        f"RoutePlan: {len(plan.virtual_services)} VirtualService(s), "
        f"{len(plan.destination_rules)} DestinationRule(s), {len(plan.services)} service(s)"
    )


def short_host(host: str, domain: str) -> str:
    suffix = f".svc.{domain}"
    return host[: -len(suffix)] if host.endswith(suffix) else host


def _where(loc: object) -> str:
    return f"  ({loc})" if loc is not None else ""


def _virtual_service(vs: CompiledVirtualService, domain: str, delegate: bool = False) -> list[str]:
    head = f"VirtualService {vs.key}"
    if delegate:
        head += "  (delegate)"
    else:
        hosts = ", ".join(short_host(h, domain) for h in vs.hosts)
        head += f"  hosts: {hosts}  gateways: {', '.join(sorted(vs.gateways))}"
    out = [head + _where(vs.location)]
    if not vs.entries:
        out.append("  (no http routes)")
    rows = [(_entry_name(e), _conditions(e), _action(e, domain), e.location) for e in vs.entries]
    w0 = max((len(r[0]) for r in rows), default=0)
    w1 = max((len(r[1]) for r in rows), default=0)
    out += [f"  {a:<{w0}}  {b:<{w1}}  → {c}{_where(loc)}" for a, b, c, loc in rows]
    return out


def _entry_name(e: RouteEntry) -> str:
    name = f"rule {e.rule}" + (f" match {e.match}" if e.match is not None else "")
    return name + (f" [{e.delegate}]" if e.delegate else "")


def _conditions(e: RouteEntry) -> str:
    parts = [m.describe() for m in e.matchers]
    src = e.source
    if src.gateways:
        parts.append(f"gateways {', '.join(sorted(src.gateways))}")
    if src.source_labels:
        parts.append("sourceLabels " + ",".join(f"{k}={v}" for k, v in src.source_labels))
    if src.source_namespace:
        parts.append(f"sourceNamespace {src.source_namespace}")
    if src.port is not None:
        parts.append(f"port {src.port}")
    return " and ".join(parts) if parts else "any request"


def _action(e: RouteEntry, domain: str) -> str:
    act = e.action
    if isinstance(act, Redirect):
        target = act.uri or ""
        if act.authority:
            target = f"//{act.authority}{target}"
        if act.scheme:
            target = f"{act.scheme}:{target}"
        return f"redirect {act.status} {target}".rstrip()
    if isinstance(act, DirectResponse):
        return f"direct response {act.status}"
    assert isinstance(act, Forward)
    probs = act.weights.probabilities()
    dests = []
    for d, p in zip(act.destinations, probs, strict=True):
        name = short_host(d.host, domain) + (f" {d.subset}" if d.subset else "")
        name += f":{d.port}" if d.port is not None else ""
        dests.append(f"{name} {float(p):.0%}" if len(act.destinations) > 1 else name)
    text = ", ".join(dests)
    f = act.fault
    if f is not None and f.delay_ms is not None and f.delay_per_million:
        text += f"; delay {f.delay_ms}ms for {f.delay_per_million / 1e4:g}%"
    if f is not None and f.abort_status is not None and f.abort_per_million:
        text += f"; abort {f.abort_status} for {f.abort_per_million / 1e4:g}%"
    for m in act.mirrors:
        text += f"; mirror {short_host(m.destination.host, domain)} {m.per_million / 1e4:g}%"
    return text


def _destination_rule(dr: CompiledDestinationRule, domain: str) -> list[str]:
    head = f"DestinationRule {dr.namespace}/{dr.name}  host: {short_host(dr.host, domain)}"
    if dr.lb is not None:
        head += f"  lb: {dr.lb.describe()}"
    out = [head + _where(dr.location)]
    for s in dr.subsets:
        labels = ",".join(f"{k}={v}" for k, v in s.labels)
        lb = f"  lb: {s.lb.describe()}" if s.lb is not None else ""
        out.append(f"  subset {s.name:<12} {labels}{lb}")
    return out
