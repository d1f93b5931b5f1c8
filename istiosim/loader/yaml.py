"""YAML text → documents of plain data, each with its source map; the only module that imports
``yaml``.

Documents are read from libyaml's event stream by hand, so that duplicate keys, aliases, merge
keys, excessive depth or size and non-UTF-8 files are refused with their position, and every
field's position is kept in a :class:`SourceMap` (field path → file:line:col).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, Diagnostic, Location

try:  # the C loader is ~8x faster; fall back to the pure-Python one where libyaml is missing
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader

MAX_FILE_BYTES = 32 * 1024 * 1024
#: how long reading a FIFO waits for its writer's first byte before it is an error
FIFO_WAIT_SECONDS = 10.0
MAX_NODES = 2_000_000
#: Deeper YAML is refused before it can exhaust a stack (libyaml's composer, pydantic).
MAX_DEPTH = 200
YAML_SUFFIXES = (".yaml", ".yml", ".json")

FieldPath = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Field path (YAML keys and list indexes) → where it was written."""

    locations: dict[FieldPath, Location] = field(default_factory=dict)

    def find(self, path: Iterable[str | int]) -> Location | None:
        """The location of ``path``, or of its nearest written ancestor."""
        p = tuple(path)
        while True:
            loc = self.locations.get(p)
            if loc is not None or not p:
                return loc
            p = p[:-1]


@dataclass
class Document:
    """One top-level mapping of a YAML text, with where its fields were written."""

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
    path: FieldPath
    key: Any = _NO_KEY
    key_loc: Location | None = None
    skip: bool = False  # the value being read belongs to a duplicate key


#: scalar event (value, tag, implicit) → its Python value: configs repeat the same words
#: (kinds, API versions, subset names, weights), and every scalar value is immutable
_SCALAR_CACHE: dict[tuple[Any, ...], Any] = {}
_SCALAR_CACHE_MAX = 1 << 16
_MISS = object()
_END_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_START_EVENTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)


def _scalar(parser: Any, ev: Any) -> Any:
    """A scalar event → Python value, by the YAML 1.1 core schema (as ``yaml.safe_load``)."""
    key = (ev.value, ev.tag, ev.implicit)
    hit = _SCALAR_CACHE.get(key, _MISS)
    if hit is not _MISS:
        return hit
    value = _construct_scalar(parser, ev)
    if len(ev.value) <= 128:
        if len(_SCALAR_CACHE) >= _SCALAR_CACHE_MAX:
            _SCALAR_CACHE.clear()
        _SCALAR_CACHE[key] = value
    return value


def _construct_scalar(parser: Any, ev: Any) -> Any:
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
        top = stack[-1] if stack else None
        if isinstance(ev, _END_EVENTS):
            assert top is not None
            stack.pop()
            value: Any = top.container
            done_path = top.path
            top = stack[-1] if stack else None
            if top is None:
                return value
            _attach(top, value, None, file, smap, errors, done_path)
            continue
        mark = ev.start_mark
        loc = Location(file, mark.line + 1, mark.column + 1)
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
                        field_path=dotted(path) or None,
                    )
                ]
            )
        if isinstance(ev, _START_EVENTS):
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
                            field_path=dotted((*top.path, "<<")),
                        )
                    ]
                )
        value = _scalar(parser, ev)
        if top is None:
            smap.locations.setdefault((), loc)
            return value
        smap.locations.setdefault(path, loc)
        _attach(top, value, loc, file, smap, errors, path)


def _child_path(top: _Frame | None) -> FieldPath:
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
    path: FieldPath,
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
                    field_path=dotted(kpath),
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


def dotted(path: Iterable[str | int]) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _too_large(name: str) -> ConfigError:
    return ConfigError(
        [
            Diagnostic.make(
                "ISM0009",
                f"input is larger than the limit of {MAX_FILE_BYTES} bytes (32 MiB)",
                Location(name),
            )
        ]
    )


def _unreadable(name: str, why: str) -> ConfigError:
    return ConfigError([Diagnostic.make("ISM0001", why, Location(name))])


def read_bounded(fd: int, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """At most ``limit`` bytes from a file descriptor, reading in chunks: more is refused as
    soon as byte ``limit + 1`` arrives (an endless pipe or a growing file stops there)."""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _too_large(name)


def _wait_for_writer(fd: int, name: str) -> None:
    """A FIFO opened without blocking: wait up to FIFO_WAIT_SECONDS for a writer's first byte
    (or its end of file), so that a FIFO nobody writes to is an error, not a hang."""
    import select

    ready, _, _ = select.select([fd], [], [], FIFO_WAIT_SECONDS)
    if not ready:
        raise _unreadable(
            name, f"nothing was written to this FIFO within {FIFO_WAIT_SECONDS:g} s (no writer?)"
        )
    os.set_blocking(fd, True)


def _read_path(p: Path, name: str) -> bytes:
    """A regular file or a FIFO, bounded; devices, sockets and the like are refused."""
    try:
        st = p.stat()
    except OSError as exc:
        raise _unreadable(name, f"cannot read file: {exc.strerror or exc}") from None
    fifo = stat.S_ISFIFO(st.st_mode)
    if not (stat.S_ISREG(st.st_mode) or fifo):
        kind = (
            "a character device"
            if stat.S_ISCHR(st.st_mode)
            else "a block device"
            if stat.S_ISBLK(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "not a regular file"
        )
        raise _unreadable(name, f"cannot read {kind}: only regular files and pipes are read")
    if st.st_size > MAX_FILE_BYTES:
        raise ConfigError(
            [
                Diagnostic.make(
                    "ISM0009",
                    f"file is {st.st_size} bytes; the limit is {MAX_FILE_BYTES}",
                    Location(name),
                )
            ]
        )
    try:
        fd = os.open(p, os.O_RDONLY | (os.O_NONBLOCK if fifo else 0))
    except OSError as exc:
        raise _unreadable(name, f"cannot read file: {exc.strerror or exc}") from None
    try:
        if fifo:
            _wait_for_writer(fd, name)
        return read_bounded(fd, name)
    except OSError as exc:
        raise _unreadable(name, f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _read_stdin() -> bytes | str:
    """stdin, bounded like a file (bytes when it has a binary buffer, else text)."""
    stream: Any = sys.stdin
    if stream is None:
        raise _unreadable("<stdin>", "there is no standard input")
    buf = getattr(stream, "buffer", None)
    try:
        fd = (buf or stream).fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is not None:
        try:
            st = os.fstat(fd)
        except OSError as exc:
            raise _unreadable("<stdin>", f"cannot read stdin: {exc.strerror or exc}") from None
        if stat.S_ISCHR(st.st_mode) and not os.isatty(fd):
            raise _unreadable("<stdin>", "cannot read stdin: it is a device (such as /dev/zero)")
        return read_bounded(fd, "<stdin>")
    src = buf or stream  # a stream without a descriptor (tests, embedding): read it in chunks
    parts: list[Any] = []
    size = 0
    while True:
        chunk = src.read(min(1 << 20, MAX_FILE_BYTES + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise _too_large("<stdin>")
    return (b"" if buf is not None else "").join(parts)


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            [
                Diagnostic.make(
                    "ISM0001",
                    f"{'input' if name == '<stdin>' else 'file'} is not UTF-8 text: "
                    f"byte 0x{data[exc.start]:02x} ({exc.reason})",
                    Location(name, line, col),
                )
            ]
        ) from None


def read_text(source: str | os.PathLike[str]) -> Iterator[tuple[str, str]]:
    """(file name, text) for a path, a folder (recursively), ``-`` (stdin) or YAML text.

    Every read is bounded by MAX_FILE_BYTES (a file, a pipe, stdin); special files other than
    regular files and pipes are refused, and a FIFO without a writer is an error after
    FIFO_WAIT_SECONDS rather than a hang.
    """
    if isinstance(source, str) and source == "-":
        data = _read_stdin()
        yield "<stdin>", data if isinstance(data, str) else _decode("<stdin>", data)
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
            yield from read_text(f)
        return
    name = str(source)
    yield name, _decode(name, _read_path(p, name))


def documents(file: str, text: str) -> Iterator[Document]:
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
                    yield Document(item, sub, here)
                continue
            yield Document(data, smap, where)
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


def load_yaml_documents(
    source: str | os.PathLike[str],
) -> list[tuple[dict[str, Any], SourceMap, Location]]:
    """Each top-level mapping of a YAML/JSON file or text, with its source map and location.

    For istiosim's own input files (route cases, observed counts), so they get the same safe
    reading (no aliases, no duplicate keys, size limits) and file:line errors without any other
    module importing ``yaml``.
    """
    out: list[tuple[dict[str, Any], SourceMap, Location]] = []
    for file, text in read_text(source):
        out.extend((d.data, d.source, d.location) for d in documents(file, text))
    return out
