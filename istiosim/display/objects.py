"""A :class:`~.table.Table` for each result type the package hands out."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from .table import Col, Table, short_host, where

#: two-sided 95% normal quantile, for the Wilson intervals shown next to sampled shares
Z95 = 1.959963984540054


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a share ``k / n`` (95% by default)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


# ---- routing ---------------------------------------------------------------------------------


def _dest_name(host: str, subset: str | None, domain: str) -> str:
    return short_host(host, domain) + (f" {subset}" if subset else "")


def decision_title(d: Any) -> str:
    domain = d.plan.domain if d.plan is not None else "cluster.local"
    head = f"{d.outcome.value} {d.status}"
    if d.destination is not None:
        head += " → " + _dest_name(d.destination.host, d.destination.subset, domain)
        if d.pod:
            head += f" (pod {d.pod})"
    elif d.redirect_location:
        head += f" → redirect to {d.redirect_location}"
    if d.rule is not None:
        head += f", rule {d.rule}"
        if d.rule_name:
            head += f" ({d.rule_name})"
        if d.virtual_service:
            head += f" of {d.virtual_service}"
        if d.location is not None:
            head += f" [{where(d.location)}]"
    elif d.virtual_service is None and d.destination is None:
        head += " (no route)"
    return head


def decision_table(d: Any) -> Table:
    t = d.traced()
    domain = t.plan.domain if t.plan is not None else "cluster.local"
    chosen = t.destination.cluster if t.destination is not None else None
    rows: list[tuple[Any, ...]] = [
        (
            _dest_name(c.host, c.subset, domain),
            c.weight,
            float(c.probability),
            c.status,
            "← this request" if c.cluster == chosen and len(t.candidates) > 1 else "",
        )
        for c in t.candidates
    ]
    cols: tuple[Col, ...] = (
        Col("destination"),
        Col("weight", "int"),
        Col("probability", "share"),
        Col("status", "category"),
        Col("picked"),
    )
    if len(rows) == 1:  # one destination: no weights to show, nothing picked among others
        cols = (cols[0], cols[2], cols[3])
        rows = [(r[0], r[2], r[3]) for r in rows]
    notes: list[str] = []
    if len(t.candidates) > 1:
        notes.append(
            "weighted rule: every request picks a destination with these probabilities"
            " (this request's draw is in the trace)"
        )
    if t.flags:
        notes.append("flags: " + ",".join(t.flags))
    if t.delay_ms is not None:
        notes.append(f"injected delay {t.delay_ms:,} ms")
    if t.mirrors:
        notes.append("mirrored to " + ", ".join(t.mirrors))
    trace = "\n".join(str(s) for s in t.trace or ())
    details = (("trace: why", _relative_trace(trace)),) if trace else ()
    return Table(decision_title(t), cols, rows if rows else [], tuple(notes), details)


def _relative_trace(text: str) -> str:
    """Trace lines with their absolute ``[file:line:col]`` tails shown as :func:`short_path`
    does (relative to the working directory, else the folder and file name)."""
    import re

    from .table import short_path

    return re.sub(r"([\[(])(/[^\]\s:)]+)", lambda m: m.group(1) + short_path(m.group(2)), text)


def candidates_table(cands: Iterable[Any], domain: str = "cluster.local") -> Table:
    rows = [
        (short_host(c.host, domain), c.subset, c.port, c.weight, float(c.probability), c.status)
        for c in cands
    ]
    cols = (
        Col("host", "category"),
        Col("subset", "category"),
        Col("port", "int"),
        Col("weight", "int"),
        Col("probability", "share"),
        Col("status", "category"),
    )
    return Table("candidates", cols, rows)


def batch_table(b: Any) -> Table:
    n = len(b)
    shown = min(n, 20)
    rows = [(i, *_brief(b[i])) for i in range(shown)]
    cols = (Col("#", "int"), Col("outcome", "category"), Col("status", "int"), Col("destination"))
    notes = (f"first {shown:,} of {n:,} requests",) if n > shown else ()
    return Table(f"BatchDecision: {n:,} request(s)", cols, rows, notes)


def _brief(d: Any) -> tuple[Any, ...]:
    dest = d.destination
    name = _dest_name(dest.host, dest.subset, "cluster.local") if dest else "-"
    return (d.outcome.value, d.status, name)


# ---- simulation -------------------------------------------------------------------------------

_ROW_COLS = (
    Col("host", "host"),
    Col("subset", "category"),
    Col("workload", "category"),
    Col("outcome", "category"),
    Col("status", "int"),
)


def simulation_title(res: Any) -> str:
    head = f"{res.n:,} requests" if isinstance(res.n, int) else f"{res.n:,.2f} requests"
    head += f" ({res.mode}"
    head += f", seed {res.seed})" if res.seed is not None else ")"
    if len(res.classes) > 1:
        head += f", {len(res.classes)} request classes: by_class() breaks it down"
    return head


def simulation_table(res: Any) -> Table:
    n = res.n
    rows = []
    for r in res.rows():
        c = r["count"]
        share = c / n if n else 0.0
        row: list[Any] = [r[k] for k in ("host", "subset", "workload", "outcome", "status")]
        row += [c, share]
        if not res.exact:
            row.append(wilson(c, n))
        rows.append(tuple(row))
    cols: tuple[Col, ...] = (*_ROW_COLS, Col("count", "count"), Col("share", "share"))
    notes: tuple[str, ...] = ("exact probabilities (counts are n × probability)",)
    if not res.exact:
        cols = (*cols, Col("95% CI", "interval"))
        notes = ("95% CI: Wilson score interval of each row's share",)
    return Table(simulation_title(res), cols, rows, notes)


def breakdown_table(by: Mapping[str, Any], shares: Mapping[str, float]) -> Table:
    rows = []
    for name, res in by.items():
        n = res.n
        for r in res.rows():
            c = r["count"]
            rows.append(
                (
                    name,
                    shares.get(name),
                    *(r[k] for k in ("host", "subset", "workload", "outcome", "status")),
                    c,
                    c / n if n else 0.0,
                )
            )
    cols = (
        Col("class", "category"),
        Col("class share", "share"),
        *_ROW_COLS,
        Col("count", "count"),
        Col("share in class", "share"),
    )
    return Table(f"{len(by)} request class(es)", cols, rows)


PER_REQUEST_COLS = ("host", "subset", "workload", "outcome", "rule", "status", "pod", "delay_ms")


def per_request_table(pr: Any, limit: int = 20) -> Table:
    n = len(pr)
    k = min(n, limit)
    names = getattr(pr, "classes", None)
    cls = [names[int(c)] if names else int(c) for c in pr.cls[:k]]
    cols_data = {c: getattr(pr, c)[:k] for c in PER_REQUEST_COLS}
    rows = [
        (i, cls[i], *(_plain(cols_data[c][i]) for c in PER_REQUEST_COLS)) for i in range(k)
    ]
    cols = (
        Col("#", "int"),
        Col("class", "category"),
        Col("host", "host"),
        Col("subset", "category"),
        Col("workload", "category"),
        Col("outcome", "category"),
        Col("rule", "int"),
        Col("status", "int"),
        Col("pod", "category"),
        Col("delay_ms", "int"),
    )
    notes = (f"first {k:,} of {n:,} requests; to_pandas() has them all",) if n > k else ()
    return Table(f"PerRequest: {n:,} request(s)", cols, rows, notes)


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def per_request_frame(pr: Any) -> Any:
    from .frames import require

    pd = require("pandas", "pandas")
    names = getattr(pr, "classes", None)
    cls = pr.cls
    data: dict[str, Any] = {}
    if names:
        data["class"] = pd.Categorical.from_codes(cls.astype("int64"), categories=list(names))
    else:
        data["class"] = cls
    for c in ("host", "subset", "workload", "outcome", "pod"):
        data[c] = pd.Categorical(getattr(pr, c))
    data["rule"] = pr.rule
    data["status"] = pr.status
    data["delay_ms"] = pr.delay_ms
    return pd.DataFrame(data)


# ---- configuration ----------------------------------------------------------------------------


def simulator_table(sim: Any) -> Table:
    plan = sim.plan
    domain = plan.domain
    rows = []
    for fqdn, svc in plan.services.items():
        vss = [vs.key for vs in plan.virtual_services if fqdn in vs.hosts]
        subsets = [s.name for dr in plan.destination_rules if dr.host == fqdn for s in dr.subsets]
        rows.append(
            (
                fqdn,
                ", ".join(str(p) for p in svc.ports),
                ", ".join(vss) or "-",
                ", ".join(subsets) or "-",
                len(svc.endpoints),
            )
        )
    cols = (
        Col("host", "host"),
        Col("ports"),
        Col("VirtualService"),
        Col("subsets"),
        Col("pods", "int"),
    )
    notes = []
    cfg = getattr(sim, "config", None)
    files = list(getattr(cfg, "files", None) or ())
    if files:
        from .table import short_path

        shown = ", ".join(short_path(f) for f in files[:6])
        more = f" and {len(files) - 6} more" if len(files) > 6 else ""
        notes.append(f"loaded from {shown}{more}")
    diags = sim.diagnostics
    if diags:
        errors = sum(1 for d in diags if d.severity.value == "error")
        notes.append(f"{len(diags)} diagnostic(s), {errors} error(s): see sim.diagnostics")
    title = (
        f"Simulator: {len(plan.services)} service(s), {len(plan.virtual_services)} "
        f"VirtualService(s), {len(plan.destination_rules)} DestinationRule(s)"
    )
    return Table(title, cols, rows, tuple(notes), domain=domain)


def plan_table(plan: Any) -> Table:
    from ..rule_table import _action, _conditions, _destination_rule, _entry_name, summary

    rows = []
    for vs in (*plan.virtual_services, *plan.delegates):
        if not vs.entries:
            rows.append((vs.key, "-", "(no http routes)", "-", where(vs.location)))
        for e in vs.entries:
            rows.append(
                (
                    vs.key,
                    _entry_name(e),
                    _conditions(e),
                    _action(e, plan.domain),
                    where(e.location),
                )
            )
    cols = (Col("VirtualService"), Col("rule"), Col("when"), Col("route to"), Col("where"))
    drs = "\n".join(
        line for dr in plan.destination_rules for line in _destination_rule(dr, plan.domain)
    )
    details = (("DestinationRules and subsets", _relative_trace(drs)),) if drs else ()
    return Table(summary(plan), cols, rows, (), details)


def traffic_table(t: Any) -> Table:
    rows = []
    for c, share in zip(t.classes, t.shares, strict=True):
        r = c.template
        what = f"{r.method} {r.host}{r.path}"
        if r.headers:
            what += " " + " ".join(f"{k}={v}" for k, v in sorted(r.headers.items()))
        varying = ", ".join(f"{k} ({len(d):,} values)" for k, d in c.columns.items()) or "-"
        rows.append((c.name, share, what, varying))
    cols = (Col("class", "category"), Col("share", "share"), Col("request"), Col("varies"))
    return Table(f"Traffic: {len(rows)} request class(es)", cols, rows)


def diagnostics_table(diags: Iterable[Any], title: str | None = None) -> Table:
    ds = list(diags)
    rows = [
        (
            d.severity.value,
            d.code,
            d.name,
            where(d.location),
            d.resource,
            (f"{d.field_path}: " if d.field_path else "") + d.message,
        )
        for d in ds
    ]
    cols = (
        Col("severity", "category"),
        Col("code", "category"),
        Col("name", "category"),
        Col("where", "path"),
        Col("resource"),
        Col("message"),
    )
    return Table(title or f"{len(ds)} diagnostic(s)", cols, rows)


# ---- statistics ---------------------------------------------------------------------------------


def stats_table(r: Any) -> Table:
    title, header, rows, notes = r._render()
    cols = (Col(header[0]), *(Col(h, "num") for h in header[1:]))
    if "status" in header:
        cols = tuple(Col(c.name, "text") if c.name == "status" else c for c in cols)
    return Table(title, cols, [tuple(row) for row in rows], tuple(notes))


def stats_frame(r: Any) -> Any:
    from .frames import require

    pd = require("pandas", "pandas")
    d = r.to_dict()
    arms = d["arms"]
    df = pd.DataFrame(arms)
    if "arm" in df:
        df["arm"] = pd.Categorical(df["arm"], categories=list(df["arm"]))
    if "status" in df:
        df["status"] = pd.Categorical(df["status"])
    return df


# ---- test cases ---------------------------------------------------------------------------------


def case_table(c: Any) -> Table:
    head = f"{'PASS' if c.passed else 'FAIL'} {c.name}"
    if c.location is not None:
        head += f" [{where(c.location)}]"
    head += f": {decision_title(c.decision)}"
    rows = [(m.field, m.expected, m.actual, m.when) for m in c.mismatches]
    cols = (Col("field"), Col("expected"), Col("actual"), Col("when"))
    trace = "\n".join(str(s) for s in c.decision.traced().trace or ())
    details = (("trace: why", _relative_trace(trace)),) if trace else ()
    return Table(head, cols, rows, (), details)


def report_table(rep: Any) -> Table:
    rows: list[tuple[Any, ...]] = [
        (
            "PASS" if c.passed else "FAIL",
            c.name,
            where(c.location),
            decision_title(c.decision),
            "; ".join(str(m).splitlines()[0] for m in c.mismatches),
        )
        for c in rep.results
    ]
    cols: tuple[Col, ...] = (
        Col("result", "category"),
        Col("case"),
        Col("where", "path"),
        Col("routed"),
        Col("mismatches"),
    )
    notes = (rep.summary(), *str(rep.coverage).splitlines()[:1])
    if not any(r[-1] for r in rows):  # every case passed: no mismatch column
        cols, rows = cols[:-1], [r[:-1] for r in rows]
    return Table(f"{len(rows)} case(s)", cols, rows, notes)
