"""What the statistics take in: weights and counts, validated and aligned by subset.

Every public function accepts weights as a mapping or a sequence, and counts as a mapping, a
sequence or anything with ``subset_counts()`` (a simulation result, whose ``seed`` is kept for
the reports). This module turns them into one :class:`_Split`, checks significance levels, and
computes the exact expected shares and stratified counts of a perfect split.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol, TypeAlias, TypeGuard

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument


class SupportsSubsetCounts(Protocol):
    """Anything that can report counts per subset, such as a simulation result."""

    def subset_counts(self) -> Mapping[str, int]: ...


Weights: TypeAlias = Mapping[str, float] | Sequence[float] | npt.NDArray[Any]
_PlainCounts: TypeAlias = Mapping[str, int] | Sequence[int] | npt.NDArray[Any]
Counts: TypeAlias = _PlainCounts | SupportsSubsetCounts
#: The largest count, and total, the statistics take: an int64, what numpy and a simulation hold.
MAX_COUNT = 2**63 - 1
RNGLike: TypeAlias = (
    int | np.random.SeedSequence | np.random.BitGenerator | np.random.Generator | None
)


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

    @property
    def zero_weight_hit(self) -> bool:
        """Some request went to an arm of weight 0: a mismatch whatever the statistics say."""
        return bool(np.asarray(self.counts, dtype=np.int64)[self.shares == 0].sum() > 0)


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
    return _within_limit(f"count of {arm!r}", int(c))


def _within_limit(what: str, n: int) -> int:
    if n > MAX_COUNT:
        raise InvalidArgument(
            f"{what} is {n:,}, more than the statistics take (2^63 - 1 = {MAX_COUNT:,}):"
            " counts beyond an int64 are not supported"
        )
    return n


def _checked(counts: tuple[int, ...]) -> tuple[int, ...]:
    """Counts whose total fits the limit too."""
    _within_limit("the total count n", sum(counts))
    return counts


def _seed_of(observed: object) -> int | str | None:
    seed = getattr(observed, "seed", None)
    if seed is None or isinstance(seed, str):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    return str(seed)


def _unwrap(observed: Counts) -> tuple[_PlainCounts, int | str | None]:
    """A simulation result's counts per subset and its seed; plain counts as they are."""
    if hasattr(observed, "subset_counts"):
        return observed.subset_counts(), _seed_of(observed)
    return observed, None


def _parse_counts(
    observed: Counts, arms: tuple[str, ...]
) -> tuple[tuple[int, ...], int | str | None]:
    """Counts aligned to ``arms``: a mapping by name, a sequence by position."""
    observed, seed = _unwrap(observed)
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
        return _checked(tuple(_count(a, by_name.get(a, 0)) for a in arms)), seed
    if isinstance(observed, (str, bytes)):
        raise InvalidArgument(f"observed must be counts, got {observed!r}")
    values = list(observed)
    if len(values) != len(arms):
        raise InvalidArgument(
            f"observed has {len(values)} counts but there are {len(arms)} weights "
            f"({', '.join(map(repr, arms))})"
        )
    return _checked(tuple(_count(a, c) for a, c in zip(arms, values, strict=True))), seed


def _named_counts(observed: Counts) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Counts without weights: a mapping names its arms, a sequence numbers them "0", "1", ..."""
    observed, _ = _unwrap(observed)
    if isinstance(observed, Mapping):
        arms = tuple(observed)
        if not all(isinstance(a, str) for a in arms):
            raise InvalidArgument(f"subset names must be strings, got {list(arms)!r}")
        return arms, _checked(tuple(_count(a, observed[a]) for a in arms))
    values = list(observed)
    arms = tuple(str(i) for i in range(len(values)))
    return arms, _checked(tuple(_count(a, c) for a, c in zip(arms, values, strict=True)))


def _split(observed: Counts, weights: Weights, *, allow_empty: bool = False) -> _Split:
    arms, w = _parse_weights(weights)
    counts, seed = _parse_counts(observed, arms)
    if not allow_empty and sum(counts) == 0:
        raise InvalidArgument("the sample is empty (n = 0): there is nothing to test")
    return _Split(arms, w, counts, seed)


def _check_level(name: str, value: float, high: float = 1.0) -> None:
    if not _is_number(value) or not 0.0 < float(value) < high:
        raise InvalidArgument(f"{name} must be between 0 and {high:g} (exclusive), got {value!r}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidArgument(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _exact_weights(weights: tuple[float, ...]) -> list[Fraction]:
    # Shortest round-trip decimal, so that 0.1 means 1/10 and 70/30 stays integral.
    return [Fraction(repr(w)) for w in weights]


def _shares(values: Sequence[float]) -> tuple[float, ...]:
    """Each value's share of the total: weights to expected shares, counts to observed ones."""
    total = sum(values)
    return tuple(v / total for v in values)


def expected_distribution(weights: Weights) -> dict[str, float]:
    """Exact share of each subset, ``w_i / sum(w)``; weights need not sum to 100."""
    arms, w = _parse_weights(weights)
    return dict(zip(arms, _shares(w), strict=True))


def expected_counts(n: int, weights: Weights) -> dict[str, int]:
    """Stratified counts for ``n`` requests: each within ±1 of ``n*w_i/W``, summing to ``n``.

    Largest remainder in exact rational arithmetic, ties going to the earlier subset, so the
    answer is deterministic and independent of float rounding. This is what a perfect
    deterministic split looks like, and what :func:`assert_exact_split` accepts.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise InvalidArgument(f"n must be a non-negative integer, got {n!r}")
    _within_limit("n", int(n))
    arms, w = _parse_weights(weights)
    exact = _exact_weights(w)
    total = sum(exact)
    quotas = [int(n) * wi / total for wi in exact]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(arms)), key=lambda i: -(quotas[i] - counts[i]))
    for i in order[: int(n) - sum(counts)]:
        counts[i] += 1
    return dict(zip(arms, counts, strict=True))
