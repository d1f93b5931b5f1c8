"""Route coverage: which rules, match blocks and weighted destinations some case reached.

The model follows Envoy's route table check tool (each route, and each weighted cluster, counts
as one item) adapted to Istio's words. Three kinds of item per loaded VirtualService:

* ``rule``: an http route (``spec.http[i]``), covered when a case matched any of its blocks;
* ``match``: one match block of a rule (one Envoy route; a rule without ``match`` is one
  catch-all block), covered when a case's request matched that block;
* ``destination``: a destination with weight > 0 of a rule that splits traffic over two or
  more, covered only when a case pinned the pick to it with ``random_value`` or checked the
  rule's ``split``. Routing through a weighted rule without either does not say which
  destination a request reached, so it does not count.

Overall coverage is covered items over all items, of the three kinds together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ...errors import InvalidArgument, Location
from ...plan import Forward, RouteEntry, RoutePlan

ItemKind = Literal["rule", "match", "destination"]
KINDS: tuple[ItemKind, ...] = ("rule", "match", "destination")
_KIND_NAMES = {"rule": "rules", "match": "match blocks", "destination": "weighted destinations"}


@dataclass(frozen=True)
class RouteHit:
    """What one case reached: a match block, and the weighted destinations it settled."""

    virtual_service: str
    rule: int
    match: int | None
    destinations: tuple[int, ...] = ()
    case: str = ""


@dataclass(frozen=True)
class CoverageItem:
    """One thing a case can reach, where it is written, and the cases that reached it."""

    kind: ItemKind
    virtual_service: str
    rule: int
    label: str
    match: int | None = None
    destination: int | None = None
    location: Location | None = None
    covered_by: tuple[str, ...] = ()

    @property
    def covered(self) -> bool:
        return bool(self.covered_by)

    def to_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "kind": self.kind,
            "virtual_service": self.virtual_service,
            "rule": self.rule,
            "match": self.match,
            "destination": self.destination,
            "label": self.label,
            "file": loc.file if loc else None,
            "line": loc.line if loc and loc.line > 0 else None,
            "covered": self.covered,
            "cases": list(self.covered_by),
        }

    def __str__(self) -> str:
        where = f"  [{self.location}]" if self.location else ""
        return f"{self.label}{where}"


def _pct(covered: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * covered / total


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of the loaded VirtualServices by a set of route cases."""

    items: tuple[CoverageItem, ...] = field(default_factory=tuple)

    def count(self, kind: ItemKind | None = None) -> tuple[int, int]:
        """(covered, total) for one kind of item, or for all of them."""
        sel = [i for i in self.items if kind is None or i.kind == kind]
        return sum(i.covered for i in sel), len(sel)

    @property
    def percent(self) -> float:
        """Overall coverage in percent (100 when there is nothing to cover: see ``empty``)."""
        return _pct(*self.count())

    @property
    def empty(self) -> bool:
        """No VirtualService http rule was loaded: there is nothing to cover, and no figure."""
        return not self.items

    @property
    def uncovered(self) -> tuple[CoverageItem, ...]:
        return tuple(i for i in self.items if not i.covered)

    def fail_under(self, percent: float) -> bool:
        """True when coverage is below ``percent`` (0-100), as ``--fail-under`` asks."""
        if isinstance(percent, bool) or not 0 <= percent <= 100:
            raise InvalidArgument(f"fail-under must be a percentage in 0..100, got {percent!r}")
        # compare in exact integers so that 2/3 is not "below 66.67" by rounding
        covered, total = self.count()
        if total == 0:  # nothing loaded to cover: a coverage gate cannot be met
            return percent > 0
        return covered * 100 < percent * total

    def summary(self) -> str:
        if self.empty:
            return "route coverage: n/a (no VirtualService http rule was loaded: nothing to cover)"
        parts = []
        for kind in KINDS:
            c, t = self.count(kind)
            parts.append(f"{_KIND_NAMES[kind]} {c}/{t}")
        return f"route coverage: {self.percent:.1f}% ({', '.join(parts)})"

    def details(self) -> str:
        """The summary and every item no case reached, with file:line."""
        lines = [self.summary()]
        missing = self.uncovered
        if self.empty:
            lines.append("  check the -f paths: cases ran, but against no VirtualService rule")
        elif not missing:
            lines.append("  every rule, match block and weighted destination was reached")
        for kind in KINDS:
            sel = [i for i in missing if i.kind == kind]
            if sel:
                lines.append(f"  not reached ({_KIND_NAMES[kind]}):")
                lines.extend(f"    {i}" for i in sel)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"percent": None if self.empty else self.percent}
        for kind in KINDS:
            c, t = self.count(kind)
            out[_KIND_NAMES[kind].replace(" ", "_")] = {
                "covered": c,
                "total": t,
                "percent": _pct(c, t),
            }
        out["items"] = [i.to_dict() for i in self.items]
        out["uncovered"] = [i.to_dict() for i in self.uncovered]
        return out


def _entry_label(vs: str, e: RouteEntry) -> str:
    name = f" ({e.rule_name})" if e.rule_name else ""
    block = "catch-all (no match)" if e.match is None else f"match {e.match}"
    if e.match_name:
        block += f" ({e.match_name})"
    return f"{vs} rule {e.rule}{name} {block}"


def _weighted(e: RouteEntry) -> list[int]:
    """Indexes of the destinations a weighted pick can choose (empty unless 2 or more)."""
    act = e.action
    if not isinstance(act, Forward):
        return []
    idx = [i for i, w in enumerate(act.weights.weights) if w > 0]
    return idx if len(idx) >= 2 else []


def route_coverage(plan: RoutePlan, hits: Iterable[RouteHit]) -> CoverageReport:
    """Coverage of ``plan``'s VirtualServices by ``hits`` (one per routed case)."""
    by_rule: dict[tuple[str, int], list[str]] = {}
    by_match: dict[tuple[str, int, int | None], list[str]] = {}
    by_dest: dict[tuple[str, int, int], list[str]] = {}
    for h in hits:
        by_rule.setdefault((h.virtual_service, h.rule), []).append(h.case)
        by_match.setdefault((h.virtual_service, h.rule, h.match), []).append(h.case)
        for d in h.destinations:
            by_dest.setdefault((h.virtual_service, h.rule, d), []).append(h.case)

    def cases(names: list[str] | None) -> tuple[str, ...]:
        return tuple(dict.fromkeys(names or ()))

    items: list[CoverageItem] = []
    for vs in plan.virtual_services:
        key = vs.key
        seen_rules: set[int] = set()
        for e in vs.entries:
            if e.rule not in seen_rules:
                seen_rules.add(e.rule)
                name = f" ({e.rule_name})" if e.rule_name else ""
                items.append(
                    CoverageItem(
                        "rule",
                        key,
                        e.rule,
                        f"{key} rule {e.rule}{name}",
                        location=e.location,
                        covered_by=cases(by_rule.get((key, e.rule))),
                    )
                )
                act = e.action
                if isinstance(act, Forward):
                    for i in _weighted(e):
                        spec = act.destinations[i]
                        what = spec.host.split(".")[0] + (f" {spec.subset}" if spec.subset else "")
                        items.append(
                            CoverageItem(
                                "destination",
                                key,
                                e.rule,
                                f"{key} rule {e.rule}{name} destination {i}: {what}"
                                f" (weight {act.weights.weights[i]}/{act.weights.total})",
                                destination=i,
                                location=spec.location or e.location,
                                covered_by=cases(by_dest.get((key, e.rule, i))),
                            )
                        )
            items.append(
                CoverageItem(
                    "match",
                    key,
                    e.rule,
                    _entry_label(key, e),
                    match=e.match,
                    location=e.location,
                    covered_by=cases(by_match.get((key, e.rule, e.match))),
                )
            )
    order = {k: n for n, k in enumerate(KINDS)}
    items.sort(key=lambda i: order[i.kind])  # stable: config order within a kind
    return CoverageReport(tuple(items))


__all__ = ["CoverageItem", "CoverageReport", "RouteHit", "route_coverage"]
