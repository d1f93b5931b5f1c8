"""Route cases: Envoy's route table check tool format, adapted to Istio.

A case file is a top-level ``tests:`` list; each case has a ``test_name``, an ``input`` (the
request: host, path, method, headers, authority, scheme, port, query, random_value and the
``source``: namespace, workload labels, workload, gateway) and a ``validate`` block. Only the
fields ``validate`` states are compared; ``null`` is a value to compare ("no subset", "no rule").

Randomness, so that a case is a fact and not a coin flip:

* ``random_value`` pins the weighted pick (``random_value % total weight`` located in the
  cumulative weights, as Envoy does). Without it, when the matched rule splits traffic, the case
  is checked against *every* destination the pick can choose: a case says what holds for every
  request like its input. A failure names the destination it failed for.
* ``split`` checks the rule's weights exactly, from the candidates' probabilities (Fractions).
  ``sampled`` adds a statistical check of simulated traffic (``assert_split``: equivalence
  within ``tolerance`` at ``alpha``) and needs ``Simulator.simulate``.
* The other draws (which pod, fault percentages) come from a fixed seed (``seed``, default 0).

The package: :mod:`.models` (the case file), :mod:`.compare` (a decision against ``validate``),
:mod:`.run` (running cases, :class:`CaseReport`) and :mod:`.coverage` (route coverage).
"""

from __future__ import annotations

from .compare import (
    Mismatch,
    RouteCheck,
    actual_split,
    check_route,
    destination_key,
    resolve_keys,
)
from .coverage import CoverageItem, CoverageReport, RouteHit, route_coverage
from .models import (
    CaseFile,
    CaseInput,
    CaseSource,
    CaseValidate,
    RouteCase,
    SampledCheck,
    load_cases,
)
from .run import CaseReport, CaseResult, run_case, run_cases

__all__ = [
    "CaseFile",
    "CaseInput",
    "CaseReport",
    "CaseResult",
    "CaseSource",
    "CaseValidate",
    "CoverageItem",
    "CoverageReport",
    "Mismatch",
    "RouteCase",
    "RouteCheck",
    "RouteHit",
    "SampledCheck",
    "actual_split",
    "check_route",
    "destination_key",
    "load_cases",
    "resolve_keys",
    "route_coverage",
    "run_case",
    "run_cases",
]
