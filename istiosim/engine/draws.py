"""Randomness as an input: per-slot draws for the engines, and how the Simulator makes them.

Engines take 64-bit draws, one per purpose (``DRAW_ROUTE``, ``DRAW_ENDPOINT``, ...). The vector
engine takes them per slot: a ``(n, k)`` uint64 array (row i is what the scalar engine takes for
request i; slots past ``k`` count as 0, as in the scalar engine), a sequence of per-slot arrays
(None = zeros), or a ``SlotDraws``, which also says when a slot's values are known to lie below
a bound (so ``draw % total`` can be skipped). ``as_generator`` and ``seed_sequence`` are the one
normalisation of a user's ``rng=`` argument (SPEC 7).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument

RngLike = None | int | np.integer[Any] | np.random.SeedSequence | np.random.Generator


def check_rng(rng: Any) -> None:
    """Refuse what is not None, a non-negative int, a SeedSequence or a Generator."""
    if isinstance(rng, bool) or not (
        rng is None
        or isinstance(rng, int | np.integer | np.random.SeedSequence | np.random.Generator)
    ):
        raise InvalidArgument(
            f"rng must be None, an int, a SeedSequence or a Generator, not {type(rng).__name__}"
        )
    if isinstance(rng, int | np.integer) and rng < 0:
        raise InvalidArgument(f"seed must be non-negative, got {rng}")


def as_generator(rng: RngLike) -> np.random.Generator:
    """``rng`` → a Generator (``np.random.default_rng``: a Generator is used as is)."""
    check_rng(rng)
    return np.random.default_rng(rng)


def seed_sequence(rng: RngLike) -> tuple[np.random.SeedSequence, int | None]:
    """``rng`` → the root SeedSequence of a simulation and its int seed (None: not an int).

    A Generator gives a SeedSequence seeded from four of its draws (so it advances).
    """
    check_rng(rng)
    if isinstance(rng, int | np.integer):
        return np.random.SeedSequence(int(rng)), int(rng)
    if isinstance(rng, np.random.SeedSequence):
        return rng, None
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist()), None
    return np.random.SeedSequence(), None


def common_bound(moduli: set[int]) -> int:
    """A draw range every modulus divides (so ``draw % m`` is exactly uniform), else 2^64."""
    m = math.lcm(*moduli)
    return m if m <= 1 << 32 else 1 << 64


def uniform_below(gen: np.random.Generator, bound: int, size: int) -> npt.NDArray[Any]:
    """``size`` uniform integers below ``bound``; powers of two up to 256 come from raw bytes
    (one bit or byte per draw, exactly uniform), the rest from ``Generator.integers``."""
    if bound == 2:
        bits: npt.NDArray[np.uint8] = np.unpackbits(
            np.frombuffer(gen.bytes(-(-size // 8)), np.uint8)
        )
        return bits[:size]
    if bound <= 256 and bound & (bound - 1) == 0:
        raw: npt.NDArray[np.uint8] = np.frombuffer(gen.bytes(size), np.uint8).copy()
        raw &= np.uint8(bound - 1)
        return raw
    out: npt.NDArray[Any]
    if bound <= 1024:
        out = gen.integers(0, bound, size=size, dtype=np.uint16)
    elif bound <= 1 << 32:
        out = gen.integers(0, bound, size=size, dtype=np.uint32)
    else:
        out = gen.integers(0, 2**64, size=size, dtype=np.uint64, endpoint=False)
    return out


class SlotDraws:
    """Draws by slot: ``arrays[s]`` (None = all zero) and optional exclusive upper ``bounds``."""

    __slots__ = ("arrays", "bounds")

    def __init__(
        self,
        arrays: Mapping[int, npt.NDArray[Any] | None] | Sequence[npt.NDArray[Any] | None],
        bounds: Mapping[int, int] | None = None,
    ) -> None:
        self.arrays: dict[int, npt.NDArray[Any] | None] = (
            dict(arrays) if isinstance(arrays, Mapping) else dict(enumerate(arrays))
        )
        self.bounds = dict(bounds or {})

    @classmethod
    def of(cls, draws: Any, n: int) -> SlotDraws:
        if isinstance(draws, SlotDraws):
            out = draws
        elif draws is None:
            out = cls({})
        elif isinstance(draws, np.ndarray):
            if draws.ndim != 2 or draws.shape[0] != n:
                raise InvalidArgument(
                    f"draws must have shape (n, k) with n = {n}, got {draws.shape}"
                )
            if draws.dtype.kind not in "ui":
                raise InvalidArgument("draws must be unsigned integers")
            out = cls({s: draws[:, s] for s in range(draws.shape[1])})
        elif isinstance(draws, Sequence | Mapping):
            out = cls(draws)
        else:
            raise InvalidArgument(
                f"draws must be an array or per-slot arrays, not {type(draws).__name__}"
            )
        for s, a in out.arrays.items():
            if a is not None and (a.shape != (n,) or a.dtype.kind not in "ui"):
                raise InvalidArgument(f"draw slot {s} must be {n} unsigned integers")
        return out

    def get(self, slot: int, sel: npt.NDArray[np.intp] | None) -> npt.NDArray[Any] | None:
        a = self.arrays.get(slot)
        if a is None:
            return None
        return a if sel is None else a[sel]

    def take(self, idx: npt.NDArray[np.intp]) -> SlotDraws:
        return SlotDraws(
            {s: (None if a is None else a[idx]) for s, a in self.arrays.items()}, self.bounds
        )

    def slice(self, lo: int, hi: int) -> SlotDraws:
        return SlotDraws(
            {s: (None if a is None else a[lo:hi]) for s, a in self.arrays.items()}, self.bounds
        )

    def row(self, i: int, k: int) -> list[int]:
        """Request i's draws as the scalar engine takes them."""
        out = []
        for s in range(k):
            a = self.arrays.get(s)
            out.append(0 if a is None else int(a[i]))
        return out


__all__ = [
    "RngLike",
    "SlotDraws",
    "as_generator",
    "check_rng",
    "common_bound",
    "seed_sequence",
    "uniform_below",
]
