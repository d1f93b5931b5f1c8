"""Simulator and load(): the plan plus the only numpy Generator in the library.

Engines take draws; the Simulator makes them. Scalar routing draws come from a buffer filled by
the Generator in blocks, so one ``route()`` costs no numpy call.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .compiler import compile_plan
from .engine.draws import RngLike, as_generator
from .engine.scalar import ScalarCache
from .engine.scalar import route as _route
from .errors import Diagnostic, InvalidArgument
from .loader import ConfigSet, load_config
from .mesh import Mesh
from .plan import RoutePlan
from .request import Request
from .results import Decision, SimulationResult

if TYPE_CHECKING:
    from .engine.vector import Router


class Simulator:
    """A compiled configuration you can route requests through.

    It owns the only numpy Generator and the engines' caches for its plan (the scalar engine's
    ``ScalarCache`` and the vector engine's ``Router``): they live as long as the simulator.
    """

    _BLOCK = 8192

    def __init__(
        self, plan: RoutePlan, *, config: ConfigSet | None = None, rng: RngLike = None
    ) -> None:
        self.plan = plan
        self.config = config
        self.seed = rng if isinstance(rng, int) else None
        self._rng = as_generator(rng)
        self._buf: tuple[int, ...] = ()
        self._pos = 0
        self._diagnostics: tuple[Diagnostic, ...] | None = None
        self._scalar = ScalarCache()
        self._router: Router | None = None

    @property
    def router(self) -> Router:
        """The vector engine's compiled state for this plan (made on first use)."""
        if self._router is None:
            from .engine.vector import Router

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
        pos = self._pos
        if pos + k > len(self._buf):
            block = self._rng.integers(0, 2**64, size=self._BLOCK * k, dtype=np.uint64)
            self._buf = tuple(block.tolist())
            pos = 0
        self._pos = pos + k
        return self._buf[pos : pos + k]

    def route(self, request: Request, *, rng: RngLike = None, trace: bool = False) -> Decision:
        """Route one request as Istio would. ``explain()`` on the result gives the trace."""
        if not isinstance(request, Request):
            raise InvalidArgument(f"route() takes a Request, not {type(request).__name__}")
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

    def _repr_html_(self) -> str:
        from .display import as_html

        return as_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        from .display import pretty

        pretty(self, p, cycle)


def load(
    *sources: str | os.PathLike[str],
    namespace: str = "default",
    rng: RngLike = None,
    mesh: Mesh | None = None,
) -> Simulator:
    """Load YAML files, folders, ``-`` or YAML text, compile, and return a Simulator."""
    if not sources:
        raise InvalidArgument("load() needs at least one file, folder or YAML text")
    config = load_config(*sources, namespace=namespace, partial=True)
    plan = compile_plan(config, mesh)
    return Simulator(plan, config=config, rng=rng)
