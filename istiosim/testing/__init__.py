"""Assertions and route cases for test suites.

* :func:`assert_routes` checks where one request goes (the ``validate`` fields of a case file,
  as keyword arguments); :func:`assert_split` and :func:`assert_exact_split` check a split.
  Failures are ``AssertionError`` subclasses with a table of expected vs actual, the trace, the
  seed and how to reproduce; their own frames are hidden from pytest tracebacks.
* :func:`load_cases` / :func:`run_cases` run case files in the format of Envoy's route table
  check tool (see :mod:`istiosim.testing.cases`) and measure route coverage
  (:class:`CoverageReport`).

Import-light: names are loaded on first use (the pytest plugin imports this in fixtures).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..request import Request
    from ..results import Decision
    from ..simulator import Simulator
    from ._split import SplitAssertionError as SplitAssertionError
    from ._split import assert_exact_split as assert_exact_split
    from ._split import assert_split as assert_split
    from .cases.compare import RouteCheck
    from .cases.coverage import CoverageItem as CoverageItem
    from .cases.coverage import CoverageReport as CoverageReport
    from .cases.coverage import RouteHit as RouteHit
    from .cases.coverage import route_coverage as route_coverage
    from .cases.models import RouteCase as RouteCase
    from .cases.models import load_cases as load_cases
    from .cases.run import CaseReport as CaseReport
    from .cases.run import CaseResult as CaseResult
    from .cases.run import run_cases as run_cases

_NAMES = {
    "SplitAssertionError": "istiosim.testing._split",
    "assert_exact_split": "istiosim.testing._split",
    "assert_split": "istiosim.testing._split",
    "CaseReport": "istiosim.testing.cases.run",
    "CaseResult": "istiosim.testing.cases.run",
    "CoverageItem": "istiosim.testing.cases.coverage",
    "CoverageReport": "istiosim.testing.cases.coverage",
    "RouteCase": "istiosim.testing.cases.models",
    "RouteHit": "istiosim.testing.cases.coverage",
    "load_cases": "istiosim.testing.cases.models",
    "route_coverage": "istiosim.testing.cases.coverage",
    "run_cases": "istiosim.testing.cases.run",
}

__all__ = sorted([*_NAMES, "RouteAssertionError", "assert_routes"], key=str.lower)


class RouteAssertionError(AssertionError):
    """A request was not routed as expected; ``decision`` is what happened."""

    def __init__(self, message: str, decision: Decision | None = None) -> None:
        super().__init__(message)
        self.decision = decision


def assert_routes(
    sim: Simulator,
    request: Request | Mapping[str, Any],
    *,
    rng: int = 0,
    **expected: Any,
) -> Decision:
    """Assert where ``request`` goes; return the decision.

    ``expected`` takes the ``validate`` fields of a case file: ``outcome``, ``status``,
    ``virtual_service``, ``rule`` (index or route name), ``match``, ``host``, ``subset``,
    ``cluster``, ``workload``, ``path``, ``authority``, ``redirect``, ``body``, ``timeout``,
    ``headers``, ``response_headers``, ``delay``, ``split`` and ``sampled``. Only those given
    are compared (``None`` is a value: ``subset=None`` asserts no subset). ``request`` is a
    :class:`~istiosim.Request` or a case ``input`` mapping. Unless the request pins
    ``random_value``, a rule that splits traffic must satisfy the fields for every destination
    its weighted pick can choose. Other draws (pod, fault percentages) come from ``rng``.
    """
    __tracebackhide__ = True
    from pydantic import ValidationError

    from ..errors import InvalidArgument
    from ..request import Request
    from .cases.compare import check_route
    from .cases.models import CaseInput, CaseValidate

    if isinstance(rng, bool) or not isinstance(rng, int) or rng < 0:
        raise InvalidArgument(f"rng must be a non-negative integer seed, got {rng!r}")
    if not expected:
        raise InvalidArgument("assert_routes needs at least one expected field, e.g. subset='v1'")
    try:
        want = CaseValidate.model_validate(expected)
        req = (
            request
            if isinstance(request, Request)
            else CaseInput.model_validate(dict(request)).to_request()
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidArgument(f"assert_routes: {problems}") from None
    chk = check_route(sim, req, want, seed=rng)
    if chk.mismatches:
        raise RouteAssertionError(_message(req, chk, rng), chk.decision)
    return chk.decision


def _message(req: Request, chk: RouteCheck, rng: int) -> str:
    from ..display import table

    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    for m in chk.mismatches:
        if m.field == "sampled":
            notes.append(m.actual.strip())
            continue
        rows.append((m.field, m.expected, m.actual, m.when or ""))
    headers = ["field", "expected", "actual"]
    if any(r[3] for r in rows):
        headers.append("when the weighted pick chooses")
    else:
        rows = [r[:3] for r in rows]
    what = "was not routed as expected" if rows else "failed the sampled split check"
    lines = [f"{req!r} {what}"]
    if rows:
        lines.append(table(headers, rows))
    lines.extend(notes)
    lines.append("trace:")
    lines.extend(f"  {s}" for s in chk.decision.explain().splitlines())
    lines.append(
        f"seed: rng={rng} (draws for the pod pick and fault percentages; the weighted pick is"
        + (
            f" pinned by random_value={req.random_value})"
            if req.random_value is not None
            else " checked for every destination it can choose)"
        )
    )
    lines.append(f"reproduce: sim.route({chk.request!r}, rng={rng}, trace=True).explain()")
    return "\n".join(lines)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'istiosim.testing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
