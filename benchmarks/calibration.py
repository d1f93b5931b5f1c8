"""Calibration of istiosim's split checks: false-failure rates and power, measured and exact.

Run: ``python benchmarks/calibration.py [--seeds 10000] [--base-seed 20261126]``.

For each case, per-seed counts are drawn with ``Generator.multinomial``, which is exactly how
independent per-request weighted picks are distributed, and the check under study is run on
them. For two arms the outcome of every check depends only on the count k of the first arm, so
the script also computes the *exact* rate by summing the binomial law over the k for which the
check fails (an independent re-derivation, cross-checked against the checks themselves on every
simulated sample). Measured rates come with a 95% Clopper-Pearson upper bound: 10,000 seeds
cannot resolve a rate of 1e-6, the exact column can.

The default n of ``assert_split`` is the one its docstring recommends,
``required_samples(weights, tolerance=0.01, alpha=1e-6, power=1 - 1e-6)``; the row at
``power=0.999`` (statistics.md A8's suggestion) shows why: a correct split then fails about 1 in
1,000 runs, from too few requests rather than from alpha.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import stats as sps
from scipy.special import bdtr, bdtrc

from istiosim import stats
from istiosim.stats.sequential import _log_bayes_factor
from istiosim.testing import SplitAssertionError, assert_split

TOL, ALPHA_ASSERT, ALPHA_SRM, ALPHA_SEQ = 0.01, 1e-6, 5e-4, 0.05
Bools = npt.NDArray[np.bool_]


def upper95(failures: int, trials: int) -> float:
    return float(sps.binomtest(failures, trials).proportion_ci(0.95).high)


def gof_accepts(n: int, p: float, alpha: float) -> Bools:
    """k with binomtest p-value >= alpha: an interval around the mode, found by bisection."""

    def ok(k: int) -> bool:
        return bool(sps.binomtest(k, n, p).pvalue >= alpha)

    mode = round(n * p)
    lo, hi = 0, mode  # smallest accepted k in [0, mode]
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid + 1, hi)
    first = lo
    lo, hi = mode, n  # largest accepted k in [mode, n]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid - 1)
    k = np.arange(n + 1)
    return (k >= first) & (k <= lo)


def tost_inside(k: npt.NDArray[np.int64], n: int, p: float, tol: float, alpha: float) -> Bools:
    """Exact TOST for one arm, vectorised over k."""
    low = 0.0 if p - tol < 0 else np.where(k == 0, 1.0, bdtrc(k - 1, n, max(p - tol, 0.0)))
    high = 0.0 if p + tol > 1 else bdtr(k, n, min(p + tol, 1.0))
    return np.asarray(np.maximum(low, high) < alpha)


def assert_split_passes(n: int, p: float) -> Bools:
    """For each k in 0..n: does assert_split pass on (k, n - k) against (p, 1 - p)?"""
    k = np.arange(n + 1)
    tost = tost_inside(k, n, p, TOL, ALPHA_ASSERT) & tost_inside(n - k, n, 1 - p, TOL, ALPHA_ASSERT)
    return tost & gof_accepts(n, p, ALPHA_ASSERT)


def exact_rate(accept: Bools, n: int, p_true: float, *, of: str) -> float:
    """P(check fails) ("fail") or P(check passes) ("pass") when k ~ Binomial(n, p_true)."""
    passed = float(sps.binom.pmf(np.flatnonzero(accept), n, p_true).sum())
    return passed if of == "pass" else 1.0 - passed


def simulate(
    n: int,
    p_true: list[float],
    seeds: int,
    base: int,
    case: int,
    check: Callable[[list[int]], bool],
) -> tuple[npt.NDArray[np.int64], Bools]:
    """Per seed: the first arm's count, and whether ``check`` returned True."""
    ks, results = [], []
    for s in range(seeds):
        counts = np.random.default_rng([base, case, s]).multinomial(n, p_true).tolist()
        ks.append(counts[0])
        results.append(check(counts))
    return np.asarray(ks), np.asarray(results)


def fails_assert(weights: list[int]) -> Callable[[list[int]], bool]:
    def check(counts: list[int]) -> bool:
        try:
            assert_split(counts, weights, tolerance=TOL, alpha=ALPHA_ASSERT)
        except SplitAssertionError:
            return True
        return False

    return check


def srm_alarm(weights: list[int]) -> Callable[[list[int]], bool]:
    return lambda counts: stats.srm_check(counts, weights).verdict == "mismatch"


def fmt_rate(x: float) -> str:
    return "0" if x == 0 else f"{x:.2e}" if x < 0.01 else f"{x:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10_000)
    parser.add_argument("--base-seed", type=int, default=20261126)
    args = parser.parse_args()
    seeds, base = args.seeds, args.base_seed
    started = time.perf_counter()
    rows: list[list[str]] = []
    disagreements = 0
    case = 0

    def row(check: str, truth: str, n: int, alpha: float, hits: int, exact: float | None) -> None:
        rate = hits / seeds
        rows.append(
            [
                check,
                truth,
                f"{n:,}",
                f"{alpha:g}",
                f"{hits}/{seeds}",
                fmt_rate(rate),
                fmt_rate(upper95(hits, seeds)),
                "-" if exact is None else fmt_rate(exact),
            ]
        )

    # --- assert_split: false failures on correct splits, power against 48/52 ---------------
    for w in ([50, 50], [90, 10]):
        p = w[0] / sum(w)
        for label, power in (("1-alpha", 1 - ALPHA_ASSERT), ("0.999", 0.999)):
            n = stats.required_samples(w, tolerance=TOL, alpha=ALPHA_ASSERT, power=power)
            accept = assert_split_passes(n, p)
            case += 1
            ks, failed = simulate(n, [p, 1 - p], seeds, base, case, fails_assert(w))
            disagreements += int((failed == accept[ks]).sum())
            row(
                f"assert_split fails (n at power {label})",
                f"{w[0]}/{w[1]} correct",
                n,
                ALPHA_ASSERT,
                int(failed.sum()),
                exact_rate(accept, n, p, of="fail"),
            )
            if w == [50, 50] and label == "1-alpha":
                case += 1
                ks, failed = simulate(n, [0.48, 0.52], seeds, base, case, fails_assert(w))
                disagreements += int((failed == accept[ks]).sum())
                row(
                    "assert_split fails (power)",
                    "48/52 vs 50/50",
                    n,
                    ALPHA_ASSERT,
                    int(failed.sum()),
                    exact_rate(accept, n, 0.48, of="fail"),
                )

    # --- srm_check: false alarms, and power against 48/52 ----------------------------------
    n50 = stats.required_samples(
        [50, 50], tolerance=TOL, alpha=ALPHA_ASSERT, power=1 - ALPHA_ASSERT
    )
    n90 = stats.required_samples(
        [90, 10], tolerance=TOL, alpha=ALPHA_ASSERT, power=1 - ALPHA_ASSERT
    )
    for w, truth, p_true, n in (
        ([50, 50], "50/50 correct", 0.5, n50),
        ([90, 10], "90/10 correct", 0.9, n90),
        ([50, 50], "50/50 correct", 0.5, 10_000),
        ([50, 50], "48/52 vs 50/50", 0.48, 10_000),
        ([50, 50], "49/51 vs 50/50", 0.49, 10_000),
    ):
        p = w[0] / sum(w)
        accept = gof_accepts(n, p, ALPHA_SRM)
        case += 1
        ks, alarmed = simulate(n, [p_true, 1 - p_true], seeds, base, case, srm_alarm(w))
        disagreements += int((alarmed == accept[ks]).sum())
        row(
            "srm_check alarms",
            truth,
            n,
            ALPHA_SRM,
            int(alarmed.sum()),
            exact_rate(accept, n, p_true, of="fail"),
        )

    # --- SequentialSplitTest: a look every 1,000 requests up to 100,000 ---------------------
    looks, step = 100, 1_000
    for w, truth, shares in (
        ([50, 50], "50/50 correct", [0.5, 0.5]),
        ([90, 10], "90/10 correct", [0.9, 0.1]),
        ([50, 50], "48/52 vs 50/50", [0.48, 0.52]),
        ([50, 50], "49.5/50.5 vs 50/50", [0.495, 0.505]),
    ):
        case += 1
        rng = np.random.default_rng([base, case])
        cum = rng.multinomial(step, shares, size=(seeds, looks)).cumsum(axis=1)
        p0 = np.asarray(w, dtype=float) / sum(w)
        log_e = _log_bayes_factor(cum, p0, 100.0)
        rejected_at = np.where(
            (log_e >= math.log(1 / ALPHA_SEQ)).any(axis=1),
            (log_e >= math.log(1 / ALPHA_SEQ)).argmax(axis=1),
            -1,
        )
        for i in range(min(seeds, 50)):  # the class itself agrees with the vectorised e-process
            seq = stats.SequentialSplitTest(w, alpha=ALPHA_SEQ)
            first = next((j for j in range(looks) if seq.update(cum[i, j]).rejected), -1)
            disagreements += first != rejected_at[i]
        alarms = int((rejected_at >= 0).sum())
        check = f"sequential rejects by {looks * step:,}"
        if alarms and truth.startswith("4"):
            median = int(np.median(rejected_at[rejected_at >= 0]) + 1) * step
            check += f" (median n {median:,})"
        row(check, truth, looks * step, ALPHA_SEQ, alarms, None)

    header = ["check", "truth", "n", "alpha", "failures", "rate", "95% upper", "exact"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * x for x in widths], *rows]:
        left = [r[0].ljust(widths[0]), r[1].ljust(widths[1])]
        print("  ".join(left + [c.rjust(x) for c, x in zip(r[2:], widths[2:], strict=True)]))
    print(
        f"\n{seeds:,} seeds per row (numpy Generator.multinomial, seed [{base}, case, i]);"
        f" tolerance ±{100 * TOL:g} pp; exact = summed over the binomial law (2 arms)."
    )
    print(
        f"cross-checks (exact pass sets vs the checks, e-process vs the class):"
        f" {disagreements} disagreements; {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
