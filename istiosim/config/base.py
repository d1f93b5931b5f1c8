"""The bases every config model shares: how YAML names map to fields, and object metadata.

Istio models are strict (an unknown field is an error, so a typo fails loudly instead of
silently disappearing); Kubernetes models read only what routing needs and ignore the rest.
"""

# No ``from __future__ import annotations`` here: pydantic then takes the annotations Python
# evaluated rather than evaluating each string itself (a quarter of building these classes,
# paid by every command that loads a file: start-up, issue 9).

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from .kinds import ISTIO_NETWORKING_VERSIONS as ISTIO_NETWORKING_VERSIONS


def new_list() -> list[Any]:
    """``[]``, the ``default_factory`` of the models' list fields: a Python function rather
    than ``list``, because pydantic reads a factory's signature when it builds a model and
    ``inspect.signature`` of a builtin tokenizes its text signature (2.5 ms the first time,
    then 40-160 µs, against 11 µs for a function: about 5 ms of every ``route``'s start)."""
    return []


def new_dict() -> dict[str, Any]:
    """``{}``, the ``default_factory`` of the models' mapping fields (see :func:`new_list`)."""
    return {}


class IstioModel(BaseModel):
    """Base of the Istio API models: camelCase aliases, strict about unknown fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        defer_build=True,
    )


class K8sModel(BaseModel):
    """Base of the Kubernetes models: only routing fields are read, the rest is ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
        defer_build=True,
    )


class ObjectMeta(K8sModel):
    name: str = ""
    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=new_dict)
    annotations: dict[str, str] = Field(default_factory=new_dict)
    creation_timestamp: Any = None


def schema_name(class_name: str) -> str:
    """A model's name as messages show it: the API type's own name.

    The Kubernetes ``Service``, ``ServicePort`` and ``Pod`` models carry a ``K8s`` prefix only to
    keep them apart from the mesh's classes of the same names; a user reads the Kubernetes name.
    """
    return class_name.removeprefix("K8s")
