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

Counts may reach 2^63 - 1 in total (an int64; more raises ``InvalidArgument``). Below n = 2^31
the binomial computations are scipy's; from 2^31 on, where scipy returns NaN or wrong answers,
exact sums or a saddle-point approximation (the rule is in ``binomial``).

One module per job: ``inputs`` (weights and counts in, expected shares), ``binomial`` (its tails
and quantiles at any n), ``goodness_of_fit``, ``intervals``, ``equivalence`` (and sample size),
``sequential``; ``results`` holds the result objects and ``render`` the tables they print.
"""

from __future__ import annotations

from .equivalence import required_samples, split_equivalence
from .goodness_of_fit import TestMethod as TestMethod
from .goodness_of_fit import split_test, srm_check
from .inputs import (
    Counts,
    SupportsSubsetCounts,
    Weights,
    expected_counts,
    expected_distribution,
)
from .inputs import RNGLike as RNGLike
from .intervals import CIMethod as CIMethod
from .intervals import split_ci
from .results import (
    EquivalenceResult,
    ProportionIntervals,
    SequentialResult,
    SplitTestResult,
    SRMResult,
)
from .sequential import SequentialSplitTest

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
