"""How a change review looks: ``istiosim.diff``'s result as ``git diff --stat`` then details
(what the CLI prints, pinned by the golden files); a diff, a rollout plan and a reachability
as :class:`~.table.Table` (text, HTML), pandas DataFrames and plots."""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import InvalidArgument
from .frames import require
from .table import Col, Table, short_host, short_path

_BAR = 20


def diff_text(d: Any) -> str:
    """A Diff as ``git diff --stat`` first (one line per class that changed: the share of its
    requests that moved and a bar), then the details of each."""
    classes = d.classes
    changed = [c for c in classes if c.changed]
    width = max((len(c.name) for c in changed), default=0)
    lines = []
    for c in changed:
        bar = "█" * round(_BAR * c.moved) if c.moved > 0 else ""
        mark = " *" if c.changes and c.moved == 0 else ""
        share = f"  ({c.share:.1%} of traffic)" if c.share is not None else ""
        lines.append(f" {c.name.ljust(width)} | {c.moved:6.1%} {bar}{mark}{share}".rstrip())
    n = sum(c.changed for c in classes)
    foot = f" {n} of {len(classes)} class(es) changed"
    if d.moved_share is not None:
        foot += f"; {d.moved_share:.2%} of traffic moves"
    lines.append(foot)
    if any(c.changes and c.moved == 0 for c in classes):
        lines.append(
            " * behaviour changes (headers, rewrite, delay, timeout, mirror...), no request moves"
        )
    if d.undecided:
        lines.append(f" {len(d.undecided)} undecided region(s) (regex): " + "; ".join(d.undecided))
    may = getattr(d, "may_change", ())
    if may:
        lines.append(
            f" {len(may)} of them may route differently if any request falls there"
            " (counted as a change by the exit status)"
        )
    for c in classes:
        if not c.changed:
            continue
        lines.append("")
        lines.append(f"{c.name}: {c.summary()}")
        b = ", ".join(f"{_p(p)} {_row(r)}" for r, p in c.before) or "-"
        a = ", ".join(f"{_p(p)} {_row(r)}" for r, p in c.after) or "-"
        lines.append(f"  before: {b}")
        lines.append(f"  after:  {a}")
        lines.append(f"  moved:  {c.moved:.2%}")
        for ch in c.changes:
            lines.append(f"  changed {ch}")
        if c.witness is not None:
            lines.append(f"  e.g.    {c.witness!r}")
    return "\n".join(lines)


def _p(p: float) -> str:
    x = 100 * p
    return f"{x:.0f}%" if abs(x - round(x)) < 1e-9 else f"{x:.4g}%"


def _row(r: Any) -> str:
    host, subset, outcome, status = r
    name = host.split(".")[0] + (f"/{subset}" if subset else "")
    return name if outcome == "OK" else f"{name} {status} {outcome}"


# ---- the Table model: text, HTML and pandas of a diff, a rollout plan, a reachability --------


def diff_title(d: Any) -> str:
    n = sum(c.changed for c in d.classes)
    title = f"Diff: {n} of {len(d.classes)} class(es) changed"
    if d.moved_share is not None:
        title += f"; {d.moved_share:.2%} of traffic moves"
    return title


def diff_table(d: Any) -> Table:
    """One row per request class: its share, before, after, the share that moved, and what
    else changed (header operations, rewrites, ...)."""
    rows: list[tuple[Any, ...]] = [
        (
            c.name,
            c.share,
            ", ".join(f"{_p(p)} {_row(r)}" for r, p in c.before) or "-",
            ", ".join(f"{_p(p)} {_row(r)}" for r, p in c.after) or "-",
            c.moved,
            "; ".join(c.changes),
        )
        for c in d.classes
    ]
    cols: tuple[Col, ...] = (
        Col("class"),
        Col("share of traffic", "share"),
        Col("before"),
        Col("after"),
        Col("moved", "share"),
        Col("also changed"),
    )
    if not d.traffic:  # classes derived from the rules carry no traffic share
        cols = (cols[0], *cols[2:])
        rows = [(r[0], *r[2:]) for r in rows]
    if not any(c.changes for c in d.classes):
        cols, rows = cols[:-1], [r[:-1] for r in rows]
    notes = ["moved: the share of the class's requests that land elsewhere (exact)"]
    if d.undecided:
        notes.append(f"{len(d.undecided)} undecided region(s) (regex): " + "; ".join(d.undecided))
    return Table(diff_title(d), cols, rows, tuple(notes))


def diff_frame(d: Any) -> Any:
    """One row per request class and place a request lands (host, subset, outcome, status):
    the class's probability of landing there before and after, the change, and the share of
    the class that moved."""
    pd = require("pandas", "pandas")
    recs = []
    for c in d.classes:
        b, a = dict(c.before), dict(c.after)
        for r in dict.fromkeys([*b, *a]):
            host, subset, outcome, status = r
            pb, pa = b.get(r, 0.0), a.get(r, 0.0)
            recs.append((c.name, c.share, host, subset, outcome, status, pb, pa, pa - pb, c.moved))
    names = [c.name for c in d.classes]
    col = list(zip(*recs, strict=True)) if recs else [()] * 10
    return pd.DataFrame(
        {
            "class": pd.Categorical(col[0], categories=list(dict.fromkeys(names))),
            "class share": pd.array(
                [math.nan if v is None else float(v) for v in col[1]], dtype="float64"
            ),
            "host": pd.Categorical(col[2]),
            "subset": pd.Categorical(col[3]),
            "outcome": pd.Categorical(col[4]),
            "status": pd.array(list(col[5]), dtype="Int64"),
            "before": pd.array(list(col[6]), dtype="float64"),
            "after": pd.array(list(col[7]), dtype="float64"),
            "change": pd.array(list(col[8]), dtype="float64"),
            "moved": pd.array(list(col[9]), dtype="float64"),
        }
    )


def diff_plot(d: Any, *, by: str = "class", ax: Any = None) -> Any:
    """Before/after bars. ``by="class"``: each changed class's destinations (every class when
    none changed); ``by="destination"``: all traffic per destination (needs a traffic model)."""
    from .plot import before_after

    if by not in ("class", "destination"):
        raise InvalidArgument(f"by must be 'class' or 'destination', got {by!r}")
    title = diff_title(d).removeprefix("Diff: ")
    if by == "destination":
        if not d.traffic:
            raise InvalidArgument(
                "by='destination' weighs classes by their traffic share: "
                "diff(before, after, traffic=...)"
            )
        before: dict[str, float] = {}
        after: dict[str, float] = {}
        for c in d.classes:
            for dist, out in ((c.before, before), (c.after, after)):
                for r, p in dist:
                    out[_row(r)] = out.get(_row(r), 0.0) + (c.share or 0.0) * p
        dests = sorted(set(before) | set(after))
        ax = before_after(
            dests,
            [before.get(a, 0.0) for a in dests],
            [after.get(a, 0.0) for a in dests],
            title=title,
            ax=ax,
        )
        ax.set_ylabel("share of all traffic")
        return ax
    shown = [c for c in d.classes if c.changed] or list(d.classes)
    cut = len(shown) > _PLOT_CLASSES
    shown = shown[:_PLOT_CLASSES]
    arms: list[str] = []
    bs: list[float] = []
    as_: list[float] = []
    groups: list[tuple[str, int, int]] = []  # class label, first bar, last bar
    for c in shown:
        b, a = dict(c.before), dict(c.after)
        label = c.name if c.share is None else f"{c.name} ({c.share:.0%} of traffic)"
        start = len(arms)
        for r in sorted(set(b) | set(a), key=_row):
            arms.append(_row(r).replace("$", r"\$"))
            bs.append(b.get(r, 0.0))
            as_.append(a.get(r, 0.0))
        groups.append((label, start, len(arms) - 1))
    if cut:
        title += f" (first {_PLOT_CLASSES} classes shown)"
    width = max(6.4, 2.0 + 1.1 * len(arms))
    ax = before_after(arms, bs, as_, title=title, ax=ax if ax is not None else _axes(width))
    ax.set_ylim(0, 1.18)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("destination, per request class")
    ax.set_ylabel("share of the class's requests")
    for i, (label, first, last) in enumerate(groups):
        ax.text(
            (first + last) / 2,
            1.04,
            _wrap(label, 14 * (last - first + 1)),
            ha="center",
            va="bottom",
            fontsize="small",
            color="#444444",
        )
        if i:
            ax.axvline(first - 0.5, color="#bbbbbb", lw=1)
    return ax


_PLOT_CLASSES = 8


def _axes(width: float) -> Any:
    from .plot import _axes as new_axes

    return new_axes(None, (min(width, 14.0), 3.8))


def _wrap(s: str, width: int = 18) -> str:
    """A label wrapped for a plot, ``$`` escaped (matplotlib would read mathtext)."""
    import textwrap

    return ("\n".join(textwrap.wrap(s, width)) or s).replace("$", r"\$")


def rollout_title(plan: Any) -> str:
    head = (
        f"{plan.kind} {plan.namespace}/{plan.name} ({plan.strategy}): {len(plan.steps)} steps; "
        f"traffic: {plan.traffic}"
    )
    if plan.rate is not None:
        head += f"; rate {plan.rate:g}/s, verify at alpha={plan.alpha:g}, "
        head += f"tolerance={plan.tolerance:g}"
    return head


def rollout_table(plan: Any, findings: list[str]) -> Table:
    """One row per step: the weights written, the exact shares, and whether the step sees
    enough requests to verify its split."""
    from ..analysis.rollout_writers import seconds_text

    mirrors = any(s.mirror_share for s in plan.steps)
    # one host split by subsets (Argo's DestinationRule mode): the subsets say it all
    keys = {k for s in plan.steps for k in s.weights}
    one_host = len({k.partition(":")[0] for k in keys}) == 1 and all(":" in k for k in keys)
    rows = []
    for s in plan.steps:
        row: list[Any] = [
            s.index,
            s.action + (" (refused)" if s.rejected else ""),
            " ".join(
                f"{k.partition(':')[2] if one_host else short_host(k)}={v}"
                for k, v in s.weights.items()
            )
            or "-",
            s.canary_share,
            s.canary_share_managed,
            s.managed_share,
        ]
        if mirrors:
            row.append(s.mirror_share)
        row += [
            seconds_text(s.duration_s),
            None if s.requests is None else round(s.requests),
            s.required,
            {None: "-", True: "yes", False: "NO"}[s.verifiable],
        ]
        rows.append(tuple(row))
    cols = [
        Col("step", "int"),
        Col("action"),
        Col("weights"),
        Col("canary", "share"),
        Col("canary (managed)", "share"),
        Col("managed", "share"),
    ]
    if mirrors:
        cols.append(Col("mirror", "share"))
    cols += [
        Col("duration", "num"),
        Col("requests", "count"),
        Col("needed", "int"),
        Col("verifiable", "category"),
    ]
    notes = [
        "canary: share of all traffic; canary (managed): within the weighted route the "
        "controller manages; managed: share of all traffic that reaches that route",
        *(_ABSOLUTE.sub(lambda m: m.group(1) + short_path(m.group(2)), f) for f in findings),
    ]
    return Table(rollout_title(plan), tuple(cols), rows, tuple(notes))


#: an absolute file path in a finding (``/abs/file.yaml:82:9: warning...``), shown relative
_ABSOLUTE = re.compile(r"(^|\s)(/[^\s:]+)")


def rollout_frame(plan: Any) -> Any:
    """One row per step; one ``weight <destination>`` column per destination ever written."""
    pd = require("pandas", "pandas")
    dests = list(dict.fromkeys(k for s in plan.steps for k in s.weights))

    def floats(xs: list[Any]) -> Any:
        return pd.array([math.nan if x is None else float(x) for x in xs], dtype="float64")

    st = plan.steps
    data: dict[str, Any] = {
        "step": pd.array([s.index for s in st], dtype="Int64"),
        "action": pd.array([s.action for s in st], dtype="string"),
        "set weight": pd.array([s.set_weight for s in st], dtype="Int64"),
    }
    for k in dests:
        data[f"weight {k}"] = pd.array([s.weights.get(k) for s in st], dtype="Int64")
    data |= {
        "canary": floats([s.canary_share for s in st]),
        "canary (managed)": floats([s.canary_share_managed for s in st]),
        "managed": floats([s.managed_share for s in st]),
        "mirror": floats([s.mirror_share for s in st]),
        "duration s": floats([s.duration_s for s in st]),
        "requests": floats([s.requests for s in st]),
        "needed": pd.array([s.required for s in st], dtype="Int64"),
        "verifiable": pd.array([s.verifiable for s in st], dtype="boolean"),
        "rejected": pd.array([s.rejected for s in st], dtype="bool"),
        "findings": pd.array(
            [", ".join(dict.fromkeys(d.code for d in s.diagnostics)) for s in st], dtype="string"
        ),
    }
    return pd.DataFrame(data)


def rollout_plot(plan: Any, *, ax: Any = None) -> Any:
    """The share of all traffic each step sends to the canary and to the stable version through
    the managed route, and elsewhere; the steps too short to verify their split hatched."""
    from .plot import steps

    parts: dict[str, list[float]] = {
        "canary (weighted route)": [],
        "canary (other rules)": [],
        "stable (weighted route)": [],
        "other rules": [],
    }
    for s in plan.steps:
        managed = s.managed_share or 0.0
        via = managed * (s.canary_share_managed or 0.0)
        other_canary = max(0.0, (s.canary_share or 0.0) - via)
        stable = managed - via
        rest = max(0.0, 1.0 - via - other_canary - stable) if s.managed_share is not None else 0.0
        for name, v in zip(parts, (via, other_canary, stable, rest), strict=True):
            parts[name].append(v)
    shown = {k: v for k, v in parts.items() if any(x > 1e-12 for x in v)}
    names = [f"{s.index}\n{_wrap(s.action, 11)}" for s in plan.steps]
    width = max(7.0, 3.0 + 1.05 * len(names))
    from .plot import _axes as new_axes

    ax = new_axes(ax, (min(width, 16.0), 4.2))
    steps(
        names,
        shown,
        unverifiable=[s.verifiable is False for s in plan.steps],
        title=f"{plan.kind} {plan.namespace}/{plan.name}: shares per step",
        ax=ax,
    )
    ax.set_ylabel("share of all traffic")
    return ax


def reachability_table(r: Any) -> Table:
    rows = [
        (
            b.virtual_service,
            b.name,
            b.verdict(),
            repr(b.witness) if b.witness is not None else "",
        )
        for b in r.blocks
    ]
    cols = (Col("VirtualService"), Col("block"), Col("verdict"), Col("witness"))
    title = f"Reachability: {len(r.blocks)} match block(s), {len(r.unreachable)} unreachable"
    notes = ("witness: a request that takes the block first",) if r.blocks else ()
    return Table(title, cols, rows, notes)


def reachability_frame(r: Any) -> Any:
    pd = require("pandas", "pandas")
    bs = r.blocks
    return pd.DataFrame(
        {
            "virtual service": pd.Categorical([b.virtual_service for b in bs]),
            "rule": pd.array([b.rule for b in bs], dtype="Int64"),
            "match": pd.array([b.match for b in bs], dtype="Int64"),
            "block": pd.array([b.name for b in bs], dtype="string"),
            "reachable": pd.array([b.reachable for b in bs], dtype="boolean"),
            "verdict": pd.array([b.verdict() for b in bs], dtype="string"),
            "shadowed by": pd.array(
                [", ".join(_where(x, m) for x, m in b.shadowed_by) for b in bs], dtype="string"
            ),
            "witness": pd.array(
                [repr(b.witness) if b.witness is not None else None for b in bs], dtype="string"
            ),
        }
    )


def _where(rule: int, match: int | None) -> str:
    return f"rule #{rule}" if match is None else f"rule #{rule} match #{match}"
