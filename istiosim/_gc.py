"""The cyclic garbage collector paused while many long-lived objects are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while objects are built in bulk (loading a config,
    compiling and analysing it, a traffic model of many classes): such a build allocates
    millions of long-lived objects and little cyclic garbage, and each full collection would
    rescan the growing heap (measured: a fifth of the load time at 1,000 services and more than
    half of compiling 10,000, benchmarks/bench_scale.py; a third of building a ``Traffic.mix``
    of 10^5 requests). Restored as it was, also when the build raises; what cyclic garbage the
    build left is collected by the collector's next passes.

    Before it is switched on again, what was built is moved straight to the oldest generation
    (``gc.freeze`` then ``gc.unfreeze``: a list splice, nothing is left frozen), so the first
    young-generation passes do not each rescan the million objects just made (measured: 0.2 to
    0.7 s saved after 10,000 VirtualServices, benchmarks/bench_load.py). Nested uses are free."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
