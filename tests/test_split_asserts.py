"""assert_split / assert_exact_split: verdicts, exact failure messages, traceback hiding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from istiosim.errors import InvalidArgument
from istiosim.stats import EquivalenceResult, expected_counts, required_samples
from istiosim.testing import SplitAssertionError, assert_exact_split, assert_split

pytest_plugins = ["pytester"]

W50 = {"v1": 50, "v2": 50}


class FakeResult:
    """Duck-typed stand-in for the simulator's SimulationResult."""

    def __init__(self, counts: dict[str, int], seed: object = None) -> None:
        self._counts = counts
        self.seed = seed

    def subset_counts(self) -> dict[str, int]:
        return dict(self._counts)


def _message(*args: object, **kw: object) -> str:
    with pytest.raises(SplitAssertionError) as info:
        assert_split(*args, **kw)  # type: ignore[arg-type]
    assert isinstance(info.value, AssertionError)
    assert isinstance(info.value.result, EquivalenceResult)
    return str(info.value)


# --- assert_split ---------------------------------------------------------------------------


def test_assert_split_passes_and_returns_the_result() -> None:
    eq = assert_split({"v1": 5_003_000, "v2": 4_997_000}, W50)
    assert isinstance(eq, EquivalenceResult)
    assert eq.verdict == "equivalent"
    assert not eq.gof.rejected
    assert eq.alpha == 1e-6
    assert eq.tolerance == 0.01


NOT_EQUIVALENT = """\
split of 100,000 requests does not match the weights: v1, v2 outside the allowed band; goodness of fit rejects the weights (p = 2.684e-80 < alpha = 1e-06)
arm  weight  expected share  observed  observed share       99.9998% CI      allowed band   status
---  ------  --------------  --------  --------------  ----------------  ----------------  -------
v1       50          50.00%    53,000          53.00%  [52.25%, 53.75%]  [49.00%, 51.00%]  outside
v2       50          50.00%    47,000          47.00%  [46.25%, 47.75%]  [49.00%, 51.00%]  outside
verdict: not-equivalent (exact TOST per arm, p = 1); goodness of fit (binomial): p = 2.684e-80
n = 100,000; tolerance = ±1.00 pp; alpha = 1e-06 per assertion
seed = 7; reproduce: run the simulation again with rng=7"""


def test_message_not_equivalent_with_seed() -> None:
    assert _message(FakeResult({"v1": 53_000, "v2": 47_000}, seed=7), W50) == NOT_EQUIVALENT


INCONCLUSIVE = """\
too few requests to show the split is within ±1.00 pp of the weights (n = 1,000)
arm  weight  expected share  observed  observed share       99.9998% CI      allowed band     status
---  ------  --------------  --------  --------------  ----------------  ----------------  ---------
v1       50          50.00%       506          50.60%  [43.07%, 58.11%]  [49.00%, 51.00%]  straddles
v2       50          50.00%       494          49.40%  [41.89%, 56.93%]  [49.00%, 51.00%]  straddles
verdict: inconclusive (exact TOST per arm, p = 0.4123); goodness of fit (binomial): p = 0.728
n = 1,000; tolerance = ±1.00 pp; alpha = 1e-06 per assertion
need about n = 232,569 requests to decide (power 1 - alpha at ±1.00 pp); simulate more requests
seed unknown: simulate with a fixed rng (e.g. the istiosim_seed fixture) to make this failure reproducible"""


def test_message_inconclusive_says_how_many_requests() -> None:
    assert _message(FakeResult({"v1": 506, "v2": 494}), W50) == INCONCLUSIVE


def test_message_on_observed_counts_suggests_neither_simulation_nor_seed() -> None:
    """Counts observed in a cluster (a plain mapping): collect more, and no seed to show."""
    lines = INCONCLUSIVE.splitlines()
    expected = [*lines[:-2], lines[-2].replace("simulate more", "collect more")]
    assert _message({"v1": 506, "v2": 494}, W50).splitlines() == expected
    assert required_samples(W50, tolerance=0.01, alpha=1e-6, power=1 - 1e-6) == 232_569


def test_message_inconclusive_near_the_band_edge() -> None:
    message = _message({"stable": 91_000, "canary": 9_000}, {"stable": 90, "canary": 10})
    assert message.splitlines()[0] == (
        "split of 100,000 requests does not match the weights:"
        " goodness of fit rejects the weights (p = 1.062e-26 < alpha = 1e-06)"
    )
    assert message.splitlines()[-1] == (
        "n is already above the 83,725 requests a correct split needs (power 1 - alpha):"
        " some share sits near the edge of the band, so the split is probably off"
    )


ZERO_WEIGHT_HIT = """\
split of 1,000,000 requests does not match the weights: weight-0 subset(s) v3 received requests
arm  weight  expected share  observed  observed share       99.9998% CI      allowed band  status
---  ------  --------------  --------  --------------  ----------------  ----------------  ------
v1       50          50.00%   500,000          50.00%  [49.76%, 50.24%]  [49.00%, 51.00%]  inside
v2       50          50.00%   499,999          50.00%  [49.76%, 50.24%]  [49.00%, 51.00%]  inside
v3        0           0.00%         1           0.00%    [0.00%, 0.00%]    [0.00%, 1.00%]     hit
verdict: not-equivalent (exact TOST per arm, p = 1); goodness of fit (zero-weight): p = 0
n = 1,000,000; tolerance = ±1.00 pp; alpha = 1e-06 per assertion
seed = entropy-123; reproduce: run the simulation again with the same seed"""


def test_message_weight_zero_hit() -> None:
    counts = FakeResult({"v1": 500_000, "v2": 499_999, "v3": 1}, seed="entropy-123")
    assert _message(counts, {"v1": 50, "v2": 50, "v3": 0}) == ZERO_WEIGHT_HIT


def test_gof_rejection_fails_even_inside_the_band() -> None:
    # 50.3/49.7 at n = 10^6 is within ±1 pp, but the weights are demonstrably not 50/50
    message = _message({"v1": 503_000, "v2": 497_000}, W50)
    assert message.startswith(
        "split of 1,000,000 requests does not match the weights: goodness of fit rejects the"
        " weights (p = 1.985e-09 < alpha = 1e-06)\n"
    )
    assert "verdict: equivalent (exact TOST per arm, p = 7.714e-45)" in message
    # a looser tolerance does not help, a looser alpha for the assertion does not either
    with pytest.raises(SplitAssertionError):
        assert_split({"v1": 503_000, "v2": 497_000}, W50, tolerance=0.05)


def test_assert_split_bad_arguments_are_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match="observed subset 'v3' has no weight"):
        assert_split({"v1": 5, "v3": 5}, W50)
    with pytest.raises(InvalidArgument, match="tolerance"):
        assert_split({"v1": 5, "v2": 5}, W50, tolerance=0)


def test_assert_split_on_correct_and_wrong_samples_seeded() -> None:
    # n sized for power 1 - alpha: a correct split fails with probability about 2e-6, and a
    # 52/48 split (2 pp off with a 1 pp tolerance) passes with probability far below 1e-9.
    n = required_samples(W50, tolerance=0.01, alpha=1e-6, power=1 - 1e-6)
    rng = np.random.default_rng(20261126)
    good = rng.multinomial(n, [0.5, 0.5])
    assert_split(FakeResult(dict(zip(W50, good.tolist(), strict=True)), seed=20261126), W50)
    bad = rng.multinomial(n, [0.52, 0.48])
    with pytest.raises(SplitAssertionError, match="outside the allowed band"):
        assert_split(dict(zip(W50, bad.tolist(), strict=True)), W50)
    weights = {"stable": 90, "canary": 10}
    n = required_samples(weights, tolerance=0.01, alpha=1e-6, power=1 - 1e-6)
    good = rng.multinomial(n, [0.9, 0.1])
    assert_split(dict(zip(weights, good.tolist(), strict=True)), weights)


def test_assertion_frames_are_hidden(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from istiosim.testing import assert_split

        def test_split():
            assert_split({"v1": 600, "v2": 400}, {"v1": 1, "v2": 1})
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "SplitAssertionError: split of 1,000 requests does not match the weights" in out
    assert "raise SplitAssertionError" not in out  # the helper's frame is hidden
    assert "__tracebackhide__" not in out


# --- assert_exact_split ---------------------------------------------------------------------


def test_assert_exact_split_accepts_any_stratified_rounding() -> None:
    assert_exact_split({"a": 700, "b": 299}, {"a": 70, "b": 30})  # (i*W)//n style
    assert_exact_split({"a": 699, "b": 300}, {"a": 70, "b": 30})  # largest remainder
    assert_exact_split([3, 2, 2], [34, 33, 33])
    assert_exact_split([1, 9], [0.1, 0.9])  # decimal weights, exact


def test_assert_exact_split_is_strict_when_the_quota_is_whole() -> None:
    assert_exact_split({"a": 350, "b": 150}, {"a": 70, "b": 30})
    with pytest.raises(SplitAssertionError, match="a, b off"):
        assert_exact_split({"a": 351, "b": 149}, {"a": 70, "b": 30})


def test_assert_exact_split_message_is_golden() -> None:
    with pytest.raises(SplitAssertionError) as info:
        assert_exact_split({"a": 701, "b": 298}, {"a": 70, "b": 30})
    assert str(info.value) == (
        "counts of 999 requests are not a stratified split of the weights"
        " (each count within ±1 of n*w/W): a, b off\n"
        "arm  weight  exact n*w/W   allowed  observed  status\n"
        "---  ------  -----------  --------  --------  ------\n"
        "a        70       699.30  699..700       701     OFF\n"
        "b        30       299.70  299..300       298     OFF"
    )


def test_assert_exact_split_lists_only_offending_arms_in_the_headline() -> None:
    with pytest.raises(SplitAssertionError) as info:
        assert_exact_split([3, 3, 1], [0.34, 0.33, 0.33])
    lines = str(info.value).splitlines()
    assert lines[0].endswith(": 2 off")
    assert lines[3].split() == ["0", "0.34", "2.38", "2..3", "3", "ok"]
    assert lines[5].split() == ["2", "0.33", "2.31", "2..3", "1", "OFF"]


def test_assert_exact_split_weight_zero() -> None:
    assert_exact_split({"a": 10, "b": 0}, {"a": 1, "b": 0})
    with pytest.raises(SplitAssertionError, match="b off"):
        assert_exact_split({"a": 10, "b": 1}, {"a": 1, "b": 0})


weights_st = st.lists(st.integers(0, 1000), min_size=2, max_size=6).filter(lambda w: sum(w) > 0)


@given(n=st.integers(1, 10**9), weights=weights_st, data=st.data())
def test_expected_counts_pass_and_moving_two_requests_fails(
    n: int, weights: list[int], data: st.DataObject
) -> None:
    counts = list(expected_counts(n, weights).values())
    assert_exact_split(counts, weights)
    donors = [i for i, c in enumerate(counts) if c >= 2]
    if donors:
        i = data.draw(st.sampled_from(donors))
        j = data.draw(st.sampled_from([x for x in range(len(counts)) if x != i]))
        counts[i] -= 2
        counts[j] += 2
        with pytest.raises(SplitAssertionError):
            assert_exact_split(counts, weights)
