"""What happened to a request: outcomes as data, never exceptions.

``Decision`` is one routed request (with ``explain()``, the trace of every rule tried and each
step's file:line). Outcomes follow Envoy's response flags: OK, NR (404, no route), NC (503, no
cluster: subset or host not defined), UH (503, no healthy upstream: no pods), FI (fault abort),
REDIRECT, DIRECT (direct response) and PASSTHROUGH (no virtual host: out of the mesh).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ._display import Displayable
from .errors import Location


class Outcome(str, enum.Enum):
    OK = "OK"
    NR = "NR"
    NC = "NC"
    UH = "UH"
    FI = "FI"
    REDIRECT = "REDIRECT"
    DIRECT = "DIRECT"
    PASSTHROUGH = "PASSTHROUGH"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of a decision's trace: its kind (``vhost``, ``match``...), what happened, where."""

    kind: str
    message: str
    location: Location | None = None

    def __str__(self) -> str:
        where = f"  [{self.location}]" if self.location else ""
        return f"{self.kind:>8}: {self.message}{where}"


@dataclass(frozen=True, slots=True)
class DestinationRef:
    """Where a request went: host, subset, port and Envoy's cluster name."""

    host: str
    subset: str | None
    port: int | None
    cluster: str

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "subset": self.subset, "port": self.port}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A weighted destination of the matched route, with its exact probability."""

    host: str
    subset: str | None
    port: int | None
    cluster: str
    weight: int
    probability: Fraction
    status: str = "OK"

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "subset": self.subset,
            "port": self.port,
            "weight": self.weight,
            "probability": float(self.probability),
        }


class Decision(NamedTuple):
    """Where one request went, and why (``explain()``): a plain value.

    Immutable; a NamedTuple rather than a frozen dataclass because the scalar engine makes one per
    request and a 24-field frozen dataclass costs four times as much to build. Equality compares
    the routing fields only: not the trace, nor the inputs kept for ``explain()`` (``plan``,
    ``request``, ``draws``), so a traced and an untraced decision of the same routing compare
    equal. An untraced decision's ``explain()`` routes ``request`` through ``plan`` again with
    the same ``draws`` and a trace; a pickled decision carries its trace instead of the plan.
    """

    outcome: Outcome
    status: int
    virtual_service: str | None = None
    rule: int | None = None
    match: int | None = None
    rule_name: str | None = None
    destination: DestinationRef | None = None
    workload: str | None = None
    pod: str | None = None
    candidates: tuple[Candidate, ...] = ()
    flags: tuple[str, ...] = ()
    delay_ms: int | None = None
    redirect_location: str | None = None
    body: str | None = None
    path: str | None = None
    authority: str | None = None
    request_headers: dict[str, str] | None = None
    response_headers: tuple[tuple[str, str, str], ...] = ()
    mirrors: tuple[str, ...] = ()
    timeout: str | None = None
    location: Location | None = None
    trace: tuple[TraceStep, ...] | None = None
    plan: Any = None
    request: Any = None
    draws: tuple[int, ...] = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Decision) and tuple.__eq__(self[:_ROUTING], other[:_ROUTING])

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((self.outcome, self.status, self.destination, self.pod))

    def __repr__(self) -> str:
        parts = [self.outcome.value, str(self.status)]
        if self.destination is not None:
            parts.append(self.destination.host.split(".")[0])
            if self.destination.subset:
                parts.append(self.destination.subset)
        if self.rule is not None:
            parts.append(f"rule {self.rule}")
        return f"<Decision {' '.join(parts)}>"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle the routing fields and the trace, not the plan (computed now if needed)."""
        d = self.traced()
        return (_decision, (tuple(d[:_ROUTING]), d.trace))

    @property
    def subset(self) -> str | None:
        return self.destination.subset if self.destination else None

    @property
    def delayed(self) -> bool:
        return "DI" in self.flags

    def traced(self) -> Decision:
        """This decision with its trace (routing it again with the same draws if needed)."""
        if self.trace is not None or self.plan is None:
            return self
        from .engine.scalar import route  # the engine's own trace: one source of truth

        return route(self.plan, self.request, self.draws, trace=True)

    def explain(self) -> str:
        d = self.traced()
        head = f"{d.outcome.value} {d.status}"
        if d.destination is not None:
            head += f" → {d.destination.cluster}"
            if d.pod:
                head += f" (pod {d.pod})"
        lines = [head, *(str(s) for s in d.trace or ())]
        return "\n".join(lines)

    def to_dict(self, *, trace: bool = True) -> dict[str, Any]:
        d = self.traced() if trace else self
        return {
            "outcome": d.outcome.value,
            "status": d.status,
            "virtual_service": d.virtual_service,
            "rule": d.rule,
            "match": d.match,
            "candidates": [c.to_dict() for c in d.candidates],
            "destination": d.destination.to_dict() if d.destination else None,
            "cluster": d.destination.cluster if d.destination else None,
            "workload": d.workload,
            "pod": d.pod,
            "flags": list(d.flags),
            "delay_ms": d.delay_ms,
            "redirect": d.redirect_location,
            "body": d.body,
            "path": d.path,
            "authority": d.authority,
            "request_headers": d.request_headers,
            "mirrors": list(d.mirrors),
            "trace": [
                s.message + (f" [{s.location}]" if s.location else "") for s in d.trace or ()
            ],
        }

    def __str__(self) -> str:
        return self.explain()

    # ---- display (istiosim.display): verdict first, the split, the trace folded ----

    def _table(self) -> Any:
        from .display.objects import decision_table

        return decision_table(self)

    def _repr_html_(self) -> str:
        from .display import as_html

        return as_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        from .display import pretty

        pretty(self, p, cycle)

    def to_pandas(self) -> Any:
        """The candidates of the matched rule (host, subset, port, weight, probability, status)."""
        from .display.objects import candidates_table

        domain = self.plan.domain if self.plan is not None else "cluster.local"
        return candidates_table(self.candidates, domain).to_pandas()


#: Decision's routing fields: all but trace, plan, request and draws
_ROUTING = len(Decision._fields) - 4


def _decision(fields: tuple[Any, ...], trace: tuple[TraceStep, ...] | None) -> Decision:
    return Decision._make((*fields, trace, None, None, ()))


# -- many requests ------------------------------------------------------------------------------


class BatchDecision(Displayable):
    """Where each request of a ``RequestBatch`` went (columnar); ``bd[i]`` is a ``Decision``.

    Per request the engine keeps a leaf id (one terminal state of one route table), the delay
    flag and the mirror bits; the arrays below are lookups over the leaves. ``bd[i]`` rebuilds
    request i's ``Decision`` (without trace) exactly as the scalar engine would.
    """

    def __init__(
        self,
        plan: Any,
        batch: Any,
        leaf: npt.NDArray[np.int32],
        delayed: npt.NDArray[np.bool_] | None,
        mirror_bits: npt.NDArray[np.int64] | None,
        router: Any,
    ) -> None:
        self.plan = plan
        self.batch = batch
        self.leaf = leaf
        self.delayed = delayed
        self.mirror_bits = mirror_bits
        self._router = router

    def __len__(self) -> int:
        return len(self.leaf)

    def __getitem__(self, i: int) -> Decision:
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"decision {i} out of range for a batch of {len(self)}")
        di = bool(self.delayed[i]) if self.delayed is not None else False
        mb = int(self.mirror_bits[i]) if self.mirror_bits is not None else 0
        return self._router.decision(int(self.leaf[i]), self.batch[i], di, mb)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[Decision]:
        return (self[i] for i in range(len(self)))

    @property
    def status(self) -> npt.NDArray[np.int16]:
        return np.take(self._router.table("status"), self.leaf)

    @property
    def rule(self) -> npt.NDArray[np.int32]:
        """Index of the http rule that matched, -1 when none did."""
        return np.take(self._router.table("rule"), self.leaf)

    @property
    def outcome(self) -> npt.NDArray[np.object_]:
        names = np.asarray([o.value for o in Outcome], dtype=object)
        return np.take(names, np.take(self._router.table("outcome"), self.leaf))

    @property
    def delay_ms(self) -> npt.NDArray[np.int64]:
        """The injected delay per request, -1 when none."""
        d = np.take(self._router.table("delay_ms"), self.leaf)
        if self.delayed is None:
            return np.full(len(self), -1, np.int64)
        return np.where(self.delayed, d, -1)

    def _leaf_column(self, fn: Any) -> npt.NDArray[np.object_]:
        leaves = self._router.leaves
        tab = np.empty(len(leaves), dtype=object)
        tab[:] = [fn(lf) for lf in leaves]
        return np.take(tab, self.leaf)

    @property
    def subset(self) -> npt.NDArray[np.object_]:
        return self._leaf_column(lambda lf: lf.cell()[1])

    @property
    def host(self) -> npt.NDArray[np.object_]:
        return self._leaf_column(lambda lf: lf.cell()[0])

    @property
    def workload(self) -> npt.NDArray[np.object_]:
        return self._leaf_column(lambda lf: lf.workload)

    @property
    def pod(self) -> npt.NDArray[np.object_]:
        return self._leaf_column(lambda lf: lf.pod)

    def counts(self, by: str | Sequence[str] | None = None) -> dict[Any, int]:
        """Requests per row (host, subset, workload, outcome, status), or per field(s) ``by``,
        as ``SimulationResult.counts``."""
        keys = _key_fn(by)
        per_leaf = np.bincount(self.leaf, minlength=len(self._router.leaves))
        out: dict[Any, int] = {}
        for i in np.flatnonzero(per_leaf):
            key = keys(self._router.leaves[int(i)].cell())
            out[key] = out.get(key, 0) + int(per_leaf[i])
        return out

    def shares(self, by: str | Sequence[str] | None = None) -> dict[Any, float]:
        """Share of the batch per row or per ``by``, as ``SimulationResult.shares``."""
        n = len(self)
        return {k: v / n for k, v in self.counts(by).items()} if n else {}

    def __repr__(self) -> str:
        return f"<BatchDecision n={len(self)}>"

    def _table(self) -> Any:
        from .display.objects import batch_table

        return batch_table(self)


Cell = tuple[str, str | None, str | None, str, int]
#: the fields of a simulation row, in order
ROW_FIELDS = ("host", "subset", "workload", "outcome", "status")


def _sort_key(cell: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, str(v) if not isinstance(v, int) else f"{v:012d}") for v in cell)


class PerRequest(Displayable):
    """Per-request arrays of a simulation (``keep=True``), computed on access from the leaf ids.

    ``cls[i]`` indexes ``result.classes``; ``cell[i]`` indexes ``result.cells`` (host, subset,
    workload, outcome, status); ``rule`` is the matched http rule (-1 none); ``status`` the HTTP
    status; ``pod`` the pod that served the request (None none); ``delay_ms`` the injected
    delay (-1 none). Kept: 1-2 bytes of class, 4 of leaf id, 1 of delay flag per request.
    """

    def __init__(
        self,
        cls: npt.NDArray[Any],
        leaf: npt.NDArray[np.int32],
        delayed: npt.NDArray[np.bool_] | None,
        tables: dict[str, npt.NDArray[Any]],
    ) -> None:
        self.cls = cls
        self.leaf = leaf
        self.delayed = delayed
        self._tables = tables

    def _column(self, name: str) -> npt.NDArray[Any]:
        return np.take(self._tables[name], self.leaf)

    @property
    def cell(self) -> npt.NDArray[np.int32]:
        return self._column("cell")

    @property
    def rule(self) -> npt.NDArray[np.int32]:
        return self._column("rule")

    @property
    def status(self) -> npt.NDArray[np.int16]:
        return self._column("status")

    @property
    def pod(self) -> npt.NDArray[np.object_]:
        return self._column("pod")

    @property
    def host(self) -> npt.NDArray[np.object_]:
        """The destination FQDN (or the virtual host of a request that reached none)."""
        return self._column("host")

    @property
    def subset(self) -> npt.NDArray[np.object_]:
        return self._column("subset")

    @property
    def workload(self) -> npt.NDArray[np.object_]:
        return self._column("workload")

    @property
    def outcome(self) -> npt.NDArray[np.object_]:
        """OK, NR, NC, UH, FI, REDIRECT, DIRECT or PASSTHROUGH, per request."""
        return self._column("outcome")

    @property
    def delay_ms(self) -> npt.NDArray[np.int64]:
        if self.delayed is None:
            return np.full(len(self.leaf), -1, np.int64)
        return np.where(self.delayed, self._column("delay_ms"), -1)

    def __len__(self) -> int:
        return len(self.leaf)

    def __repr__(self) -> str:
        return (
            f"<PerRequest n={len(self)}: cls, cell, host, subset, workload, outcome, rule, "
            "status, pod, delay_ms>"
        )

    # ---- display (istiosim.display): the first rows; to_pandas() has them all ----

    #: the class names (``result.classes``), set by the SimulationResult that owns these arrays
    classes: tuple[str, ...] = ()

    def _table(self) -> Any:
        from .display.objects import per_request_table

        return per_request_table(self)

    def to_pandas(self) -> Any:
        """One row per request: class, host, subset, workload, outcome, pod (categoricals),
        rule, status, delay_ms."""
        from .display.objects import per_request_frame

        return per_request_frame(self)


class SimulationResult(Displayable):
    """Counts (or, for ``mode='exact'``, probabilities) of many simulated requests.

    Rows are (host, subset, workload, outcome, status): ``host`` is the destination's FQDN, or
    for requests that reached none (NR, FI, REDIRECT, DIRECT) the virtual host they were for;
    ``workload`` names the Deployment whose pod served the request. ``by_class()`` breaks the
    result down by request class of the traffic model. In ``exact`` mode ``counts()`` are the
    expected counts ``n × probability`` (floats) and ``shares()`` the exact probabilities.
    """

    def __init__(
        self,
        *,
        n: int,
        mode: str,
        seed: int | None,
        classes: tuple[str, ...],
        class_shares: tuple[float, ...],
        cells: tuple[Cell, ...],
        matrix: npt.NDArray[Any],
        method: str = "",
        per_request: PerRequest | None = None,
    ) -> None:
        self.n = n
        self.mode = mode
        self.seed = seed
        self.classes = classes
        self.class_shares = class_shares
        self.cells = cells
        self.matrix = matrix  # [class, cell]: counts, or probabilities in exact mode
        self.method = method
        self.per_request = per_request
        if per_request is not None:
            per_request.classes = classes

    @property
    def exact(self) -> bool:
        return self.mode == "exact"

    def _cell_counts(self) -> npt.NDArray[Any]:
        if self.exact:
            shares = np.asarray(self.class_shares, np.float64)
            out: npt.NDArray[Any] = self.n * (shares[:, None] * self.matrix).sum(axis=0)
            return out
        total: npt.NDArray[Any] = self.matrix.sum(axis=0)
        return total

    def counts(self, by: str | Sequence[str] | None = None) -> dict[Any, Any]:
        """Requests per row (a 5-tuple), or per field(s) ``by`` (e.g. ``"subset"``)."""
        keys = _key_fn(by)
        out: dict[Any, Any] = {}
        for cell, c in zip(self.cells, self._cell_counts().tolist(), strict=True):
            if c:
                k = keys(cell)
                out[k] = out.get(k, 0) + c
        return out

    def shares(self, by: str | Sequence[str] | None = None) -> dict[Any, float]:
        """Share of requests per row or per ``by`` (exact probabilities in exact mode)."""
        if self.exact:  # the probabilities themselves, whatever n
            keys = _key_fn(by)
            shares = np.asarray(self.class_shares, np.float64)
            out: dict[Any, float] = {}
            probs = (shares[:, None] * self.matrix).sum(axis=0).tolist()
            for cell, p in zip(self.cells, probs, strict=True):
                if p:
                    k = keys(cell)
                    out[k] = out.get(k, 0.0) + p
            return out
        if self.n == 0:
            return {}
        return {k: v / self.n for k, v in self.counts(by).items()}

    def rows(self) -> list[dict[str, Any]]:
        """The JSON rows: one per distinct (host, subset, workload, outcome, status)."""
        return [
            {**dict(zip(ROW_FIELDS, cell, strict=True)), "count": c}
            for cell, c in zip(self.cells, self._cell_counts().tolist(), strict=True)
            if c
        ]

    def subset_counts(self, host: str | None = None) -> dict[str, int]:
        """Requests per subset among those that reached a destination (OK, NC, UH).

        Keyed by subset (by host when the destination has none). With ``host`` given only that
        host's destinations count (FQDN or short name); without it, when two hosts share a
        subset name, the key would be ambiguous and ``InvalidArgument`` asks for ``host``.
        """
        from .errors import InvalidArgument

        out: dict[str, Any] = {}
        owner: dict[str, str] = {}
        for (h, subset, _w, outcome, _s), c in self.counts().items():
            if outcome not in ("OK", "NC", "UH") or not c:
                continue
            if host is not None and h != host and h.split(".")[0] != host:
                continue
            key = subset if subset is not None else h
            if owner.setdefault(key, h) != h:
                raise InvalidArgument(
                    f"subset {key!r} exists on {owner[key]} and {h}: pass host= to subset_counts()"
                )
            out[key] = out.get(key, 0) + c
        return out

    def by_class(self) -> ClassBreakdown:
        """One result per request class (same mode; counts of that class only), as a mapping."""
        out = ClassBreakdown()
        out.class_shares = dict(zip(self.classes, self.class_shares, strict=True))
        for i, name in enumerate(self.classes):
            row = self.matrix[i : i + 1]
            if self.exact:
                n_c: Any = self.n * self.class_shares[i]
            else:
                n_c = int(row.sum())
            out[name] = SimulationResult(
                n=n_c,
                mode=self.mode,
                seed=self.seed,
                classes=(name,),
                class_shares=(1.0,),
                cells=self.cells,
                matrix=row,
                method=self.method,
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "mode": self.mode, "seed": self.seed}
        out["rows"] = self.rows()
        if len(self.classes) > 1:
            out["classes"] = [
                {"name": name, "share": share, "rows": r.rows()}
                for (name, r), share in zip(self.by_class().items(), self.class_shares, strict=True)
            ]
        return out

    def _table_rows(self) -> list[tuple[Any, ...]]:
        rows = []
        total = self.n or 1
        for r in self.rows():
            c = r["count"]
            count = f"{c:.6g}" if isinstance(c, float) else str(c)
            rows.append(
                (
                    r["host"],
                    r["subset"],
                    r["workload"],
                    r["outcome"],
                    r["status"],
                    count,
                    f"{c / total:.4%}",
                )
            )
        return rows

    def __str__(self) -> str:
        from .display import simulation_text

        return simulation_text(self)

    def __repr__(self) -> str:
        return f"<SimulationResult n={self.n} mode={self.mode} rows={len(self.rows())}>"

    # ---- display (istiosim.display): shares with 95% intervals, pandas, plot ----

    def _table(self) -> Any:
        from .display.objects import simulation_table

        return simulation_table(self)

    def to_pandas(self) -> Any:
        """One row per (host, subset, workload, outcome, status): count, share (and CI bounds)."""
        return self._table().to_pandas()

    def plot(self, by: str = "subset", *, ax: Any = None, weights: Any = None) -> Any:
        """Bar chart of the shares by ``by`` with 95% intervals (and ``weights`` as targets)."""
        from .display.plot import plot_shares

        return plot_shares(self, by=by, ax=ax, weights=weights)


class ClassBreakdown(dict[str, SimulationResult], Displayable):
    """``SimulationResult.by_class()``: class name → its result, displayed as one table."""

    class_shares: dict[str, float]

    def __repr__(self) -> str:
        return f"<ClassBreakdown: {', '.join(self)}>"

    def _table(self) -> Any:
        from .display.objects import breakdown_table

        return breakdown_table(self, getattr(self, "class_shares", {}))

    def to_pandas(self) -> Any:
        """One row per class and (host, subset, workload, outcome, status)."""
        return self._table().to_pandas()


def _key_fn(by: str | Sequence[str] | None) -> Callable[[Cell], Any]:
    if by is None:
        return lambda cell: cell
    fields = (by,) if isinstance(by, str) else tuple(by)
    for f in fields:
        if f not in ROW_FIELDS:
            from .errors import InvalidArgument

            raise InvalidArgument(f"cannot count by {f!r}: choose from {', '.join(ROW_FIELDS)}")
    idx = [ROW_FIELDS.index(f) for f in fields]
    if len(idx) == 1:
        j = idx[0]
        return lambda cell: cell[j]
    return lambda cell: tuple(cell[j] for j in idx)


__all__ = [
    "BatchDecision",
    "Candidate",
    "ClassBreakdown",
    "Decision",
    "DestinationRef",
    "Outcome",
    "PerRequest",
    "SimulationResult",
    "TraceStep",
]
