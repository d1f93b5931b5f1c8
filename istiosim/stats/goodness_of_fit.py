"""Do the counts fit the weights? Goodness-of-fit tests and the SRM check.

``split_test`` picks the test for the data (exact binomial for two arms; Pearson, exact
enumeration or Monte Carlo for more, statistics.md A2) and says "insufficient-data" when no
allocation of n requests could reach alpha; ``srm_check`` is the same test at the strict
threshold of sample-ratio-mismatch practice. scipy is imported inside the tests.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from typing import Any, Literal, TypeAlias, get_args

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument
from .binomial import LARGE_N, _h_vec, binom_two_sided
from .inputs import Counts, RNGLike, Weights, _check_choice, _check_level, _Split, _split
from .intervals import _intervals
from .results import SplitTestResult, SRMResult

TestMethod: TypeAlias = Literal["auto", "binomial", "pearson", "g", "exact", "monte-carlo"]

_TEST_METHODS: tuple[str, ...] = get_args(TestMethod)
#: Largest number of outcomes the exact multinomial test enumerates (about 8 MB per arm).
_EXACT_LIMIT = 1_000_000


def _compositions(n: int, k: int) -> npt.NDArray[np.int64]:
    """All vectors of k non-negative integers summing to n, one per row."""
    rows = np.arange(n + 1, dtype=np.int64)[:, None]
    for _ in range(k - 2):
        reps = n - rows.sum(axis=1) + 1
        starts = np.repeat(np.cumsum(reps) - reps, reps)
        nxt = np.arange(int(reps.sum()), dtype=np.int64) - starts
        rows = np.column_stack([np.repeat(rows, reps, axis=0), nxt])
    return np.column_stack([rows, n - rows.sum(axis=1)])


def _pearson(x: npt.NDArray[Any], e: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(((x - e) ** 2 / e).sum(axis=-1), dtype=np.float64)


def _exact_pvalue(x: npt.NDArray[np.int64], p: npt.NDArray[np.float64]) -> float:
    """Exact multinomial p-value, outcomes ordered by the Pearson statistic (like Monte Carlo)."""
    from scipy.special import gammaln, xlogy

    n = int(x.sum())
    e = n * p
    allx = _compositions(n, len(p))
    stats = _pearson(allx, e)
    observed = float(_pearson(x, e))
    logpmf = gammaln(n + 1) - gammaln(allx + 1).sum(axis=1) + xlogy(allx, p).sum(axis=1)
    extreme = stats >= observed * (1 - 1e-9) - 1e-12
    return float(min(1.0, np.exp(logpmf[extreme]).sum()))


def _n_outcomes(n: int, k: int) -> int:
    """How many ways n requests can fall on k arms: what the exact test enumerates."""
    return math.comb(n + k - 1, k - 1)


def _auto_method(k: int, n: int, min_expected: float, alpha: float, n_resamples: int) -> str:
    if k == 2:
        return "binomial"
    # chi-square over-rejects in the far tail until the smallest arm expects about 50 hits
    if min_expected >= (5 if alpha >= 0.01 else 50):
        return "pearson"
    if _n_outcomes(n, k) <= _EXACT_LIMIT:
        return "exact"
    # Monte Carlo cannot resolve p-values much below 10 / n_resamples
    return "monte-carlo" if alpha * n_resamples >= 10 else "pearson"


def _min_pvalue(method: str, n: int, p: npt.NDArray[np.float64], n_resamples: int) -> float:
    """Smallest p-value any allocation of n requests could reach (all in the rarest arm)."""
    from scipy import stats

    pmin = float(p.min())
    df = len(p) - 1
    if method == "pearson":
        return float(stats.chi2.sf(n * (1 / pmin - 1), df))
    if method == "g":
        return float(stats.chi2.sf(2 * n * math.log(1 / pmin), df))
    # exact and binomial: that allocation is the least likely outcome, and the p-value sums
    # the outcomes no more likely than it: the rarest arm(s) taking everything
    exact = float(np.sum(p[p <= pmin * (1 + 1e-12)] ** n))
    return max(exact, 1 / (n_resamples + 1)) if method == "monte-carlo" else exact


def _large_n_statistic(x: npt.NDArray[np.int64], p: npt.NDArray[np.float64], method: str) -> float:
    """Pearson or G statistic with each deviation x - n·p exact: at n >= 2^31 rounding x and
    n·p to floats first would leave only a few digits of a small deviation."""
    n = int(x.sum())
    e = [n * Fraction(float(pi)) for pi in p]
    d = np.asarray([float(int(xi) - ei) for xi, ei in zip(x, e, strict=True)], dtype=np.float64)
    ef = np.asarray([float(ei) for ei in e], dtype=np.float64)
    if method == "pearson":
        return float((d * d / ef).sum())
    # G = 2 Σ x log(x/e) = 2 Σ (e·h(d/e) + d) with h(u) = (1+u) log1p(u) - u, and Σ d = 0
    # (the float shares need not sum to 1 exactly: that rounding, times n, is not a deviation)
    return float(2 * (ef * _h_vec(d / ef)).sum())


#: Above this variance a conditional binomial draw is a rounded normal one (skewness < 1e-6).
_NORMAL_DRAW_VARIANCE = 1e12


def _multinomial_large(
    gen: np.random.Generator, n: int, p: npt.NDArray[np.float64], size: tuple[int, ...]
) -> npt.NDArray[np.int64]:
    """Multinomial draws for n >= LARGE_N, where ``Generator.multinomial`` goes wrong twice.

    It draws arm by arm with ``p_i / (1 - sum before)``: after two arms of 1/2 an arm of share
    5e-19 is left 0 in doubles and never drawn, though it expects 2.3 hits at n = 2^62; so the
    rarest arm goes first. And its binomial sampler inflates the variance by 8% at n = 2^62
    (17% at 2^63 - 1); so a conditional draw whose variance exceeds 1e12 is normal, rounded.
    """
    order = np.argsort(p, kind="stable")
    left = np.full(size, n, dtype=np.int64)
    out = np.zeros((*size, len(p)), dtype=np.int64)
    for rank, arm in enumerate(order[:-1]):
        q = float(p[arm] / p[order[rank:]].sum())  # at most 1/2: rarest first
        mean = left.astype(np.float64) * q
        var = mean * (1 - q)
        normal = np.rint(mean + np.sqrt(var) * gen.standard_normal(size)).astype(np.int64)
        hits = np.where(var > _NORMAL_DRAW_VARIANCE, normal, gen.binomial(left, q))
        hits = np.clip(hits, 0, left)
        out[..., arm] = hits
        left = left - hits
    out[..., order[-1]] = left
    return out


def _gof(
    x: npt.NDArray[np.int64],
    p: npt.NDArray[np.float64],
    method: str,
    n_resamples: int,
    rng: RNGLike,
) -> tuple[float, float, int | None]:
    """(statistic, pvalue, df) of one test over the arms with positive weight."""
    from scipy import stats

    n = int(x.sum())
    e = n * p
    df = len(p) - 1
    if method == "binomial":
        if n >= LARGE_N:
            return int(x[0]) / n, binom_two_sided(int(x[0]), n, float(p[0])), None
        res = stats.binomtest(int(x[0]), n, float(p[0]))
        return float(res.statistic), float(res.pvalue), None
    if method in ("pearson", "g"):
        if n >= LARGE_N:
            stat = _large_n_statistic(x, p, method)
            return stat, float(stats.chi2.sf(stat, df)), df
        lam = "pearson" if method == "pearson" else "log-likelihood"
        res = stats.power_divergence(x, e, lambda_=lam)
        return float(res.statistic), float(res.pvalue), df
    if method == "exact":
        if _n_outcomes(n, len(p)) > _EXACT_LIMIT:
            raise InvalidArgument(
                f"exact enumeration of n={n} over {len(p)} arms needs more than "
                f"{_EXACT_LIMIT:,} outcomes; use method='monte-carlo'"
            )
        return float(_pearson(x, e)), _exact_pvalue(x, p), None
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise InvalidArgument(f"n_resamples must be a positive integer, got {n_resamples!r}")
    gen = np.random.default_rng(rng)

    def draw(size: tuple[int, ...]) -> npt.NDArray[np.int64]:
        # scipy passes size=(batch, k): the last axis is the observation axis
        if n >= LARGE_N:
            return _multinomial_large(gen, n, p, size[:-1])
        return np.asarray(gen.multinomial(n, p, size=size[:-1]), dtype=np.int64)

    res = stats.monte_carlo_test(
        x,
        draw,
        lambda sample, axis=-1: _pearson(sample, e),
        vectorized=True,
        n_resamples=n_resamples,
        batch=min(n_resamples, 50_000),
        alternative="greater",
    )
    return float(res.statistic), float(res.pvalue), None


def _split_test(
    s: _Split, alpha: float, method: str, n_resamples: int, rng: RNGLike
) -> SplitTestResult:
    _check_choice("method", method, _TEST_METHODS)
    p_all = s.shares
    counts = np.asarray(s.counts, dtype=np.int64)
    n = s.n
    pos = p_all > 0
    p, x = p_all[pos] / p_all[pos].sum(), counts[pos]
    verdict: Literal["consistent", "mismatch", "insufficient-data"]
    if s.zero_weight_hit:
        used, stat, pvalue, df, verdict = "zero-weight", math.inf, 0.0, None, "mismatch"
    elif len(p) == 1:
        used, stat, pvalue, df, verdict = "single-arm", 0.0, 1.0, None, "consistent"
    else:
        used = method
        if method == "auto":
            used = _auto_method(len(p), n, float(n * p.min()), alpha, n_resamples)
        elif method == "binomial" and len(p) != 2:
            raise InvalidArgument(
                f"method='binomial' needs exactly 2 arms with positive weight, got {len(p)}"
            )
        stat, pvalue, df = _gof(x, p, used, n_resamples, rng)
        if _min_pvalue(used, n, p, n_resamples) >= alpha:
            verdict = "insufficient-data"
        else:
            verdict = "mismatch" if pvalue < alpha else "consistent"
    return SplitTestResult(
        statistic=stat,
        pvalue=pvalue,
        df=df,
        method=used,
        alpha=float(alpha),
        n=n,
        arms=s.arms,
        weights=s.weights,
        observed=s.counts,
        expected=tuple(float(v) for v in n * p_all),
        ci=_intervals(s.arms, s.counts, alpha, "wilson"),
        verdict=verdict,
        seed=s.seed,
    )


def _fixed_test(s: _Split, alpha: float) -> SplitTestResult:
    """The "auto" test with a fixed Monte Carlo seed, so the result is a function of the counts."""
    return _split_test(s, alpha, "auto", 100_000, 0)


def split_test(
    observed: Counts,
    weights: Weights,
    *,
    alpha: float = 0.05,
    method: TestMethod = "auto",
    n_resamples: int = 100_000,
    rng: RNGLike = None,
) -> SplitTestResult:
    """Goodness-of-fit test of observed counts against configured weights.

    "auto" picks the test statistics.md A2 recommends: 2 arms -> exact binomial; 3+ arms ->
    Pearson chi-square when every expected count is >= 50 (>= 5 when alpha >= 0.01), else exact
    enumeration (outcomes ordered by the Pearson statistic) when there are at most 10^6
    outcomes, else Monte Carlo with ``np.random.default_rng(rng)`` (or Pearson when alpha is too
    small for ``n_resamples`` to resolve). Weight-0 arms are left out of the test: any request
    on one is a deterministic mismatch. Not rejecting is no proof that the split is right;
    use :func:`split_equivalence` for that, and :class:`SequentialSplitTest` for growing data.
    """
    _check_level("alpha", alpha)
    return _split_test(_split(observed, weights), alpha, method, n_resamples, rng)


def srm_check(observed: Counts, weights: Weights, *, alpha: float = 5e-4) -> SRMResult:
    """Sample ratio mismatch check: a split test at the strict threshold SRM practice uses.

    alpha = 5e-4 follows Microsoft's experimentation platform (GrowthBook uses 1e-3). The
    verdict is "insufficient-data" while even sending every request to one arm could not reach
    alpha (n <= 11 for 50/50 with the exact binomial), so a tiny sample never reads as healthy.
    """
    _check_level("alpha", alpha)
    return replace(_fixed_test(_split(observed, weights), alpha), check="SRM check")
