"""Route cases: Envoy's route table check tool format, adapted to Istio.

A case file is a top-level ``tests:`` list; each case has a ``test_name``, an ``input`` (the
request: host, path, method, headers, authority, scheme, port, query, random_value and the
``source``: namespace, workload labels, workload, gateway) and a ``validate`` block. Only the
fields ``validate`` states are compared; ``null`` is a value to compare ("no subset", "no rule").

Randomness, so that a case is a fact and not a coin flip:

* ``random_value`` pins the weighted pick (``random_value % total weight`` located in the
  cumulative weights, as Envoy does). Without it, when the matched rule splits traffic, the case
  is checked against *every* destination the pick can choose: a case says what holds for every
  request like its input. A failure names the destination it failed for.
* ``split`` checks the rule's weights exactly, from the candidates' probabilities (Fractions).
  ``sampled`` adds a statistical check of simulated traffic (``assert_split``: equivalence
  within ``tolerance`` at ``alpha``) and needs ``Simulator.simulate``.
* The other draws (which pod, fault percentages) come from a fixed seed (``seed``, default 0).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from ..analysis.coverage import CoverageReport, RouteHit, route_coverage
from ..errors import ConfigError, Diagnostic, InvalidArgument, Location
from ..request import Request
from ..results import Candidate, Decision, Outcome
from ..weights import WeightTable

if TYPE_CHECKING:
    from ..simulator import Simulator

__all__ = [
    "CaseFile",
    "CaseInput",
    "CaseReport",
    "CaseResult",
    "CaseSource",
    "CaseValidate",
    "Mismatch",
    "RouteCase",
    "RouteCheck",
    "SampledCheck",
    "check_route",
    "destination_key",
    "load_cases",
    "run_case",
    "run_cases",
]

# --- the case file model --------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseSource(_Model):
    """Who sends the request: the client's namespace, pod labels or workload, or a gateway."""

    namespace: StrictStr = "default"
    labels: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    workload: StrictStr | None = None
    gateway: StrictStr | None = None


class CaseInput(_Model):
    """The request of a case (``path`` may carry a query; ``query`` adds parameters)."""

    host: StrictStr = Field(min_length=1)
    path: StrictStr = "/"
    method: StrictStr = "GET"
    headers: dict[StrictStr, StrictStr | list[StrictStr]] = Field(default_factory=dict)
    authority: StrictStr | None = None
    scheme: Literal["http", "https"] = "http"
    port: StrictInt | None = Field(default=None, ge=1, le=65535)
    query: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    random_value: StrictInt | None = Field(default=None, ge=0)
    source: CaseSource = Field(default_factory=CaseSource)

    @field_validator("path")
    @classmethod
    def _slash(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError("path must start with '/'")
        return v

    def to_request(self) -> Request:
        s = self.source
        return Request(
            self.host,
            self.path,
            self.method,
            self.headers,
            authority=self.authority,
            scheme=self.scheme,
            port=self.port,
            namespace=s.namespace,
            source_labels=s.labels,
            source_workload=s.workload,
            gateway=s.gateway,
            random_value=self.random_value,
            query=self.query or None,
        )


class SampledCheck(_Model):
    """Also check ``split`` on simulated traffic: ``n`` requests (default: the sample size that
    shows a correct split equivalent with power 1 - alpha), ``seed``, ``tolerance`` (absolute
    share) and ``alpha`` (false-failure rate per check)."""

    n: StrictInt | None = Field(default=None, ge=1, le=1_000_000_000)
    seed: StrictInt = Field(default=0, ge=0)
    tolerance: StrictFloat | StrictInt = Field(default=0.01, gt=0, lt=1)
    alpha: StrictFloat | StrictInt = Field(default=1e-6, gt=0, lt=0.5)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def _delay_ms(v: object) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError("delay must be a duration such as '7s' or '500ms', or milliseconds")
    if isinstance(v, int):
        if v < 0:
            raise ValueError("delay must not be negative")
        return v or None
    if isinstance(v, str):
        m = _DURATION.match(v.strip())
        if m:
            ms = Fraction(m.group(1)) * _UNIT_MS[m.group(2)]
            return int(ms) or None
    raise ValueError("delay must be a duration such as '7s' or '500ms', or milliseconds")


class CaseValidate(_Model):
    """What to check. Only the fields written are compared; ``null`` is a value.

    ``path``/``authority`` are the request as forwarded (after rewrites), ``redirect`` the
    redirect Location, ``headers`` the request headers as forwarded (``null``: absent),
    ``response_headers`` what the route sets or adds on the response (``null``: neither, as
    when it removes the header; the upstream's own headers are not modelled),
    ``delay`` the injected fault delay (``'7s'``, ``'500ms'``, milliseconds; ``null``: none),
    ``split`` the weights of the matched rule by subset (or host), checked exactly.
    """

    outcome: StrictStr | None = None
    status: StrictInt | None = Field(default=None, ge=100, le=599)
    virtual_service: StrictStr | None = None
    rule: StrictInt | StrictStr | None = None
    match: StrictInt | None = Field(default=None, ge=0)
    host: StrictStr | None = None
    subset: StrictStr | None = None
    cluster: StrictStr | None = None
    workload: StrictStr | None = None
    path: StrictStr | None = None
    authority: StrictStr | None = None
    redirect: StrictStr | None = None
    body: StrictStr | None = None
    timeout: StrictStr | None = None
    headers: dict[StrictStr, StrictStr | None] | None = None
    response_headers: dict[StrictStr, StrictStr | None] | None = None
    delay: StrictInt | StrictStr | None = None
    split: dict[StrictStr, StrictInt | StrictFloat] | None = None
    sampled: SampledCheck | None = None

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if v.upper() not in Outcome.__members__:
            raise ValueError(f"outcome must be one of {', '.join(Outcome.__members__)}")
        return v.upper()

    @field_validator("rule")
    @classmethod
    def _rule(cls, v: int | str | None) -> int | str | None:
        if isinstance(v, int) and v < 0:
            raise ValueError("rule is an index (0 for the first http route) or a route name")
        return v

    @field_validator("delay")
    @classmethod
    def _delay(cls, v: int | str | None) -> int | str | None:
        _delay_ms(v)
        return v

    @field_validator("split")
    @classmethod
    def _split(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return None
        if not v:
            raise ValueError("split is empty: name at least one subset and its weight")
        for k, w in v.items():
            if not math.isfinite(w) or w < 0:
                raise ValueError(f"weight of {k!r} must be a finite number >= 0, got {w!r}")
        if sum(v.values()) <= 0:
            raise ValueError("all split weights are zero")
        return v

    @property
    def stated(self) -> tuple[str, ...]:
        """The fields this case checks, in declaration order."""
        return tuple(n for n in type(self).model_fields if n in self.model_fields_set)

    @property
    def delay_ms(self) -> int | None:
        return _delay_ms(self.delay)


class CaseModel(_Model):
    test_name: StrictStr = Field(min_length=1)
    input: CaseInput
    expect: CaseValidate = Field(alias="validate")


class CaseFile(_Model):
    """A whole case file: ``tests:`` and nothing else."""

    tests: list[CaseModel] = Field(min_length=1)


@dataclass(frozen=True)
class RouteCase:
    """One case as loaded: name, request, checks, and where it is written."""

    name: str
    input: CaseInput
    validate: CaseValidate
    location: Location | None = None

    @property
    def request(self) -> Request:
        return self.input.to_request()


def load_cases(source: str | os.PathLike[str]) -> list[RouteCase]:
    """Read a case file (path, ``-`` or YAML/JSON text); ConfigError with file:line if bad."""
    from ..loader import load_yaml_documents, validation_diagnostics

    docs = load_yaml_documents(source)
    name = str(source) if "\n" not in str(source) else "<string>"
    if len(docs) != 1:
        loc = docs[1][2] if docs else Location(name)
        what = "is empty" if not docs else "has more than one YAML document"
        raise ConfigError(
            [Diagnostic.make("ISM0007", f"a case file {what}; write one 'tests:' list", loc)]
        )
    data, smap, loc = docs[0]
    try:
        model = CaseFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_diagnostics(exc, CaseFile, data, smap, loc, "cases")) from None
    errors: list[Diagnostic] = []
    out: list[RouteCase] = []
    names: dict[str, int] = {}
    for i, c in enumerate(model.tests):
        where = smap.find(("tests", i)) or loc
        v = c.expect
        if not v.stated:
            errors.append(
                Diagnostic.make(
                    "ISM0008",
                    "validate states nothing to check",
                    smap.find(("tests", i, "validate")) or where,
                    field_path=f"tests[{i}].validate",
                    resource=c.test_name,
                )
            )
        if v.sampled is not None and v.split is None:
            errors.append(
                Diagnostic.make(
                    "ISM0004",
                    "sampled checks a split: state 'split' too",
                    smap.find(("tests", i, "validate", "sampled")) or where,
                    field_path=f"tests[{i}].validate.sampled",
                    resource=c.test_name,
                )
            )
        if v.sampled is not None and c.input.random_value is not None:
            errors.append(
                Diagnostic.make(
                    "ISM0004",
                    "sampled traffic needs random draws: remove input.random_value",
                    smap.find(("tests", i, "validate", "sampled")) or where,
                    field_path=f"tests[{i}].validate.sampled",
                    resource=c.test_name,
                )
            )
        if c.test_name in names:
            errors.append(
                Diagnostic.make(
                    "ISM0004",
                    f"duplicate test_name {c.test_name!r} (first is tests[{names[c.test_name]}])",
                    smap.find(("tests", i, "test_name")) or where,
                    field_path=f"tests[{i}].test_name",
                )
            )
        names.setdefault(c.test_name, i)
        try:
            c.input.to_request()
        except InvalidArgument as exc:
            errors.append(
                Diagnostic.make(
                    "ISM0004",
                    str(exc),
                    smap.find(("tests", i, "input")) or where,
                    field_path=f"tests[{i}].input",
                    resource=c.test_name,
                )
            )
        out.append(RouteCase(c.test_name, c.input, v, where))
    if errors:
        raise ConfigError(errors)
    return out


# --- comparing a decision with a case -------------------------------------------------------


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
                cmp(f"headers.{h}", hv, fwd.get(h.lower()))
        elif name == "response_headers":
            for h, hv in (want or {}).items():
                cmp(f"response_headers.{h}", hv, _response_header(d, h))
    return out


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
    per = [_compare(v, dv, req) for _, _, dv in variants]
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
    from ..stats import required_samples
    from ._split import SplitAssertionError, assert_split

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


def _count_key(k: object, cands: Sequence[Candidate]) -> str | None:
    if k is None:
        bare = [c for c in cands if c.subset is None]
        return destination_key(bare[0], cands) if len(bare) == 1 else None
    names, _ = resolve_keys([str(k)], cands)
    return names.get(str(k))


# --- running cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    """One case run: passed or the mismatches, with the decision (and its trace)."""

    name: str
    mismatches: tuple[Mismatch, ...]
    decision: Decision
    request: Request
    location: Location | None = None
    hit: RouteHit | None = None

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def failure_text(self, indent: str = "  ") -> str:
        """Expected vs actual, then the trace, indented (empty when the case passed)."""
        if self.passed:
            return ""
        lines = [f"{indent}{m}" for m in self.mismatches]
        lines.append(f"{indent}trace:")
        lines.extend(f"{indent}  {line}" for line in self.decision.explain().splitlines())
        return "\n".join(lines)

    def __str__(self) -> str:
        where = f"  [{self.location}]" if self.location else ""
        head = f"{'PASS' if self.passed else 'FAIL'} {self.name}{where}"
        return head if self.passed else f"{head}\n{self.failure_text()}"

    def to_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "test_name": self.name,
            "passed": self.passed,
            "file": loc.file if loc else None,
            "line": loc.line if loc and loc.line > 0 else None,
            "mismatches": [m.to_dict() for m in self.mismatches],
            "request": self.request.to_dict(),
            "decision": self.decision.to_dict(),
        }


@dataclass(frozen=True)
class CaseReport:
    """All cases of a run, and the route coverage they reached."""

    results: tuple[CaseResult, ...]
    coverage: CoverageReport = field(default_factory=CoverageReport)

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def passed(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        n, bad = len(self.results), len(self.failed)
        return f"{n} case(s): {n - bad} passed, {bad} failed"

    def __str__(self) -> str:
        return "\n".join([*(str(r) for r in self.results), self.summary(), str(self.coverage)])

    def to_dict(self) -> dict[str, Any]:
        n, bad = len(self.results), len(self.failed)
        return {
            "passed": self.passed,
            "summary": {"total": n, "passed": n - bad, "failed": bad},
            "cases": [r.to_dict() for r in self.results],
            "coverage": self.coverage.to_dict(),
        }


def run_case(sim: Simulator, case: RouteCase, *, seed: int = 0) -> CaseResult:
    """Route one case and compare its stated fields."""
    chk = check_route(sim, case.request, case.validate, seed=seed)
    d = chk.decision
    hit = None
    if d.virtual_service is not None and d.rule is not None:
        hit = RouteHit(d.virtual_service, d.rule, d.match, chk.settled, case.name)
    return CaseResult(case.name, chk.mismatches, d, chk.request, case.location, hit)


def run_cases(
    sim: Simulator,
    cases: str | os.PathLike[str] | Sequence[RouteCase],
    *,
    seed: int = 0,
) -> CaseReport:
    """Run cases (a case file, its text, or loaded cases) and measure route coverage."""
    if isinstance(cases, str | os.PathLike):
        cases = load_cases(cases)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed must be a non-negative integer, got {seed!r}")
    results = tuple(run_case(sim, c, seed=seed) for c in cases)
    cov = route_coverage(sim.plan, (r.hit for r in results if r.hit is not None))
    return CaseReport(results, cov)
