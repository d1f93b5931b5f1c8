"""Running cases: route each one, compare, and measure the route coverage they reach
(:class:`CaseReport` of :class:`CaseResult`)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..._display import Displayable
from ...errors import InvalidArgument, Location
from ...request import Request
from ...results import Decision
from .compare import Mismatch, check_route
from .coverage import CoverageReport, RouteHit, route_coverage
from .models import RouteCase, load_cases

if TYPE_CHECKING:
    from ...simulator import Simulator

__all__ = ["CaseReport", "CaseResult", "run_case", "run_cases"]


@dataclass(frozen=True)
class CaseResult(Displayable):
    """One case run: passed or the mismatches, with the decision (and its trace)."""

    name: str
    mismatches: tuple[Mismatch, ...]
    decision: Decision
    request: Request
    location: Location | None = None
    hit: RouteHit | None = None
    #: seconds the case took (routing and checks), for JUnit reports
    duration: float = field(default=0.0, compare=False)

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def failure_text(self, indent: str = "  ") -> str:
        """Expected vs actual, then the trace, indented (empty when the case passed)."""
        if self.passed:
            return ""
        lines = [f"{indent}{m}" for m in self.mismatches]
        lines.append(f"{indent}trace:")
        lines.extend(f"{indent}  {line}" for line in self.decision.explain().splitlines())
        return "\n".join(lines)

    def __str__(self) -> str:
        where = f"  [{self.location}]" if self.location else ""
        head = f"{'PASS' if self.passed else 'FAIL'} {self.name}{where}"
        return head if self.passed else f"{head}\n{self.failure_text()}"

    def to_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "test_name": self.name,
            "passed": self.passed,
            "file": loc.file if loc else None,
            "line": loc.line if loc and loc.line > 0 else None,
            "mismatches": [m.to_dict() for m in self.mismatches],
            "request": self.request.to_dict(),
            "decision": self.decision.to_dict(),
        }

    # ---- display (istiosim.display) ----

    def _table(self) -> Any:
        from ...display.objects import case_table

        return case_table(self)


@dataclass(frozen=True)
class CaseReport(Displayable):
    """All cases of a run, and the route coverage they reached."""

    results: tuple[CaseResult, ...]
    coverage: CoverageReport = field(default_factory=CoverageReport)

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def passed(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        n, bad = len(self.results), len(self.failed)
        return f"{n} case(s): {n - bad} passed, {bad} failed"

    def __str__(self) -> str:
        return "\n".join([*(str(r) for r in self.results), self.summary(), str(self.coverage)])

    def to_dict(self) -> dict[str, Any]:
        n, bad = len(self.results), len(self.failed)
        return {
            "passed": self.passed,
            "summary": {"total": n, "passed": n - bad, "failed": bad},
            "cases": [r.to_dict() for r in self.results],
            "coverage": self.coverage.to_dict(),
        }

    # ---- display (istiosim.display) ----

    def _table(self) -> Any:
        from ...display.objects import report_table

        return report_table(self)

    def to_pandas(self) -> Any:
        """One row per case: result and case (categoricals), where, routed, mismatches."""
        return self._table().to_pandas()


def run_case(sim: Simulator, case: RouteCase, *, seed: int = 0) -> CaseResult:
    """Route one case and compare its stated fields (and, for a case of another tool's
    format, its extra checks; each field istiosim cannot honour is a mismatch)."""
    start = time.perf_counter()
    inp = case.prepare(sim, case.input) if case.prepare is not None else case.input
    chk = check_route(sim, inp.to_request(), case.validate, seed=seed)
    d = chk.decision
    hit = None
    if d.virtual_service is not None and d.rule is not None:
        hit = RouteHit(d.virtual_service, d.rule, d.match, chk.settled, case.name)
    mismatches = list(chk.mismatches)
    for extra in case.extra:
        mismatches.extend(Mismatch(f, e, a) for f, e, a in extra(sim, d, chk.request))
    for f in case.unsupported:
        name, _, why = f.partition(":")
        mismatches.append(
            Mismatch(name, "a field istiosim checks", f"not honoured: {why.strip() or 'unknown'}")
        )
    took = time.perf_counter() - start
    return CaseResult(case.name, tuple(mismatches), d, chk.request, case.location, hit, took)


def run_cases(
    sim: Simulator,
    cases: str | os.PathLike[str] | Sequence[RouteCase],
    *,
    seed: int = 0,
) -> CaseReport:
    """Run cases (a case file, its text, or loaded cases) and measure route coverage."""
    if isinstance(cases, str | os.PathLike):
        cases = load_cases(cases)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed must be a non-negative integer, got {seed!r}")
    results = tuple(run_case(sim, c, seed=seed) for c in cases)
    cov = route_coverage(sim.plan, (r.hit for r in results if r.hit is not None))
    return CaseReport(results, cov)
