"""``istiosim.diff(before, after)``: what a change does, per request class, exactly.

Classes come from the two configs' match conditions (``classes.derive_classes``: one per
combination of first matching entries, with a witness request) or from a traffic model, which
also weighs them. For each class the exact distribution over (host, subset, outcome, status)
comes from the analytic engine (``simulate(mode="exact")``) in each config; ``moved`` is the
total variation distance between the two, the share of that class's requests that land
elsewhere; ``moved_share`` its traffic-weighted sum. Behaviour that changes without moving
requests (header operations, rewrites, fault delays, timeouts, retries, mirrors, redirects)
is listed per derived class.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._display import Displayable
from ..errors import InvalidArgument
from ..plan import PER_MILLION, DirectResponse, Forward, Redirect, ResolvedEntry, RouteTable
from ..request import Request
from .classes import ClassSet, DerivedClass, derive_classes

Row = tuple[str, str | None, str, int]
#: probabilities closer than this are equal (float sums of weights)
EPS = 1e-12
_KEY = ("host", "subset", "outcome", "status")


@dataclass(frozen=True)
class ClassDiff:
    """One request class before and after: exact distributions, and what moved."""

    name: str
    description: str
    witness: Request | None
    share: float | None
    before: tuple[tuple[Row, float], ...]
    after: tuple[tuple[Row, float], ...]
    moved: float
    changes: tuple[str, ...] = ()
    host: str = ""

    @property
    def changed(self) -> bool:
        return self.moved > EPS or bool(self.changes)

    def summary(self) -> str:
        """``100% v1 → 100% v3`` or ``v2 50% → 80%, v3 50% → 20%``."""
        b, a = dict(self.before), dict(self.after)
        if self.moved <= EPS:
            return _dist_text(self.before, self.host) or "no route"
        if len(b) == 1 or len(a) == 1 or not set(b) & set(a):
            return f"{_dist_text(self.before, self.host)} → {_dist_text(self.after, self.host)}"
        rows = [r for r in dict.fromkeys([*b, *a]) if abs(b.get(r, 0) - a.get(r, 0)) > EPS]
        return ", ".join(
            f"{_label(r, self.host)} {_pct(b.get(r, 0.0))} → {_pct(a.get(r, 0.0))}" for r in rows
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "witness": self.witness.to_dict() if self.witness is not None else None,
            "share": self.share,
            "before": [_row_dict(r, p) for r, p in self.before],
            "after": [_row_dict(r, p) for r, p in self.after],
            "moved": self.moved,
            "changes": list(self.changes),
        }


@dataclass(frozen=True)
class Diff(Displayable):
    """The result of ``istiosim.diff``: one ``ClassDiff`` per request class.

    ``changed``: any class moves or changes behaviour. ``moved_share``: the share of all
    traffic that lands elsewhere (None without a traffic model). ``undecided``: regions (from
    regexes) whose emptiness could not be decided and that would route unlike every class
    found; empty means the classes cover every request exactly. ``may_change``: those of them
    whose first matching routes before and after differ, so that requests there, if any,
    would route differently (``exit_code`` counts them as a change: never a guessed 0).
    """

    classes: tuple[ClassDiff, ...]
    moved_share: float | None = None
    undecided: tuple[str, ...] = ()
    traffic: bool = False
    class_set: ClassSet | None = field(default=None, compare=False, repr=False)
    may_change: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.classes)

    def exit_code(self, fail_on: str = "change") -> int:
        """``istiosim diff``'s exit status: 1 when routing changes, else 0.

        ``fail_on="change"`` (the default): any change of the route a request gets, as the
        route configuration Envoy receives changes: where it lands (destination, subset,
        outcome, status, weights) or what is done on the way (header operations, rewrites,
        fault delays, timeouts, retries, mirrors, redirects). ``fail_on="move"``: only when
        some request lands elsewhere (``moved``). Either way an undecided region that may
        route differently counts (``may_change``)."""
        if fail_on not in ("change", "move"):
            raise InvalidArgument(f"fail_on must be 'change' or 'move', not {fail_on!r}")
        hit = self.changed if fail_on == "change" else bool(self.moved)
        return 1 if hit or self.may_change else 0

    @property
    def moved(self) -> tuple[ClassDiff, ...]:
        """The classes whose requests land elsewhere."""
        return tuple(c for c in self.classes if c.moved > EPS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "moved_share": self.moved_share,
            "classes": [c.to_dict() for c in self.classes],
            "undecided": list(self.undecided),
            "may_change": list(self.may_change),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def text(self) -> str:
        from ..display.changes import diff_text

        return diff_text(self)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        n = sum(c.changed for c in self.classes)
        return f"<Diff: {n} of {len(self.classes)} class(es) changed>"

    def _table(self) -> Any:
        """The display table: one row per class (before, after, moved)."""
        from ..display.changes import diff_table

        return diff_table(self)

    def to_pandas(self) -> Any:
        """One row per class and place its requests land (host, subset, outcome, status):
        ``before``/``after`` probabilities, ``change``, and the class's ``moved`` share."""
        from ..display.changes import diff_frame

        return diff_frame(self)

    def plot(self, *, by: str = "class", ax: Any = None) -> Any:
        """Before/after bars per changed class (``by="destination"``: all traffic per
        destination, with a traffic model); returns the Axes."""
        from ..display.changes import diff_plot

        return diff_plot(self, by=by, ax=ax)


def diff(before: Any, after: Any, traffic: Any = None) -> Diff:
    """What changes from ``before`` to ``after`` (Simulators, or what ``istiosim.load`` takes).

    Without ``traffic``, one class per region of the request space that the two configs'
    match conditions distinguish; with a ``Traffic`` model (or a ``Request``), its classes,
    weighted by their shares, and ``moved_share`` is the share of all traffic that moves.
    """
    b, a = _simulator(before), _simulator(after)
    cs = derive_classes(b.plan, a.plan)
    changes = {c.name: _behaviour(cs, c) for c in cs.classes}
    undecided = tuple(c.name for c in cs.undecided)
    if traffic is None:
        witnesses = [c.witness for c in cs.classes if c.witness is not None]
        dists = _class_dists(b, a, witnesses)
        out = [
            _class_diff(c.name, c.description, c.witness, None, db, da, changes[c.name], c.host)
            for c, (db, da) in zip(cs.classes, dists, strict=True)
        ]
        may = tuple(c.name for c in cs.undecided if not _same_route(cs, c))
        return Diff(tuple(out), None, undecided, False, cs, may)
    from ..traffic import Traffic, as_traffic

    t = as_traffic(traffic) if not isinstance(traffic, Traffic) else traffic
    rb = b.simulate(t, 1, mode="exact")
    ra = a.simulate(t, 1, mode="exact")
    out = []
    for i, (rc, share) in enumerate(zip(t.classes, t.shares, strict=True)):
        db, da = _row_dist(rb, i), _row_dist(ra, i)
        host = rc.template.host.split(".")[0]
        klass = cs.classify(rc.template) if not rc.columns else None
        ch = changes.get(klass.name, ()) if klass is not None else ()
        out.append(_class_diff(rc.name, rc.name, rc.template, share, db, da, ch, host))
    moved_share = math.fsum((c.share or 0.0) * c.moved for c in out)
    return Diff(tuple(out), moved_share, undecided, True, cs)


def _simulator(x: Any) -> Any:
    if hasattr(x, "plan") and hasattr(x, "simulate"):
        return x
    if isinstance(x, str | os.PathLike):
        from ..simulator import load

        return load(x)
    if isinstance(x, list | tuple) and x and all(isinstance(s, str | os.PathLike) for s in x):
        from ..simulator import load

        return load(*x)
    raise InvalidArgument(
        f"diff() compares two Simulators (or paths / YAML text), not {type(x).__name__}"
    )


def _class_dists(b: Any, a: Any, witnesses: list[Request]) -> list[tuple[Any, Any]]:
    if not witnesses:
        return []
    from ..traffic import Traffic

    t = Traffic.mix([(w, 1.0) for w in witnesses])
    rb, ra = b.simulate(t, 1, mode="exact"), a.simulate(t, 1, mode="exact")
    return [(_row_dist(rb, i), _row_dist(ra, i)) for i in range(len(witnesses))]


def _row_dist(res: Any, i: int) -> dict[Row, float]:
    out: dict[Row, float] = {}
    for cell, p in zip(res.cells, res.matrix[i].tolist(), strict=True):
        if p > 0:
            host, subset, _workload, outcome, status = cell
            key = (host, subset, str(outcome), int(status))
            out[key] = out.get(key, 0.0) + float(p)
    return out


def _class_diff(
    name: str,
    description: str,
    witness: Request | None,
    share: float | None,
    before: Mapping[Row, float],
    after: Mapping[Row, float],
    changes: tuple[str, ...],
    host: str,
) -> ClassDiff:
    rows = set(before) | set(after)
    moved = 0.5 * math.fsum(abs(before.get(r, 0.0) - after.get(r, 0.0)) for r in rows)
    moved = 0.0 if moved <= EPS else min(round(moved, 12), 1.0)
    return ClassDiff(
        name,
        description,
        witness,
        share,
        _sorted(before),
        _sorted(after),
        moved,
        changes,
        host,
    )


def _sorted(d: Mapping[Row, float]) -> tuple[tuple[Row, float], ...]:
    return tuple(sorted(d.items(), key=lambda kv: (-kv[1], str(kv[0]))))


def _row_dict(r: Row, p: float) -> dict[str, Any]:
    return {"host": r[0], "subset": r[1], "outcome": r[2], "status": r[3], "probability": p}


def _pct(p: float) -> str:
    x = 100 * p
    return f"{x:.0f}%" if abs(x - round(x)) < 1e-9 else f"{x:.4g}%"


def _label(r: Row, host: str) -> str:
    h, subset, outcome, status = r
    short = h.split(".")[0]
    dest = subset if subset and short == host else (f"{short}/{subset}" if subset else short)
    if outcome == "OK":
        return dest
    if outcome in ("NR", "DIRECT", "REDIRECT", "FI"):
        return f"{status} {outcome}"
    return f"{status} {outcome} ({dest})"


def _dist_text(rows: tuple[tuple[Row, float], ...], host: str) -> str:
    return ", ".join(f"{_pct(p)} {_label(r, host)}" for r, p in rows)


# -- behaviour that changes without moving requests -------------------------------------------


def _same_route(cs: ClassSet, c: DerivedClass) -> bool:
    """Do the first matching entries of a region route the same before and after (same
    action, same resolved destinations and mirrors; or no entry in either, with the same
    default)? Then whatever requests the region holds do not change."""
    if len(cs.plans) != 2:
        return True
    sc = cs.scopes[c.scope]
    (tb, ta), (kb, ka) = sc.tables, c.entries
    if kb is None or ka is None:
        return (
            kb is None
            and ka is None
            and (tb.default, tb.passthrough)
            == (
                ta.default,
                ta.passthrough,
            )
        )
    eb, ea = tb.entries[kb], ta.entries[ka]
    return (eb.entry.action, eb.targets, eb.mirrors) == (ea.entry.action, ea.targets, ea.mirrors)


def _behaviour(cs: ClassSet, c: DerivedClass) -> tuple[str, ...]:
    if len(cs.plans) != 2:
        return ()
    sc = cs.scopes[c.scope]
    b = _facts(sc.tables[0], c.entries[0])
    a = _facts(sc.tables[1], c.entries[1])
    out = []
    for k in dict.fromkeys([*b, *a]):
        if b.get(k) != a.get(k):
            out.append(f"{k}: {b.get(k, 'none')} → {a.get(k, 'none')}")
    return tuple(out)


def _facts(t: RouteTable, k: int | None) -> dict[str, str]:
    """What a matched entry does besides picking a destination, as comparable text."""
    if k is None:
        return {}
    e: ResolvedEntry = t.entries[k]
    act = e.entry.action
    out: dict[str, str] = {}
    if isinstance(act, Redirect):
        out["redirect"] = _kv(
            uri=act.uri,
            authority=act.authority,
            scheme=act.scheme,
            port=act.port,
            status=act.status,
        )
    elif isinstance(act, DirectResponse):
        out["direct response"] = _kv(status=act.status, body=act.body)
    elif isinstance(act, Forward):
        if act.rewrite is not None:
            rw = act.rewrite
            regex = rw.regex.pattern if rw.regex is not None else None
            out["rewrite"] = _kv(
                uri=rw.uri,
                authority=rw.authority,
                uriRegex=regex,
                substitution=rw.regex_substitution,
            )
        if act.headers_request:
            out["request headers"] = _ops(act.headers_request)
        if act.headers_response:
            out["response headers"] = _ops(act.headers_response)
        for d in act.destinations:
            if d.headers_request or d.headers_response:
                out[f"headers of {d.host.split('.')[0]}/{d.subset}"] = (
                    f"request {_ops(d.headers_request)}; response {_ops(d.headers_response)}"
                )
        f = act.fault
        if f is not None and f.delay_ms is not None:
            out["fault delay"] = f"{f.delay_ms} ms at {_pct(f.delay_per_million / PER_MILLION)}"
        if act.timeout is not None:
            out["timeout"] = act.timeout
        if act.retries is not None:
            out["retries"] = json.dumps(dict(act.retries), sort_keys=True, default=str)
        for m in act.mirrors:
            d = m.destination
            name = f"{d.host.split('.')[0]}" + (f"/{d.subset}" if d.subset else "")
            out[f"mirror {name}"] = _pct(m.per_million / PER_MILLION)
    return out


def _ops(h: Any) -> str:
    parts = [f"set {k}={v}" for k, v in h.set] + [f"add {k}={v}" for k, v in h.add]
    parts += [f"remove {k}" for k in h.remove]
    return ", ".join(parts) or "none"


def _kv(**kw: Any) -> str:
    return " ".join(f"{k}={v}" for k, v in kw.items() if v is not None) or "yes"


__all__ = ["ClassDiff", "Diff", "diff"]
