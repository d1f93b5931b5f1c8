"""Is the split within a tolerance of the weights, and how many requests does it take to know?

``split_equivalence`` proves the claim a goodness-of-fit test cannot: per arm, two one-sided
tests (TOST) that the share lies within ±tolerance of its weight, combined by intersection-union.
``required_samples`` sizes a run for that proof, or for detecting a wrong split.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

import numpy as np

from ..errors import InvalidArgument
from .binomial import LARGE_N, binom_ge, binom_le
from .goodness_of_fit import _fixed_test
from .inputs import Counts, Weights, _check_level, _parse_weights, _shares, _split
from .intervals import _intervals, _z
from .results import EquivalenceResult


def _score_z(k: int, n: int, p: float) -> float:
    """Score statistic of k successes in n against share p (the Wilson interval inverts it)."""
    if n < LARGE_N:
        return (k / n - p) / math.sqrt(p * (1 - p) / n)
    # k/n - p loses digits to rounding at large n: take the difference in exact arithmetic
    return float((k - n * Fraction(p)) / n) / math.sqrt(p * (1 - p) / n)


def _tost_arm(k: int, n: int, p0: float, tol: float, method: str) -> tuple[float, float]:
    """(TOST p-value that the share is inside p0 ± tol, p-value that it is outside)."""
    lo, hi = p0 - tol, p0 + tol
    if method == "exact":

        def ge(p: float) -> float:  # P(X >= k | p)
            return binom_ge(k, n, p)

        def le(p: float) -> float:  # P(X <= k | p)
            return binom_le(k, n, p)

    else:  # score test, which inverts to the Wilson interval

        def ge(p: float) -> float:
            if p in (0.0, 1.0):
                return 1.0 if k == 0 or p == 1.0 else 0.0
            return 0.5 * math.erfc(_score_z(k, n, p) / math.sqrt(2))

        def le(p: float) -> float:
            if p in (0.0, 1.0):
                return 1.0 if k == n or p == 0.0 else 0.0
            return 0.5 * math.erfc(-_score_z(k, n, p) / math.sqrt(2))

    inside = max(0.0 if lo < 0 else ge(lo), 0.0 if hi > 1 else le(hi))
    outside = min(1.0 if lo < 0 else le(lo), 1.0 if hi > 1 else ge(hi))
    return inside, outside


def split_equivalence(
    observed: Counts,
    weights: Weights,
    *,
    tolerance: float = 0.01,
    alpha: float = 0.05,
    method: Literal["exact", "wilson"] = "exact",
) -> EquivalenceResult:
    """Is every arm's share within ±tolerance (absolute) of its configured share?

    A goodness-of-fit test can only reject; this proves the claim. Per arm, two one-sided tests
    at level alpha (exact binomial, or the Wilson score test); the split is "equivalent" only if
    every arm passes (intersection-union: no multiplicity correction needed). Equivalently each
    arm's (1 - 2·alpha) interval lies inside the band. "not-equivalent" when some arm is shown
    to be outside the band (or a weight-0 arm got requests); otherwise "inconclusive", with
    ``n_required`` the sample size for power 0.9. ``gof`` is the goodness-of-fit test at alpha,
    with a fixed Monte Carlo seed so the result is a function of the counts alone.
    """
    _check_level("alpha", alpha, 0.5)
    _check_level("tolerance", tolerance)
    if method not in ("exact", "wilson"):
        raise InvalidArgument(f"method must be 'exact' or 'wilson', got {method!r}")
    s = _split(observed, weights)
    n = s.n
    arm_p: list[float] = []
    status: list[str] = []
    for k, p0 in zip(s.counts, s.shares, strict=True):
        if p0 == 0 and k > 0:
            arm_p.append(1.0)
            status.append("hit")
            continue
        inside, outside = _tost_arm(k, n, float(p0), tolerance, method)
        arm_p.append(inside)
        status.append("inside" if inside < alpha else "outside" if outside < alpha else "straddles")
    verdict: Literal["equivalent", "not-equivalent", "inconclusive"]
    if "hit" in status or "outside" in status:
        verdict = "not-equivalent"
    else:
        verdict = "equivalent" if all(st == "inside" for st in status) else "inconclusive"
    ci_method = "clopper-pearson" if method == "exact" else "wilson"
    return EquivalenceResult(
        verdict=verdict,
        pvalue=max(arm_p),
        arm_pvalues=tuple(arm_p),
        arm_status=tuple(status),
        tolerance=float(tolerance),
        alpha=float(alpha),
        method=method,
        n=n,
        arms=s.arms,
        weights=s.weights,
        observed=s.counts,
        ci=_intervals(s.arms, s.counts, 2 * alpha, ci_method),
        n_required=required_samples(s.weights, tolerance=tolerance, alpha=alpha, power=0.9),
        gof=_fixed_test(s, alpha),
        seed=s.seed,
    )


def required_samples(
    weights: Weights,
    *,
    tolerance: float,
    alpha: float = 0.05,
    power: float = 0.9,
    kind: Literal["equivalence", "detect"] = "equivalence",
) -> int:
    """Requests needed so a correct split is shown equivalent, or a wrong one detected.

    "equivalence": n for which :func:`split_equivalence` at ``alpha`` says "equivalent" with
    probability ``power`` when the shares equal the weights (normal approximation
    ``n = (z[1-α] + z[1-β/2])² p(1-p) / ε²`` per arm, β split over the arms when there are 3+;
    weight-0 arms need ``(1-ε)^n < α``). "detect": n for which the Pearson chi-square test at
    ``alpha`` detects, with probability ``power``, ``tolerance`` of traffic moved between the two
    largest arms (the hardest such shift to see), from the noncentral chi-square.
    """
    _check_level("tolerance", tolerance)
    _check_level("alpha", alpha)
    _check_level("power", power)
    p = np.asarray(_shares(_parse_weights(weights)[1]))
    pos = np.sort(p[p > 0])[::-1]
    has_zero = bool((p == 0).any())
    if kind == "equivalence":
        beta = (1 - power) / (len(pos) if len(pos) >= 3 else 1)
        need = math.ceil(math.log(alpha) / math.log1p(-tolerance)) if has_zero else 1
        for pi in pos:
            one_sided = pi - tolerance < 0 or pi + tolerance > 1
            zb = _z(beta) if one_sided else _z(beta / 2)
            if pi < 1:
                need = max(need, math.ceil((_z(alpha) + zb) ** 2 * pi * (1 - pi) / tolerance**2))
        return int(need)
    if kind != "detect":
        raise InvalidArgument(f"kind must be 'equivalence' or 'detect', got {kind!r}")
    if len(pos) < 2:
        if not has_zero:
            raise InvalidArgument("a split with one arm cannot be wrong: nothing to detect")
        return math.ceil(math.log1p(-power) / math.log1p(-tolerance))
    from scipy import optimize, stats

    df = len(pos) - 1
    crit = float(stats.chi2.isf(alpha, df))
    hi = 1.0
    while stats.ncx2.sf(crit, df, hi) < power:
        hi *= 2
    lam = optimize.brentq(lambda nc: stats.ncx2.sf(crit, df, nc) - power, 0.0, hi, xtol=1e-10)
    w2 = tolerance**2 * (1 / pos[0] + 1 / pos[1])
    return math.ceil(float(lam) / float(w2))
