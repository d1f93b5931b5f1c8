"""Whole page views (istiosim.journey): Istio's Bookinfo task pages reproduced end to end, the
timeout/retry/fault semantics on simulated time, the exact mode against sampling, and bad
application models with located errors."""

from __future__ import annotations

import math

import pytest

import istiosim
from istiosim.errors import ConfigError, InvalidArgument
from istiosim.journey import Application, journey, journeys, read_application
from istiosim.request import Request

from conftest import NET

DEMO = "istiosim/data/bookinfo/"
KUBE = DEMO + "bookinfo-k8s.yaml"
PAGE = "/productpage"


def jason() -> Request:
    return Request(host="productpage", path=PAGE, headers={"end-user": "jason"})


def reader() -> Request:
    return Request(host="productpage", path=PAGE)


def sim_of(*names: str, extra: str | None = None) -> istiosim.Simulator:
    files = [KUBE, NET / "destination-rule-all.yaml", *(NET / n for n in names)]
    sim = istiosim.load(*files)
    return sim.apply(extra) if extra else sim


def only(res: istiosim.journey.JourneyResult) -> istiosim.journey.OutcomeClass:
    assert len(res.classes) == 1, res
    return res.classes[0]


# -- the bundled model, written from Bookinfo's source ------------------------------------------


def test_bundled_model_has_the_source_figures() -> None:
    # productpage.py: timeout=3.0 on details and reviews, `for _ in range(2)` on reviews;
    # LibertyRestEndpoint.java: 10000 ms (black, v2) / 2500 ms (red, v3) on ratings; v1 no call
    app = read_application("bookinfo")
    pp = app.behaviour("productpage", "v1")
    assert pp is not None
    calls = {c.name: c for c in pp.calls}
    assert (calls["details"].timeout_ms, calls["details"].attempts) == (3000, 1)
    assert (calls["reviews"].timeout_ms, calls["reviews"].attempts) == (3000, 2)
    assert "end-user" in (calls["reviews"].propagate or ())
    rv = app.behaviour("reviews", "v1")
    assert rv is not None
    by_version = {v: [c.timeout_ms for c in rv.calls if c.made_by(v)] for v in ("v1", "v2", "v3")}
    assert by_version == {"v1": [], "v2": [10_000], "v3": [2_500]}


# -- https://istio.io/latest/docs/tasks/traffic-management/request-routing/ ------------------------


def test_request_routing_jason_sees_black_stars_every_time() -> None:
    # virtual-service-all-v1.yaml + virtual-service-reviews-test-v2.yaml: "the reviews service
    # for user jason routes to reviews:v2 (black stars); everyone else sees v1 (no stars)"
    sim = sim_of("virtual-service-all-v1.yaml", "virtual-service-reviews-test-v2.yaml")
    assert only(journeys(sim, "bookinfo", jason(), mode="exact")).sees == "black stars"
    assert only(journeys(sim, "bookinfo", reader(), mode="exact")).sees == "no stars"
    sampled = journeys(sim, "bookinfo", jason(), 500, rng=1, method="views")
    assert sampled.shares() == {"black stars": 1.0}


def test_without_virtual_services_a_third_each() -> None:
    sim = sim_of()
    res = journeys(sim, "bookinfo", reader(), mode="exact")
    assert res.shares() == pytest.approx(
        {"no stars": 1 / 3, "black stars": 1 / 3, "red stars": 1 / 3}
    )


# -- https://istio.io/latest/docs/tasks/traffic-management/fault-injection/ -----------------------


def test_fault_delay_on_ratings_shows_reviews_unavailable_after_6s() -> None:
    # "you still expect the end-to-end flow to continue without any errors" (10 s timeout in
    # reviews:v2) but "the Reviews section displays an error message: Sorry, product reviews
    # are currently unavailable" after "approximately 6 seconds": productpage's 3 s x 2 tries
    sim = sim_of(
        "virtual-service-all-v1.yaml",
        "virtual-service-reviews-test-v2.yaml",
        "virtual-service-ratings-test-delay.yaml",
    )
    c = only(journeys(sim, "bookinfo", jason(), mode="exact"))
    assert c.sees == "reviews unavailable"
    assert c.status == 200  # productpage still renders the page
    assert 6000 <= c.percentile(0.5) < 6100
    one = journey(sim, "bookinfo", jason(), rng=1)
    assert one.tree is not None
    reviews = [h for h in one.tree.walk() if h.call == "reviews"]
    assert [(h.attempt, h.seen) for h in reviews] == [(1, 0), (2, 0)]  # gave up twice
    # reviews v2 itself got ratings in time (7 s < its 10 s timeout): 200 after the delay
    assert all(h.status == 200 and h.workload == "reviews-v2" for h in reviews)
    ratings = [h for h in one.tree.walk() if h.call == "ratings"]
    assert ratings and all(h.decision.delay_ms == 7000 and h.status == 200 for h in ratings)
    # everyone else: v1, no ratings call, no delay
    assert only(journeys(sim, "bookinfo", reader(), mode="exact")).sees == "no stars"


def test_fault_abort_on_ratings_shows_ratings_unavailable() -> None:
    # "the page loads immediately and the Ratings service is currently unavailable message
    # appears" (abort HTTP 500 for jason)
    sim = sim_of(
        "virtual-service-all-v1.yaml",
        "virtual-service-reviews-test-v2.yaml",
        "virtual-service-ratings-test-abort.yaml",
    )
    c = only(journeys(sim, "bookinfo", jason(), mode="exact"))
    assert c.sees == "ratings unavailable"
    assert ("reviews-v2", 200) in c.hops and (None, 500) in c.hops
    assert c.percentile(0.99) < 100  # immediately


# -- https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/ ----------------------

TIMEOUT_TASK = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
    timeout: 0.5s
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - fault:
      delay: {percentage: {value: 100}, fixedDelay: 2s}
    route:
    - destination: {host: ratings, subset: v1}
"""


def test_request_timeout_half_second_returns_in_about_one_second() -> None:
    # "the Bookinfo product page ... returns in about 1 second, instead of 2, and the reviews are
    # unavailable"; "the response takes 1 second, even though the timeout is configured at half a
    # second, ... because there is a hard-coded retry in the productpage service"
    sim = sim_of("virtual-service-all-v1.yaml", extra=TIMEOUT_TASK)
    c = only(journeys(sim, "bookinfo", reader(), mode="exact"))
    assert c.sees == "reviews unavailable"
    assert 1000 <= c.percentile(0.5) < 1100
    one = journey(sim, "bookinfo", reader(), rng=2)
    assert one.tree is not None
    reviews = [h for h in one.tree.walk() if h.call == "reviews"]
    assert [(h.status, "UT" in h.flags, h.duration_ms) for h in reviews] == [
        (504, True, 500.0),
        (504, True, 500.0),
    ]


# -- https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/ ----------------------


def test_traffic_shifting_fifty_fifty() -> None:
    # virtual-service-reviews-50-v3.yaml: "you see red-colored star ratings approximately 50% of
    # the time"
    sim = sim_of("virtual-service-all-v1.yaml", "virtual-service-reviews-50-v3.yaml")
    exact = journeys(sim, "bookinfo", reader(), mode="exact")
    assert exact.shares() == pytest.approx({"no stars": 0.5, "red stars": 0.5})
    n = 4000
    got = journeys(sim, "bookinfo", reader(), n, rng=7, method="views").share("red stars")
    # binomial sd at n=4000 is 0.0079; 4.5 sd: false-failure rate < 1e-5
    assert abs(got - 0.5) < 4.5 * math.sqrt(0.25 / n)


# -- retries, timeouts and errors as time --------------------------------------------------------


def flaky_ratings(rate: float, retries: str = "") -> tuple[istiosim.Simulator, Application]:
    app = read_application("bookinfo")
    data = {
        "name": "flaky",
        "entry": {"host": "productpage", "path": PAGE},
        "workloads": {
            "productpage": {
                "latency": "5ms",
                "calls": [{"host": "reviews", "timeout": "3s", "attempts": 2}],
            },
            "reviews": {
                "latency": "10ms",
                "calls": [{"host": "ratings", "required": True}],
            },
            "ratings": {"latency": "3ms", "errorRate": rate},
        },
        "sees": [
            {"label": "error", "when": [{"call": "reviews", "failed": True}]},
            {"label": "ok"},
        ],
    }
    del app
    vs = f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: ratings}}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {{host: ratings, subset: v1}}
{retries}
"""
    return sim_of("virtual-service-all-v1.yaml", extra=vs), Application.from_dict(data)


def test_istio_default_retries_do_not_retry_a_500() -> None:
    # retry.go: defaultRetryOn lists retriable-status-codes with no code: a 500 is not retried
    sim, app = flaky_ratings(0.5)
    res = journeys(sim, app, None, mode="exact")
    # the app's own retry (2 tries): the page fails when both fail
    assert res.share("error") == pytest.approx(0.25)


def test_vs_retries_on_5xx_multiply_the_tries() -> None:
    sim, app = flaky_ratings(0.5, "    retries: {attempts: 2, retryOn: 5xx}")
    res = journeys(sim, app, None, mode="exact")
    # each app try fails when 3 Envoy tries fail: 1/8; two app tries: 1/64
    assert res.share("error") == pytest.approx(1 / 64)
    # backoffs are Envoy's jitter (uniform whole ms below 25, then 75): latency classes vary
    assert len({float(x) for c in res.classes for x in c.latencies}) > 10


def test_attempts_zero_disables_retries() -> None:
    sim, app = flaky_ratings(0.5, "    retries: {attempts: 0}")
    assert journeys(sim, app, None, mode="exact").share("error") == pytest.approx(0.25)


# -- the exact mode is the sampled mode's limit (constant latencies) ------------------------------


@pytest.mark.parametrize("seed", [3, 4])
def test_exact_equals_sampled_limit(seed: int) -> None:
    sim, app = flaky_ratings(0.3, "    retries: {attempts: 1, retryOn: 'gateway-error,503'}")
    exact = journeys(sim, app, None, mode="exact").shares()
    n = 3000
    sampled = journeys(sim, app, None, n, rng=seed, method="views").shares()
    for label, p in exact.items():
        sd = math.sqrt(p * (1 - p) / n)
        # 4.5 sd per label: false-failure rate < 1e-5 per label
        assert abs(sampled.get(label, 0.0) - p) <= 4.5 * sd + 1e-12, (label, p, sampled)
    counts = journeys(sim, app, None, 10**6, rng=seed, method="counts")
    assert counts.extra["method"] == "counts" and counts.total == 10**6


# -- bad models -----------------------------------------------------------------------------------


def test_unknown_host_is_located(tmp_path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text("workloads:\n  productpage:\n    calls:\n    - host: reveiws\n")
    sim = sim_of()
    with pytest.raises(ConfigError) as e:
        journeys(sim, str(f), "productpage", mode="exact")
    (d,) = e.value.errors
    assert (d.code, d.location.line, d.location.column) == ("ISM0400", 4, 7)
    assert "reveiws" in d.message


def test_cycle_is_located(tmp_path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text(
        "workloads:\n  reviews:\n    calls: [{host: ratings}]\n"
        "  ratings:\n    calls: [{host: reviews}]\n"
    )
    with pytest.raises(ConfigError) as e:
        journeys(sim_of(), str(f), "productpage", mode="exact")
    (d,) = e.value.errors
    assert d.code == "ISM0401" and "reviews → ratings → reviews" in d.message


def test_unknown_field_and_bad_duration_are_located(tmp_path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text("workloads:\n  productpage:\n    latnecy: 5ms\n")
    with pytest.raises(ConfigError) as e:
        read_application(str(f))
    (d,) = e.value.errors
    assert (d.code, d.location.line) == ("ISM0003", 3)
    f.write_text("workloads:\n  productpage:\n    latency: 5 parsecs\n")
    with pytest.raises(ConfigError) as e:
        read_application(str(f))
    (d,) = e.value.errors
    assert (d.code, d.location.line, d.location.column) == ("ISM0004", 3, 5)


def test_exact_mode_refuses_continuous_latencies() -> None:
    app = Application.from_dict(
        {"workloads": {"productpage": {"latency": {"exponential": {"mean": "5ms"}}}}}
    )
    with pytest.raises(InvalidArgument, match="exact mode"):
        journeys(sim_of(), app, "productpage", mode="exact")
    res = journeys(sim_of(), app, "productpage", 2000, rng=1)
    lat = res.latency_ms()
    # exponential mean 5 ms: median 5 ln 2 = 3.47 ms (sampled, n=2000: within 15%)
    assert 0.85 * 3.466 < lat["p50"] < 1.15 * 3.466


# -- the vector path agrees with the reference (one view at a time) and the exact mode ------------


def test_vector_reproduces_the_task_pages() -> None:
    sim = sim_of(
        "virtual-service-all-v1.yaml",
        "virtual-service-reviews-test-v2.yaml",
        "virtual-service-ratings-test-delay.yaml",
    )
    exact = only(journeys(sim, "bookinfo", jason(), mode="exact"))
    vec = only(journeys(sim, "bookinfo", jason(), 1000, rng=1, method="vector"))
    assert (vec.sees, vec.status, vec.hops) == (exact.sees, exact.status, exact.hops)
    assert vec.latency_ms() == exact.latency_ms()
    sim = sim_of("virtual-service-all-v1.yaml", extra=TIMEOUT_TASK)
    vec = only(journeys(sim, "bookinfo", reader(), 1000, rng=1, method="vector"))
    assert vec.sees == "reviews unavailable" and vec.latency_ms()["p50"] == 1007.0


@pytest.mark.parametrize("seed", [5, 6])
def test_vector_equals_exact_shares(seed: int) -> None:
    sim, app = flaky_ratings(0.3, "    retries: {attempts: 1, retryOn: 'gateway-error,503'}")
    exact = journeys(sim, app, None, mode="exact")
    n = 20_000
    vec = journeys(sim, app, None, n, rng=seed, method="vector")
    by_class = {(c.sees, c.hops): c.weight for c in exact.classes}
    got = {(c.sees, c.hops): c.weight / n for c in vec.classes}
    assert set(got) <= set(by_class)
    for k, p in by_class.items():
        # 4.5 sd per class: false-failure rate < 1e-5 per class
        assert abs(got.get(k, 0.0) - p) <= 4.5 * math.sqrt(p * (1 - p) / n) + 1e-12, k


def test_vector_and_views_agree_on_continuous_latencies() -> None:
    app = Application.from_dict(
        {
            "workloads": {
                "productpage": {
                    "latency": {"lognormal": {"median": "20ms", "sigma": 0.5}},
                    "calls": [{"host": "reviews", "timeout": "25ms", "attempts": 2}],
                },
                "reviews": {"latency": {"exponential": {"mean": "10ms"}}},
            },
            "sees": [
                {"label": "timeout", "when": [{"call": "reviews", "failed": True}]},
                {"label": "ok"},
            ],
        }
    )
    sim = sim_of("virtual-service-all-v1.yaml")
    n = 20_000
    a = journeys(sim, app, "productpage", n, rng=1, method="vector")
    b = journeys(sim, app, "productpage", n, rng=2, method="views")
    # P(timeout) = P(Exp(10) > 25)^2 = e^-5 = 0.0067
    p = math.exp(-5)
    for res in (a, b):
        assert abs(res.share("timeout") - p) < 4.5 * math.sqrt(p * (1 - p) / n)
    # medians of the same distribution from two independent samples: within 5%
    assert abs(a.latency_ms()["p50"] / b.latency_ms()["p50"] - 1) < 0.05


def test_display_hooks() -> None:
    sim = sim_of("virtual-service-all-v1.yaml", "virtual-service-reviews-50-v3.yaml")
    res = journeys(sim, "bookinfo", reader(), mode="exact")
    html = res._repr_html_()
    assert "no stars" in html and "red stars" in html and "<table" in html
    assert "page views by outcome (exact)" in str(res)
    one = journey(sim, "bookinfo", reader(), rng=1)
    assert "call tree" in one._repr_html_() and "productpage try 1" in one._repr_html_()
    df = res.to_pandas()
    assert list(df["sees"].astype(str)) == ["no stars", "red stars"]
