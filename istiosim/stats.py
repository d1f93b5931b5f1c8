"""Statistics of traffic splits: is this really 50/50?

Pure functions over counts. A simulator that samples (or a real cluster) produces counts per
subset; these functions say whether the counts fit the configured weights
(:func:`split_test`, :func:`srm_check`), how precisely the shares are known (:func:`split_ci`),
whether the split is *within a tolerance* of the weights (:func:`split_equivalence`, the right
question for verification), how many requests that takes (:func:`required_samples`), and how to
watch a growing stream without inflating false alarms (:class:`SequentialSplitTest`).

scipy is imported inside the functions that need it, so ``import istiosim.stats`` stays cheap.
The choices (which test for which n, SRM thresholds, TOST, Goodman intervals, the Dirichlet
mixture e-process) follow ``reference/statistics.md`` part A.
"""

from __future__ import annotations

import difflib
import html
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist
from typing import Any, Literal, Protocol, TypeAlias, TypeGuard

import numpy as np
import numpy.typing as npt

from istiosim.errors import InvalidArgument

__all__ = [
    "Counts",
    "EquivalenceResult",
    "ProportionIntervals",
    "SRMResult",
    "SequentialResult",
    "SequentialSplitTest",
    "SplitTestResult",
    "SupportsSubsetCounts",
    "Weights",
    "expected_counts",
    "expected_distribution",
    "required_samples",
    "split_ci",
    "split_equivalence",
    "split_test",
    "srm_check",
]


class SupportsSubsetCounts(Protocol):
    """Anything that can report counts per subset, such as a simulation result."""

    def subset_counts(self) -> Mapping[str, int]: ...


Weights: TypeAlias = Mapping[str, float] | Sequence[float] | npt.NDArray[Any]
Counts: TypeAlias = Mapping[str, int] | Sequence[int] | npt.NDArray[Any] | SupportsSubsetCounts
RNGLike: TypeAlias = (
    int | np.random.SeedSequence | np.random.BitGenerator | np.random.Generator | None
)
TestMethod: TypeAlias = Literal["auto", "binomial", "pearson", "g", "exact", "monte-carlo"]
CIMethod: TypeAlias = Literal["wilson", "clopper-pearson", "jeffreys"]

_TEST_METHODS = ("auto", "binomial", "pearson", "g", "exact", "monte-carlo")
_CI_METHODS = ("wilson", "clopper-pearson", "jeffreys")
#: Largest number of outcomes the exact multinomial test enumerates (about 8 MB per arm).
_EXACT_LIMIT = 1_000_000
_NORMAL = NormalDist()


# --- input normalisation ------------------------------------------------------------------


@dataclass(frozen=True)
class _Split:
    """Validated arms, weights and counts, aligned by position."""

    arms: tuple[str, ...]
    weights: tuple[float, ...]
    counts: tuple[int, ...]
    seed: int | str | None

    @property
    def n(self) -> int:
        return sum(self.counts)

    @property
    def shares(self) -> npt.NDArray[np.float64]:
        w = np.asarray(self.weights, dtype=np.float64)
        return np.asarray(w / w.sum(), dtype=np.float64)


def _is_number(x: object) -> TypeGuard[float | np.integer[Any] | np.floating[Any]]:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_)
    )


def _parse_weights(weights: Weights) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if isinstance(weights, Mapping):
        items = list(weights.items())
    elif isinstance(weights, (str, bytes)):
        raise InvalidArgument(
            f"weights must be a mapping or a sequence of numbers, got {weights!r}"
        )
    else:
        items = [(str(i), w) for i, w in enumerate(weights)]
    if not items:
        raise InvalidArgument("weights is empty: give at least one subset and its weight")
    arms: list[str] = []
    values: list[float] = []
    for arm, w in items:
        if not isinstance(arm, str):
            raise InvalidArgument(f"subset names must be strings, got {arm!r}")
        if not _is_number(w):
            raise InvalidArgument(f"weight of {arm!r} must be a number, got {w!r}")
        wf = float(w)
        if not math.isfinite(wf):
            raise InvalidArgument(f"weight of {arm!r} must be finite, got {w!r}")
        if wf < 0:
            raise InvalidArgument(f"weight of {arm!r} must not be negative, got {w!r}")
        arms.append(arm)
        values.append(wf)
    if sum(values) <= 0:
        raise InvalidArgument(f"all weights are zero: {dict(zip(arms, values, strict=True))}")
    return tuple(arms), tuple(values)


def _count(arm: str, c: object) -> int:
    if not _is_number(c) or not float(c).is_integer():
        raise InvalidArgument(f"count of {arm!r} must be a whole number, got {c!r}")
    if c < 0:
        raise InvalidArgument(f"count of {arm!r} must not be negative, got {c!r}")
    return int(c)


def _seed_of(observed: object) -> int | str | None:
    seed = getattr(observed, "seed", None)
    if seed is None or isinstance(seed, str):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    return str(seed)


def _parse_counts(
    observed: Counts, arms: tuple[str, ...]
) -> tuple[tuple[int, ...], int | str | None]:
    """Counts aligned to ``arms``: a mapping by name, a sequence by position."""
    seed = None
    if hasattr(observed, "subset_counts"):
        seed = _seed_of(observed)
        observed = observed.subset_counts()
    if isinstance(observed, Mapping):
        by_name = dict(observed)
        for key in by_name:
            if key not in arms:
                hint = difflib.get_close_matches(str(key), arms, n=1)
                did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
                raise InvalidArgument(
                    f"observed subset {key!r} has no weight (weights name "
                    f"{', '.join(map(repr, arms))}){did_you_mean} "
                    "Give it weight 0 to assert that it receives no traffic."
                )
        return tuple(_count(a, by_name.get(a, 0)) for a in arms), seed
    if isinstance(observed, (str, bytes)):
        raise InvalidArgument(f"observed must be counts, got {observed!r}")
    values = list(observed)
    if len(values) != len(arms):
        raise InvalidArgument(
            f"observed has {len(values)} counts but there are {len(arms)} weights "
            f"({', '.join(map(repr, arms))})"
        )
    return tuple(_count(a, c) for a, c in zip(arms, values, strict=True)), seed


def _split(observed: Counts, weights: Weights, *, allow_empty: bool = False) -> _Split:
    arms, w = _parse_weights(weights)
    counts, seed = _parse_counts(observed, arms)
    if not allow_empty and sum(counts) == 0:
        raise InvalidArgument("the sample is empty (n = 0): there is nothing to test")
    return _Split(arms, w, counts, seed)


def _check_level(name: str, value: float, high: float = 1.0) -> None:
    if not _is_number(value) or not 0.0 < float(value) < high:
        raise InvalidArgument(f"{name} must be between 0 and {high:g} (exclusive), got {value!r}")


def _z(upper_tail: float) -> float:
    """The normal quantile with ``upper_tail`` probability above it."""
    return -_NORMAL.inv_cdf(upper_tail)


def _exact_weights(weights: tuple[float, ...]) -> list[Fraction]:
    # Shortest round-trip decimal, so that 0.1 means 1/10 and 70/30 stays integral.
    return [Fraction(repr(w)) for w in weights]


# --- exact / deterministic ----------------------------------------------------------------


def expected_distribution(weights: Weights) -> dict[str, float]:
    """Exact share of each subset, ``w_i / sum(w)``; weights need not sum to 100."""
    arms, w = _parse_weights(weights)
    total = sum(w)
    return {a: wi / total for a, wi in zip(arms, w, strict=True)}


def expected_counts(n: int, weights: Weights) -> dict[str, int]:
    """Stratified counts for ``n`` requests: each within ±1 of ``n*w_i/W``, summing to ``n``.

    Largest remainder in exact rational arithmetic, ties going to the earlier subset, so the
    answer is deterministic and independent of float rounding. This is what a perfect
    deterministic split looks like, and what :func:`assert_exact_split` accepts.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise InvalidArgument(f"n must be a non-negative integer, got {n!r}")
    arms, w = _parse_weights(weights)
    exact = _exact_weights(w)
    total = sum(exact)
    quotas = [int(n) * wi / total for wi in exact]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(arms)), key=lambda i: -(quotas[i] - counts[i]))
    for i in order[: int(n) - sum(counts)]:
        counts[i] += 1
    return dict(zip(arms, counts, strict=True))


# --- result objects -----------------------------------------------------------------------


def _num(x: float) -> float | None:
    """A JSON-safe float: non-finite values become None."""
    return float(x) if math.isfinite(x) else None


def _fmt_weight(w: float) -> str:
    return str(int(w)) if float(w).is_integer() else f"{w:g}"


def _fmt_share(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}%"


def _fmt_p(p: float) -> str:
    return f"{p:.4g}"


def _fmt_level(confidence: float) -> str:
    return f"{100 * confidence:.6f}".rstrip("0").rstrip(".") + "%"


def _tolerance_digits(tolerance: float) -> int:
    """Decimals of a percentage that still show a tenth of the tolerance."""
    return max(2, 1 - math.floor(math.log10(100 * tolerance)))


def _fmt_pp(tolerance: float) -> str:
    return f"±{100 * tolerance:.{_tolerance_digits(tolerance)}f} pp"


def _fmt_interval(low: float, high: float, digits: int = 2) -> str:
    return f"[{_fmt_share(low, digits)}, {_fmt_share(high, digits)}]"


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    """Fixed-width table: first column left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _html_table(title: str, header: list[str], rows: list[list[str]], notes: list[str]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    foot = "".join(f"<p>{html.escape(x)}</p>" for x in notes)
    return (
        f"<div><p><b>{html.escape(title)}</b></p><table><thead><tr>{th}</tr></thead>"
        f"<tbody>{body}</tbody></table>{foot}</div>"
    )


def _split_rows(
    arms: tuple[str, ...],
    weights: tuple[float, ...],
    observed: tuple[int, ...],
    ci: ProportionIntervals | None,
    digits: int = 2,
) -> tuple[list[str], list[list[str]]]:
    total_w = sum(weights)
    n = sum(observed)
    header = ["arm", "weight", "expected share", "observed", "observed share"]
    if ci is not None:
        header.append(f"{_fmt_level(ci.confidence_level)} CI")
    rows = []
    for i, arm in enumerate(arms):
        row = [
            arm,
            _fmt_weight(weights[i]),
            _fmt_share(weights[i] / total_w, digits),
            f"{observed[i]:,}",
            _fmt_share(observed[i] / n, digits) if n else "-",
        ]
        if ci is not None:
            row.append(_fmt_interval(ci.low[i], ci.high[i], digits))
        rows.append(row)
    return header, rows


def _arm_dicts(
    arms: tuple[str, ...],
    weights: tuple[float, ...],
    observed: tuple[int, ...],
    ci: ProportionIntervals | None,
) -> list[dict[str, Any]]:
    total_w = sum(weights)
    n = sum(observed)
    out: list[dict[str, Any]] = []
    for i, arm in enumerate(arms):
        d: dict[str, Any] = {
            "arm": arm,
            "weight": weights[i],
            "expected_share": weights[i] / total_w,
            "expected": n * weights[i] / total_w,
            "observed": observed[i],
            "observed_share": observed[i] / n if n else None,
        }
        if ci is not None:
            d["ci_low"], d["ci_high"] = ci.low[i], ci.high[i]
        out.append(d)
    return out


class _Rendered:
    """Text and HTML rendering shared by the result classes (one table, two formats)."""

    def _render(self) -> tuple[str, list[str], list[list[str]], list[str]]:
        raise NotImplementedError

    def table(self) -> str:
        """The per-arm fixed-width table alone, for embedding in other messages."""
        _, header, rows, _ = self._render()
        return _text_table(header, rows)

    def __str__(self) -> str:
        title, header, rows, notes = self._render()
        return "\n".join([title, _text_table(header, rows), *notes])

    def _repr_html_(self) -> str:
        return _html_table(*self._render())


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
        return tuple(c / self.n for c in self.observed)

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

    @property
    def rejected(self) -> bool:
        return self.pvalue < self.alpha

    @property
    def expected_shares(self) -> tuple[float, ...]:
        total = sum(self.weights)
        return tuple(w / total for w in self.weights)

    @property
    def observed_shares(self) -> tuple[float, ...]:
        return tuple(c / self.n for c in self.observed)

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
            f"split test ({self.method}): p = {_fmt_p(self.pvalue)}, alpha = {self.alpha:g}"
            f" -> {self.verdict}"
        )
        header, rows = _split_rows(self.arms, self.weights, self.observed, self.ci)
        df = "-" if self.df is None else str(self.df)
        seed = "" if self.seed is None else f"; seed = {self.seed}"
        notes = [f"n = {self.n:,}; statistic = {self.statistic:.6g}; df = {df}{seed}"]
        return title, header, rows, notes


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
        total = sum(self.weights)
        return tuple(w / total for w in self.weights)

    def to_dict(self) -> dict[str, Any]:
        arms = _arm_dicts(self.arms, self.weights, self.observed, self.ci)
        for d, p, st in zip(arms, self.arm_pvalues, self.arm_status, strict=True):
            d["band_low"] = max(0.0, d["expected_share"] - self.tolerance)
            d["band_high"] = min(1.0, d["expected_share"] + self.tolerance)
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
            low, high = max(0.0, share - self.tolerance), min(1.0, share + self.tolerance)
            row += [_fmt_interval(low, high, digits), status]
        seed = "" if self.seed is None else f"; seed = {self.seed}"
        notes = [
            f"n = {self.n:,}; n_required = {self.n_required:,} (power 0.9){seed}",
            f"goodness of fit ({self.gof.method}): p = {_fmt_p(self.gof.pvalue)}",
        ]
        return title, header, rows, notes


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


# --- intervals ----------------------------------------------------------------------------


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
    else:
        from scipy.special import betaincinv

        if method == "clopper-pearson":
            low = np.where(k > 0, betaincinv(np.maximum(k, 1), n - k + 1, a / 2), 0.0)
            high = np.where(k < n, betaincinv(k + 1, np.maximum(n - k, 1), 1 - a / 2), 1.0)
        else:  # jeffreys: equal-tailed Beta(k + 1/2, n - k + 1/2) quantiles
            low = betaincinv(k + 0.5, n - k + 0.5, a / 2)
            high = betaincinv(k + 0.5, n - k + 0.5, 1 - a / 2)
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
    if method not in _CI_METHODS:
        raise InvalidArgument(f"method must be one of {', '.join(_CI_METHODS)}; got {method!r}")
    if hasattr(observed, "subset_counts"):
        observed = observed.subset_counts()
    if isinstance(observed, Mapping):
        arms = tuple(observed)
        if not all(isinstance(a, str) for a in arms):
            raise InvalidArgument(f"subset names must be strings, got {list(arms)!r}")
        counts = tuple(_count(a, observed[a]) for a in arms)
    else:
        values = list(observed)
        arms = tuple(str(i) for i in range(len(values)))
        counts = tuple(_count(a, c) for a, c in zip(arms, values, strict=True))
    if sum(counts) == 0:
        raise InvalidArgument("the sample is empty (n = 0): there is nothing to estimate")
    return _intervals(arms, counts, alpha, method, simultaneous)


# --- goodness of fit ----------------------------------------------------------------------


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


def _auto_method(k: int, n: int, min_expected: float, alpha: float, n_resamples: int) -> str:
    if k == 2:
        return "binomial"
    # chi-square over-rejects in the far tail until the smallest arm expects about 50 hits
    if min_expected >= (5 if alpha >= 0.01 else 50):
        return "pearson"
    if math.comb(n + k - 1, k - 1) <= _EXACT_LIMIT:
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
        res = stats.binomtest(int(x[0]), n, float(p[0]))
        return float(res.statistic), float(res.pvalue), None
    if method in ("pearson", "g"):
        lam = "pearson" if method == "pearson" else "log-likelihood"
        res = stats.power_divergence(x, e, lambda_=lam)
        return float(res.statistic), float(res.pvalue), df
    if method == "exact":
        if math.comb(n + len(p) - 1, len(p) - 1) > _EXACT_LIMIT:
            raise InvalidArgument(
                f"exact enumeration of n={n} over {len(p)} arms needs more than "
                f"{_EXACT_LIMIT:,} outcomes; use method='monte-carlo'"
            )
        return float(_pearson(x, e)), _exact_pvalue(x, p), None
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise InvalidArgument(f"n_resamples must be a positive integer, got {n_resamples!r}")
    gen = np.random.default_rng(rng)
    res = stats.monte_carlo_test(
        x,
        # scipy passes size=(batch, k): the last axis is the observation axis
        lambda size: gen.multinomial(n, p, size=size[:-1]),
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
    if method not in _TEST_METHODS:
        raise InvalidArgument(f"method must be one of {', '.join(_TEST_METHODS)}; got {method!r}")
    p_all = s.shares
    counts = np.asarray(s.counts, dtype=np.int64)
    n = s.n
    pos = p_all > 0
    p, x = p_all[pos] / p_all[pos].sum(), counts[pos]
    verdict: Literal["consistent", "mismatch", "insufficient-data"]
    if counts[~pos].sum() > 0:
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
    return _split_test(_split(observed, weights), alpha, "auto", 100_000, 0)


# --- equivalence and sample size ----------------------------------------------------------


def _tost_arm(k: int, n: int, p0: float, tol: float, method: str) -> tuple[float, float]:
    """(TOST p-value that the share is inside p0 ± tol, p-value that it is outside)."""
    lo, hi = p0 - tol, p0 + tol
    if method == "exact":
        from scipy.special import bdtr, bdtrc

        def ge(p: float) -> float:  # P(X >= k | p)
            return 1.0 if k == 0 else float(bdtrc(k - 1, n, p))

        def le(p: float) -> float:  # P(X <= k | p)
            return float(bdtr(k, n, p))

    else:  # score test, which inverts to the Wilson interval

        def ge(p: float) -> float:
            if p in (0.0, 1.0):
                return 1.0 if k == 0 or p == 1.0 else 0.0
            z = (k / n - p) / math.sqrt(p * (1 - p) / n)
            return 0.5 * math.erfc(z / math.sqrt(2))

        def le(p: float) -> float:
            if p in (0.0, 1.0):
                return 1.0 if k == n or p == 0.0 else 0.0
            z = (k / n - p) / math.sqrt(p * (1 - p) / n)
            return 0.5 * math.erfc(-z / math.sqrt(2))

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
        gof=_split_test(s, alpha, "auto", 100_000, 0),
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
    _, w = _parse_weights(weights)
    p = np.asarray(w) / sum(w)
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


# --- sequential ---------------------------------------------------------------------------


def _log_bayes_factor(
    x: npt.NDArray[Any], p: npt.NDArray[np.float64], prior_strength: float
) -> npt.NDArray[np.float64]:
    """Log Bayes factor of a Dirichlet(c·p) mixture against the point null p (last axis arms).

    Lindon & Malek (2022): under the null it is an e-process, so P(ever >= 1/α) <= α.
    """
    from scipy.special import gammaln, xlogy

    a = prior_strength * p
    n = x.sum(axis=-1)
    return np.asarray(
        gammaln(a.sum())
        - gammaln(a).sum()
        + gammaln(a + x).sum(axis=-1)
        - gammaln(a.sum() + n)
        - xlogy(x, p).sum(axis=-1),
        dtype=np.float64,
    )


class SequentialSplitTest:
    """Always-valid split test for watching traffic as it arrives (statistics.md A6).

    Re-running :func:`split_test` on growing data inflates false alarms (44% at 200 looks for a
    nominal 5%). This test may be checked after every request: under the configured weights the
    chance that it *ever* rejects is at most alpha. ``update`` takes **cumulative** counts (the
    totals so far, e.g. ``result.subset_counts()`` of a growing simulation), not increments.
    ``prior_strength`` is the Dirichlet concentration c (prior c·p): larger c is more sensitive to
    small deviations but slower to detect large ones.
    """

    def __init__(self, weights: Weights, *, alpha: float = 0.05, prior_strength: float = 100.0):
        _check_level("alpha", alpha)
        if not _is_number(prior_strength) or not 0 < prior_strength < math.inf:
            raise InvalidArgument(f"prior_strength must be positive, got {prior_strength!r}")
        self._arms, self._weights = _parse_weights(weights)
        self._alpha = float(alpha)
        self._c = float(prior_strength)
        self._counts: tuple[int, ...] = (0,) * len(self._arms)
        self._looks = 0
        self._max_log_e = 0.0
        self._result = self._make(0.0, None)

    @property
    def result(self) -> SequentialResult:
        """The state after the last update."""
        return self._result

    def _make(self, log_e: float, seed: int | str | None) -> SequentialResult:
        p = min(1.0, math.exp(-self._max_log_e))
        return SequentialResult(
            n=sum(self._counts),
            looks=self._looks,
            log_e_value=log_e,
            max_log_e_value=self._max_log_e,
            pvalue=p,
            alpha=self._alpha,
            rejected=p <= self._alpha,
            prior_strength=self._c,
            arms=self._arms,
            weights=self._weights,
            observed=self._counts,
            seed=seed,
        )

    def update(self, counts: Counts) -> SequentialResult:
        """Look at the cumulative counts so far; returns the always-valid result."""
        s = _split(counts, dict(zip(self._arms, self._weights, strict=True)), allow_empty=True)
        for arm, old, new in zip(self._arms, self._counts, s.counts, strict=True):
            if new < old:
                raise InvalidArgument(
                    f"counts must be cumulative: {arm!r} went down from {old} to {new}"
                )
        p = s.shares
        x = np.asarray(s.counts, dtype=np.int64)
        if x[p == 0].sum() > 0:
            log_e = math.inf
        else:
            log_e = float(_log_bayes_factor(x[p > 0], p[p > 0], self._c))
        self._counts = s.counts
        self._looks += 1
        self._max_log_e = max(self._max_log_e, log_e)
        self._result = self._make(log_e, s.seed)
        return self._result
