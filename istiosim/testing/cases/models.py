"""The case file: pydantic models of ``tests:`` / ``input`` / ``validate``, and
:func:`load_cases`, which reads one into :class:`RouteCase` values with file:line."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from ...compiler.webhook import parse_duration_ms
from ...errors import ConfigError, Diagnostic, InvalidArgument, Location
from ...request import Request
from ...results import Decision, Outcome

if TYPE_CHECKING:
    from ...loader.yaml import SourceMap

__all__ = [
    "CASE_FORMATS",
    "CaseFile",
    "CaseInput",
    "CaseInputs",
    "CaseModel",
    "CaseSource",
    "CaseValidate",
    "ExtraCheck",
    "HeaderMatch",
    "RouteCase",
    "SampledCheck",
    "detect_format",
    "load_cases",
]


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


_LISTABLE = ("host", "authority", "method", "path")


class CaseInputs(CaseInput):
    """An ``input`` as written: ``host``, ``authority``, ``method`` and ``path`` may each be a
    list, and the case runs once per combination (:meth:`expand`)."""

    host: StrictStr | list[StrictStr] = Field(min_length=1)  # type: ignore[assignment]
    path: StrictStr | list[StrictStr] = "/"  # type: ignore[assignment]
    method: StrictStr | list[StrictStr] = "GET"  # type: ignore[assignment]
    authority: StrictStr | list[StrictStr] | None = None  # type: ignore[assignment]

    @field_validator("path")
    @classmethod
    def _slash(cls, v: Any) -> Any:
        for p in [v] if isinstance(v, str) else v:
            if not p.startswith("/"):
                raise ValueError("path must start with '/'")
        return v

    @field_validator("host", "method", "authority")
    @classmethod
    def _nonempty(cls, v: Any) -> Any:
        if isinstance(v, list) and not v:
            raise ValueError("an empty list: give at least one value")
        if isinstance(v, list) and not all(v):
            raise ValueError("an empty string in the list")
        return v

    def expand(self) -> list[tuple[str, CaseInput]]:
        """Each combination of the listed values: (label naming the values that vary, input)."""
        axes = [(k, getattr(self, k)) for k in _LISTABLE]
        varying = [k for k, v in axes if isinstance(v, list) and len(v) > 1]
        lists = [v if isinstance(v, list) else [v] for _, v in axes]
        base = self.model_dump(exclude=set(_LISTABLE), exclude_unset=True)
        out: list[tuple[str, CaseInput]] = []
        for combo in itertools.product(*lists):
            vals = dict(zip(_LISTABLE, combo, strict=True))
            fields = {k: v for k, v in vals.items() if v is not None}
            label = " ".join(str(vals[k]) for k in varying)
            out.append((label, CaseInput.model_validate({**base, **fields})))
        return out


class HeaderMatch(_Model):
    """A header check in the shape of Istio's StringMatch and Envoy's HeaderMatcher: one of
    ``exact``, ``prefix``, ``suffix``, ``contains``, ``regex`` (RE2, full match) or ``present``
    (true: the header is there, false: it is absent); ``invert`` negates the result."""

    exact: StrictStr | None = None
    prefix: StrictStr | None = None
    suffix: StrictStr | None = None
    contains: StrictStr | None = None
    regex: StrictStr | None = None
    present: StrictBool | None = None
    ignore_case: StrictBool = False
    invert: StrictBool = False

    @model_validator(mode="after")
    def _one(self) -> HeaderMatch:
        kinds = [k for k in _MATCH_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"state exactly one of {', '.join(_MATCH_KINDS)}"
                + (f" (got {', '.join(kinds)})" if kinds else "")
            )
        if self.regex is not None:
            import re2

            try:
                re2.compile(self.regex)
            except re2.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile (RE2): {exc}") from None
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _MATCH_KINDS if getattr(self, k) is not None)

    def matches(self, value: str | None) -> bool:
        """Whether a header with ``value`` (None: absent) passes this check."""
        return self._raw(value) != self.invert

    def _raw(self, value: str | None) -> bool:
        if self.present is not None:
            return (value is not None) == self.present
        if value is None:
            return False
        want = str(getattr(self, self.kind))
        if self.regex is not None:
            import re2

            return re2.fullmatch(self.regex, value) is not None
        if self.ignore_case:
            value, want = value.lower(), want.lower()
        if self.exact is not None:
            return value == want
        if self.prefix is not None:
            return value.startswith(want)
        if self.suffix is not None:
            return value.endswith(want)
        return want in value

    def __str__(self) -> str:
        if self.present is not None:
            text = "present" if self.present else "absent"
        else:
            text = f"{self.kind} {getattr(self, self.kind)!r}" + (
                " (ignoring case)" if self.ignore_case else ""
            )
        return f"not {text}" if self.invert else text


_MATCH_KINDS = ("exact", "prefix", "suffix", "contains", "regex", "present")

HeaderCheck = StrictStr | HeaderMatch | None


class SampledCheck(_Model):
    """Also check ``split`` on simulated traffic: ``n`` requests (default: the sample size that
    shows a correct split equivalent with power 1 - alpha), ``seed``, ``tolerance`` (absolute
    share) and ``alpha`` (false-failure rate per check)."""

    n: StrictInt | None = Field(default=None, ge=1, le=1_000_000_000)
    seed: StrictInt = Field(default=0, ge=0)
    tolerance: StrictFloat | StrictInt = Field(default=0.01, gt=0, lt=1)
    alpha: StrictFloat | StrictInt = Field(default=1e-6, gt=0, lt=0.5)


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
        ms = parse_duration_ms(v.strip())
        if ms is not None:
            return int(ms) or None
    raise ValueError("delay must be a duration such as '7s' or '500ms', or milliseconds")


class CaseValidate(_Model):
    """What to check. Only the fields written are compared; ``null`` is a value.

    ``path``/``authority`` are the request as forwarded (after rewrites), ``redirect`` the
    redirect Location, ``headers`` the request headers as forwarded (``null``: absent),
    ``response_headers`` what the route sets or adds on the response (``null``: neither, as
    when it removes the header; the upstream's own headers are not modelled),
    ``delay`` the injected fault delay (``'7s'``, ``'500ms'``, milliseconds; ``null``: none),
    ``split`` the weights of the matched rule by subset (or host), checked exactly;
    ``not`` (``negated`` in Python) fields that must each differ. ``headers`` and
    ``response_headers`` values are a string (exact), ``null`` (absent) or a
    :class:`HeaderMatch`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

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
    headers: dict[StrictStr, HeaderCheck] | None = None
    response_headers: dict[StrictStr, HeaderCheck] | None = None
    delay: StrictInt | StrictStr | None = None
    split: dict[StrictStr, StrictInt | StrictFloat] | None = None
    sampled: SampledCheck | None = None
    negated: CaseValidate | None = Field(default=None, alias="not")

    @field_validator("negated")
    @classmethod
    def _negated(cls, v: CaseValidate | None) -> CaseValidate | None:
        if v is None:
            return None
        bad = [n for n in ("split", "sampled", "negated") if n in v.model_fields_set]
        if bad:
            raise ValueError(
                f"'not' cannot hold {', '.join('not' if b == 'negated' else b for b in bad)}"
            )
        if not v.stated:
            raise ValueError("'not' states nothing to check")
        return v

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
    input: CaseInputs
    expect: CaseValidate = Field(alias="validate")


class CaseFile(_Model):
    """One document of a case file: ``tests:`` and nothing else (a file may hold several
    documents, separated by ``---``)."""

    tests: list[CaseModel] = Field(min_length=1)


#: an extra check of a case in another tool's format: (simulator, decision, request) ->
#: mismatches as (field, expected, actual) triples
ExtraCheck = Callable[[Any, Decision, Request], Sequence[tuple[str, str, str]]]


@dataclass(frozen=True)
class RouteCase:
    """One case as loaded: name, request, checks, and where it is written.

    ``unsupported`` lists the fields of a case written for another tool that istiosim cannot
    check (the case then fails, naming them, rather than passing on what it skipped);
    ``extra`` are that tool's checks with no ``validate`` equivalent; ``format`` names the
    format the case was read from; ``prepare`` adapts the input to the loaded config."""

    name: str
    input: CaseInput
    validate: CaseValidate
    location: Location | None = None
    unsupported: tuple[str, ...] = ()
    extra: tuple[ExtraCheck, ...] = ()
    format: str = "istiosim"
    #: for another tool's case, the input as routed given the loaded config (e.g. through
    #: the gateway its VirtualService is bound to)
    prepare: Callable[[Any, CaseInput], CaseInput] | None = None

    @property
    def request(self) -> Request:
        return self.input.to_request()


#: the case formats ``load_cases`` reads (``auto``: detected per document)
CASE_FORMATS = ("auto", "istiosim", "envoy", "istio-config-validator")


def detect_format(data: Mapping[str, Any]) -> str:
    """The format of one case document: istio-config-validator (``testCases``), Envoy's
    router_check_tool (``tests`` whose inputs have ``authority`` and no ``host``, or Envoy's
    field names), or istiosim's own."""
    if "testCases" in data:
        return "istio-config-validator"
    if "runtime" in data and "tests" in data:
        return "envoy"
    tests = data.get("tests")
    if isinstance(tests, list):
        from .formats import ENVOY_INPUT_ONLY, ENVOY_VALIDATE_ONLY

        for t in tests:
            if not isinstance(t, Mapping):
                continue
            inp, val = t.get("input"), t.get("validate")
            if isinstance(inp, Mapping) and (
                ("authority" in inp and "host" not in inp) or ENVOY_INPUT_ONLY & inp.keys()
            ):
                return "envoy"
            if isinstance(val, Mapping) and ENVOY_VALIDATE_ONLY & val.keys():
                return "envoy"
    return "istiosim"


def load_cases(source: str | os.PathLike[str], *, format: str = "auto") -> list[RouteCase]:
    """Read a case file (path, ``-`` or YAML/JSON text); ConfigError with file:line if bad.

    A file may hold several YAML documents; each is istiosim's format, Envoy's
    router_check_tool test format or getyourguide's istio-config-validator ``testCases``
    (detected per document unless ``format`` names one of :data:`CASE_FORMATS`).
    """
    from ...loader import load_yaml_documents

    if format not in CASE_FORMATS:
        raise InvalidArgument(
            f"case format must be one of {', '.join(CASE_FORMATS)}, got {format!r}"
        )
    docs = load_yaml_documents(source)
    name = str(source) if "\n" not in str(source) else "<string>"
    if not docs:
        raise ConfigError(
            [
                Diagnostic.make(
                    "ISM0007", "a case file is empty; write one 'tests:' list", Location(name)
                )
            ]
        )
    errors: list[Diagnostic] = []
    out: list[RouteCase] = []
    names: dict[str, Location | None] = {}
    for data, smap, loc in docs:
        fmt = detect_format(data) if format == "auto" else format
        try:
            if fmt == "istiosim":
                cases = _load_own(data, smap, loc)
            else:
                from .formats import load_foreign

                cases = load_foreign(fmt, data, smap, loc)
        except ConfigError as exc:
            errors.extend(exc.diagnostics)
            continue
        earlier = dict(names)
        for c in cases:
            if c.name in earlier and c.format == "istiosim":
                first = earlier[c.name]
                errors.append(
                    Diagnostic.make(
                        "ISM0004",
                        f"duplicate test_name {c.name!r} (first at {first})",
                        c.location or loc,
                    )
                )
            names.setdefault(c.name, c.location)
            out.append(c)
    if errors:
        raise ConfigError(errors)
    return out


def _load_own(data: dict[str, Any], smap: SourceMap, loc: Location) -> list[RouteCase]:
    from ...loader import validation_diagnostics

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
        expanded = c.input.expand()
        for label, inp in expanded:
            try:
                inp.to_request()
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
                break
            name = f"{c.test_name} [{label}]" if len(expanded) > 1 else c.test_name
            out.append(RouteCase(name, inp, v, where))
    if errors:
        raise ConfigError(errors)
    return out
