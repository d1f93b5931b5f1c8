"""Rollout lint: a Flagger ``Canary`` or Argo ``Rollout`` that its controller would refuse, or
whose plan does not do what it says (``kubectl argo rollouts lint``, run inside ``check``).

Argo's checks are those of ``pkg/apis/rollouts/validation/validation.go``
(``ValidateRolloutStrategyCanary``) and of ``rollout/trafficrouting/istio/istio.go``
(``ValidateHTTPRoutes``, ``validateVirtualServiceRouteDestinations``), with the referenced
VirtualService and DestinationRule looked up in the loaded config. Flagger's follow
``pkg/controller/scheduler.go`` (``nextStepWeight``, ``maxWeight``, ``runCanary``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import config as cfg
from ..errors import Diagnostic, Location, Severity
from ..loader import ConfigSet
from .subject import Subject

if TYPE_CHECKING:
    from ..config.rollouts import SetHeaderRoute, SetMirrorRoute

#: Go's ``time.ParseDuration`` units, in seconds
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def go_duration(text: str) -> float | None:
    """Seconds of a Go duration (``1m``, ``1m30s``, ``500ms``); None when Go would refuse it."""
    s = text.strip()
    if s in ("0", ""):
        return 0.0 if s == "0" else None
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    total, pos = 0.0, 0
    for m in _PART.finditer(s):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total if pos == len(s) and pos > 0 else None


def pause_seconds(pause: cfg.rollouts.RolloutPause) -> float | None:
    """``RolloutPause.DurationSeconds``: an int is seconds, a unitless string too, else a Go
    duration; None for an indefinite pause (no duration), -1 when unreadable."""
    d = pause.duration
    if d is None:
        return None
    if isinstance(d, int):
        return float(d)
    if re.fullmatch(r"[+-]?\d+", d.strip()):
        return float(int(d))
    secs = go_duration(d)
    return -1.0 if secs is None else float(int(secs))


def interval_seconds(canary: cfg.Canary) -> float | None:
    """Flagger's analysis interval (``GetAnalysisInterval``: 60 s when not set)."""
    text = canary.get_analysis().interval
    return 60.0 if not text else go_duration(text)


def vs_ref_key(name: str, namespace: str) -> tuple[str, str]:
    """``GetVirtualServiceNamespaceName``: ``name`` or ``name.namespace`` → (namespace, name)."""
    if "." in name:
        n, _, ns = name.partition(".")
        return ns, n
    return namespace, name


def short_host(host: str) -> str:
    """Argo's ``getHost``: a destination host up to its first dot."""
    return host.split(".", 1)[0]


@dataclass
class _Out:
    """Diagnostics about one Canary/Rollout, located in its own YAML."""

    config: ConfigSet
    kind: str
    namespace: str
    name: str
    found: list[Diagnostic]

    def add(
        self, code: str, message: str, path: tuple[str | int, ...], severity: Severity | None = None
    ) -> None:
        src = self.config.source(self.kind, self.namespace, self.name)
        where: Location | None = src.find(path)
        self.found.append(
            Diagnostic.make(
                code,
                message,
                where,
                resource=f"{self.kind} {self.namespace}/{self.name}",
                field_path=".".join(str(p) for p in path) or None,
                severity=severity,
            )
        )


def lint(config: ConfigSet, obj: cfg.Canary | cfg.Rollout) -> list[Diagnostic]:
    """Everything wrong with one Canary or Rollout (errors first where they are found)."""
    ns = obj.metadata.namespace or "default"
    out = _Out(config, obj.kind, ns, obj.metadata.name, [])
    if isinstance(obj, cfg.Canary):
        _lint_canary(obj, out)
    else:
        _lint_rollout(config, obj, out)
    return out.found


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for obj in s.config.rollouts:
        out.extend(lint(s.config, obj))
    return out


# -- Flagger ----------------------------------------------------------------------------------


def flagger_strategy(c: cfg.Canary) -> str:
    """``DeploymentStrategy``: match + iterations → A/B, iterations → blue/green, else canary."""
    a = c.get_analysis()
    if a.match and a.iterations > 0:
        return "ab"
    if a.iterations > 0:
        return "bluegreen"
    return "canary"


def strategy_name(strategy: str) -> str:
    return {"ab": "A/B testing", "bluegreen": "blue/green", "canary": "a canary"}[strategy]


def _lint_canary(c: cfg.Canary, out: _Out) -> None:
    a = c.get_analysis()
    base = (
        ("spec", "analysis")
        if c.spec.analysis or not c.spec.canary_analysis
        else (
            "spec",
            "canaryAnalysis",
        )
    )
    secs = interval_seconds(c)
    if secs is None or secs <= 0:
        out.add(
            "ISM0300",
            f"analysis interval {a.interval!r} is not a positive Go duration",
            (*base, "interval"),
        )
    if c.spec.analysis is None and c.spec.canary_analysis is None:
        out.add("ISM0300", "the Canary has no analysis: Flagger never advances it", ("spec",))
        return
    strategy = flagger_strategy(c)
    for field, value in (
        ("maxWeight", a.max_weight),
        ("stepWeight", a.step_weight),
        ("mirrorWeight", a.mirror_weight),
        ("stepWeightPromotion", a.step_weight_promotion),
    ):
        if not 0 <= value <= 100:
            out.add("ISM0300", f"{field} {value} must be within 0..100", (*base, field))
    for i, w in enumerate(a.step_weights):
        if w <= 0:
            out.add(
                "ISM0300",
                f"stepWeights[{i}] = {w} must be positive",
                (*base, "stepWeights", i),
            )
        elif w > 100:
            out.add(
                "ISM0307",
                f"stepWeights[{i}] = {w} is above 100: Flagger clamps the weight at 100",
                (*base, "stepWeights", i),
            )
        elif i and w <= a.step_weights[i - 1]:
            out.add(
                "ISM0300",
                f"stepWeights must increase: {a.step_weights[i - 1]} then {w}",
                (*base, "stepWeights", i),
            )
    if strategy == "canary":
        if a.step_weight <= 0 and not a.step_weights:
            out.add(
                "ISM0300",
                "neither stepWeight nor stepWeights is set (nor iterations): "
                "nextStepWeight is 0 and Flagger never shifts traffic",
                base,
            )
        if a.step_weight > 0 and a.step_weights:
            out.add(
                "ISM0307",
                "stepWeight and stepWeights are both set: Flagger uses stepWeight "
                "and ignores stepWeights",
                (*base, "stepWeights"),
            )
        if a.step_weights and a.max_weight:
            out.add(
                "ISM0307",
                f"maxWeight {a.max_weight} is ignored with stepWeights (the last "
                f"entry, {a.step_weights[-1]}, is the maximum)",
                (*base, "maxWeight"),
            )
    if strategy != "canary" and (a.step_weight or a.step_weights or a.max_weight):
        field = "stepWeight" if a.step_weight else "stepWeights" if a.step_weights else "maxWeight"
        out.add(
            "ISM0307",
            f"{field} is ignored with iterations: Flagger runs {strategy_name(strategy)} "
            f"({a.iterations} iterations), not a weight ramp",
            (*base, field),
        )
    if a.mirror_weight and not a.mirror:
        out.add(
            "ISM0307",
            "mirrorWeight is set but mirror is not: nothing is mirrored",
            (*base, "mirrorWeight"),
        )
    if a.mirror and strategy == "ab":
        out.add(
            "ISM0307", "mirror is ignored in A/B testing (match + iterations)", (*base, "mirror")
        )
    if a.match and strategy == "canary":
        out.add(
            "ISM0307",
            "analysis.match without iterations: Flagger shifts weights only on "
            "the matching requests (its A/B routes), everything else stays on the primary",
            (*base, "match"),
        )
    if c.spec.service.delegation and (c.spec.service.hosts or c.spec.service.gateways):
        out.add(
            "ISM0300",
            "a delegate VirtualService cannot have hosts and gateways "
            "(reconcileVirtualService refuses it)",
            ("spec", "service", "delegation"),
        )


# -- Argo Rollouts ----------------------------------------------------------------------------


def _lint_rollout(config: ConfigSet, r: cfg.Rollout, out: _Out) -> None:
    canary = r.spec.strategy.canary
    if canary is None:
        out.add(
            "ISM0101",
            "blueGreen Rollouts switch Services, not VirtualService weights: not simulated",
            ("spec", "strategy"),
        )
        return
    cp: tuple[str | int, ...] = ("spec", "strategy", "canary")
    if canary.canary_service and canary.canary_service == canary.stable_service:
        out.add(
            "ISM0300",
            "This rollout uses the same service for the stable and canary "
            "services, but two different services are required.",
            (*cp, "stableService"),
        )
    tr = canary.traffic_routing
    istio = tr.istio if tr else None
    if istio is not None and istio.destination_rule is None:
        for field, value in (
            ("stableService", canary.stable_service),
            ("canaryService", canary.canary_service),
        ):
            if not value:
                out.add(
                    "ISM0300",
                    "Canary service and Stable service must to be set to use Traffic Routing",
                    (*cp, field),
                )
    managed = [m.name for m in (tr.managed_routes or [])] if tr else []
    for i, step in enumerate(canary.steps):
        sp = (*cp, "steps", i)
        kinds = [
            k
            for k, v in (
                ("setWeight", step.set_weight),
                ("pause", step.pause),
                ("experiment", step.experiment),
                ("analysis", step.analysis),
            )
            if v is not None
        ]
        others = [step.set_canary_scale, step.set_header_route, step.set_mirror_route, step.plugin]
        if len(kinds) > 1:
            out.add(
                "ISM0300",
                f"a step sets {' and '.join(kinds)}: Step must have one of the "
                "following set: experiment, setWeight, setCanaryScale, plugin or pause",
                sp,
            )
        elif not kinds and all(o is None for o in others):
            out.add(
                "ISM0300",
                "Step must have one of the following set: experiment, setWeight, "
                "setCanaryScale, plugin or pause",
                sp,
            )
        if step.set_weight is not None and not 0 <= step.set_weight <= 100:
            out.add(
                "ISM0300",
                f"SetWeight needs to be between 0 and 100 (got {step.set_weight})",
                (*sp, "setWeight"),
            )
        if step.pause is not None:
            secs = pause_seconds(step.pause)
            if secs is not None and secs < 0:
                out.add(
                    "ISM0300",
                    f"pause duration {step.pause.duration!r} is not a duration "
                    "(Duration needs to be greater than 0)",
                    (*sp, "pause", "duration"),
                )
        for what, route in (
            ("setHeaderRoute", step.set_header_route),
            ("setMirrorRoute", step.set_mirror_route),
        ):
            if route is None:
                continue
            if istio is None:
                out.add("ISM0300", f"{what} requires trafficRouting.istio (here)", (*sp, what))
            elif tr is None or tr.managed_routes is None:
                out.add(
                    "ISM0300",
                    "Rollout has missing field 'spec.strategy.canary.trafficRouting.managedRoutes'",
                    (*sp, what),
                )
            elif route.name not in managed:
                out.add(
                    "ISM0300",
                    f"{what} {route.name!r}: Steps define a route that does not "
                    "exist in spec.strategy.canary.trafficRouting.managedRoutes",
                    (*sp, what, "name"),
                )
        routes: tuple[tuple[str, SetHeaderRoute | SetMirrorRoute | None], ...] = (
            ("setHeaderRoute", step.set_header_route),
            ("setMirrorRoute", step.set_mirror_route),
        )
        for what, sr in routes:
            if sr is not None and sr.match is not None and not sr.match:
                out.add(
                    "ISM0307",
                    f"{what} {sr.name!r} has an empty match list: the route matches every "
                    "request (to remove the route, leave match out)",
                    (*sp, what, "match"),
                )
        if step.set_header_route is not None:
            for j, m in enumerate(step.set_header_route.match or []):
                v = m.header_value
                n = sum(x is not None and x != "" for x in (v.exact, v.prefix, v.regex))
                if n != 1:
                    out.add(
                        "ISM0300",
                        "StringMatch match value must have exactly one of the "
                        "following: exact, regex, prefix",
                        (*sp, "setHeaderRoute", "match", j, "headerValue"),
                    )
        unsimulated: tuple[tuple[str, object], ...] = (
            ("experiment", step.experiment),
            ("setCanaryScale", step.set_canary_scale),
            ("plugin", step.plugin),
        )
        for what, obj in unsimulated:
            if obj is not None:
                out.add(
                    "ISM0101",
                    f"{what} steps are not simulated (the weights stay as they are)",
                    (*sp, what),
                )
    if canary.steps and all(
        st.set_weight in (None, 0) and st.set_header_route is None and st.set_mirror_route is None
        for st in canary.steps
    ):
        out.add(
            "ISM0307",
            "no step sets a weight above 0 or a header/mirror route: the canary receives no "
            "traffic until the full promotion",
            (*cp, "steps"),
        )
    if istio is None:
        if tr is None:
            out.add(
                "ISM0101",
                "a canary without trafficRouting splits by replica count, not by "
                "VirtualService: not simulated",
                cp,
            )
        return
    _lint_istio_refs(config, r, canary, istio, managed, out)


def _lint_istio_refs(
    config: ConfigSet,
    r: cfg.Rollout,
    canary: cfg.rollouts.ArgoCanaryStrategy,
    istio: cfg.rollouts.IstioTrafficRouting,
    managed: list[str],
    out: _Out,
) -> None:
    ns = r.metadata.namespace or "default"
    ip: tuple[str | int, ...] = ("spec", "strategy", "canary", "trafficRouting", "istio")
    vss = {(v.metadata.namespace or "default", v.metadata.name): v for v in config.virtual_services}
    drs = {
        (d.metadata.namespace or "default", d.metadata.name): d for d in config.destination_rules
    }
    refs = istio.refs()
    if not refs:
        out.add("ISM0300", "trafficRouting.istio needs virtualService or virtualServices", ip)
    dr = istio.destination_rule
    if dr is not None:
        rule = drs.get((ns, dr.name))
        dp = (*ip, "destinationRule")
        if rule is None:
            out.add(
                "ISM0301",
                f"DestinationRule {ns}/{dr.name} not found in the loaded config",
                (*dp, "name"),
            )
        else:
            names = {s.name for s in rule.spec.subsets if s is not None}
            for field, sub in (
                ("canarySubsetName", dr.canary_subset_name),
                ("stableSubsetName", dr.stable_subset_name),
            ):
                if sub not in names:
                    out.add(
                        "ISM0301",
                        f"subset {sub!r} is not defined by DestinationRule {ns}/{dr.name}",
                        (*dp, field),
                    )
    for k, ref in enumerate(refs):
        rp = (*ip, "virtualService") if istio.virtual_service else (*ip, "virtualServices", k)
        key = vs_ref_key(ref.name, ns)
        vs = vss.get(key)
        if vs is None:
            out.add(
                "ISM0301",
                f"VirtualService {key[0]}/{key[1]} not found in the loaded config",
                (*rp, "name"),
            )
            continue
        http = [h for h in vs.spec.http if h is not None]
        idx = weighted_route_indexes(ref.routes, http)
        for j, name in enumerate(ref.routes):
            if not any(h.name == name for h in http):
                out.add(
                    "ISM0301",
                    f"HTTP Route '{name}' is not found in the defined Virtual "
                    f"Service {key[0]}/{key[1]}.",
                    (*rp, "routes", j),
                )
        if not ref.routes:
            unmanaged = [h for h in http if h.name not in managed]
            if len(unmanaged) > 1:
                out.add(
                    "ISM0300",
                    f"VirtualService {key[0]}/{key[1]} has {len(unmanaged)} http "
                    "routes: spec.http[] must have exactly one route when omitting "
                    "spec.strategy.canary.trafficRouting.istio.virtualService.routes",
                    rp,
                )
        for i in idx:
            problem = route_destinations_problem(http[i], canary, dr)
            if problem:
                out.add("ISM0301", f"{problem} (VirtualService {key[0]}/{key[1]}, http[{i}])", rp)
            # managed routes go first (orderRoutes); user routes stay in the user's order
            before = [j for j in range(i) if not http[j].match and http[j].name not in managed]
            if before:
                out.add(
                    "ISM0303",
                    f"the weighted route http[{i}] ({http[i].name or 'unnamed'}) of VirtualService "
                    f"{key[0]}/{key[1]} comes after http[{before[0]}], which matches every "
                    "request: it is never reached and setWeight moves no traffic",
                    rp,
                )


def weighted_route_indexes(names: list[str], http: list[cfg.HTTPRoute]) -> list[int]:
    """``getHttpRouteIndexesToPatch``: the named routes; without names, the only route, else
    the first unnamed one; names that do not exist are left out (lint reports them)."""
    if not names:
        if len(http) == 1:
            return [0]
        return next(([i] for i, h in enumerate(http) if not h.name), [])
    out = []
    for n in names:
        i = next((i for i, h in enumerate(http) if h.name == n), -1)
        if i >= 0:
            out.append(i)
    return out


def route_destinations_problem(
    route: cfg.HTTPRoute,
    canary: cfg.rollouts.ArgoCanaryStrategy,
    dr: cfg.rollouts.IstioDestinationRuleRef | None,
) -> str | None:
    """``validateVirtualServiceRouteDestinations``: the route names both stable and canary."""
    dests = [d.destination for d in route.route if d.destination is not None]

    def has(f: Callable[[cfg.Destination], bool]) -> bool:
        return any(f(d) for d in dests)

    if dr is not None:
        if not has(lambda d: d.subset == dr.canary_subset_name):
            return f"Canary DestinationRule subset '{dr.canary_subset_name}' not found in route"
        if not has(lambda d: d.subset == dr.stable_subset_name):
            return f"Stable DestinationRule subset '{dr.stable_subset_name}' not found in route"
        return None
    if not has(lambda d: short_host(d.host) == canary.canary_service):
        return f"Canary Service '{canary.canary_service}' not found in route"
    if not has(lambda d: short_host(d.host) == canary.stable_service):
        return f"Stable Service '{canary.stable_service}' not found in route"
    return None
