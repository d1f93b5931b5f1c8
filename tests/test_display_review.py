"""The change-review results as first-class displays: ``istiosim.diff``'s Diff, a RolloutPlan and
a Reachability each build one Table (text, escaped HTML, cut when long), a pandas DataFrame with
sensible dtypes, and (Diff, RolloutPlan) a labelled plot; WhatIf edits through
``Simulator.with_weights``/``apply``."""

from __future__ import annotations

import matplotlib
import pytest
from IPython.lib.pretty import pretty

import istiosim
from istiosim import Request, Simulator, Traffic
from istiosim.display import as_html, as_text
from istiosim.display.whatif import WhatIf
from istiosim.traffic import read_traffic

from conftest import DATA, DEMO, load_demo

matplotlib.use("Agg")

SCRIPT = "<script>alert(1)</script>"

SCRIPT_RULE = f"""
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {{name: reviews}}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers:
        end-user: {{exact: "{SCRIPT}"}}
    route:
    - destination: {{host: reviews, subset: v3}}
  - route:
    - destination: {{host: reviews, subset: v2}}
"""

WEIGHTED_RULE = SCRIPT_RULE.replace(
    "    - destination: {host: reviews, subset: v2}\n",
    "    - destination: {host: reviews, subset: v2}\n      weight: 80\n"
    "    - destination: {host: reviews, subset: v3}\n      weight: 20\n",
)

TRAFFIC = Traffic.users(Request("reviews"), named={"jason": 0.1})


@pytest.fixture(scope="module")
def canary() -> Simulator:
    return load_demo("canary-50-50.yaml")


@pytest.fixture(scope="module")
def jason(canary: Simulator) -> istiosim.Diff:
    """The canary (50/50 v2/v3) → jason's header rule (jason v3, everyone else v2), weighed by
    a traffic model where 10% of the requests are jason's."""
    return istiosim.diff(canary, load_demo("header-jason-v3.yaml"), TRAFFIC)


@pytest.fixture(scope="module")
def plan() -> istiosim.RolloutPlan:
    sim = istiosim.load(DEMO / "rollout-argo.yaml")
    return istiosim.rollout(sim, read_traffic(DEMO / "rollout-traffic.yaml"), rate=20)


# -- Diff -----------------------------------------------------------------------------------------


def test_diff_table_text_and_html(jason: istiosim.Diff) -> None:
    t = jason._table()
    assert t.title == "Diff: 2 of 2 class(es) changed; 50.00% of traffic moves"
    assert [c.name for c in t.columns] == ["class", "share of traffic", "before", "after", "moved"]
    assert len(t.rows) == 2
    text = as_text(jason)
    assert "reviews end-user=jason" in text and "100% reviews/v3" in text
    line = next(x for x in text.splitlines() if x.startswith("reviews end-user=jason"))
    assert line.split()[-1] == "50.00%"  # moved, right-aligned last column
    html = jason._repr_html_()
    assert html.count("<tr>") == 1 + 2 and "text-align:right" in html
    assert pretty(jason).startswith("Diff: 2 of 2 class(es) changed")
    assert str(jason).startswith(" reviews end-user=jason |")  # the CLI's stat view, unchanged


def test_diff_without_traffic_has_no_share_column(canary: Simulator) -> None:
    d = istiosim.diff(load_demo("blue-green-v2.yaml"), canary)
    assert [c.name for c in d._table().columns] == ["class", "before", "after", "moved"]


def test_diff_html_escapes_header_values(canary: Simulator) -> None:
    d = istiosim.diff(canary, load_demo(SCRIPT_RULE))
    html = as_html(d)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert SCRIPT in as_text(d)  # text is not HTML: shown as written


def test_diff_to_pandas(jason: istiosim.Diff) -> None:
    df = jason.to_pandas()
    assert len(df) == 4  # jason: v2, v3; others: v2, v3
    assert str(df["class"].dtype) == "category" and str(df["subset"].dtype) == "category"
    assert str(df["outcome"].dtype) == "category" and str(df["host"].dtype) == "category"
    assert str(df["status"].dtype) == "Int64"
    for c in ("class share", "before", "after", "change", "moved"):
        assert df[c].dtype == "float64"
    assert list(df["class"].cat.categories) == [c.name for c in jason.classes]
    j = df[df["class"] == "reviews end-user=jason"].set_index("subset")
    assert j.loc["v3", "before"] == pytest.approx(0.5) and j.loc["v3", "after"] == 1.0
    assert j.loc["v2", "change"] == pytest.approx(-0.5)
    # the traffic that moves, from the frame: sum of class share × |change| / 2
    moved = (df["class share"] * df["change"].abs()).sum() / 2
    assert moved == pytest.approx(jason.moved_share)


def test_diff_plot_per_class(jason: istiosim.Diff) -> None:
    ax = jason.plot()
    assert ax.get_ylabel() == "share of the class's requests"
    assert ax.get_xlabel() == "destination, per request class"
    assert ax.get_title() == "2 of 2 class(es) changed; 50.00% of traffic moves"
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["reviews/v2", "reviews/v3", "reviews/v2", "reviews/v3"]
    heights = [round(p.get_height(), 6) for p in ax.patches]
    assert heights == [0.5, 0.5, 0.5, 0.5, 0.0, 1.0, 1.0, 0.0]  # before bars, then after bars
    labels = [t.get_text() for t in ax.texts]
    assert any("jason" in x and "10%" in x for x in labels)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["before", "after"]


def test_diff_plot_by_destination(jason: istiosim.Diff, canary: Simulator) -> None:
    ax = jason.plot(by="destination")
    assert ax.get_ylabel() == "share of all traffic"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["reviews/v2", "reviews/v3"]
    heights = [round(p.get_height(), 6) for p in ax.patches]
    assert heights == [0.5, 0.5, 0.9, 0.1]
    with pytest.raises(istiosim.InvalidArgument, match="traffic"):
        istiosim.diff(canary, load_demo("header-jason-v3.yaml")).plot(by="destination")
    with pytest.raises(istiosim.InvalidArgument, match="by must be"):
        jason.plot(by="rule")


# -- RolloutPlan ----------------------------------------------------------------------------------


def test_rollout_table(plan: istiosim.RolloutPlan) -> None:
    t = plan._table()
    assert len(t.rows) == len(plan) == 6
    assert t.title.startswith("Rollout default/rollout-demo (canary): 6 steps")
    names = [c.name for c in t.columns]
    assert names[:3] == ["step", "action", "weights"] and names[-1] == "verifiable"
    verifiable = [r[-1] for r in t.rows]
    assert verifiable == ["-", "NO", "-", "NO", "-", "-"]
    assert any("ISM0305" in n for n in t.notes) and t.notes[-1] == "0 error(s), 2 warning(s)"
    # the findings' file paths relative (the CLI prints them as given)
    assert all(str(DEMO) not in n for n in t.notes) and any(
        "rollout-argo.yaml:82:9" in n for n in t.notes
    )
    html = plan._repr_html_()
    assert html.count("<tr>") == 1 + 6 and "stable=90 canary=10" in html  # one host: subsets
    assert "37.50%" in pretty(plan)


def test_rollout_to_pandas(plan: istiosim.RolloutPlan) -> None:
    df = plan.to_pandas()
    assert len(df) == len(plan)
    assert df["step"].tolist() == list(range(6))
    assert str(df["step"].dtype) == "Int64" and str(df["action"].dtype) == "string"
    assert str(df["verifiable"].dtype) == "boolean" and df["rejected"].dtype == bool
    assert df["weight rollout-demo:canary"].tolist() == [10, 10, 50, 50, 100, 0]
    assert str(df["weight rollout-demo:canary"].dtype) == "Int64"
    assert df["canary"].dtype == "float64" and df["canary"][2] == pytest.approx(0.375)
    assert df["verifiable"].isna().tolist() == [True, False, True, False, True, True]
    assert df["needed"][1] == 9740 and df["requests"][1] == pytest.approx(450.0)
    assert df["findings"][1] == "ISM0305, ISM0306"


def test_rollout_plot(plan: istiosim.RolloutPlan) -> None:
    ax = plan.plot()
    assert ax.get_ylabel() == "share of all traffic" and ax.get_xlabel() == "rollout step"
    assert ax.get_title() == "Rollout default/rollout-demo: shares per step"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "canary (weighted route)",
        "stable (weighted route)",
        "other rules",
        "too few requests to verify the split",
    ]
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert [round(p.get_x() + p.get_width() / 2) for p in hatched] == [1, 3]
    ticks = [t.get_text().split("\n")[0] for t in ax.get_xticklabels()]
    assert ticks == [str(i) for i in range(6)]
    # step 2: 37.5% canary and 37.5% stable through the weighted route, 25% (jason) elsewhere
    bars = [p for p in ax.patches if not p.get_hatch() and round(p.get_x() + 0.4) == 2]
    assert [round(p.get_height(), 6) for p in bars] == [0.375, 0.375, 0.25]


def test_flagger_plan_displays() -> None:
    plan = istiosim.rollout(istiosim.load(DATA / "rollouts" / "flagger-podinfo.yaml"), rate=200)
    df = plan.to_pandas()
    assert len(df) == len(plan) == len(plan._table().rows)
    assert [c for c in df.columns if c.startswith("weight ")] == [
        "weight podinfo-primary",
        "weight podinfo-canary",
    ]
    assert plan.plot().get_ylabel() == "share of all traffic"


# -- Reachability -------------------------------------------------------------------------------

SHADOWED = f"""
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {{name: reviews}}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {{prefix: /api}}
      headers:
        end-user: {{exact: "{SCRIPT}"}}
    route:
    - destination: {{host: reviews, subset: v2}}
  - match:
    - uri: {{prefix: /api/v1}}
      headers:
        end-user: {{exact: "{SCRIPT}"}}
    route:
    - destination: {{host: reviews, subset: v3}}
  - match:
    - uri: {{regex: "/x[0-9]+"}}
    route:
    - destination: {{host: reviews, subset: v3}}
  - route:
    - destination: {{host: reviews, subset: v1}}
"""


def test_reachability_displays() -> None:
    r = istiosim.reachability(load_demo(SHADOWED))
    t = r._table()
    assert t.title == "Reachability: 4 match block(s), 1 unreachable"
    assert len(t.rows) == 4 and t.rows[1][2] == "shadowed by rule #0 match #0"
    html = r._repr_html_()
    assert "<script" not in html and "&lt;script&gt;" in html  # rule #0's witness, escaped
    df = r.to_pandas()
    assert len(df) == 4
    assert str(df["reachable"].dtype) == "boolean" and str(df["rule"].dtype) == "Int64"
    assert str(df["virtual service"].dtype) == "category"
    assert df["reachable"].tolist() == [True, False, True, True]
    assert df["shadowed by"][1] == "rule #0 match #0"
    assert df["match"].isna().tolist() == [False, False, False, True]  # rule #3 has no match
    assert pretty(r).startswith("Reachability: 4 match block(s)")


def test_long_tables_are_cut_with_a_note() -> None:
    rules = "".join(
        f"""
  - match:
    - uri: {{exact: /p{i}}}
    route:
    - destination: {{host: reviews, subset: v{1 + i % 3}}}"""
        for i in range(75)
    )
    vs = f"""
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {{name: reviews}}
spec:
  hosts: [reviews]
  http:{rules}
"""
    r = istiosim.reachability(load_demo(vs))
    html = r._repr_html_()
    assert html.count("<tr>") == 1 + 60 and "15 more row(s) not shown" in html
    assert "15 more row(s) not shown" in pretty(r)
    assert len(r.to_pandas()) == 75  # to_pandas() is never cut


# -- WhatIf through Simulator.with_weights / apply --------------------------------------------------


def test_whatif_uses_with_weights_and_apply(
    canary: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = load_demo(WEIGHTED_RULE)
    w = WhatIf(sim, "reviews", TRAFFIC)
    assert w.weights == {1: [80, 20]}
    calls: list[tuple[object, ...]] = []
    real_weights, real_apply = Simulator.with_weights, Simulator.apply

    def spy_weights(self: Simulator, *a: object, **k: object) -> Simulator:
        calls.append(("with_weights", *a))
        return real_weights(self, *a, **k)  # type: ignore[arg-type]

    def spy_apply(self: Simulator, *a: object, **k: object) -> Simulator:
        calls.append(("apply", type(a[0]).__name__))
        return real_apply(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Simulator, "with_weights", spy_weights)
    monkeypatch.setattr(Simulator, "apply", spy_apply)
    edited = w.simulator({1: [30, 70]}, disabled=[0])
    assert calls == [
        ("with_weights", "default/reviews", 1, {"reviews/v2": 30, "reviews/v3": 70}),
        ("apply", "VirtualService"),
    ]
    direct = sim.with_weights("default/reviews", 1, {"v2": 30, "v3": 70})
    # rule 0 off: the edited simulator routes jason by the weights too, as the direct one
    # routes everyone else
    other = edited.simulate(Request("reviews", headers={"end-user": "jason"}), 1, mode="exact")
    assert other.shares("subset") == pytest.approx(
        direct.simulate(Request("reviews"), 1, mode="exact").shares("subset")
    )
    assert len(edited.plan.virtual_services[0].entries) == 1
    assert len(sim.plan.virtual_services[0].entries) == 2  # the original is unchanged


def test_whatif_refuses_weights_it_cannot_name(canary: Simulator) -> None:
    twice = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
      weight: 50
    - destination: {host: reviews, subset: v2}
      weight: 50
"""
    w = WhatIf(load_demo(twice), "reviews", TRAFFIC)
    with pytest.raises(istiosim.InvalidArgument, match="twice"):
        w.evaluate({0: [10, 90]})
    with pytest.raises(istiosim.InvalidArgument, match="no http rule 5"):
        WhatIf(canary, "reviews", TRAFFIC).evaluate({5: [1, 1]})


def test_whatif_recompiles_only_what_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    w = WhatIf(load_demo(WEIGHTED_RULE), "reviews", TRAFFIC)
    calls = []
    real = Simulator.with_weights

    def spy(self: Simulator, *a: object, **k: object) -> Simulator:
        calls.append(a)
        return real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Simulator, "with_weights", spy)
    as_configured = w.evaluate({1: [80, 20]})  # a slider left where it was
    assert calls == [] and all(r[-1] == 0 for r in as_configured.rows)


def test_plot_labels_with_dollar_signs_render(canary: Simulator) -> None:
    """A header value with ``$`` (matplotlib's mathtext delimiter) is drawn as written."""
    t = Traffic.users(Request("reviews"), named={"$\\frac{$": 0.1})
    ax = istiosim.diff(canary, load_demo("header-jason-v3.yaml"), t).plot()
    ax.figure.canvas.draw()  # would raise on unescaped mathtext
    assert any(x.get_text().startswith("reviews end-user=\\$\\frac{\\$") for x in ax.texts)
