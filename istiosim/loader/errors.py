"""Pydantic validation errors → located diagnostics (file:line:col, field path, did-you-mean).

Error locations are walked through the model types to drop pydantic's union-member tags, then
looked up in the document's source map; an unknown field gets the closest allowed name.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from .. import config as cfg
from ..errors import Diagnostic, Location
from .yaml import Document, SourceMap, dotted


def _field_names(tp: Any) -> list[str]:
    """The YAML names a model type accepts, for did-you-mean."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


def _type_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """Walk a pydantic model type along an error location (aliases, indexes, dict keys)."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            found = None
            for n, f in tp.model_fields.items():
                if part in (n, f.alias):
                    found = f.annotation
            if found is None:
                return None
            tp = found
        else:
            origin = typing.get_origin(tp)
            args = typing.get_args(tp)
            if origin in (list, tuple) and args:
                tp = args[0]
            elif origin is dict and len(args) == 2:
                tp = args[1]
            else:
                return None
    return _unwrap(tp)


def _data_loc(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """An error location without pydantic's union-member tags (``'int'``, ``'function-…'``).

    Walks the model's types along the location, so that only a part standing where a union is
    being tried is dropped: a header or label named like a type keeps its place in the path.
    """
    out: list[Any] = []
    tp: Any = model
    for part in loc:
        members = _union_members(tp)
        if isinstance(part, str) and len(members) > 1:
            hit = next((m for m in members if part in _tags(m)), None)
            if hit is not None:
                tp = hit
                continue
        if isinstance(part, str) and part.startswith(("function-", "json-or-python")):
            continue
        out.append(part)
        tp = _type_at(model, tuple(out))
    return tuple(out)


def _union_members(tp: Any) -> list[Any]:
    if typing.get_origin(tp) in (Union, types.UnionType):
        return [a for a in typing.get_args(tp) if a is not type(None)]
    return []


def _tags(tp: Any) -> set[str]:
    """The names pydantic uses for a union member in error locations."""
    name = getattr(tp, "__name__", None) or str(tp)
    out = {name, name.lower()}
    if typing.get_origin(tp) is not None:
        out.add(str(typing.get_origin(tp).__name__).lower() + "[")
    return out


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if models else (args[0] if len(args) == 1 else tp)
    return tp


def translate(
    exc: ValidationError, model: type[BaseModel], doc: Document, resource: str
) -> list[Diagnostic]:
    """Each error of validating ``doc`` as ``model``, at the field's file:line:col."""
    out: list[Diagnostic] = []
    for err in exc.errors():
        loc = _data_loc(model, tuple(err["loc"]))
        where = doc.source.find(loc) or doc.location
        path = dotted(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            name = str(loc[-1])
            allowed = _field_names(_type_at(model, loc[:-1]))
            import difflib  # only for a misspelt field

            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(
                Diagnostic.make(
                    "ISM0003",
                    f"unknown field {name!r}{hint}",
                    where,
                    resource=resource,
                    field_path=path,
                )
            )
        elif kind == "missing":
            out.append(
                Diagnostic.make(
                    "ISM0008",
                    f"missing required field {str(loc[-1])!r}",
                    where,
                    resource=resource,
                    field_path=path,
                )
            )
        else:
            got = err.get("input")
            shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
            msg = err["msg"]
            if kind == "model_type":  # "… instance of K8sServicePort": say ServicePort
                name = err.get("ctx", {}).get("class_name", "")
                msg = msg.replace(name, cfg.schema_name(name)) if name else msg
            out.append(
                Diagnostic.make(
                    "ISM0004",
                    f"{msg} (got {shown})",
                    where,
                    resource=resource,
                    field_path=path,
                )
            )
    return _merge_union_errors(out)


def _merge_union_errors(diags: list[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic per field: pydantic reports each member of a union (``int | str``)."""
    out: list[Diagnostic] = []
    for d in diags:
        prev = out[-1] if out else None
        if (
            prev is not None
            and d.code == prev.code == "ISM0004"
            and (d.field_path, d.location) == (prev.field_path, prev.location)
        ):
            head, sep, got = d.message.rpartition(" (got ")
            if sep and prev.message.endswith(sep + got):
                first = prev.message[: -len(sep + got)]
                out[-1] = Diagnostic.make(
                    "ISM0004",
                    f"{first}, or {head[0].lower() + head[1:]}{sep}{got}",
                    d.location,
                    resource=d.resource,
                    field_path=d.field_path,
                )
                continue
        out.append(d)
    return out


def validation_diagnostics(
    exc: ValidationError,
    model: type[BaseModel],
    data: dict[str, Any],
    source: SourceMap,
    location: Location,
    resource: str,
) -> list[Diagnostic]:
    """A pydantic error on data read by :func:`load_yaml_documents`, as diagnostics with
    file:line:col (and did-you-mean for unknown fields)."""
    return translate(exc, model, Document(data, source, location), resource)
