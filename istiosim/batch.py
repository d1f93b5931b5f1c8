"""Columnar requests: ``RequestBatch``, many requests as dictionary-encoded ``Column``s.

The vector engine reads a matcher key's column once per unique value (``attribute``), so every
column is a value table plus per-request codes; the traffic models build the codes directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import InvalidArgument
from .request import Request, attribute_source, check_header_name, derived_authority


def code_dtype(k: int) -> type[np.unsignedinteger[Any]]:
    """The smallest unsigned code type for a table of ``k`` values (uint8 codes are never drawn)."""
    if k <= 256:
        return np.uint8
    if k <= 65536:
        return np.uint16
    return np.uint32


class Column:
    """A dictionary-encoded column: ``values[codes[i]]`` is request i's value.

    ``values`` need not be unique (a predicate is evaluated once per entry either way);
    ``codes`` is read-only and may be a zero-stride view for a constant column.
    """

    __slots__ = ("codes", "values")

    values: tuple[Any, ...]
    codes: npt.NDArray[np.unsignedinteger[Any]]

    def __init__(self, values: Sequence[Any], codes: npt.ArrayLike) -> None:
        arr = np.asarray(codes)
        if arr.ndim != 1 or arr.dtype.kind not in "ui":
            raise InvalidArgument("column codes must be a 1-d integer array")
        self.values = tuple(values)
        if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= len(self.values)):
            raise InvalidArgument(
                f"column codes out of range for a table of {len(self.values)} value(s)"
            )
        self.codes = arr

    @classmethod
    def trusted(cls, values: tuple[Any, ...], codes: npt.NDArray[Any]) -> Column:
        """No checks: for codes the library generated itself (in range by construction)."""
        col = cls.__new__(cls)
        col.values = values
        col.codes = codes
        return col

    @classmethod
    def constant(cls, value: Any, n: int) -> Column:
        return cls((value,), np.broadcast_to(np.zeros(1, np.uint8), (n,)))

    @classmethod
    def encode(cls, items: Sequence[Any]) -> Column:
        """Dictionary-encode a sequence of hashable values (first-seen order)."""
        table: dict[Any, int] = {}
        codes = [table.setdefault(v, len(table)) for v in items]
        return cls(tuple(table), np.asarray(codes, dtype=code_dtype(len(table))))

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @property
    def is_constant(self) -> bool:
        return len(self.values) == 1 or (len(self) > 0 and self.codes.strides[0] == 0)

    def take(self, idx: npt.NDArray[np.intp]) -> Column:
        if self.codes.strides[0] == 0:
            return Column.trusted(self.values, np.broadcast_to(self.codes[:1], (len(idx),)))
        return Column.trusted(self.values, self.codes[idx])

    def slice(self, lo: int, hi: int) -> Column:
        return Column.trusted(self.values, self.codes[lo:hi])

    def map(self, fn: Any) -> Column:
        """The same codes over ``fn(value)``: a derived attribute costs one call per value."""
        return Column.trusted(tuple(fn(v) for v in self.values), self.codes)

    def decode(self) -> list[Any]:
        return [self.values[int(c)] for c in self.codes]

    def __repr__(self) -> str:
        return f"Column({len(self.values)} values, n={len(self)})"


def _as_column(name: str, spec: Any, n: int, check: Any = None) -> Column:
    if isinstance(spec, Column):
        col = spec
    elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], np.ndarray):
        col = Column(spec[0], spec[1])
    elif isinstance(spec, np.ndarray | list):
        col = Column.encode(list(spec))
    else:
        col = Column.constant(spec, n)
    if len(col) != n:
        raise InvalidArgument(f"column {name!r} has {len(col)} rows, expected {n}")
    if check is not None:
        for v in col.values:
            check(name, v)
    return col


def _check_str(name: str, v: Any) -> None:
    if not isinstance(v, str):
        raise InvalidArgument(f"{name}: values must be strings, got {type(v).__name__} {v!r}")


def _check_header(name: str, v: Any) -> None:
    if v is not None and not isinstance(v, str):
        raise InvalidArgument(
            f"{name}: header values must be strings (or None = absent), got {type(v).__name__} {v!r}"
        )


def _check_path(name: str, v: Any) -> None:
    _check_str(name, v)
    if not v.startswith("/"):
        raise InvalidArgument(f"request path must start with '/', got {v!r}")


def _check_port(name: str, v: Any) -> None:
    if v is not None and not (isinstance(v, int | np.integer) and 0 < int(v) < 65536):
        raise InvalidArgument(f"request port must be 1-65535, got {v!r}")


def _check_source(name: str, v: Any) -> None:
    ok = isinstance(v, tuple) and len(v) == 4 and isinstance(v[0], str)
    if not ok:
        raise InvalidArgument(
            f"{name}: values must be (namespace, labels, workload, gateway) tuples, got {v!r}"
        )


class RequestBatch:
    """Many requests as dictionary-encoded columns (``Column``), one row per request.

    Columns: host, path (with its query string: ``query`` parameters and ``uri`` are derived
    from it), method, authority, scheme, port, source (namespace, labels, workload, gateway) and
    one column per header (None = absent). ``random_value`` optionally fixes rows' route draws
    (``has_random`` says which). ``batch[i]`` gives back a ``Request``.
    """

    def __init__(
        self,
        n: int,
        *,
        host: Any,
        path: Any = "/",
        method: Any = "GET",
        authority: Any = None,
        scheme: Any = "http",
        port: Any = None,
        source: Any = ("default", (), None, None),
        headers: Mapping[str, Any] | None = None,
        random_value: npt.ArrayLike | None = None,
        has_random: npt.ArrayLike | None = None,
    ) -> None:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise InvalidArgument(f"batch size must be a non-negative integer, got {n!r}")
        n = int(n)
        self.n = n
        given_host = self.host = _as_column("host", host, n, _check_str)
        if any(v != v.lower() or not v for v in self.host.values):
            self.host = self.host.map(str.lower)
        self.path = _as_column("path", path, n, _check_path)
        self.method = _as_column("method", method, n, _check_str)
        self.scheme = _as_column("scheme", scheme, n, _check_str)
        self.port = _as_column("port", port, n, _check_port)
        self.source = _as_column("source", source, n, _check_source)
        self.headers: dict[str, Column] = {}
        for name, spec in (headers or {}).items():
            key = check_header_name(name)
            self.headers[key] = _as_column(f"header {name!r}", spec, n, _check_header)
        if authority is None:
            authority = self._default_authority(given_host)
        self.authority = _as_column("authority", authority, n, _check_str)
        self.random_value: npt.NDArray[np.uint64] | None = None
        self.has_random: npt.NDArray[np.bool_] | None = None
        if random_value is not None:
            rv = np.asarray(random_value)
            if rv.shape != (n,) or rv.dtype.kind not in "ui" or (rv.size and rv.min() < 0):
                raise InvalidArgument("random_value must be n non-negative integers")
            self.random_value = rv.astype(np.uint64)
            hr = np.ones(n, bool) if has_random is None else np.asarray(has_random, dtype=bool)
            if hr.shape != (n,):
                raise InvalidArgument("has_random must have one entry per request")
            self.has_random = hr
        self._derived: dict[str, Column] = {}

    def _default_authority(self, host: Column) -> Column:
        """``Request``'s rule (``request.derived_authority``: the :authority or Host header,
        else the host as given, with :port when a port is given), once per distinct row."""
        none = Column.constant(None, self.n)
        cols = [host, self.port, *(self.headers.get(k) or none for k in (":authority", "host"))]

        def derive(row: Sequence[int]) -> str:
            h, p, a, hh = (c.values[int(i)] for c, i in zip(cols, row, strict=True))
            return derived_authority(h, p, {":authority": a, "host": hh})

        if self.n == 0:
            return Column((), np.zeros(0, np.uint8))
        if all(c.is_constant for c in cols):
            return Column.constant(derive([int(c.codes[0]) for c in cols]), self.n)
        keys = np.stack([np.asarray(c.codes, np.int64) for c in cols], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        values = tuple(derive(row) for row in uniq)
        codes = np.asarray(inverse).reshape(-1).astype(code_dtype(len(values)))
        return Column(values, codes)

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def trusted(
        cls,
        n: int,
        columns: Mapping[str, Column],
        headers: Mapping[str, Column],
        random_value: npt.NDArray[np.uint64] | None = None,
        has_random: npt.NDArray[np.bool_] | None = None,
    ) -> RequestBatch:
        """No validation: columns the library built itself (traffic models, ``take``)."""
        out = cls.__new__(cls)
        out.n = n
        for name in ("host", "path", "method", "authority", "scheme", "port", "source"):
            setattr(out, name, columns[name])
        out.headers = dict(headers)
        out.random_value = random_value
        out.has_random = has_random
        out._derived = {}
        return out

    @classmethod
    def from_requests(cls, requests: Sequence[Request]) -> RequestBatch:
        """Encode a list of ``Request``s (costs one dict lookup per request and column)."""
        reqs = list(requests)
        for r in reqs:
            if not isinstance(r, Request):
                raise InvalidArgument(f"from_requests takes Requests, not {type(r).__name__}")
        n = len(reqs)
        names = sorted({k for r in reqs for k in r.headers})
        rv = [r.random_value for r in reqs]
        has = [v is not None for v in rv]
        return cls(
            n,
            host=Column.encode([r.host for r in reqs]),
            path=Column.encode([r.path for r in reqs]),
            method=Column.encode([r.method for r in reqs]),
            authority=Column.encode([r.authority for r in reqs]),
            scheme=Column.encode([r.scheme for r in reqs]),
            port=Column.encode([r.port for r in reqs]),
            source=Column.encode([r.source for r in reqs]),
            headers={k: Column.encode([r.headers.get(k) for r in reqs]) for k in names},
            random_value=(np.asarray([v or 0 for v in rv], dtype=np.uint64) if any(has) else None),
            has_random=np.asarray(has, bool) if any(has) else None,
        )

    # -- access -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Request:
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise TypeError("RequestBatch indices must be integers")
        i = int(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"request {i} out of range for a batch of {self.n}")

        def at(c: Column) -> Any:
            return c.values[int(c.codes[i])]

        ns, labels, workload, gateway = at(self.source)
        headers = {k: v for k, c in self.headers.items() if (v := at(c)) is not None}
        rv = None
        if self.random_value is not None and self.has_random is not None and self.has_random[i]:
            rv = int(self.random_value[i])
        port = at(self.port)
        return Request(
            at(self.host),
            at(self.path),
            at(self.method),
            headers,
            authority=at(self.authority),
            scheme=at(self.scheme),
            port=None if port is None else int(port),
            namespace=ns,
            source_labels=dict(labels),
            source_workload=workload,
            gateway=gateway,
            random_value=rv,
        )

    def __iter__(self) -> Iterator[Request]:
        return (self[i] for i in range(self.n))

    def columns(self) -> dict[str, Column]:
        out = {
            "host": self.host,
            "path": self.path,
            "method": self.method,
            "authority": self.authority,
            "scheme": self.scheme,
            "port": self.port,
            "source": self.source,
        }
        out.update({f"header:{k}": c for k, c in self.headers.items()})
        return out

    def attribute(
        self, key: str, shared: MutableMapping[Any, tuple[Any, ...]] | None = None
    ) -> Column:
        """The column a matcher or hash key reads (``request.attribute_source``), cached.

        A derived column (``uri``, ``query:<n>``, a cookie...) has the codes of its source
        column; ``shared`` (the vector engine's, keyed by key and source table) lets every
        batch over one value table share one derived table, so per-value work downstream,
        cached by table identity, is done once per table.
        """
        hit = self._derived.get(key)
        if hit is not None:
            return hit
        field, derive = attribute_source(key)
        if field.startswith("header:"):
            col = self.headers.get(field[7:]) or Column.constant(None, self.n)
        else:
            col = getattr(self, field)
        if derive is not None:
            col = self.derived(col, key, derive, shared)
        self._derived[key] = col
        return col

    @staticmethod
    def derived(
        col: Column,
        key: Any,
        fn: Callable[[Any], Any],
        shared: MutableMapping[Any, tuple[Any, ...]] | None = None,
    ) -> Column:
        """``col.map(fn)``, the value table memoised in ``shared`` by (key, source table)."""
        if shared is None:
            return col.map(fn)
        hit = shared.get((key, id(col.values)))
        if hit is None or hit[0] is not col.values:
            if len(shared) > 1024:
                shared.clear()
            hit = (col.values, tuple(fn(v) for v in col.values))
            shared[(key, id(col.values))] = hit
        return Column.trusted(hit[1], col.codes)

    def slice(self, lo: int, hi: int) -> RequestBatch:
        """Rows ``lo:hi`` as views (no copy)."""
        names = ("host", "path", "method", "authority", "scheme", "port", "source")
        return RequestBatch.trusted(
            max(0, min(hi, self.n) - lo),
            {name: getattr(self, name).slice(lo, hi) for name in names},
            {k: c.slice(lo, hi) for k, c in self.headers.items()},
            None if self.random_value is None else self.random_value[lo:hi],
            None if self.has_random is None else self.has_random[lo:hi],
        )

    def take(self, idx: npt.NDArray[np.intp]) -> RequestBatch:
        """The rows ``idx`` as a new batch (value tables shared)."""
        names = ("host", "path", "method", "authority", "scheme", "port", "source")
        return RequestBatch.trusted(
            len(idx),
            {name: getattr(self, name).take(idx) for name in names},
            {k: c.take(idx) for k, c in self.headers.items()},
            None if self.random_value is None else self.random_value[idx],
            None if self.has_random is None else self.has_random[idx],
        )

    def __repr__(self) -> str:
        hosts = ", ".join(sorted(set(self.host.values))[:3])
        return f"<RequestBatch n={self.n} host(s) {hosts}; headers {sorted(self.headers)}>"
