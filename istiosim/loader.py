"""Read YAML (files, folders, text, stdin) into config models, a Mesh and a source map.

The only module that imports ``yaml``. Documents are composed into nodes (which carry line and
column), turned into plain data by hand so that duplicate keys and aliases are refused with
their position, and every field's position is kept in a source map: ``(kind, ns, name)`` →
``{path: Location}``. Pydantic errors are translated through that map into diagnostics with
file:line:col and a did-you-mean for unknown fields.
"""

from __future__ import annotations

import difflib
import os
import sys
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError

from . import config as cfg
from .errors import ConfigError, Diagnostic, Location
from .mesh import Mesh, Pod, Service, ServicePort, Workload

try:  # the C loader is ~8x faster; fall back to the pure-Python one where libyaml is missing
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_NODES = 2_000_000
#: Each replica becomes a modelled pod; more than this is refused rather than hanging.
MAX_REPLICAS = 100_000
#: Deeper YAML is refused before it can exhaust a stack (libyaml's composer, pydantic).
MAX_DEPTH = 200
YAML_SUFFIXES = (".yaml", ".yml", ".json")

Path_ = tuple[str | int, ...]
ObjectKey = tuple[str, str, str]  # kind, namespace, name


@dataclass
class SourceMap:
    """Field path (YAML keys and list indexes) → where it was written."""

    locations: dict[Path_, Location] = field(default_factory=dict)

    def find(self, path: Iterable[str | int]) -> Location | None:
        """The location of ``path``, or of its nearest written ancestor."""
        p = tuple(path)
        while True:
            loc = self.locations.get(p)
            if loc is not None or not p:
                return loc
            p = p[:-1]


@dataclass
class ConfigSet:
    """Everything loaded: the Istio objects in apply order, the mesh, and where each came from."""

    virtual_services: list[cfg.VirtualService] = field(default_factory=list)
    destination_rules: list[cfg.DestinationRule] = field(default_factory=list)
    service_entries: list[cfg.ServiceEntry] = field(default_factory=list)
    mesh: Mesh = field(default_factory=Mesh)
    sources: dict[ObjectKey, SourceMap] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: errors of documents left out (``load_config(partial=True)``); compile_plan raises them
    errors: list[Diagnostic] = field(default_factory=list)

    def source(self, kind: str, namespace: str, name: str) -> SourceMap:
        return self.sources.get((kind, namespace, name), SourceMap())


@dataclass
class _Doc:
    data: dict[str, Any]
    source: SourceMap
    location: Location


class _EventParser(_BaseLoader):  # type: ignore[misc]
    """Used for its event stream and resolver only; documents are built by ``_build``."""


def _loc(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


_SCALARS = yaml.SafeLoader("")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NO_KEY = object()


@dataclass
class _Frame:
    """An open mapping or sequence while its events stream in."""

    container: dict[Any, Any] | list[Any]
    path: Path_
    key: Any = _NO_KEY
    key_loc: Location | None = None
    skip: bool = False  # the value being read belongs to a duplicate key


def _scalar(parser: Any, ev: Any) -> Any:
    """A scalar event → Python value, by the YAML 1.1 core schema (as ``yaml.safe_load``)."""
    tag = ev.tag
    if tag is None or tag == "!":
        tag = parser.resolve(yaml.ScalarNode, ev.value, ev.implicit)
    node = yaml.ScalarNode(tag, ev.value, ev.start_mark, ev.end_mark, ev.style)
    ctor = _SCALARS.yaml_constructors.get(tag) or _SCALARS.yaml_constructors[None]
    return ctor(_SCALARS, node)


def _build(parser: Any, file: str, smap: SourceMap, errors: list[Diagnostic]) -> Any:
    """One document's events → plain data, iteratively (no recursion, so no stack overflow).

    Refuses aliases (alias bombs) at the alias, merge keys at ``<<``, nesting deeper than
    MAX_DEPTH and documents of more than MAX_NODES nodes; duplicate keys are collected in
    ``errors`` at the repeated key. Every key's position lands in ``smap``.
    """
    stack: list[_Frame] = []
    count = 0
    while True:
        ev = parser.get_event()
        loc = _loc(file, ev.start_mark)
        top = stack[-1] if stack else None
        if isinstance(ev, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            assert top is not None
            stack.pop()
            value: Any = top.container
            done_path = top.path
            top = stack[-1] if stack else None
            if top is None:
                return value
            _attach(top, value, None, file, smap, errors, done_path)
            continue
        count += 1
        if count > MAX_NODES:
            raise ConfigError(
                [Diagnostic.make("ISM0009", f"document has more than {MAX_NODES} nodes", loc)]
            )
        path = _child_path(top)
        if isinstance(ev, yaml.AliasEvent):
            raise ConfigError(
                [
                    Diagnostic.make(
                        "ISM0006",
                        f"YAML alias *{ev.anchor} refused: aliases are not accepted (alias bombs)",
                        loc,
                        field_path=_dotted(path) or None,
                    )
                ]
            )
        if isinstance(ev, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if top is not None and top.key is _NO_KEY and isinstance(top.container, dict):
                raise ConfigError([Diagnostic.make("ISM0004", "mapping keys must be scalars", loc)])
            if len(stack) >= MAX_DEPTH:
                raise ConfigError(
                    [
                        Diagnostic.make(
                            "ISM0009", f"YAML nested more than {MAX_DEPTH} levels deep", loc
                        )
                    ]
                )
            smap.locations.setdefault(path, loc)
            container: dict[Any, Any] | list[Any] = (
                {} if isinstance(ev, yaml.MappingStartEvent) else []
            )
            stack.append(_Frame(container, path))
            continue
        if not isinstance(ev, yaml.ScalarEvent):  # pragma: no cover - parser guarantees this
            raise ConfigError([Diagnostic.make("ISM0002", f"unexpected YAML event {ev}", loc)])
        if top is not None and top.key is _NO_KEY and isinstance(top.container, dict):
            tag = ev.tag or parser.resolve(yaml.ScalarNode, ev.value, ev.implicit)
            if tag == _MERGE_TAG:
                raise ConfigError(
                    [
                        Diagnostic.make(
                            "ISM0006",
                            "YAML merge keys (<<) are not accepted",
                            loc,
                            field_path=_dotted((*top.path, "<<")),
                        )
                    ]
                )
        value = _scalar(parser, ev)
        if top is None:
            smap.locations.setdefault((), loc)
            return value
        smap.locations.setdefault(path, loc)
        _attach(top, value, loc, file, smap, errors, path)


def _child_path(top: _Frame | None) -> Path_:
    """The path of the node about to be read under ``top``."""
    if top is None:
        return ()
    if isinstance(top.container, list):
        return (*top.path, len(top.container))
    if top.key is _NO_KEY:
        return (*top.path, "<key>")
    if top.skip:
        return (*top.path, "<duplicate>")
    k = top.key
    return (*top.path, k if isinstance(k, str | int) else str(k))


def _attach(
    top: _Frame,
    value: Any,
    loc: Location | None,
    file: str,
    smap: SourceMap,
    errors: list[Diagnostic],
    path: Path_,
) -> None:
    """Put a finished node into its parent: a list item, a mapping key, or a key's value."""
    c = top.container
    if isinstance(c, list):
        c.append(value)
        return
    if top.key is _NO_KEY:
        assert loc is not None  # keys are scalars (collections are refused above)
        top.key, top.key_loc = value, loc
        top.skip = value in c
        kpath = (*top.path, value if isinstance(value, str | int) else str(value))
        if top.skip:
            first = smap.locations.get(kpath)
            errors.append(
                Diagnostic.make(
                    "ISM0005",
                    f"duplicate key {value!r}"
                    + (f" (first at line {first.line})" if first else ""),
                    loc,
                    field_path=_dotted(kpath),
                )
            )
        else:
            smap.locations[kpath] = loc
        return
    if not top.skip:
        c[top.key] = value
        kpath = (*top.path, top.key if isinstance(top.key, str | int) else str(top.key))
        if top.key_loc is not None:
            smap.locations[kpath] = top.key_loc  # a field is where its key is written
    top.key, top.key_loc, top.skip = _NO_KEY, None, False


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _read_text(source: str | os.PathLike[str]) -> Iterator[tuple[str, str]]:
    """(file name, text) for a path, a folder (recursively), ``-`` (stdin) or YAML text."""
    if isinstance(source, str) and source == "-":
        yield "<stdin>", sys.stdin.read()
        return
    if isinstance(source, str) and (
        "\n" in source or source.lstrip().startswith(("{", "apiVersion"))
    ):
        yield "<string>", source
        return
    p = Path(source)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in YAML_SUFFIXES)
        if not files:  # a mistyped folder must not look like an empty mesh
            raise ConfigError(
                [
                    Diagnostic.make(
                        "ISM0001",
                        f"no {', '.join(YAML_SUFFIXES)} files in folder",
                        Location(str(source)),
                    )
                ]
            )
        for f in files:
            yield from _read_text(f)
        return
    name = str(source)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(
                [
                    Diagnostic.make(
                        "ISM0009",
                        f"file is {size} bytes; the limit is {MAX_FILE_BYTES}",
                        Location(name),
                    )
                ]
            )
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [Diagnostic.make("ISM0001", f"cannot read file: {exc.strerror or exc}", Location(name))]
        ) from None
    try:
        yield name, data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            [
                Diagnostic.make(
                    "ISM0001",
                    f"file is not UTF-8 text: byte 0x{data[exc.start]:02x} ({exc.reason})",
                    Location(name, line, col),
                )
            ]
        ) from None


def _documents(file: str, text: str) -> Iterator[_Doc]:
    """Each top-level mapping of a multi-document YAML text, ``kind: List`` items unpacked."""
    if len(text) > MAX_FILE_BYTES:
        raise ConfigError(
            [
                Diagnostic.make(
                    "ISM0009",
                    f"input is {len(text)} characters; the limit is {MAX_FILE_BYTES}",
                    Location(file),
                )
            ]
        )
    parser = _EventParser(text)
    try:
        parser.get_event()  # StreamStartEvent
        while not parser.check_event(yaml.StreamEndEvent):
            parser.get_event()  # DocumentStartEvent
            smap = SourceMap()
            errors: list[Diagnostic] = []
            data = _build(parser, file, smap, errors)
            parser.get_event()  # DocumentEndEvent
            if errors:
                raise ConfigError(errors)
            if data is None:
                continue
            where = smap.find(()) or Location(file)
            if not isinstance(data, dict):
                raise ConfigError(
                    [
                        Diagnostic.make(
                            "ISM0007",
                            f"a document must be a mapping, not {type(data).__name__}",
                            where,
                        )
                    ]
                )
            if data.get("kind") == "List" and isinstance(data.get("items"), list):
                for i, item in enumerate(data["items"]):
                    sub = SourceMap(
                        {p[2:]: loc for p, loc in smap.locations.items() if p[:2] == ("items", i)}
                    )
                    here = smap.find(("items", i)) or where
                    if not isinstance(item, dict):
                        raise ConfigError(
                            [
                                Diagnostic.make(
                                    "ISM0007",
                                    f"a List item must be a mapping, not {type(item).__name__}",
                                    here,
                                    field_path=f"items[{i}]",
                                )
                            ]
                        )
                    yield _Doc(item, sub, here)
                continue
            yield _Doc(data, smap, where)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _loc(file, mark) if mark else Location(file)
        msg = " ".join(str(x) for x in (exc.context, exc.problem) if x) or "invalid YAML"
        if mark is not None and text[mark.index : mark.index + 1] == "\t":
            msg += " (a tab: YAML indents with spaces only)"
        raise ConfigError([Diagnostic.make("ISM0002", msg, loc)]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        msg = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise ConfigError([Diagnostic.make("ISM0002", msg, Location(file, line, col))]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Diagnostic.make("ISM0002", str(exc), Location(file))]) from None
    finally:
        parser.dispose()


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


def _translate(
    exc: ValidationError, model: type[BaseModel], doc: _Doc, resource: str
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for err in exc.errors():
        loc = _data_loc(model, tuple(err["loc"]))
        where = doc.source.find(loc) or doc.location
        path = _dotted(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            name = str(loc[-1])
            allowed = _field_names(_type_at(model, loc[:-1]))
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


@dataclass
class _Entry:
    kind: str
    namespace: str
    name: str
    model: BaseModel
    source: SourceMap
    location: Location


def load_config(
    *sources: str | os.PathLike[str], namespace: str = "default", partial: bool = False
) -> ConfigSet:
    """Load every object of every source; raise one ConfigError listing all problems.

    With ``partial=True`` the documents that loaded are returned and the errors of the others
    kept in ``ConfigSet.errors``: ``compile_plan`` then reports them together with the webhook
    errors of the valid documents, so one run lists every problem.
    """
    entries: dict[ObjectKey, _Entry] = {}
    errors: list[Diagnostic] = []
    infos: list[Diagnostic] = []
    files: list[str] = []
    for source in sources:
        try:
            for file, text in _read_text(source):
                files.append(file)
                try:
                    docs = list(_documents(file, text))
                except ConfigError as exc:
                    errors.extend(exc.diagnostics)
                    continue
                for doc in docs:
                    _load_doc(doc, namespace, entries, errors, infos)
        except ConfigError as exc:
            errors.extend(exc.diagnostics)
    if errors and not partial:
        raise ConfigError(errors)
    out = _assemble(list(entries.values()), infos, files, namespace)
    out.errors = errors
    return out


def _load_doc(
    doc: _Doc,
    namespace: str,
    entries: dict[ObjectKey, _Entry],
    errors: list[Diagnostic],
    infos: list[Diagnostic],
) -> None:
    data = doc.data
    kind = _required_string(doc, ("kind",), errors)
    api = _required_string(doc, ("apiVersion",), errors) if kind is not None else None
    if kind is None or api is None:
        return
    meta = data.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        errors.append(
            Diagnostic.make(
                "ISM0004",
                f"metadata must be a mapping, not {type(meta).__name__}",
                doc.source.find(("metadata",)) or doc.location,
                field_path="metadata",
            )
        )
        return
    name = _required_string(doc, ("metadata", "name"), errors)
    if name is None:
        return
    assert isinstance(meta, dict)
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    ns = ns if isinstance(ns, str) and ns else namespace
    resource = f"{kind} {ns}/{name}"
    model = cfg.MODELS.get(kind)
    group = api.split("/")[0]
    istio_kind = kind in ("VirtualService", "DestinationRule", "ServiceEntry")
    if model is not None and istio_kind and api not in cfg.ISTIO_NETWORKING_VERSIONS:
        if group == "networking.istio.io":
            where = doc.source.find(("apiVersion",)) or doc.location
            errors.append(
                Diagnostic.make(
                    "ISM0004",
                    f"unknown apiVersion {api!r} for {kind}",
                    where,
                    resource=resource,
                    field_path="apiVersion",
                )
            )
            return
        model = None  # same kind name in another API group: not ours
    if model is not None and not istio_kind and group not in ("v1", "apps"):
        model = None
    if model is None:
        infos.append(
            Diagnostic.make(
                "ISM0100",
                f"{kind} ({api}) is not simulated; loaded and ignored",
                doc.location,
                resource=resource,
            )
        )
        return
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        errors.extend(_translate(exc, model, doc, resource))
        return
    if isinstance(obj, cfg.Deployment) and obj.spec.replicas is not None:
        n = obj.spec.replicas
        if not (0 <= n <= MAX_REPLICAS):
            errors.append(
                Diagnostic.make(
                    "ISM0004",
                    f"replicas {n} must be in [0, {MAX_REPLICAS}] (istiosim models every pod)",
                    doc.source.find(("spec", "replicas")) or doc.location,
                    resource=resource,
                    field_path="spec.replicas",
                )
            )
            return
    key = (kind if kind != "StatefulSet" else "Deployment", ns, name)
    if key in entries:
        infos.append(
            Diagnostic.make(
                "ISM0102",
                f"replaces the {kind} loaded from {entries[key].location}",
                doc.location,
                resource=resource,
            )
        )
        # kubectl apply keeps the object's identity (and creation time): keep its position
        entries[key] = _Entry(kind, ns, name, obj, doc.source, doc.location)
    else:
        entries[key] = _Entry(kind, ns, name, obj, doc.source, doc.location)


def _required_string(doc: _Doc, path: tuple[str, ...], errors: list[Diagnostic]) -> str | None:
    """A required string field (kind, apiVersion, metadata.name): missing → ISM0008 at its
    parent, present but not a non-empty string → ISM0004 at the field itself."""
    value: Any = doc.data
    for p in path:
        value = value.get(p) if isinstance(value, dict) else None
    dotted = ".".join(path)
    if isinstance(value, str) and value:
        return value
    if value is None:
        where = doc.source.find(path[:-1]) if len(path) > 1 else None
        errors.append(
            Diagnostic.make(
                "ISM0008",
                f"missing required field {dotted!r}",
                where or doc.location,
                field_path=dotted,
            )
        )
    else:
        errors.append(
            Diagnostic.make(
                "ISM0004",
                f"{dotted} must be a non-empty string (got {value!r})",
                doc.source.find(path) or doc.location,
                field_path=dotted,
            )
        )
    return None


def _with_ns(meta: cfg.ObjectMeta, ns: str) -> cfg.ObjectMeta:
    return meta if meta.namespace else meta.model_copy(update={"namespace": ns})


def _assemble(
    entries: list[_Entry], infos: list[Diagnostic], files: list[str], namespace: str
) -> ConfigSet:
    out = ConfigSet(diagnostics=infos, files=files)
    services: list[Service] = []
    workloads: list[Workload] = []
    namespaces: set[str] = {namespace}
    nodes: dict[str, cfg.Node] = {e.name: e.model for e in entries if isinstance(e.model, cfg.Node)}
    for e in entries:
        out.sources[(e.kind if e.kind != "StatefulSet" else "Deployment", e.namespace, e.name)] = (
            e.source
        )
        m = e.model
        if isinstance(m, cfg.VirtualService):
            out.virtual_services.append(
                m.model_copy(update={"metadata": _with_ns(m.metadata, e.namespace)})
            )
        elif isinstance(m, cfg.DestinationRule):
            out.destination_rules.append(
                m.model_copy(update={"metadata": _with_ns(m.metadata, e.namespace)})
            )
        elif isinstance(m, cfg.ServiceEntry):
            se = m.model_copy(update={"metadata": _with_ns(m.metadata, e.namespace)})
            out.service_entries.append(se)
            services.extend(_service_entry_services(se, e.namespace))
        elif isinstance(m, cfg.K8sService):
            ports = tuple(ServicePort(p.port, p.name, p.protocol) for p in m.spec.ports) or (
                ServicePort(80),
            )
            # Istio reads a Service's visibility from this annotation (default: everywhere)
            export = m.metadata.annotations.get("networking.istio.io/exportTo", "")
            export_to = tuple(x.strip() for x in export.split(",") if x.strip())
            services.append(
                Service(e.name, e.namespace, ports, m.spec.selector, export_to=export_to)
            )
        elif isinstance(m, cfg.Deployment):
            replicas = 1 if m.spec.replicas is None else m.spec.replicas
            workloads.append(
                Workload(
                    e.name, e.namespace, dict(m.spec.template.metadata.labels), replicas, m.kind
                )
            )
        elif isinstance(m, cfg.K8sPod):
            labels = _augment(dict(m.metadata.labels), m.spec.node_name, nodes)
            workloads.append(Workload(e.name, e.namespace, labels, 1, "Pod"))
        elif isinstance(m, cfg.Namespace):
            namespaces.add(e.name)
        namespaces.add(e.namespace)
        for route_kind in ("tcp", "tls"):
            if isinstance(m, cfg.VirtualService) and getattr(m.spec, route_kind):
                infos.append(
                    Diagnostic.make(
                        "ISM0101",
                        f"{route_kind} routes are loaded but not simulated",
                        e.source.find(("spec", route_kind)) or e.location,
                        resource=f"VirtualService {e.namespace}/{e.name}",
                    )
                )
    out.mesh = Mesh.build(services, workloads, namespaces)
    return out


#: Node labels Istio copies onto a pod's endpoint (``AugmentLabels``), when not empty.
_TOPOLOGY_LABELS = (
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
)


def _augment(
    labels: dict[str, str], node_name: str | None, nodes: dict[str, cfg.Node]
) -> dict[str, str]:
    """A pod's endpoint labels: its own, its node's region/zone/subzone, and the node's name."""
    if not node_name:
        return labels
    out = dict(labels)
    node = nodes.get(node_name)
    for key in _TOPOLOGY_LABELS:
        value = node.metadata.labels.get(key, "") if node is not None else ""
        if value:
            out[key] = value
    out["kubernetes.io/hostname"] = node_name
    return out


def _service_entry_services(se: cfg.ServiceEntry, ns: str) -> list[Service]:
    ports = tuple(ServicePort(p.number, p.name, p.protocol) for p in se.spec.ports) or (
        ServicePort(80),
    )
    endpoints = tuple(
        Pod(f"{se.metadata.name}-ep{i}", ns, dict(ep.labels), se.metadata.name, ep.address)
        for i, ep in enumerate(se.spec.endpoints)
    )
    selector = se.spec.workload_selector.match_labels if se.spec.workload_selector else None
    if (
        not endpoints
        and selector is None
        and se.spec.resolution in ("DNS", "DNS_ROUND_ROBIN", None)
    ):
        # DNS resolution with no endpoints: the host itself is the single endpoint
        endpoints = tuple(
            Pod(f"{h}", ns, {}, se.metadata.name, h)
            for h in se.spec.hosts[:1]
            if not h.startswith("*")
        )
    return [
        Service(
            se.metadata.name,
            ns,
            ports,
            selector,
            h,
            endpoints,
            tuple(se.spec.export_to),
            "ServiceEntry",
        )
        for h in se.spec.hosts
    ]


def load_yaml_documents(
    source: str | os.PathLike[str],
) -> list[tuple[dict[str, Any], SourceMap, Location]]:
    """Each top-level mapping of a YAML/JSON file or text, with its source map and location.

    For istiosim's own input files (route cases, observed counts), so they get the same safe
    reading (no aliases, no duplicate keys, size limits) and file:line errors without any other
    module importing ``yaml``.
    """
    out: list[tuple[dict[str, Any], SourceMap, Location]] = []
    for file, text in _read_text(source):
        out.extend((d.data, d.source, d.location) for d in _documents(file, text))
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
    return _translate(exc, model, _Doc(data, source, location), resource)
