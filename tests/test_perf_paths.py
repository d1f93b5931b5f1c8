"""The fast paths of issue 9 give the answers of the plain ones.

- ``Traffic.sample`` with many classes finds each class's rows by one stable sort: the same
  requests, code for code, as the per-class scan it replaced (pinned digest below).
- Exact and stratified modes route all small classes as one batch of their supports: the same
  probabilities as routing each class's support on its own.
- A column's regex conditions are evaluated by one RE2 ``Set`` call per value, exact
  conditions by a dictionary lookup: the same answers as ``Matcher.test`` per value, absent
  headers, repeated values and ``withoutHeaders`` included.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from istiosim import Request, Traffic
from istiosim.engine.analytic import leaf_distribution
from istiosim.engine.match import EntryMatch
from istiosim.plan import Matcher
from istiosim.simulate import class_leaf_probabilities

from conftest import load_demo

REGEX_RULES = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {regex: "u1[0-9]*"}}, method: {exact: POST}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - match: [{headers: {end-user: {regex: "u2[0-9]*"}}}]
    route:
    - {destination: {host: reviews, subset: v2}, weight: 30}
    - {destination: {host: reviews, subset: v3}, weight: 70}
  - match: [{withoutHeaders: {end-user: {regex: "u[0-9]*"}}}]
    fault: {abort: {httpStatus: 503, percentage: {value: 10}}}
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: reviews, subset: v2}}]
"""


def _many_classes() -> Traffic:
    items: list[tuple[object, float]] = []
    for i in range(40):
        if i % 4 == 0:
            items.append(
                (Request("reviews", f"/fixed{i}", headers={"end-user": f"u{i}"}), 1 + i % 3)
            )
        else:
            items.append(
                (
                    Traffic.request(
                        Request("reviews"),
                        path=[f"/a{i}", f"/b{i}", "/c"],
                        headers={"end-user": {f"x{i}": 0.3, "y": 0.7}},
                        method=["GET", "POST"] if i % 3 else None,
                    ),
                    1 + i % 5,
                )
            )
    items.append((Traffic.request(Request("reviews"), path=["/big1", "/big2"]), 60))
    return Traffic.mix(items)  # type: ignore[arg-type]


def test_sample_with_many_classes_is_pinned():
    """Digest of two 20,000-request samples, computed with the per-class scan (np.flatnonzero
    per class) this replaced: a seed still means the same requests."""
    t = _many_classes()
    h = hashlib.sha256()
    for seed in (1, 2):
        cls, b = t.sample(20000, np.random.default_rng(seed))
        h.update(np.ascontiguousarray(cls).tobytes())
        for name, col in sorted(b.columns().items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(col.codes).astype(np.int64).tobytes())
    assert h.hexdigest()[:16] == "fbbde94956766310"


def test_batched_exact_mode_equals_per_class_routing():
    sim = load_demo(REGEX_RULES)
    classes = []
    for i in range(150):  # > _SINGLES_AT_ONCE small classes: the batched path
        classes.append(
            (
                Traffic.request(
                    Request("reviews", headers={"end-user": f"u{i}"} if i % 5 else {}),
                    path=["/a", f"/b{i}"],
                    method={"GET": 0.25, "POST": 0.75} if i % 2 else None,
                ),
                1 + i % 7,
            )
        )
    for i in range(30):  # and classes that are one request each
        classes.append((Request("reviews", f"/a{i}", headers={"end-user": f"u2{i}"}), 2))
    t = Traffic.mix(classes)
    router = sim.router
    got = class_leaf_probabilities(router, t)
    for c in range(len(t.classes)):
        batch, p = t.support(c)
        ids, probs = leaf_distribution(router, batch, p)
        want = np.zeros(got.shape[1])
        want[ids] = probs
        np.testing.assert_allclose(got[c], want, rtol=1e-12, atol=1e-15)
    assert np.count_nonzero(got.sum(axis=0)) >= 5  # several outcomes, the abort included
    np.testing.assert_allclose(got.sum(axis=1), 1.0)
    strat = sim.simulate(t, 10**6, mode="stratified")
    exact = sim.simulate(t, 10**6, mode="exact")
    assert int(strat.matrix.sum()) == 10**6
    joint = np.asarray(exact.class_shares)[:, None] * exact.matrix  # exact rows: per class
    assert np.abs(strat.matrix.sum(axis=0) - joint.sum(axis=0) * 10**6).max() <= 1


@pytest.mark.parametrize(
    "m",
    [
        Matcher("header:end-user", "regex", "u1[0-9]*", regex=None),
        Matcher("header:end-user", "regex", "u1[0-9]*", invert=True, regex=None),
        Matcher("header:end-user", "regex", "(u2|x)[0-9]?", regex=None),
        Matcher("header:end-user", "exact", "u17"),
        Matcher("header:end-user", "exact", "u17", invert=True),
        Matcher("header:end-user", "exact", "dup"),
        Matcher("header:end-user", "exact", "missing"),
    ],
)
def test_column_truth_equals_matcher_test(m):
    import re2

    if m.kind == "regex":  # as the compiler makes them
        m = Matcher(m.key, m.kind, m.value, invert=m.invert, regex=re2.compile(m.value))
    others = [
        Matcher("header:end-user", "regex", p, regex=re2.compile(p)) for p in ("u[0-9]+", "x.*")
    ]
    values = tuple([f"u{i}" for i in range(120)] + [None, "dup", "x", "", "dup", "u17"])

    class _Entry:
        def __init__(self, ms):
            self.entry = type("E", (), {"matchers": tuple(ms)})()

    from istiosim import RequestBatch

    batch = RequestBatch(
        len(values), host="reviews", headers={"end-user": (values, np.arange(len(values)))}
    )
    cache: dict[object, object] = {}
    em = EntryMatch((_Entry([m]), _Entry(others)), cache, {})  # type: ignore[arg-type]
    em.prefetch(batch)
    col = em.column(batch, m.key)
    assert col.values == values
    got = em.truth(m, col.values)
    want = np.asarray([m.test(v) for v in values])
    assert got.tolist() == want.tolist()
    assert (want.any() or m.value == "missing") and not want.all()
    if m.kind == "regex":  # answered from the column's RE2 Set, not per value
        assert ("raw", m.value, id(col.values)) in cache


def test_threads_take_larger_chunks_with_the_same_requests():
    """With several threads and the default chunk size a task takes several 2^16 blocks;
    blocks, not tasks, are seeded, so counts and kept per-request arrays are unchanged."""
    sim = load_demo(REGEX_RULES)
    t = Traffic.request(
        Request("reviews"),
        path=["/a", "/b"],
        method=["GET", "POST"],
        headers={"end-user": [f"u{i}" for i in range(50)] + [None]},
    )
    n = 10 * (1 << 16) + 123  # 11 blocks: tasks of 4, 4 and 3 blocks on 2 threads
    one = sim.simulate(t, n, rng=7, method="vector", threads=1, keep=True)
    two = sim.simulate(t, n, rng=7, method="vector", threads=2, keep=True)
    assert one.cells == two.cells
    assert one.matrix.tolist() == two.matrix.tolist()
    assert one.per_request is not None and two.per_request is not None
    assert np.array_equal(one.per_request.leaf, two.per_request.leaf)
    assert len(one.cells) >= 4
