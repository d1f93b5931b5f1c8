"""What users look at: text, HTML (escaped, truncated), pandas frames, plots and the what-if
callback, for every result object (istiosim.display)."""

from __future__ import annotations

import os
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser

import matplotlib
import pandas as pd
import pytest
from IPython.lib.pretty import pretty

import istiosim
from istiosim import Request, Traffic
from istiosim.display import Col, Table, as_html, as_text
from istiosim.display.frames import MissingExtra
from istiosim.display.whatif import WhatIf
from istiosim.stats import split_ci, split_equivalence, split_test
from istiosim.testing import run_cases

from conftest import DEMO, load_demo

matplotlib.use("Agg")

SCRIPT = "<script>alert(1)</script>"

HEADER_VS = f"""
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
      weight: 80
    - destination: {{host: reviews, subset: v3}}
      weight: 20
"""


class _Cells(HTMLParser):
    """Collects the text and the text-align of each <td>, and every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self._align: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "td":
            style = dict(attrs).get("style") or ""
            self._align = "right" if "text-align:right" in style else "left"
            self.cells.append(("", self._align))

    def handle_data(self, data: str) -> None:
        if self._align is not None and self.cells:
            text, align = self.cells[-1]
            self.cells[-1] = (text + data, align)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._align = None


def cells(page: str) -> _Cells:
    p = _Cells()
    p.feed(page)
    return p


@pytest.fixture(scope="module")
def sim() -> istiosim.Simulator:
    return load_demo(HEADER_VS)


def test_decision_shows_verdict_split_and_folded_trace(sim: istiosim.Simulator) -> None:
    d = sim.route(Request("reviews"), rng=3)
    page = d._repr_html_()
    title = page.split("</b>")[0]
    assert "OK 200 →" in title and "rule 1 of default/reviews" in title
    got = {c[0] for c in cells(page).cells}
    assert {"reviews.default v2", "reviews.default v3", "80.00%", "20.00%"} <= got
    assert "<details><summary>trace: why</summary>" in page
    assert page.index("<table") < page.index("<details>")  # the split first, the trace folded
    assert len(repr(d)) < 80 and "0x" not in repr(d)
    assert pretty(d).startswith(unescape(title.split("<b>")[1]))
    df = d.to_pandas()
    assert list(df["subset"]) == ["v2", "v3"] and isinstance(df["status"].dtype, pd.CategoricalDtype)
    assert df["probability"].tolist() == [0.8, 0.2]


def test_header_value_is_escaped_everywhere(sim: istiosim.Simulator) -> None:
    d = sim.route(Request("reviews", headers={"end-user": SCRIPT}))
    page = d._repr_html_()
    assert d.subset == "v3"
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "script" not in cells(page).tags
    for obj in (sim.plan, sim, Traffic.constant(Request("reviews", headers={"end-user": SCRIPT}))):
        html = obj._repr_html_()
        assert "<script" not in html
    assert "&lt;script&gt;" in sim.plan._repr_html_()


def test_simulation_result_html_aligns_and_groups_digits(sim: istiosim.Simulator) -> None:
    res = sim.simulate(Request("reviews"), 123_456, rng=7)
    page = res._repr_html_()
    row = [c for c in cells(page).cells]
    counts = [t for t, a in row if a == "right" and "," in t and "%" not in t]
    assert counts and all(t.replace(",", "").isdigit() for t in counts)
    assert ("reviews.default", "left") in row and ("v2", "left") in row
    assert any(t.startswith("[") and t.endswith("%]") for t, a in row if a == "right")
    text = pretty(res)
    assert "95% CI" in text and "123,456 requests" in text
    line = next(x for x in text.splitlines() if " v2 " in x)
    assert line.startswith("reviews.default")  # text left-aligned
    df = res.to_pandas()
    assert df["count"].sum() == 123_456
    assert isinstance(df["subset"].dtype, pd.CategoricalDtype)
    assert (df["95% CI low"] <= df["share"]).all() and (df["share"] <= df["95% CI high"]).all()


def test_by_class_is_a_result_object(sim: istiosim.Simulator) -> None:
    t = Traffic.users(Request("reviews"), named={"jason": 0.25})
    res = sim.simulate(t, 10_000, rng=1, keep=True)
    by = res.by_class()
    assert isinstance(by, dict) and set(by) == set(res.classes)
    assert "ClassBreakdown" in repr(by)
    df = by.to_pandas()
    assert set(df["class"].cat.categories) == set(res.classes)
    assert df.groupby("class", observed=True)["count"].sum().sum() == 10_000
    assert "share in class" in by._repr_html_()
    pr = res.per_request
    frame = pr.to_pandas()
    assert len(frame) == 10_000 and list(frame["class"].cat.categories) == list(res.classes)
    assert isinstance(frame["outcome"].dtype, pd.CategoricalDtype)
    assert "first 20 of 10,000 requests" in pr._repr_html_()


def test_large_results_are_truncated_with_a_note() -> None:
    rows = [(f"host-{i}", i * 1000) for i in range(5_000)]
    t = Table("big", (Col("host"), Col("count", "int")), rows)
    page = t._repr_html_()
    assert "4,940 more row(s) not shown" in page and len(page) < 30_000
    assert "4,940 more row(s) not shown" in str(t)
    assert len(t.to_pandas()) == 5_000  # the frame has them all


def test_simulator_plan_and_traffic_at_a_glance() -> None:
    sim = istiosim.load(str(DEMO / "bookinfo-k8s.yaml"), str(DEMO / "destination.yaml"),
                        str(DEMO / "canary-50-50.yaml"))
    text = pretty(sim)
    assert "reviews.default" in text and "v1, v2, v3" in text
    assert os.getcwd() not in text and os.getcwd() not in sim._repr_html_()
    plan = sim.plan._repr_html_()
    assert "canary-50-50.yaml:9" in plan and "v2 50%" in plan
    assert os.getcwd() not in plan
    t = Traffic.users(Request("reviews"), named={"jason": 0.1})
    assert "9,999 values" in t._repr_html_()
    assert t.to_pandas()["share"].tolist() == pytest.approx([0.1, 0.9])


def test_statistics_results_frames_and_plots() -> None:
    counts = {"v2": 5_100, "v3": 4_900}
    eq = split_equivalence(counts, {"v2": 50, "v3": 50}, tolerance=0.02)
    df = eq.to_pandas()
    assert list(df["arm"]) == ["v2", "v3"] and isinstance(df["arm"].dtype, pd.CategoricalDtype)
    assert set(df["status"]) == {"inside"}
    assert cells(eq._repr_html_()).cells[0] == ("v2", "left")
    ax = eq.plot()
    assert ax.get_ylabel() == "observed − configured share" and ax.get_xlabel() == "destination"
    assert "equivalent" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "v2\n(configured 50%)",
        "v3\n(configured 50%)",
    ]
    observed = [float(y) for y in ax.containers[0].lines[0].get_ydata()]
    assert observed == pytest.approx([1.0, -1.0])  # percentage points off the weight
    band = ax.patches[0].get_extents() if ax.patches else None
    assert band is not None and ax.get_ylim()[0] < -2 and ax.get_ylim()[1] > 2  # ±2 pp shown
    labels = ax.get_legend_handles_labels()[1]
    assert "configured weight" in labels and any("allowed band" in x for x in labels)
    assert "observed share (90% CI)" in labels  # TOST's (1 - 2 alpha) intervals, as in its table
    gof = split_test(counts, {"v2": 50, "v3": 50})
    assert gof.plot().get_title().startswith("n = 10,000")
    assert "observed" in split_ci(counts).to_pandas()


def test_simulation_plot_and_fallthrough(sim: istiosim.Simulator) -> None:
    res = sim.simulate(Request("reviews"), 20_000, rng=2)
    ax = res.plot(weights={"v2": 80, "v3": 20})
    assert ax.get_xlabel() == "subset" and "20,000 requests" in ax.get_title()
    observed = [float(y) for y in ax.containers[0].lines[0].get_ydata()]
    shares = res.shares("subset")
    assert observed == pytest.approx([100 * (shares["v2"] - 0.8), 100 * (shares["v3"] - 0.2)])
    plain = res.plot()
    assert plain.get_ylabel() == "share of requests"
    assert [float(y) for y in plain.containers[0].lines[0].get_ydata()] == pytest.approx(
        [shares["v2"], shares["v3"]]
    )
    t = Traffic.users(Request("reviews"), named={SCRIPT: 0.3})
    kept = sim.simulate(t, 5_000, rng=2, keep=True)
    from istiosim.display.plot import fallthrough

    ax = fallthrough(kept)
    assert ax.get_ylabel() == "request class"
    widths = {}
    for bars, label in zip(ax.containers, ax.get_legend_handles_labels()[1], strict=True):
        widths[label] = [b.get_width() for b in bars]
    assert widths["reviews rule 0"][0] == pytest.approx(1.0)  # the named user: rule 0
    assert widths["reviews rule 1"][1] == pytest.approx(1.0)  # everyone else falls through
    with pytest.raises(istiosim.InvalidArgument, match="keep=True"):
        fallthrough(sim.simulate(t, 100, rng=1))


def test_what_if_callback_uses_the_exact_evaluator(sim: istiosim.Simulator) -> None:
    t = Traffic.users(Request("reviews"), named={SCRIPT: 0.1})
    w = WhatIf(sim, "reviews", t)
    assert w.weights == {1: [80, 20]} and list(w.header_rules) == [0]
    table = w.evaluate({1: [50, 50]})
    shares = {r[1]: (r[3], r[4]) for r in table.rows}
    assert shares["v3"] == pytest.approx((0.1 + 0.9 * 0.2, 0.1 + 0.9 * 0.5))
    off = w.evaluate(disabled=[0])
    assert {r[1]: r[4] for r in off.rows}["v3"] == pytest.approx(0.2)
    assert "+" in str(table) and "pp" in str(table)
    assert "every weight is 0" in w.evaluate({1: [0, 0]}).title
    refused = w.evaluate(disabled=[0, 1])  # no http route left: the webhook's refusal, shown
    assert refused.title == "Istio would refuse this VirtualService"
    assert any("IST0106" in n for n in refused.notes)
    with pytest.raises(istiosim.InvalidArgument, match="2 destination"):
        w.evaluate({1: [100]})
    assert w.plot(table).get_ylabel() == "share of requests"
    box = w.widget()  # builds without a browser; a toggle re-evaluates through the callback
    seen = []
    orig = w.evaluate
    w.evaluate = lambda *a, **k: seen.append((a, k)) or orig(*a, **k)  # type: ignore[method-assign]
    toggle = next(c for c in box.children if type(c).__name__ == "Checkbox")
    toggle.value = False
    assert seen and seen[-1][0][1] == [0]


def test_diagnostics_and_case_reports() -> None:
    sim = load_demo(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ratings}\n"
        "spec:\n  host: ratings\n  subsets:\n  - name: v9\n    labels: {version: v9}\n"
    )
    d = sim.diagnostics[0]
    assert repr(d).startswith(f"<Diagnostic {d.severity.value} {d.code}")
    assert d.code in d._repr_html_()
    assert "DestinationRuleSubsetNotSelectPods" in as_html(list(sim.diagnostics))
    demo = load_demo("canary-50-50.yaml")
    from conftest import DATA

    rep = run_cases(demo, DATA / "cases" / "demo-canary.cases.yaml")
    df = rep.to_pandas()
    assert list(df["result"].cat.categories) == ["PASS"] and len(df) == 5
    page = rep._repr_html_()
    assert "random value 49 reaches v2" in page and "5 case(s): 5 passed, 0 failed" in page
    one = rep.results[0]
    assert "trace: why" in one._repr_html_() and pretty(one).startswith("PASS ")


def test_missing_pandas_says_which_extra(monkeypatch: pytest.MonkeyPatch, sim: istiosim.Simulator) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtra, match=r"istiosim\[pandas\]"):
        sim.simulate(Request("reviews"), 10, rng=1).to_pandas()


def test_display_imports_nothing_optional() -> None:
    code = (
        "import sys, istiosim.display, istiosim.display.objects, istiosim.display.plot, "
        "istiosim.display.whatif, istiosim.results; "
        "print(sorted(m for m in ('IPython', 'pandas', 'matplotlib', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_text_helpers_render_tables() -> None:
    t = Table("t", (Col("name"), Col("n", "count"), Col("s", "share")), [("a", 1234567, 0.5)])
    assert as_text(t).splitlines()[3] == "a     1,234,567  50.00%"


def test_plots_for_diff_and_rollout_results_take_plain_data() -> None:
    from istiosim.display.plot import before_after, steps

    ax = before_after(["v1", "v2"], [1.0, 0.0], [0.5, 0.5])
    assert ax.get_ylabel() == "share of requests"
    assert [b.get_height() for b in ax.containers[1]] == [0.5, 0.5]
    ax = steps(["0", "1", "2"], {"v1": [1.0, 0.9, 0.5], "v2": [0.0, 0.1, 0.5]},
               unverifiable=[False, True, False])
    assert ax.get_xlabel() == "rollout step"
    assert [b.get_y() for b in ax.containers[1]] == [1.0, 0.9, 0.5]  # v2 stacked on v1
    assert [t.get_text() for t in ax.texts] == ["not verifiable\nin time"]
