"""The application model as values: read from a file (located errors), or built from Python
objects (``config.app`` models or plain mappings), then checked against a mesh.

A workload of the model is keyed by its pods' ``app`` label (Kubernetes' convention, Bookinfo's
too); ``versions`` override its behaviour for pods with that ``version`` label.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from ..compiler.webhook.values import parse_duration_ms
from ..config import app as model
from ..errors import ConfigError, Diagnostic, InvalidArgument, Location
from ..loader.yaml import SourceMap, dotted
from ..plan import RoutePlan

Path = tuple[str | int, ...]

#: what ``--app bookinfo`` names: the model bundled with istiosim
BUNDLED = {"bookinfo": "app.yaml"}


@dataclass(frozen=True, slots=True)
class LatencyDist:
    """A latency distribution in milliseconds: constant, exponential (mean), lognormal
    (median, sigma) or empirical (values with probabilities)."""

    kind: str
    a: float = 0.0
    b: float = 0.0
    values: tuple[float, ...] = ()
    probs: tuple[float, ...] = ()

    @classmethod
    def constant(cls, ms: float) -> LatencyDist:
        return cls("constant", ms)

    def finite(self) -> list[tuple[float, float]] | None:
        """The (value, probability) pairs when there are finitely many, else None."""
        if self.kind == "constant":
            return [(self.a, 1.0)]
        if self.kind == "empirical":
            return [(v, p) for v, p in zip(self.values, self.probs, strict=True) if p > 0]
        return None

    def sample(self, rng: np.random.Generator) -> float:
        if self.kind == "constant":
            return self.a
        if self.kind == "exponential":
            return float(rng.exponential(self.a))
        if self.kind == "lognormal":
            return float(self.a * math.exp(self.b * rng.standard_normal()))
        i = int(np.searchsorted(np.cumsum(self.probs), rng.random() * sum(self.probs), "right"))
        return self.values[min(i, len(self.values) - 1)]

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray[Any, Any]:
        """``n`` draws at once (the vector path)."""
        if self.kind == "constant":
            return np.full(n, self.a)
        if self.kind == "exponential":
            return rng.exponential(self.a, n)
        if self.kind == "lognormal":
            x = rng.standard_normal(n)  # a·exp(b·z), in place: the same values, one array
            x *= self.b
            np.exp(x, out=x)
            x *= self.a
            return x
        cum = np.cumsum(self.probs)
        idx = np.searchsorted(cum, rng.random(n) * cum[-1], "right")
        out: np.ndarray[Any, Any] = np.asarray(self.values)[np.minimum(idx, len(self.values) - 1)]
        return out

    def describe(self) -> str:
        if self.kind == "constant":
            return f"{self.a:g} ms"
        if self.kind == "exponential":
            return f"exponential, mean {self.a:g} ms"
        if self.kind == "lognormal":
            return f"lognormal, median {self.a:g} ms, sigma {self.b:g}"
        return f"empirical over {len(self.values)} values"


ZERO = LatencyDist.constant(0.0)


@dataclass(frozen=True, slots=True)
class CallSpec:
    host: str
    name: str
    port: int | None = None
    path: str = "/"
    method: str = "GET"
    propagate: tuple[str, ...] | None = None  # None: every header
    headers: tuple[tuple[str, str], ...] = ()
    versions: frozenset[str] | None = None
    timeout_ms: float | None = None
    attempts: int = 1
    required: bool = False
    location: Location | None = field(default=None, compare=False)

    def made_by(self, version: str | None) -> bool:
        return self.versions is None or version in self.versions


@dataclass(frozen=True, slots=True)
class Behaviour:
    latency: LatencyDist = ZERO
    error_rate: float = 0.0
    error_status: int = 500
    calls: tuple[CallSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Condition:
    call: str
    version: str | None = None
    failed: bool | None = None
    status: int | None = None
    absent: bool | None = None


@dataclass(frozen=True, slots=True)
class SeesRule:
    label: str
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Application:
    """What each workload does with a request it serves, and what the user sees."""

    name: str
    namespace: str
    workloads: Mapping[str, Mapping[str | None, Behaviour]]
    sees: tuple[SeesRule, ...] = ()
    entry_host: str | None = None
    entry_path: str = "/"
    source: str | None = None

    def behaviour(self, app: str | None, version: str | None) -> Behaviour | None:
        """The behaviour of pods labelled ``app``/``version`` (None: not in the model)."""
        per = self.workloads.get(app) if app is not None else None
        if per is None:
            return None
        got = per.get(version)
        return got if got is not None else per[None]

    def dists(self) -> list[LatencyDist]:
        return [b.latency for per in self.workloads.values() for b in per.values()]

    def label(self, hops: Sequence[Any]) -> str:
        """What the user sees of a page view whose used hops are ``hops``."""
        for rule in self.sees:
            if all(_holds(c, hops) for c in rule.when):
                return rule.label
        return "page" if not self.sees else "unlabelled"

    @classmethod
    def from_model(
        cls, m: model.ApplicationFile, smap: SourceMap | None = None, where: Location | None = None
    ) -> Application:
        smap = smap or SourceMap()
        where = where or Location("<application>")
        errors: list[Diagnostic] = []
        workloads: dict[str, dict[str | None, Behaviour]] = {}
        for app, w in m.workloads.items():
            base = _behaviour(w, None, ("workloads", app), smap, where, errors)
            per: dict[str | None, Behaviour] = {None: base}
            for ver, ov in w.versions.items():
                per[ver] = _behaviour(
                    ov, base, ("workloads", app, "versions", ver), smap, where, errors
                )
            workloads[app] = per
        if errors:
            raise ConfigError(errors)
        sees = tuple(
            SeesRule(r.label, tuple(Condition(**c.model_dump()) for c in r.when)) for r in m.sees
        )
        return cls(
            m.name,
            m.namespace,
            workloads,
            sees,
            m.entry.host if m.entry else None,
            m.entry.path if m.entry else "/",
            where.file,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Application:
        """From plain data (as a YAML file holds it); errors name the field."""
        from ..traffic import validate_input

        where = Location("<application>")
        if not isinstance(data, Mapping):
            raise InvalidArgument(f"an application is a mapping, not {type(data).__name__}")
        m = validate_input(model.ApplicationFile, dict(data), SourceMap(), where)
        return cls.from_model(m, None, where)

    def check(self, plan: RoutePlan) -> None:
        """Calls to hosts the mesh does not know, and call cycles: located errors."""
        errors: list[Diagnostic] = []
        for app, per in self.workloads.items():
            for b in per.values():
                for c in b.calls:
                    if _service(plan, c.host, self.namespace) is None:
                        errors.append(
                            Diagnostic.make(
                                "ISM0400",
                                f"workload {app!r} calls host {c.host!r}, which no Service of "
                                "the loaded mesh answers to",
                                c.location or Location(self.source or "<application>"),
                                field_path="host",
                            )
                        )
        if errors:
            raise ConfigError(errors)
        cycle = self._cycle(plan)
        if cycle is not None:
            path, call = cycle
            raise ConfigError(
                [
                    Diagnostic.make(
                        "ISM0401",
                        "the calls form a cycle: " + " → ".join(path) + " (a page view would "
                        "never end)",
                        call.location or Location(self.source or "<application>"),
                        field_path="host",
                    )
                ]
            )

    def _cycle(self, plan: RoutePlan) -> tuple[list[str], CallSpec] | None:
        edges: dict[str, list[tuple[str, CallSpec]]] = {}
        for app, per in self.workloads.items():
            for b in per.values():
                for c in b.calls:
                    svc = _service(plan, c.host, self.namespace)
                    apps: set[str] = {svc.name if svc else c.host}
                    if svc:
                        apps |= {a for e in svc.endpoints if (a := dict(e.labels).get("app"))}
                    for callee in sorted(a for a in apps if a in self.workloads):
                        edges.setdefault(app, []).append((callee, c))
        state: dict[str, int] = {}

        def visit(a: str, stack: list[str]) -> tuple[list[str], CallSpec] | None:
            state[a] = 1
            for b, c in edges.get(a, ()):
                if state.get(b) == 1:
                    return [*stack[stack.index(b) :], a, b] if b in stack else [a, b], c
                if b not in state:
                    got = visit(b, [*stack, a])
                    if got is not None:
                        return got
            state[a] = 2
            return None

        for a in self.workloads:
            if a not in state:
                got = visit(a, [])
                if got is not None:
                    return got
        return None


def _holds(c: Condition, hops: Sequence[Any]) -> bool:
    mine = [h for h in hops if h.app == c.call]
    if c.absent is not None:
        return (not mine) == c.absent
    for h in mine:
        if c.version is not None and h.version != c.version:
            continue
        if c.failed is not None and h.failed != c.failed:
            continue
        if c.status is not None and h.seen != c.status:
            continue
        return True
    return False


def _service(plan: RoutePlan, host: str, namespace: str) -> Any:
    """The Service a call's host names (short names from the caller's namespace)."""
    found = plan.names.get(host)
    if not found:
        return None
    for s in found:
        if s.namespace == namespace:
            return s
    return found[0]


def _duration(
    text: str, path: Path, smap: SourceMap, where: Location, errors: list[Diagnostic]
) -> float:
    ms = parse_duration_ms(text)
    if ms is None or ms < 0:
        errors.append(
            Diagnostic.make(
                "ISM0004",
                f"invalid duration {text!r} (write it as Istio does: 10ms, 2.5s, 1m)",
                smap.find(path) or where,
                field_path=dotted(path),
            )
        )
        return 0.0
    return ms


def _latency(
    spec: Any, path: Path, smap: SourceMap, where: Location, errors: list[Diagnostic]
) -> LatencyDist:
    if isinstance(spec, str):
        return LatencyDist.constant(_duration(spec, path, smap, where, errors))
    if spec.constant is not None:
        return LatencyDist.constant(
            _duration(spec.constant, (*path, "constant"), smap, where, errors)
        )
    if spec.exponential is not None:
        return LatencyDist(
            "exponential",
            _duration(spec.exponential.mean, (*path, "exponential", "mean"), smap, where, errors),
        )
    if spec.lognormal is not None:
        p = (*path, "lognormal", "median")
        return LatencyDist(
            "lognormal",
            _duration(spec.lognormal.median, p, smap, where, errors),
            float(spec.lognormal.sigma),
        )
    e = spec.empirical
    vals = tuple(
        _duration(v, (*path, "empirical", "values", i), smap, where, errors)
        for i, v in enumerate(e.values)
    )
    ws = e.weights or [1.0] * len(vals)
    tot = float(sum(ws))
    return LatencyDist("empirical", values=vals, probs=tuple(float(w) / tot for w in ws))


def _behaviour(
    b: model.Behaviour,
    base: Behaviour | None,
    path: Path,
    smap: SourceMap,
    where: Location,
    errors: list[Diagnostic],
) -> Behaviour:
    out = base or Behaviour()
    lat = (
        out.latency
        if b.latency is None
        else _latency(b.latency, (*path, "latency"), smap, where, errors)
    )
    calls = out.calls
    if b.calls is not None:
        prop_default = None if b.propagate == "*" else tuple(h.lower() for h in b.propagate or ())
        calls = tuple(
            _call(c, i, prop_default, (*path, "calls", i), smap, where, errors)
            for i, c in enumerate(b.calls)
        )
    return Behaviour(
        lat,
        out.error_rate if b.error_rate is None else float(b.error_rate),
        out.error_status if b.error_status is None else b.error_status,
        calls,
    )


def _call(
    c: model.Call,
    i: int,
    prop_default: tuple[str, ...] | None,
    path: Path,
    smap: SourceMap,
    where: Location,
    errors: list[Diagnostic],
) -> CallSpec:
    if c.propagate is None:
        prop = prop_default
    else:
        prop = None if c.propagate == "*" else tuple(h.lower() for h in c.propagate)
    return CallSpec(
        host=c.host,
        name=c.name or c.host.split(".")[0],
        port=c.port,
        path=c.path,
        method=c.method,
        propagate=prop,
        headers=tuple((k.lower(), v) for k, v in c.headers.items()),
        versions=frozenset(c.versions) if c.versions is not None else None,
        timeout_ms=(
            None
            if c.timeout is None
            else _duration(c.timeout, (*path, "timeout"), smap, where, errors)
        ),
        attempts=c.attempts,
        required=c.required,
        location=smap.find((*path, "host")) or where,
    )


def read_application(source: str | os.PathLike[str]) -> Application:
    """An application file (or ``bookinfo``, the bundled model), validated like a config:
    every error raises ``ConfigError`` at the offending value's file:line:col with a code."""
    from ..loader import load_yaml_documents
    from ..traffic import validate_input

    if isinstance(source, str) and source in BUNDLED:
        res = resources.files("istiosim.data.bookinfo").joinpath(BUNDLED[source])
        source = str(res)
    docs = load_yaml_documents(source)
    if len(docs) != 1:
        where = docs[1][2] if docs else Location(str(source))
        raise ConfigError(
            [Diagnostic.make("ISM0007", "an application file holds one mapping", where)]
        )
    data, smap, where = docs[0]
    m = validate_input(model.ApplicationFile, dict(data), smap, where)
    return Application.from_model(m, smap, where)


def as_application(obj: Any) -> Application:
    """An ``Application``, a ``config.app.ApplicationFile``, a mapping, or a file / ``bookinfo``."""
    if isinstance(obj, Application):
        return obj
    if isinstance(obj, model.ApplicationFile):
        return Application.from_model(obj)
    if isinstance(obj, Mapping):
        return Application.from_dict(obj)
    if isinstance(obj, str | os.PathLike):
        return read_application(obj)
    raise InvalidArgument(
        f"app must be an Application, a mapping, a file or 'bookinfo', not {type(obj).__name__}"
    )


__all__ = [
    "Application",
    "Behaviour",
    "CallSpec",
    "Condition",
    "LatencyDist",
    "SeesRule",
    "as_application",
    "read_application",
]
