"""Issue 9 item 7: the scalar route's fixed cost, pinned as a count of calls (not a timing).

``Simulator.route(request)`` without trace takes its draws from the simulator's block with one
``next`` and runs the table's route program (``ScalarCache.program``): a plain sidecar's request
on a plain forward costs a handful of calls. The counts are pinned per Bookinfo case (the three
of ``benchmarks/bench_scalar.py``, which also prints CPU time per route) so that a later change
cannot raise the fixed cost unnoticed; the program must give ``route``'s Decision field for
field, inputs for ``explain()`` included, and the draws must stay the Generator's stream.
"""

from __future__ import annotations

import itertools
import random
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import istiosim
from istiosim import Request, Simulator
from istiosim.engine.scalar import ScalarCache, route, route_drawn
from istiosim.plan import Matcher
from istiosim.request import attribute_getter

from conftest import DEMO, load_demo

USERS = [Request("reviews", "/reviews/0", headers={"end-user": u}) for u in ("jason", "bob")]
USERS += [Request("reviews", "/reviews/0", headers={"end-user": u}) for u in ("alice", "eve")]

#: (Python function calls, builtin calls) per route reached on the Bookinfo cases; the pin
#: allows one more of each. Before issue 9 item 7 they were 12-14 and 14-16 (3 µs a route).
#: all-v1: Simulator.route, route_drawn; isinstance, next, dict.get, tuple.__new__.
#: jason: + the header test (a lambda: headers.get). 50/50: + bisect_right (the weighted pick).
CASES = {
    "all-v1 (1 rule)": ("virtual-service.yaml", (2, 4)),
    "jason header (2 rules)": ("header-jason-v3.yaml", (3, 5)),
    "50/50 weighted": ("canary-50-50.yaml", (2, 5)),
}


def calls_per_route(sim: Simulator, requests: list[Request], rounds: int = 50) -> tuple[int, int]:
    """(Python calls, builtin calls) per ``sim.route(request)``, caches warm, counted exactly
    by ``sys.setprofile`` over ``rounds`` rounds of ``requests``."""
    route_ = sim.route
    for r in requests:
        route_(r)  # resolve the tables and programs, draw the first block
    counts = [0, 0]

    def prof(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            counts[0] += 1
        elif event == "c_call":
            counts[1] += 1

    n = rounds * len(requests)
    sys.setprofile(prof)
    for i in range(n):
        route_(requests[i % len(requests)])
    sys.setprofile(None)
    # a builtin per round: len(requests); and the setprofile(None) call
    py, c = counts[0], counts[1] - n - 1
    assert py % n == 0 and c % n == 0, (py, c, n)  # the same calls for every request
    return py // n, c // n


@pytest.mark.parametrize("case", list(CASES))
def test_route_fixed_cost_in_calls(case: str) -> None:
    vs, (py_max, c_max) = CASES[case]
    sim = load_demo(vs)
    py, c = calls_per_route(sim, USERS)
    assert py <= py_max + 1, f"{case}: {py} Python calls per route (pinned {py_max})"
    assert c <= c_max + 1, f"{case}: {c} builtin calls per route (pinned {c_max})"


def test_count_sees_the_general_path() -> None:
    """The counter is not blind: a request the program does not take (a fixed
    ``random_value``, a table with a fault) costs many more calls than the pinned ones."""
    sim = load_demo("header-jason-v3.yaml")
    py, c = calls_per_route(sim, [Request("reviews", random_value=3)], rounds=5)
    assert py + c > 15
    sim = sim.apply(ROUTES)  # details has a fault rule
    py, c = calls_per_route(sim, [Request("details", headers={"end-user": "jason"})], rounds=5)
    assert py + c > 15


ROUTES = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}, uri: {prefix: /reviews}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{headers: {end-user: {prefix: ja}}}, {uri: {exact: /exact}}]
    route:
    - {destination: {host: reviews, subset: v1}, weight: 10}
    - {destination: {host: reviews, subset: v2}, weight: 0}
    - {destination: {host: reviews, subset: v3}, weight: 90}
  - match: [{headers: {end-user: {regex: "u[0-9]+"}}, method: {exact: POST}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - match: [{uri: {prefix: /API}, ignoreUriCase: true}, {queryParams: {q: {exact: "1"}}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{withoutHeaders: {end-user: {exact: bob}}, uri: {prefix: /w}}]
    timeout: 3s
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{headers: {x-any: {}}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{sourceLabels: {app: productpage}, headers: {end-user: {exact: src}}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - match: [{authority: {exact: reviews}}]
    route:
    - {destination: {host: reviews, subset: v2}, weight: 50}
    - {destination: {host: reviews, subset: v3}, weight: 50}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: details}
spec:
  hosts: [details]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: details, subset: v1}}]
  - fault: {abort: {httpStatus: 503, percentage: {value: 50}}}
    route: [{destination: {host: details, subset: v1}}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: productpage}
spec:
  hosts: [productpage]
  http:
  - match: [{uri: {prefix: /old}}]
    redirect: {uri: /new}
  - match: [{uri: {prefix: /rw}}]
    rewrite: {uri: /}
    route: [{destination: {host: productpage, subset: v1}}]
  - route: [{destination: {host: productpage, subset: v1}}]
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: edge}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: edge}
spec:
  hosts: ["shop.example.com"]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /reviews}}]
    route: [{destination: {host: reviews, subset: v1, port: {number: 9080}}}]
  - route: [{destination: {host: productpage, port: {number: 9080}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: end-user}}}
"""


def _requests() -> list[Request]:
    out = []
    sources: list[dict[str, Any]] = [
        {},
        {"source_workload": "productpage-v1"},
        {"source_labels": {"app": "productpage"}},
        {"gateway": "edge", "port": 80},
    ]
    hosts = ("reviews", "details", "productpage", "ratings", "nope.example.com", "shop.example.com")
    paths = ("/", "/reviews/1", "/exact", "/api/v1?q=1", "/API/x", "/w/x", "/old", "/rw/a")
    for i, (host, path) in enumerate(itertools.product(hosts, paths)):
        for user in (None, "jason", "Jason", "jasper", "u12", "bob", "src"):
            for method in ("GET", "POST"):
                headers = {"end-user": user} if user else {}
                if path == "/":
                    headers["x-any"] = ""
                src = sources[(i + len(headers)) % len(sources)]
                out.append(Request(host, path, method, headers, **src))
    out.append(Request("reviews", namespace="other"))
    out.append(Request("reviews", port=9080, headers={"end-user": "jason"}))
    out.append(Request("reviews", random_value=7))
    out.append(Request("reviews", source_labels={"app": "productpage"}))
    return out


def test_route_program_gives_routes_decision() -> None:
    """``route_drawn`` (the program where it applies) = ``route``, every field of the tuple
    (the inputs ``explain()`` routes again included), over matches of every kind, weighted
    picks with a zero weight, default routes, consistent hash, faults, redirects, rewrites,
    404s, unknown hosts; and the program is what answered the plain ones."""
    sim = istiosim.load(DEMO / "bookinfo-k8s.yaml", DEMO / "destination.yaml", ROUTES)
    plan = sim.plan
    rnd = random.Random(9)
    cache = ScalarCache()
    for req in _requests():
        for _ in range(3):
            draws = tuple(rnd.getrandbits(64) for _ in range(plan.n_draws))
            got = route_drawn(plan, req, draws, cache)
            want = route(plan, req, draws, cache=ScalarCache())
            assert tuple.__eq__(got, want), (req, got, want)
            assert type(got) is type(want)
    assert got.explain() == want.explain()
    fast = {
        (key[0].split(".")[0], "sidecar" if len(key) == 3 else "gateway" if key[5] else "client")
        for key, p in cache.programs.items()
        if p
    }
    # programs for reviews (plain forwards only) from a plain sidecar and a client with
    # labels, and for shop.example.com through the gateway (plain forwards); none for details
    # (a fault), productpage (a redirect, a rewrite), ratings (a consistent hash), an unknown
    # host (passthrough) or the gateway's other hosts (404)
    assert fast == {("reviews", "sidecar"), ("reviews", "client"), ("shop", "gateway")}
    # the programs of a client with labels and of the gateway route as their tables say
    zero = (0,) * plan.n_draws
    src = Request("reviews", headers={"end-user": "src"}, source_labels={"app": "productpage"})
    assert route_drawn(plan, src, zero, cache).rule == 6  # the sourceLabels rule
    plain = Request("reviews", headers={"end-user": "src"})
    assert route_drawn(plan, plain, zero, cache).rule == 7  # not generated for this client
    edge = Request("shop.example.com", "/reviews/1", gateway="edge", port=80)
    d = route_drawn(plan, edge, zero, cache)
    assert (d.virtual_service, d.rule, d.subset) == ("default/edge", 0, "v1")


def test_default_route_program() -> None:
    """A host without a VirtualService: its default route runs as a program too."""
    sim = load_demo()
    plan = sim.plan
    cache = ScalarCache()
    for seed in range(20):
        req = Request("ratings", f"/r/{seed}")
        draws = tuple(random.Random(seed).getrandbits(64) for _ in range(plan.n_draws))
        got = route_drawn(plan, req, draws, cache)
        assert tuple.__eq__(got, route(plan, req, draws, cache=ScalarCache()))
    assert all(cache.programs.values())


MATCHERS = [
    Matcher(
        key,
        kind,
        pre + value,
        ignore_case,
        invert,
        re.compile(pre + value) if kind == "regex" else None,
    )
    for key, pre in (
        ("header:end-user", ""),
        ("uri", "/"),
        ("method", ""),
        ("query:q", ""),
        ("authority", ""),
        ("header::authority", ""),
    )
    for kind, value in (("exact", "ja"), ("prefix", "ja"), ("regex", "j.*"), ("present", ""))
    for ignore_case in (False, True)
    for invert in (False, True)
]


@pytest.mark.parametrize(
    "m", MATCHERS, ids=lambda m: f"{m.key}-{m.kind}-{m.ignore_case}-{m.invert}"
)
def test_compiled_condition_is_matcher_test(m: Matcher) -> None:
    """``ScalarCache.test(m)`` = ``m.test`` of the attribute ``m.key`` reads, absent included."""
    get = attribute_getter(m.key)
    test = ScalarCache().test(m)
    seen = set()
    for v in (None, "", "ja", "JA", "jason", "Jason", "xja"):
        headers = {} if v is None else {"end-user": v}
        if v is None:
            r = Request("reviews")
        else:
            r = Request("reviews", f"/{v}?q={v}", v or "GET", headers, authority=v or None)
        seen.add(m.test(get(r)))
        assert test(r) == m.test(get(r)), (m, r)
    assert seen == {True, False} or m.kind == "present"  # the values test both ways


def test_unseeded_draws_are_the_generators_stream() -> None:
    """Unseeded routes take the Generator's uint64 stream in blocks of ``Simulator._BLOCK``
    requests, ``n_draws`` per request, in order, across block ends: what a seed gave before."""
    sim = istiosim.load(DEMO / "bookinfo-k8s.yaml", DEMO / "destination.yaml", rng=5)
    k = sim.plan.n_draws
    gen = np.random.default_rng(5)
    n = 2 * Simulator._BLOCK + 3
    stream: list[int] = []
    while len(stream) < n * k:
        stream += gen.integers(0, 2**64, size=Simulator._BLOCK * k, dtype=np.uint64).tolist()
    req = Request("reviews")
    for i in range(n):
        d = sim.route(req) if i % 2 else sim.draws()
        want = tuple(stream[i * k : (i + 1) * k])
        got = d.draws if i % 2 else d
        assert got == want, i
        if i % 2:
            assert all(type(x) is int for x in got)
            assert tuple.__eq__(d, route(sim.plan, req, want, cache=ScalarCache()))


def test_threads_share_the_stream_without_loss_or_repeat() -> None:
    """8 threads routing 40,000 requests without a seed across five block ends (one ``next``
    each, a lock only to draw a block): together they take exactly the stream's first 40,000
    draws, each once."""
    sim = istiosim.load(DEMO / "bookinfo-k8s.yaml", DEMO / "destination.yaml", rng=11)
    k = sim.plan.n_draws
    per, workers = 5000, 8
    req = Request("reviews", headers={"end-user": "jason"})

    def work(_: int) -> list[tuple[int, ...]]:
        return [sim.route(req).draws for _ in range(per)]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        got = [d for part in pool.map(work, range(workers)) for d in part]
    gen = np.random.default_rng(11)
    flat: list[int] = []
    while len(flat) < per * workers * k:
        flat += gen.integers(0, 2**64, size=Simulator._BLOCK * k, dtype=np.uint64).tolist()
    stream = [tuple(flat[i * k : (i + 1) * k]) for i in range(per * workers)]
    assert len(set(got)) == len(got) == per * workers
    assert set(got) == set(stream)
