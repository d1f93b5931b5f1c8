"""Envoy's weighted pick over the destinations of one route.

Istio turns a multi-destination route into an Envoy ``weighted_clusters`` route with the raw
weights, in declaration order, weight-0 entries dropped (semantics §0.3, §2.1). Envoy picks with
``random_value % total_weight`` located in half-open cumulative intervals (§2.2). The same
``pick`` serves a Python int (scalar engine) and a uint64 array (vector engine).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import overload

import numpy as np
import numpy.typing as npt

from .errors import InvalidArgument

MAX_TOTAL_WEIGHT = 2**32 - 1


@dataclass(frozen=True, slots=True)
class WeightTable:
    """Effective integer weights of a route's destinations, indexed like the destinations.

    ``weights`` are the effective weights (0 for a dropped destination), ``cumulative`` the
    running sums over them, ``total`` their sum (> 0).
    """

    weights: tuple[int, ...]
    cumulative: tuple[int, ...]
    total: int

    @classmethod
    def from_config(cls, weights: Sequence[int | None]) -> WeightTable:
        """Istio's rule: one destination gets everything; with several, omitted = 0."""
        if not weights:
            raise InvalidArgument("a route needs at least one destination")
        if len(weights) == 1:
            return cls.of([1])
        return cls.of([w or 0 for w in weights])

    @classmethod
    def of(cls, weights: Sequence[int]) -> WeightTable:
        ws = tuple(int(w) for w in weights)
        if any(w < 0 for w in ws):
            raise InvalidArgument(f"negative weight in {list(ws)}")
        total = sum(ws)
        if total <= 0:
            raise InvalidArgument("total destination weight = 0")
        if total > MAX_TOTAL_WEIGHT:
            raise InvalidArgument(f"total destination weight {total} exceeds 2^32-1")
        cum: list[int] = []
        run = 0
        for w in ws:
            run += w
            cum.append(run)
        return cls(ws, tuple(cum), total)

    def probabilities(self) -> tuple[Fraction, ...]:
        """Exact share of each destination: weight / total."""
        return tuple(Fraction(w, self.total) for w in self.weights)

    @overload
    def pick(self, values: int) -> int: ...

    @overload
    def pick(self, values: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]: ...

    def pick(self, values: int | npt.NDArray[np.uint64]) -> int | npt.NDArray[np.intp]:
        """Index of the destination whose interval holds ``value % total``."""
        if isinstance(values, np.ndarray):
            cum = np.asarray(self.cumulative, dtype=np.uint64)
            sel = values % np.uint64(self.total)
            out: npt.NDArray[np.intp] = np.searchsorted(cum, sel, side="right")
            return out
        return bisect_right(self.cumulative, int(values) % self.total)
