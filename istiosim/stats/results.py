"""The result objects: plain frozen values with ``to_dict()`` for JSON and a printed table.

A split test (and an SRM check), proportion intervals, an equivalence test (which carries its
intervals and goodness-of-fit test) and the state of a sequential test. Each prints one per-arm
table (weight, expected and observed share) through :class:`~.render._Rendered`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from .inputs import _shares
from .render import (
    _fmt_interval,
    _fmt_level,
    _fmt_p,
    _fmt_pp,
    _fmt_seed,
    _fmt_share,
    _fmt_weight,
    _num,
    _Rendered,
    _tolerance_digits,
)


def _arm_dicts(
    arms: tuple[str, ...],
    weights: tuple[float, ...],
    observed: tuple[int, ...],
    ci: ProportionIntervals | None,
) -> list[dict[str, Any]]:
    """One entry per arm: weight, expected share and count, observed count and share, CI."""
    total_w = sum(weights)
    n = sum(observed)
    expected_shares = _shares(weights)
    observed_shares = _shares(observed) if n else (None,) * len(arms)
    out: list[dict[str, Any]] = []
    for i, arm in enumerate(arms):
        d: dict[str, Any] = {
            "arm": arm,
            "weight": weights[i],
            "expected_share": expected_shares[i],
            "expected": n * weights[i] / total_w,
            "observed": observed[i],
            "observed_share": observed_shares[i],
        }
        if ci is not None:
            d["ci_low"], d["ci_high"] = ci.low[i], ci.high[i]
        out.append(d)
    return out


def _split_rows(
    arms: tuple[str, ...],
    weights: tuple[float, ...],
    observed: tuple[int, ...],
    ci: ProportionIntervals | None,
    digits: int = 2,
) -> tuple[list[str], list[list[str]]]:
    """The per-arm table: :func:`_arm_dicts` formatted for people."""
    header = ["arm", "weight", "expected share", "observed", "observed share"]
    if ci is not None:
        header.append(f"{_fmt_level(ci.confidence_level)} CI")
    rows = []
    for d in _arm_dicts(arms, weights, observed, ci):
        share = d["observed_share"]
        row = [
            d["arm"],
            _fmt_weight(d["weight"]),
            _fmt_share(d["expected_share"], digits),
            f"{d['observed']:,}",
            "-" if share is None else _fmt_share(share, digits),
        ]
        if ci is not None:
            row.append(_fmt_interval(d["ci_low"], d["ci_high"], digits))
        rows.append(row)
    return header, rows


@dataclass(frozen=True)
class ProportionIntervals(_Rendered):
    """Confidence intervals for the share of each arm."""

    arms: tuple[str, ...]
    observed: tuple[int, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    alpha: float
    method: str
    simultaneous: bool

    @property
    def n(self) -> int:
        return sum(self.observed)

    @property
    def confidence_level(self) -> float:
        return 1.0 - self.alpha

    @property
    def shares(self) -> tuple[float, ...]:
        return _shares(self.observed)

    def interval(self, arm: str) -> tuple[float, float]:
        """``(low, high)`` for one arm."""
        i = self.arms.index(arm)
        return self.low[i], self.high[i]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "alpha": self.alpha,
            "confidence_level": self.confidence_level,
            "simultaneous": self.simultaneous,
            "n": self.n,
            "arms": [
                {"arm": a, "observed": c, "share": s, "low": lo, "high": hi}
                for a, c, s, lo, hi in zip(
                    self.arms, self.observed, self.shares, self.low, self.high, strict=True
                )
            ],
        }

    def _render(self) -> tuple[str, list[str], list[list[str]], list[str]]:
        kind = "simultaneous " if self.simultaneous else ""
        title = f"{_fmt_level(self.confidence_level)} {kind}{self.method} intervals, n = {self.n:,}"
        header = ["arm", "observed", "share", "low", "high"]
        rows = [
            [a, f"{c:,}", _fmt_share(s), _fmt_share(lo), _fmt_share(hi)]
            for a, c, s, lo, hi in zip(
                self.arms, self.observed, self.shares, self.low, self.high, strict=True
            )
        ]
        return title, header, rows, []

    # ---- display (istiosim.display; the table, HTML and pandas come from _Rendered) ----

    def plot(self, *, ax: Any = None) -> Any:
        """Observed shares with their intervals against the configured weights (and band)."""
        from ..display.plot import plot_stats

        return plot_stats(self, ax=ax)


@dataclass(frozen=True)
class SplitTestResult(_Rendered):
    """A goodness-of-fit test of counts against weights (scipy's vocabulary).

    ``verdict`` is "mismatch" (rejected at ``alpha``), "consistent" (not rejected, which is not
    proof of a correct split: see :func:`split_equivalence`) or "insufficient-data" (even the most
    extreme allocation of these n requests could not reach ``alpha``). Any request on a weight-0
    arm is a deterministic mismatch (``method == "zero-weight"``, ``pvalue == 0``).
    """

    statistic: float
    pvalue: float
    df: int | None
    method: str
    alpha: float
    n: int
    arms: tuple[str, ...]
    weights: tuple[float, ...]
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    ci: ProportionIntervals
    verdict: Literal["consistent", "mismatch", "insufficient-data"]
    seed: int | str | None = None
    #: what the test is called in its title: "split test", or "SRM check" from ``srm_check``
    check: str = "split test"

    @property
    def rejected(self) -> bool:
        return self.pvalue < self.alpha

    @property
    def expected_shares(self) -> tuple[float, ...]:
        return _shares(self.weights)

    @property
    def observed_shares(self) -> tuple[float, ...]:
        return _shares(self.observed)

    @property
    def max_abs_deviation(self) -> float:
        """Largest ``|observed share - expected share|`` over the arms."""
        return max(
            abs(o - e) for o, e in zip(self.observed_shares, self.expected_shares, strict=True)
        )

    def __iter__(self) -> Iterator[float]:
        """Unpack as ``statistic, pvalue`` like scipy's results."""
        return iter((self.statistic, self.pvalue))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "statistic": _num(self.statistic),
            "pvalue": self.pvalue,
            "df": self.df,
            "alpha": self.alpha,
            "n": self.n,
            "verdict": self.verdict,
            "rejected": self.rejected,
            "max_abs_deviation": self.max_abs_deviation,
            "seed": self.seed,
            "arms": _arm_dicts(self.arms, self.weights, self.observed, self.ci),
        }

    def _render(self) -> tuple[str, list[str], list[list[str]], list[str]]:
        title = (
            f"{self.check} ({self.method}): p = {_fmt_p(self.pvalue)}, alpha = {self.alpha:g}"
            f" -> {self.verdict}"
        )
        header, rows = _split_rows(self.arms, self.weights, self.observed, self.ci)
        df = "-" if self.df is None else str(self.df)
        notes = [
            f"n = {self.n:,}; statistic = {self.statistic:.6g}; df = {df}{_fmt_seed(self.seed)}"
        ]
        return title, header, rows, notes

    # ---- display (istiosim.display; the table, HTML and pandas come from _Rendered) ----

    def plot(self, *, ax: Any = None) -> Any:
        """Observed shares with their intervals against the configured weights (and band)."""
        from ..display.plot import plot_stats

        return plot_stats(self, ax=ax)


#: An SRM check is a split test with SRM defaults; its verdict says "mismatch" for an SRM.
SRMResult: TypeAlias = SplitTestResult


@dataclass(frozen=True)
class EquivalenceResult(_Rendered):
    """Per-arm TOST of "share within ±tolerance of its weight", combined by intersection-union.

    ``arm_status`` per arm: "inside" (the (1-2α) interval lies inside the band: this arm is
    shown equivalent), "outside" (shown to be off by more than the tolerance), "straddles" (not
    enough data either way) or "hit" (requests on a weight-0 arm: a deterministic failure).
    """

    verdict: Literal["equivalent", "not-equivalent", "inconclusive"]
    pvalue: float
    arm_pvalues: tuple[float, ...]
    arm_status: tuple[str, ...]
    tolerance: float
    alpha: float
    method: str
    n: int
    arms: tuple[str, ...]
    weights: tuple[float, ...]
    observed: tuple[int, ...]
    ci: ProportionIntervals
    n_required: int
    gof: SplitTestResult
    seed: int | str | None = None

    @property
    def equivalent(self) -> bool:
        return self.verdict == "equivalent"

    @property
    def expected_shares(self) -> tuple[float, ...]:
        return _shares(self.weights)

    def _band(self, share: float) -> tuple[float, float]:
        """Where an arm's share may lie: its expected share ± tolerance, clipped to [0, 1]."""
        return max(0.0, share - self.tolerance), min(1.0, share + self.tolerance)

    def to_dict(self) -> dict[str, Any]:
        arms = _arm_dicts(self.arms, self.weights, self.observed, self.ci)
        for d, p, st in zip(arms, self.arm_pvalues, self.arm_status, strict=True):
            d["band_low"], d["band_high"] = self._band(d["expected_share"])
            d["pvalue"], d["status"] = p, st
        return {
            "verdict": self.verdict,
            "pvalue": self.pvalue,
            "method": self.method,
            "tolerance": self.tolerance,
            "alpha": self.alpha,
            "n": self.n,
            "n_required": self.n_required,
            "seed": self.seed,
            "arms": arms,
            "gof": self.gof.to_dict(),
        }

    def _render(self) -> tuple[str, list[str], list[list[str]], list[str]]:
        digits = _tolerance_digits(self.tolerance)
        title = (
            f"split equivalence within {_fmt_pp(self.tolerance)}"
            f" ({self.method} TOST per arm): p = {_fmt_p(self.pvalue)},"
            f" alpha = {self.alpha:g} -> {self.verdict}"
        )
        header, rows = _split_rows(self.arms, self.weights, self.observed, self.ci, digits)
        header += ["allowed band", "status"]
        for row, share, status in zip(rows, self.expected_shares, self.arm_status, strict=True):
            row += [_fmt_interval(*self._band(share), digits), status]
        notes = [
            f"n = {self.n:,}; n_required = {self.n_required:,} (power 0.9){_fmt_seed(self.seed)}",
            f"goodness of fit ({self.gof.method}): p = {_fmt_p(self.gof.pvalue)}",
        ]
        return title, header, rows, notes

    # ---- display (istiosim.display; the table, HTML and pandas come from _Rendered) ----

    def plot(self, *, ax: Any = None) -> Any:
        """Observed shares with their intervals against the configured weights (and band)."""
        from ..display.plot import plot_stats

        return plot_stats(self, ax=ax)


@dataclass(frozen=True)
class SequentialResult(_Rendered):
    """State of a :class:`SequentialSplitTest` after a look at the data.

    ``pvalue`` is always valid: ``P(pvalue <= alpha at any look, ever) <= alpha`` under the
    configured weights, however often you look. ``log_e_value`` is the current log Bayes factor
    (the e-process); the p-value uses the largest one seen so far.
    """

    n: int
    looks: int
    log_e_value: float
    max_log_e_value: float
    pvalue: float
    alpha: float
    rejected: bool
    prior_strength: float
    arms: tuple[str, ...]
    weights: tuple[float, ...]
    observed: tuple[int, ...]
    seed: int | str | None = None

    @property
    def verdict(self) -> Literal["mismatch", "consistent"]:
        return "mismatch" if self.rejected else "consistent"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "dirichlet-multinomial e-process",
            "n": self.n,
            "looks": self.looks,
            "log_e_value": _num(self.log_e_value),
            "max_log_e_value": _num(self.max_log_e_value),
            "pvalue": self.pvalue,
            "alpha": self.alpha,
            "rejected": self.rejected,
            "verdict": self.verdict,
            "prior_strength": self.prior_strength,
            "seed": self.seed,
            "arms": _arm_dicts(self.arms, self.weights, self.observed, None),
        }

    def _render(self) -> tuple[str, list[str], list[list[str]], list[str]]:
        title = (
            f"sequential split test (Dirichlet-multinomial mixture, prior strength "
            f"{self.prior_strength:g}): always-valid p = {_fmt_p(self.pvalue)},"
            f" alpha = {self.alpha:g} -> {self.verdict}"
        )
        header, rows = _split_rows(self.arms, self.weights, self.observed, None)
        notes = [f"n = {self.n:,}; looks = {self.looks}; log e-value = {self.log_e_value:.4g}"]
        return title, header, rows, notes
