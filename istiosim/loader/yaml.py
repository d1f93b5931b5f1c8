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
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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

#: a position packed in one int: 0-based line << _SHIFT | 0-based column
_SHIFT = 26
_COLUMN_MASK = (1 << _SHIFT) - 1
assert MAX_DEPTH < 255  # node depths are kept in a bytearray


class SourceMap:
    """Field path (YAML keys and list indexes) → where it was written.

    A document's map is kept packed while it is read: one int per node (its line and column),
    its depth and its key, in document order. The path → position index is built on the first
    lookup, and a :class:`Location` only for a path that is asked for, so that loading a large
    export does not allocate a tuple and a Location per field (issue 8).
    """

    __slots__ = ("_depth", "_file", "_index", "_keys", "_locations", "_pos")

    def __init__(self, locations: dict[FieldPath, Location] | None = None) -> None:
        self._file = ""
        self._pos: Sequence[int] = ()
        self._depth: Sequence[int] = b""
        self._keys: Sequence[Any] = ()
        self._index: dict[FieldPath, int] | None = None
        self._locations: dict[FieldPath, Location] | None = (
            dict(locations) if locations is not None else None
        )

    @classmethod
    def packed(
        cls, file: str, pos: Sequence[int], depth: Sequence[int], keys: Sequence[Any]
    ) -> SourceMap:
        """A map of nodes in document order: packed position, depth (the root is 0) and the
        key under which each node is written (None for a list item or the root)."""
        out = cls()
        out._file, out._pos, out._depth, out._keys = file, pos, depth, keys
        return out

    def _packed_index(self) -> dict[FieldPath, int]:
        if self._index is None:
            self._index = dict(zip(_paths(self._depth, self._keys), self._pos, strict=True))
        return self._index

    def _location(self, packed: int) -> Location:
        return Location(self._file, (packed >> _SHIFT) + 1, (packed & _COLUMN_MASK) + 1)

    @property
    def locations(self) -> dict[FieldPath, Location]:
        """Every path and its location (built on first use)."""
        if self._locations is None:
            self._locations = {p: self._location(v) for p, v in self._packed_index().items()}
        return self._locations

    def get(self, path: FieldPath) -> Location | None:
        """The location of exactly ``path``, or None."""
        if self._locations is not None:
            return self._locations.get(path)
        v = self._packed_index().get(path)
        return None if v is None else self._location(v)

    def find(self, path: Iterable[str | int]) -> Location | None:
        """The location of ``path``, or of its nearest written ancestor."""
        p = tuple(path)
        if self._locations is not None:
            while True:
                loc = self._locations.get(p)
                if loc is not None or not p:
                    return loc
                p = p[:-1]
        if not p:  # the document itself: no need to index the map
            return self._location(self._pos[0]) if self._pos else None
        index = self._packed_index()
        while True:
            v = index.get(p)
            if v is not None:
                return self._location(v)
            if not p:
                return None
            p = p[:-1]

    def subtree(self, path: FieldPath) -> SourceMap:
        """The map of the node at ``path``, with paths relative to it (a ``kind: List`` item)."""
        if self._locations is not None or not self._pos:
            n = len(path)
            return SourceMap({p[n:]: loc for p, loc in self.locations.items() if p[:n] == path})
        paths = list(_paths(self._depth, self._keys))
        try:
            start = paths.index(path)
        except ValueError:
            return SourceMap()
        base = self._depth[start]
        end = start + 1
        while end < len(self._depth) and self._depth[end] > base:
            end += 1
        depth = bytes(d - base for d in self._depth[start:end])
        keys = [None, *self._keys[start + 1 : end]]
        return SourceMap.packed(self._file, self._pos[start:end], depth, keys)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceMap) and self.locations == other.locations

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SourceMap({len(self._pos) or len(self._locations or {})} paths)"


def _paths(depth: Sequence[int], keys: Sequence[Any]) -> Iterator[FieldPath]:
    """The path of each node of a packed map, in order (list items numbered as they come)."""
    stack: list[FieldPath] = [()] * (MAX_DEPTH + 2)  # path of the last node at each depth
    counts = [0] * (MAX_DEPTH + 3)  # items so far in the list opened by that node
    for d, k in zip(depth, keys, strict=True):
        if d == 0:
            path: FieldPath = ()
        elif k is None:
            path = (*stack[d - 1], counts[d])
            counts[d] += 1
        else:
            path = (*stack[d - 1], k)
        stack[d] = path
        counts[d + 1] = 0
        yield path


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
_NO_KEY: Any = object()

#: scalar event (value, tag, implicit) → its Python value: configs repeat the same words
#: (kinds, API versions, subset names, weights), and every scalar value is immutable
_SCALAR_CACHE: dict[tuple[Any, ...], Any] = {}
_SCALAR_CACHE_MAX = 1 << 16
_MISS = object()
#: first characters of plain scalars that may resolve to something other than a string
_RESOLVED_FIRST = frozenset(yaml.resolver.Resolver.yaml_implicit_resolvers)
_ScalarEvent = yaml.ScalarEvent
_MappingStart = yaml.MappingStartEvent
_SequenceStart = yaml.SequenceStartEvent
_MappingEnd = yaml.MappingEndEvent
_SequenceEnd = yaml.SequenceEndEvent


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


def _path_key(k: Any) -> str | int:
    return k if isinstance(k, str | int) else str(k)


def _build(
    parser: Any, file: str, errors: list[Diagnostic], strings: dict[str, str]
) -> tuple[Any, SourceMap]:
    """One document's events → plain data and its packed source map, iteratively (no
    recursion, so no stack overflow).

    Refuses aliases (alias bombs) at the alias, merge keys at ``<<``, nesting deeper than
    MAX_DEPTH and documents of more than MAX_NODES nodes; duplicate keys are collected in
    ``errors`` at the repeated key. Every node's position lands in the map: a mapping value's
    at its key, a list item's and the root's where they start. ``strings`` shares one object
    per distinct short string of the file. This loop is the loader's hot path: one event at a
    time, no object per node but the data itself.
    """
    pos = array("q")
    depth = bytearray()
    keys: list[Any] = []
    get_event = parser.get_event
    stack: list[tuple[Any, bool, Any, bool, int]] = []
    top: Any = None  # the open container (None before the root)
    is_map = False
    key: Any = _NO_KEY  # in a mapping: the key whose value comes next
    skip = False  # that key is a duplicate: its value is read and dropped
    here = 0  # index of the node that opened ``top``
    d = 0  # number of open containers: the depth of the next node
    count = 0
    while True:
        ev = get_event()
        cls = ev.__class__
        if cls is _MappingEnd or cls is _SequenceEnd:
            if not stack:
                return top, SourceMap.packed(file, pos, depth, keys)
            top, is_map, key, skip, here = stack.pop()
            d -= 1
            continue
        count += 1
        if count > MAX_NODES:
            raise ConfigError(
                [
                    Diagnostic.make(
                        "ISM0009",
                        f"document has more than {MAX_NODES} nodes",
                        _loc(file, ev.start_mark),
                    )
                ]
            )
        if cls is _ScalarEvent:
            tag = ev.tag
            v = ev.value
            if (
                is_map
                and key is _NO_KEY
                and (tag == _MERGE_TAG or (tag is None and v == "<<" and ev.implicit[0]))
            ):
                raise _refused_merge(file, ev, depth, keys, here)
            if tag is None and (not ev.implicit[0] or (v and v[0] not in _RESOLVED_FIRST)):
                value: Any = v if len(v) > 64 else strings.setdefault(v, v)
            else:
                value = _scalar(parser, ev)
            if is_map:
                if key is _NO_KEY:
                    mark = ev.start_mark
                    pos.append(mark.line << _SHIFT | mark.column)
                    depth.append(d)
                    if value in top:
                        errors.append(_duplicate(file, ev, value, pos, depth, keys, here))
                        keys.append("<duplicate>")
                        skip = True
                    else:
                        keys.append(value if value.__class__ is str else _path_key(value))
                    key = value
                    continue
                if not skip:
                    top[key] = value
                key, skip = _NO_KEY, False
                continue
            mark = ev.start_mark
            pos.append(mark.line << _SHIFT | mark.column)
            depth.append(d)
            keys.append(None)
            if top is None:
                return value, SourceMap.packed(file, pos, depth, keys)
            top.append(value)
            continue
        if cls is _MappingStart or cls is _SequenceStart:
            mark = ev.start_mark
            if is_map and key is _NO_KEY:
                raise ConfigError(
                    [Diagnostic.make("ISM0004", "mapping keys must be scalars", _loc(file, mark))]
                )
            if d >= MAX_DEPTH:
                raise ConfigError(
                    [
                        Diagnostic.make(
                            "ISM0009",
                            f"YAML nested more than {MAX_DEPTH} levels deep",
                            _loc(file, mark),
                        )
                    ]
                )
            new: Any = {} if cls is _MappingStart else []
            if is_map:  # the key's node stands for its value
                if not skip:
                    top[key] = new
            else:
                pos.append(mark.line << _SHIFT | mark.column)
                depth.append(d)
                keys.append(None)
                if top is not None:
                    top.append(new)
            if top is not None:
                stack.append((top, is_map, _NO_KEY, False, here))
            top, is_map, key, skip, here = new, cls is _MappingStart, _NO_KEY, False, len(pos) - 1
            d += 1
            continue
        if isinstance(ev, yaml.AliasEvent):
            path = _open_path(depth, keys, here, top, key, skip)
            raise ConfigError(
                [
                    Diagnostic.make(
                        "ISM0006",
                        f"YAML alias *{ev.anchor} refused: aliases are not accepted (alias bombs)",
                        _loc(file, ev.start_mark),
                        field_path=dotted(path) or None,
                    )
                ]
            )
        raise ConfigError(  # pragma: no cover - the parser guarantees the events above
            [Diagnostic.make("ISM0002", f"unexpected YAML event {ev}", _loc(file, ev.start_mark))]
        )


def _path_of(depth: Sequence[int], keys: Sequence[Any], index: int) -> FieldPath:
    """The path of node ``index`` of a packed map (only on an error: it walks the nodes)."""
    for i, p in enumerate(_paths(depth[: len(keys)], keys)):
        if i == index:
            return p
    return ()


def _open_path(
    depth: Sequence[int], keys: Sequence[Any], here: int, top: Any, key: Any, skip: bool
) -> FieldPath:
    """The path of the node about to be read into the open container ``top``."""
    if top is None:
        return ()
    base = _path_of(depth, keys, here)
    if isinstance(top, list):
        return (*base, len(top))
    if key is _NO_KEY:
        return (*base, "<key>")
    return (*base, "<duplicate>" if skip else _path_key(key))


def _refused_merge(
    file: str, ev: Any, depth: Sequence[int], keys: Sequence[Any], here: int
) -> ConfigError:
    return ConfigError(
        [
            Diagnostic.make(
                "ISM0006",
                "YAML merge keys (<<) are not accepted",
                _loc(file, ev.start_mark),
                field_path=dotted((*_path_of(depth, keys, here), "<<")),
            )
        ]
    )


def _duplicate(
    file: str,
    ev: Any,
    value: Any,
    pos: Sequence[int],
    depth: Sequence[int],
    keys: Sequence[Any],
    here: int,
) -> Diagnostic:
    """A key written twice in one mapping, at the second, saying where the first was."""
    kpath = (*_path_of(depth, keys, here), _path_key(value))
    first = None
    for i, p in enumerate(_paths(depth[:-1], keys)):
        if p == kpath:
            first = (pos[i] >> _SHIFT) + 1
            break
    return Diagnostic.make(
        "ISM0005",
        f"duplicate key {value!r}" + (f" (first at line {first})" if first else ""),
        _loc(file, ev.start_mark),
        field_path=dotted(kpath),
    )


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
    strings: dict[str, str] = {}
    try:
        parser.get_event()  # StreamStartEvent
        while not parser.check_event(yaml.StreamEndEvent):
            parser.get_event()  # DocumentStartEvent
            errors: list[Diagnostic] = []
            data, smap = _build(parser, file, errors, strings)
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
                    sub = smap.subtree(("items", i))
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
