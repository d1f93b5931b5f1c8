"""Streaming draws only the traffic columns the plan reads, and a seed is the same traffic
whatever the plan reads (issue 9 item 2): each varying column has its own stream per block
(``simulate.block_traffic``), and a column left undrawn cannot be read by mistake."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from istiosim import Request, Traffic
from istiosim.engine.draws import seed_sequence
from istiosim.engine.program import Program
from istiosim.simulate import block_traffic
from istiosim.testing import strategies as ist
from istiosim.traffic import NotDrawn

from conftest import examples
from helpers import load, reviews, vs

MIX = Traffic.mix(
    [
        (
            Traffic.request(
                Request("reviews"),
                path=["/a", "/b", "/c"],
                method=["GET", "POST"],
                headers={"end-user": ["jason", "bob", None], "x-canary": ["1", None]},
            ),
            3,
        ),
        (Traffic.users(Request("ratings"), n_users=40), 1),
    ]
)


def _codes(batch, field):
    col = batch.path if field == "path" else batch.method if field == "method" else None
    if col is None:
        col = batch.headers[field[7:]]
    return np.asarray(col.codes)


@pytest.mark.parametrize(
    "reads",
    [frozenset(), frozenset({"path"}), frozenset({"header:end-user", "method"})],
    ids=["none", "path", "user+method"],
)
def test_a_column_is_the_same_whatever_else_is_drawn(reads):
    gen = MIX.generator()
    ss, _ = seed_sequence(7)
    g_all, cls_all, full = block_traffic(gen, ss, 3, 5000)
    g_some, cls_some, some = block_traffic(gen, ss, 3, 5000, reads)
    assert np.array_equal(cls_all, cls_some)
    varying = ["path", "method", "header:end-user", "header:x-canary"]
    for field in varying:
        if field in reads:
            assert np.array_equal(_codes(full, field), _codes(some, field)), field
        else:
            col = some.path if field == "path" else some.method if field == "method" else None
            col = col if col is not None else some.headers[field[7:]]
            assert isinstance(col.values, NotDrawn)
            with pytest.raises(RuntimeError, match="was read but not drawn"):
                col.values[0]
    # the block's own generator is where it was: the route draws that follow are the same
    assert g_all.integers(0, 2**63) == g_some.integers(0, 2**63)
    # and the columns really vary (the comparison above compares something)
    assert len(np.unique(_codes(full, "path"))) == 4  # /a, /b, /c and the ratings class's /


def test_another_block_draws_other_values():
    gen = MIX.generator()
    ss, _ = seed_sequence(7)
    _, _, b0 = block_traffic(gen, ss, 0, 5000)
    _, _, b1 = block_traffic(gen, ss, 1, 5000)
    assert not np.array_equal(_codes(b0, "path"), _codes(b1, "path"))


CONFIG = (
    reviews(
        "v1",
        replicas=2,
        policy="trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 0s}}}}",
    )
    + "---\n"
    + vs(
        "reviews",
        """
    - match: [{headers: {end-user: {exact: jason}}, queryParams: {beta: {exact: "1"}}}]
      route: [{destination: {host: reviews, subset: v1}}]
    - corsPolicy: {allowOrigins: [{exact: "https://a.example"}], allowMethods: [GET]}
      route: [{destination: {host: reviews, subset: v1}}]
    """,
    )
)


def test_program_reads_match_keys_hash_keys_and_cors():
    sim = load(CONFIG)
    prog, _ = sim.router.program("reviews", None, Request("reviews").source)
    assert prog.reads() == {
        "header:end-user",  # a header match
        "path",  # a query parameter is read from the path
        "header:cookie",  # the consistent hash on a cookie
        "method",  # the CORS preflight: method, Origin, Access-Control-Request-Method
        "header:origin",
        "header:access-control-request-method",
    }


ALL = frozenset({"path", "method", "authority", "scheme", "source"})


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ist.simulators(), ist.traffics(), st.integers(0, 2**32 - 1))
def test_drawing_only_what_is_read_changes_no_result(sim, t, seed):
    """Every generated config and traffic: streaming with only the read columns drawn gives
    the same class and leaf, request by request, as drawing every column (a column the plan
    reads but ``Program.reads`` missed would raise, not route)."""
    n = 1500
    pruned = sim.simulate(t, n, rng=seed, method="vector", keep=True)
    every = ALL | {k for k in t.generator().columns}
    with mock.patch.object(Program, "reads", lambda self: every):
        full = sim.simulate(t, n, rng=seed, method="vector", keep=True)
    assert pruned.counts() == full.counts()
    a, b = pruned.per_request, full.per_request
    assert a is not None and b is not None
    assert np.array_equal(a.cls, b.cls) and np.array_equal(a.leaf, b.leaf)


def test_a_read_column_left_undrawn_raises_rather_than_routes():
    """The guard behind ``Program.reads``: were a read column missed, streaming fails loudly."""
    sim = load(CONFIG)
    t = Traffic.request(Request("reviews"), headers={"end-user": ["jason", "bob"]})
    assert sim.simulate(t, 1000, rng=1, method="vector").n == 1000
    with (
        mock.patch.object(Program, "reads", lambda self: frozenset()),
        pytest.raises(RuntimeError, match="'header:end-user' was read but not drawn"),
    ):
        sim.simulate(t, 1000, rng=1, method="vector", threads=1)
