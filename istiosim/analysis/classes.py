"""Request classes derived from the match conditions of one or two configs.

For each host a VirtualService names (and each port of its service), as a sidecar in the
VirtualService's namespace without labels sees it, and for each gateway a VirtualService binds,
the route tables of the configs are cut into classes: requests that take the same first matching entry in every config.
Two requests of one class route the same way in each config (same destinations, weights,
faults, header operations), so one witness request per class stands for all of them.

How: each request attribute (path, method, a header, a query parameter, ...) is split into
*regions*, the distinct truth vectors of the conditions on it, each found with a witness value
(``witness.witness_values``). For exact, prefix and presence conditions those candidates reach
every vector a value can have, so the split is exact. Regexes add values generated from the
regex and checked with RE2; a vector no witness reached is *undecided*: when it would route
differently from every class found, it is reported in ``ClassSet.undecided``, never guessed.
The attributes are then combined one at a time, merging combinations that leave the same
entries alive, so a 1,000-rule table costs about as many steps as it has regions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod
from typing import Any

from ..lookup import find_service, gateway_virtual_hosts
from ..plan import (
    CompiledVirtualService,
    Matcher,
    ProxyContext,
    RoutePlan,
    RouteTable,
    ServiceInfo,
    host_matches,
    visible,
)
from ..request import PSEUDO_HEADERS, Request
from .witness import ALWAYS_PRESENT, universal, witness_values

#: descriptions name at most this many conditions of one attribute, then "… N more"
MAX_FACTS = 4
#: at most this many combinations are kept to describe a class that is not a product
MAX_PATHS = 3


def canonical_key(key: str) -> str:
    """The attribute a matcher reads: pseudo headers and ``host`` are the request line's."""
    if key.startswith("header:"):
        field_ = PSEUDO_HEADERS.get(key[7:].lower())
        if field_ in ("method", "scheme", "authority"):
            return field_
    return key


def key_label(key: str) -> str:
    if key == "uri":
        return "path"
    if key.startswith("header:"):
        return key[7:]
    if key.startswith("query:"):
        return f"query {key[6:]}"
    return key


def _show(v: str) -> str:
    return v if v and v.strip() == v and " " not in v else repr(v)


def fact_text(m: Matcher, holds: bool) -> str:
    """``end-user = jason`` / ``end-user ≠ jason``: one condition, true or false."""
    pos = holds != m.invert  # withoutHeaders: the condition holds when its match does not
    k = key_label(canonical_key(m.key))
    case = " (any case)" if m.ignore_case else ""
    v = _show(m.value)
    if m.kind == "present":
        return f"{k} present" if pos else f"{k} absent"
    if m.kind == "exact":
        return f"{k} {'=' if pos else '≠'} {v}{case}"
    if m.kind == "prefix":
        return f"{k} {'starts with' if pos else 'does not start with'} {v}{case}"
    return f"{k} {'~' if pos else '!~'} {v}"


@dataclass(frozen=True)
class Region:
    """One cell of an attribute's values: which of its conditions hold, and a value there
    (``witness`` None with ``hypothetical``: no value was found, emptiness undecided)."""

    truth: frozenset[int]
    witness: str | None
    hypothetical: bool = False


class _Index:
    """Conditions of one attribute indexed by their literal (``Matcher.test`` semantics)."""

    def __init__(self, conditions: Sequence[Matcher]) -> None:
        self.exact: dict[tuple[bool, str], list[int]] = {}
        self.prefix: dict[tuple[bool, str], list[int]] = {}
        self.present: list[int] = []
        self.other: list[tuple[int, Matcher]] = []
        for i, m in enumerate(conditions):
            if m.invert or m.kind == "regex":
                self.other.append((i, m))
            elif m.kind == "present":
                self.present.append(i)
            else:
                table = self.exact if m.kind == "exact" else self.prefix
                v = m.value.lower() if m.ignore_case else m.value
                table.setdefault((m.ignore_case, v), []).append(i)
        self.cased = any(ci for ci, _ in (*self.exact, *self.prefix))

    def truth(self, value: str | None) -> frozenset[int]:
        out = [i for i, m in self.other if m.test(value)]
        if value is not None:
            out += self.present
            forms = [(False, value), (True, value.lower())] if self.cased else [(False, value)]
            for ci, v in forms:
                out += self.exact.get((ci, v), ())
                if self.prefix:
                    for j in range(len(v) + 1):
                        out += self.prefix.get((ci, v[:j]), ())
        return frozenset(out)


@dataclass
class Attribute:
    """One request attribute, the conditions on it, and the regions they cut it into."""

    key: str
    conditions: list[Matcher]
    regions: list[Region] = field(default_factory=list)
    complete: bool = True
    _described: dict[int, str] = field(default_factory=dict)
    _index: _Index | None = None

    def truth(self, value: str | None) -> frozenset[int]:
        """Which conditions hold for ``value``: exact, prefix and presence conditions through
        an index by value (a value's prefixes looked up), the others by ``Matcher.test``."""
        if self._index is None:
            self._index = _Index(self.conditions)
        return self._index.truth(value)

    def describe(self, r: int) -> str:
        """The region as the fewest conditions that tell it from the other regions found."""
        hit = self._described.get(r)
        if hit is not None:
            return hit
        reg = self.regions[r]
        facts = sorted(
            ((i, i in reg.truth) for i in range(len(self.conditions))),
            key=lambda f: self._strength(*f),
        )
        agree = [x for x in self.regions if not x.hypothetical or x is reg]
        said: list[str] = []
        more = 0
        for i, b in facts:
            if all((i in x.truth) == b for x in agree):
                continue  # implied by what is said already
            agree = [x for x in agree if (i in x.truth) == b]
            if len(said) < MAX_FACTS:
                said.append(fact_text(self.conditions[i], b))
            else:
                more += 1
        text = ", ".join(said) + (f" … ({more} more)" if more else "")
        self._described[r] = text
        return text

    def _strength(self, i: int, b: bool) -> tuple[int, int, int]:
        m = self.conditions[i]
        pos = b != m.invert
        rank = {"exact": 0, "prefix": 1, "regex": 2, "present": 3}[m.kind]
        # a longer prefix says more when it holds, a shorter one when it does not
        return (0 if pos else 1, rank, -len(m.value) if pos else len(m.value))

    def describe_set(self, rs: set[int]) -> str | None:
        """Regions ``rs`` of this attribute in words (None: every region, no constraint)."""
        if len(rs) == len(self.regions):
            return None
        if len(rs) == 1:
            return self.describe(next(iter(rs)))
        rest = set(range(len(self.regions))) - rs
        if len(rest) == 1:
            (only,) = rest
            text = self.describe(only)
            return f"not ({text})" if ", " in text or " … " in text else _negate(text)
        parts = [self.describe(r) for r in sorted(rs)]
        if len(parts) > MAX_PATHS:
            parts = [*parts[:MAX_PATHS], f"… ({len(rs) - MAX_PATHS} more)"]
        return "(" + " or ".join(parts) + ")"


def _negate(text: str) -> str:
    for a, b in (
        (" = ", " ≠ "),
        (" does not start with ", " starts with "),
        (" starts with ", " does not start with "),
        (" !~ ", " ~ "),
        (" ~ ", " !~ "),
        (" present", " absent"),
        (" absent", " present"),
    ):
        if a in text:
            return text.replace(a, b, 1)
    if " ≠ " in text:
        return text.replace(" ≠ ", " = ", 1)
    return f"not ({text})"


#: ``attribute`` by (key, conditions): a cluster export repeats the same match shapes over
#: thousands of route tables (an Attribute is never changed once built; its memos are caches)
_ATTRIBUTES: dict[tuple[Any, ...], Attribute] = {}


def attribute(key: str, conditions: list[Matcher]) -> Attribute:
    """Split one attribute into regions: exact for exact/prefix/presence conditions (and a
    catch-all ``.*``); with other regexes or ignore-case mixed with case-sensitive literals,
    the truth vectors no witness reached become hypothetical regions (undecided). Memoised by
    what the regions depend on: the key and each condition's kind, value, case and sense."""
    ident = (key, tuple((m.kind, m.value, m.ignore_case, m.invert) for m in conditions))
    hit = _ATTRIBUTES.get(ident)
    if hit is None:
        if len(_ATTRIBUTES) > 4096:
            _ATTRIBUTES.clear()
        hit = _ATTRIBUTES[ident] = _attribute(key, conditions)
    return hit


def _attribute(key: str, conditions: list[Matcher]) -> Attribute:
    att = Attribute(key, conditions)
    found: dict[frozenset[int], str | None] = {}
    for v in witness_values(key, conditions):
        found.setdefault(att.truth(v), v)
    att.regions = [Region(t, v) for t, v in found.items()]
    uncertain = [i for i, m in enumerate(conditions) if m.kind == "regex" and not universal(m)]
    cased = {m.ignore_case for m in conditions if m.kind in ("exact", "prefix")}
    if len(cased) > 1:
        uncertain += [i for i, m in enumerate(conditions) if m.kind in ("exact", "prefix")]
    if uncertain:
        att.complete = False
        for t in list(found):
            for i in uncertain:
                flipped = t ^ {i}
                if flipped not in found:
                    found[flipped] = None
                    att.regions.append(Region(flipped, None, hypothetical=True))
    return att


@dataclass(frozen=True)
class DerivedClass:
    """Requests that take the same first entry in every config (``entries``: the index of
    that entry in each config's route table, None = no entry matched or no VirtualService)."""

    name: str
    description: str
    host: str
    port: int | None
    witness: Request | None
    entries: tuple[int | None, ...]
    scope: int = field(compare=False, default=0)


@dataclass
class Scope:
    """One host and port as a client in ``namespace`` sees it, and its tables per config."""

    host: str
    fqdn: str
    port: int | None
    namespace: str
    tables: tuple[RouteTable, ...]
    attributes: list[Attribute] = field(default_factory=list)
    #: the name a witness calls (the VS host as written when it is a short name)
    call: str = ""
    #: the port a witness names (None: the service's first port, the default)
    call_port: int | None = None
    #: the gateway the requests enter through (``ns/name``), None for a sidecar
    gateway: str | None = None

    def request(self, values: dict[str, str | None]) -> Request:
        path = values.get("uri") or "/"
        query = [(k[6:], v) for k, v in values.items() if k.startswith("query:") and v is not None]
        if query:
            path += "?" + "&".join(f"{k}={v}" for k, v in query)
        headers = {k[7:]: v for k, v in values.items() if k.startswith("header:") and v is not None}
        return Request(
            self.call or self.fqdn,
            path,
            values.get("method") or "GET",
            headers,
            authority=values.get("authority"),
            scheme=values.get("scheme") or "http",
            port=self.call_port,
            namespace=self.namespace,
            gateway=self.gateway,
        )


@dataclass(frozen=True)
class ClassSet:
    """The derived classes of one or two plans; ``undecided`` lists the regions whose
    emptiness could not be decided and that would route unlike every class found."""

    plans: tuple[RoutePlan, ...]
    classes: tuple[DerivedClass, ...]
    undecided: tuple[DerivedClass, ...]
    scopes: tuple[Scope, ...]

    @property
    def exact(self) -> bool:
        return not self.undecided

    def classify(self, request: Request) -> DerivedClass | None:
        """The class of a request (None: a host, port or client no class covers, or an
        undecided region). Found from the request's own first matching entries."""
        ctxs = [_context(p, request) for p in self.plans]
        tables = tuple(
            p.table(request.host, request.port, c) for p, c in zip(self.plans, ctxs, strict=True)
        )
        sigs = tuple(_signature(t) for t in tables)
        for si, sc in enumerate(self.scopes):
            # a gateway pod applies every Gateway that selects it: a request through any of
            # them meets the same route table, so the gateway's name is not compared
            at_gateway = ctxs[0].gateway is not None
            if (sc.gateway is not None) != at_gateway:
                continue
            if tuple(_signature(t) for t in sc.tables) != sigs:
                continue
            pair = tuple(_first(t, request) for t in tables)
            for c in self.classes:
                if c.scope == si and c.entries == pair:
                    return c
            return None
        return None


def _context(plan: RoutePlan, r: Request) -> ProxyContext:
    return plan.context(r.namespace, r.source_labels, r.source_workload, r.gateway)


def _signature(t: RouteTable) -> tuple[Any, ...]:
    """What decides how a request routes once its first matching entry is known: the entries
    in order and the clusters each resolves to (a DestinationRule seen from another namespace
    resolves them differently); the service of a default route. Not the host a request
    names: a passthrough goes to whatever host was named, as a redirect or direct response
    answers whatever host was named, so the names one virtual host covers share its classes."""
    ents = tuple(
        (
            e.virtual_service.key,
            e.entry.rule,
            e.entry.match,
            tuple((x.cluster, x.status, x.destination_rule) for x in e.targets),
        )
        for e in t.entries
    )
    host = t.service.fqdn if t.service else None
    return (host, t.port, ents, t.passthrough)


def _first(t: RouteTable, r: Request) -> int | None:
    for k, e in enumerate(t.entries):
        if all(m.test(r.attribute(m.key)) for m in e.entry.matchers):
            return k
    return None


def concrete(host: str) -> str:
    """A name a client can send for a (possibly wildcard) host: ``*.example.org`` →
    ``any.example.org``, ``*`` → ``any``."""
    return "any" + host[1:] if host.startswith("*") else host


def _scopes(plans: Sequence[RoutePlan]) -> list[Scope]:
    """One scope per distinct set of route tables a VirtualService's host is seen through:
    as a sidecar in the VirtualService's namespace sees each service (Kubernetes Service or
    ServiceEntry, wildcard hosts included) and port the host names, and as each gateway the
    VirtualService binds serves it (one per virtual host and listener port of its servers).
    Tables are computed from the very request a witness sends, so a witness routes as its
    scope says; scopes whose tables are equal are one."""
    seen: dict[tuple[Any, ...], Scope] = {}

    def add(
        label: str,
        fqdn: str,
        port: int | None,
        ns: str,
        call: str,
        call_port: int | None,
        gateway: str | None,
        skip_passthrough: bool = False,
    ) -> None:
        ctx = ProxyContext(ns, (), gateway)
        tables = tuple(p.table(call, call_port, ctx) for p in plans)
        if skip_passthrough and all(t.passthrough or not t.entries for t in tables):
            return
        key = (gateway, tuple(_signature(t) for t in tables))
        if key not in seen:
            seen[key] = Scope(label, fqdn, port, ns, tables, [], call, call_port, gateway)

    for plan in plans:
        for vs in plan.virtual_services:
            for g in sorted(x for x in vs.gateways if x != "mesh"):
                _gateway_scopes(plans, vs, g, add)
            if vs.gateways and "mesh" not in vs.gateways:
                continue
            for h in vs.hosts:
                for svc, call, label in _mesh_names(plans, h, vs.namespace):
                    if svc is None:
                        add(label, call, None, vs.namespace, call, None, None, h.startswith("*"))
                        continue
                    for port in svc.ports:
                        cp = None if port == svc.ports[0] else port
                        add(label, svc.fqdn, port, vs.namespace, call, cp, None)
    return list(seen.values())


def _mesh_names(
    plans: Sequence[RoutePlan], h: str, ns: str
) -> list[tuple[ServiceInfo | None, str, str]]:
    """(service, the name a sidecar in ``ns`` calls, label) for a VirtualService host: the
    service it names, or for a wildcard every service under it (a wildcard ServiceEntry host
    called by a name under it) and a name under it that no service has (the VirtualService's
    own virtual host, when it gets one)."""
    if not h.startswith("*"):
        svc = next((s for p in plans if (s := find_service(p, h, ns))), None)
        if svc is None or svc.fqdn.startswith("*"):
            return [(svc, h, h)]
        local = svc.namespace == ns and svc.kind != "ServiceEntry"
        label = h.split(".")[0] if svc.kind != "ServiceEntry" else h
        return [(svc, svc.name if local else svc.fqdn, label)]
    out: list[tuple[ServiceInfo | None, str, str]] = []
    named: set[str] = set()
    for p in plans:
        for s in p.services.values():
            if s.fqdn in named or not s.ports or s.alias_of is not None:
                continue
            if not host_matches(h, s.fqdn) or not visible(s.export_to, s.namespace, ns):
                continue
            named.add(s.fqdn)
            if s.fqdn.startswith("*"):
                out.append((s, concrete(s.fqdn), concrete(s.fqdn)))
            else:
                local = s.namespace == ns and s.kind != "ServiceEntry"
                out.append((s, s.name if local else s.fqdn, s.name if local else s.fqdn))
    out.append((None, concrete(h), concrete(h)))
    return out


def _gateway_scopes(
    plans: Sequence[RoutePlan], vs: CompiledVirtualService, g: str, add: Any
) -> None:
    """The virtual hosts through which gateway ``g`` serves ``vs`` (``gateway_virtual_hosts``):
    requests to a name each covers, on its listener port. A VirtualService no loaded Gateway
    serves gets one scope per host (its requests get 404 NR there)."""
    vhosts = dict.fromkeys(
        (domain, port) for p in plans for domain, port, _ in gateway_virtual_hosts(p, g, vs)
    )
    if not vhosts:
        for h in vs.hosts:
            call = concrete(h)
            add(f"{h} via {g}", call, None, vs.namespace, call, None, g)
        return
    ports: dict[str, list[int]] = {}
    for domain, port in vhosts:
        ports.setdefault(domain, []).append(port)
    for domain, port in vhosts:
        call = concrete(domain)
        ctx = ProxyContext(vs.namespace, (), g)
        default = {p.table(call, None, ctx).port for p in plans} == {port}
        shown = f"{domain}:{port}" if len(ports[domain]) > 1 else domain
        add(f"{shown} via {g}", call, port, vs.namespace, call, None if default else port, g)


@dataclass
class _Cell:
    count: int
    sets: list[set[int]]
    paths: list[tuple[int, ...]]


def derive_classes(*plans: RoutePlan) -> ClassSet:
    """The request classes of one or two (or more) plans: one per non-empty combination of
    first matching entries, per host and port a VirtualService names."""
    scopes = _scopes(plans)
    classes: list[DerivedClass] = []
    undecided: list[DerivedClass] = []
    multi_port: dict[tuple[str, str | None], int] = {}
    for sc in scopes:
        multi_port[sc.fqdn, sc.gateway] = multi_port.get((sc.fqdn, sc.gateway), 0) + 1
    for si, sc in enumerate(scopes):
        shown = sc.gateway is None and multi_port[sc.fqdn, None] > 1
        found, hypo = _scope_classes(sc, si, shown)
        classes.extend(found)
        undecided.extend(hypo)
    return ClassSet(tuple(plans), tuple(classes), tuple(undecided), tuple(scopes))


Cells = dict[tuple[int, bool], _Cell]


def partition(
    entry_lists: Sequence[Sequence[tuple[Matcher, ...]]],
) -> tuple[list[Attribute], Cells, list[tuple[int, int]]]:
    """Cut the requests by the conditions of several entry lists (each list: the entries of
    one route table in order, each entry its conditions).

    Returns the attributes, the cells (bitmask of the entries whose conditions all hold, over
    the lists concatenated; True when a hypothetical region took part) and each list's
    (offset, length) in the bitmask. Each cell keeps how many region combinations it holds,
    per attribute the regions seen, and a few combinations (the first gives the witness).
    """
    entries = [m for lst in entry_lists for m in lst]
    offsets = []
    off = 0
    for lst in entry_lists:
        offsets.append((off, len(lst)))
        off += len(lst)
    conds: dict[str, dict[tuple[Any, ...], Matcher]] = {}
    ids_of: dict[str, dict[tuple[Any, ...], int]] = {}
    uses: dict[str, list[tuple[int, frozenset[int]]]] = {}
    for g, matchers in enumerate(entries):
        mine: dict[str, set[int]] = {}
        for m in matchers:
            k = canonical_key(m.key)
            ident = (m.kind, m.value, m.ignore_case, m.invert)
            conds.setdefault(k, {}).setdefault(ident, m)
            table = ids_of.setdefault(k, {})
            i = table.setdefault(ident, len(table))
            mine.setdefault(k, set()).add(i)
        for k, own in mine.items():
            uses.setdefault(k, []).append((g, frozenset(own)))
    keys = sorted(conds)
    attributes = [attribute(k, list(conds[k].values())) for k in keys]
    cells: Cells = {((1 << len(entries)) - 1, False): _Cell(1, [], [()])}
    for att in attributes:
        k = att.key
        on_k = 0
        by_cond: dict[int, list[tuple[int, frozenset[int]]]] = {}
        for g, fids in uses[k]:
            on_k |= 1 << g
            for i in fids:
                by_cond.setdefault(i, []).append((g, fids))
        surv = []
        for reg in att.regions:
            s = 0
            for i in reg.truth:
                for g, fids in by_cond.get(i, ()):
                    if fids <= reg.truth:
                        s |= 1 << g
            surv.append(s)
        nxt: Cells = {}
        for (alive, hyp), cell in cells.items():
            for r, reg in enumerate(att.regions):
                a2 = (alive & ~on_k) | (alive & surv[r])
                key = (a2, hyp or reg.hypothetical)
                got = nxt.get(key)
                sets = [*cell.sets, {r}]
                paths = [(*p, r) for p in cell.paths]
                if got is None:
                    nxt[key] = _Cell(cell.count, sets, paths)
                else:
                    _merge(got, _Cell(cell.count, sets, paths))
        cells = nxt
    return attributes, cells, offsets


def _scope_classes(
    sc: Scope, si: int, show_port: bool
) -> tuple[list[DerivedClass], list[DerivedClass]]:
    sc.attributes, cells, offsets = partition(
        [[e.entry.matchers for e in t.entries] for t in sc.tables]
    )
    by_pair: dict[tuple[tuple[int | None, ...], bool], _Cell] = {}
    for (alive, hyp), cell in cells.items():
        pair = tuple(lowest(alive >> o, n) for o, n in offsets)
        got = by_pair.get((pair, hyp))
        if got is None:
            by_pair[(pair, hyp)] = _Cell(cell.count, [set(s) for s in cell.sets], cell.paths)
        else:
            _merge(got, cell)
    label = f"{sc.host}:{sc.port}" if show_port else sc.host
    found: list[DerivedClass] = []
    hypo: list[DerivedClass] = []
    decided = {pair for pair, hyp in by_pair if not hyp}
    # classes partition the scope: one that is no product of regions is "everyone else"
    # when it is the only such class (the complement of all the others)
    odd = [
        k
        for k, cell in by_pair.items()
        if not k[1] and cell.count != prod(len(x) for x in cell.sets)
    ]
    for (pair, hyp), cell in sorted(by_pair.items(), key=lambda kv: _order(kv[0])):
        if hyp and pair in decided:
            continue  # whatever lives there routes as a class already found
        if len(odd) == 1 and odd[0] == (pair, hyp):
            desc = "everyone else"
        else:
            desc = _describe(sc.attributes, cell)
        witness = None
        if not hyp:
            p = cell.paths[0]
            witness = sc.request(
                {a.key: a.regions[r].witness for a, r in zip(sc.attributes, p, strict=True)}
            )
        c = DerivedClass(f"{label}: {desc}", desc, sc.host, sc.port, witness, pair, si)
        (hypo if hyp else found).append(c)
    return found, hypo


def _order(key: tuple[tuple[int | None, ...], bool]) -> tuple[Any, ...]:
    pair, hyp = key
    return (hyp, tuple((x is None, x or 0) for x in pair))


def lowest(mask: int, n: int) -> int | None:
    mask &= (1 << n) - 1
    return (mask & -mask).bit_length() - 1 if mask else None


def _merge(into: _Cell, other: _Cell) -> None:
    into.count += other.count
    for s, o in zip(into.sets, other.sets, strict=True):
        s |= o
    room = MAX_PATHS + 1 - len(into.paths)
    if room > 0:
        into.paths.extend(other.paths[:room])


def _describe(atts: list[Attribute], cell: _Cell) -> str:
    if cell.count == prod(len(s) for s in cell.sets):
        parts = [t for a, s in zip(atts, cell.sets, strict=True) if (t := a.describe_set(s))]
        return ", ".join(parts) if parts else "all requests"
    alts = []
    for p in cell.paths[:MAX_PATHS]:
        parts = [
            a.describe(r)
            for a, r in zip(atts, p, strict=True)
            if len(a.regions) > 1 and a.describe(r)
        ]
        alts.append(", ".join(parts) or "all requests")
    more = cell.count - len(alts)
    return " or ".join(f"({x})" for x in alts) + (f" or … ({more} more)" if more > 0 else "")


__all__ = [
    "ALWAYS_PRESENT",
    "Attribute",
    "ClassSet",
    "DerivedClass",
    "Region",
    "derive_classes",
    "lowest",
    "partition",
]
