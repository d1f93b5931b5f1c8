"""Traffic models: synthetic request streams for ``Simulator.simulate``.

A ``Traffic`` is a weighted mix of request *classes*. A class is a template ``Request`` whose
path, method, headers and query parameters may each follow an independent finite distribution
(a constant, a uniform choice, or explicit shares summing to 1). Because every class has a finite
support with known probabilities, a simulation can be exact (analytic), stratified, or sampled by
one multinomial draw per class; or requests can be generated as dictionary codes, never as
Python objects, at hundreds of millions per second::

    Traffic.constant(Request("reviews"))
    Traffic.users(Request("reviews"), header="end-user", n_users=10_000, named={"jason": 0.1})
    Traffic.request(Request("reviews"), path=["/a", "/b"], method={"GET": 0.9, "POST": 0.1})
    Traffic.mix([(Request("reviews"), 9), (Request("ratings"), 1)])

Host, port and client are fixed per class (use a mix for several): they select the route table.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, cast

import numpy as np
import numpy.typing as npt

from ._display import Displayable
from ._gc import gc_paused
from .batch import Column, RequestBatch, code_dtype
from .config import inputs
from .errors import ConfigError, Diagnostic, InvalidArgument, Location
from .request import Request, Source, check_header_name

if TYPE_CHECKING:
    from .loader.yaml import SourceMap

#: the largest ``n_users`` of ``Traffic.users`` (each generated user is a string in memory)
MAX_USERS = inputs.MAX_USERS
#: the largest weight or share (relative weights: larger ones would swamp the others to 0)
MAX_WEIGHT = inputs.MAX_WEIGHT


def _number(v: Any, what: str, high: float = MAX_WEIGHT) -> float:
    """A weight or share: a finite int or float in [0, high] (bool, 10**400, inf refused)."""
    if (type(v) is float or type(v) is int) and 0 <= v <= high:  # the common case, at once
        return float(v)
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        raise InvalidArgument(f"{what} must be a number >= 0, got {type(v).__name__} {v!r}")
    if not v >= 0:  # NaN fails
        raise InvalidArgument(f"{what} must be a number >= 0, got {v!r}")
    if not v <= high:  # compares big ints exactly
        raise InvalidArgument(f"{what} must be in [0, {high:g}], got {v!r}")
    return float(v)


def _name(v: Any, what: str = "name") -> str | None:
    if v is not None and not isinstance(v, str):
        raise InvalidArgument(f"{what} must be a string or None, got {type(v).__name__} {v!r}")
    return v


def _mapping(v: Any, what: str) -> Mapping[Any, Any]:
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise InvalidArgument(f"{what} must be a mapping, got {type(v).__name__} {v!r}")
    return v


#: largest support of one class enumerated for exact / stratified modes
MAX_SUPPORT = 1 << 20
#: supports up to this size are drawn as 16-bit integers (numpy's fast path)
_SMALL_DRAW = 2048
_SHARE_TOL = 1e-9


@dataclass(frozen=True)
class Dist:
    """A finite distribution over values: uniform when ``probs`` is None."""

    values: tuple[Any, ...]
    probs: tuple[float, ...] | None = None

    def __len__(self) -> int:
        return len(self.values)

    def p(self) -> npt.NDArray[np.float64]:
        if self.probs is None:
            return np.full(len(self.values), 1.0 / len(self.values))
        return np.asarray(self.probs, np.float64)


def dist(spec: Any, what: str, check: Any = None) -> Dist:
    """A constant, a list (uniform) or a mapping value → share (shares must sum to 1)."""
    if isinstance(spec, Dist):
        d = spec
    elif isinstance(spec, Mapping):
        if not spec:
            raise InvalidArgument(f"{what}: no values given")
        shares = []
        for v, s in spec.items():
            shares.append(_number(s, f"{what}: share of {v!r}"))
        total = math.fsum(shares)
        if abs(total - 1.0) > _SHARE_TOL:
            raise InvalidArgument(f"{what}: shares sum to {total:g}, not 1")
        d = Dist(tuple(spec), tuple(s / total for s in shares))
    elif isinstance(spec, list | tuple):
        if not spec:
            raise InvalidArgument(f"{what}: no values given")
        d = Dist(tuple(spec))
    else:
        d = Dist((spec,))
    if check is not None:
        for v in d.values:
            check(what, v)
    return d


def _check_header(what: str, v: Any) -> None:
    if v is not None and not isinstance(v, str):
        raise InvalidArgument(
            f"{what}: header values must be strings (None = absent), got {type(v).__name__} {v!r}"
        )


def _check_str(what: str, v: Any) -> None:
    if not isinstance(v, str):
        raise InvalidArgument(f"{what}: values must be strings, got {type(v).__name__} {v!r}")


def _check_path(what: str, v: Any) -> None:
    _check_str(what, v)
    if not v.startswith("/"):
        raise InvalidArgument(f"{what}: a path must start with '/', got {v!r}")


@dataclass(frozen=True)
class RequestClass:
    """A template request whose ``path``, ``method`` and ``header:<name>`` may vary."""

    name: str
    template: Request
    columns: Mapping[str, Dist]

    def fixed(self, column: str) -> Any:
        r = self.template
        if column == "path":
            return r.path
        if column == "method":
            return r.method
        if column.startswith("header:"):
            return r.headers.get(column[7:])
        raise KeyError(column)

    def dist(self, column: str) -> Dist:
        return self.columns.get(column) or Dist((self.fixed(column),))

    #: who sends it (namespace, sorted labels, workload, gateway) and how many distinct requests
    #: it holds: set once here, since simulate reads both for every class (a
    #: ``functools.cached_property`` takes a lock per read on Python 3.11: 0.5 s per 10^5 classes)
    source: Source = field(init=False, repr=False, compare=False)
    support_size: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        r = self.template
        labels = tuple(sorted(r.source_labels.items())) if r.source_labels else ()
        d = self.__dict__  # frozen: set once, as the dataclass's own __init__ sets fields
        d["source"] = (r.namespace, labels, r.source_workload, r.gateway)
        cols = self.columns
        d["support_size"] = math.prod(len(x) for x in cols.values()) if cols else 1

    def renamed(self, name: str) -> RequestClass:
        """The same class under another name (a copy of the fields: nothing is derived again)."""
        out = object.__new__(RequestClass)
        out.__dict__.update(self.__dict__, name=name)
        return out


class Traffic(Displayable):
    """A weighted mix of request classes (weights normalised to shares)."""

    def __init__(self, classes: Sequence[tuple[RequestClass, float]]) -> None:
        with gc_paused():  # many classes: long-lived objects, nothing cyclic to collect
            self._init(classes)

    def _init(self, classes: Sequence[tuple[RequestClass, float]]) -> None:
        if not isinstance(classes, list | tuple) or not classes:
            raise InvalidArgument(
                "a traffic model needs a non-empty list of (RequestClass, weight)"
            )
        for item in classes:
            if not (
                isinstance(item, tuple | list)
                and len(item) == 2
                and isinstance(item[0], RequestClass)
            ):
                raise InvalidArgument(
                    f"a traffic model's classes are (RequestClass, weight) pairs, got {item!r}"
                )
        weights = []
        for c, w in classes:
            if type(w) is not float or not 0 <= w < math.inf:  # (the message built only here)
                w = _number(w, f"weight of class {c.name!r}", math.inf)
            weights.append(w)
        total = math.fsum(weights)
        if not total > 0 or not math.isfinite(total):
            raise InvalidArgument("the weights of a traffic mix must sum to a positive number")
        names: dict[str, int] = {}
        out = []
        for c, _w in classes:
            name = c.name
            if name in names:
                names[name] += 1
                name = f"{name}#{names[c.name]}"
                c = c.renamed(name)
            names.setdefault(name, 1)
            out.append(c)
        self.classes: tuple[RequestClass, ...] = tuple(out)
        self.shares: tuple[float, ...] = tuple(w / total for w in weights)
        self._gen: _Generator | None = None

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def constant(cls, request: Request, name: str | None = None) -> Traffic:
        """Every request is ``request``."""
        return cls.request(request, name=name)

    @classmethod
    def request(
        cls,
        template: Request,
        *,
        name: str | None = None,
        path: Any = None,
        method: Any = None,
        headers: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Traffic:
        """One class: ``template`` with independent distributions over path, method, headers
        and query parameters (a value, a list = uniform, or a mapping value → share)."""
        if not isinstance(template, Request):
            raise InvalidArgument(f"a traffic class needs a Request, not {type(template).__name__}")
        name = _name(name)
        headers = _mapping(headers, "headers")
        query = _mapping(query, "query")
        cols: dict[str, Dist] = {}
        if path is not None:
            cols["path"] = dist(path, "path", _check_path)
        if method is not None:
            cols["method"] = dist(method, "method", _check_str)
        for h, spec in (headers or {}).items():
            cols[f"header:{check_header_name(h)}"] = dist(spec, f"header {h!r}", _check_header)
        if query:
            base = cols.get("path") or Dist((template.path,))
            pv, pp = list(base.values), base.p()
            for q, spec in query.items():
                if not isinstance(q, str) or not q:
                    raise InvalidArgument(
                        f"query parameter name must be a non-empty string, got {q!r}"
                    )
                d = dist(spec, f"query parameter {q!r}", _check_header)
                if len(pv) * len(d) > MAX_SUPPORT:
                    raise InvalidArgument("query parameter distributions: too many combinations")
                pv = [_with_query(p, q, v) for p in pv for v in d.values]
                pp = np.outer(pp, d.p()).ravel()
            cols["path"] = Dist(tuple(pv), tuple(float(x) for x in pp))
        cols = {k: d for k, d in cols.items() if len(d) > 1 or d.values[0] != _fixed(template, k)}
        fixed = {k: d for k, d in cols.items() if len(d) == 1}
        if fixed:
            template = _apply_fixed(template, fixed)
            cols = {k: d for k, d in cols.items() if len(d) > 1}
        label = name or _default_name(template)
        auth = [k for k in _AUTHORITY_HEADERS if k in cols]
        if auth:  # the authority follows these headers: one class per value (shares exact)
            rest = {k: d for k, d in cols.items() if k not in auth}
            parts: list[tuple[RequestClass, float]] = []
            pairs = [list(zip(cols[k].values, cols[k].p(), strict=True)) for k in auth]
            for combo in itertools.product(*pairs):
                chosen = list(zip(auth, combo, strict=True))
                t = _apply_fixed(template, {k: Dist((v,)) for k, (v, _) in chosen})
                vals = " ".join(f"{k[7:]}={v}" for k, (v, _) in chosen)
                share = math.prod(float(p) for _, p in combo)
                parts.append((RequestClass(f"{label} {vals}", t, rest), share))
            return cls(parts)
        return cls([(RequestClass(label, template, cols), 1.0)])

    @classmethod
    def users(
        cls,
        template: Request,
        header: str = "end-user",
        n_users: int = 10_000,
        named: Mapping[str, float] | None = None,
        *,
        prefix: str = "user-",
        name: str | None = None,
    ) -> Traffic:
        """A population of ``n_users`` distinct ``header`` values (named users included).

        Each named user gets its share; the others (``n_users - len(named)`` generated values
        ``user-00001``...) share the rest uniformly. One class per named user plus one for the
        others, so results break down by class.
        """
        if not isinstance(template, Request):
            raise InvalidArgument(f"template must be a Request, not {type(template).__name__}")
        if not isinstance(header, str) or not header:
            raise InvalidArgument(f"header must be a non-empty string, got {header!r}")
        check_header_name(header)
        if f"header:{header.lower()}" in _AUTHORITY_HEADERS:
            raise InvalidArgument(
                f"users() cannot vary the {header!r} header: it sets the request's authority; "
                f"use Traffic.request(template, headers={{{header!r}: [...]}}), one class per value"
            )
        if not isinstance(prefix, str):
            raise InvalidArgument(f"prefix must be a string, got {type(prefix).__name__}")
        name = _name(name)
        named = dict(_mapping(named, "named"))
        if isinstance(n_users, bool) or not isinstance(n_users, int) or n_users < 1:
            raise InvalidArgument(f"n_users must be a positive integer, got {n_users!r}")
        if n_users > MAX_USERS:
            raise InvalidArgument(
                f"n_users = {n_users:,} is more than {MAX_USERS:,} (each user is a string in "
                "memory); a population that large routes like a uniform header: use "
                "Traffic.request(..., headers={header: [...]}) with fewer representative values"
            )
        if len(named) > n_users:
            raise InvalidArgument(f"{len(named)} named users but n_users = {n_users}")
        for u, s in named.items():
            _check_header(f"named user {u!r}", u)
            _number(s, f"share of named user {u!r}", 1.0)
        total = math.fsum(named.values())
        rest = 1.0 - total
        others = n_users - len(named)
        if rest < -_SHARE_TOL:
            raise InvalidArgument(f"named users' shares sum to {total:g} > 1")
        if others == 0 and abs(rest) > _SHARE_TOL:
            raise InvalidArgument(
                f"all {n_users} users are named but their shares sum to {total:g}, not 1"
            )
        if others > 0 and rest <= _SHARE_TOL:
            raise InvalidArgument(
                f"named users take all the traffic; {others} other user(s) would get none"
            )
        width = len(str(n_users))
        taken = set(named)
        gen: list[str] = []
        i = 0
        while len(gen) < others:
            i += 1
            v = f"{prefix}{i:0{width}d}"
            if v not in taken:
                gen.append(v)
        base = name or _default_name(template)
        hk = header.lower()
        classes: list[tuple[RequestClass, float]] = []
        for u, s in named.items():
            t = template.replace(headers={**template.headers, hk: u})
            classes.append((RequestClass(f"{base} {hk}={u}", t, {}), float(s)))
        if others:
            cols = {f"header:{hk}": Dist(tuple(gen))} if others > 1 else {}
            t = (
                template.replace(headers={**template.headers, hk: gen[0]})
                if others == 1
                else template
            )
            # a class the user named holds all its users unless some are named: keep its name
            label = name if name and not named else f"{base} other users"
            classes.append((RequestClass(label, t, cols), max(rest, 0.0)))
        return cls(classes)

    @classmethod
    def mix(cls, items: Sequence[tuple[Traffic | Request, float]]) -> Traffic:
        """A weighted mix of traffic models or requests (weights are relative)."""
        if not isinstance(items, list | tuple) or not items:
            raise InvalidArgument("mix() takes a non-empty list of (traffic or request, weight)")
        with gc_paused():  # a mix of 10^5 requests: a third of its time went to the collector
            return cls._mix(items)

    @classmethod
    def _mix(cls, items: Sequence[tuple[Traffic | Request, float]]) -> Traffic:
        classes: list[tuple[RequestClass, float]] = []
        for item in items:
            if not (isinstance(item, tuple | list) and len(item) == 2):
                raise InvalidArgument(f"mix() items are (traffic or request, weight), got {item!r}")
            t, w = item
            w = _number(w, "mix weight")
            if isinstance(t, Request):  # what Traffic.constant(t) holds, without building it
                classes.append((RequestClass(_default_name(t), t, {}), w))
                continue
            t = as_traffic(t)
            classes.extend((c, s * float(w)) for c, s in zip(t.classes, t.shares, strict=True))
        return cls(classes)

    @classmethod
    def from_dict(cls, data: Any, where: str = "traffic") -> Traffic:
        """The traffic file format (see ``istiosim simulate --traffic``); ``ConfigError``
        naming ``where`` and the field path on a bad value (``read_traffic`` also gives
        line and column)."""
        if not isinstance(where, str):
            raise InvalidArgument(f"where must be a string, got {type(where).__name__}")
        return _from_dict(data, None, Location(where))

    # -- sampling ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.classes)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    def generator(self) -> _Generator:
        if self._gen is None:
            self._gen = _Generator(self)
        return self._gen

    def sample(
        self, n: int, rng: np.random.Generator
    ) -> tuple[npt.NDArray[np.uint8 | np.uint16 | np.intp], RequestBatch]:
        """``n`` requests: their class indexes and the batch (generated as codes)."""
        return self.generator().sample(n, rng)

    def batch(self, n: int, rng: Any = None) -> RequestBatch:
        """``n`` requests drawn from the model, as a ``RequestBatch``."""
        return self.sample(n, np.random.default_rng(rng))[1]

    def support(self, c: int) -> tuple[RequestBatch, npt.NDArray[np.float64]]:
        """Every distinct request of class ``c`` with its probability within the class."""
        return self.generator().support(c)

    def marginals(self, c: int) -> tuple[RequestBatch, dict[str, npt.NDArray[np.float64]]]:
        """Class ``c`` column by column: a batch whose varying columns hold each column's
        support (row i of a column is its value i, rows past its support repeat it) and the
        probabilities of those values, by column (``path``, ``method``, ``header:<name>``)."""
        return self.generator().marginals(c)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{c.name} {s:.4g}" for c, s in zip(self.classes, self.shares, strict=True)
        )
        return f"<Traffic: {parts}>"

    # ---- display (istiosim.display): one row per request class ----

    def _table(self) -> Any:
        from .display.objects import traffic_table

        return traffic_table(self)

    def to_pandas(self) -> Any:
        """One row per class: name (categorical), share, request, varying columns."""
        return self._table().to_pandas()


def as_traffic(obj: Any) -> Traffic:
    if isinstance(obj, Traffic):
        return obj
    if isinstance(obj, Request):
        return Traffic.constant(obj)
    raise InvalidArgument(f"expected a Request or a Traffic model, not {type(obj).__name__}")


def _default_name(r: Request) -> str:
    q = "" if r.path == "/" else r.path
    return f"{r.host}{q}"


def _fixed(r: Request, column: str) -> Any:
    if column == "path":
        return r.path
    if column == "method":
        return r.method
    return r.headers.get(column[7:])


#: headers that set a request's authority (``Request``: :authority, else Host): a class never
#: varies them (each value is a class of its own, ``Traffic.request``), since the authority
#: the engines match is one per class
_AUTHORITY_HEADERS = ("header::authority", "header:host")


def _apply_fixed(r: Request, fixed: Mapping[str, Dist]) -> Request:
    changes: dict[str, Any] = {}
    headers = dict(r.headers)
    for k, d in fixed.items():
        v = d.values[0]
        if k in ("path", "method"):
            changes[k] = v
        elif v is None:
            headers.pop(k[7:], None)
        else:
            headers[k[7:]] = v
    return r.replace(headers=headers, **changes)


def _with_query(path: str, name: str, value: Any) -> str:
    if value is None:
        return path
    return f"{path}{'&' if '?' in path else '?'}{name}={value}"


class NotDrawn(tuple[Any, ...]):
    """The value table of a column ``sample(reads=...)`` left undrawn: the plan was found not to
    read it, so reading it anyway is a bug in that finding, reported rather than answered."""

    def __new__(cls, name: str) -> NotDrawn:
        out = super().__new__(cls, (None,))
        out.name = name
        return out

    name: str

    def _refuse(self) -> NoReturn:
        raise RuntimeError(f"internal error: column {self.name!r} was read but not drawn")

    def __getitem__(self, i: Any) -> Any:
        self._refuse()

    def __iter__(self) -> Iterator[Any]:
        self._refuse()


class _Generator:
    """The model compiled to code tables: every column's values, each class's slice of them."""

    def __init__(self, t: Traffic) -> None:
        self.traffic = t
        self.k = len(t.classes)
        cum = np.cumsum(t.shares)
        cum[-1] = 1.0
        self.cum = cum[:-1]
        self.thresholds = (  # (used up to 8 classes only)
            [np.uint32(min(round(c * 2**32), 2**32 - 1)) for c in self.cum] if self.k <= 8 else []
        )
        names = {"path", "method"} | {
            k for c in t.classes for k in c.columns if k.startswith("header:")
        }
        names |= {f"header:{h}" for c in t.classes for h in c.template.headers}
        self.columns: dict[str, tuple[tuple[Any, ...], Any, list[tuple[int, int, Any]]]] = {}
        neg_shares = [-x for x in t.shares]
        for name in sorted(names):
            values: list[Any] = []
            found: list[Any] = [None] * len(t.classes)
            # a class's Dist where the column varies, else its fixed value (no Dist per class)
            dists: list[Any] = [c.columns.get(name) for c in t.classes]
            sizes = [1 if d is None else len(d) for d in dists]
            # sampled supports first, the most frequent at offset 0 (no offset to add)
            order = sorted(range(len(dists)), key=lambda i: (sizes[i] == 1, neg_shares[i]))
            single: dict[Any, int] = {}  # a constant shared by classes gets one code
            for i in order:
                d = dists[i]
                if sizes[i] == 1:
                    v = t.classes[i].fixed(name) if d is None else d.values[0]
                    hit = single.get(v)
                    if hit is None:
                        hit = single[v] = len(values)
                        values.append(v)
                    found[i] = (hit, 1, None)
                    continue
                off = len(values)
                values.extend(d.values)
                found[i] = (off, len(d), _sampler(d))
            slices = list(found)
            dt = code_dtype(len(values))
            if any(sz > _SMALL_DRAW for _, sz, _ in slices):
                dt = np.uint32  # codes kept as drawn (numpy draws large ranges as 32-bit)
            self.columns[name] = (tuple(values), dt, slices)
        # per-class constants: host, authority, scheme, port, source, random value
        self.fixed: dict[str, list[Any]] = {
            "host": [c.template.host for c in t.classes],
            "authority": [c.template.authority for c in t.classes],
            "scheme": [c.template.scheme for c in t.classes],
            "port": [c.template.port for c in t.classes],
            "source": [c.source for c in t.classes],
        }
        self.fixed_cols: dict[str, tuple[tuple[Any, ...], npt.NDArray[Any] | None]] = {}
        for name, vals in self.fixed.items():
            uniq: dict[Any, int] = {}
            codes = [uniq.setdefault(v, len(uniq)) for v in vals]
            arr = None if len(uniq) == 1 else np.asarray(codes, code_dtype(len(uniq)))
            self.fixed_cols[name] = (tuple(uniq), arr)
        rvs = [c.template.random_value for c in t.classes]
        self.rv = None if all(v is None for v in rvs) else rvs
        self._const: dict[tuple[int, int, Any], npt.NDArray[Any]] = {}
        self._offsets: dict[str, npt.NDArray[Any]] = {}

    def _constant(self, n: int, value: int, dt: Any) -> npt.NDArray[Any]:
        """A read-only zero-stride array of ``n`` times ``value`` (kept: chunks reuse them)."""
        key = (n, value, dt)
        hit = self._const.get(key)
        if hit is None:
            if len(self._const) > 4096:
                self._const.clear()
            hit = self._const[key] = np.broadcast_to(np.full(1, value, dt), (n,))
        return hit

    def _classes(self, n: int, rng: np.random.Generator) -> npt.NDArray[Any]:
        if self.k == 1:
            return self._constant(n, 0, np.uint8)
        if self.k <= 8:  # 32-bit draws against thresholds: shares exact to 2^-32
            u32 = rng.integers(0, 1 << 32, size=n, dtype=np.uint32)
            if self.k == 2:
                out: npt.NDArray[Any] = (u32 >= self.thresholds[0]).view(np.uint8)
                return out
            cls = np.zeros(n, np.uint8)
            for th in self.thresholds:
                cls += u32 >= th
            return cls
        u = rng.random(n)
        return np.searchsorted(self.cum, u, side="right").astype(code_dtype(self.k))

    def sample(
        self,
        n: int,
        rng: np.random.Generator,
        *,
        streams: Callable[[str], np.random.Generator] | None = None,
        reads: Collection[str] | None = None,
    ) -> tuple[npt.NDArray[Any], RequestBatch]:
        """``n`` requests: the class of each, then each column. ``streams``: each varying
        column drawn from its own generator (``streams(name)``) rather than after the classes
        on ``rng``, so that a column's values do not depend on which other columns are drawn.
        ``reads``: the fields to draw (None: all); a varying column not in it is left undrawn
        (``NotDrawn``: reading it is an error), which with ``streams`` changes nothing else."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise InvalidArgument(f"n must be a non-negative integer, got {n!r}")
        cls = self._classes(n, rng)
        cols: dict[str, Column] = {}
        rows: _ClassRows | None = None  # each class's rows, found once for all columns
        for name, (values, dt, slices) in self.columns.items():
            if all(sz == 1 for _, sz, _ in slices):
                if self.k == 1 or len(set(off for off, _, _ in slices)) == 1:
                    cols[name] = Column.trusted(values, self._constant(n, slices[0][0], dt))
                else:
                    offs = np.asarray([off for off, _, _ in slices], dt)
                    cols[name] = Column.trusted(values, np.take(offs, cls))
                continue
            if reads is not None and name not in reads:
                cols[name] = Column.trusted(NotDrawn(name), self._constant(n, 0, np.uint8))
                continue
            if streams is not None:
                rng = streams(name)
            if self.k == 1:
                off, sz, samp = slices[0]
                cols[name] = Column.trusted(values, samp(rng, n, off, dt))
                continue
            shares = self.traffic.shares
            big = [c for c, (_, sz, _) in enumerate(slices) if sz > 1 and shares[c] >= 0.25]
            if big:  # start from one big class's full-length draw, patch the others in
                off, _, samp = slices[big[0]]
                codes = samp(rng, n, off, dt)
                fixed = [c != big[0] and sz == 1 for c, (_, sz, _) in enumerate(slices)]
                if sum(fixed) > 2:  # one pass over the block for all fixed classes
                    offs = np.asarray([o for o, _, _ in slices], dt)
                    np.copyto(codes, np.take(offs, cls), where=np.take(fixed, cls))
                else:
                    for c, (off, _, _) in enumerate(slices):
                        if fixed[c]:
                            np.copyto(codes, dt(off), where=cls == c)
            else:
                codes = np.take(np.asarray([off for off, _, _ in slices], dt), cls)
            for c, (off, sz, samp) in enumerate(slices):
                if sz == 1 or (big and c == big[0]):
                    continue
                if shares[c] >= 0.25:
                    np.copyto(codes, samp(rng, n, off, dt), where=cls == c)
                    continue
                if rows is None:
                    rows = _ClassRows(cls, self.k)
                idx = rows.of(c)
                if idx.size:  # (a draw of size 0 leaves the generator as it was)
                    codes[idx] = samp(rng, idx.size, off, dt)
            cols[name] = Column.trusted(values, codes)
        return cls, self._batch(n, cls, cols)

    def _batch(self, n: int, cls: npt.NDArray[Any], cols: Mapping[str, Column]) -> RequestBatch:
        fixed: dict[str, Column] = {}
        for name, (values, arr) in self.fixed_cols.items():
            if arr is None:
                fixed[name] = Column.trusted(values, self._constant(n, 0, np.uint8))
            else:
                fixed[name] = Column.trusted(values, np.take(arr, cls))
        rv = has = None
        if self.rv is not None:
            rv = np.take(np.asarray([v or 0 for v in self.rv], np.uint64), cls)
            has = np.take(np.asarray([v is not None for v in self.rv]), cls)
        return RequestBatch.trusted(
            n,
            {**fixed, "path": cols["path"], "method": cols["method"]},
            {k[7:]: c for k, c in cols.items() if k.startswith("header:")},
            rv,
            has,
        )

    def rows(self, classes: npt.NDArray[np.intp]) -> RequestBatch:
        """One request per class of ``classes``: each column at the class's first value (the
        class's request when it varies in nothing)."""
        cols: dict[str, Column] = {}
        for name, (values, dt, slices) in self.columns.items():
            offs = self._offsets.get(name)
            if offs is None:
                offs = self._offsets[name] = np.asarray([off for off, _, _ in slices], dt)
            cols[name] = Column.trusted(values, np.take(offs, classes))
        return self._batch(len(classes), classes, cols)

    def supports(
        self, classes: Sequence[int]
    ) -> tuple[RequestBatch, npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """``support(c)`` of every class of ``classes`` as one batch: (batch, class of each
        row, probability of each row within its class), without Python work per row. Classes
        of one shape (the same varying columns and support sizes) are laid out together."""
        shapes: dict[tuple[Any, ...], list[int]] = {}
        for c in classes:
            cl = self.traffic.classes[c]
            names = tuple(sorted(cl.columns))
            shapes.setdefault((names, tuple(len(cl.columns[x]) for x in names)), []).append(c)
        parts: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in self.columns}
        rows_cls: list[npt.NDArray[np.intp]] = []
        rows_p: list[npt.NDArray[np.float64]] = []
        for (names, sizes), cs in shapes.items():
            arr = np.asarray(cs, np.intp)
            size = math.prod(sizes)
            grids = np.indices(sizes).reshape(len(sizes), -1) if names else None
            for name, (_values, dt, slices) in self.columns.items():
                offs = self._offsets.get(name)
                if offs is None:
                    offs = self._offsets[name] = np.asarray([off for off, _, _ in slices], dt)
                base = np.take(offs, arr)
                if name in names:
                    assert grids is not None
                    g = grids[names.index(name)].astype(dt)
                    parts[name].append((base[:, None] + g[None, :]).reshape(-1))
                else:
                    parts[name].append(np.repeat(base, size))
            probs = np.ones((len(cs), size))
            for j, name in enumerate(names):
                assert grids is not None
                pj = np.stack([self.traffic.classes[c].columns[name].p() for c in cs])
                probs = probs * pj[:, grids[j]]
            rows_cls.append(np.repeat(arr, size))
            rows_p.append(probs.reshape(-1))
        cls = np.concatenate(rows_cls) if rows_cls else np.zeros(0, np.intp)
        cols = {
            name: Column.trusted(
                self.columns[name][0], np.concatenate(ps).astype(self.columns[name][1])
            )
            for name, ps in parts.items()
        }
        p = np.concatenate(rows_p) if rows_p else np.zeros(0)
        return self._batch(len(cls), cls, cols), cls, p

    def marginals(self, c: int) -> tuple[RequestBatch, dict[str, npt.NDArray[np.float64]]]:
        cl = self.traffic.classes[c]
        size = max([2, *(len(d) for d in cl.columns.values())])
        cols: dict[str, Column] = {}
        probs: dict[str, npt.NDArray[np.float64]] = {}
        for name, (values, dt, slices) in self.columns.items():
            d = cl.columns.get(name)
            if d is None:
                off = slices[c][0]
                cols[name] = Column.trusted(values, self._constant(size, off, dt))
                continue
            codes = np.minimum(np.arange(size), len(d) - 1).astype(code_dtype(len(d)))
            cols[name] = Column.trusted(d.values, codes)
            probs[name] = d.p()
        return self._batch(size, np.full(size, c, np.intp), cols), probs

    def support(self, c: int) -> tuple[RequestBatch, npt.NDArray[np.float64]]:
        cl = self.traffic.classes[c]
        size = cl.support_size
        if size > MAX_SUPPORT:
            raise InvalidArgument(
                f"class {cl.name!r} has {size} distinct requests (> {MAX_SUPPORT}): "
                "too many to enumerate; use mode='sample'"
            )
        varying = [(name, cl.columns[name]) for name in sorted(cl.columns)]
        grids = (
            np.indices([len(d) for _, d in varying]).reshape(len(varying), -1) if varying else None
        )
        probs = np.ones(size)
        cols: dict[str, Column] = {}
        for name, (values, dt, slices) in self.columns.items():
            off = slices[c][0]
            cols[name] = Column.trusted(values, np.broadcast_to(np.full(1, off, dt), (size,)))
        for j, (name, d) in enumerate(varying):
            assert grids is not None
            values, dt, slices = self.columns[name]
            off = slices[c][0]
            cols[name] = Column.trusted(values, (grids[j] + off).astype(dt))
            probs = probs * d.p()[grids[j]]
        cls = np.full(size, c, np.intp)
        return self._batch(size, cls, cols), probs


class _ClassRows:
    """The rows of each class, in order: one stable sort for all classes (O(n), not a scan of
    the whole block per class); ``of(c)`` equals ``np.flatnonzero(cls == c)``."""

    def __init__(self, cls: npt.NDArray[Any], k: int) -> None:
        self.order = np.argsort(cls, kind="stable")
        self.ends = np.cumsum(np.bincount(cls, minlength=k))

    def of(self, c: int) -> npt.NDArray[np.intp]:
        lo = int(self.ends[c - 1]) if c else 0
        out: npt.NDArray[np.intp] = self.order[lo : int(self.ends[c])]
        return out


def _sampler(d: Dist) -> Any:
    """Draw codes ``off + i`` with i ~ d: uniform (one bounded integer) or alias method."""
    m = len(d)
    small = np.uint16 if m <= _SMALL_DRAW else np.uint32  # numpy's 16-bit path slows for large m
    if d.probs is None:

        def uniform(rng: np.random.Generator, n: int, off: int, dt: Any) -> npt.NDArray[Any]:
            r = rng.integers(0, m, size=n, dtype=small)
            if r.dtype != dt:
                r = r.astype(dt)
            if off:
                r += dt(off)
            return r

        return uniform
    if m <= 8:  # a few values: 32-bit draws against cumulative thresholds
        cum = np.cumsum(d.p())[:-1]
        ths = [np.uint32(min(round(c * 2**32), 2**32 - 1)) for c in cum]

        def few(rng: np.random.Generator, n: int, off: int, dt: Any) -> npt.NDArray[Any]:
            u = rng.integers(0, 1 << 32, size=n, dtype=np.uint32)
            r = np.full(n, off, dt)
            for th in ths:
                r += u >= th
            return r

        return few
    prob, alias = _alias(d.p())

    def weighted(rng: np.random.Generator, n: int, off: int, dt: Any) -> npt.NDArray[Any]:
        j = rng.integers(0, m, size=n, dtype=small)
        u = rng.random(n)
        r = np.where(u < np.take(prob, j), j, np.take(alias, j))
        return (r + off).astype(dt)

    return weighted


def _alias(p: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
    """Walker's alias tables (Vose's construction)."""
    m = len(p)
    scaled = p * m / p.sum()
    prob = np.ones(m)
    alias = np.arange(m)
    small = [i for i in range(m) if scaled[i] < 1.0]
    large = [i for i in range(m) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    return prob, alias


# -- the traffic file ---------------------------------------------------------------------------


def read_traffic(source: str | os.PathLike[str]) -> Traffic:
    """The traffic model of a traffic file (or YAML text, or ``-``), validated like a config:
    every error raises ``ConfigError`` at the offending value's file:line:col with a code."""
    from .loader import load_yaml_documents

    docs = load_yaml_documents(source)
    if len(docs) != 1:
        where = docs[1][2] if docs else Location(str(source))
        raise ConfigError(
            [Diagnostic.make("ISM0007", "a traffic file holds one mapping with 'classes'", where)]
        )
    data, smap, where = docs[0]
    return _from_dict(data, smap, where)


def validate_input(model: Any, data: dict[str, Any], smap: SourceMap, where: Location) -> Any:
    """``model.model_validate(data)`` for an input file's document (``config.inputs``), its
    errors as a ``ConfigError`` located by the source map (file:line:col, field path, code)."""
    import dataclasses

    from .loader import validation_diagnostics

    try:
        return model.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError
        diags = validation_diagnostics(cast(Any, exc), model, data, smap, where, "")
        raise ConfigError(
            [dataclasses.replace(d, message=d.message.removeprefix("Value error, ")) for d in diags]
        ) from None


def _from_dict(data: Any, smap: SourceMap | None, where: Location) -> Traffic:
    """``{classes: [{name, weight, request: {...}, vary: {path, method, headers, query},
    users: {header, n_users, named, prefix}}]}`` or a bare list of classes."""
    from .loader.yaml import SourceMap, dotted

    if isinstance(data, list):
        data = {"classes": data}
        if smap is not None:
            smap = SourceMap({("classes", *p): loc for p, loc in smap.locations.items()})
    smap = smap or SourceMap()
    if not isinstance(data, Mapping):
        raise ConfigError(
            [
                Diagnostic.make(
                    "ISM0007",
                    f"a traffic model is a mapping with 'classes', not {type(data).__name__}",
                    where,
                )
            ]
        )
    model = validate_input(inputs.TrafficFile, dict(data), smap, where)
    items: list[tuple[Traffic | Request, float]] = []
    for i, item in enumerate(model.classes):
        at: tuple[str | int, ...] = ("classes", i)
        step = "request"
        try:
            template = Request(**item.request.model_dump())
            if item.users is not None:
                step = "users"
                t = Traffic.users(template, name=item.name, **item.users.model_dump())
            else:
                step = "vary"
                v = item.vary or inputs.TrafficVary()
                t = Traffic.request(
                    template,
                    name=item.name,
                    path=v.path,
                    method=v.method,
                    headers=v.headers,
                    query=v.query,
                )
        except InvalidArgument as exc:
            p = (*at, step)
            raise ConfigError(
                [Diagnostic.make("ISM0004", str(exc), smap.find(p) or where, field_path=dotted(p))]
            ) from None
        items.append((t, item.weight))
    try:
        return Traffic.mix(items)
    except InvalidArgument as exc:
        raise ConfigError(
            [Diagnostic.make("ISM0004", str(exc), smap.find(("classes",)) or where)]
        ) from None


__all__ = ["Dist", "RequestClass", "Traffic", "as_traffic", "dist", "read_traffic"]
