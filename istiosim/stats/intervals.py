"""How precisely the shares are known: a confidence interval for each arm's share.

Wilson (closed form, the default), Clopper-Pearson and Jeffreys (Beta quantiles from scipy,
imported when asked for), each optionally simultaneous over the arms (Bonferroni; Goodman's
interval with Wilson). The goodness-of-fit and equivalence results carry these intervals.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Literal, TypeAlias, get_args

import numpy as np

from ..errors import InvalidArgument
from .binomial import LARGE_N, beta_ppf, share_bounds_large
from .inputs import Counts, _check_choice, _check_level, _named_counts
from .results import ProportionIntervals

CIMethod: TypeAlias = Literal["wilson", "clopper-pearson", "jeffreys"]

_CI_METHODS: tuple[str, ...] = get_args(CIMethod)
_NORMAL = NormalDist()


def _z(upper_tail: float) -> float:
    """The normal quantile with ``upper_tail`` probability above it."""
    return -_NORMAL.inv_cdf(upper_tail)


def _intervals(
    arms: tuple[str, ...],
    counts: tuple[int, ...],
    alpha: float,
    method: str,
    simultaneous: bool = False,
) -> ProportionIntervals:
    """Equal-tailed intervals at level 1 - alpha (Bonferroni over arms when simultaneous)."""
    k = np.asarray(counts, dtype=np.float64)
    n = float(k.sum())
    a = alpha / len(counts) if simultaneous else alpha
    if method == "wilson":
        z = _z(a / 2)
        z2 = z * z
        center = (k + z2 / 2) / (n + z2)
        half = z * np.sqrt(k * (n - k) / n + z2 / 4) / (n + z2)
        low, high = np.clip(center - half, 0, 1), np.clip(center + half, 0, 1)
    elif int(sum(counts)) >= LARGE_N:
        bounds = [share_bounds_large(c, sum(counts), a / 2, method == "jeffreys") for c in counts]
        low = np.asarray([b[0] for b in bounds])
        high = np.asarray([b[1] for b in bounds])
    else:
        # betaincinv is wrong for some parameters: beta_ppf checks it and falls back
        ppf = np.vectorize(beta_ppf, otypes=[np.float64])
        if method == "clopper-pearson":
            low = np.where(k > 0, ppf(np.maximum(k, 1), n - k + 1, a / 2), 0.0)
            high = np.where(k < n, ppf(k + 1, np.maximum(n - k, 1), 1 - a / 2), 1.0)
        else:  # jeffreys: equal-tailed Beta(k + 1/2, n - k + 1/2) quantiles
            low = ppf(k + 0.5, n - k + 0.5, a / 2)
            high = ppf(k + 0.5, n - k + 0.5, 1 - a / 2)
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    label = "goodman" if simultaneous and method == "wilson" else method
    return ProportionIntervals(
        arms,
        counts,
        tuple(float(x) for x in low),
        tuple(float(x) for x in high),
        float(alpha),
        label,
        simultaneous,
    )


def split_ci(
    observed: Counts,
    *,
    alpha: float = 0.05,
    method: CIMethod = "wilson",
    simultaneous: bool = False,
) -> ProportionIntervals:
    """Confidence interval for each arm's share.

    Wilson by default (good coverage, closed form); Clopper-Pearson when coverage must hold for
    certain; Jeffreys as a middle way. ``simultaneous=True`` makes all arms hold together by
    splitting alpha over the arms (Bonferroni); with Wilson that is Goodman's interval.
    A sequence of counts names its arms "0", "1", ...
    """
    _check_level("alpha", alpha)
    _check_choice("method", method, _CI_METHODS)
    arms, counts = _named_counts(observed)
    if sum(counts) == 0:
        raise InvalidArgument("the sample is empty (n = 0): there is nothing to estimate")
    return _intervals(arms, counts, alpha, method, simultaneous)
