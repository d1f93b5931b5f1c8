"""Simulator and load(): the plan plus the only numpy Generator in the library.

Engines take draws; the Simulator makes them. Scalar routing draws come from a buffer filled by
the Generator in blocks, so one ``route()`` costs no numpy call (nor a lock: one ``next``).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from . import config as cfg
from ._display import Displayable
from .compiler import compile_plan
from .engine.draws import RngLike, as_generator
from .engine.scalar import ScalarCache
from .engine.scalar import route as _route
from .engine.scalar import route_drawn as _route_drawn
from .errors import Diagnostic, InvalidArgument
from .loader import ConfigSet, load_config
from .mesh import Mesh
from .plan import RoutePlan
from .request import Request
from .results import Decision, SimulationResult

if TYPE_CHECKING:
    from .engine.vector import Router
    from .sessions import SessionResult

#: whether a GIL makes ``next`` on a shared iterator atomic (``Simulator.draws``)
_GIL: bool = getattr(sys, "_is_gil_enabled", lambda: True)()


class Simulator(Displayable):
    """A compiled configuration you can route requests through.

    It owns the only numpy Generator and the engines' caches for its plan (the scalar engine's
    ``ScalarCache`` and the vector engine's ``Router``): they live as long as the simulator.

    Thread-safe: ``route``, ``simulate`` and ``explain`` may be called from several threads at
    once; with a seed (``rng=``) each call gives what it gives when called alone, whatever the
    other threads route meanwhile (``tests/test_threads.py``).
    """

    _BLOCK = 8192

    def __init__(
        self, plan: RoutePlan, *, config: ConfigSet | None = None, rng: RngLike = None
    ) -> None:
        self.plan = plan
        self.config = config
        self.seed = rng if isinstance(rng, int) else None
        self._rng = as_generator(rng)
        #: the unseeded draws: an iterator over one block's per-request tuples (``draws``)
        self._drawn: Iterator[tuple[int, ...]] = iter(())
        self._diagnostics: tuple[Diagnostic, ...] | None = None
        self._scalar = ScalarCache()
        self._router: Router | None = None
        self._lock = threading.Lock()  # the draw buffer and the router's creation

    @property
    def router(self) -> Router:
        """The vector engine's compiled state for this plan (made on first use)."""
        if self._router is None:
            from .engine.vector import Router

            with self._lock:
                if self._router is None:
                    self._router = Router(self.plan)
        return self._router

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The loader's and webhook's findings, then the analyzers' (computed once)."""
        if self._diagnostics is None:
            if self.config is None:
                self._diagnostics = self.plan.diagnostics
            else:
                from .analysis.registry import analyze

                self._diagnostics = analyze(self.config, self.plan)
        return self._diagnostics

    @property
    def mesh(self) -> Mesh | None:
        return self.config.mesh if self.config else None

    def draws(self, rng: RngLike = None) -> tuple[int, ...]:
        """One request's draws (uint64 values as ints), from ``rng`` or the simulator's stream."""
        k = self.plan.n_draws
        if rng is not None:
            gen = as_generator(rng)
            return tuple(int(x) for x in gen.integers(0, 2**64, size=k, dtype=np.uint64))
        # threads sharing the simulator never get the same draws: ``next`` on a list iterator
        # is atomic under the GIL (one C call); the lock lets one thread only draw a new block,
        # and guards every draw where there is no GIL
        if _GIL:
            got = next(self._drawn, None)
            if got is not None:
                return got
        with self._lock:
            got = next(self._drawn, None)  # another thread may have drawn the block meanwhile
            if got is None:
                if k == 0:
                    return ()
                block = self._rng.integers(0, 2**64, size=self._BLOCK * k, dtype=np.uint64)
                flat = iter(block.tolist())
                drawn = iter(list(zip(*[flat] * k, strict=True)))
                got = next(drawn)
                self._drawn = drawn
        return got

    def route(self, request: Request, *, rng: RngLike = None, trace: bool = False) -> Decision:
        """Route one request as Istio would. ``explain()`` on the result gives the trace."""
        if not isinstance(request, Request):
            raise InvalidArgument(f"route() takes a Request, not {type(request).__name__}")
        if not trace:  # the common case: the simulator's stream (one next), no trace
            draws = next(self._drawn, None) if rng is None and _GIL else None
            return _route_drawn(
                self.plan, request, self.draws(rng) if draws is None else draws, self._scalar
            )
        return _route(self.plan, request, self.draws(rng), trace=trace, cache=self._scalar)

    def simulate(
        self,
        traffic: Any,
        n: int,
        *,
        rng: RngLike = None,
        mode: str = "sample",
        keep: bool = False,
        method: str = "auto",
        chunk_size: int = 1 << 16,
        threads: int | None = None,
    ) -> SimulationResult:
        """Route ``n`` requests from a ``Request`` or a ``Traffic`` model; counts by row.

        ``mode``: ``sample`` (seeded Monte Carlo, default), ``exact`` (analytic probabilities
        per request class) or ``stratified`` (deterministic counts, each row within ±1 of
        n × p). ``rng`` seeds the run (None = the simulator's own stream); the same seed gives
        the same result whatever ``chunk_size`` and ``threads``. ``keep=True`` keeps
        per-request arrays in ``result.per_request``. ``method``: ``counts`` (one multinomial
        per class), ``vector`` (every request through the vector engine, streamed) or
        ``auto`` (counts unless per-request arrays are kept). See ``istiosim.simulate``;
        a long streamed run is faster after ``istiosim.simulate.keep_freed_memory()``.
        """
        from .simulate import simulate

        if rng is None:
            rng = self._rng
        res = simulate(
            self.plan,
            traffic,
            n,
            rng=rng,
            mode=mode,
            keep=keep,
            method=method,
            chunk_size=chunk_size,
            threads=threads,
            router=self.router,
        )
        return res

    def sessions(
        self,
        traffic: Any,
        *,
        users: int = 1000,
        requests_per_user: int = 10,
        rng: RngLike = None,
    ) -> SessionResult:
        """``users`` users each send ``requests_per_user`` times their one request (drawn from
        a ``Request`` or ``Traffic`` model); per user, the distinct subsets and pods reached.

        Shows what ``consistentHash`` keeps sticky: the pod within a subset, not the subset
        (Envoy picks the weighted destination per request, then hashes inside it). The
        summary gives sampled shares and exact probabilities (``istiosim.sessions``).
        """
        from .sessions import sessions

        return sessions(
            self.router,
            traffic,
            users=users,
            requests_per_user=requests_per_user,
            rng=self._rng if rng is None else rng,
        )

    # -- what-if: a new Simulator, this one unchanged --------------------------------------------

    def apply(self, objects: Any, *, namespace: str = "default") -> Simulator:
        """A new Simulator with ``objects`` added or replaced as ``kubectl apply`` would.

        ``objects``: YAML text, a file or folder path, a config model (``VirtualService``...),
        a mapping, or a list of those. An object of the same kind, namespace and name replaces
        the loaded one in place (its position, hence its precedence, is kept); a new one comes
        last. Objects without a namespace go to ``namespace``. This simulator is unchanged.
        """
        if self.config is None:
            raise InvalidArgument("apply() needs a Simulator made by load() (it has no config)")
        added = load_config(*_as_sources(objects), namespace=namespace)
        return self._with_config(_merge(self.config, added))

    def delete(self, kind: str, name: str, namespace: str = "default") -> Simulator:
        """A new Simulator without the object (``kubectl delete KIND NAME -n NAMESPACE``)."""
        if self.config is None:
            raise InvalidArgument("delete() needs a Simulator made by load() (it has no config)")
        return self._with_config(_without(self.config, kind, name, namespace))

    def with_weights(
        self, virtual_service: str, rule: int | str, weights: Mapping[str, int]
    ) -> Simulator:
        """A new Simulator where one http rule's destinations are exactly ``weights``.

        ``virtual_service``: ``ns/name`` (or ``name`` in ``default``); ``rule``: the index of the
        http rule or its name; ``weights``: subset name (or destination host, or ``host/subset``)
        → weight. A key naming no current destination adds one with the rule's host and that
        subset; destinations not named are removed (give them weight 0 to keep them).
        """
        if self.config is None:
            raise InvalidArgument("with_weights() needs a Simulator made by load()")
        ns, _, name = virtual_service.rpartition("/")
        ns = ns or "default"
        vss = list(self.config.virtual_services)
        at = next(
            (
                i
                for i, v in enumerate(vss)
                if v.metadata.name == name and (v.metadata.namespace or "default") == ns
            ),
            None,
        )
        if at is None:
            raise InvalidArgument(f"no VirtualService {ns}/{name} is loaded")
        vs = vss[at]
        vss[at] = vs.model_copy(
            update={"spec": _reweighted(vs.spec, f"{ns}/{name}", rule, weights)}
        )
        config = replace(self.config, virtual_services=vss)
        return self._with_config(config)

    def _with_config(self, config: ConfigSet) -> Simulator:
        plan = compile_plan(config)
        return Simulator(plan, config=config, rng=self.seed)

    def explain(self, request: Request, *, rng: RngLike = None) -> str:
        return self.route(request, rng=rng, trace=True).explain()

    def __repr__(self) -> str:
        p = self.plan
        return (
            f"<Simulator: {len(p.virtual_services)} VirtualService(s), {len(p.destination_rules)} "
            f"DestinationRule(s), {len(p.services)} service(s)>"
        )

    # ---- display (istiosim.display): hosts, VirtualServices, subsets and pods at a glance ----

    def _table(self) -> Any:
        from .display.objects import simulator_table

        return simulator_table(self)


def load(
    *sources: str | os.PathLike[str],
    namespace: str = "default",
    rng: RngLike = None,
    mesh: Mesh | None = None,
) -> Simulator:
    """Load YAML files, folders, ``-`` or YAML text, compile, and return a Simulator."""
    if not sources:
        raise InvalidArgument("load() needs at least one file, folder or YAML text")
    for s in sources:
        if not isinstance(s, str | os.PathLike):
            raise InvalidArgument(
                f"load() takes paths, '-' or YAML text, not {type(s).__name__} {s!r}"
            )
    if not isinstance(namespace, str) or not namespace:
        raise InvalidArgument(f"namespace must be a non-empty string, got {namespace!r}")
    config = load_config(*sources, namespace=namespace, partial=True)
    plan = compile_plan(config, mesh)
    return Simulator(plan, config=config, rng=rng)


# -- what-if helpers (Simulator.apply / delete / with_weights) ---------------------------------


def _as_sources(objects: Any) -> list[str | os.PathLike[str]]:
    """YAML text, paths, config models or mappings → what ``load_config`` reads (JSON is YAML)."""
    items = list(objects) if isinstance(objects, list | tuple) else [objects]
    out: list[str | os.PathLike[str]] = []
    for o in items:
        if isinstance(o, str | os.PathLike):
            out.append(o)
        elif hasattr(o, "model_dump"):
            out.append(json.dumps(o.model_dump(by_alias=True, exclude_none=True, mode="json")))
        elif isinstance(o, Mapping):
            out.append(json.dumps(o))
        else:
            raise InvalidArgument(
                f"apply() takes YAML text, a path, a config object or a mapping, not {type(o).__name__}"
            )
    if not out:
        raise InvalidArgument("apply() needs at least one object")
    return out


#: the kind of each object list of a ConfigSet (what apply() replaces and delete() removes)
_OBJECT_LISTS = {
    "VirtualService": "virtual_services",
    "DestinationRule": "destination_rules",
    "ServiceEntry": "service_entries",
    "Gateway": "gateways",
    "Sidecar": "sidecars",
    "RequestAuthentication": "request_authentications",
    "KubernetesGateway": "kubernetes_gateways",
    "Namespace": "namespaces",
    "Canary": "rollouts",
    "Rollout": "rollouts",
}


def _key(o: Any) -> tuple[str, str, str]:
    return (type(o).__name__, o.metadata.namespace or "default", o.metadata.name)


def _replace_or_append(old: list[Any], new: list[Any]) -> list[Any]:
    out = list(old)
    index = {_key(o): i for i, o in enumerate(out)}
    for o in new:
        i = index.get(_key(o))
        if i is None:
            index[_key(o)] = len(out)
            out.append(o)
        else:
            out[i] = o
    return out


def _merge(base: ConfigSet, added: ConfigSet) -> ConfigSet:
    """``base`` with ``added``'s objects applied over it (same kind/namespace/name replaces)."""
    m, a = base.mesh, added.mesh
    new_svc = {(s.kind, s.namespace, s.name) for s in a.services}
    new_wl = {(w.namespace, w.name) for w in a.workloads}
    services = [s for s in m.services if (s.kind, s.namespace, s.name) not in new_svc]
    workloads = [w for w in m.workloads if (w.namespace, w.name) not in new_wl]
    mesh = Mesh.build(
        [*services, *a.services],
        [*workloads, *a.workloads],
        m.namespaces | a.namespaces,
        domain=m.domain,
    )
    lists = {
        f: _replace_or_append(getattr(base, f), getattr(added, f))
        for f in (*dict.fromkeys(_OBJECT_LISTS.values()), "pods")
    }
    return ConfigSet(
        **lists,
        mesh=mesh,
        sources={**base.sources, **added.sources},
        diagnostics=[*base.diagnostics, *added.diagnostics],
        files=[*base.files, *added.files],
        errors=[*base.errors, *added.errors],
    )


def _without(base: ConfigSet, kind: str, name: str, namespace: str) -> ConfigSet:
    m = base.mesh
    if kind in _OBJECT_LISTS:
        field = _OBJECT_LISTS[kind]
        objs = getattr(base, field)
        kept = [o for o in objs if _key(o) != (kind, namespace, name)]
        found = len(kept) < len(objs)
        out = replace(base)
        setattr(out, field, kept)
        if kind == "ServiceEntry":
            svcs = [
                s for s in m.services if (s.kind, s.namespace, s.name) != (kind, namespace, name)
            ]
            out.mesh = Mesh.build(svcs, m.workloads, m.namespaces, domain=m.domain)
    elif kind in ("Service", "Deployment", "StatefulSet", "Pod"):
        svcs = [s for s in m.services if (s.kind, s.namespace, s.name) != (kind, namespace, name)]
        wls = [
            w
            for w in m.workloads
            if not (kind != "Service" and (w.namespace, w.name) == (namespace, name))
        ]
        found = len(svcs) + len(wls) < len(m.services) + len(m.workloads)
        pods = base.pods
        if kind == "Pod":
            pods = [p for p in pods if _key(p)[1:] != (namespace, name)]
        out = replace(base, mesh=Mesh.build(svcs, wls, m.namespaces, domain=m.domain), pods=pods)
    else:
        known = ", ".join(sorted({*_OBJECT_LISTS, "Service", "Deployment", "StatefulSet", "Pod"}))
        raise InvalidArgument(f"delete() does not know the kind {kind!r} (it knows {known})")
    if not found:
        raise InvalidArgument(f"{kind} {namespace}/{name} is not loaded")
    out.sources = {k: v for k, v in base.sources.items() if k != (kind, namespace, name)}
    return out


def _reweighted(
    spec: cfg.VirtualServiceSpec, vs: str, rule: int | str, weights: Mapping[str, int]
) -> cfg.VirtualServiceSpec:
    http = list(spec.http)
    if isinstance(rule, int) and not isinstance(rule, bool):
        i = rule if 0 <= rule < len(http) else None
    else:
        i = next((k for k, r in enumerate(http) if r is not None and r.name == rule), None)
    if i is None or http[i] is None:
        raise InvalidArgument(f"VirtualService {vs} has no http rule {rule!r}")
    r = http[i]
    assert r is not None
    if not r.route:
        raise InvalidArgument(f"rule {rule!r} of VirtualService {vs} has no route to re-weight")
    if not weights:
        raise InvalidArgument("with_weights() needs at least one destination")
    dests = [d for d in r.route if d.destination is not None]
    host = dests[0].destination.host if dests and dests[0].destination else ""
    new: list[cfg.HTTPRouteDestination] = []
    for key, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            raise InvalidArgument(f"weight of {key!r} must be an integer >= 0, got {w!r}")
        hit = next((d for d in dests if _names(d, key)), None)
        if hit is None:
            hit = cfg.HTTPRouteDestination(destination=cfg.Destination(host=host, subset=key))
        new.append(hit.model_copy(update={"weight": w}))
    http[i] = r.model_copy(update={"route": new})
    return spec.model_copy(update={"http": http})


def _names(d: cfg.HTTPRouteDestination, key: str) -> bool:
    dest = d.destination
    assert dest is not None
    return key in (dest.subset, dest.host, f"{dest.host}/{dest.subset}")
