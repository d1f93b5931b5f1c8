"""Comparing a decision with a case's ``validate``: every stated field, for every destination
the weighted pick can choose unless ``random_value`` pins it, the exact ``split`` and the
``sampled`` check; and how a split names destinations (:func:`destination_key`)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ...request import Request
from ...results import Candidate, Decision, Outcome
from ...weights import WeightTable
from .models import CaseValidate, HeaderMatch, SampledCheck

if TYPE_CHECKING:
    from ...simulator import Simulator

__all__ = [
    "Mismatch",
    "RouteCheck",
    "actual_split",
    "check_route",
    "count_key",
    "destination_key",
    "resolve_keys",
]


@dataclass(frozen=True)
class Mismatch:
    """One stated field that did not hold: expected vs actual (``when``: for which pick)."""

    field: str
    expected: str
    actual: str
    when: str | None = None

    def __str__(self) -> str:
        when = f"  (when the weighted pick chooses {self.when})" if self.when else ""
        if "\n" in self.actual:  # a whole report (a sampled check): indent it below
            body = "\n".join(f"    {line}" for line in self.actual.splitlines())
            return f"{self.field}: expected {self.expected}, actual:{when}\n{body}"
        return f"{self.field}: expected {self.expected}, actual {self.actual}{when}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
            "when": self.when,
        }


def _show(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return repr(v)
    return str(v)


def _short(host: str) -> str:
    return host.split(".")[0]


def destination_key(c: Candidate, candidates: Sequence[Candidate]) -> str:
    """How a split names a destination: its subset (or the host's short name without one);
    ``host/subset`` when the rule's destinations are on several hosts."""
    if len({x.host for x in candidates}) <= 1:
        return c.subset or _short(c.host)
    return f"{_short(c.host)}/{c.subset}" if c.subset else _short(c.host)


def _aliases(c: Candidate) -> set[str]:
    names = {_short(c.host), c.host, c.cluster}
    if c.subset:
        names |= {c.subset, f"{_short(c.host)}/{c.subset}", f"{c.host}/{c.subset}"}
    return names


def resolve_keys(
    names: Sequence[str], candidates: Sequence[Candidate]
) -> tuple[dict[str, str], list[str]]:
    """Map user names (subset, host, host/subset, cluster) to :func:`destination_key`s.

    Returns (name -> key for the names that name exactly one key, problems for the others).
    """
    keys = {destination_key(c, candidates): c for c in candidates}
    out: dict[str, str] = {}
    problems: list[str] = []
    for name in names:
        hit = sorted({destination_key(c, candidates) for c in candidates if name in _aliases(c)})
        if len(hit) == 1:
            out[name] = hit[0]
        elif len(hit) > 1:
            problems.append(f"{name!r} names several destinations ({', '.join(hit)})")
        else:
            close = difflib.get_close_matches(name, list(keys), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"{name!r} is not a destination of the matched rule{hint}")
    return out, problems


def _pct(q: Fraction) -> str:
    p = q * 100
    if p.denominator == 1:
        return f"{p.numerator}%"
    return f"{float(p):.4g}% ({q})"


def _split_text(shares: Mapping[str, Fraction]) -> str:
    return "[" + ", ".join(f"{k} {_pct(v)}" for k, v in shares.items()) + "]"


def actual_split(candidates: Sequence[Candidate]) -> dict[str, Fraction]:
    """Exact share of each destination key (weight-0 destinations included, at 0)."""
    out: dict[str, Fraction] = {}
    for c in candidates:
        k = destination_key(c, candidates)
        out[k] = out.get(k, Fraction(0)) + c.probability
    return out


def _check_split(expected: Mapping[str, float], d: Decision) -> list[Mismatch]:
    cands = d.candidates
    actual = actual_split(cands)
    if not cands:
        return [
            Mismatch(
                "split",
                _split_text(_exact(expected)),
                f"no weighted destinations (outcome {d.outcome.value} {d.status})",
            )
        ]
    names, problems = resolve_keys([k for k, w in expected.items() if w > 0], cands)
    exp_shares = _exact(expected)
    want: dict[str, Fraction] = {k: Fraction(0) for k in actual}
    for name, share in exp_shares.items():
        if name in names:
            want[names[name]] += share
    out = [
        Mismatch("split", _split_text(exp_shares), f"{_split_text(actual)} ({p})") for p in problems
    ]
    if not problems and want != actual:
        out.append(Mismatch("split", _split_text(exp_shares), _split_text(actual)))
    return out


def _exact(weights: Mapping[str, float]) -> dict[str, Fraction]:
    ws = {k: Fraction(repr(w)) if isinstance(w, float) else Fraction(w) for k, w in weights.items()}
    total = sum(ws.values())
    return {k: w / total for k, w in ws.items()}


def _host_ok(expected: str, actual: str, namespace: str) -> bool:
    if expected == actual:
        return True
    if "." not in expected:
        expected = f"{expected}.{namespace}"
    return actual in (f"{expected}.svc.cluster.local", f"{expected}.cluster.local")


def _response_header(d: Decision, name: str) -> str | None:
    """The value the route sets or adds for ``name`` on the response (None: neither)."""
    vals = [v for op, k, v in d.response_headers if k.lower() == name.lower() and op != "remove"]
    return ",".join(vals) if vals else None


def _compare(v: CaseValidate, d: Decision, req: Request) -> list[Mismatch]:
    """Mismatches of every stated field except split/sampled (checked once per case)."""
    out: list[Mismatch] = []

    def cmp(name: str, expected: object, actual: object) -> None:
        if expected != actual:
            out.append(Mismatch(name, _show(expected), _show(actual)))

    dest = d.destination
    for name in v.stated:
        want = getattr(v, name)
        if name == "outcome":
            cmp(name, want, d.outcome.value)
        elif name == "status":
            cmp(name, want, d.status)
        elif name == "virtual_service":
            cmp(name, want, d.virtual_service)
        elif name == "rule":
            cmp(name, want, d.rule_name if isinstance(want, str) else d.rule)
        elif name == "match":
            cmp(name, want, d.match)
        elif name == "host":
            got = dest.host if dest else None
            if not (want is not None and got is not None and _host_ok(want, got, req.namespace)):
                cmp(name, want, got)
        elif name == "subset":
            cmp(name, want, dest.subset if dest else None)
        elif name == "cluster":
            cmp(name, want, dest.cluster if dest else None)
        elif name == "workload":
            cmp(name, want, d.workload)
        elif name == "path":
            cmp(name, want, d.path)
        elif name == "authority":
            cmp(name, want, d.authority)
        elif name == "redirect":
            cmp(name, want, d.redirect_location)
        elif name == "body":
            cmp(name, want, d.body)
        elif name == "timeout":
            cmp(name, want, d.timeout)
        elif name == "delay":
            exp_ms, got_ms = v.delay_ms, d.delay_ms
            if exp_ms != got_ms:
                out.append(
                    Mismatch(
                        name,
                        "no delay" if exp_ms is None else f"{exp_ms} ms",
                        "no delay" if got_ms is None else f"{got_ms} ms",
                    )
                )
        elif name == "headers":
            if d.outcome is not Outcome.OK:
                out.append(
                    Mismatch(
                        name,
                        _show(dict(want or {})),
                        f"not forwarded (outcome {d.outcome.value} {d.status})",
                    )
                )
                continue
            fwd = d.request_headers if d.request_headers is not None else req.headers
            for h, hv in (want or {}).items():
                got = fwd.get(h.lower())
                _cmp_header(out, f"headers.{h}", hv, None if got is None else str(got))
        elif name == "response_headers":
            for h, hv in (want or {}).items():
                _cmp_header(out, f"response_headers.{h}", hv, _response_header(d, h))
    return out


def _cmp_header(
    out: list[Mismatch], name: str, want: str | HeaderMatch | None, got: str | None
) -> None:
    if isinstance(want, HeaderMatch):
        if not want.matches(got):
            out.append(Mismatch(name, str(want), "absent" if got is None else repr(got)))
    elif want != got:
        out.append(Mismatch(name, _show(want), _show(got)))


def _single_checks(v: CaseValidate) -> list[tuple[str, CaseValidate, str]]:
    """``v`` cut into one check per field (per header for the header maps): (field, check,
    what it expects)."""
    out: list[tuple[str, CaseValidate, str]] = []
    for name in v.stated:
        want = getattr(v, name)
        if name in ("headers", "response_headers"):
            for h, hv in (want or {}).items():
                fields: dict[str, Any] = {name: {h: hv}}
                one = CaseValidate.model_construct(_fields_set={name}, **fields)
                shown = str(hv) if isinstance(hv, HeaderMatch) else _show(hv)
                out.append((f"{name}.{h}", one, shown))
        elif name != "negated":
            value: dict[str, Any] = {name: want}
            one = CaseValidate.model_construct(_fields_set={name}, **value)
            out.append((name, one, _show(want)))
    return out


def _negated(v: CaseValidate | None, d: Decision, req: Request) -> list[Mismatch]:
    """The fields of a ``not:`` block that hold (each one must not)."""
    if v is None:
        return []
    return [
        Mismatch(f"not.{field}", f"not {shown}", f"{shown} holds")
        for field, one, shown in _single_checks(v)
        if not _compare(one, d, req)
    ]


def _variants(
    sim: Simulator, req: Request, d: Decision, seed: int
) -> list[tuple[str | None, Request, Decision]]:
    """The decision, or one per destination the weighted pick can choose when not pinned."""
    live = [c for c in d.candidates if c.weight > 0]
    if req.random_value is not None or len(live) < 2 or d.rule is None:
        return [(None, req, d)]
    table = WeightTable.of([c.weight for c in d.candidates])
    out: list[tuple[str | None, Request, Decision]] = []
    for i, c in enumerate(d.candidates):
        if c.weight <= 0:
            continue
        rv = table.cumulative[i] - 1  # the last value of destination i's interval
        ri = req.replace(random_value=rv)
        di = sim.route(ri, rng=seed, trace=True)
        out.append((f"{destination_key(c, d.candidates)} ({_pct(c.probability)})", ri, di))
    return out


@dataclass(frozen=True)
class RouteCheck:
    """The outcome of checking one request: the decision shown (the first that failed when each
    weighted destination was checked), the request that reproduces it, the mismatches, and the
    weighted destinations (indexes) the check settled, for coverage."""

    decision: Decision
    request: Request
    mismatches: tuple[Mismatch, ...]
    settled: tuple[int, ...] = ()


def check_route(sim: Simulator, req: Request, v: CaseValidate, *, seed: int = 0) -> RouteCheck:
    """Route ``req`` (draws from ``seed``) and compare the fields ``v`` states."""
    d = sim.route(req, rng=seed, trace=True)
    variants = _variants(sim, req, d, seed)
    per = [_compare(v, dv, req) + _negated(v.negated, dv, req) for _, _, dv in variants]
    everywhere = set.intersection(*(set(ms) for ms in per))
    mismatches: list[Mismatch] = [m for m in per[0] if m in everywhere]
    for (when, _, _), ms in zip(variants, per, strict=True):
        mismatches.extend(
            Mismatch(m.field, m.expected, m.actual, when) for m in ms if m not in everywhere
        )
    shown_req, shown = req, d
    for (_, ri, di), ms in zip(variants, per, strict=True):
        if ms:
            shown_req, shown = ri, di
            break
    settled: tuple[int, ...] = ()
    live = [i for i, c in enumerate(d.candidates) if c.weight > 0]
    if d.rule is not None and len(live) >= 2:
        if v.split is not None:
            settled = tuple(live)
        elif req.random_value is not None:
            settled = (WeightTable.of([c.weight for c in d.candidates]).pick(req.random_value),)
    if v.split is not None:
        mismatches.extend(_check_split(v.split, d))
        if v.sampled is not None and not any(m.field == "split" for m in mismatches):
            mismatches.extend(_check_sampled(sim, req, v.split, v.sampled, d))
    return RouteCheck(shown, shown_req, tuple(mismatches), settled)


def _check_sampled(
    sim: Simulator, req: Request, split: Mapping[str, float], s: SampledCheck, d: Decision
) -> list[Mismatch]:
    from ...stats import required_samples
    from ..split import SplitAssertionError, assert_split

    simulate = getattr(sim, "simulate", None)
    if simulate is None:
        return [
            Mismatch(
                "sampled",
                "simulated traffic",
                "none: this istiosim has no Simulator.simulate;"
                " remove 'sampled' to check the split exactly",
            )
        ]
    cands = d.candidates
    names, _ = resolve_keys(list(split), cands)
    weights: dict[str, float] = {k: 0.0 for k in actual_split(cands)}
    for name, w in split.items():
        if name in names:
            weights[names[name]] += float(w)
    n = s.n or required_samples(
        weights, tolerance=float(s.tolerance), alpha=float(s.alpha), power=1 - float(s.alpha)
    )
    res = simulate(req, n=n, rng=s.seed)
    counts: dict[str, int] = {}
    for (host, subset, outcome), c in res.counts(by=("host", "subset", "outcome")).items():
        if outcome not in ("OK", "NC", "UH") or not c:
            continue  # not forwarded (a fault abort): no destination was picked
        name = f"{host}/{subset}" if subset else str(host)
        key = resolve_keys([name], cands)[0].get(name)
        if key is None:
            return [
                Mismatch("sampled", "requests only on the rule's destinations", f"{c} on {name}")
            ]
        counts[key] = counts.get(key, 0) + int(c)
    try:
        assert_split(_Seeded(counts, s.seed), weights, tolerance=s.tolerance, alpha=s.alpha)
    except SplitAssertionError as exc:
        return [Mismatch("sampled", f"split {_split_text(_exact(split))}", str(exc))]
    return []


@dataclass(frozen=True)
class _Seeded:
    """Counts with the seed that produced them, for assert_split's message."""

    counts: dict[str, int]
    seed: int

    def subset_counts(self) -> dict[str, int]:
        return self.counts


def count_key(k: object, cands: Sequence[Candidate]) -> str | None:
    if k is None:
        bare = [c for c in cands if c.subset is None]
        return destination_key(bare[0], cands) if len(bare) == 1 else None
    names, _ = resolve_keys([str(k)], cands)
    return names.get(str(k))
