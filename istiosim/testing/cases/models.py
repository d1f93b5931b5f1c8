"""The case file: pydantic models of ``tests:`` / ``input`` / ``validate``, and
:func:`load_cases`, which reads one into :class:`RouteCase` values with file:line."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Literal

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

from ...compiler.webhook import parse_duration_ms
from ...errors import ConfigError, Diagnostic, InvalidArgument, Location
from ...request import Request
from ...results import Outcome

__all__ = [
    "CaseFile",
    "CaseInput",
    "CaseModel",
    "CaseSource",
    "CaseValidate",
    "RouteCase",
    "SampledCheck",
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
    from ...loader import load_yaml_documents, validation_diagnostics

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
