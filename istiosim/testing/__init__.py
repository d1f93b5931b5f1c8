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

from typing import TYPE_CHECKING

from .._lazy import lazy

__all__ = [
    "CaseInput",
    "CaseReport",
    "CaseResult",
    "CaseSource",
    "CaseValidate",
    "CoverageItem",
    "CoverageReport",
    "Mismatch",
    "RouteAssertionError",
    "RouteCase",
    "RouteHit",
    "SampledCheck",
    "SplitAssertionError",
    "assert_exact_split",
    "assert_routes",
    "assert_split",
    "load_cases",
    "route_coverage",
    "run_cases",
]

_NAMES = {
    "CaseInput": "istiosim.testing.cases.models",
    "CaseReport": "istiosim.testing.cases.run",
    "CaseResult": "istiosim.testing.cases.run",
    "CaseSource": "istiosim.testing.cases.models",
    "CaseValidate": "istiosim.testing.cases.models",
    "CoverageItem": "istiosim.testing.cases.coverage",
    "CoverageReport": "istiosim.testing.cases.coverage",
    "Mismatch": "istiosim.testing.cases.compare",
    "RouteAssertionError": "istiosim.testing.routes",
    "RouteCase": "istiosim.testing.cases.models",
    "RouteHit": "istiosim.testing.cases.coverage",
    "SampledCheck": "istiosim.testing.cases.models",
    "SplitAssertionError": "istiosim.testing.split",
    "assert_exact_split": "istiosim.testing.split",
    "assert_routes": "istiosim.testing.routes",
    "assert_split": "istiosim.testing.split",
    "load_cases": "istiosim.testing.cases.models",
    "route_coverage": "istiosim.testing.cases.coverage",
    "run_cases": "istiosim.testing.cases.run",
}


__getattr__, __dir__ = lazy(__name__, _NAMES)


if TYPE_CHECKING:
    from .cases.compare import Mismatch as Mismatch
    from .cases.coverage import CoverageItem as CoverageItem
    from .cases.coverage import CoverageReport as CoverageReport
    from .cases.coverage import RouteHit as RouteHit
    from .cases.coverage import route_coverage as route_coverage
    from .cases.models import CaseInput as CaseInput
    from .cases.models import CaseSource as CaseSource
    from .cases.models import CaseValidate as CaseValidate
    from .cases.models import RouteCase as RouteCase
    from .cases.models import SampledCheck as SampledCheck
    from .cases.models import load_cases as load_cases
    from .cases.run import CaseReport as CaseReport
    from .cases.run import CaseResult as CaseResult
    from .cases.run import run_cases as run_cases
    from .routes import RouteAssertionError as RouteAssertionError
    from .routes import assert_routes as assert_routes
    from .split import SplitAssertionError as SplitAssertionError
    from .split import assert_exact_split as assert_exact_split
    from .split import assert_split as assert_split
