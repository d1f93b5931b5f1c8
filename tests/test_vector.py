"""The vector engine and RequestBatch: encoding, per-unique-value predicates, outputs, bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import istiosim
from istiosim import InvalidArgument, Request, RequestBatch
from istiosim.batch import Column
from istiosim.engine import route, route_batch
from istiosim.plan import Matcher

from conftest import load_demo


@pytest.fixture(scope="module")
def header_canary() -> istiosim.Simulator:
    return load_demo("header-jason-v3.yaml")


FAULTS = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    fault:
      delay: {fixedDelay: 7s, percentage: {value: 50}}
      abort: {httpStatus: 500, percentage: {value: 25}}
    route: [{destination: {host: ratings, subset: v1}}]
  - mirror: {host: details}
    mirrorPercentage: {value: 50}
    route: [{destination: {host: ratings, subset: v1}}]
"""


def test_batch_round_trips_requests():
    reqs = [
        Request("reviews", "/a?x=1", "POST", {"end-user": "jason"}, port=9080),
        Request("ratings", headers={"x": ["1", "2"]}, namespace="ns", source_labels={"app": "p"}),
        Request("reviews", random_value=5, gateway="istio-system/gw", authority="example.com"),
    ]
    batch = RequestBatch.from_requests(reqs * 2)
    assert len(batch) == 6
    assert [batch[i] for i in range(6)] == reqs * 2
    assert batch[-1] == reqs[2]
    assert len(batch.host.values) == 2  # dictionary-encoded
    assert batch.attribute("query:x").values[batch.path.codes[0]] == "1"
    assert batch.attribute("uri").values[batch.path.codes[0]] == "/a"


def test_batch_from_columns():
    codes = np.array([0, 1, 1, 0], np.uint16)
    batch = RequestBatch(
        4, host="reviews", headers={"end-user": (("jason", None), codes)}, port=9080
    )
    assert batch[0] == Request("reviews", headers={"end-user": "jason"}, port=9080)
    assert batch[1] == Request("reviews", port=9080)
    assert batch.authority.values == ("reviews:9080",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": "a", "headers": {"x": [1, 2, 1, 2]}}, "header values must be strings"),
        ({"host": "a", "path": "nope"}, "must start with '/'"),
        ({"host": "a", "port": 0}, "1-65535"),
        ({"host": "a", "headers": {"x": (("a",), np.array([0, 1, 0, 0]))}}, "out of range"),
        ({"host": ["a", "b"]}, "has 2 rows, expected 4"),
    ],
)
def test_batch_bad_input(kwargs, message):
    with pytest.raises(InvalidArgument) as exc:
        RequestBatch(4, **kwargs)
    assert message in str(exc.value)


def test_predicates_run_once_per_unique_value(header_canary, monkeypatch):
    calls: list[object] = []
    original = Matcher.test

    def counting(self, value):
        calls.append(value)
        return original(self, value)

    monkeypatch.setattr(Matcher, "test", counting)
    users = [f"user-{i % 7}" for i in range(10_000)] + ["jason"] * 10
    batch = RequestBatch(len(users), host="reviews", headers={"end-user": np.asarray(users)})
    bd = route_batch(header_canary.plan, batch, np.zeros((len(users), 4), np.uint64))
    assert len(calls) == 8  # 7 users + jason, not 10,010
    assert np.count_nonzero(bd.subset == "v3") == 10


def test_header_canary_counts_and_arrays(header_canary):
    reqs = [
        Request("reviews", headers={"end-user": "jason"}),
        Request("reviews"),
        Request("nowhere"),
    ]
    batch = RequestBatch.from_requests(reqs * 50)
    draws = np.random.default_rng(2).integers(0, 2**64, (len(batch), 4), dtype=np.uint64)
    bd = route_batch(header_canary.plan, batch, draws)
    counts = bd.counts()
    host = "reviews.default.svc.cluster.local"
    assert sum(v for k, v in counts.items() if k[:2] == (host, "v3")) == 50
    assert sum(v for k, v in counts.items() if k[:2] == (host, "v2")) == 50
    assert counts[("nowhere", None, None, "PASSTHROUGH", 200)] == 50
    assert list(bd.rule[:3]) == [0, 1, -1]
    assert list(bd.outcome[:3]) == ["OK", "OK", "PASSTHROUGH"]
    assert set(bd.pod[1::3]) <= {"reviews-v2-0", "reviews-v2-1"}
    assert len(set(bd.pod[1::3])) == 2  # the endpoint draw spreads over both pods
    assert bd.counts("subset") == {"v3": 50, "v2": 50, None: 50}
    assert bd.shares(("outcome", "status")) == {("OK", 200): 2 / 3, ("PASSTHROUGH", 200): 1 / 3}


def test_decisions_are_plain_values(header_canary):
    """A Decision pickles (with its trace), has a short repr, and compares by its fields."""
    d = header_canary.route(Request("reviews", headers={"end-user": "jason"}), rng=3)
    assert repr(d) == "<Decision OK 200 reviews v3 rule 0>"
    assert d.trace is None
    back = pickle.loads(pickle.dumps(d))
    assert back == d and back.plan is None and back.trace is not None
    assert back.explain() == d.explain() == header_canary.explain(d.request, rng=3)
    assert d == d._replace(trace=(), draws=())
    assert d != d._replace(pod="elsewhere")
    nr = header_canary.route(Request("nowhere"))
    assert repr(nr) == "<Decision PASSTHROUGH 200 nowhere>"


def test_faults_delays_and_mirrors_agree_with_scalar():
    sim = load_demo(FAULTS)
    reqs = [Request("ratings", headers={"end-user": "jason"}), Request("ratings")]
    batch = RequestBatch.from_requests(reqs * 200)
    draws = np.random.default_rng(9).integers(
        0, 2**64, (len(batch), sim.plan.n_draws), dtype=np.uint64
    )
    bd = route_batch(sim.plan, batch, draws)
    decisions = [route(sim.plan, batch[i], [int(x) for x in draws[i]]) for i in range(len(batch))]
    assert [bd[i] for i in range(len(batch))] == decisions
    jason = slice(0, None, 2)
    assert 0 < np.count_nonzero(bd.status[jason] == 500) < 200
    assert 0 < np.count_nonzero(bd.delay_ms[jason] == 7000) < 200
    assert np.all(bd.delay_ms[1::2] == -1)
    mirrored = [bool(d.mirrors) for d in decisions[1::2]]
    assert 0 < sum(mirrored) < 200


def test_random_value_overrides_route_draw():
    sim = load_demo("canary-50-50.yaml")
    reqs = [Request("reviews", random_value=v) for v in (0, 49, 50, 99, 100, 149)]
    bd = route_batch(sim.plan, RequestBatch.from_requests(reqs), None)
    assert list(bd.subset) == ["v2", "v2", "v3", "v3", "v2", "v2"]


def test_bad_draws():
    sim = load_demo()
    batch = RequestBatch.from_requests([Request("reviews")] * 3)
    with pytest.raises(InvalidArgument, match="shape"):
        route_batch(sim.plan, batch, np.zeros((2, 4), np.uint64))
    with pytest.raises(InvalidArgument, match="unsigned"):
        route_batch(sim.plan, batch, np.zeros((3, 4), np.float64))
    with pytest.raises(InvalidArgument, match="RequestBatch"):
        route_batch(sim.plan, [Request("reviews")], None)  # type: ignore[arg-type]


def test_column_helpers():
    col = Column.encode(["a", "b", "a"])
    assert col.values == ("a", "b") and list(col.codes) == [0, 1, 0]
    assert col.decode() == ["a", "b", "a"]
    assert Column.constant("x", 5).is_constant and len(Column.constant("x", 5)) == 5


def _many_rules(k: int) -> str:
    rules = []
    for i in range(k):
        if i % 3 == 0:
            m = f'[{{uri: {{prefix: /p{i}}}, headers: {{end-user: {{regex: "u[0-9]*{i % 10}"}}}}}}]'
        elif i % 3 == 1:
            m = f"[{{uri: {{exact: /p{i}}}, method: {{exact: POST}}}}]"
        else:
            m = f"[{{headers: {{x-n: {{exact: '{i}'}}}}}}]"
        sub = ("v1", "v2", "v3")[i % 3]
        rules.append(
            f"  - match: {m}\n    route: [{{destination: {{host: reviews, subset: {sub}}}}}]"
        )
    head = "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: many}\n"
    return head + "spec:\n  hosts: [reviews]\n  http:\n" + "\n".join(rules) + "\n"


@pytest.mark.parametrize("k", [15, 33, 70])
def test_many_rules_and_big_batches_agree_with_scalar(k):
    """More rules than one bitmask block holds, and a batch routed in several slices."""
    sim = load_demo(_many_rules(k))
    rng = np.random.default_rng(k)
    n = 300_000  # > 2 slices of 2^16
    paths = [f"/p{i}" for i in range(k)] + [f"/p{i}x" for i in range(k)] + ["/"]
    users = [f"u{i}" for i in range(30)] + ["nobody"]
    batch = RequestBatch(
        n,
        host="reviews",
        path=np.asarray(paths)[rng.integers(0, len(paths), n)],
        method=np.asarray(["GET", "POST"])[rng.integers(0, 2, n)],
        headers={
            "end-user": np.asarray(users)[rng.integers(0, len(users), n)],
            "x-n": np.asarray([str(i) for i in range(k)])[rng.integers(0, k, n)],
        },
    )
    draws = rng.integers(0, 2**64, (n, sim.plan.n_draws), dtype=np.uint64)
    bd = route_batch(sim.plan, batch, draws)
    for i in rng.integers(0, n, 400):
        assert bd[int(i)] == route(sim.plan, batch[int(i)], [int(x) for x in draws[i]])
    assert len(set(bd.rule.tolist())) > min(k, 10)


PSEUDO = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews, reviews.example.com]
  http:
  - match: [{authority: {prefix: reviews.example}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - match: [{headers: {":method": {exact: DELETE}}}]
    directResponse: {status: 405}
  - match: [{scheme: {exact: https}}]
    redirect: {scheme: http, authority: example.org}
  - match: [{headers: {":path": {regex: "/a/.*"}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{sourceLabels: {app: productpage}}]
    route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [reviews.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]
"""


def test_pseudo_headers_authority_scheme_and_sources_agree_with_scalar():
    sim = load_demo(PSEUDO)
    reqs = [
        Request("reviews", authority="reviews.example.com"),
        Request("reviews", method="DELETE"),
        Request("reviews", scheme="https", path="/x?y=1"),
        Request("reviews", "/a/b?c=d"),
        Request("reviews", source_labels={"app": "productpage"}),
        Request("reviews", source_workload="productpage-v1"),
        Request("reviews", namespace="other"),
        Request("reviews.example.com"),
        Request("reviews", headers={"host": "reviews.example.org"}),
    ]
    batch = RequestBatch.from_requests(reqs * 3)
    draws = np.random.default_rng(4).integers(
        0, 2**64, (len(batch), sim.plan.n_draws), dtype=np.uint64
    )
    bd = route_batch(sim.plan, batch, draws)
    got = [bd[i] for i in range(len(batch))]
    want = [route(sim.plan, batch[i], [int(x) for x in draws[i]]) for i in range(len(batch))]
    assert got == want
    assert {d.outcome.value for d in got} >= {"OK", "DIRECT", "REDIRECT"}


def test_empty_batch():
    sim = load_demo()
    bd = route_batch(sim.plan, RequestBatch(0, host="reviews"), None)
    assert len(bd) == 0 and bd.counts() == {} and list(bd.status) == []


def test_redirect_derive_port_uses_the_listener_port_like_scalar():
    """§4 redirect: FROM_REQUEST_PORT takes the listener port (9080), in both engines."""
    from istiosim import Request, RequestBatch
    from istiosim.engine.scalar import route

    text = """
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews}, ports: [{port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - redirect: {uri: /v2, derivePort: FROM_REQUEST_PORT}
"""
    sim = istiosim.load(text)
    req = Request("reviews", "/a?x=1")
    zeros = np.zeros((1, sim.plan.n_draws), dtype=np.uint64)
    vec = route_batch(sim.plan, RequestBatch.from_requests([req]), zeros)[0]
    assert vec.redirect_location == route(sim.plan, req, [0] * sim.plan.n_draws).redirect_location
    assert vec.redirect_location == "http://reviews:9080/v2?x=1"
