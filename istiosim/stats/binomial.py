"""The binomial distribution at any n up to 2^63 - 1: tails, the two-sided test, share quantiles.

scipy's binomial functions are exact for moderate n but break on production counts: cephes
``bdtr`` returns NaN from n = 2^31 on, Boost's ``binom.sf`` returns 1 for 0.977 at n = 2^63 - 1,
and ``betaincinv`` (Clopper-Pearson, Jeffreys) is off by 36% at 2^62 and, for some (k, n), already
below 2^31. The rule, written once here:

* n < ``LARGE_N`` = 2^31: scipy, as before (``betaincinv`` checked by ``betainc``, see
  :func:`beta_ppf`), so every result that was right stays bit for bit the same;
* n >= 2^31: a tail whose near side has at most ``SMALL_SIDE`` = 1000 outcomes is an exact sum
  of probabilities (Loader's saddle-point form of the pmf; measured within 1e-14 of Boost at
  n = 2^31 + 2 and 10^12); otherwise the Lugannani-Rice saddle-point approximation with Daniels'
  second continuity correction, whose relative error shrinks like 1/(n·p·(1-p)): measured
  within 1e-9 of Boost for shares of 1% to 99% at 2^31 + 2 and 10^12, within 2e-5 (deep tails
  included) where n·p·(1-p) is only 500 to 3000. The deviation k - n·p is taken in exact
  rational arithmetic, so no digit is lost to n·p.

Quantiles of the share (interval bounds) invert these tails by bracketed root finding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import numpy.typing as npt

#: From this n on, scipy's binomial functions are not trusted (``bdtr`` is NaN beyond 2^31 - 1).
LARGE_N = 2**31
#: A tail of at most this many outcomes on its near side is summed exactly.
SMALL_SIDE = 1000
_LN_2PI = math.log(2 * math.pi)
_EPS = float(np.finfo(np.float64).eps)
_TINY = 1e-300


def _h(u: float) -> float:
    """``(1 + u)·log1p(u) - u``, the relative entropy kernel, without cancellation near 0."""
    return float(_h_vec(np.asarray([u], dtype=np.float64))[0])


def _h_vec(u: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # near 0: sum over m >= 2 of (-u)^m / (m (m - 1)); 12 terms reach double precision there
    small = np.where(np.abs(u) < 1e-2, u, 0.0)
    series = sum((-small) ** m / (m * (m - 1)) for m in range(2, 14))
    from scipy.special import xlog1py

    big = np.where(np.abs(u) < 1e-2, 1.0, u)
    direct = xlog1py(1 + big, big) - big  # u = -1 (a count of 0) gives 1
    return np.asarray(np.where(np.abs(u) < 1e-2, series, direct), dtype=np.float64)


def _stirlerr(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``log(z!) - log(sqrt(2πz)·(z/e)^z)`` for z >= 1 (Loader 2000)."""
    from scipy.special import gammaln

    big = np.maximum(z, 16.0)
    series = 1 / (12 * big) - 1 / (360 * big**3) + 1 / (1260 * big**5) - 1 / (1680 * big**7)
    small = np.minimum(z, 16.0)
    direct = gammaln(small + 1) - (small + 0.5) * np.log(small) + small - 0.5 * _LN_2PI
    return np.asarray(np.where(z >= 16, series, direct), dtype=np.float64)


def _pmf_sum(j0: int, j1: int, n: int, p: float) -> float:
    """``sum P(X = j)`` for j0 <= j <= j1 (at most a few thousand terms), X ~ Bin(n, p)."""
    if p <= 0.0 or p >= 1.0:  # all mass on one end
        end = 0 if p <= 0.0 else n
        return 1.0 if j0 <= end <= j1 else 0.0
    j = np.arange(0, j1 - j0 + 1, dtype=np.float64) + j0
    nj = np.arange(n - j0, n - j1 - 1, -1, dtype=np.float64)  # n - j
    inner = (j > 0) & (nj > 0)
    js, njs = np.where(inner, j, 1.0), np.where(inner, nj, 1.0)
    # Loader: log pmf = stirlerr(n) - stirlerr(j) - stirlerr(n-j) - bd0(j, np) - bd0(n-j, nq)
    #                   + log(n / (2π j (n-j))) / 2, with bd0(x, m) = x log(x/m) + m - x
    nf = float(n)
    mp, mq = nf * p, nf * (1 - p)
    logpmf = (
        _stirlerr(np.asarray([nf]))[0]
        - _stirlerr(js)
        - _stirlerr(njs)
        - mp * _h_vec(js / mp - 1)
        - mq * _h_vec(njs / mq - 1)
        + 0.5 * np.log(nf / (2 * math.pi * js * njs))
    )
    # j = 0: (1-p)^n; j = n: p^n
    ends = np.where(j > 0, nf * math.log(p), nf * math.log1p(-p))
    return float(np.exp(np.where(inner, logpmf, ends)).sum())


def _lugannani_rice(x: Fraction, n: int, p: Fraction) -> float:
    """``P(X >= x + 1/2)`` for X ~ Bin(n, p), at the continuity-corrected point x in (0, n)."""
    pf, qf = float(p), float(1 - p)
    d = float((x - n * p) / n)  # share deviation, exact until this rounding
    u1, u2 = d / pf, -d / qf
    kl = pf * _h(u1) + qf * _h(u2)
    w = math.copysign(math.sqrt(2 * n * kl), d)
    share = float(x / n)
    sd = math.sqrt(n * share * (1 - share))
    upper = 0.5 * math.erfc(w / math.sqrt(2))
    density = math.exp(-w * w / 2) / math.sqrt(2 * math.pi)
    if abs(w) < 1e-4:  # removable singularity: the limit of 1/u - 1/w is -skewness / 6
        return upper - density * (1 - 2 * share) / (6 * sd)
    u = 2 * math.sinh((math.log1p(u1) - math.log1p(u2)) / 2) * sd
    return min(1.0, max(0.0, upper + density * (1 / u - 1 / w)))


def _window(n: int, p: float) -> int:
    """How far past its start an exact far-tail sum must run: 40 standard deviations and more."""
    return 2000 + 40 * math.ceil(math.sqrt(n * p * (1 - p)) + 1)


def _ge_large(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for n >= LARGE_N, 0 < k <= n, 0 < p < 1."""
    if n - k <= SMALL_SIDE:  # near side is the top: count from n down
        return _le_large(n - k, n, 1 - p)
    if k <= SMALL_SIDE + 1:
        if k > n * p:  # the far tail: sum it, do not subtract from 1
            return min(1.0, _pmf_sum(k, min(n, k + _window(n, p)), n, p))
        return max(0.0, 1.0 - _pmf_sum(0, k - 1, n, p))
    return _lugannani_rice(Fraction(2 * k - 1, 2), n, Fraction(p))


def _le_large(k: int, n: int, p: float) -> float:
    """``P(X <= k)`` for n >= LARGE_N, 0 <= k < n, 0 < p < 1."""
    if k <= SMALL_SIDE:
        return min(1.0, _pmf_sum(0, k, n, p))
    return _ge_large(n - k, n, 1 - p)


def binom_ge(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for X ~ Bin(n, p)."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    if n < LARGE_N:
        from scipy.special import bdtrc

        return float(bdtrc(k - 1, n, p))
    return _ge_large(k, n, p)


def binom_le(k: int, n: int, p: float) -> float:
    """``P(X <= k)`` for X ~ Bin(n, p)."""
    if k >= n or p <= 0.0:
        return 1.0
    if k < 0 or p >= 1.0:
        return 0.0
    if n < LARGE_N:
        from scipy.special import bdtr

        return float(bdtr(k, n, p))
    return _le_large(k, n, p)


def _log_pmf(j: int, n: int, p: Fraction) -> float:
    """``log P(X = j)`` for n >= LARGE_N, the deviation j - n·p exact."""
    pf, qf = float(p), float(1 - p)
    if j == 0:
        return n * math.log1p(-pf)
    if j == n:
        return n * math.log(pf)
    d = float((j - n * p) / n)
    st = _stirlerr(np.asarray([float(n), float(j), float(n - j)]))
    return float(
        st[0]
        - st[1]
        - st[2]
        - n * (pf * _h(d / pf) + qf * _h(-d / qf))
        + 0.5 * math.log(n / (2 * math.pi * j * (n - j)))
    )


def _first(lo: int, hi: int, ok: Callable[[int], bool]) -> int:
    """Smallest j in [lo, hi] with ok(j), ok monotone false -> true; hi + 1 if none."""
    while lo <= hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid - 1
        else:
            lo = mid + 1
    return lo


def binom_two_sided(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial p-value, outcomes no more likely than k ("minlike", as scipy).

    Below LARGE_N this is ``scipy.stats.binomtest``; above, the same definition (with scipy's
    relative tolerance 1e-7 on "as likely") over the tails of this module.
    """
    if n < LARGE_N:
        from scipy import stats

        return float(stats.binomtest(k, n, p).pvalue)
    if p <= 0.0 or p >= 1.0:
        return 1.0 if k == round(n * p) else 0.0
    pq = Fraction(p)
    if k == n * pq:
        return 1.0
    ld = _log_pmf(k, n, pq) + math.log1p(1e-7)
    mean = n * pq
    if k < mean:  # the other side: from ceil(np) up, pmf decreasing
        lo = math.ceil(mean)
        j = _first(lo, n, lambda x: _log_pmf(x, n, pq) <= ld)
        pval = binom_le(k, n, p) + binom_ge(j, n, p)
    else:  # the other side: below floor(np), pmf increasing; last j with pmf <= d
        hi = math.floor(mean)
        j = _first(0, hi, lambda x: _log_pmf(x, n, pq) > ld) - 1
        pval = binom_le(j, n, p) + binom_ge(k, n, p)
    return min(1.0, pval)


def _root(f: Callable[[float], float], lo: float, hi: float) -> float:
    """Root of an increasing f, looked for in [lo, hi] first, then in (0, 1), to full precision.

    A root closer to 0 or 1 than a double can tell (a bound of 3 hits in 2^62) is 0 or 1.
    """
    from scipy.optimize import brentq

    if not lo < hi or f(lo) > 0 or f(hi) < 0:
        lo, hi = _TINY, 1 - _EPS / 2
        if f(lo) > 0:
            return 0.0
        if f(hi) < 0:
            return 1.0
    return float(brentq(f, lo, hi, xtol=1e-300, rtol=4 * _EPS, maxiter=500))


def beta_ppf(a: float, b: float, q: float) -> float:
    """Quantile q of Beta(a, b): ``betaincinv``, checked by ``betainc``, else root finding.

    ``betaincinv`` is wrong for some large parameters (e.g. a = 1000, b = 2^31 - 999 gives
    twice the bound); its answer is kept only when ``betainc`` maps it back to q.
    """
    from scipy.special import betainc, betaincinv

    x = float(betaincinv(a, b, q))
    if math.isfinite(x) and abs(float(betainc(a, b, x)) - q) <= 1e-9 * min(q, 1 - q):
        return x
    return _root(lambda t: float(betainc(a, b, t)) - q, 0.0, 1.0)


def _bracket(k: int, n: int) -> tuple[float, float]:
    """Where the bounds of an interval for the share k/n lie: well inside 60 standard errors."""
    share = k / n
    se = math.sqrt(max(k, 1) * max(n - k, 1) / n) / n + 1 / n
    return max(_TINY, share - 60 * se), min(1 - _EPS, share + 60 * se)


def share_bounds_large(k: int, n: int, tail: float, jeffreys: bool) -> tuple[float, float]:
    """Clopper-Pearson (or Jeffreys) bounds of the share k/n at level tail per side, n >= LARGE_N.

    Clopper-Pearson solves ``P(X >= k | low) = tail`` and ``P(X <= k | high) = tail``. Jeffreys
    takes the Beta(k + 1/2, n - k + 1/2) quantiles: with a near side of at most SMALL_SIDE
    outcomes from :func:`beta_ppf`, otherwise from the same saddle-point tail at the point k
    (the Beta-binomial identity ``I_x(a, b) = P(Bin(a + b - 1, x) >= a)`` with a = k + 1/2).
    """
    lo_b, hi_b = _bracket(k, n)
    if jeffreys:
        if min(k, n - k) <= SMALL_SIDE:
            return beta_ppf(k + 0.5, n - k + 0.5, tail), beta_ppf(k + 0.5, n - k + 0.5, 1 - tail)
        x = Fraction(k)
        low = _root(lambda t: _lugannani_rice(x, n, Fraction(t)) - tail, lo_b, hi_b)
        high = _root(lambda t: tail - _lugannani_rice(n - x, n, 1 - Fraction(t)), lo_b, hi_b)
        return low, high
    low = 0.0 if k == 0 else _root(lambda t: binom_ge(k, n, t) - tail, lo_b, hi_b)
    high = 1.0 if k == n else _root(lambda t: tail - binom_le(k, n, t), lo_b, hi_b)
    return low, high
