"""Pydantic models of istiosim's own input files: the traffic file (``simulate --traffic``) and
the counts file (``verify --observed``), read like configs: strict types (a bool is not a port,
5 is not a namespace), unknown keys refused, every error located by the loader's source map.

Plain models only; :mod:`istiosim.traffic` and ``istiosim.cli.verify`` turn them into values.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

#: the largest weight or share a file may give (relative weights; beyond this floats lose the
#: small ones entirely)
MAX_WEIGHT = 1e15
#: the largest count a counts file may give (counts are 64-bit)
MAX_COUNT = 2**63 - 1
#: the largest ``users.n_users`` (each generated user is a string in memory)
MAX_USERS = 1 << 22

OUTCOMES = ("OK", "NR", "NC", "UH", "FI", "REDIRECT", "DIRECT", "PASSTHROUGH")


class InputModel(BaseModel):
    """Base of the input-file models: unknown keys are errors, values are not coerced."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _weight(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"must be a number, not {type(v).__name__}")
    if not v >= 0:
        raise ValueError("must be a number >= 0")
    if not v <= MAX_WEIGHT:  # a big int compares exactly; inf fails
        raise ValueError(f"must be at most {MAX_WEIGHT:g}")
    return float(v)


def _count(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"a count must be a whole number, not {type(v).__name__}")
    if isinstance(v, float) and not (math.isfinite(v) and v.is_integer()):
        raise ValueError("a count must be a whole number")
    if v < 0:
        raise ValueError("a count must not be negative")
    if v > MAX_COUNT:
        raise ValueError(f"a count must be at most 2^63 - 1 = {MAX_COUNT}")
    return int(v)


#: a weight or share: a finite number in [0, MAX_WEIGHT]
Weight = Annotated[float, BeforeValidator(_weight)]
#: a count: a whole number in [0, 2^63 - 1] (``12.0`` is accepted, ``True`` is not)
Count = Annotated[int, BeforeValidator(_count)]
Text = Annotated[StrictStr, Field(min_length=1)]

#: path and method: one value, a list (uniform) or value -> share
Values = StrictStr | Annotated[list[StrictStr], Field(min_length=1)] | dict[StrictStr, Weight]
#: a header: one value (None: absent), a list (uniform) or value -> share
HeaderValues = (
    StrictStr
    | None
    | Annotated[list[StrictStr | None], Field(min_length=1)]
    | dict[StrictStr, Weight]
)


class TrafficRequest(InputModel):
    """The template request of a class (``Request``'s arguments)."""

    host: Text
    path: StrictStr = "/"
    method: Text = "GET"
    headers: dict[Text, StrictStr | list[StrictStr]] = Field(default_factory=dict)
    authority: StrictStr | None = None
    scheme: Text = "http"
    port: StrictInt | None = Field(default=None, ge=1, le=65535)
    namespace: Text = "default"
    source_labels: dict[Text, StrictStr] = Field(default_factory=dict)
    source_workload: Text | None = None
    gateway: Text | None = None
    random_value: StrictInt | None = Field(default=None, ge=0, lt=2**64)

    @field_validator("path")
    @classmethod
    def _slash(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError("path must start with '/'")
        return v


class TrafficVary(InputModel):
    """Independent distributions over path, method, headers and query parameters."""

    path: Values | None = None
    method: Values | None = None
    headers: dict[Text, HeaderValues] = Field(default_factory=dict)
    query: dict[Text, HeaderValues] = Field(default_factory=dict)


class TrafficUsers(InputModel):
    """A population of ``n_users`` values of ``header`` (named ones with their shares)."""

    header: Text = "end-user"
    n_users: StrictInt = Field(default=10_000, ge=1, le=MAX_USERS)
    named: dict[StrictStr, Weight] = Field(default_factory=dict)
    prefix: StrictStr = "user-"


class TrafficClass(InputModel):
    name: StrictStr | None = None
    weight: Weight = 1
    request: TrafficRequest
    vary: TrafficVary | None = None
    users: TrafficUsers | None = None

    @model_validator(mode="after")
    def _one_of(self) -> TrafficClass:
        if self.vary is not None and self.users is not None:
            raise ValueError("'users' and 'vary' cannot be combined")
        return self


class TrafficFile(InputModel):
    """``classes: [{name, weight, request, vary | users}]``."""

    classes: Annotated[list[TrafficClass], Field(min_length=1)]


# -- counts ---------------------------------------------------------------------------------------


class CountRow(InputModel):
    """One row of ``istiosim simulate --format json`` (or a hand-written one)."""

    host: StrictStr | None = None
    subset: StrictStr | None = None
    workload: StrictStr | None = None
    outcome: Literal[OUTCOMES] | None = None  # type: ignore[valid-type]
    status: StrictInt | None = None
    count: Count


class SimulatedCounts(InputModel):
    """The output of ``istiosim simulate --format json``: ``rows`` are read, the rest checked."""

    rows: list[CountRow]
    n: Count | None = None
    mode: StrictStr | None = None
    seed: StrictInt | None = None
    classes: list[Any] | None = None


class WrappedCounts(InputModel):
    """``{counts: {subset: count}}``."""

    counts: Annotated[dict[Text, Count], Field(min_length=1)]


class PlainCounts(RootModel[dict[Text, Count]]):
    """``{subset: count}``."""


class PrometheusSample(InputModel):
    """One series of an instant vector: its labels and ``[timestamp, "value"]``."""

    metric: dict[StrictStr, StrictStr]
    value: tuple[StrictInt | StrictFloat, StrictStr]


class PrometheusData(InputModel):
    resultType: Literal["vector"]
    result: list[PrometheusSample]


class PrometheusResponse(BaseModel):
    """The JSON of Prometheus' ``/api/v1/query`` (instant vector); other keys
    (``warnings``, ``infos``, ``stats``) are allowed as the API may add them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["success"]
    data: PrometheusData


__all__ = [
    "MAX_COUNT",
    "MAX_USERS",
    "MAX_WEIGHT",
    "OUTCOMES",
    "CountRow",
    "InputModel",
    "PlainCounts",
    "PrometheusResponse",
    "PrometheusSample",
    "SimulatedCounts",
    "TrafficClass",
    "TrafficFile",
    "TrafficRequest",
    "TrafficUsers",
    "TrafficVary",
    "WrappedCounts",
]
