"""The statistics at production counts: n from 10^3 to 2^63 - 1 (issue 8).

Up to 2^31 - 1 scipy's binomial functions are exact; from 2^31 on they return NaN or wrong
answers, and ``istiosim.stats.binomial`` takes over. Every statistic is compared here with a
large-n reference written out in this file (normal approximation with continuity correction,
the closed-form chi-square(2) tail, the Laplace approximation of the Bayes factor), never with
the code under test. Tolerances are stated next to each reference: the normal approximation
differs from the exact binomial by O(1/sqrt(n)) relative at worst, so it is loose at n = 10^3
and tight from 2^31 on.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from istiosim.errors import InvalidArgument
from istiosim.stats import (
    SequentialSplitTest,
    expected_counts,
    required_samples,
    split_ci,
    split_equivalence,
    split_test,
    srm_check,
)
from istiosim.testing import assert_exact_split, assert_split

NS = [10**3, 2**31 - 2, 2**31 + 2, 10**12, 2**62]
LARGE = [n for n in NS if n >= 2**31 - 2]
Z975 = 1.959963984540054  # normal quantile 0.975


def upper(z: float) -> float:
    """P(Z >= z), standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def rel_tol(n: int) -> float:
    """How close the normal reference must be: O(1/sqrt(n)) at 10^3; from 2^31 - 2 on O(1/n),
    with a floor of 1e-5 for scipy's cephes ``bdtr`` (good to about 3e-6 just below 2^31)."""
    return 0.05 if n < 10**6 else 1e-5


def off_by_3_sigma(n: int) -> tuple[int, int]:
    """A 50/50 split off by three standard deviations (sigma = sqrt(n)/2): p about 0.0027."""
    k = n // 2 + round(1.5 * math.sqrt(n))
    return k, n - k


def perfect(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


# --- two arms: the exact binomial test and the SRM check ---------------------------------


@pytest.mark.parametrize("n", NS)
def test_binomial_test_perfect_split(n: int) -> None:
    res = split_test(perfect(n), [50, 50])
    assert res.method == "binomial"
    # n even: k = n/2 is the mode, so every outcome is as extreme: p = 1
    assert res.pvalue == 1.0
    assert res.verdict == "consistent"
    assert srm_check(perfect(n), [50, 50]).verdict == "consistent"


@pytest.mark.parametrize("n", NS)
def test_binomial_test_off_split_matches_normal(n: int) -> None:
    k, rest = off_by_3_sigma(n)
    # two-sided, symmetric at p = 1/2: 2 P(X >= k) ~ 2 (1 - Phi((k - 1/2 - n/2) / sigma))
    ref = 2 * upper((k - 0.5 - n / 2) / (math.sqrt(n) / 2))
    res = split_test([k, rest], [50, 50])
    assert res.pvalue == pytest.approx(ref, rel=rel_tol(n))
    assert res.verdict == "mismatch"  # p ~ 0.0027 < 0.05
    assert srm_check([k, rest], [50, 50]).verdict == "consistent"  # ... but > 5e-4


@pytest.mark.parametrize("n", LARGE)
def test_binomial_test_skewed_weights_matches_normal(n: int) -> None:
    # 70/30 off by 3 sigma upwards: the two tails differ by the skewness term of the Edgeworth
    # series, about (1 - 2p)/sigma · z^3 / 6 ~ 1e-4 at 2^31, which the normal reference lacks
    p = Fraction(7, 10)
    sd = math.sqrt(n * 0.21)
    k = math.floor(n * p) + round(3 * sd)
    z = float(k - Fraction(1, 2) - n * p) / sd
    res = split_test([k, n - k], [70, 30])
    assert res.pvalue == pytest.approx(2 * upper(z), rel=1e-3 if n < 10**10 else 1e-5)


def test_binomial_switch_at_2_31_is_continuous() -> None:
    """Just below 2^31 scipy decides, just above istiosim.stats.binomial: they agree."""
    below = split_test(off_by_3_sigma(2**31 - 2), [50, 50]).pvalue
    above = split_test(off_by_3_sigma(2**31 + 2), [50, 50]).pvalue
    assert above == pytest.approx(below, rel=1e-4)
    eq_b = split_equivalence(off_by_3_sigma(2**31 - 2), [50, 50], tolerance=4e-5)
    eq_a = split_equivalence(off_by_3_sigma(2**31 + 2), [50, 50], tolerance=4e-5)
    assert eq_a.pvalue == pytest.approx(eq_b.pvalue, rel=1e-3)


# --- equivalence (TOST), exact and Wilson -------------------------------------------------


@pytest.mark.parametrize("method", ["exact", "wilson"])
@pytest.mark.parametrize("n", [*LARGE, 2**63 - 1])
def test_perfect_split_is_equivalent(n: int, method: str) -> None:
    eq = split_equivalence(perfect(n), [50, 50], method=method)  # type: ignore[arg-type]
    assert eq.verdict == "equivalent"
    assert eq.arm_status == ("inside", "inside")
    assert eq.pvalue == 0.0  # ~ exp(-n * 1e-4 / 2): far below the smallest double
    assert not math.isnan(eq.pvalue)
    # the run is long enough: a verified split never asks for more requests than it has
    assert eq.n_required <= n


@pytest.mark.parametrize("n", NS)
def test_equivalence_pvalue_is_never_nan(n: int) -> None:
    eq = split_equivalence(perfect(n), [50, 50])
    assert math.isfinite(eq.pvalue)
    assert eq.verdict == ("inconclusive" if n < eq.n_required else "equivalent")


def tost_reference(k: int, n: int, tol: float, continuity: bool) -> float:
    """TOST p-value of arm share k/n > 1/2 against the band 1/2 ± tol: the upper side binds.

    Normal approximation of P(X <= k | p = 1/2 + tol), the deviation k - n·p exact.
    """
    hi = Fraction(0.5) + Fraction(tol)
    cc = Fraction(1, 2) if continuity else Fraction(0)
    sd = math.sqrt(n * float(hi) * (1 - float(hi)))
    return upper(-float(k + cc - n * hi) / sd)


@pytest.mark.parametrize("method", ["exact", "wilson"])
@pytest.mark.parametrize("n", NS)
def test_equivalence_pvalue_matches_normal(n: int, method: str) -> None:
    # arm 0 is 3 sigma above 1/2; the band reaches 2 standard errors beyond it: p ~ 0.023
    k, rest = off_by_3_sigma(n)
    se = 0.5 / math.sqrt(n)
    tol = (k / n - 0.5) + 2 * se
    eq = split_equivalence([k, rest], [50, 50], tolerance=tol, method=method)  # type: ignore[arg-type]
    ref = tost_reference(k, n, tol, continuity=method == "exact")
    assert eq.pvalue == pytest.approx(ref, rel=rel_tol(n))
    assert eq.verdict == "equivalent"  # 0.023 < 0.05
    strict = split_equivalence([k, rest], [50, 50], tolerance=tol, alpha=0.01, method=method)  # type: ignore[arg-type]
    assert strict.verdict == "inconclusive"


@pytest.mark.parametrize("n", LARGE)
def test_equivalence_outside_the_band_is_not_equivalent(n: int) -> None:
    k, rest = off_by_3_sigma(n)
    tol = (k / n - 0.5) / 3  # the share is 3 sigma off and the band is a third of that
    eq = split_equivalence([k, rest], [50, 50], tolerance=tol)
    assert eq.verdict == "not-equivalent"
    assert eq.arm_status == ("outside", "outside")


# --- intervals ------------------------------------------------------------------------------


# a 1% arm at n = 10^3 has 10 hits: share ± z·se is no reference for so few, so "rare" starts
# at the large sizes
_SHAPES = [(n, s) for n in NS for s in ("perfect", "off", "rare") if s != "rare" or n >= 10**6]


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson", "jeffreys"])
@pytest.mark.parametrize(("n", "shape"), _SHAPES)
def test_intervals_match_normal(n: int, method: str, shape: str) -> None:
    if shape == "perfect":
        k = n // 2
    elif shape == "off":
        k = off_by_3_sigma(n)[0]
    else:  # a 1% canary arm
        k = n // 100
    ci = split_ci([k, n - k], method=method)  # type: ignore[arg-type]
    share = k / n
    half = Z975 * math.sqrt(share * (1 - share) / n)
    # all three agree with share ± z·se to O(1/n), i.e. O(1/sqrt(n)) of the half-width
    tol = 0.06 if n < 10**6 else 1e-3
    low, high = ci.interval("0")
    assert low == pytest.approx(share - half, abs=tol * half)
    assert high == pytest.approx(share + half, abs=tol * half)
    assert low < share < high


@pytest.mark.parametrize("n", [2**31 + 2, 2**62])
def test_interval_of_a_tiny_count_matches_poisson(n: int) -> None:
    # 3 hits in n: the Clopper-Pearson bounds are the Poisson ones, chi2 quantiles / 2n:
    # chi2(6) 2.5% = 1.2373442, chi2(8) 97.5% = 17.534546 (relative error O(1/n) beyond)
    ci = split_ci([3, n - 3], method="clopper-pearson")
    low, high = ci.interval("0")
    assert low == pytest.approx(1.2373442 / (2 * n), rel=1e-6)
    assert high == pytest.approx(17.534546 / (2 * n), rel=1e-6)


# --- three arms: Pearson and G ----------------------------------------------------------


def chi2_reference(counts: list[int]) -> float:
    """Pearson statistic against 1/3 each, in exact arithmetic."""
    n = sum(counts)
    e = Fraction(n, 3)
    return float(sum((x - e) ** 2 / e for x in counts))


@pytest.mark.parametrize("n", NS)
def test_pearson_three_arms(n: int) -> None:
    exact = list(expected_counts(n, [1, 1, 1]).values())
    res = split_test(exact, [1, 1, 1])
    assert res.method == "pearson"
    assert res.statistic == pytest.approx(chi2_reference(exact), abs=1e-12)
    assert res.pvalue == pytest.approx(math.exp(-chi2_reference(exact) / 2), rel=1e-9)
    # move 2.5 standard deviations of arm 0 from arm 1: statistic ~ 9.4
    shift = round(2.5 * math.sqrt(n * 2 / 9))
    off = [exact[0] + shift, exact[1] - shift, exact[2]]
    stat = chi2_reference(off)
    res = split_test(off, [1, 1, 1])
    assert res.statistic == pytest.approx(stat, rel=1e-9)
    assert res.pvalue == pytest.approx(math.exp(-stat / 2), rel=1e-9)  # chi2(2) tail, closed form
    assert res.verdict == "mismatch"
    g = split_test(off, [1, 1, 1], method="g")
    # G = Pearson - sum d^3 / (3 e^2) + ...: relative difference O(1/sqrt(n))
    assert g.statistic == pytest.approx(stat, rel=0.05 if n < 10**6 else 1e-4)


def monte_carlo_reference(n: int, weights: tuple[int, int, int]) -> float:
    """P(Pearson >= observed) for [n/2, n/2, 0] against weights (W, W, 1), W large.

    The two big arms contribute a chi-square(1) (their deviations are normal, opposite, and
    their sum is minus the small arm's), the small arm (x - lam)^2 / lam with x ~ Poisson(lam);
    the observed statistic is lam (the big arms' deviations are ~lam, nothing beside sqrt(n)).
    """
    lam = n * weights[2] / sum(weights)
    total = 0.0
    for x in range(80):
        rest = lam - (x - lam) ** 2 / lam  # what the chi-square(1) part must reach
        tail = 1.0 if rest <= 0 else math.erfc(math.sqrt(rest / 2))
        total += math.exp(-lam + x * math.log(lam) - math.lgamma(x + 1)) * tail
    return total


@pytest.mark.parametrize("n", [2**62, 2**63 - 1])
def test_monte_carlo_with_a_rare_arm(n: int) -> None:
    """numpy's multinomial drops an arm of share 5e-19 after two of 1/2 (1 - 1/2 - 1/2 = 0)
    and inflates binomial variances by 8-17% from 2^62 on: p was 1.0 instead of 0.33."""
    weights = (10**18, 10**18, 1)
    counts = [n // 2, n - n // 2, 0]
    res = split_test(counts, weights, rng=0)
    assert res.method == "monte-carlo"
    # 100,000 resamples: standard error <= 0.0015; 0.006 is four of them
    assert res.pvalue == pytest.approx(monte_carlo_reference(n, weights), abs=0.006)


# --- sequential --------------------------------------------------------------------------


def log_bf_reference(counts: tuple[int, ...], p: tuple[float, ...], c: float) -> float:
    """Laplace approximation of the Dirichlet(c·p) mixture's log Bayes factor against p.

    log BF ~ log Dir(theta; c p) + (k-1)/2 log(2 pi / n) + 1/2 sum log theta + n KL(theta || p)
    at theta = x / n; relative error O(c / n). Below 10^6 the exact log-gamma form instead.
    """
    n = sum(counts)
    if n < 10**6:
        return (
            math.lgamma(c)
            - sum(math.lgamma(c * pi) for pi in p)
            + sum(math.lgamma(c * pi + x) for pi, x in zip(p, counts, strict=True))
            - math.lgamma(c + n)
            - sum(x * math.log(pi) for pi, x in zip(p, counts, strict=True))
        )
    theta = [x / n for x in counts]
    log_dir = (
        math.lgamma(c)
        - sum(math.lgamma(c * pi) for pi in p)
        + sum((c * pi - 1) * math.log(t) for pi, t in zip(p, theta, strict=True))
    )
    # n KL = sum x log(x / (n p)) = sum x log1p(u), u = (x - n p) / (n p) exact until rounding
    n_kl = sum(
        x * math.log1p(float((x - n * Fraction(pi)) / (n * Fraction(pi))))
        for pi, x in zip(p, counts, strict=True)
    )
    k = len(p)
    return (
        log_dir
        + (k - 1) / 2 * math.log(2 * math.pi / n)
        + 0.5 * sum(math.log(t) for t in theta)
        + n_kl
    )


@pytest.mark.parametrize("n", [*NS, 2**63 - 1])
@pytest.mark.parametrize("shape", ["perfect", "off"])
def test_sequential_log_e_value(n: int, shape: str) -> None:
    counts = perfect(n) if shape == "perfect" else off_by_3_sigma(n)
    res = SequentialSplitTest([50, 50]).update(counts)
    ref = log_bf_reference(counts, (0.5, 0.5), 100.0)
    assert res.log_e_value == pytest.approx(ref, abs=1e-5 if n >= 10**6 else 1e-9)
    if shape == "perfect":
        assert not res.rejected  # at 2^63 - 1 a perfect split used to read as a mismatch
        assert res.pvalue == 1.0


# --- the split assertions ----------------------------------------------------------------


@pytest.mark.parametrize("n", [*LARGE, 2**63 - 1])
def test_assert_split_passes_a_perfect_split(n: int) -> None:
    eq = assert_split(perfect(n), [50, 50])
    assert eq.equivalent
    assert eq.n_required <= n
    # what the failure message would ask for, at assert_split's power, is below n too
    assert required_samples([50, 50], tolerance=0.01, alpha=1e-6, power=1 - 1e-6) < n
    assert_exact_split(perfect(n), [50, 50])


@pytest.mark.parametrize("n", LARGE)
def test_assert_split_fails_an_off_split_without_asking_for_more(n: int) -> None:
    k = n // 2 + round(5 * math.sqrt(n))  # 10 sigma off, the band 1 sigma wide
    rest = n - k
    tol = (k / n - 0.5) / 10
    with pytest.raises(AssertionError) as info:
        assert_split([k, rest], [50, 50], tolerance=tol)
    msg = str(info.value)
    assert "outside the allowed band" in msg
    assert "need about" not in msg


# --- inputs: numpy integers, and the limit --------------------------------------------------


def test_numpy_integer_counts_accepted_at_large_n() -> None:
    n = 2**62
    counts = np.asarray(perfect(n), dtype=np.int64)
    assert split_test(counts, [50, 50]).n == n
    assert split_equivalence(counts.astype(np.uint64), [50, 50]).equivalent
    assert split_ci({"a": np.int64(2**61), "b": np.uint64(2**61)}).n == n


@pytest.mark.parametrize(
    "counts",
    [
        [2**62, 2**62],  # total 2^63
        [2**63, 0],
        [np.uint64(2**63), 0],
        [2**64, 1],
    ],
)
def test_counts_beyond_int64_are_refused(counts: object) -> None:
    for call in (
        lambda: split_test(counts, [1, 1]),  # type: ignore[arg-type]
        lambda: srm_check(counts, [1, 1]),  # type: ignore[arg-type]
        lambda: split_equivalence(counts, [1, 1]),  # type: ignore[arg-type]
        lambda: split_ci(counts),  # type: ignore[arg-type]
        lambda: SequentialSplitTest([1, 1]).update(counts),  # type: ignore[arg-type]
        lambda: assert_split(counts, [1, 1]),  # type: ignore[arg-type]
        lambda: assert_exact_split(counts, [1, 1]),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidArgument, match=r"2\^63 - 1"):
            call()


def test_expected_counts_limit() -> None:
    assert sum(expected_counts(2**63 - 1, [1, 1, 1]).values()) == 2**63 - 1
    with pytest.raises(InvalidArgument, match=r"2\^63 - 1"):
        expected_counts(2**63, [1, 1])


def test_negative_and_fractional_counts_still_refused() -> None:
    with pytest.raises(InvalidArgument, match="negative"):
        split_test([-1, 2**40], [1, 1])
    with pytest.raises(InvalidArgument, match="whole number"):
        split_test([0.5, 2**40], [1, 1])
