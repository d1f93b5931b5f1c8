"""Reviewing a change: what-if (apply, delete, with_weights), derived request classes and
``istiosim diff`` (Python and CLI), on the bundled Bookinfo steps and the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import istiosim
from istiosim import Request
from istiosim.analysis.classes import derive_classes
from istiosim.cli import main
from istiosim.errors import ConfigError, InvalidArgument
from istiosim.testing import strategies as ist

from conftest import BOOKINFO, KUBE, NET, examples

DEMO = Path(istiosim.__file__).parent / "data" / "bookinfo"
BASE = (DEMO / "bookinfo-k8s.yaml", DEMO / "destination.yaml")
STEPS = ("virtual-service.yaml", "blue-green-v2.yaml", "canary-50-50.yaml", "header-jason-v3.yaml")
KEY = ("host", "subset", "outcome", "status")
REVIEWS = "reviews.default.svc.cluster.local"


@pytest.fixture(scope="module")
def steps() -> list[istiosim.Simulator]:
    """The Bookinfo task's steps, each applied over the previous one, as a user would."""
    sims = [istiosim.load(*BASE, DEMO / STEPS[0], rng=0)]
    for name in STEPS[1:]:
        sims.append(sims[-1].apply(DEMO / name))
    return sims


def exact(sim: istiosim.Simulator, r: Request) -> dict[tuple[object, ...], float]:
    return {k: round(v, 12) for k, v in sim.simulate(r, 1, mode="exact").shares(KEY).items()}


# -- what-if --------------------------------------------------------------------------------


def test_apply_replaces_in_place_and_leaves_the_original(steps: list[istiosim.Simulator]) -> None:
    first, second = steps[0], steps[1]
    assert exact(first, Request("reviews")) == {(REVIEWS, "v1", "OK", 200): 1.0}
    assert exact(second, Request("reviews")) == {(REVIEWS, "v2", "OK", 200): 1.0}
    # kubectl apply keeps the object's place: reviews is still the second VirtualService
    names = [v.metadata.name for v in second.config.virtual_services]  # type: ignore[union-attr]
    assert names == ["productpage", "reviews", "ratings", "details"]


def test_apply_takes_objects_and_mappings(steps: list[istiosim.Simulator]) -> None:
    vs = steps[2].config.virtual_services[1]  # type: ignore[union-attr]
    assert vs.metadata.name == "reviews"
    again = steps[0].apply(vs)
    assert exact(again, Request("reviews")) == exact(steps[2], Request("reviews"))
    doc = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "ratings-v2"},
        "spec": {
            "hosts": ["ratings"],
            "http": [{"route": [{"destination": {"host": "ratings", "subset": "v2"}}]}],
        },
    }
    added = steps[0].apply(doc)
    assert [v.metadata.name for v in added.config.virtual_services][-1] == "ratings-v2"  # type: ignore[union-attr]


def test_apply_refuses_bad_objects(steps: list[istiosim.Simulator]) -> None:
    with pytest.raises(ConfigError, match="ISM0003"):
        steps[0].apply(
            "kind: VirtualService\napiVersion: networking.istio.io/v1\nmetadata: {name: x}\nspec: {hostz: [a]}\n"
        )
    with pytest.raises(InvalidArgument):
        steps[0].apply(42)


def test_delete(steps: list[istiosim.Simulator]) -> None:
    gone = steps[3].delete("VirtualService", "reviews")
    # no VirtualService: the default route over every reviews pod (v1, v2, v3)
    assert set(gone.simulate(Request("reviews"), 1, mode="exact").shares("subset")) == {None}
    assert exact(steps[3], Request("reviews"))  # the original still routes
    with pytest.raises(InvalidArgument, match="not loaded"):
        steps[3].delete("VirtualService", "nope")
    with pytest.raises(InvalidArgument, match="kind"):
        steps[3].delete("Gizmo", "reviews")


def test_with_weights(steps: list[istiosim.Simulator]) -> None:
    canary = steps[2]
    w = canary.with_weights("default/reviews", 0, {"v2": 80, "v3": 20})
    assert exact(w, Request("reviews")) == {
        (REVIEWS, "v2", "OK", 200): 0.8,
        (REVIEWS, "v3", "OK", 200): 0.2,
    }
    # a subset not yet in the rule is added with the rule's host; the others are dropped
    w1 = canary.with_weights("reviews", 0, {"v1": 1})
    assert exact(w1, Request("reviews")) == {(REVIEWS, "v1", "OK", 200): 1.0}
    assert exact(canary, Request("reviews"))[(REVIEWS, "v3", "OK", 200)] == 0.5
    with pytest.raises(InvalidArgument, match="no VirtualService"):
        canary.with_weights("default/nope", 0, {"v1": 1})
    with pytest.raises(InvalidArgument, match="no http rule"):
        canary.with_weights("default/reviews", 5, {"v1": 1})
    with pytest.raises(InvalidArgument, match="integer >= 0"):
        canary.with_weights("default/reviews", 0, {"v1": -1})


# -- derived classes ------------------------------------------------------------------------


def test_classes_of_the_jason_step(steps: list[istiosim.Simulator]) -> None:
    cs = derive_classes(steps[2].plan, steps[3].plan)
    reviews = [c for c in cs.classes if c.host == "reviews"]
    assert [c.description for c in reviews] == ["end-user = jason", "end-user ≠ jason"]
    assert [c.entries for c in reviews] == [(0, 0), (0, 1)]
    assert reviews[0].witness == Request("reviews", headers={"end-user": "jason"})
    assert cs.exact
    # every request to reviews falls in one of them, by its own first match
    assert cs.classify(Request("reviews", headers={"end-user": "Jason"})) is reviews[1]
    assert cs.classify(Request("reviews", "/x", headers={"end-user": "jason"})) is reviews[0]


def _vs(http: list[dict[str, object]]) -> str:
    return json.dumps(
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": "reviews"},
            "spec": {"hosts": ["reviews"], "http": http},
        }
    )


def _to(subset: str) -> list[dict[str, object]]:
    return [{"destination": {"host": "reviews", "subset": subset}}]


def test_classes_of_prefixes_and_methods(steps: list[istiosim.Simulator]) -> None:
    sim = steps[0].apply(
        _vs(
            [
                {"match": [{"uri": {"prefix": "/api/v2"}}], "route": _to("v2")},
                {
                    "match": [{"uri": {"prefix": "/api"}, "method": {"exact": "POST"}}],
                    "route": _to("v3"),
                },
                {"route": _to("v1")},
            ]
        )
    )
    cs = derive_classes(sim.plan)
    got = {c.description: c.entries for c in cs.classes if c.host == "reviews"}
    assert got == {
        "path starts with /api/v2": (0,),
        "method = POST, path starts with /api, path does not start with /api/v2": (1,),
        "everyone else": (2,),
    }
    for c in cs.classes:
        assert c.witness is not None
        assert sim.route(c.witness).rule == c.entries[0]


def test_regex_witness_is_checked_and_undecided_is_reported(
    steps: list[istiosim.Simulator],
) -> None:
    sim = steps[0].apply(
        _vs(
            [
                {"match": [{"uri": {"regex": "/items/[0-9]+"}}], "route": _to("v2")},
                {"match": [{"uri": {"prefix": "/items/4"}}], "route": _to("v3")},
                {"route": _to("v1")},
            ]
        )
    )
    cs = derive_classes(sim.plan)
    mine = [c for c in cs.classes if c.host == "reviews"]
    assert {c.entries for c in mine} == {(0,), (1,), (2,)}
    for c in mine:
        assert c.witness is not None and sim.route(c.witness).rule == c.entries[0]
    # a regex nothing can satisfy: no witness, so its rule is never called reachable
    never = steps[0].apply(
        _vs(
            [
                {"match": [{"uri": {"regex": "/a[^\\x00-\\x{10FFFF}]"}}], "route": _to("v2")},
                {"route": _to("v1")},
            ]
        )
    )
    ncs = derive_classes(never.plan)
    assert [c.entries for c in ncs.classes if c.host == "reviews"] == [(1,)]
    assert [c.entries for c in ncs.undecided] == [(0,)]


# -- diff: the Bookinfo steps, stated exactly -------------------------------------------------


def _moved(d: istiosim.Diff) -> dict[str, tuple[float, str]]:
    return {c.name: (round(c.moved, 12), c.summary()) for c in d.classes if c.changed}


def test_diff_all_v1_to_blue_green(steps: list[istiosim.Simulator]) -> None:
    d = istiosim.diff(steps[0], steps[1])
    assert [c.name for c in d.classes] == [
        "productpage: all requests",
        "reviews: all requests",
        "ratings: all requests",
        "details: all requests",
    ]
    assert _moved(d) == {"reviews: all requests": (1.0, "100% v1 → 100% v2")}
    assert d.changed and d.moved_share is None


def test_diff_blue_green_to_canary(steps: list[istiosim.Simulator]) -> None:
    d = istiosim.diff(steps[1], steps[2])
    assert _moved(d) == {"reviews: all requests": (0.5, "100% v2 → 50% v2, 50% v3")}


def test_diff_canary_to_jason(steps: list[istiosim.Simulator]) -> None:
    d = istiosim.diff(steps[2], steps[3])
    assert _moved(d) == {
        "reviews: end-user = jason": (0.5, "50% v2, 50% v3 → 100% v3"),
        "reviews: end-user ≠ jason": (0.5, "50% v2, 50% v3 → 100% v2"),
    }
    users = istiosim.Traffic.users(
        Request("reviews"), header="end-user", n_users=100, named={"jason": 0.1}
    )
    t = istiosim.diff(steps[2], steps[3], traffic=users)
    assert t.moved_share == pytest.approx(0.5)  # half of everyone's requests change subset
    assert [c.share for c in t.classes] == pytest.approx([0.1, 0.9])


def test_diff_same_config_is_unchanged(steps: list[istiosim.Simulator]) -> None:
    d = istiosim.diff(steps[2], steps[2])
    assert not d.changed and not d.moved
    mix = istiosim.Traffic.mix([(Request("reviews"), 1), (Request("ratings"), 3)])
    assert istiosim.diff(steps[2], steps[2], traffic=mix).moved_share == 0.0


def test_weight_change_moves_the_difference(steps: list[istiosim.Simulator]) -> None:
    after = steps[2].with_weights("default/reviews", 0, {"v2": 80, "v3": 20})
    d = istiosim.diff(steps[2], after)
    assert _moved(d) == {"reviews: all requests": (0.3, "v2 50% → 80%, v3 50% → 20%")}


def test_diff_lists_behaviour_that_changes_without_moving() -> None:
    base = (KUBE, NET / "destination-rule-all.yaml", NET / "virtual-service-all-v1.yaml")
    before = istiosim.load(*base)
    after = before.apply(NET / "virtual-service-ratings-test-delay.yaml")
    d = istiosim.diff(before, after)
    (c,) = [c for c in d.classes if c.changed]
    assert c.name == "ratings: end-user = jason"
    assert c.moved == 0.0
    assert c.changes == ("fault delay: none → 7000 ms at 100%",)
    abort = istiosim.diff(before, before.apply(NET / "virtual-service-ratings-test-abort.yaml"))
    assert _moved(abort) == {"ratings: end-user = jason": (1.0, "100% v1 → 100% 500 FI")}


def test_diff_result_hooks(steps: list[istiosim.Simulator]) -> None:
    d = istiosim.diff(steps[2], steps[3])
    assert repr(d) == "<Diff: 2 of 5 class(es) changed>"
    assert "<table" in d._repr_html_() and "end-user = jason" in d._repr_html_()
    data = json.loads(d.to_json())
    assert data["changed"] is True and data["moved_share"] is None
    jason = data["classes"][1]
    assert jason["before"] == [
        {"host": REVIEWS, "subset": "v2", "outcome": "OK", "status": 200, "probability": 0.5},
        {"host": REVIEWS, "subset": "v3", "outcome": "OK", "status": 200, "probability": 0.5},
    ]
    assert jason["witness"]["headers"] == {"end-user": "jason"}

    class P:
        out = ""

        def text(self, s: str) -> None:
            self.out += s

    p = P()
    d._repr_pretty_(p, False)  # IPython's terminal: the same table as the HTML, as text
    assert (
        p.out.startswith("Diff: 2 of 5 class(es) changed\nclass ") and "end-user = jason" in p.out
    )


# -- CLI ----------------------------------------------------------------------------------------


def test_cli_diff_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    same = ["diff", "-f", str(BASE[0]), "-f", str(BASE[1])]
    assert main([*same, "--before", str(DEMO / STEPS[2]), "--after", str(DEMO / STEPS[2])]) == 0
    assert "0 of 1 class(es) changed" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec: {hostz: [r]}\n"
    )
    assert main([*same, "--before", str(DEMO / STEPS[2]), "--after", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:4:" in err and "ISM0003" in err


def test_cli_diff_with_traffic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    traffic = tmp_path / "t.yaml"
    traffic.write_text(
        "classes:\n"
        "- {name: jason, weight: 1, request: {host: reviews, headers: {end-user: jason}}}\n"
        "- {name: others, weight: 3, request: {host: reviews}}\n"
    )
    argv = ["diff", "-f", str(BASE[0]), "-f", str(BASE[1]), "--before", str(DEMO / STEPS[1])]
    argv += ["--after", str(DEMO / STEPS[3]), "--traffic", str(traffic), "--format", "json"]
    assert main(argv) == 1
    data = json.loads(capsys.readouterr().out)
    # jason moves v2 → v3, the others stay on v2
    assert data["moved_share"] == pytest.approx(0.25)
    assert [(c["name"], c["share"], c["moved"]) for c in data["classes"]] == [
        ("jason", 0.25, 1.0),
        ("others", 0.75, 0.0),
    ]


def test_corpus_diff_80_20_to_90_10() -> None:
    base = (KUBE, NET / "destination-rule-all.yaml", NET / "virtual-service-all-v1.yaml")
    before = istiosim.load(*base, NET / "virtual-service-reviews-80-20.yaml")
    after = before.apply(NET / "virtual-service-reviews-90-10.yaml")
    assert _moved(istiosim.diff(before, after)) == {
        "reviews: all requests": (0.1, "v1 80% → 90%, v2 20% → 10%")
    }
    assert BOOKINFO.is_dir()


# -- property: the classes cover every request ---------------------------------------------------


def _routed_by_a_virtual_service(sims: tuple[istiosim.Simulator, ...], r: Request) -> bool:
    """Does a VirtualService route ``r`` in either config (an entry of its route table comes
    from one: not only the gateway's httpsRedirect or REGISTRY_ONLY's block_all)?"""
    for s in sims:
        ctx = s.plan.context(r.namespace, r.source_labels, r.source_workload, r.gateway)
        if any(e.entry.rule >= 0 for e in s.plan.table(r.host, r.port, ctx).entries):
            return True
    return False


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ist.configs(), ist.virtual_services(), st.lists(ist.requests(), min_size=1, max_size=8))
def test_classes_cover_every_request(
    cfg: str, vss: list[dict[str, object]], reqs: list[Request]
) -> None:
    """Each generated request that a VirtualService routes in either config (Kubernetes
    Services, ServiceEntry hosts including wildcard ones, hosts only VirtualServices name,
    through a sidecar or a gateway, Sidecar scopes and merged gateway VirtualServices
    included) falls in exactly one class and routes as that class's witness in both configs;
    only an undecided (regex) region may hold requests no class covers."""
    a = istiosim.load(cfg)
    b = a.apply([json.dumps(v) for v in vss]) if vss else a
    cs = derive_classes(a.plan, b.plan)
    for r in reqs:
        r = r.replace(random_value=None)
        if r.source_labels or r.source_workload or r.namespace != "default":
            continue  # classes are derived for a plain proxy of the VirtualServices' namespace
        c = cs.classify(r)
        if c is None:
            assert not _routed_by_a_virtual_service((a, b), r) or cs.undecided, r
            continue
        assert sum(k.scope == c.scope and k.entries == c.entries for k in cs.classes) == 1
        assert c.witness is not None
        for s in (a, b):
            assert _routing(s, r) == _routing(s, c.witness), (c.name, r)


def _routing(s: istiosim.Simulator, r: Request) -> dict[tuple[object, ...], float]:
    """``exact`` without the host of answers no destination gives (a redirect, a direct
    response, an abort or a 404 report the host the request named, as diff's labels omit; a
    passthrough goes to the host named)."""
    out: dict[tuple[object, ...], float] = {}
    named = ("NR", "DIRECT", "REDIRECT", "FI", "PASSTHROUGH")
    for (host, subset, outcome, status), p in exact(s, r).items():
        k = (None if str(outcome) in named else host, subset)
        out[(*k, outcome, status)] = out.get((*k, outcome, status), 0.0) + p
    return out


def test_diff_through_a_gateway(tmp_path: Path) -> None:
    """A gateway VirtualService's classes are requests through that gateway: dropping match
    blocks from the corpus's bookinfo-gateway VS sends /login, /logout and the API to 404 NR."""
    gw = NET / "bookinfo-gateway.yaml"
    base = (KUBE, NET / "destination-rule-all.yaml")
    before = istiosim.load(*base, gw)
    smaller = json.loads(
        json.dumps(
            before.config.virtual_services[0].model_dump(
                by_alias=True, exclude_none=True, mode="json"
            )
        )
    )  # type: ignore[union-attr]
    smaller["spec"]["http"][0]["match"] = smaller["spec"]["http"][0]["match"][:2]
    after = before.apply(smaller)
    d = istiosim.diff(before, after)
    prefix = "* via default/bookinfo-gateway: "
    assert _moved(d) == {
        prefix + "path = /login": (1.0, "100% productpage → 100% 404 NR"),
        prefix + "path = /logout": (1.0, "100% productpage → 100% 404 NR"),
        prefix + "path starts with /api/v1/products": (1.0, "100% productpage → 100% 404 NR"),
    }
    login = next(c for c in d.classes if c.name.endswith("/login"))
    assert login.witness == Request("any", "/login", gateway="default/bookinfo-gateway")


def test_apply_and_delete_keep_every_kind_of_object() -> None:
    """apply() carries Gateways and Sidecars over (a diff through a gateway compares like with
    like); delete() removes them as kubectl would."""
    gw = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
        "metadata: {name: public, namespace: default}\n"
        "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
        "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n"
        "---\napiVersion: networking.istio.io/v1\nkind: Sidecar\n"
        "metadata: {name: default, namespace: default}\nspec:\n  egress:\n  - hosts: ['./*']\n"
    )
    sim = istiosim.load(gw)
    assert sim.config is not None
    more = sim.apply(_vs_doc("extra"))
    assert more.config is not None
    assert [g.metadata.name for g in more.config.gateways] == ["public"]
    assert [s.metadata.name for s in more.config.sidecars] == ["default"]
    assert [g.key for g in more.plan.gateways] == ["default/public"]
    fewer = more.delete("Gateway", "public")
    assert fewer.config is not None and not fewer.config.gateways and fewer.config.sidecars
    assert not fewer.delete("Sidecar", "default").plan.sidecars
    with pytest.raises(InvalidArgument, match="Gateway default/nope is not loaded"):
        more.delete("Gateway", "nope")


def _vs_doc(name: str) -> str:
    return json.dumps(
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": name},
            "spec": {"hosts": ["web"], "http": [{"route": [{"destination": {"host": "web"}}]}]},
        }
    )


# -- the exit status: what counts as a routing change -------------------------------------------


def test_exit_status_counts_behaviour_changes_unless_fail_on_move(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An added fault delay moves no request but changes the route Envoy gets (its
    ``fault`` filter config): exit 1 by default, 0 with --fail-on move; a moved request is 1
    either way; the same config is 0 either way."""
    base = ["diff", "-f", str(KUBE), "-f", str(NET / "destination-rule-all.yaml")]
    base += ["--before", str(NET / "virtual-service-all-v1.yaml")]
    after = [*base, "--after", str(NET / "virtual-service-all-v1.yaml"), "--after"]
    delay = [*after, str(NET / "virtual-service-ratings-test-delay.yaml")]
    assert main(delay) == 1
    assert "fault delay: none → 7000 ms" in capsys.readouterr().out
    assert main([*delay, "--fail-on", "move"]) == 0
    capsys.readouterr()
    abort = [*after, str(NET / "virtual-service-ratings-test-abort.yaml")]
    assert main([*abort, "--fail-on", "move"]) == 1
    assert main(abort) == 1
    same = [*base, "--after", str(NET / "virtual-service-all-v1.yaml")]
    assert main(same) == 0 and main([*same, "--fail-on", "move"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main([*same, "--fail-on", "moves"])
    assert exc.value.code == 2
    assert "--fail-on" in capsys.readouterr().err
    before = istiosim.load(*base[2:5:2], NET / "virtual-service-all-v1.yaml")
    d = istiosim.diff(before, before.apply(NET / "virtual-service-ratings-test-delay.yaml"))
    assert (d.exit_code(), d.exit_code("move")) == (1, 0)
    with pytest.raises(InvalidArgument, match="fail_on"):
        d.exit_code("moved")


def test_an_undecided_region_that_may_route_differently_is_a_change(
    steps: list[istiosim.Simulator],
) -> None:
    """A regex no witness was found for leaves its region undecided: when its route differs
    before and after, requests there (if any) would move, so the exit status is 1 and the
    text says so; when its route is the same, the region cannot change anything."""
    never = [
        {"match": [{"uri": {"regex": "/a[^\\x00-\\x{10FFFF}]"}}], "route": _to("v2")},
        {"route": _to("v1")},
    ]
    before = steps[0].apply(_vs(never))
    same = istiosim.diff(before, before.apply(_vs(never)))
    assert same.undecided and not same.may_change and same.exit_code() == 0
    changed = [{**never[0], "route": _to("v3")}, never[1]]
    d = istiosim.diff(before, before.apply(_vs(changed)))
    assert not d.changed and d.may_change == d.undecided
    assert (d.exit_code(), d.exit_code("move")) == (1, 1)
    assert "may route differently" in d.text()
    assert json.loads(d.to_json())["may_change"] == list(d.undecided)


# -- classes of ServiceEntry hosts and of VirtualServices merged at a gateway -----------------

_ORG = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: org, namespace: default}
spec:
  hosts: ["*.example.org"]
  ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: alt, protocol: HTTP}]
  location: MESH_EXTERNAL
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: org, namespace: default}
spec:
  hosts: ["*.example.org"]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
    route: [{destination: {host: "*.example.org"}}]
  - route: [{destination: {host: "*.example.org"}}]
"""


def test_classes_of_a_wildcard_service_entry_host() -> None:
    """A wildcard ServiceEntry host is called by a name under it, on each port it declares;
    any name under it falls in the same classes."""
    sim = istiosim.load(_ORG)
    cs = derive_classes(sim.plan)
    assert {c.name for c in cs.classes} == {
        "any.example.org:80: end-user = jason",
        "any.example.org:80: end-user ≠ jason",
        "any.example.org:8080: end-user = jason",
        "any.example.org:8080: end-user ≠ jason",
    }
    for c in cs.classes:
        assert c.witness is not None and c.witness.host == "any.example.org"
        assert sim.route(c.witness).rule == c.entries[0]
    r = Request("www.example.org", headers={"end-user": "jason"}, port=8080)
    c = cs.classify(r)
    assert c is not None and c.name == "any.example.org:8080: end-user = jason"
    assert sim.route(r).status == 418
    d = istiosim.diff(sim, sim.apply(_ORG.split("---\n")[1].replace("418", "503")))
    assert {c.name for c in d.moved} == {
        "any.example.org:80: end-user = jason",
        "any.example.org:8080: end-user = jason",
    }


_SHOP_GATEWAY = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*/shop.example.com"]
"""


def _shop_vs(name: str, http: list[dict[str, object]], ts: str) -> str:
    return json.dumps(
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": name, "creationTimestamp": ts},
            "spec": {
                "hosts": ["shop.example.com"],
                "gateways": ["istio-system/public"],
                "http": http,
            },
        }
    )


def test_virtual_services_merged_at_a_gateway_are_one_route_list() -> None:
    """Two VirtualServices for one host at one gateway: the gateway's virtual host holds the
    routes of both, the older first and catch-alls last (gateway.go
    ``buildGatewayHTTPRouteConfig`` appends each VirtualService's routes to the virtual host,
    ``istio_route.SortVHostRoutes`` moves catch-all routes to the end): the newer one's /api
    rule is reached although the older one's catch-all comes first in its own list."""
    web = {"route": [{"destination": {"host": "productpage"}}]}
    api = {"match": [{"uri": {"prefix": "/api"}}], "route": [{"destination": {"host": "reviews"}}]}
    old = _shop_vs("web", [web], "2024-01-01T00:00:00Z")
    sim = istiosim.load(*BASE, _SHOP_GATEWAY, old)
    after = sim.apply(_shop_vs("api", [api], "2024-02-01T00:00:00Z"))
    cs = derive_classes(sim.plan, after.plan)
    assert len(cs.scopes) == 1  # one virtual host: shop.example.com on port 80
    d = istiosim.diff(sim, after)
    prefix = "shop.example.com via istio-system/public: "
    assert {c.name: c.summary() for c in d.moved} == {
        prefix + "path starts with /api": "100% productpage → 100% reviews"
    }
    (moved,) = d.moved
    # the gateway's only listener is its default: the witness names no port
    assert moved.witness == Request("shop.example.com", "/api", gateway="istio-system/public")


def test_a_host_bound_to_the_mesh_and_a_gateway_has_classes_on_both() -> None:
    """``gateways: [mesh, istio-system/public]``: sidecars and the gateway both route by it;
    its classes are those of a sidecar client and those of requests through the gateway, and
    a change shows on both."""
    vs = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "reviews"},
        "spec": {
            "hosts": ["reviews.default.svc.cluster.local", "shop.example.com"],
            "gateways": ["mesh", "istio-system/public"],
            "http": [
                {"match": [{"uri": {"prefix": "/api"}}], "route": _to("v2")},
                {"route": _to("v1")},
            ],
        },
    }
    sim = istiosim.load(*BASE, _SHOP_GATEWAY, json.dumps(vs))
    vs["spec"]["http"][0]["route"] = _to("v3")  # type: ignore[index]
    d = istiosim.diff(sim, sim.apply(json.dumps(vs)))
    assert {c.name: c.summary() for c in d.moved} == {
        "reviews: path starts with /api": "100% v2 → 100% v3",
        # a VirtualService host outside the registry: sidecars get a virtual host for it too
        "shop.example.com: path starts with /api": "100% reviews/v2 → 100% reviews/v3",
        "shop.example.com via istio-system/public: path starts with /api": (
            "100% reviews/v2 → 100% reviews/v3"
        ),
    }
    for c in d.classes:
        assert c.witness is not None
        assert sim.route(c.witness).virtual_service == "default/reviews", c.name
    gw = {c.witness.gateway for c in d.classes if c.witness is not None}
    assert gw == {None, "istio-system/public"}
    # the sidecar's own virtual host for shop.example.com answers on port 80 only
    assert {c.witness.port for c in d.classes if c.witness is not None} == {None}
