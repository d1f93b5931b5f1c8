"""Property: with constant latencies and no random choice left (one destination, faults at
100 % or 0 %, no error rate), the three page-view engines give one identical outcome and latency
— the exact enumeration, the vector path and the one-view-at-a-time reference — whatever the
timeouts, retries and delays (so the exact mode is the sampled mode's limit, with no sampling
error to allow for)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import istiosim
from istiosim import Request
from istiosim.journey import Application, journeys

from conftest import examples

DEMO = "istiosim/data/bookinfo/"
SIM = istiosim.load(DEMO + "bookinfo-k8s.yaml", DEMO + "destination.yaml")

ms = st.integers(min_value=1, max_value=400)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[istiosim.Simulator, Application]:
    app_timeout = draw(st.none() | ms)
    attempts = draw(st.integers(1, 3))
    vs_timeout = draw(st.none() | ms)
    delay = draw(st.none() | ms)
    abort = draw(st.booleans())
    # one retry with a 1 ms backoff base: Envoy's jitter is random % 1 = 0, nothing random left
    retries = draw(
        st.sampled_from(["", "{attempts: 0}", "{attempts: 1, retryOn: 5xx, backoff: 1ms}"])
    )
    per_try = draw(st.none() | ms) if "5xx" in retries else None
    reviews_call = {"host": "reviews", "attempts": attempts}
    if app_timeout is not None:
        reviews_call["timeout"] = f"{app_timeout}ms"
    app = Application.from_dict(
        {
            "workloads": {
                "productpage": {"latency": f"{draw(ms)}ms", "calls": [reviews_call]},
                "reviews": {"latency": f"{draw(ms)}ms", "calls": [{"host": "ratings"}]},
                "ratings": {"latency": f"{draw(ms)}ms"},
            },
            "sees": [
                {"label": "failed", "when": [{"call": "reviews", "failed": True}]},
                {"label": "ok"},
            ],
        }
    )
    route = ["  - route: [{destination: {host: reviews, subset: v2}}]"]
    if vs_timeout is not None:
        route.append(f"    timeout: {vs_timeout}ms")
    if retries:
        r = retries if per_try is None else retries[:-1] + f", perTryTimeout: {per_try}ms}}"
        route.append(f"    retries: {r}")
    fault = []
    if delay is not None:
        fault.append(f"delay: {{percentage: {{value: 100}}, fixedDelay: {delay}ms}}")
    if abort:
        fault.append("abort: {percentage: {value: 100}, httpStatus: 503}")
    ratings = "  - route: [{destination: {host: ratings, subset: v1}}]"
    if fault:
        ratings += "\n    fault: {" + ", ".join(fault) + "}"
    vs = (
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\n"
        "spec:\n  hosts: [reviews]\n  http:\n" + "\n".join(route) + "\n---\n"
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ratings}\n"
        "spec:\n  hosts: [ratings]\n  http:\n" + ratings + "\n"
    )
    return SIM.apply(vs), app


@settings(deadline=None, max_examples=examples(30))
@given(scenario())
def test_exact_vector_and_views_agree(case: tuple[istiosim.Simulator, Application]) -> None:
    sim, app = case
    page = Request("productpage", "/")
    exact = journeys(sim, app, page, mode="exact")
    ((c,),) = [exact.classes]
    for method in ("vector", "views"):
        got = journeys(sim, app, page, 5, rng=1, method=method)
        assert [(k.sees, k.status, k.hops) for k in got.classes] == [(c.sees, c.status, c.hops)]
        assert got.latency_ms() == c.latency_ms()
