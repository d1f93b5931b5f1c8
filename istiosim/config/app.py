"""Pydantic model of an application file (``istiosim journey --app``): what each workload does
with a request it serves — its own latency and error rate, and the calls it makes downstream
with the application's own client timeouts and retries — and what the user sees of a page view.

Plain models, strict like the other input files (unknown keys refused, values not coerced, every
error located by the loader's source map); ``istiosim.journey`` checks them against the loaded
mesh (unknown hosts, call cycles) and turns them into values. Durations are Go/Istio duration
strings (``10ms``, ``2.5s``); they are parsed (and located when malformed) there too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from .inputs import InputModel, Text, Weight

Duration = Annotated[StrictStr, Field(min_length=1)]


class ExponentialLatency(InputModel):
    """Exponentially distributed, with this mean."""

    mean: Duration


class LognormalLatency(InputModel):
    """Lognormal: ``median`` is exp(mu), ``sigma`` the standard deviation of the log."""

    median: Duration
    sigma: Annotated[StrictFloat | StrictInt, Field(ge=0, le=10)]


class EmpiricalLatency(InputModel):
    """An empirical histogram: these values, with these relative weights (default equal)."""

    values: Annotated[list[Duration], Field(min_length=1, max_length=10_000)]
    weights: list[Weight] | None = None

    @model_validator(mode="after")
    def _same_length(self) -> EmpiricalLatency:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("'weights' must have one weight per value")
            if not sum(self.weights) > 0:
                raise ValueError("'weights' must not all be 0")
        return self


class Latency(InputModel):
    """Exactly one of ``constant``, ``exponential``, ``lognormal``, ``empirical``."""

    constant: Duration | None = None
    exponential: ExponentialLatency | None = None
    lognormal: LognormalLatency | None = None
    empirical: EmpiricalLatency | None = None

    @model_validator(mode="after")
    def _one(self) -> Latency:
        given = [
            k for k in ("constant", "exponential", "lognormal", "empirical") if getattr(self, k)
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of constant, exponential, lognormal, empirical"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


#: a latency: a duration string (constant) or one distribution
LatencySpec = Duration | Latency


class Call(InputModel):
    """One call a workload makes for every request it serves (in order, one after another)."""

    host: Text
    name: Text | None = None
    port: StrictInt | None = Field(default=None, ge=1, le=65535)
    path: StrictStr = "/"
    method: Text = "GET"
    #: headers of the incoming request copied onto this call (``"*"``: all of them)
    propagate: list[Text] | Literal["*"] | None = None
    #: headers the application sets on the call itself
    headers: dict[Text, StrictStr] = Field(default_factory=dict)
    #: only workloads with one of these ``version`` labels make the call (default: all)
    versions: list[Text] | None = None
    #: the application's own client timeout per try (None: waits forever)
    timeout: Duration | None = None
    #: how many times the application tries (1: no retry); it retries on any failure
    attempts: StrictInt = Field(default=1, ge=1, le=100)
    #: whether a failure of this call makes the caller fail too (with the status it saw)
    required: StrictBool = False

    @model_validator(mode="after")
    def _path(self) -> Call:
        if not self.path.startswith("/"):
            raise ValueError("path must start with '/'")
        return self


class Behaviour(InputModel):
    """What a workload (or one version of it) does with a request."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True
    )

    latency: LatencySpec | None = None
    error_rate: Annotated[StrictFloat | StrictInt, Field(ge=0, le=1)] | None = Field(
        default=None, alias="errorRate"
    )
    error_status: StrictInt | None = Field(default=None, alias="errorStatus", ge=100, le=599)
    #: headers of the incoming request copied onto every call (a call's own list replaces it)
    propagate: list[Text] | Literal["*"] | None = None
    calls: list[Call] | None = None


class Workload(Behaviour):
    """A workload (keyed by its ``app`` label) and per-version overrides of any field."""

    versions: dict[Text, Behaviour] = Field(default_factory=dict)


class Condition(InputModel):
    """A condition on the page view: a hop to ``call`` (a workload of the model, or the entry)
    that the caller used (the last try of each call) and its ``version``, ``failed`` or
    ``status``. All given fields must hold for one such hop."""

    call: Text
    version: Text | None = None
    failed: StrictBool | None = None
    status: StrictInt | None = None
    #: True: no hop to ``call`` was made at all
    absent: StrictBool | None = None


class SeesRule(InputModel):
    """``label`` when every condition holds (no ``when``: always; the last rule is the default)."""

    label: Text
    when: list[Condition] = Field(default_factory=list)


class Entry(InputModel):
    host: Text
    path: StrictStr = "/"


class ApplicationFile(InputModel):
    """``{name, namespace, entry, workloads: {app: Workload}, sees: [SeesRule]}``."""

    kind: Literal["Application"] | None = None
    name: Text = "app"
    namespace: Text = "default"
    entry: Entry | None = None
    workloads: Annotated[dict[Text, Workload], Field(min_length=1)]
    sees: list[SeesRule] = Field(default_factory=list)


__all__ = [
    "ApplicationFile",
    "Behaviour",
    "Call",
    "Condition",
    "EmpiricalLatency",
    "Entry",
    "ExponentialLatency",
    "Latency",
    "LognormalLatency",
    "SeesRule",
    "Workload",
]
