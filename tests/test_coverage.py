"""Route coverage: rules, match blocks and weighted destinations reached by cases."""

from __future__ import annotations

import pytest

import istiosim
from istiosim.testing import CoverageReport, RouteHit, route_coverage, run_cases

from conftest import KUBE, NET

CONFIG = """
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews}, ports: [{port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - name: testers
    match:
    - headers: {end-user: {exact: jason}}
    - uri: {prefix: /test}
    route:
    - destination: {host: reviews, subset: v3}
  - name: canary
    route:
    - destination: {host: reviews, subset: v1}
      weight: 70
    - destination: {host: reviews, subset: v2}
      weight: 30
    - destination: {host: reviews, subset: v3}
      weight: 0
"""
for _v in ("v1", "v2", "v3"):
    CONFIG += f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: reviews-{_v}}}
spec:
  template: {{metadata: {{labels: {{app: reviews, version: {_v}}}}}}}
"""


@pytest.fixture(scope="module")
def sim() -> istiosim.Simulator:
    return istiosim.load(CONFIG)


def test_items_of_a_config(sim: istiosim.Simulator) -> None:
    report = route_coverage(sim.plan, [])
    assert [(i.kind, i.rule, i.match, i.destination) for i in report.items] == [
        ("rule", 0, None, None),
        ("rule", 1, None, None),
        ("match", 0, 0, None),
        ("match", 0, 1, None),
        ("match", 1, None, None),
        # the weight-0 destination cannot be picked: it is not an item
        ("destination", 1, None, 0),
        ("destination", 1, None, 1),
    ]
    assert report.percent == 0.0
    assert report.summary() == (
        "route coverage: 0.0% (rules 0/2, match blocks 0/3, weighted destinations 0/2)"
    )


def test_details_list_what_no_case_reached_with_file_and_line(sim: istiosim.Simulator) -> None:
    hits = [RouteHit("default/reviews", 0, 1, (), "t"), RouteHit("default/reviews", 1, None, (0,))]
    report = route_coverage(sim.plan, hits)
    assert report.count() == (5, 7)
    assert report.details() == "\n".join(
        [
            "route coverage: 71.4% (rules 2/2, match blocks 2/3, weighted destinations 1/2)",
            "  not reached (match blocks):",
            "    default/reviews rule 0 (testers) match 0  [<string>:25:7]",
            "  not reached (weighted destinations):",
            "    default/reviews rule 1 (canary) destination 1: reviews v2 (weight 30/100)"
            "  [<string>:33:7]",
        ]
    )


def test_routing_a_weighted_rule_does_not_cover_its_destinations(
    sim: istiosim.Simulator,
) -> None:
    text = """
tests:
- {test_name: plain, input: {host: reviews}, validate: {rule: canary}}
"""
    report = run_cases(sim, text)
    assert report.passed
    assert report.coverage.count("rule") == (1, 2)
    assert report.coverage.count("destination") == (0, 2)


def test_random_value_covers_the_destination_it_picks(sim: istiosim.Simulator) -> None:
    text = """
tests:
- {test_name: v2, input: {host: reviews, random_value: 70}, validate: {subset: v2}}
- {test_name: jason, input: {host: reviews, headers: {end-user: jason}}, validate: {subset: v3}}
"""
    report = run_cases(sim, text)
    assert report.passed
    covered = {
        (i.kind, i.rule, i.match, i.destination): i.covered_by for i in report.coverage.items
    }
    assert covered[("destination", 1, None, 1)] == ("v2",)
    assert covered[("destination", 1, None, 0)] == ()
    assert covered[("match", 0, 0, None)] == ("jason",)
    assert covered[("match", 0, 1, None)] == ()


def test_a_split_case_covers_every_weighted_destination(sim: istiosim.Simulator) -> None:
    text = """
tests:
- {test_name: split, input: {host: reviews}, validate: {split: {v1: 7, v2: 3}}}
"""
    report = run_cases(sim, text)
    assert report.passed
    assert report.coverage.count("destination") == (2, 2)


def test_a_failed_case_still_counts_what_it_reached(sim: istiosim.Simulator) -> None:
    text = """
tests:
- {test_name: wrong, input: {host: reviews, path: /test/x}, validate: {subset: v1}}
"""
    report = run_cases(sim, text)
    assert not report.passed
    assert report.coverage.count("match") == (1, 3)


def test_fail_under_compares_exactly(sim: istiosim.Simulator) -> None:
    hits = [RouteHit("default/reviews", 0, 0), RouteHit("default/reviews", 1, None, (0, 1))]
    report = route_coverage(sim.plan, hits)
    assert report.count() == (6, 7)  # 85.714...%
    assert report.fail_under(85.72)
    assert not report.fail_under(85.71)
    assert not report.fail_under(0)
    assert report.fail_under(100)
    for bad in (-1, 100.5, True):
        with pytest.raises(istiosim.InvalidArgument, match=r"percentage in 0\.\.100"):
            report.fail_under(bad)


def test_nothing_to_cover_says_so_instead_of_100_percent() -> None:
    """Issue 13: with no VirtualService rule loaded the figure is n/a, not 100%, and a
    coverage gate above 0 cannot be met."""
    sim = istiosim.load(str(KUBE))
    report = route_coverage(sim.plan, [])
    assert report.empty and report.fail_under(100) and not report.fail_under(0)
    assert report.summary() == (
        "route coverage: n/a (no VirtualService http rule was loaded: nothing to cover)"
    )
    assert report.details().splitlines()[1] == (
        "  check the -f paths: cases ran, but against no VirtualService rule"
    )
    assert report.to_dict()["percent"] is None
    assert CoverageReport().empty


def test_to_dict(sim: istiosim.Simulator) -> None:
    report = route_coverage(sim.plan, [RouteHit("default/reviews", 0, 0, (), "t")])
    d = report.to_dict()
    assert d["percent"] == pytest.approx(200 / 7)
    assert d["rules"] == {"covered": 1, "total": 2, "percent": 50.0}
    assert d["match_blocks"]["covered"] == 1
    assert d["weighted_destinations"] == {"covered": 0, "total": 2, "percent": 0.0}
    first = d["items"][0]
    assert first == {
        "kind": "rule",
        "virtual_service": "default/reviews",
        "rule": 0,
        "match": None,
        "destination": None,
        "label": "default/reviews rule 0 (testers)",
        "file": "<string>",
        "line": 25,
        "covered": True,
        "cases": ["t"],
    }
    assert len(d["uncovered"]) == 5


def test_corpus_gateway_and_sidecar_rules_are_items() -> None:
    sim = istiosim.load(
        str(KUBE),
        str(NET / "destination-rule-all.yaml"),
        str(NET / "virtual-service-reviews-90-10.yaml"),
        str(NET / "bookinfo-gateway.yaml"),
    )
    report = route_coverage(sim.plan, [])
    assert report.count("rule") == (0, 2)
    assert report.count("match") == (0, 6)
    labels = [i.label for i in report.items if i.kind == "destination"]
    assert labels == [
        "default/reviews rule 0 destination 0: reviews v1 (weight 90/100)",
        "default/reviews rule 0 destination 1: reviews v2 (weight 10/100)",
    ]
