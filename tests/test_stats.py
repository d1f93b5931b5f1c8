"""istiosim.stats against scipy as an oracle, plus input validation and rendering.

Statistical tests use fixed seeds, so they are deterministic; each states the probability that
it would fail for a correct implementation if the random stream changed (numpy upgrade).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from istiosim import stats
from istiosim.errors import InvalidArgument, IstiosimError
from istiosim.stats import (
    SequentialSplitTest,
    expected_counts,
    expected_distribution,
    required_samples,
    split_ci,
    split_equivalence,
    split_test,
    srm_check,
)
from istiosim.stats.goodness_of_fit import _min_pvalue
from istiosim.stats.inputs import _exact_weights


class FakeResult:
    """Duck-typed stand-in for the simulator's SimulationResult."""

    def __init__(self, counts: dict[str, int], seed: object = None) -> None:
        self._counts = counts
        self.seed = seed

    def subset_counts(self) -> dict[str, int]:
        return dict(self._counts)


# --- import cost ----------------------------------------------------------------------------


def test_import_does_not_load_scipy() -> None:
    code = "import sys, istiosim.stats; assert 'scipy' not in sys.modules, 'scipy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- exact / deterministic ------------------------------------------------------------------


def test_expected_distribution_normalises_weights() -> None:
    assert expected_distribution({"v1": 3, "v2": 1}) == {"v1": 0.75, "v2": 0.25}
    assert expected_distribution([1, 1, 2]) == {"0": 0.25, "1": 0.25, "2": 0.5}
    assert expected_distribution({"a": 0, "b": 5}) == {"a": 0.0, "b": 1.0}


@pytest.mark.parametrize(
    ("n", "weights", "expected"),
    [
        (1000, {"a": 70, "b": 30}, {"a": 700, "b": 300}),
        (999, {"a": 70, "b": 30}, {"a": 699, "b": 300}),  # 699.3 / 299.7: largest remainder
        (7, [34, 33, 33], {"0": 3, "1": 2, "2": 2}),
        (10, [0.1, 0.9], {"0": 1, "1": 9}),  # decimal weights, no float drift
        (3, [1, 1, 1, 1], {"0": 1, "1": 1, "2": 1, "3": 0}),  # ties go to the earlier arm
        (0, {"a": 1}, {"a": 0}),
        (5, {"a": 0, "b": 1}, {"a": 0, "b": 5}),
    ],
)
def test_expected_counts_examples(n: int, weights: stats.Weights, expected: dict[str, int]) -> None:
    assert expected_counts(n, weights) == expected


weights_st = st.lists(st.integers(0, 1000), min_size=1, max_size=6).filter(lambda w: sum(w) > 0)


@given(n=st.integers(0, 10**7), weights=weights_st)
def test_expected_counts_is_stratified(n: int, weights: list[int]) -> None:
    counts = expected_counts(n, weights)
    total = sum(weights)
    assert sum(counts.values()) == n
    for w, k in zip(weights, counts.values(), strict=True):
        assert abs(n * w - total * k) < total  # within ±1 of n*w/W, in integers
        if w == 0:
            assert k == 0
    assert expected_counts(n, weights) == counts


@pytest.mark.parametrize("n", [-1, 1.5, True, "10"])
def test_expected_counts_rejects_bad_n(n: object) -> None:
    with pytest.raises(InvalidArgument, match="n must be"):
        expected_counts(n, [1, 1])  # type: ignore[arg-type]


# --- input validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "weights", "message"),
    [
        ({"v1": 5, "v3": 1}, {"v1": 1, "v2": 1}, r"observed subset 'v3' has no weight.*'v2'"),
        ({"v1": -1, "v2": 3}, {"v1": 1, "v2": 1}, r"count of 'v1' must not be negative"),
        ({"v1": 1.5, "v2": 3}, {"v1": 1, "v2": 1}, r"count of 'v1' must be a whole number"),
        ({"v1": 1, "v2": 3}, {"v1": -1, "v2": 1}, r"weight of 'v1' must not be negative"),
        ({"v1": 1, "v2": 3}, {"v1": float("nan"), "v2": 1}, r"weight of 'v1' must be finite"),
        ({"v1": 1, "v2": 3}, {"v1": math.inf, "v2": 1}, r"weight of 'v1' must be finite"),
        ({"v1": 1, "v2": 3}, {"v1": True, "v2": 1}, r"weight of 'v1' must be a number"),
        ({"v1": 1, "v2": 3}, {"v1": 0, "v2": 0}, r"all weights are zero"),
        ({}, {}, r"weights is empty"),
        ({"v1": 0, "v2": 0}, {"v1": 1, "v2": 1}, r"empty \(n = 0\)"),
        ([1, 2, 3], [1, 1], r"observed has 3 counts but there are 2 weights"),
        ({1: 2}, {1: 1}, r"subset names must be strings"),
    ],
)
def test_bad_inputs_raise_invalid_argument(
    observed: stats.Counts, weights: stats.Weights, message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        split_test(observed, weights)


def test_invalid_argument_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="did you mean 'v2'"):
        split_test({"v1": 5, "v22": 1}, {"v1": 1, "v2": 1})
    assert issubclass(InvalidArgument, IstiosimError)


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1, float("nan")])
def test_alpha_must_be_in_unit_interval(alpha: float) -> None:
    with pytest.raises(InvalidArgument, match="alpha must be between 0 and 1"):
        split_test([5, 5], [1, 1], alpha=alpha)
    with pytest.raises(InvalidArgument, match="alpha"):
        split_ci([5, 5], alpha=alpha)
    with pytest.raises(InvalidArgument, match="alpha"):
        SequentialSplitTest([1, 1], alpha=alpha)


@pytest.mark.parametrize("tolerance", [0, 1, 2, -0.01])
def test_tolerance_must_be_in_unit_interval(tolerance: float) -> None:
    with pytest.raises(InvalidArgument, match="tolerance must be between 0 and 1"):
        split_equivalence([5, 5], [1, 1], tolerance=tolerance)
    with pytest.raises(InvalidArgument, match="tolerance"):
        required_samples([1, 1], tolerance=tolerance)


def test_bad_method_names() -> None:
    with pytest.raises(InvalidArgument, match="method must be one of"):
        split_test([5, 5], [1, 1], method="fisher")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="exactly 2 arms"):
        split_test([5, 5, 5], [1, 1, 1], method="binomial")
    with pytest.raises(InvalidArgument, match="method must be one of"):
        split_ci([5, 5], method="wald")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="kind must be"):
        required_samples([1, 1], tolerance=0.01, kind="power")  # type: ignore[arg-type]


def test_observed_object_with_subset_counts_and_seed() -> None:
    res = split_test(FakeResult({"v1": 60, "v2": 40}, seed=7), {"v1": 50, "v2": 50})
    assert res.observed == (60, 40)
    assert res.seed == 7
    assert split_test(FakeResult({"v1": 6}), {"v1": 1, "v2": 1}).seed is None
    assert split_test({"v1": 6}, {"v1": 1, "v2": 1}).observed == (6, 0)  # missing arm = 0


def test_sequence_counts_align_with_mapping_weights() -> None:
    res = split_test([60, 40], {"v1": 50, "v2": 50})
    assert res.arms == ("v1", "v2")
    assert res.observed == (60, 40)
    assert split_test(np.array([60, 40]), np.array([1.0, 1.0])).arms == ("0", "1")


# --- goodness of fit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "p"),
    [(5124, 10_000, 0.5), (3, 10, 0.5), (40, 50, 0.9), (0, 100, 0.99), (989, 1000, 0.99)],
)
def test_binomial_matches_scipy(k: int, n: int, p: float) -> None:
    res = split_test([k, n - k], [p, 1 - p])
    oracle = sps.binomtest(k, n, p)
    assert res.method == "binomial"
    assert res.pvalue == pytest.approx(oracle.pvalue, rel=1e-12)
    assert res.statistic == pytest.approx(k / n)
    assert res.df is None


@pytest.mark.parametrize(
    ("observed", "weights"),
    [([3400, 3300, 3300], [1, 1, 1]), ([520, 260, 220], [50, 30, 20]), ([7, 2, 1], [1, 1, 1])],
)
def test_pearson_and_g_match_scipy(observed: list[int], weights: list[int]) -> None:
    n = sum(observed)
    f_exp = n * np.asarray(weights) / sum(weights)
    pearson = split_test(observed, weights, method="pearson")
    oracle = sps.chisquare(observed, f_exp)
    assert (pearson.statistic, pearson.pvalue) == pytest.approx(
        (oracle.statistic, oracle.pvalue), rel=1e-12
    )
    assert pearson.df == len(observed) - 1
    g = split_test(observed, weights, method="g")
    g_oracle = sps.power_divergence(observed, f_exp, lambda_="log-likelihood")
    assert (g.statistic, g.pvalue) == pytest.approx((g_oracle.statistic, g_oracle.pvalue))


def _brute_force_exact(observed: list[int], p: list[float]) -> float:
    """Exact multinomial p-value by enumeration with scipy's pmf, Pearson ordering."""
    n = len(observed)
    total = sum(observed)
    e = np.asarray(p) * total

    def x2(x: tuple[int, ...]) -> float:
        return float(((np.asarray(x) - e) ** 2 / e).sum())

    ref = x2(tuple(observed))
    outcomes = [x for x in itertools.product(range(total + 1), repeat=n) if sum(x) == total]
    return sum(float(sps.multinomial.pmf(x, total, p)) for x in outcomes if x2(x) >= ref - 1e-9)


@pytest.mark.parametrize(
    ("observed", "weights"),
    [
        ([7, 2, 1], [1, 1, 1]),
        ([0, 5, 9], [2, 3, 5]),
        ([4, 4, 4, 0], [1, 1, 1, 1]),
        ([5, 5], [1, 3]),
    ],
)
def test_exact_matches_brute_force(observed: list[int], weights: list[int]) -> None:
    p = [w / sum(weights) for w in weights]
    res = split_test(observed, weights, method="exact")
    assert res.pvalue == pytest.approx(_brute_force_exact(observed, p), rel=1e-9)


def test_exact_reproduces_statistics_md() -> None:
    # statistics.md A2: [7, 2, 1] against 1/3 each, statistic ordering -> 0.059
    assert split_test([7, 2, 1], [1, 1, 1]).pvalue == pytest.approx(0.059, abs=5e-4)


def test_monte_carlo_agrees_with_exact_and_is_seeded() -> None:
    exact = split_test([7, 2, 1], [1, 1, 1], method="exact").pvalue
    mc = split_test([7, 2, 1], [1, 1, 1], method="monte-carlo", rng=1)
    # 100k resamples: standard error 0.00075; 5 SE has probability < 1e-6 of being exceeded
    assert mc.pvalue == pytest.approx(exact, abs=0.0038)
    assert mc.method == "monte-carlo"
    again = split_test([7, 2, 1], [1, 1, 1], method="monte-carlo", rng=np.random.default_rng(1))
    assert again.pvalue == mc.pvalue
    with pytest.raises(InvalidArgument, match="n_resamples"):
        split_test([7, 2, 1], [1, 1, 1], method="monte-carlo", n_resamples=0)


def test_exact_refuses_huge_enumerations() -> None:
    with pytest.raises(InvalidArgument, match="monte-carlo"):
        split_test([2000, 1000, 1000], [1, 1, 1], method="exact")


@pytest.mark.parametrize(
    ("observed", "weights", "alpha", "method"),
    [
        ([500, 500], [1, 1], 0.05, "binomial"),
        ([3, 1], [99, 1], 1e-6, "binomial"),
        ([400, 300, 300], [4, 3, 3], 0.05, "pearson"),
        ([60, 20, 20], [6, 2, 2], 0.05, "pearson"),  # min expected 20 >= 5 at alpha 0.05
        ([60, 20, 20], [6, 2, 2], 0.001, "exact"),  # ... but < 50 at a strict alpha
        ([3960, 20, 20], [99, 0.5, 0.5], 0.001, "monte-carlo"),  # too many outcomes
        ([3960, 20, 20], [99, 0.5, 0.5], 1e-6, "pearson"),  # MC cannot resolve 1e-6
    ],
)
def test_auto_method_choice(
    observed: list[int], weights: list[float], alpha: float, method: str
) -> None:
    assert split_test(observed, weights, alpha=alpha, rng=0).method == method


def test_zero_weight_arm_with_hits_is_a_mismatch() -> None:
    res = split_test({"v1": 500, "v2": 499, "v3": 1}, {"v1": 50, "v2": 50, "v3": 0})
    assert (res.method, res.pvalue, res.verdict, res.rejected) == (
        "zero-weight",
        0.0,
        "mismatch",
        True,
    )
    assert res.to_dict()["statistic"] is None  # inf is not JSON


def test_zero_weight_arm_without_hits_is_left_out() -> None:
    res = split_test({"v1": 520, "v2": 480, "v3": 0}, {"v1": 50, "v2": 50, "v3": 0})
    assert res.method == "binomial"
    assert res.pvalue == pytest.approx(sps.binomtest(520, 1000, 0.5).pvalue)
    single = split_test({"v1": 10, "v2": 0}, {"v1": 1, "v2": 0})
    assert (single.method, single.pvalue, single.verdict) == ("single-arm", 1.0, "consistent")


def test_srm_reproduces_fabijan_example() -> None:
    # statistics.md A3: 821,588 vs 815,482 -> chi2 = 22.8, p = 1.8e-6
    res = srm_check({"a": 821_588, "b": 815_482}, {"a": 1, "b": 1})
    assert res.alpha == 5e-4
    assert res.verdict == "mismatch"
    assert res.pvalue == pytest.approx(1.8e-6, rel=0.05)
    pearson = split_test([821_588, 815_482], [1, 1], method="pearson")
    assert pearson.statistic == pytest.approx(22.8, abs=0.05)


def test_srm_insufficient_data_thresholds() -> None:
    # exact binomial, 50/50, alpha 5e-4: all-in-one-arm has p = 2 / 2^n; reachable from n = 12
    assert srm_check([11, 0], [1, 1]).verdict == "insufficient-data"
    assert srm_check([6, 5], [1, 1]).verdict == "insufficient-data"
    assert srm_check([12, 0], [1, 1]).verdict == "mismatch"
    assert srm_check([6, 6], [1, 1]).verdict == "consistent"
    # chi-square reproduces Microsoft's "at least 13 samples" (critical value 12.116)
    assert split_test([12, 0], [1, 1], alpha=5e-4, method="pearson").verdict == "insufficient-data"
    assert split_test([13, 0], [1, 1], alpha=5e-4, method="pearson").verdict == "mismatch"
    # three arms, exact: all in one arm has p = 3 * (1/3)^n
    assert srm_check([6, 0, 0], [1, 1, 1]).verdict == "insufficient-data"  # 3/729 > 5e-4
    assert srm_check([8, 0, 0], [1, 1, 1]).verdict == "mismatch"  # 3/6561 < 5e-4


def test_split_test_result_api() -> None:
    res = split_test({"v1": 5124, "v2": 4876}, {"v1": 50, "v2": 50})
    statistic, pvalue = res
    assert (statistic, pvalue) == (res.statistic, res.pvalue)
    assert res.rejected is (res.pvalue < res.alpha)
    assert res.expected == (5000.0, 5000.0)
    assert res.max_abs_deviation == pytest.approx(0.0124)
    assert res.ci.confidence_level == pytest.approx(0.95)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.pvalue = 1.0  # type: ignore[misc]


def test_split_test_text_table_is_golden() -> None:
    res = split_test(FakeResult({"v1": 5124, "v2": 4876}, seed=7), {"v1": 50, "v2": 50})
    assert str(res) == (
        "split test (binomial): p = 0.01351, alpha = 0.05 -> mismatch\n"
        "arm  weight  expected share  observed  observed share            95% CI\n"
        "---  ------  --------------  --------  --------------  ----------------\n"
        "v1       50          50.00%     5,124          51.24%  [50.26%, 52.22%]\n"
        "v2       50          50.00%     4,876          48.76%  [47.78%, 49.74%]\n"
        "n = 10,000; statistic = 0.5124; df = -; seed = 7"
    )


def test_results_are_json_and_html() -> None:
    weights = {"<b>v1</b>": 50, "v2": 50}
    observed = {"<b>v1</b>": 5, "v2": 5}
    results = [
        split_test(observed, weights),
        srm_check(observed, weights),
        split_ci(observed),
        split_equivalence(observed, weights),
        SequentialSplitTest(weights).update(observed),
    ]
    for res in results:
        json.dumps(res.to_dict(), allow_nan=False)
        page = res._repr_html_()
        assert "<table" in page
        assert "&lt;b&gt;v1&lt;/b&gt;" in page
        assert "<b>v1</b>" not in page
        assert "<b>v1</b>" in str(res)
    d = results[0].to_dict()
    assert d["arms"][0] == {
        "arm": "<b>v1</b>",
        "weight": 50.0,
        "expected_share": 0.5,
        "expected": 5.0,
        "observed": 5,
        "observed_share": 0.5,
        "ci_low": pytest.approx(0.2366, abs=1e-4),
        "ci_high": pytest.approx(0.7634, abs=1e-4),
    }


# --- intervals ------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(5060, 10_000), (0, 20), (20, 20), (1, 7), (33, 1000)])
@pytest.mark.parametrize("alpha", [0.05, 1e-6])
def test_intervals_match_scipy(k: int, n: int, alpha: float) -> None:
    counts = {"a": k, "b": n - k}
    oracle = sps.binomtest(k, n)
    wilson = split_ci(counts, alpha=alpha).interval("a")
    ref = oracle.proportion_ci(confidence_level=1 - alpha, method="wilson")
    assert wilson == pytest.approx((ref.low, ref.high), rel=1e-9, abs=1e-12)
    cp = split_ci(counts, alpha=alpha, method="clopper-pearson").interval("a")
    ref = oracle.proportion_ci(confidence_level=1 - alpha, method="exact")
    assert cp == pytest.approx((ref.low, ref.high), rel=1e-9, abs=1e-12)
    jeffreys = split_ci(counts, alpha=alpha, method="jeffreys").interval("a")
    jref = sps.beta.ppf([alpha / 2, 1 - alpha / 2], k + 0.5, n - k + 0.5)
    jref = (0.0 if k == 0 else jref[0], 1.0 if k == n else jref[1])
    assert jeffreys == pytest.approx(jref, rel=1e-9, abs=1e-12)


def test_intervals_reproduce_statistics_md() -> None:
    # statistics.md A5, 5060/10000 at 95%
    assert split_ci([5060, 4940]).interval("0") == pytest.approx((0.49620, 0.51579), abs=1e-5)
    cp = split_ci([5060, 4940], method="clopper-pearson").interval("0")
    assert cp == pytest.approx((0.49615, 0.51585), abs=1e-5)
    jeffreys = split_ci([5060, 4940], method="jeffreys").interval("0")
    assert jeffreys == pytest.approx((0.49620, 0.51580), abs=1e-5)


@pytest.mark.parametrize("n", [10**9, 2**31 - 2])
def test_clopper_pearson_survives_a_wrong_betaincinv(n: int) -> None:
    """scipy's betaincinv(1000, n - 999, 0.025) is off by a factor 30 and 2.2 at these n:
    the bound is the one where the binomial tail (bdtrc, independent of betaincinv) is 0.025."""
    from scipy.special import bdtrc

    low, high = split_ci([1000, n - 1000], method="clopper-pearson").interval("0")
    assert float(bdtrc(999, n, low)) == pytest.approx(0.025, rel=1e-6)
    # and a Poisson bound to O(k/n): chi2(2000) 2.5% quantile / 2n
    assert low == pytest.approx(sps.chi2.ppf(0.025, 2000) / (2 * n), rel=1e-5)
    assert high == pytest.approx(sps.chi2.ppf(0.975, 2002) / (2 * n), rel=1e-5)


@pytest.mark.parametrize("counts", [[3340, 3330, 3330], [50, 30, 20, 5], [900, 100]])
def test_simultaneous_wilson_is_goodman(counts: list[int]) -> None:
    """Goodman (1965): chi-square(1) quantile at 1 - alpha/k in the score interval."""
    alpha, k, n = 0.05, len(counts), sum(counts)
    a = sps.chi2.ppf(1 - alpha / k, 1)
    res = split_ci(counts, alpha=alpha, simultaneous=True)
    assert res.method == "goodman"
    for i, c in enumerate(counts):
        root = math.sqrt(a * (a + 4 * c * (n - c) / n))
        low, high = (a + 2 * c - root) / (2 * (n + a)), (a + 2 * c + root) / (2 * (n + a))
        assert res.interval(str(i)) == pytest.approx((low, high), rel=1e-9)


def test_split_ci_accepts_mapping_and_result_objects() -> None:
    res = split_ci(FakeResult({"v1": 30, "v2": 70}))
    assert res.arms == ("v1", "v2")
    assert res.shares == (0.3, 0.7)
    assert res.n == 100
    with pytest.raises(InvalidArgument, match="empty"):
        split_ci([0, 0])


@given(counts=st.lists(st.integers(0, 10**6), min_size=1, max_size=5).filter(lambda c: sum(c) > 0))
def test_intervals_contain_the_observed_share(counts: list[int]) -> None:
    for method in ("wilson", "clopper-pearson", "jeffreys"):
        res = split_ci(counts, method=method)  # type: ignore[arg-type]
        for s, lo, hi in zip(res.shares, res.low, res.high, strict=True):
            assert 0.0 <= lo <= s <= hi <= 1.0


def test_wilson_coverage_seeded() -> None:
    # 4,000 draws of Binomial(200, 0.3): coverage of a 95% Wilson interval is about 0.95 here;
    # the band [0.935, 0.965] holds with probability > 1 - 1e-5 (binomial SE 0.0034).
    rng = np.random.default_rng(20261126)
    k = rng.binomial(200, 0.3, size=4000)
    covered = 0
    for ki in k:
        lo, hi = split_ci([int(ki), 200 - int(ki)]).interval("0")
        covered += lo <= 0.3 <= hi
    assert 0.935 <= covered / 4000 <= 0.965


# --- equivalence ----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [4800, 4855, 4856, 4900, 5000, 5100, 5144, 5145, 5200, 5300])
def test_exact_tost_matches_scipy(k: int) -> None:
    n, tol, alpha = 10_000, 0.02, 0.05
    res = split_equivalence({"a": k, "b": n - k}, {"a": 1, "b": 1}, tolerance=tol, alpha=alpha)
    p_low = sps.binom.sf(k - 1, n, 0.5 - tol)  # H0: p <= 0.48
    p_high = sps.binom.cdf(k, n, 0.5 + tol)  # H0: p >= 0.52
    assert res.arm_pvalues[0] == pytest.approx(max(p_low, p_high), rel=1e-9, abs=1e-300)
    # TOST at alpha == the Clopper-Pearson (1 - 2 alpha) interval inside the band
    lo, hi = sps.binomtest(k, n).proportion_ci(1 - 2 * alpha, method="exact")
    assert (res.arm_status[0] == "inside") == (0.5 - tol < lo and hi < 0.5 + tol)
    assert (res.arm_status[0] == "outside") == (hi < 0.5 - tol or lo > 0.5 + tol)
    assert res.ci.interval("a") == pytest.approx((lo, hi))


@pytest.mark.parametrize("k", [4800, 4856, 5000, 5145, 5300])
def test_wilson_tost_matches_the_wilson_interval(k: int) -> None:
    n, tol, alpha = 10_000, 0.02, 0.05
    res = split_equivalence([k, n - k], [1, 1], tolerance=tol, alpha=alpha, method="wilson")
    lo, hi = sps.binomtest(k, n).proportion_ci(1 - 2 * alpha, method="wilson")
    assert (res.arm_status[0] == "inside") == (0.5 - tol < lo and hi < 0.5 + tol)
    assert res.ci.interval("0") == pytest.approx((lo, hi))
    z_low = (k / n - 0.48) / math.sqrt(0.48 * 0.52 / n)
    z_high = (k / n - 0.52) / math.sqrt(0.52 * 0.48 / n)
    oracle = max(sps.norm.sf(z_low), sps.norm.cdf(z_high))
    assert res.arm_pvalues[0] == pytest.approx(oracle, rel=1e-9, abs=1e-300)


def test_equivalence_verdicts() -> None:
    w = {"v1": 50, "v2": 50}
    eq = split_equivalence({"v1": 50_600, "v2": 49_400}, w)
    assert (eq.verdict, eq.equivalent, eq.arm_status) == ("equivalent", True, ("inside", "inside"))
    assert eq.pvalue == max(eq.arm_pvalues) < 0.05
    assert eq.ci.confidence_level == pytest.approx(0.9)
    inconclusive = split_equivalence({"v1": 506, "v2": 494}, w)
    assert inconclusive.verdict == "inconclusive"
    assert inconclusive.n_required == required_samples(w, tolerance=0.01, alpha=0.05, power=0.9)
    off = split_equivalence({"v1": 53_000, "v2": 47_000}, w)
    assert off.verdict == "not-equivalent"
    assert off.arm_status == ("outside", "outside")
    assert off.gof.rejected


def test_equivalence_weight_zero_arm() -> None:
    w = {"v1": 50, "v2": 50, "v3": 0}
    clean = split_equivalence({"v1": 50_000, "v2": 50_000}, w)
    assert clean.verdict == "equivalent"
    assert clean.arm_status[2] == "inside"
    hit = split_equivalence({"v1": 50_000, "v2": 49_999, "v3": 1}, w)
    assert hit.verdict == "not-equivalent"
    assert hit.arm_status == ("inside", "inside", "hit")
    assert hit.gof.method == "zero-weight"


def test_equivalence_band_clipped_at_zero() -> None:
    # a 1% arm with a 2 pp tolerance: only the upper test can fail
    eq = split_equivalence([99_000, 1_000], [99, 1], tolerance=0.02)
    assert eq.verdict == "equivalent"
    assert eq.to_dict()["arms"][1]["band_low"] == 0.0
    with pytest.raises(InvalidArgument, match=r"alpha must be between 0 and 0\.5"):
        split_equivalence([5, 5], [1, 1], alpha=0.5)


# --- sample size ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "tolerance", "alpha", "power", "expected"),
    [  # statistics.md A4 table (normal approximation)
        ([50, 50], 0.01, 0.05, 0.8, 21_410),
        ([50, 50], 0.01, 1e-3, 0.99, 80_261),
        ([50, 50], 0.01, 1e-6, 0.999, 161_763),
        ([50, 50], 0.005, 0.05, 0.8, 85_639),
        ([50, 50], 0.001, 1e-6, 0.999, 16_176_288),
        ([50, 50], 0.01, 0.05, 0.9, 27_056),
        ([95, 5], 0.005, 1e-6, 0.999, 122_940),
    ],
)
def test_required_samples_equivalence_table(
    weights: list[int], tolerance: float, alpha: float, power: float, expected: int
) -> None:
    got = required_samples(weights, tolerance=tolerance, alpha=alpha, power=power)
    assert abs(got - expected) <= max(2, expected * 1e-6)


def test_required_samples_gives_the_power_it_promises() -> None:
    """Exact power of the exact TOST at the returned n, summed over the binomial law."""
    n = required_samples([50, 50], tolerance=0.01, alpha=0.05, power=0.9)
    k = np.arange(n + 1)
    passes = (sps.binom.sf(k - 1, n, 0.49) < 0.05) & (sps.binom.cdf(k, n, 0.51) < 0.05)
    power = sps.binom.pmf(k[passes], n, 0.5).sum()
    assert 0.88 <= power <= 0.92  # the normal approximation is close, not exact


def test_required_samples_detect_matches_statistics_md() -> None:
    # A2: 51/49 vs 50/50 (w = 0.02) needs 19,623 at alpha 0.05 and 46,708 at 5e-4 (power 0.8)
    assert required_samples([1, 1], tolerance=0.01, power=0.8, kind="detect") == 19_623
    got = required_samples([1, 1], tolerance=0.01, alpha=5e-4, power=0.8, kind="detect")
    assert got == 46_708
    # the noncentral chi-square oracle, directly
    n = required_samples([50, 30, 20], tolerance=0.01, power=0.9, kind="detect")
    nc = n * 0.01**2 * (1 / 0.5 + 1 / 0.3)
    crit = sps.chi2.isf(0.05, 2)
    assert sps.ncx2.sf(crit, 2, nc) >= 0.9 > sps.ncx2.sf(crit, 2, nc - 0.01**2 * (2 + 1 / 0.3))


def test_required_samples_edge_cases() -> None:
    # weight-0 arm: n with (1 - tolerance)^n < alpha
    assert required_samples([1, 0], tolerance=0.01, alpha=1e-6) == math.ceil(
        math.log(1e-6) / math.log(0.99)
    )
    assert required_samples([1, 0], tolerance=0.01, power=0.9, kind="detect") == 230
    with pytest.raises(InvalidArgument, match="one arm"):
        required_samples([1], tolerance=0.01, kind="detect")
    with pytest.raises(InvalidArgument, match="power"):
        required_samples([1, 1], tolerance=0.01, power=1.0)


# --- sequential -----------------------------------------------------------------------------


def test_sequential_e_value_is_dirichlet_multinomial_bayes_factor() -> None:
    weights, c = [50, 30, 20], 100.0
    p = np.array([0.5, 0.3, 0.2])
    seq = SequentialSplitTest(weights, prior_strength=c)
    for x in ([5, 3, 2], [60, 20, 20], [530, 290, 180], [5300, 2900, 1800]):
        res = seq.update(x)
        oracle = sps.dirichlet_multinomial.logpmf(x, c * p, sum(x)) - sps.multinomial.logpmf(
            x, sum(x), p
        )
        assert res.log_e_value == pytest.approx(oracle, rel=1e-9, abs=1e-9)
    assert res.looks == 4
    assert res.n == 10_000


def test_sequential_pvalue_uses_running_maximum() -> None:
    seq = SequentialSplitTest({"a": 1, "b": 1}, alpha=0.05)
    r1 = seq.update({"a": 70, "b": 30})
    r2 = seq.update({"a": 500, "b": 500})
    assert r1.log_e_value > r2.log_e_value
    assert r2.max_log_e_value == r1.log_e_value
    assert r2.pvalue == pytest.approx(min(1.0, math.exp(-r1.log_e_value)))
    assert r2.rejected is r1.rejected is (r1.pvalue <= 0.05)
    assert seq.result is r2
    with pytest.raises(InvalidArgument, match="cumulative: 'a' went down from 500 to 499"):
        seq.update({"a": 499, "b": 600})


def test_sequential_zero_weight_hit_rejects() -> None:
    seq = SequentialSplitTest({"a": 1, "b": 0})
    assert not seq.update({"a": 100}).rejected
    res = seq.update(FakeResult({"a": 100, "b": 1}, seed=3))
    assert (res.rejected, res.pvalue, res.verdict, res.seed) == (True, 0.0, "mismatch", 3)
    assert res.to_dict()["log_e_value"] is None


def test_sequential_rejects_bad_prior() -> None:
    with pytest.raises(InvalidArgument, match="prior_strength"):
        SequentialSplitTest([1, 1], prior_strength=0)


def test_sequential_false_alarm_rate_seeded() -> None:
    # 400 A/A streams of 50/50, a look every 200 requests up to 10,000 (50 looks). The chance of
    # any false alarm per stream is <= 0.05 (Ville); statistics.md measured about 0.03. With 400
    # streams, more than 40 alarms (10%) has probability < 1e-4 even at the 0.05 bound.
    rng = np.random.default_rng(20261126)
    alarms = 0
    for _ in range(400):
        seq = SequentialSplitTest([1, 1], alpha=0.05)
        steps = rng.multinomial(200, [0.5, 0.5], size=50).cumsum(axis=0)
        alarms += any(seq.update(step).rejected for step in steps)
    assert alarms <= 40


def test_sequential_detects_a_wrong_split_seeded() -> None:
    # 52/48 against 50/50: statistics.md measured every stream rejected by n = 20,000; the
    # probability that one given stream has not rejected by 40,000 is far below 1e-6.
    rng = np.random.default_rng(7)
    seq = SequentialSplitTest([1, 1])
    steps = rng.multinomial(1000, [0.52, 0.48], size=40).cumsum(axis=0)
    assert any(seq.update(step).rejected for step in steps)


def test_exact_weights_are_decimal() -> None:
    assert _exact_weights((0.1, 70.0, 1e-05)) == [
        Fraction(1, 10),
        Fraction(70),
        Fraction(1, 100_000),
    ]


@pytest.mark.parametrize(("n", "p"), [(5, 0.1), (20, 0.3), (11, 0.5), (3, 0.01), (40, 0.9)])
def test_smallest_reachable_binomial_pvalue(n: int, p: float) -> None:
    """The insufficient-data rule uses a closed form; binomtest at both extremes is the oracle."""
    oracle = min(sps.binomtest(k, n, p).pvalue for k in (0, n))
    got = _min_pvalue("binomial", n, np.array([p, 1 - p]), 100_000)
    assert got == pytest.approx(oracle, rel=1e-6)
