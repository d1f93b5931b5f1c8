"""``istiosim.testing.assert_routes``: golden tests of every failure message.

The trace inside a message is the engine's (``Decision.explain()``), so the goldens below
splice it in and fix every other line exactly.
"""

from __future__ import annotations

import pytest

import istiosim
from istiosim.testing import RouteAssertionError, assert_routes

pytest_plugins = ["pytester"]

CONFIG = """\
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
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - name: jason
    match:
    - headers: {end-user: {exact: jason}}
    fault:
      delay: {fixedDelay: 1s, percentage: {value: 100}}
    headers:
      request: {set: {x-user: jason}}
      response: {add: {x-canary: "no"}}
    route:
    - destination: {host: reviews, subset: v2}
  - name: canary
    route:
    - destination: {host: reviews, subset: v1}
      weight: 75
    - destination: {host: reviews, subset: v2}
      weight: 25
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1}
spec:
  template: {metadata: {labels: {app: reviews, version: v1}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v2}
spec:
  template: {metadata: {labels: {app: reviews, version: v2}}}
"""
JASON = istiosim.Request("reviews", headers={"end-user": "jason"})


@pytest.fixture(scope="module")
def sim() -> istiosim.Simulator:
    return istiosim.load(CONFIG)


def _fail(sim: istiosim.Simulator, request: object, **expected: object) -> RouteAssertionError:
    with pytest.raises(RouteAssertionError) as exc:
        assert_routes(sim, request, **expected)  # type: ignore[arg-type]
    assert isinstance(exc.value, AssertionError)
    return exc.value


def _trace(d: istiosim.Decision) -> list[str]:
    return [f"  {line}" for line in d.explain().splitlines()]


def test_passing_assertion_returns_the_decision(sim: istiosim.Simulator) -> None:
    d = assert_routes(sim, JASON, outcome="OK", subset="v2", rule="jason", delay="1s")
    assert d.workload == "reviews-v2"
    assert assert_routes(sim, {"host": "reviews"}, rule=1, split={"v1": 3, "v2": 1}).rule == 1


def test_message_for_scalar_fields(sim: istiosim.Simulator) -> None:
    err = _fail(sim, JASON, subset="v1", rule=1, status=200, workload="reviews-v1")
    assert err.decision is not None and err.decision.subset == "v2"
    assert str(err).splitlines() == [
        "Request(host='reviews', headers={'end-user': 'jason'}) was not routed as expected",
        "field     expected      actual",
        "--------  ------------  ------------",
        "rule      1             0",
        "subset    'v1'          'v2'",
        "workload  'reviews-v1'  'reviews-v2'",
        "trace:",
        *_trace(err.decision),
        "seed: rng=0 (draws for the pod pick and fault percentages; the weighted pick is checked"
        " for every destination it can choose)",
        "reproduce: sim.route(Request(host='reviews', headers={'end-user': 'jason'}), rng=0,"
        " trace=True).explain()",
    ]


def test_message_for_a_weighted_rule_names_the_pick(sim: istiosim.Simulator) -> None:
    err = _fail(sim, istiosim.Request("reviews"), subset="v1", rule=1)
    assert err.decision is not None
    assert str(err).splitlines() == [
        "Request(host='reviews') was not routed as expected",
        "field   expected  actual  when the weighted pick chooses",
        "------  --------  ------  ------------------------------",
        "subset  'v1'      'v2'    v2 (25%)",
        "trace:",
        *_trace(err.decision),
        "seed: rng=0 (draws for the pod pick and fault percentages; the weighted pick is checked"
        " for every destination it can choose)",
        "reproduce: sim.route(Request(host='reviews', random_value=99), rng=0,"
        " trace=True).explain()",
    ]
    assert "random_value % 100 = 99 → v2" in str(err)


def test_message_with_a_pinned_random_value(sim: istiosim.Simulator) -> None:
    req = istiosim.Request("reviews", random_value=80)
    err = _fail(sim, req, subset="v1", rng=5)
    lines = str(err).splitlines()
    assert lines[:4] == [
        "Request(host='reviews', random_value=80) was not routed as expected",
        "field   expected  actual",
        "------  --------  ------",
        "subset  'v1'      'v2'",
    ]
    assert lines[-2:] == [
        "seed: rng=5 (draws for the pod pick and fault percentages; the weighted pick is pinned"
        " by random_value=80)",
        "reproduce: sim.route(Request(host='reviews', random_value=80), rng=5,"
        " trace=True).explain()",
    ]


def test_message_for_headers_delay_and_split(sim: istiosim.Simulator) -> None:
    err = _fail(
        sim,
        {"host": "reviews", "headers": {"end-user": "jason"}},
        headers={"x-user": "mike", "end-user": None},
        response_headers={"x-canary": "yes", "server": None},
        delay=500,
        split={"v1": 1, "v2": 1},
        path="/other",
        redirect=None,
    )
    assert str(err).split("\ntrace:")[0].splitlines() == [
        "Request(host='reviews', headers={'end-user': 'jason'}) was not routed as expected",
        "field                      expected          actual",
        "-------------------------  ----------------  "
        "---------------------------------------------------------",
        "path                       '/other'          '/'",
        "headers.x-user             'mike'            'jason'",
        "headers.end-user           null              'jason'",
        "response_headers.x-canary  'yes'             'no'",
        "delay                      500 ms            1000 ms",
        "split                      [v1 50%, v2 50%]  [v2 100%] ('v1' is not a destination of"
        " the matched rule)",
    ]


def test_message_for_an_unforwarded_request(sim: istiosim.Simulator) -> None:
    err = _fail(sim, {"host": "nowhere"}, outcome="OK", headers={"a": "b"}, split={"v1": 1})
    assert str(err).split("\ntrace:")[0].splitlines() == [
        "Request(host='nowhere') was not routed as expected",
        "field    expected    actual",
        "-------  ----------  --------------------------------------------------",
        "outcome  'OK'        'PASSTHROUGH'",
        "headers  {'a': 'b'}  not forwarded (outcome PASSTHROUGH 200)",
        "split    [v1 100%]   no weighted destinations (outcome PASSTHROUGH 200)",
    ]


def test_message_for_sampled_without_simulate(
    sim: istiosim.Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    if hasattr(istiosim.Simulator, "simulate"):
        monkeypatch.delattr(istiosim.Simulator, "simulate")
    err = _fail(sim, {"host": "reviews"}, split={"v1": 3, "v2": 1}, sampled={"n": 1000})
    lines = str(err).splitlines()
    assert lines[:2] == [
        "Request(host='reviews') failed the sampled split check",
        "none: this istiosim has no Simulator.simulate; remove 'sampled' to check the split"
        " exactly",
    ]
    assert lines[2] == "trace:"


def test_message_for_a_failed_sampled_check(sim: istiosim.Simulator) -> None:
    from istiosim.testing import SplitAssertionError, assert_split
    from istiosim.testing.cases.compare import _Seeded

    req = istiosim.Request("reviews")
    err = _fail(sim, {"host": "reviews"}, split={"v1": 3, "v2": 1}, sampled={"n": 1000, "seed": 1})
    counts = sim.simulate(req, n=1000, rng=1).subset_counts()
    with pytest.raises(SplitAssertionError) as split_err:
        assert_split(_Seeded(counts, 1), {"v1": 3, "v2": 1}, tolerance=0.01, alpha=1e-6)
    assert err.decision is not None
    assert str(err).splitlines() == [
        "Request(host='reviews') failed the sampled split check",
        *str(split_err.value).splitlines(),
        "trace:",
        *_trace(err.decision),
    ]  # the route's own seed (rng=0) is not shown: the split's is the one that reproduces it
    assert "seed = 1; reproduce: run the simulation again with rng=1" in str(err)
    assert str(err).count("seed") == 1
    assert "alpha = 1e-06 per assertion" in str(err)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "assert_routes needs at least one expected field, e.g. subset='v1'"),
        ({"subsett": "v1"}, "assert_routes: subsett: Extra inputs are not permitted"),
        (
            {"rule": -1},
            "assert_routes: rule: Value error, rule is an index (0 for the first http"
            " route) or a route name",
        ),
        ({"split": {"v1": 0}}, "assert_routes: split: Value error, all split weights are zero"),
        ({"subset": "v1", "rng": -1}, "rng must be a non-negative integer seed, got -1"),
        ({"subset": "v1", "rng": True}, "rng must be a non-negative integer seed, got True"),
    ],
)
def test_misuse_raises_invalid_argument(
    sim: istiosim.Simulator, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(istiosim.InvalidArgument) as exc:
        assert_routes(sim, JASON, **kwargs)  # type: ignore[arg-type]
    assert str(exc.value) == message


def test_bad_request_mapping(sim: istiosim.Simulator) -> None:
    with pytest.raises(istiosim.InvalidArgument) as exc:
        assert_routes(sim, {"hots": "reviews"}, subset="v1")
    assert str(exc.value) == (
        "assert_routes: host: Field required; hots: Extra inputs are not permitted"
    )


def test_own_frames_are_hidden_from_pytest_tracebacks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it=f'''
import istiosim
from istiosim.testing import assert_routes

CONFIG = """{CONFIG}"""

def test_routes():
    sim = istiosim.load(CONFIG)
    assert_routes(sim, istiosim.Request("reviews", random_value=0), subset="v2")
'''
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "RouteAssertionError: Request(host='reviews', random_value=0) was not routed" in out
    assert "subset  'v2'      'v1'" in out
    assert "istiosim/testing/routes.py" not in out
    assert "istiosim/testing/cases/" not in out
