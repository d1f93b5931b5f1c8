"""Rollout plans: the VirtualServices a Flagger ``Canary`` or an Argo ``Rollout`` writes, step
by step, each validated, routed exactly through a traffic model, and checked for whether the
step sees enough requests to verify its split.

The step arithmetic is the controllers' own:

* Flagger (``pkg/controller/scheduler.go``): ``nextStepWeight``, ``maxWeight`` and ``runCanary``
  (canary), ``runAB`` (match + iterations), ``runBlueGreen`` (iterations), then
  ``runPromotionTrafficShift``; the VirtualService of each step is ``IstioRouter.SetRoutes``
  (``pkg/router/istio.go``): one weighted route ``<apex>-primary``/``<apex>-canary``, a mirror on
  it, the A/B pair of routes, or the session-affinity cookie routes ahead of it.
* Argo Rollouts: the canary weight of step *i* is the last ``setWeight`` at or before it
  (``GetCurrentSetWeight``, ``utils/replicaset/canary.go``); ``setHeaderRoute`` and
  ``setMirrorRoute`` run before ``SetWeight`` (``rollout/trafficrouting.go``); ``SetWeight``
  patches the named routes (``processRoutes``: canary = desired, stable = 100 − desired, other
  destinations deleted), header routes are appended and mirror routes prepended, then the
  managed routes are ordered first (``orderRoutes``), all in
  ``rollout/trafficrouting/istio/istio.go``.

Each step's Simulator is compiled here from the loaded objects with the step's VirtualServices
in place of the user's; Istio's webhook checks run on it, and a step the webhook would refuse
leaves the previous VirtualService in effect (as in the cluster: the update fails).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import config as cfg
from .._display import Displayable
from ..compiler import compile_plan
from ..display import table
from ..engine.vector import Router
from ..errors import ConfigError, Diagnostic, InvalidArgument, Location, Severity
from ..loader import ConfigSet, SourceMap
from ..mesh import Mesh
from ..plan import RoutePlan, fire_probability
from ..simulate import class_leaf_probabilities
from ..simulator import Simulator
from ..stats import required_samples
from ..traffic import Traffic, as_traffic
from .rollout_writers import Controller, VSKey, Written, argo_steps, flagger_steps, seconds_text
from .rollouts_lint import lint

# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutStep:
    """One step of a plan: what the controller writes and what the traffic sees."""

    index: int
    action: str
    #: the weighted (managed) route's destinations as written: ``host`` or ``host:subset``
    weights: dict[str, int]
    #: the canary weight the step asks for (None: the step sets none)
    set_weight: int | None
    canary_share: float | None
    canary_share_managed: float | None
    #: share of all traffic that reaches the weighted routes the controller manages
    managed_share: float | None
    mirror_share: float | None
    duration_s: float | None
    requests: float | None
    required: int | None
    verifiable: bool | None
    diagnostics: tuple[Diagnostic, ...] = ()
    #: the VirtualServices in effect at this step (what the controller wrote, or kept)
    virtual_services: tuple[cfg.VirtualService, ...] = ()
    rejected: bool = False
    #: the compiled config in effect at this step (None: nothing was ever accepted)
    plan: RoutePlan | None = field(default=None, repr=False, compare=False)
    config: ConfigSet | None = field(default=None, repr=False, compare=False)

    def simulator(self, rng: Any = None) -> Simulator:
        """A Simulator of the config as it stands at this step (route or simulate through it)."""
        if self.plan is None:
            raise InvalidArgument(f"step {self.index}: Istio refused every VirtualService so far")
        return Simulator(self.plan, config=self.config, rng=rng)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "action": self.action,
            "weights": dict(self.weights),
            "set_weight": self.set_weight,
            "canary_share": self.canary_share,
            "canary_share_managed": self.canary_share_managed,
            "managed_share": self.managed_share,
            "mirror_share": self.mirror_share,
            "duration_s": self.duration_s,
            "requests": self.requests,
            "required": self.required,
            "verifiable": self.verifiable,
            "rejected": self.rejected,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            # what is in effect at this step, as YAML would write it (flagger #1760: review
            # the VirtualServices a controller will write before it writes them)
            "virtual_services": [_vs_dict(v) for v in self.virtual_services],
        }


@dataclass(frozen=True)
class RolloutPlan(Displayable):
    """The steps of one Canary or Rollout; ``str()`` is the step table, ``to_dict()`` its JSON."""

    kind: str
    name: str
    namespace: str
    strategy: str
    steps: tuple[RolloutStep, ...]
    traffic: str
    rate: float | None
    alpha: float
    tolerance: float
    diagnostics: tuple[Diagnostic, ...] = ()

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Any:
        return iter(self.steps)

    def __getitem__(self, i: int) -> RolloutStep:
        return self.steps[i]

    @property
    def ok(self) -> bool:
        """No step has an error (a refused VirtualService, a missing route)."""
        return not any(
            d.severity is Severity.ERROR for s in self.steps for d in s.diagnostics
        ) and not any(d.severity is Severity.ERROR for d in self.diagnostics)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "strategy": self.strategy,
            "traffic": self.traffic,
            "rate": self.rate,
            "alpha": self.alpha,
            "tolerance": self.tolerance,
            "ok": self.ok,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def rows(self) -> list[dict[str, str]]:
        """The step table as strings, one mapping per step (text and HTML share it)."""
        out = []
        mirrors = any(s.mirror_share for s in self.steps)  # the column only when something is
        for s in self.steps:
            out.append(
                {
                    "step": str(s.index),
                    "action": s.action,
                    "weights": " ".join(f"{k}={v}" for k, v in s.weights.items()) or "-",
                    "canary": _pct(s.canary_share),
                    "canary (managed)": _pct(s.canary_share_managed),
                    "managed": _pct(s.managed_share),
                    **({"mirror": _pct(s.mirror_share)} if mirrors else {}),
                    "duration": seconds_text(s.duration_s),
                    "requests": "-" if s.requests is None else f"{s.requests:,.0f}",
                    "needed": "-" if s.required is None else f"{s.required:,}",
                    "verifiable": {None: "-", True: "yes", False: "NO"}[s.verifiable],
                }
            )
        return out

    def findings(self) -> list[str]:
        """The plan's and the steps' diagnostics, a finding repeated on several steps (same
        code and message) once, with the steps it concerns, then the error/warning count."""
        notes = [(None, d) for d in self.diagnostics] + [
            (s.index, d) for s in self.steps for d in s.diagnostics
        ]
        groups: dict[tuple[str, str], tuple[list[int], Diagnostic]] = {}
        for i, d in notes:
            key = (d.code, d.message) if i is not None else (d.code, f"plan:{d.message}")
            groups.setdefault(key, ([], d))[0].extend([] if i is None else [i])
        lines = []
        for where, d in groups.values():
            label = _step_label(where)
            lines.append((f"{label}: " if label else "") + str(d))
        n_err = sum(d.severity is Severity.ERROR for _, d in groups.values())
        n_warn = sum(d.severity is Severity.WARNING for _, d in groups.values())
        lines.append(f"{n_err} error(s), {n_warn} warning(s)")
        return lines

    def __str__(self) -> str:
        from ..display.changes import rollout_title

        rows = self.rows()
        cols = list(rows[0]) if rows else []
        lines = [rollout_title(self), table(cols, [[r[c] for c in cols] for r in rows])]
        findings = self.findings()
        if len(findings) > 1:
            lines.append("")
        lines += findings
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<RolloutPlan {self.kind} {self.namespace}/{self.name}: {len(self.steps)} steps>"

    def _table(self) -> Any:
        from ..display.changes import rollout_table

        return rollout_table(self, self.findings())

    def to_pandas(self) -> Any:
        """One row per step: the weights written (a ``weight <destination>`` column each), the
        exact shares, the requests a step sees and needs, ``verifiable`` (nullable boolean)."""
        from ..display.changes import rollout_frame

        return rollout_frame(self)

    def plot(self, *, ax: Any = None) -> Any:
        """The shares of all traffic per step (canary, stable, other rules), the steps too short
        to verify their split hatched; returns the Axes."""
        from ..display.changes import rollout_plot

        return rollout_plot(self, ax=ax)


def _vs_dict(vs: cfg.VirtualService) -> dict[str, Any]:
    """A VirtualService as its YAML would say it (fields left at their defaults omitted)."""
    body = vs.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    body.pop("apiVersion", None)
    return {"apiVersion": vs.api_version, "kind": vs.kind, **body}


def _step_label(indexes: list[int]) -> str:
    """``step 3``, ``steps 1, 4`` or ``steps 0-11`` (a run of consecutive steps)."""
    if not indexes:
        return ""
    if len(indexes) == 1:
        return f"step {indexes[0]}"
    if indexes == list(range(indexes[0], indexes[-1] + 1)):
        return f"steps {indexes[0]}-{indexes[-1]}"
    return "steps " + ", ".join(map(str, indexes))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


# -- routing each step ------------------------------------------------------------------------


@dataclass
class _Shares:
    canary: float
    canary_managed: float | None
    managed: float
    mirror: float
    #: (outcome, host) → share of all traffic that fails (404 NR, 503 NC/UH) at this step
    failed: dict[tuple[str, str], float] = field(default_factory=dict)


def _route(
    plan: Any,
    traffic: Traffic,
    weighted: set[tuple[str, int]],
    is_canary: Callable[[str, str | None], bool],
) -> _Shares:
    router = Router(plan)
    for c in traffic.classes:
        router.program(c.template.host, c.template.port, c.source)
    probs = class_leaf_probabilities(router, traffic)
    p = np.asarray(traffic.shares, np.float64) @ probs
    canary = managed = managed_canary = mirror = 0.0
    failed: dict[tuple[str, str], float] = {}
    for i in np.flatnonzero(p > 0):
        lf = router.leaves[int(i)]
        pi = float(p[i])
        t = lf.target_obj
        hit = lf.resolved
        outcome = lf.outcome.value
        if outcome in ("NR", "NC", "UH"):
            where = lf.host(lf.program.key[0]) + (f" subset {t.subset}" if t and t.subset else "")
            failed[(outcome, where)] = failed.get((outcome, where), 0.0) + pi
        to_canary = t is not None and is_canary(t.host, t.subset)
        if to_canary:
            canary += pi
        if hit is not None and (hit.virtual_service.key, hit.entry.rule) in weighted:
            managed += pi
            if to_canary:
                managed_canary += pi
        if hit is not None:
            for mt, pm in hit.mirrors:
                if is_canary(mt.host, mt.subset):
                    mirror += pi * fire_probability(pm)
    return _Shares(
        canary, managed_canary / managed if managed > 0 else None, managed, mirror, failed
    )


def _config_for(base: ConfigSet, vss: Mapping[VSKey, cfg.VirtualService], mesh: Mesh) -> ConfigSet:
    keep = [
        v
        for v in base.virtual_services
        if (v.metadata.namespace or "default", v.metadata.name) not in vss
    ]
    sources = {
        k: v
        for k, v in base.sources.items()
        if not (k[0] == "VirtualService" and (k[1], k[2]) in vss)
    }
    return dataclasses.replace(
        base,
        virtual_services=[*keep, *vss.values()],
        sources=sources,
        diagnostics=[],
        errors=[],
        mesh=mesh,
    )


def rollout(
    sim: Any,
    traffic: Any = None,
    *,
    rate: float | str | None = None,
    alpha: float = 0.05,
    tolerance: float = 0.01,
    name: str | None = None,
) -> RolloutPlan:
    """The plan of the Canary or Rollout loaded in ``sim`` (``name`` picks one when several
    are loaded), step by step: the VirtualServices written, the canary's exact share of
    ``traffic`` (default: one request to the managed host) and, with ``rate`` (requests per
    second, or ``"200/s"``, ``"12000/m"``), whether each timed step (Flagger's interval, Argo's
    pause) sees enough requests to verify its split within ``tolerance`` at ``alpha``
    (``istiosim.stats.required_samples``). Raises ``ConfigError`` (located) when the object is
    one its controller would refuse."""
    config = getattr(sim, "config", None)
    if not isinstance(config, ConfigSet):
        raise InvalidArgument("rollout() needs a Simulator made by istiosim.load (with its config)")
    if not 0 < alpha < 1 or not 0 < tolerance < 1:
        raise InvalidArgument(f"alpha and tolerance must be in (0, 1), got {alpha} and {tolerance}")
    per_s = parse_rate(rate)
    objs = [
        o
        for o in config.rollouts
        if name is None
        or o.metadata.name == name
        or f"{o.metadata.namespace}/{o.metadata.name}" == name
    ]
    if not objs:
        what = f"named {name!r} " if name else ""
        raise InvalidArgument(f"no Flagger Canary or Argo Rollout {what}is loaded")
    if len(objs) > 1:
        names = ", ".join(f"{o.kind} {o.metadata.namespace}/{o.metadata.name}" for o in objs)
        raise InvalidArgument(f"several rollouts are loaded ({names}): pick one with name=")
    obj = objs[0]
    found = lint(config, obj)
    errors = [d for d in found if d.severity is Severity.ERROR]
    if errors:
        raise ConfigError(errors)
    ns = obj.metadata.namespace or "default"
    mesh = config.mesh
    if isinstance(obj, cfg.Canary):
        ctl = flagger_steps(obj, mesh)
    else:
        if (
            obj.spec.strategy.canary is None
            or obj.spec.strategy.canary.traffic_routing is None
            or obj.spec.strategy.canary.traffic_routing.istio is None
        ):
            raise InvalidArgument(
                f"Rollout {ns}/{obj.metadata.name} has no canary trafficRouting.istio: "
                "istiosim simulates the VirtualServices a Rollout writes, and this one writes none"
            )
        ctl = argo_steps(config, obj, mesh)
    if ctl.services or ctl.workloads:
        mesh = Mesh.build(
            [*mesh.services, *ctl.services],
            [*mesh.workloads, *ctl.workloads],
            set(mesh.namespaces) | {ns},
            domain=mesh.domain,
        )
    t = as_traffic(traffic) if traffic is not None else Traffic.constant(ctl.default_request)
    src = config.source(obj.kind, ns, obj.metadata.name)
    run = _Run(config, mesh, t, ctl, src, f"{obj.kind} {ns}/{obj.metadata.name}", per_s)
    steps = [run.step(index, w, alpha, tolerance) for index, w in enumerate(ctl.steps)]
    return RolloutPlan(
        obj.kind,
        obj.metadata.name,
        ns,
        ctl.strategy,
        tuple(steps),
        _describe(t, traffic),
        per_s,
        alpha,
        tolerance,
        tuple(d for d in found if d.severity is not Severity.ERROR),
    )


class _Run:
    """Steps through a plan: the VirtualServices in effect (the last ones Istio accepted) and
    each step's routing, findings and sample size."""

    def __init__(
        self,
        config: ConfigSet,
        mesh: Mesh,
        traffic: Traffic,
        ctl: Controller,
        src: SourceMap,
        resource: str,
        per_s: float | None,
    ) -> None:
        self.config, self.mesh, self.traffic, self.ctl = config, mesh, traffic, ctl
        self.src, self.resource, self.per_s = src, resource, per_s
        self.live: dict[VSKey, cfg.VirtualService] | None = None
        self.live_weighted: list[tuple[VSKey, int]] = []
        self.live_plan: RoutePlan | None = None
        self.live_config: ConfigSet | None = None

    def step(self, index: int, w: Written, alpha: float, tolerance: float) -> RolloutStep:
        where: Location | None = self.src.find(w.where)
        diags: list[Diagnostic] = []

        def note(code: str, message: str) -> None:
            diags.append(Diagnostic.make(code, message, where, resource=self.resource))

        for code, message in w.notes:
            note(code, message)
        written = {k: cfg.VirtualService.model_validate(v) for k, v in w.vss.items()}
        step_config = _config_for(self.config, written, self.mesh)
        rejected = False
        try:
            compiled = compile_plan(step_config, self.mesh)
            self.live, self.live_weighted = written, w.weighted
            self.live_plan, self.live_config = compiled, step_config
        except ConfigError as exc:
            rejected = True
            why = "; ".join(d.message for d in exc.diagnostics[:3])
            kept = (
                "the previous VirtualService stays in effect" if self.live else "nothing is routed"
            )
            note(
                "ISM0302",
                f"Istio's webhook refuses the VirtualService written at this step "
                f"({why}): the update fails and {kept}",
            )
        live, plan = self.live, self.live_plan
        if live is None or plan is None:
            return RolloutStep(
                index,
                w.action,
                _weights_written(w),
                w.set_weight,
                None,
                None,
                None,
                None,
                w.duration_s,
                None,
                None,
                None,
                tuple(diags),
                (),
                True,
            )
        shares = _route(plan, self.traffic, self._weighted_rules(), self.ctl.is_canary)
        self._findings(w, shares, rejected, note)
        weights = _weights(live, self.live_weighted)
        required = requests = verifiable = None
        if self.per_s is not None and w.duration_s is not None:
            requests = self.per_s * w.duration_s * shares.managed
            split = {k: v for k, v in weights.items() if v >= 0}
            if split and sum(split.values()) > 0:
                required = required_samples(split, tolerance=tolerance, alpha=alpha)
                verifiable = requests >= required
                if not verifiable:
                    note(
                        "ISM0306",
                        f"{requests:,.0f} requests reach the weighted route in "
                        f"{seconds_text(w.duration_s)}; verifying the split within ±{tolerance:g} at "
                        f"alpha={alpha:g} needs {required:,}",
                    )
        return RolloutStep(
            index,
            w.action,
            _weights_written(w) if rejected else weights,
            w.set_weight,
            shares.canary,
            shares.canary_managed,
            shares.managed,
            shares.mirror,
            w.duration_s,
            requests,
            required,
            verifiable,
            tuple(diags),
            tuple(live.values()),
            rejected,
            plan,
            self.live_config,
        )

    def _weighted_rules(self) -> set[tuple[str, int]]:
        """(``ns/name``, http index) of the weighted routes in effect; the plan's rule index
        is the position in ``spec.http`` (the controllers write no null rules)."""
        return {(f"{k[0]}/{k[1]}", i) for k, i in self.live_weighted}

    def _findings(
        self, w: Written, shares: _Shares, rejected: bool, note: Callable[[str, str], None]
    ) -> None:
        """Shadowed weighted routes, failing requests, and a canary short of its weight."""
        assert self.live is not None
        shadowed = False
        for k, i in self.live_weighted:
            http = [h for h in self.live[k].spec.http if h is not None]
            earlier = [j for j in range(i) if not http[j].match]
            if earlier:
                shadowed = True
                note(
                    "ISM0303",
                    f"the weighted route http[{i}] of VirtualService {k[0]}/{k[1]} "
                    f"comes after http[{earlier[0]}], which matches every request: it is never "
                    "reached",
                )
        for (outcome, where_to), share in sorted(shares.failed.items()):
            status = 404 if outcome == "NR" else 503
            note(
                "ISM0308",
                f"{_pct(share)} of the traffic fails with {status} {outcome} ({where_to})",
            )
        if shares.managed == 0 and not shadowed:
            note(
                "ISM0303",
                "none of the traffic reaches the weighted routes the controller "
                "manages: earlier rules (or other hosts) take all of it",
            )
        elif (
            w.check_share
            and w.set_weight
            and not rejected
            and shares.canary < w.set_weight / 100 - 1e-9
        ):
            note(
                "ISM0305",
                f"the canary gets {_pct(shares.canary)} of all traffic, not the "
                f"{w.set_weight}% the step sets ({100 * (w.set_weight / 100 - shares.canary):.1f} "
                f"points less): {_pct(1 - shares.managed)} of the traffic is routed by other "
                "rules",
            )


def _weights(
    live: Mapping[VSKey, cfg.VirtualService], weighted: list[tuple[VSKey, int]]
) -> dict[str, int]:
    if not weighted:
        return {}
    k, i = weighted[0]
    http = [h for h in live[k].spec.http if h is not None]
    out: dict[str, int] = {}
    for d in http[i].route:
        if d.destination is None:
            continue
        label = d.destination.host + (f":{d.destination.subset}" if d.destination.subset else "")
        out[label] = out.get(label, 0) + (d.weight or 0)
    return out


def _weights_written(w: Written) -> dict[str, int]:
    vss = {k: cfg.VirtualService.model_validate(v) for k, v in w.vss.items()}
    return _weights(vss, w.weighted)


def _describe(t: Traffic, given: Any) -> str:
    if given is None:
        r = t.classes[0].template
        return f"every request to {r.host}" + (f" via {r.gateway}" if r.gateway else "")
    return (
        f"{len(t.classes)} class(es): "
        + ", ".join(t.names[:5])
        + (" ..." if len(t.names) > 5 else "")
    )


_RATE_UNITS = {"s": 1.0, "sec": 1.0, "m": 1 / 60, "min": 1 / 60, "h": 1 / 3600, "ms": 1000.0}


def parse_rate(rate: float | str | None) -> float | None:
    """Requests per second from ``200``, ``"200"``, ``"200/s"``, ``"12000/m"`` or ``"5/ms"``."""
    if rate is None:
        return None
    if isinstance(rate, bool):
        raise InvalidArgument(f"rate must be a number of requests per second, got {rate!r}")
    if isinstance(rate, int | float):
        value = float(rate)
    else:
        num, _, unit = str(rate).strip().partition("/")
        unit = unit.strip() or "s"
        if unit not in _RATE_UNITS:
            raise InvalidArgument(f"rate {rate!r}: the unit must be one of /s, /m, /h, /ms")
        try:
            value = float(num) * _RATE_UNITS[unit]
        except ValueError:
            raise InvalidArgument(f"rate {rate!r} is not a number of requests per second") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidArgument(f"rate must be a finite number >= 0, got {rate!r}")
    return value


__all__: Sequence[str] = ("RolloutPlan", "RolloutStep", "parse_rate", "rollout")
