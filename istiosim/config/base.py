"""The bases every config model shares: how YAML names map to fields, and object metadata.

Istio models are strict (an unknown field is an error, so a typo fails loudly instead of
silently disappearing); Kubernetes models read only what routing needs and ignore the rest.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from .kinds import ISTIO_NETWORKING_VERSIONS as ISTIO_NETWORKING_VERSIONS


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
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    creation_timestamp: Any = None


def schema_name(class_name: str) -> str:
    """A model's name as messages show it: the API type's own name.

    The Kubernetes ``Service``, ``ServicePort`` and ``Pod`` models carry a ``K8s`` prefix only to
    keep them apart from the mesh's classes of the same names; a user reads the Kubernetes name.
    """
    return class_name.removeprefix("K8s")
