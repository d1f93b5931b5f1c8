"""WeightTable: Istio's weights as Envoy's ``weighted_clusters`` pick them (semantics.md §2).

Envoy computes ``selected = random_value % total_weight`` and scans the clusters in declaration
order with half-open intervals ``[0, w1), [w1, w1 + w2), ...``; the first interval holding
``selected`` wins. The tests compare ``pick`` with that scan written out, at every interval
boundary, for Python ints and for uint64 arrays (values above 2^63 included).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from istiosim.errors import InvalidArgument
from istiosim.weights import MAX_TOTAL_WEIGHT, WeightTable

U64_MAX = 2**64 - 1


def envoy_scan(weights: list[int], value: int) -> int:
    """Envoy's loop: the first cluster whose cumulative end exceeds ``value % total``."""
    selected = value % sum(weights)
    end = 0
    for i, w in enumerate(weights):
        end += w
        if selected < end:
            return i
    raise AssertionError("unreachable: selected < total")


def pick_array(table: WeightTable, values: list[int]) -> list[int]:
    return [int(i) for i in table.pick(np.array(values, dtype=np.uint64))]


# -- construction ----------------------------------------------------------------------------


def test_of_keeps_declaration_order_cumulative_sums_and_total() -> None:
    t = WeightTable.of([30, 0, 50, 20])
    assert (t.weights, t.cumulative, t.total) == ((30, 0, 50, 20), (30, 30, 80, 100), 100)


def test_weights_need_not_sum_to_100() -> None:
    t = WeightTable.of([550, 500])
    assert t.total == 1050 and t.probabilities() == (Fraction(11, 21), Fraction(10, 21))


@pytest.mark.parametrize("weight", [None, 0, 1, 7, 100])
def test_a_single_destination_gets_everything_whatever_its_weight(weight: int | None) -> None:
    t = WeightTable.from_config([weight])
    assert (t.weights, t.total, t.probabilities()) == ((1,), 1, (Fraction(1),))
    assert [t.pick(v) for v in (0, 1, 99, U64_MAX)] == [0, 0, 0, 0]


def test_with_several_destinations_an_omitted_weight_is_zero() -> None:
    t = WeightTable.from_config([None, 100])
    assert t.weights == (0, 100)
    assert t.probabilities() == (Fraction(0), Fraction(1))
    assert {t.pick(v) for v in range(300)} == {1}


def test_from_config_passes_given_weights_through() -> None:
    assert WeightTable.from_config([80, 20]).weights == (80, 20)
    assert WeightTable.from_config([0, 3, None, 1]).weights == (0, 3, 0, 1)


def test_no_destination_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="at least one destination"):
        WeightTable.from_config([])


@pytest.mark.parametrize("weights", [[None, None], [0, 0], [0, None, 0]])
def test_all_zero_weights_are_refused(weights: list[int | None]) -> None:
    with pytest.raises(InvalidArgument, match="total destination weight = 0"):
        WeightTable.from_config(weights)


def test_of_refuses_an_empty_table() -> None:
    with pytest.raises(InvalidArgument, match="total destination weight = 0"):
        WeightTable.of([])


@pytest.mark.parametrize("weights", [[-1, 2], [5, -5, 10]])
def test_negative_weights_are_refused_even_when_the_total_is_positive(
    weights: list[int],
) -> None:
    with pytest.raises(InvalidArgument, match="negative weight"):
        WeightTable.of(weights)


def test_max_total_weight_is_envoys_limit() -> None:
    assert MAX_TOTAL_WEIGHT == 2**32 - 1
    t = WeightTable.of([2**32 - 2, 1])
    assert t.total == MAX_TOTAL_WEIGHT
    assert WeightTable.of([MAX_TOTAL_WEIGHT]).total == MAX_TOTAL_WEIGHT


@pytest.mark.parametrize("weights", [[2**32], [2**31, 2**31], [MAX_TOTAL_WEIGHT, 1]])
def test_a_total_above_the_limit_is_refused(weights: list[int]) -> None:
    with pytest.raises(InvalidArgument, match=r"exceeds 2\^32-1"):
        WeightTable.of(weights)


def test_the_table_is_immutable() -> None:
    t = WeightTable.of([1, 2])
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.total = 4  # type: ignore[misc]


# -- probabilities ---------------------------------------------------------------------------


def test_probabilities_are_exact_fractions_in_declaration_order() -> None:
    assert WeightTable.of([80, 20]).probabilities() == (Fraction(4, 5), Fraction(1, 5))
    assert WeightTable.of([1, 2]).probabilities() == (Fraction(1, 3), Fraction(2, 3))
    assert WeightTable.of([0, 1, 0, 3]).probabilities() == (0, Fraction(1, 4), 0, Fraction(3, 4))


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=8).filter(lambda w: sum(w) > 0))
def test_probabilities_sum_to_one_and_are_weight_over_total(weights: list[int]) -> None:
    p = WeightTable.of(weights).probabilities()
    assert sum(p) == 1
    assert all(pi == Fraction(w, sum(weights)) for pi, w in zip(p, weights, strict=True))


# -- pick: Envoy's intervals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "index"),
    [(0, 0), (79, 0), (80, 1), (99, 1), (100, 0), (179, 0), (180, 1), (1099, 1)],
)
def test_pick_80_20_boundaries_and_wrap_around(value: int, index: int) -> None:
    t = WeightTable.of([80, 20])
    assert t.pick(value) == index
    assert pick_array(t, [value]) == [index]


def test_pick_at_the_first_and_last_value_of_every_interval() -> None:
    weights = [0, 3, 0, 0, 5, 1, 0, 7, 0]
    t = WeightTable.of(weights)
    start = 0
    for i, w in enumerate(weights):
        if w:
            for v in (start, start + w - 1, start + t.total, start + w - 1 + 5 * t.total):
                assert t.pick(v) == i, (v, i)
                assert pick_array(t, [v]) == [i], (v, i)
        start += w
    assert start == t.total


def test_zero_weight_destinations_are_never_picked_over_a_whole_period() -> None:
    weights = [0, 2, 0, 3, 0]
    t = WeightTable.of(weights)
    values = list(range(2 * t.total))
    picks = [t.pick(v) for v in values]
    assert picks == [1, 1, 3, 3, 3] * 2
    assert pick_array(t, values) == picks


def test_pick_of_a_trailing_zero_weight_stays_on_the_last_positive_one() -> None:
    t = WeightTable.of([5, 0])
    assert [t.pick(v) for v in (0, 4, 5, 9)] == [0, 0, 0, 0]


def test_pick_at_the_max_total_weight_and_the_largest_uint64() -> None:
    t = WeightTable.of([2**32 - 2, 1])
    # 2^64 - 1 = (2^32 - 1)(2^32 + 1): the largest draw lands on 0, the first value
    values = [0, 2**32 - 3, 2**32 - 2, 2**32 - 1, 2**63, U64_MAX - 1, U64_MAX]
    expected = [envoy_scan([2**32 - 2, 1], v) for v in values]
    assert expected == [0, 0, 1, 0, 0, 1, 0]
    assert [t.pick(v) for v in values] == expected
    assert pick_array(t, values) == expected


def test_array_pick_keeps_shape_and_returns_indices() -> None:
    t = WeightTable.of([1, 1, 2])
    values = np.arange(8, dtype=np.uint64).reshape(2, 4)
    out = t.pick(values)
    assert out.shape == (2, 4) and out.dtype == np.intp
    assert out.tolist() == [[0, 1, 2, 2], [0, 1, 2, 2]]


def test_each_destination_gets_exactly_its_weight_of_every_period() -> None:
    weights = [3, 0, 1, 6]
    t = WeightTable.of(weights)
    picks = t.pick(np.arange(7 * t.total, dtype=np.uint64))
    assert np.bincount(picks, minlength=len(weights)).tolist() == [7 * w for w in weights]


weights_st = st.lists(st.integers(0, 1000), min_size=1, max_size=6).filter(lambda w: sum(w) > 0)


@given(weights_st, st.lists(st.integers(0, U64_MAX), min_size=1, max_size=20))
def test_pick_is_envoys_scan_for_ints_and_uint64_arrays(
    weights: list[int], values: list[int]
) -> None:
    t = WeightTable.of(weights)
    expected = [envoy_scan(weights, v) for v in values]
    assert [t.pick(v) for v in values] == expected
    assert pick_array(t, values) == expected
    assert all(weights[i] > 0 for i in expected)


@given(weights_st, st.data())
def test_pick_at_random_interval_boundaries(weights: list[int], data: st.DataObject) -> None:
    t = WeightTable.of(weights)
    i = data.draw(st.sampled_from([k for k, w in enumerate(weights) if w]))
    start = t.cumulative[i] - weights[i]
    lap = data.draw(st.integers(0, (U64_MAX - t.total) // t.total))
    for v in (start, t.cumulative[i] - 1):
        assert t.pick(v + lap * t.total) == i
        assert pick_array(t, [v + lap * t.total]) == [i]
    if t.cumulative[i] < t.total:  # the next value belongs to the next positive weight
        assert t.pick(t.cumulative[i]) > i
