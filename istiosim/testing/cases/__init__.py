"""Route cases: Envoy's route table check tool format, adapted to Istio.

A case file holds one or more YAML documents, each a top-level ``tests:`` list (or, read as
they are, Envoy router_check_tool tests and istio-config-validator ``testCases``:
:mod:`.formats`); each case has a ``test_name``, an ``input`` (the
request: host, path, method, headers, authority, scheme, port, query, random_value and the
``source``: namespace, workload labels, workload, gateway; ``host``, ``authority``, ``method``
and ``path`` may be lists, run as every combination) and a ``validate`` block. Only the
fields ``validate`` states are compared; ``null`` is a value to compare ("no subset", "no rule");
a ``not:`` block lists fields that must each differ; header checks may be matchers.

Randomness, so that a case is a fact and not a coin flip:

* ``random_value`` pins the weighted pick (``random_value % total weight`` located in the
  cumulative weights, as Envoy does). Without it, when the matched rule splits traffic, the case
  is checked against *every* destination the pick can choose: a case says what holds for every
  request like its input. A failure names the destination it failed for.
* ``split`` checks the rule's weights exactly, from the candidates' probabilities (Fractions).
  ``sampled`` adds a statistical check of simulated traffic (``assert_split``: equivalence
  within ``tolerance`` at ``alpha``) and needs ``Simulator.simulate``.
* The other draws (which pod, fault percentages) come from a fixed seed (``seed``, default 0).

The package: :mod:`.models` (the case file), :mod:`.formats` (other tools' case files),
:mod:`.compare` (a decision against ``validate``), :mod:`.run` (running cases,
:class:`CaseReport`), :mod:`.coverage` (route coverage) and :mod:`.ci` (JUnit XML and GitHub
annotations).
"""

from __future__ import annotations

from .ci import github_annotations, junit_xml, write_junit
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
    CASE_FORMATS,
    CaseFile,
    CaseInput,
    CaseInputs,
    CaseSource,
    CaseValidate,
    HeaderMatch,
    RouteCase,
    SampledCheck,
    detect_format,
    load_cases,
)
from .run import CaseReport, CaseResult, run_case, run_cases

__all__ = [
    "CASE_FORMATS",
    "CaseFile",
    "CaseInput",
    "CaseInputs",
    "CaseReport",
    "CaseResult",
    "CaseSource",
    "CaseValidate",
    "CoverageItem",
    "CoverageReport",
    "HeaderMatch",
    "Mismatch",
    "RouteCase",
    "RouteCheck",
    "RouteHit",
    "SampledCheck",
    "actual_split",
    "check_route",
    "destination_key",
    "detect_format",
    "github_annotations",
    "junit_xml",
    "load_cases",
    "resolve_keys",
    "route_coverage",
    "run_case",
    "run_cases",
    "write_junit",
]
