"""Page views in aggregate: classes by outcome, the share of each "what the user sees", and
latency percentiles per class; and one page view's call tree as text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._display import Displayable
from .run import Hop

#: (workload, status seen) per used hop, in call order
HopKey = tuple[tuple[str | None, int], ...]


@dataclass(frozen=True)
class OutcomeClass:
    """Page views with the same hops (workload, status seen), entry status and label."""

    sees: str
    status: int
    hops: HopKey
    weight: float  # a count (sampled) or a probability (exact)
    latencies: npt.NDArray[np.float64]  # latency values (ms)
    latency_weights: npt.NDArray[np.float64]  # their counts or probabilities

    def percentile(self, q: float) -> float:
        """The ``q``-quantile of latency (inverted CDF, as numpy's ``inverted_cdf``)."""
        order = np.argsort(self.latencies, kind="stable")
        v, w = self.latencies[order], self.latency_weights[order]
        cum = np.cumsum(w)
        i = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
        return float(v[min(i, len(v) - 1)])

    def latency_ms(self) -> dict[str, float]:
        return {
            "p50": round(self.percentile(0.5), 3),
            "p90": round(self.percentile(0.9), 3),
            "p99": round(self.percentile(0.99), 3),
        }


@dataclass(frozen=True)
class JourneyResult(Displayable):
    """``n`` page views (or their exact distribution): one ``OutcomeClass`` per outcome."""

    n: int
    mode: str
    classes: tuple[OutcomeClass, ...]
    tree: Hop | None = None
    entry: Any = None
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(sum(c.weight for c in self.classes))

    def share(self, sees: str | None = None) -> float:
        """The share of page views showing ``sees`` (None: a dict of every label's share)."""
        tot = self.total
        got = sum(c.weight for c in self.classes if c.sees == sees)
        return float(got / tot) if tot else 0.0

    def shares(self) -> dict[str, float]:
        tot = self.total
        out: dict[str, float] = {}
        for c in self.classes:
            out[c.sees] = out.get(c.sees, 0.0) + c.weight / tot
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def latency_ms(self, sees: str | None = None) -> dict[str, float]:
        """p50/p90/p99 of latency over the classes showing ``sees`` (None: all page views)."""
        cs = [c for c in self.classes if sees is None or c.sees == sees]
        if not cs:
            return {}
        merged = OutcomeClass(
            sees or "",
            0,
            (),
            0.0,
            np.concatenate([c.latencies for c in cs]),
            np.concatenate([c.latency_weights for c in cs]),
        )
        return merged.latency_ms()

    def to_dict(self) -> dict[str, Any]:
        tot = self.total
        out: dict[str, Any] = {
            "n": self.n,
            "outcomes": [
                {
                    "sees": c.sees,
                    "status": c.status,
                    "hops": [{"workload": w, "status": s} for w, s in c.hops],
                    "share": c.weight / tot if tot else 0.0,
                    "latency_ms": c.latency_ms(),
                }
                for c in self.classes
            ],
        }
        if self.tree is not None:
            out["tree"] = tree_dict(self.tree)
        return out

    def text(self) -> str:
        lines: list[str] = []
        if self.tree is not None:
            lines.append(tree_text(self.tree))
            c = self.classes[0]
            lines.append(f"sees: {c.sees}; status {c.status}; {self.tree.duration_ms:g} ms")
            return "\n".join(lines)
        lines.append(str(self._table()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        top = ", ".join(f"{k} {v:.1%}" for k, v in list(self.shares().items())[:3])
        return f"<JourneyResult n={self.n} {self.mode}: {top}>"

    def _table(self) -> Any:
        from ..display.table import Col, Table

        tot = self.total
        rows = []
        for c in self.classes:
            lat = c.latency_ms()
            rows.append(
                (
                    c.sees,
                    c.status,
                    " → ".join(f"{w or '-'} {s}" for w, s in c.hops),
                    c.weight / tot if tot else 0.0,
                    lat["p50"],
                    lat["p90"],
                    lat["p99"],
                )
            )
        cols = (
            Col("sees", "category"),
            Col("status", "int"),
            Col("hops (workload status)"),
            Col("share", "share"),
            Col("p50 ms", "float"),
            Col("p90 ms", "float"),
            Col("p99 ms", "float"),
        )
        title = "page views by outcome" + (" (exact)" if self.mode == "exact" else f", n={self.n}")
        details = (("call tree", tree_text(self.tree)),) if self.tree is not None else ()
        return Table(title, cols, rows, details=details)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self) if cycle else self.text())

    def to_pandas(self) -> Any:
        from ..display.frames import frame

        return frame(self._table())

    def plot(self, ax: Any = None) -> Any:
        """Latency distribution (CDF) per "what the user sees" (needs matplotlib)."""
        from ..display.plot import _axes

        ax = _axes(ax)
        for sees in self.shares():
            cs = [c for c in self.classes if c.sees == sees]
            v = np.concatenate([c.latencies for c in cs])
            w = np.concatenate([c.latency_weights for c in cs])
            o = np.argsort(v, kind="stable")
            ax.step(v[o], np.cumsum(w[o]) / w.sum(), where="post", label=sees)
        ax.set_xlabel("page latency (ms)")
        ax.set_ylabel("share of page views at most")
        ax.legend()
        return ax


def aggregate(
    rows: Sequence[tuple[str, int, HopKey, float, float]],
) -> list[OutcomeClass]:
    """(sees, status, hops, latency, weight) per page view or branch → classes, largest first."""
    groups: dict[tuple[str, int, HopKey], tuple[list[float], list[float]]] = {}
    for sees, status, hops, lat, w in rows:
        g = groups.setdefault((sees, status, hops), ([], []))
        g[0].append(lat)
        g[1].append(w)
    out = [
        OutcomeClass(k[0], k[1], k[2], float(sum(ws)), np.asarray(ls), np.asarray(ws, dtype=float))
        for k, (ls, ws) in groups.items()
    ]
    out.sort(key=lambda c: (-c.weight, c.sees, c.hops))
    return out


def outcome_of(hop: Hop, label: str) -> tuple[str, int, HopKey, float]:
    used = hop.used_hops()
    key = tuple((h.workload, h.seen if h.seen is not None else h.status) for h in used)
    return label, hop.seen if hop.seen is not None else hop.status, key, hop.duration_ms


def _rule(h: Hop) -> str:
    d = h.decision
    if d.virtual_service is None:
        return "no VirtualService (default route)" if d.destination else d.outcome.value
    r = f"{d.virtual_service} rule {d.rule}"
    return r + (f" match {d.match}" if d.match is not None else "")


def _hop_line(h: Hop) -> str:
    where = h.workload or "-"
    if h.decision.destination is not None and h.decision.destination.subset:
        where += f" ({h.decision.destination.subset})"
    status = f"{h.status}"
    if h.seen is not None and h.seen != h.status:
        status += f", caller saw {h.seen or 'no response'}"
    tries = f" try {h.attempt}" + (f".{h.try_}" if h.try_ > 1 else "")
    flags = f" [{' '.join(h.flags)}]" if h.flags else ""
    delay = f", delay {h.decision.delay_ms} ms" if h.decision.delay_ms else ""
    mark = "" if h.used else "  (answer not used)"
    return (
        f"{h.call}{tries} → {where}: {status}{flags} at {h.start_ms:g} ms, took "
        f"{h.duration_ms:g} ms{delay}; {_rule(h)}{mark}"
    )


def tree_text(hop: Hop, indent: str = "") -> str:
    lines = [indent + _hop_line(hop)]
    for c in hop.children:
        lines.append(tree_text(c, indent + "  "))
    return "\n".join(lines)


def tree_dict(h: Hop) -> dict[str, Any]:
    d = h.decision
    return {
        "call": h.call,
        "caller": h.caller,
        "attempt": h.attempt,
        "try": h.try_,
        "workload": h.workload,
        "version": h.version,
        "subset": d.destination.subset if d.destination else None,
        "virtual_service": d.virtual_service,
        "rule": d.rule,
        "status": h.status,
        "seen": h.seen,
        "flags": list(h.flags),
        "delay_ms": d.delay_ms,
        "start_ms": h.start_ms,
        "duration_ms": h.duration_ms,
        "used": h.used,
        "children": [tree_dict(c) for c in h.children],
    }


__all__ = ["JourneyResult", "OutcomeClass", "aggregate", "outcome_of", "tree_dict", "tree_text"]
