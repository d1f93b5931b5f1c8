"""pytest-friendly split assertions: fail with a table, not a bare p-value.

``assert_split`` decides by equivalence (is every share within ±tolerance of its weight?)
at a tiny alpha, so a seeded test almost never flips when numpy or the platform changes the
random stream. ``assert_exact_split`` is the deterministic check for stratified counts.
Both raise :class:`SplitAssertionError`, an ``AssertionError``, so they need no assertion
rewriting, and hide their own frame from pytest tracebacks.
"""

from __future__ import annotations

import math
from fractions import Fraction

from istiosim.stats import (
    Counts,
    EquivalenceResult,
    Weights,
    required_samples,
    split_equivalence,
)
from istiosim.stats.inputs import _exact_weights, _split
from istiosim.stats.render import _fmt_pp, _text_table

__all__ = ["SplitAssertionError", "assert_exact_split", "assert_split"]


class SplitAssertionError(AssertionError):
    """A split assertion failed; ``result`` is the statistics behind the message, if any."""

    __module__ = "istiosim.testing"  # shown in tracebacks: the public name

    def __init__(self, message: str, result: EquivalenceResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def _split_message(eq: EquivalenceResult, simulated: bool = True) -> str:
    """The failure message; ``simulated`` False for counts observed elsewhere (a cluster), which
    no seed reproduces and no longer simulation fixes."""
    band = _fmt_pp(eq.tolerance)
    hits = [a for a, st in zip(eq.arms, eq.arm_status, strict=True) if st == "hit"]
    out = [a for a, st in zip(eq.arms, eq.arm_status, strict=True) if st == "outside"]
    why = []
    if hits:
        why.append(f"weight-0 subset(s) {', '.join(hits)} received requests")
    if out:
        why.append(f"{', '.join(out)} outside the allowed band")
    if eq.gof.rejected and not hits:
        why.append(
            f"goodness of fit rejects the weights (p = {eq.gof.pvalue:.4g} < alpha = {eq.alpha:g})"
        )
    if why:
        headline = f"split of {eq.n:,} requests does not match the weights: {'; '.join(why)}"
    else:
        headline = (
            f"too few requests to show the split is within {band} of the weights (n = {eq.n:,})"
        )
    lines = [headline]
    lines.append(eq.table())
    lines.append(
        f"verdict: {eq.verdict} ({eq.method} TOST per arm, p = {eq.pvalue:.4g});"
        f" goodness of fit ({eq.gof.method}): p = {eq.gof.pvalue:.4g}"
    )
    lines.append(f"n = {eq.n:,}; tolerance = {band}; alpha = {eq.alpha:g} per assertion")
    if eq.verdict == "inconclusive":
        need = required_samples(
            eq.weights, tolerance=eq.tolerance, alpha=eq.alpha, power=1 - eq.alpha
        )
        if eq.n < need:
            more = "simulate more requests" if simulated else "collect more requests"
            lines.append(
                f"need about n = {need:,} requests to decide (power 1 - alpha at {band}); {more}"
            )
        else:
            lines.append(
                f"n is already above the {need:,} requests a correct split needs (power"
                " 1 - alpha): some share sits near the edge of the band, so the split is"
                " probably off"
            )
    if not simulated:
        pass  # observed counts: no seed to show
    elif eq.seed is None:
        lines.append(
            "seed unknown: simulate with a fixed rng (e.g. the istiosim_seed fixture)"
            " to make this failure reproducible"
        )
    else:
        again = f"rng={eq.seed}" if isinstance(eq.seed, int) else "the same seed"
        lines.append(f"seed = {eq.seed}; reproduce: run the simulation again with {again}")
    return "\n".join(lines)


def assert_split(
    result_or_counts: Counts,
    weights: Weights,
    *,
    tolerance: float = 0.01,
    alpha: float = 1e-06,
) -> EquivalenceResult:
    """Assert that every subset's share is within ±tolerance (absolute) of its weight.

    Passes when :func:`~istiosim.stats.split_equivalence` says "equivalent" and the
    goodness-of-fit test does not reject at ``alpha``; returns that result. A correct split then
    fails with probability at most about ``alpha`` (GoF) plus ``1 - power`` (too few requests to
    show equivalence): size n with ``required_samples(weights, tolerance=tolerance,
    alpha=alpha, power=1 - alpha)`` to make the whole false-failure rate about ``2 * alpha``.
    ``result_or_counts`` is a mapping subset -> count, a sequence aligned with ``weights``, or
    a simulation result (anything with ``subset_counts()``; its ``seed`` is shown on failure).
    """
    __tracebackhide__ = True
    eq = split_equivalence(result_or_counts, weights, tolerance=tolerance, alpha=alpha)
    if eq.verdict == "equivalent" and not eq.gof.rejected:
        return eq
    simulated = hasattr(result_or_counts, "subset_counts")  # a simulation result, not counts
    raise SplitAssertionError(_split_message(eq, simulated), eq)


def _fmt_fraction(q: Fraction) -> str:
    return f"{q.numerator // q.denominator:,}" if q.denominator == 1 else f"{float(q):,.2f}"


def assert_exact_split(counts: Counts, weights: Weights) -> None:
    """Assert that counts are a stratified allocation: each within ±1 of ``n * w_i / W``.

    Deterministic, in exact integer arithmetic: passes iff ``|n*w_i - W*k_i| < W`` for every
    arm (n the total count, W the total weight). This is the check for the simulator's
    stratified mode and for :func:`~istiosim.stats.expected_counts`; no randomness, no alpha.
    """
    __tracebackhide__ = True
    s = _split(counts, weights)
    exact = _exact_weights(s.weights)
    scale = math.lcm(*(w.denominator for w in exact))
    w_int = [int(w * scale) for w in exact]
    total = sum(w_int)
    n = s.n
    off = [abs(n * w - total * k) >= total for w, k in zip(w_int, s.counts, strict=True)]
    if not any(off):
        return
    rows = []
    for arm, w, wi, k, bad in zip(s.arms, s.weights, w_int, s.counts, off, strict=True):
        quota = Fraction(n * wi, total)
        lo, hi = math.floor(quota), math.ceil(quota)
        allowed = f"{lo:,}" if lo == hi else f"{lo:,}..{hi:,}"
        weight = str(int(w)) if w.is_integer() else f"{w:g}"
        rows.append([arm, weight, _fmt_fraction(quota), allowed, f"{k:,}", "OFF" if bad else "ok"])
    offending = [a for a, bad in zip(s.arms, off, strict=True) if bad]
    table = _text_table(["arm", "weight", "exact n*w/W", "allowed", "observed", "status"], rows)
    raise SplitAssertionError(
        f"counts of {n:,} requests are not a stratified split of the weights"
        f" (each count within ±1 of n*w/W): {', '.join(offending)} off\n{table}"
    )
