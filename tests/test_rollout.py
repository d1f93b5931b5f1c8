"""Rollout plans: the VirtualServices Flagger and Argo Rollouts write, step by step.

The step arithmetic and the VirtualService shapes are checked against the controllers' own code
and tests (fluxcd/flagger and argoproj/argo-rollouts, cited per test); the shares are exact
(the analytic engine), so they are compared with ``==`` or to 1e-12.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import istiosim
from istiosim import ConfigError, Request, Traffic
from istiosim.analysis.rollout import RolloutPlan, parse_rate
from istiosim.cli import main
from istiosim.errors import InvalidArgument
from istiosim.stats import required_samples

DATA = Path(__file__).parent / "data" / "rollouts"


def canary_yaml(analysis: str, service: str = "port: 9898") -> str:
    """A Flagger Canary for the Deployment ``podinfo`` in ``test`` with this analysis."""
    return textwrap.dedent(
        """\
        apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata:
          name: podinfo
          namespace: test
        spec:
          targetRef:
            apiVersion: apps/v1
            kind: Deployment
            name: podinfo
          service:
        {service}
          analysis:
        {analysis}
        """
    ).format(
        service=textwrap.indent(textwrap.dedent(service), "    "),
        analysis=textwrap.indent(textwrap.dedent(analysis), "    "),
    )


def plan_of(text: str, **kw: Any) -> RolloutPlan:
    return istiosim.rollout(istiosim.load(text), **kw)


def canary_weights(plan: RolloutPlan) -> list[int | None]:
    return [s.weights.get("podinfo-canary") for s in plan.steps]


# -- Flagger: step arithmetic (pkg/controller/scheduler.go) -------------------------------------


def test_flagger_docs_podinfo_steps_by_ten_up_to_max_weight() -> None:
    """docs/gitbook/tutorials/istio-progressive-delivery.md: stepWeight 10, maxWeight 50; each
    interval runCanary adds nextStepWeight while the canary weight is below maxWeight, then
    promotion routes everything back to the primary (runPromotionTrafficShift)."""
    plan = istiosim.rollout(istiosim.load(DATA / "flagger-podinfo.yaml"), rate=200)
    assert plan.kind == "Canary" and plan.strategy == "canary"
    assert canary_weights(plan) == [0, 10, 20, 30, 40, 50, 0]
    assert [s.canary_share for s in plan.steps] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.0]
    assert all(s.duration_s == 60.0 for s in plan.steps)  # interval: 1m
    assert [s.weights["podinfo-primary"] for s in plan.steps] == [100, 90, 80, 70, 60, 50, 100]
    assert plan.ok


def test_flagger_docs_max_weight_overshoot() -> None:
    """docs/gitbook/usage/deployment-strategies.md "Rollout Weights": maxWeight 50, stepWeight 20
    gives 20, 40, 60, then promotion; the 60 passes maxWeight (ISM0304, cf. flagger #189)."""
    plan = plan_of(canary_yaml("interval: 1m\nmaxWeight: 50\nstepWeight: 20"))
    assert canary_weights(plan) == [0, 20, 40, 60, 0]
    codes = [[d.code for d in s.diagnostics] for s in plan.steps]
    assert "ISM0304" in codes[3] and all("ISM0304" not in c for i, c in enumerate(codes) if i != 3)
    assert "overshoots maxWeight 50" in str(plan)


@pytest.mark.parametrize(
    ("weights", "primary"),
    [
        # pkg/controller/scheduler_svc_test.go TestScheduler_ServicePromotionWithWeightsHappyCase
        ("[1, 2, 10, 80]", [100, 99, 98, 90, 20]),
        # ... TestScheduler_ServicePromotionWithWeightsOverflow: the last entry is clamped at 100
        ("[1, 2, 10, 200]", [100, 99, 98, 90, 0]),
    ],
)
def test_flagger_step_weights_as_flaggers_own_tests(weights: str, primary: list[int]) -> None:
    plan = plan_of(canary_yaml(f"interval: 1m\nstepWeights: {weights}"))
    # the primary weights testServicePromotion asserts, then the promotion step
    assert [s.weights["podinfo-primary"] for s in plan.steps[:-1]] == primary
    assert plan.steps[-1].weights == {"podinfo-primary": 100, "podinfo-canary": 0}


def test_flagger_mirror_step_comes_first_at_weight_zero() -> None:
    """runCanary: with mirror, the first step mirrors at weight 0 (SetRoutes(.., mirrored=true)),
    the next one starts weighting; SetRoutes puts mirror and mirrorPercentage on http[0]."""
    plan = plan_of(
        canary_yaml("interval: 30s\nstepWeight: 25\nmaxWeight: 50\nmirror: true\nmirrorWeight: 40")
    )
    assert [s.action for s in plan.steps] == [
        "initialise",
        "mirror",
        "advance canary weight 25",
        "advance canary weight 50",
        "promote: all traffic to primary",
    ]
    mirror = plan.steps[1]
    assert mirror.canary_share == 0.0 and mirror.mirror_share == pytest.approx(0.4, abs=1e-12)
    http = mirror.virtual_services[0].spec.http[0]
    assert http is not None and http.mirror is not None and http.mirror.host == "podinfo-canary"
    assert http.mirror_percentage is not None and http.mirror_percentage.value == 40.0
    assert plan.steps[2].mirror_share == 0.0 and plan.steps[2].canary_share == 0.25


def test_flagger_gradual_promotion() -> None:
    """runPromotionTrafficShift with stepWeightPromotion: the primary gains that much per
    interval until it has everything."""
    plan = plan_of(
        canary_yaml("interval: 1m\nstepWeight: 30\nmaxWeight: 60\nstepWeightPromotion: 25")
    )
    assert canary_weights(plan) == [0, 30, 60, 35, 10, 0]


def test_flagger_set_routes_shape() -> None:
    """IstioRouter.reconcileVirtualService / SetRoutes (pkg/router/istio.go): the VirtualService
    is named after the apex service, hosts = service.hosts + apex, gateways default to mesh,
    one http route with the service's retries and the primary/canary destinations."""
    plan = istiosim.rollout(istiosim.load(DATA / "flagger-podinfo.yaml"))
    vs = plan.steps[2].virtual_services[0]
    assert (vs.metadata.namespace, vs.metadata.name) == ("test", "podinfo")
    assert vs.spec.hosts == ["podinfo"] and vs.spec.gateways == ["mesh"]
    (rule,) = vs.spec.http
    assert rule is not None and rule.retries is not None and rule.retries.attempts == 3
    assert [(d.destination.host, d.weight) for d in rule.route if d.destination] == [
        ("podinfo-primary", 80),
        ("podinfo-canary", 20),
    ]


def test_flagger_ab_routes_only_matching_traffic() -> None:
    """docs/gitbook/tutorials/istio-ab-testing.md; runAB sets primary 0 / canary 100 for each
    iteration and SetRoutes writes the A/B pair: the merged match → canary, the rest → primary."""
    sim = istiosim.load(DATA / "flagger-ab.yaml")
    host = "abtest.test.svc.cluster.local"
    traffic = Traffic.mix(
        [
            (Request(host, headers={"x-canary": "insider"}, namespace="test"), 1),
            (Request(host, headers={"cookie": "canary=always"}, namespace="test"), 1),
            (Request(host, namespace="test"), 8),
        ]
    )
    plan = istiosim.rollout(sim, traffic, rate=50)
    assert plan.strategy == "ab" and len(plan) == 12
    it = plan.steps[1]
    assert it.action == "iteration 1/10"
    assert it.canary_share == pytest.approx(0.2, abs=1e-12)
    assert it.managed_share == pytest.approx(0.2, abs=1e-12)
    assert it.canary_share_managed == pytest.approx(1.0, abs=1e-12)
    assert len(it.virtual_services[0].spec.http) == 2
    assert it.requests == pytest.approx(50 * 60 * 0.2)
    assert plan.steps[0].canary_share == 0.0 and plan.steps[-1].canary_share == 0.0


def test_flagger_blue_green_then_all_to_canary() -> None:
    """runBlueGreen: iterations at 100/0 (mirroring when mirror is set), then all traffic to the
    canary, then promotion."""
    plan = plan_of(canary_yaml("interval: 1m\niterations: 2\nmirror: true"))
    assert plan.strategy == "bluegreen"
    assert canary_weights(plan) == [0, 0, 0, 100, 0]
    assert [s.mirror_share for s in plan.steps] == [0.0, 1.0, 1.0, 0.0, 0.0]


def test_flagger_session_affinity_cookie_route_first() -> None:
    """getSessionAffinityRouteRules: while the canary has weight, a rule matching the Cookie
    header regex ``.*<name>.*<value>.*`` sends sticky users to the canary, ahead of the weighted
    route (whose canary destination sets the cookie)."""
    plan = plan_of(
        canary_yaml(
            "interval: 1m\nstepWeight: 50\nmaxWeight: 50\n"
            "sessionAffinity:\n  cookieName: flagger-cookie\n  maxAge: 21600"
        )
    )
    step = plan.steps[1]
    sticky, weighted = step.virtual_services[0].spec.http
    assert sticky is not None and weighted is not None
    assert sticky.match[0].headers["Cookie"] is not None
    assert sticky.match[0].headers["Cookie"].regex == ".*flagger-cookie.*RANDOM.*"
    add = weighted.route[1].headers.response.add  # type: ignore[union-attr]
    assert add == {"Set-Cookie": "flagger-cookie=RANDOM; Max-Age=21600"}
    assert step.canary_share == 0.5 and step.canary_share_managed == 0.5
    # without the cookie, users reach the weighted route: the managed route is the second rule
    assert step.managed_share == 1.0


# -- Argo Rollouts (rollout/trafficrouting/istio/istio.go) --------------------------------------


def test_argo_header_route_e2e_plan() -> None:
    """test/e2e/header-routing/istio-hr-host.yaml: setWeight 20, then a header route for
    firefox, replaced by one for chrome, removed after setWeight 40. createHeaderRoute appends
    the route (canary 100) and orderRoutes puts the managed routes first."""
    sim = istiosim.load(DATA / "argo-header-route.yaml")
    host = "stable-service"
    traffic = Traffic.mix(
        [
            (Request(host, headers={"agent": "firefox 118"}), 3),
            (Request(host, headers={"agent": "chrome 120"}), 5),
            (Request(host), 2),
        ]
    )
    plan = istiosim.rollout(sim, traffic, rate="200/s")
    shares = [round(s.canary_share or 0, 12) for s in plan.steps]
    # firefox 30% + 20% of the rest; chrome 50% + 20% of the rest; 40% weight once removed
    assert shares == [0.2, 0.44, 0.44, 0.6, 0.6, 0.7, 0.4, 0.4, 1.0, 0.0]
    assert [s.set_weight for s in plan.steps] == [20, 20, 20, 20, 20, 40, 40, 40, 100, 0]
    http = plan.steps[3].virtual_services[0].spec.http
    assert [h.name for h in http if h] == ["set-header-1", "primary"]
    first = http[0]
    assert first is not None and first.match[0].headers["agent"] is not None
    assert first.match[0].headers["agent"].regex == "chrome(.*)"
    assert [d.weight for d in first.route] == [100]
    assert [h.name for h in plan.steps[6].virtual_services[0].spec.http if h] == ["primary"]
    # the weighted route's split is what setWeight says, whatever the header route takes
    assert all(s.canary_share_managed == pytest.approx((s.set_weight or 0) / 100) for s in plan)
    assert plan.steps[2].duration_s == 600 and plan.steps[7].duration_s is None


def test_argo_user_rule_ahead_of_weighted_route_shows_the_shortfall() -> None:
    """docs/features/traffic-management/istio.md subset-level split, with a user rule for
    jason first: the canary gets 75% of setWeight (ISM0305 says by how much)."""
    sim = istiosim.load(DATA / "argo-subset.yaml")
    traffic = Traffic.mix(
        [
            (Request("rollout-demo", headers={"end-user": "jason"}), 1),
            (Request("rollout-demo"), 3),
        ]
    )
    plan = istiosim.rollout(sim, traffic, rate=200)
    s2 = plan.steps[2]
    assert s2.weights == {"rollout-demo:stable": 50, "rollout-demo:canary": 50}
    assert s2.canary_share == pytest.approx(0.375, abs=1e-12)
    assert s2.canary_share_managed == pytest.approx(0.5, abs=1e-12)
    assert s2.managed_share == pytest.approx(0.75, abs=1e-12)
    (d,) = [d for d in s2.diagnostics if d.code == "ISM0305"]
    assert "37.5% of all traffic, not the 50%" in d.message and "12.5 points less" in d.message
    assert d.location is not None and d.location.line == 83  # the setWeight: 50 step


def test_argo_process_routes_deletes_unknown_destinations_and_keeps_ports() -> None:
    """processRoutes: canary = desired, stable = 100 - desired, any other destination deleted
    (appendPatch toDelete)."""
    text = (
        (DATA / "argo-header-route.yaml")
        .read_text()
        .replace(
            "      weight: 0\n---",
            "      weight: 0\n    - destination:\n        host: old-service\n      weight: 0\n---",
            1,
        )
    )
    plan = plan_of(text)
    assert plan.steps[0].weights == {"stable-service": 80, "canary-service": 20}


def test_argo_mirror_route_prepended_with_current_weights() -> None:
    """createMirrorRoute: a managed route with the step's matches, the weighted route's current
    destinations, ``mirror: canary`` and mirrorPercentage; it goes first (orderRoutes)."""
    text = (
        (DATA / "argo-header-route.yaml")
        .read_text()
        .replace(
            "        - name: set-header-1\n",
            "        - name: mirror-1\n        - name: set-header-1\n",
        )
    )
    text = text.replace(
        "      - setWeight: 40\n",
        "      - setWeight: 40\n      - setMirrorRoute:\n          name: mirror-1\n"
        "          percentage: 35\n          match:\n          - method: {exact: GET}\n",
    )
    plan = plan_of(text)
    step = next(s for s in plan.steps if s.action == "setMirrorRoute mirror-1")
    http = step.virtual_services[0].spec.http
    first = http[0]
    assert first is not None and first.name == "mirror-1"
    assert first.mirror is not None and first.mirror.host == "canary-service"
    assert [d.weight for d in first.route] == [60, 40]
    # every request is a GET: all of it mirrored at 35%, split 60/40 by the mirror route
    assert step.mirror_share == pytest.approx(0.35, abs=1e-12)
    assert step.canary_share == pytest.approx(0.4, abs=1e-12)
    assert step.canary_share_managed == pytest.approx(0.4, abs=1e-12)


def test_a_step_istio_refuses_keeps_the_previous_virtual_service() -> None:
    """A header route with a regex RE2 refuses: Istio's webhook rejects the update (ISM0302),
    the previous VirtualService stays in effect and its routing is what the step sees."""
    text = (DATA / "argo-header-route.yaml").read_text().replace("firefox(.*)", "firefox(")
    plan = plan_of(text)
    s1 = plan.steps[1]
    assert s1.rejected and [d.code for d in s1.diagnostics][:1] == ["ISM0302"]
    assert "stays in effect" in s1.diagnostics[0].message
    assert s1.canary_share == plan.steps[0].canary_share == 0.2
    assert not plan.ok
    assert not plan.steps[3].rejected  # chrome(.*) replaces the bad route


# -- verification at alpha / tolerance ----------------------------------------------------------


def test_step_sample_size_uses_required_samples() -> None:
    plan = istiosim.rollout(
        istiosim.load(DATA / "flagger-podinfo.yaml"), rate="200/s", alpha=0.05, tolerance=0.01
    )
    s1, s2 = plan.steps[1], plan.steps[2]
    assert s1.requests == 200 * 60
    assert s1.required == required_samples({"p": 90, "c": 10}, tolerance=0.01, alpha=0.05)
    assert s2.required == required_samples({"p": 80, "c": 20}, tolerance=0.01, alpha=0.05)
    assert s1.verifiable is True and s2.verifiable is False
    assert any(d.code == "ISM0306" for d in s2.diagnostics)
    wider = istiosim.rollout(
        istiosim.load(DATA / "flagger-podinfo.yaml"), rate="200/s", tolerance=0.02
    )
    assert all(s.verifiable for s in wider.steps)
    no_rate = istiosim.rollout(istiosim.load(DATA / "flagger-podinfo.yaml"))
    assert all(s.requests is None and s.verifiable is None for s in no_rate.steps)


@pytest.mark.parametrize(
    ("text", "per_s"),
    [
        (200, 200.0),
        ("200", 200.0),
        ("200/s", 200.0),
        ("12000/m", 200.0),
        ("720000/h", 200.0),
        ("0.2/ms", 200.0),
    ],
)
def test_parse_rate(text: Any, per_s: float) -> None:
    assert parse_rate(text) == pytest.approx(per_s)


@pytest.mark.parametrize("bad", ["fast", "200/week", -1, float("inf"), True])
def test_parse_rate_refuses(bad: Any) -> None:
    with pytest.raises(InvalidArgument):
        parse_rate(bad)


# -- results: text, JSON, HTML ------------------------------------------------------------------


def test_json_shape_is_the_design_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["rollout", "-f", str(DATA / "flagger-podinfo.yaml"), "--rate", "200/s", "--format", "json"]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "Canary" and data["name"] == "podinfo"
    step = data["steps"][1]
    for key in (
        "index",
        "action",
        "weights",
        "canary_share",
        "canary_share_managed",
        "duration_s",
        "requests",
        "required",
        "verifiable",
        "diagnostics",
    ):
        assert key in step
    assert step["weights"] == {"podinfo-primary": 90, "podinfo-canary": 10}
    assert step["canary_share"] == 0.1 and step["requests"] == 12000.0


def test_html_and_repr() -> None:
    plan = istiosim.rollout(istiosim.load(DATA / "flagger-podinfo.yaml"), rate=200)
    html = plan._repr_html_()
    assert html.count("<tr>") == 1 + len(plan) and "podinfo-canary=10" in html
    assert plan.to_pandas()["weight podinfo-canary"].tolist()[:2] == [0, 10]
    assert repr(plan) == "<RolloutPlan Canary test/podinfo: 7 steps>"
    assert istiosim.RolloutPlan is type(plan) and type(plan).__module__ == "istiosim"


# -- bad input: located errors, exit 2 ----------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "in.yaml"
    p.write_text(text)
    return str(p)


def test_unknown_field_in_canary_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(tmp_path, canary_yaml("interval: 1m\nstepWieght: 10"))
    code, out, err = run(capsys, ["rollout", "-f", f])
    assert code == 2 and out == ""
    assert f"{f}:15:5: error[ISM0003]" in err and "stepWieght" in err


def test_missing_virtual_service_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        (DATA / "argo-header-route.yaml")
        .read_text()
        .replace("name: rollouts-demo-vsvc\n            routes", "name: nope\n            routes")
    )
    f = write(tmp_path, text)
    code, _, err = run(capsys, ["rollout", "-f", f])
    assert code == 2
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "name: nope" in t)
    assert f"{f}:{line}:13: error[ISM0301] " in err
    # `check` runs the same lint: an error, exit 1
    code, out, _ = run(capsys, ["check", "-f", f])
    assert code == 1 and "ISM0301" in out


@pytest.mark.parametrize(
    ("old", "new", "code", "message"),
    [
        (
            "            - primary\n",
            "            - primry\n",
            "ISM0301",
            "HTTP Route 'primry' is not found",
        ),
        (
            "      - setWeight: 40\n",
            "      - setWeight: 140\n",
            "ISM0300",
            "SetWeight needs to be between 0 and 100",
        ),
        ("      - setWeight: 40\n", "      - {}\n", "ISM0300", "Step must have one of"),
        (
            "      - setWeight: 40\n",
            "      - setWeight: 40\n        pause: {}\n",
            "ISM0300",
            "a step sets setWeight and pause",
        ),
        (
            "          name: set-header-1\n          match:\n          - headerName: agent\n"
            "            headerValue:\n              regex: firefox",
            "          name: set-header-2\n          match:\n          - headerName: agent\n"
            "            headerValue:\n              regex: firefox",
            "ISM0300",
            "does not exist in spec.strategy.canary.trafficRouting.managedRoutes",
        ),
        (
            "      stableService: stable-service\n",
            "      stableService: canary-service\n",
            "ISM0300",
            "the same service for the stable and canary",
        ),
        (
            "      - pause: {duration: 10m}\n",
            "      - pause: {duration: soon}\n",
            "ISM0300",
            "is not a duration",
        ),
    ],
)
def test_bad_rollouts(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    code: str,
    message: str,
) -> None:
    text = (DATA / "argo-header-route.yaml").read_text()
    assert old in text
    f = write(tmp_path, text.replace(old, new, 1))
    rc, out, err = run(capsys, ["rollout", "-f", f])
    assert rc == 2 and out == ""
    lines = [x for x in err.splitlines() if f"error[{code}]" in x and message in x]
    assert lines and lines[0].startswith(f"{f}:"), err


def test_bad_canaries_raise_located_config_errors() -> None:
    with pytest.raises(ConfigError) as exc:
        plan_of(canary_yaml("interval: 1m\nmaxWeight: 50"))
    (d,) = exc.value.diagnostics
    assert d.code == "ISM0300" and "never shifts traffic" in d.message
    assert d.location is not None and d.location.line == 13
    with pytest.raises(ConfigError, match="stepWeights must increase"):
        plan_of(canary_yaml("interval: 1m\nstepWeights: [10, 5]"))
    with pytest.raises(ConfigError, match="not a positive Go duration"):
        plan_of(canary_yaml("interval: often\nstepWeight: 10"))


def test_no_rollout_loaded_is_an_argument_error() -> None:
    with pytest.raises(InvalidArgument, match="no Flagger Canary or Argo Rollout"):
        istiosim.rollout(istiosim.load("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"))


def test_requests_that_fail_at_a_step_are_reported() -> None:
    """Without the Rollout's pod template (and no Deployment loaded) the subsets select no pods:
    every step's requests end in 503 UH, and each step says how many (ISM0308)."""
    text = (DATA / "argo-subset.yaml").read_text()
    text = text.replace(
        "  template:\n    metadata:\n      labels:\n        app: rollout-demo\n", ""
    )
    plan = plan_of(text)
    msgs = sorted(d.message for d in plan.steps[0].diagnostics if d.code == "ISM0308")
    assert msgs == [
        "10.0% of the traffic fails with 503 UH "
        "(rollout-demo.default.svc.cluster.local subset canary)",
        "90.0% of the traffic fails with 503 UH "
        "(rollout-demo.default.svc.cluster.local subset stable)",
    ]
    # with the template, the Rollout's pods are modelled and nothing fails
    ok = istiosim.rollout(istiosim.load(DATA / "argo-subset.yaml"))
    assert not [d for s in ok.steps for d in s.diagnostics if d.code == "ISM0308"]


def test_a_user_catch_all_ahead_of_the_weighted_route() -> None:
    """A user rule without match before the route Argo patches: the weighted route is never
    reached (ISM0303 on every step and in `check`)."""
    text = (
        (DATA / "argo-subset.yaml")
        .read_text()
        .replace(
            "  - name: jason\n    match:\n    - headers:\n        end-user:\n          exact: jason\n",
            "  - name: jason\n",
        )
    )
    plan = plan_of(text)
    assert all(any(d.code == "ISM0303" for d in s.diagnostics) for s in plan.steps)
    assert all(s.canary_share == 0.0 and s.managed_share == 0.0 for s in plan.steps)
    assert "comes after http[0], which matches every request" in str(plan)
    found = [d for d in istiosim.load(text).diagnostics if d.code == "ISM0303"]
    assert len(found) == 1 and "never reached" in found[0].message


def test_flagger_skip_analysis_promotes_at_once() -> None:
    """shouldSkipAnalysis (pkg/controller/scheduler.go): with skipAnalysis the canary is promoted
    without any traffic step."""
    text = canary_yaml("interval: 1m\nstepWeight: 10").replace(
        "  service:", "  skipAnalysis: true\n  service:"
    )
    plan = plan_of(text)
    assert [s.action for s in plan.steps] == ["initialise", "skipAnalysis: promote"]
    assert canary_weights(plan) == [0, 0]


def test_flagger_refused_on_every_step_routes_nothing() -> None:
    """A Canary whose service.match has a regex RE2 refuses: every VirtualService Flagger writes
    is refused by Istio's webhook, and no step has a VirtualService in effect."""
    text = canary_yaml(
        "interval: 1m\nstepWeight: 50",
        service="port: 9898\nmatch:\n- uri:\n    regex: '/api/(v1'",
    )
    plan = plan_of(text)
    assert all(s.rejected and s.canary_share is None for s in plan.steps)
    assert all(s.diagnostics[0].code == "ISM0302" for s in plan.steps)
    assert "nothing is routed" in plan.steps[0].diagnostics[0].message
    assert not plan.ok


def test_check_runs_the_rollout_lint(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = write(tmp_path, canary_yaml("interval: 1m\nstepWeights: [10, 5]"))
    code, out, _ = run(capsys, ["check", "-f", f])
    assert code == 1
    assert f"{f}:15:23: error[ISM0300]" in out and "stepWeights must increase: 10 then 5" in out


def test_rollout_pods_are_modelled_by_the_loader() -> None:
    """A Rollout's template runs pods as a Deployment's does: its subsets select them."""
    sim = istiosim.load(DATA / "argo-subset.yaml")
    d = sim.route(Request("rollout-demo"), rng=0)
    assert d.outcome.value == "OK" and d.destination is not None
    assert sim.mesh is not None and sim.mesh.workload("rollout-demo") is not None
    assert not [x for x in sim.diagnostics if x.code == "IST0173"]


def test_flagger_on_a_gateway_routes_the_gateway_traffic() -> None:
    """The tutorial's Canary binds the VirtualService to istio-system/public-gateway for
    app.example.com: the default traffic is that gateway's, and the mesh is not bound."""
    text = (
        (DATA / "flagger-podinfo.yaml")
        .read_text()
        .replace(
            "    port: 9898\n",
            "    port: 9898\n    gateways:\n    - istio-system/public-gateway\n"
            "    hosts:\n    - app.example.com\n",
            1,
        )
    )
    gateway = (
        "---\napiVersion: networking.istio.io/v1\nkind: Gateway\n"
        "metadata: {name: public-gateway, namespace: istio-system}\n"
        "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
        "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n"
    )
    plan = plan_of(text + gateway)
    assert plan.traffic == "every request to app.example.com via istio-system/public-gateway"
    vs = plan.steps[1].virtual_services[0]
    assert vs.spec.gateways == ["istio-system/public-gateway"]
    assert vs.spec.hosts == ["app.example.com", "podinfo"]
    assert [s.canary_share for s in plan.steps] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.0]
    # without the Gateway no gateway proxy listens for app.example.com: every step says so
    missing = plan_of(text)
    assert all(
        any(d.code == "ISM0308" and "404 NR" in d.message for d in s.diagnostics)
        for s in missing.steps
    )


@settings(max_examples=60, deadline=None)
@given(step=st.integers(1, 100), max_weight=st.integers(1, 100))
def test_flagger_linear_plan_invariants(step: int, max_weight: int) -> None:
    """runCanary with stepWeight/maxWeight: the canary weight grows by stepWeight from 0,
    clamped at 100, until it reaches maxWeight (the first weight at or past it is the last);
    every step's weights add up to 100; promotion returns all traffic to the primary."""
    plan = plan_of(canary_yaml(f"interval: 1m\nstepWeight: {step}\nmaxWeight: {max_weight}"))
    weights = canary_weights(plan)
    assert weights[0] == 0 and weights[-1] == 0
    ramp = weights[1:-1]
    assert ramp == [min(step * k, 100) for k in range(1, len(ramp) + 1)]
    assert ramp[-1] >= max_weight and all(w < max_weight for w in ramp[:-1])
    assert all(sum(s.weights.values()) == 100 for s in plan.steps)
    overshoot = [s.index for s in plan.steps for d in s.diagnostics if d.code == "ISM0304"]
    assert overshoot == ([len(ramp)] if ramp[-1] > max_weight else [])


def test_a_steps_simulator_agrees_with_the_plan() -> None:
    """Each step keeps its compiled config: its Simulator's exact simulation (an independent
    path through SimulationResult) gives the share the plan reports, and routes one request
    as the step's VirtualService says."""
    sim = istiosim.load(DATA / "argo-subset.yaml")
    traffic = Traffic.mix(
        [(Request("rollout-demo", headers={"end-user": "jason"}), 1), (Request("rollout-demo"), 3)]
    )
    plan = istiosim.rollout(sim, traffic)
    for step in plan.steps:
        res = step.simulator().simulate(traffic, 1000, mode="exact")
        canary = res.shares(by="subset").get("canary", 0.0)
        assert canary == pytest.approx(step.canary_share, abs=1e-12), step.action
    d = plan.steps[2].simulator().route(Request("rollout-demo"), rng=0, trace=True)
    assert d.virtual_service == "default/rollout-vsvc" and d.rule == 1
    assert sorted((c.subset, c.probability) for c in d.candidates) == [
        ("canary", 0.5),
        ("stable", 0.5),
    ]
    assert sim.route(Request("rollout-demo"), rng=0).candidates[0].probability == 1.0  # unchanged


def test_plans_that_make_no_sense_warn() -> None:
    """Weights with iterations (DeploymentStrategy ignores them) and an Argo plan whose steps
    never give the canary traffic: warnings (ISM0307), the plan still runs."""
    plan = plan_of(canary_yaml("interval: 1m\niterations: 3\nstepWeight: 10"))
    assert plan.strategy == "bluegreen"
    (d,) = [d for d in plan.diagnostics if d.code == "ISM0307"]
    assert "stepWeight is ignored with iterations" in d.message and d.location is not None
    text = (DATA / "argo-subset.yaml").read_text()
    text = text.replace("      - setWeight: 10\n", "").replace("      - setWeight: 50\n", "")
    plan = plan_of(text)
    (d,) = [d for d in plan.diagnostics if d.code == "ISM0307"]
    assert "the canary receives no traffic until the full promotion" in d.message
    assert [s.canary_share for s in plan.steps] == [0.0, 0.0, 1.0, 0.0]


def test_json_virtual_services_are_loadable_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    """Each step's JSON carries the VirtualServices in effect, in their YAML shape: loaded back
    beside the Services they name, they route as the step says."""
    code = main(["rollout", "-f", str(DATA / "argo-header-route.yaml"), "--format", "json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    step = data["steps"][3]
    (vs,) = step["virtual_services"]
    assert vs["kind"] == "VirtualService" and [h["name"] for h in vs["spec"]["http"]] == [
        "set-header-1",
        "primary",
    ]
    services = (DATA / "argo-header-route.yaml").read_text().split("---")[:2]
    sim = istiosim.load("---".join(services) + "---\n" + json.dumps(vs))
    d = sim.route(Request("stable-service", headers={"agent": "chrome 1"}), rng=0)
    assert d.destination is not None and d.destination.host.startswith("canary-service.")


def test_header_route_with_an_empty_match_list_takes_everything() -> None:
    """reconcileVirtualServiceHeaderRoutes removes the route only when Match is nil; an empty
    list writes a route with no match, which takes every request (ISM0307 warns)."""
    text = (DATA / "argo-header-route.yaml").read_text()
    old = (
        "          name: set-header-1\n          match:\n          - headerName: agent\n"
        "            headerValue:\n              regex: firefox(.*)\n"
    )
    assert old in text
    plan = plan_of(text.replace(old, "          name: set-header-1\n          match: []\n"))
    assert any("empty match list" in d.message for d in plan.diagnostics)
    s1 = plan.steps[1]
    assert s1.canary_share == 1.0 and s1.managed_share == 0.0
    assert any(d.code == "ISM0303" for d in s1.diagnostics)  # the weighted route is shadowed
