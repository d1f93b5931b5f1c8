"""Traffic models: classes, shares, generation as codes, enumeration of supports, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from istiosim import InvalidArgument, IstiosimError, Request, RequestBatch, Traffic
from istiosim.traffic import MAX_SUPPORT

from helpers import load, reviews, vs


def test_users_population_classes_and_values():
    t = Traffic.users(Request("reviews"), header="end-user", n_users=1000, named={"jason": 0.1})
    assert t.names == ("reviews end-user=jason", "reviews other users")
    assert t.shares == pytest.approx((0.1, 0.9))
    batch, p = t.support(1)
    values = {batch[i].headers["end-user"] for i in range(len(batch))}
    assert len(values) == 999 and "jason" not in values  # 1000 distinct users in all
    assert p.sum() == pytest.approx(1.0)
    jason, pj = t.support(0)
    assert len(jason) == 1 and jason[0].headers == {"end-user": "jason"} and pj[0] == 1.0


def test_users_sample_frequencies_match_shares():
    t = Traffic.users(Request("reviews"), n_users=100, named={"jason": 0.25})
    cls, batch = t.sample(200_000, np.random.default_rng(5))
    share = float(np.count_nonzero(cls == 0)) / len(cls)
    # binomial sd = sqrt(.25*.75/2e5) ~ 0.00097; 6 sd bound: false failure rate < 1e-8
    assert abs(share - 0.25) < 6 * math.sqrt(0.25 * 0.75 / 200_000)
    codes = batch.headers["end-user"].codes
    assert np.all((cls == 0) == (codes == batch.headers["end-user"].values.index("jason")))
    others = np.bincount(codes[cls == 1], minlength=len(batch.headers["end-user"].values))
    assert np.count_nonzero(others) == 99  # every other user appears


def test_request_distributions_and_query():
    t = Traffic.request(
        Request("ratings"),
        path={"/a": 0.75, "/b": 0.25},
        method=["GET", "POST"],
        headers={"x-v": ["1", None]},
        query={"q": ["x", None]},
    )
    batch, p = t.support(0)
    assert len(batch) == 16 and p.sum() == pytest.approx(1.0)
    rows = {(r.path, r.method, r.headers.get("x-v")): pi for r, pi in zip(batch, p, strict=True)}
    assert rows[("/a?q=x", "GET", "1")] == pytest.approx(0.75 * 0.5 * 0.5 * 0.5)
    assert rows[("/b", "POST", None)] == pytest.approx(0.25 * 0.5 * 0.5 * 0.5)
    assert batch[0].query("q") in ("x", None)


def test_constant_and_mix():
    mix = Traffic.mix([(Request("reviews"), 9), (Request("ratings"), 1)])
    assert mix.shares == pytest.approx((0.9, 0.1))
    cls, batch = mix.sample(1000, np.random.default_rng(1))
    hosts = np.asarray([batch.host.values[c] for c in batch.host.codes])
    assert set(hosts[cls == 0]) == {"reviews"} and set(hosts[cls == 1]) == {"ratings"}
    nested = Traffic.mix([(mix, 1), (Traffic.constant(Request("details")), 1)])
    assert nested.shares == pytest.approx((0.45, 0.05, 0.5))


def test_sampling_is_deterministic_per_seed():
    t = Traffic.users(Request("reviews"), n_users=50, named={"jason": 0.5})
    a = t.batch(500, 3)
    b = t.batch(500, 3)
    assert [a[i] for i in range(500)] == [b[i] for i in range(500)]
    assert isinstance(a, RequestBatch)


def test_traffic_file_format():
    t = Traffic.from_dict(
        {
            "classes": [
                {
                    "name": "jason",
                    "weight": 1,
                    "request": {"host": "reviews", "headers": {"end-user": "jason"}},
                },
                {
                    "name": "rest",
                    "weight": 3,
                    "request": {"host": "reviews"},
                    "users": {"n_users": 10},
                },
                {"request": {"host": "ratings"}, "vary": {"method": {"GET": 0.5, "POST": 0.5}}},
            ]
        }
    )
    assert t.names[0] == "jason" and t.shares[0] == pytest.approx(0.2)
    assert len(t) == 3


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Traffic.request(Request("a"), path={"/a": 0.5, "/b": 0.4}), "sum to 0.9, not 1"),
        (
            lambda: Traffic.request(Request("a"), headers={"x": [1, 2]}),
            "header values must be strings",
        ),
        (lambda: Traffic.request(Request("a"), path=["nope"]), "must start with '/'"),
        (lambda: Traffic.users(Request("a"), n_users=10, named={"j": 1.2}), "must be in [0, 1]"),
        (
            lambda: Traffic.users(Request("a"), n_users=10, named={"j": 0.7, "k": 0.6}),
            "sum to 1.3 > 1",
        ),
        (lambda: Traffic.users(Request("a"), n_users=10, named={"j": 1.0}), "would get none"),
        (lambda: Traffic.users(Request("a"), n_users=0), "positive integer"),
        (lambda: Traffic.mix([(Request("a"), -1)]), ">= 0"),
        (lambda: Traffic.mix([(Request("a"), 0)]), "positive number"),
        (lambda: Traffic.mix([("a", 1)]), "Request or a Traffic"),
        (lambda: Traffic.from_dict({"classes": [{"request": {"host": "a"}, "oops": 1}]}), "oops"),
        (lambda: Traffic.from_dict({"classes": [{"request": {}}]}), "'host'"),
    ],
)
def test_bad_models_are_refused(make, message):
    with pytest.raises(IstiosimError, match=None) as exc:
        make()
    assert message in str(exc.value)


def test_support_too_large_is_refused():
    t = Traffic.request(
        Request("a"),
        headers={"u": [str(i) for i in range(2048)], "v": [str(i) for i in range(1024)]},
    )
    assert t.classes[0].support_size > MAX_SUPPORT
    with pytest.raises(InvalidArgument, match="too many to enumerate"):
        t.support(0)


# -- the Host header is the authority (semantics.md rule 14: `authority` matches see the raw Host
# header; Envoy turns an HTTP/1 Host into :authority) -----------------------------------------


def _authority_sim():
    return load(
        reviews("v1", "v2"),
        vs(
            "reviews",
            """
            - match: [{authority: {exact: a.example}}]
              route: [{destination: {host: reviews, subset: v2}}]
            - route: [{destination: {host: reviews, subset: v1}}]
            """,
        ),
    )


def _by_subset(res) -> dict[str | None, float]:
    out: dict[str | None, float] = {}
    for cell, c in res.counts().items():
        out[cell[1]] = out.get(cell[1], 0) + float(c)
    return out


def test_a_class_varying_the_host_header_routes_by_that_authority_in_every_mode():
    """Varying Host was a silently wrong answer: every request kept the template's authority
    (all to v1). Each Host value is now a class of its own, whose authority it sets."""
    sim = _authority_sim()
    assert sim.route(Request("reviews", headers={"host": "a.example"})).subset == "v2"
    t = Traffic.request(
        Request("reviews"),
        headers={"Host": {"a.example": 0.25, "b.example": 0.75}, "end-user": ["x", "y"]},
    )
    assert [c.template.authority for c in t.classes] == ["a.example", "b.example"]
    assert t.shares == pytest.approx((0.25, 0.75))
    assert all(list(c.columns) == ["header:end-user"] for c in t.classes)
    assert _by_subset(sim.simulate(t, 1000, mode="exact")) == {"v2": 250.0, "v1": 750.0}
    assert _by_subset(sim.simulate(t, 1000, mode="stratified")) == {"v2": 250, "v1": 750}
    got = _by_subset(sim.simulate(t, 20_000, rng=3, method="vector"))
    # binomial(20000, 0.25): sd 61; 6 sd is below 1e-8 of a false failure
    assert abs(got["v2"] - 5000) < 6 * 61 and got["v1"] + got["v2"] == 20_000


def test_an_authority_header_with_one_value_sets_the_template_authority():
    t = Traffic.request(Request("reviews"), headers={":authority": "a.example"})
    assert t.classes[0].template.authority == "a.example"
    assert _by_subset(_authority_sim().simulate(t, 10, mode="exact")) == {"v2": 10.0}


def test_replace_derives_a_derived_authority_again_and_keeps_a_given_one():
    r = Request("reviews", headers={"host": "a.example"})
    assert r.replace(headers={}).authority == "reviews"
    assert Request("reviews").replace(headers={"host": "b.example"}).authority == "b.example"
    assert Request("reviews", port=9080).replace(host="ratings").authority == "ratings:9080"
    given = Request("reviews", authority="c.example")
    assert given.replace(headers={"host": "b.example"}).authority == "c.example"


def test_users_cannot_vary_the_host_header():
    with pytest.raises(InvalidArgument, match="sets the request's authority"):
        Traffic.users(Request("reviews"), header="Host", n_users=10)


@pytest.mark.parametrize(
    ("header", "field"), [(":path", "path"), (":Method", "method"), (":scheme", "scheme")]
)
def test_request_line_pseudo_headers_are_refused_with_the_field_to_use(header, field):
    """As a header, ``:path`` was kept but never read (matches read the request's path): the
    request routed as if it had not been given. Now every way of building requests refuses it."""
    with pytest.raises(InvalidArgument, match=f"is the request's {field}: give it as {field}="):
        Request("reviews", headers={header: "x"})
    with pytest.raises(InvalidArgument, match=f"give it as {field}="):
        Traffic.request(Request("reviews"), headers={header: ["a", "b"]})
    with pytest.raises(InvalidArgument, match=f"give it as {field}="):
        Traffic.users(Request("reviews"), header=header, n_users=3)
    with pytest.raises(InvalidArgument, match=f"give it as {field}="):
        RequestBatch(2, host="reviews", headers={header: "x"})


def test_a_batch_derives_each_rows_authority_as_the_request_does():
    """One rule for both engines (``request.derived_authority``): the batch used to lower-case
    the host and skip an empty Host header before deriving, where a Request does neither."""
    rows = [
        ("Reviews", None, None, None),  # the host as given
        ("reviews", 9080, None, None),  # with the port
        ("ratings", None, "", None),  # an empty Host header is the authority
        ("reviews", None, "h.example", "a.example"),  # :authority before Host
    ]
    batch = RequestBatch(
        len(rows),
        host=[h for h, _, _, _ in rows],
        port=[p for _, p, _, _ in rows],
        headers={"host": [hh for _, _, hh, _ in rows], ":authority": [a for _, _, _, a in rows]},
    )
    want = [
        Request(
            h, port=p, headers={k: v for k, v in (("host", hh), (":authority", a)) if v is not None}
        ).authority
        for h, p, hh, a in rows
    ]
    assert [batch[i].authority for i in range(len(rows))] == want
    assert want == ["Reviews", "reviews:9080", "", "a.example"]
