"""What each controller writes, step by step: the VirtualServices of a Flagger ``Canary``
(``pkg/router/istio.go`` ``SetRoutes``, driven by ``pkg/controller/scheduler.go``) and of an
Argo ``Rollout`` (``rollout/trafficrouting/istio/istio.go``, driven by
``rollout/trafficrouting.go``), as plain YAML-shaped dicts; :mod:`.rollout` routes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import config as cfg
from ..loader import ConfigSet
from ..mesh import Mesh, Service, ServicePort, Workload, resolve_short_name
from ..request import Request
from .rollouts_lint import (
    flagger_strategy,
    interval_seconds,
    pause_seconds,
    short_host,
    vs_ref_key,
    weighted_route_indexes,
)

VSKey = tuple[str, str]  # namespace, name
#: Flagger's ``randSeq()`` cookie value is random; the plan shows this stand-in
COOKIE_VALUE = "RANDOM"
#: a plan longer than this is refused (Flagger with stepWeight 1 has ~100 steps)
MAX_STEPS = 1000


# -- what a controller writes -----------------------------------------------------------------


@dataclass
class Written:
    """One step as the controller writes it, before routing."""

    action: str
    vss: dict[VSKey, dict[str, Any]]
    #: (vs key, http index) of the weighted routes the controller patches
    weighted: list[tuple[VSKey, int]]
    set_weight: int | None
    duration_s: float | None
    where: tuple[str | int, ...]
    notes: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    check_share: bool = True


@dataclass
class Controller:
    """What one Canary/Rollout needs besides its steps: how to spot the canary, what to add."""

    steps: list[Written]
    is_canary: Callable[[str, str | None], bool]
    services: list[Service]
    default_request: Request
    strategy: str
    #: the pods the controller's objects run on that the loaded config does not model
    workloads: list[Workload] = field(default_factory=list)


def _dest(
    host: str, weight: int, port: int | None = None, subset: str | None = None
) -> dict[str, Any]:
    d: dict[str, Any] = {"host": host}
    if subset:
        d["subset"] = subset
    if port:
        d["port"] = {"number": port}
    return {"destination": d, "weight": weight}


def _dump(model: Any) -> Any:
    if model is None:
        return None
    if isinstance(model, list):
        return [_dump(m) for m in model]
    return model.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)


def flagger_steps(c: cfg.Canary, mesh: Mesh) -> Controller:
    a = c.get_analysis()
    svc = c.spec.service
    ns = c.metadata.namespace or "default"
    apex, primary, canary = c.service_names()
    hosts = list(svc.hosts)
    if not any(h in (apex, "*") for h in hosts):
        hosts.append(apex)
    gateways = list(svc.gateways) or ["mesh"]
    if svc.delegation:
        hosts, gateways = [], []
    port = (
        svc.port
        if svc.port_discovery and ((svc.gateways and svc.gateways[0] != "mesh") or svc.delegation)
        else None
    )
    common: dict[str, Any] = {}
    if svc.rewrite is not None and (svc.rewrite.uri or svc.rewrite.authority):
        common["rewrite"] = {
            k: v for k, v in (("uri", svc.rewrite.uri), ("authority", svc.rewrite.authority)) if v
        }
    for field_name, value in (
        ("timeout", svc.timeout),
        ("retries", _dump(svc.retries)),
        ("corsPolicy", _dump(svc.cors_policy)),
        ("headers", _dump(svc.headers)),
    ):
        if value:
            common[field_name] = value
    svc_match = _dump(svc.match)
    sa = a.session_affinity

    def set_routes(pw: int, cw: int, mirrored: bool) -> tuple[dict[str, Any], int]:
        """``IstioRouter.SetRoutes``: the VirtualService and its weighted route's index."""
        weighted: dict[str, Any] = {
            **common,
            "route": [_dest(primary, pw, port), _dest(canary, cw, port)],
        }
        if svc_match:
            weighted = {"match": svc_match, **weighted}
        http = [weighted]
        at = 0
        if sa is not None and cw != 0:
            cookie = f"{sa.cookie_name}={COOKIE_VALUE}"
            weighted["route"][1]["headers"] = {
                "response": {"add": {"Set-Cookie": f"{cookie}; Max-Age={sa.max_age or 86400}"}}
            }
            sticky = {
                **weighted,
                "match": _merge(
                    [{"headers": {"Cookie": {"regex": f".*{sa.cookie_name}.*{COOKIE_VALUE}.*"}}}],
                    svc_match,
                ),
                "route": [_dest(primary, 0, port), _dest(canary, 100, port)],
            }
            http = [sticky, weighted]
            if sa.primary_cookie_name:
                psticky = {
                    **weighted,
                    "match": _merge(
                        [
                            {
                                "headers": {
                                    "Cookie": {
                                        "regex": f".*{sa.primary_cookie_name}.*{COOKIE_VALUE}.*"
                                    }
                                }
                            }
                        ],
                        svc_match,
                    ),
                    "route": [_dest(primary, 100, port), _dest(canary, 0, port)],
                }
                http = [sticky, psticky, weighted]
            at = len(http) - 1
        if mirrored:
            http[0]["mirror"] = {"host": canary}
            if a.mirror_weight > 0:
                http[0]["mirrorPercentage"] = {"value": float(a.mirror_weight)}
        if a.match:
            http = [
                {
                    "match": _merge(_dump(a.match), svc_match),
                    **common,
                    "route": [_dest(primary, pw, port), _dest(canary, cw, port)],
                },
                {
                    **({"match": svc_match} if svc_match else {}),
                    **common,
                    "route": [_dest(primary, pw, port)],
                },
            ]
            at = 0
        spec: dict[str, Any] = {"hosts": hosts, "http": http}
        if gateways:
            spec["gateways"] = gateways
        return {
            "apiVersion": "networking.istio.io/v1beta1",
            "kind": "VirtualService",
            "metadata": {"name": apex, "namespace": ns},
            "spec": spec,
        }, at

    interval = interval_seconds(c)
    total = 100
    max_weight = min(total, a.step_weights[-1]) if a.step_weights else (a.max_weight or total)

    def next_step(cw: int) -> int:
        """``nextStepWeight``."""
        if a.step_weight > 0 or not a.step_weights:
            return a.step_weight
        max_step = total - cw
        if max_step == 0:
            return 1
        if cw == 0:
            return min(max_step, a.step_weights[0])
        for i in range(len(a.step_weights) - 1):
            if a.step_weights[i] == cw:
                return min(max_step, a.step_weights[i + 1] - cw)
        return max_step

    key: VSKey = (ns, apex)
    steps: list[Written] = []
    where: tuple[str | int, ...] = (
        ("spec", "analysis")
        if c.spec.analysis or not c.spec.canary_analysis
        else ("spec", "canaryAnalysis")
    )

    def add(
        action: str,
        pw: int,
        cw: int,
        mirrored: bool = False,
        sw: int | None = None,
        check_share: bool = True,
    ) -> Written:
        vs, at = set_routes(pw, cw, mirrored)
        w = Written(
            action,
            {key: vs},
            [(key, at)],
            cw if sw is None else sw,
            interval,
            where,
            check_share=check_share,
        )
        steps.append(w)
        return w

    strategy = flagger_strategy(c)
    add("initialise", total, 0)
    if c.spec.skip_analysis:
        # shouldSkipAnalysis: all traffic to the primary and promote at once, no steps
        add("skipAnalysis: promote", total, 0, check_share=False)
        strategy = "skip"
    elif strategy == "ab":
        for i in range(a.iterations):
            add(f"iteration {i + 1}/{a.iterations}", 0, total, check_share=False)
    elif strategy == "bluegreen":
        for i in range(a.iterations):
            add(
                f"iteration {i + 1}/{a.iterations}" + (" (mirror)" if a.mirror else ""),
                total,
                0,
                mirrored=a.mirror,
            )
        add("route all traffic to canary", 0, total)
    else:
        cw, pw, mirrored = 0, total, False
        while cw < max_weight and len(steps) < MAX_STEPS:
            nxt = next_step(cw)
            if nxt <= 0:
                break  # Flagger never advances (lint reports it)
            if a.mirror and cw == 0:
                if not mirrored:
                    mirrored, pw, cw = True, total, 0
                else:
                    mirrored, pw, cw = False, total - nxt, nxt
            else:
                pw, cw = max(pw - nxt, 0), min(cw + nxt, total)
            w = add("mirror" if mirrored else f"advance canary weight {cw}", pw, cw, mirrored)
            if cw > max_weight:
                w.notes.append(
                    (
                        "ISM0304",
                        f"canary weight {cw} overshoots maxWeight {max_weight}: "
                        "Flagger adds stepWeight while the weight is below maxWeight "
                        "(runCanary), so the last step can pass it",
                    )
                )
    if strategy == "skip":
        pass
    elif strategy == "canary" and a.step_weight_promotion:
        cw = steps[-1].set_weight or 0
        pw = total - cw
        while cw > 0 and len(steps) < MAX_STEPS:
            pw, cw = min(pw + a.step_weight_promotion, total), max(cw - a.step_weight_promotion, 0)
            add(f"promote: primary weight {pw}", pw, cw, check_share=False)
    else:
        add("promote: all traffic to primary", total, 0, check_share=False)
    if not steps[-1].action.startswith("promote") or steps[-1].set_weight:
        pass

    domain = mesh.domain
    canary_fqdn = resolve_short_name(canary, ns, domain)
    existing = {(s.name, s.namespace) for s in mesh.services}
    # Flagger creates <target>-primary (the target's labels, app=<target>-primary) and the
    # apex, primary and canary Services; the target Deployment itself must exist in the
    # cluster: when the loaded config lacks any of them, they are modelled (one pod each)
    tname = c.spec.target_ref.name
    target = mesh.workload(tname, ns)
    labels = dict(target.labels) if target is not None else {"app": tname}
    primary_labels = {**labels, "app": f"{tname}-primary"}
    workloads = [] if target is not None else [Workload(tname, ns, labels, 1)]
    if mesh.workload(f"{tname}-primary", ns) is None:
        workloads.append(Workload(f"{tname}-primary", ns, primary_labels, 1))
    services = []
    for name, selector in (
        (apex, {"app": f"{tname}-primary"}),
        (primary, {"app": f"{tname}-primary"}),
        (canary, labels),
    ):
        if (name, ns) not in existing:
            services.append(Service(name, ns, (ServicePort(svc.port, "http"),), selector))
    if "mesh" in gateways or not gateways:
        req = Request(resolve_short_name(apex, ns, domain), namespace=ns)
    else:
        g = gateways[0] if "/" in gateways[0] else f"{ns}/{gateways[0]}"
        host = next((h for h in svc.hosts if h != "*" and not h.startswith("*")), apex)
        req = Request(
            host if "." in host else resolve_short_name(host, ns, domain), namespace=ns, gateway=g
        )
    return Controller(steps, lambda h, s: h == canary_fqdn, services, req, strategy, workloads)


def _merge(
    canary: list[dict[str, Any]], defaults: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """``mergeMatchConditions``: each analysis match crossed with each service match, the
    analysis's headers and sourceLabels replacing the service's."""
    if not defaults:
        return canary
    out = []
    for c in canary:
        for d in defaults:
            m = json.loads(json.dumps(d))
            for k in ("headers", "sourceLabels"):
                if c.get(k):
                    m[k] = c[k]
            out.append(m)
    return out


def argo_steps(config: ConfigSet, r: cfg.Rollout, mesh: Mesh) -> Controller:
    canary = r.spec.strategy.canary
    assert canary is not None and canary.traffic_routing is not None
    tr = canary.traffic_routing
    istio = tr.istio
    assert istio is not None
    ns = r.metadata.namespace or "default"
    dr = istio.destination_rule
    managed = [m.name for m in (tr.managed_routes or [])]
    vss = {(v.metadata.namespace or "default", v.metadata.name): v for v in config.virtual_services}
    refs = [(vs_ref_key(ref.name, ns), ref) for ref in istio.refs()]
    state: dict[VSKey, dict[str, Any]] = {
        key: vss[key].model_dump(by_alias=True, exclude_none=True) for key, _ in refs
    }
    for vs in state.values():
        vs["spec"]["http"] = [h for h in vs["spec"].get("http", []) if h is not None]
    domain = mesh.domain
    drs = {
        (d.metadata.namespace or "default", d.metadata.name): d for d in config.destination_rules
    }
    dr_host = None
    if dr is not None:
        rule = drs.get((ns, dr.name))
        dr_host = rule.spec.host if rule is not None else None

    def weighted_indexes(key: VSKey, names: list[str]) -> list[int]:
        http = [cfg.HTTPRoute.model_validate(h) for h in state[key]["spec"]["http"]]
        names = list(names)
        # managed mirror routes are patched by SetWeight too (generateVirtualServicePatches
        # appends their names to the route names). As there, once a mirror route exists and
        # the Rollout lists no routes, only the named routes are patched, not the unnamed one.
        names += [h.name for h in http if h.mirror is not None and h.name in managed and h.name]
        return weighted_route_indexes(names, http)

    def is_canary_dest(host: str, subset: str | None) -> bool:
        if dr is not None:
            return bool(subset) and subset == dr.canary_subset_name
        return short_host(host) == canary.canary_service

    def is_stable_dest(host: str, subset: str | None) -> bool:
        if dr is not None:
            return bool(subset) and subset == dr.stable_subset_name
        return short_host(host) == canary.stable_service

    def set_weight(desired: int) -> None:
        """``processRoutes`` on every referenced VirtualService's weighted routes."""
        stable_w = max(100 - desired, 0)
        for key, ref in refs:
            http = state[key]["spec"]["http"]
            for i in weighted_indexes(key, ref.routes):
                kept = []
                for d in http[i].get("route", []):
                    dest = d.get("destination", {})
                    host, subset = dest.get("host", ""), dest.get("subset")
                    if not short_host(host):
                        kept.append(d)
                    elif is_canary_dest(host, subset):
                        kept.append({**d, "weight": desired})
                    elif is_stable_dest(host, subset):
                        kept.append({**d, "weight": stable_w})
                    elif dr is not None and subset and subset in dr.additional_subset_names:
                        kept.append(d)
                    # else: deleted (appendPatch toDelete)
                http[i]["route"] = kept

    def order(key: VSKey) -> None:
        """``orderRoutes``: managed routes first, in managedRoutes order."""
        if tr.managed_routes is None:
            return
        http = state[key]["spec"]["http"]
        first = [h for m in managed for h in http if h.get("name") == m]
        rest = [h for h in http if h.get("name") not in managed]
        state[key]["spec"]["http"] = first + rest

    def remove(key: VSKey, name: str | None) -> None:
        state[key]["spec"]["http"] = [
            h for h in state[key]["spec"]["http"] if h.get("name") != name
        ]

    canary_host = dr_host or canary.canary_service or ""
    canary_subset = dr.canary_subset_name if dr is not None else None

    def weighted_port(key: VSKey, ref: Any) -> int | None:
        idx = weighted_indexes(key, ref.routes)
        if not idx:
            return None
        route = state[key]["spec"]["http"][idx[0]].get("route", [])
        p = route[0].get("destination", {}).get("port") if route else None
        return int(p["number"]) if p else None

    def header_route(step: cfg.rollouts.SetHeaderRoute) -> None:
        for key, ref in refs:
            port = weighted_port(key, ref)
            remove(key, step.name)
            if step.match is not None:  # Go: Match == nil removes; an empty list matches all
                matches = []
                for m in step.match:
                    v = {
                        k: x
                        for k, x in (
                            ("exact", m.header_value.exact),
                            ("regex", m.header_value.regex),
                            ("prefix", m.header_value.prefix),
                        )
                        if x
                    }
                    matches.append({"headers": {m.header_name: v}})
                d = _dest(canary_host, 100, port, canary_subset)
                state[key]["spec"]["http"].append(
                    {"name": step.name, "match": matches, "route": [d]}
                )
            order(key)

    def mirror_route(step: cfg.rollouts.SetMirrorRoute) -> None:
        for key, ref in refs:
            remove(key, step.name)
            if step.match is not None:
                idx = weighted_indexes(key, ref.routes)
                route = (
                    json.loads(json.dumps(state[key]["spec"]["http"][idx[0]].get("route", [])))
                    if idx
                    else []
                )
                matches = []
                for m in step.match:
                    one: dict[str, Any] = {}
                    for k, v in (("method", m.method), ("uri", m.path)):
                        if v is not None:
                            one[k] = _dump(v)
                    if m.headers:
                        one["headers"] = {h: _dump(v) for h, v in m.headers.items()}
                    matches.append(one)
                mirror: dict[str, Any] = {"host": canary_host}
                if canary_subset:
                    mirror["subset"] = canary_subset
                p = route[0].get("destination", {}).get("port") if route else None
                if p:
                    mirror["port"] = p
                pct = 100 if step.percentage is None else step.percentage
                state[key]["spec"]["http"].insert(
                    0,
                    {
                        "name": step.name,
                        "match": matches,
                        "route": route,
                        "mirror": mirror,
                        "mirrorPercentage": {"value": float(pct)},
                    },
                )
            order(key)

    def snapshot() -> dict[VSKey, dict[str, Any]]:
        """A deep copy of the VirtualServices as they stand."""
        return {k: json.loads(json.dumps(v)) for k, v in state.items()}

    def weighted_now() -> list[tuple[VSKey, int]]:
        return [(key, i) for key, ref in refs for i in weighted_indexes(key, ref.routes)]

    steps: list[Written] = []
    cp: tuple[str | int, ...] = ("spec", "strategy", "canary")
    last_weight = 0
    for i, st in enumerate(canary.steps):
        if st.set_weight is not None:
            last_weight = st.set_weight
        if st.set_header_route is not None:
            header_route(st.set_header_route)
            action = f"setHeaderRoute {st.set_header_route.name}" + (
                "" if st.set_header_route.match else " (remove)"
            )
        elif st.set_mirror_route is not None:
            mirror_route(st.set_mirror_route)
            action = f"setMirrorRoute {st.set_mirror_route.name}" + (
                "" if st.set_mirror_route.match is not None else " (remove)"
            )
        elif st.set_weight is not None:
            action = f"setWeight {st.set_weight}"
        elif st.pause is not None:
            secs = pause_seconds(st.pause)
            action = "pause" + (
                f" {seconds_text(secs)}" if secs is not None else " (until promoted)"
            )
        else:
            action = next(
                k
                for k in ("experiment", "analysis", "setCanaryScale", "plugin")
                if getattr(st, {"setCanaryScale": "set_canary_scale"}.get(k, k)) is not None
            )
            action += " (not simulated)"
        set_weight(last_weight)
        duration = pause_seconds(st.pause) if st.pause is not None else None
        steps.append(
            Written(
                action,
                snapshot(),
                weighted_now(),
                last_weight,
                duration if duration is None or duration >= 0 else None,
                (*cp, "steps", i),
            )
        )
    # after the last step: full promotion (weight = max), then the stable ReplicaSet is the new
    # one: weight back to 0 and the managed routes removed (RemoveManagedRoutes)
    set_weight(100)
    steps.append(
        Written(
            "promote: setWeight 100",
            snapshot(),
            weighted_now(),
            100,
            None,
            cp,
            check_share=False,
        )
    )
    for key, _ in refs:
        state[key]["spec"]["http"] = [
            h for h in state[key]["spec"]["http"] if h.get("name") not in managed
        ]
    set_weight(0)
    steps.append(
        Written(
            "promoted: setWeight 0, managed routes removed",
            snapshot(),
            weighted_now(),
            0,
            None,
            cp,
            check_share=False,
        )
    )

    first_key = refs[0][0]
    first = vss[first_key]
    gws = list(first.spec.gateways)
    hosts = [h for h in first.spec.hosts if not h.startswith("*")] or [canary_host]
    host = hosts[0] if "." in hosts[0] else resolve_short_name(hosts[0], first_key[0], domain)
    if gws and "mesh" not in gws:
        g = gws[0] if "/" in gws[0] else f"{first_key[0]}/{gws[0]}"
        req = Request(host, namespace=first_key[0], gateway=g)
    else:
        req = Request(host, namespace=first_key[0])
    # the Rollout's own pods come from the loader (ConfigSet.mesh), as a Deployment's do
    return Controller(steps, is_canary_dest, [], req, "canary")


def seconds_text(x: float | None) -> str:
    if x is None:
        return "-"
    if x >= 3600 and x % 3600 == 0:
        return f"{x / 3600:g}h"
    if x >= 60 and x % 60 == 0:
        return f"{x / 60:g}m"
    return f"{x:g}s"
