"""Golden test: semantics.md §6, the Bookinfo outcomes table, over the real corpus files.

Each row loads ``platform-kube/bookinfo.yaml`` + ``networking/destination-rule-all.yaml`` + the
row's file (+ the extra platform-kube files the row names), in apply order, and checks what a
sidecar in ``default`` sees for a normal user, for ``end-user: jason`` and for ``end-user: Jason``:
exact candidate probabilities, the subset each weighted interval lands on, and the outcome
(503 UH where a subset has no pods, the fault status, the delay).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from istiosim import Outcome, Request, load
from istiosim.simulator import Simulator

from conftest import BOOKINFO, KUBE, NET
from helpers import go, probs, trace_text

F = Fraction
PK = BOOKINFO / "platform-kube"
DR_ALL = NET / "destination-rule-all.yaml"

NORMAL: dict[str, str] = {}
JASON = {"end-user": "jason"}
JASON_CAP = {"end-user": "Jason"}
USERS = {"normal": NORMAL, "jason": JASON, "Jason": JASON_CAP}
SERVICES = ("productpage", "reviews", "ratings", "details")


def bookinfo(
    *files: str | Path, extra: tuple[str, ...] = (), dr: Path | None = DR_ALL
) -> Simulator:
    """bookinfo.yaml + extra platform-kube files + DR (default: destination-rule-all) + files."""
    sources: list[str | Path] = [KUBE, *(PK / e for e in extra)]
    if dr is not None:
        sources.append(dr)
    sources += [NET / f if isinstance(f, str) else f for f in files]
    return load(*sources, rng=0)


def req(service: str, user: dict[str, str], **kw: object) -> Request:
    return Request(service, f"/{service}/0", headers=user, port=9080, **kw)  # type: ignore[arg-type]


def check_split(
    sim: Simulator, service: str, user: dict[str, str], want: dict[str | None, Fraction]
) -> None:
    """Exact candidate probabilities, and every weighted interval lands on its subset."""
    d = go(sim, req(service, user))
    assert probs(d) == want, (service, user, d.explain())
    total = sum(c.weight for c in d.candidates)
    start = 0
    for c in d.candidates:
        for rv in {start, start + c.weight - 1} if c.weight else ():
            got = go(sim, req(service, user, random_value=rv))
            assert (got.outcome, got.subset) == (Outcome.OK, c.subset), (service, user, rv)
            assert got.pod == f"{service}-{c.subset}-0"
        start += c.weight
    assert start == total


def single_pod(
    sim: Simulator, service: str, user: dict[str, str], subset: str | None, pod: str
) -> None:
    d = go(sim, req(service, user))
    assert (d.outcome, d.status, d.subset, d.pod) == (Outcome.OK, 200, subset, pod), d.explain()
    assert d.flags == () and d.delay_ms is None


def default_routes(sim: Simulator) -> None:
    """No VS: reviews spread over its 3 pods, every other service its one pod, no subset."""
    for user in USERS.values():
        d = go(sim, req("reviews", user))
        assert probs(d) == {None: F(1)} and d.virtual_service is None
        assert d.destination is not None
        assert d.destination.cluster == "outbound|9080||reviews.default.svc.cluster.local"
        reached = [go(sim, req("reviews", user), endpoint=i).pod for i in range(3)]
        assert sorted(reached) == ["reviews-v1-0", "reviews-v2-0", "reviews-v3-0"], "1/3 each"
        for s in ("productpage", "ratings", "details"):
            single_pod(sim, s, user, None, f"{s}-v1-0")


def no_pod_subsets(sim: Simulator) -> set[tuple[str, str]]:
    out = set()
    for x in sim.diagnostics:
        if x.code == "IST0173":
            out.add((str(x.resource), x.message.split("'")[1]))
    return out


DR_ALL_EMPTY = {
    ("DestinationRule default/details", "v2"),
    ("DestinationRule default/ratings", "v2"),
    ("DestinationRule default/ratings", "v2-mysql"),
    ("DestinationRule default/ratings", "v2-mysql-vm"),
}


# -- rows without routing change ------------------------------------------------------------------


def test_row_no_virtual_service_at_all() -> None:
    default_routes(bookinfo(dr=None))
    default_routes(bookinfo())


def test_row_destination_rule_all_changes_nothing_and_flags_empty_subsets() -> None:
    sim = bookinfo()
    default_routes(sim)
    assert no_pod_subsets(sim) == DR_ALL_EMPTY


def test_row_destination_rule_all_mtls_changes_no_routing() -> None:
    sim = bookinfo(dr=NET / "destination-rule-all-mtls.yaml")
    default_routes(sim)
    assert no_pod_subsets(sim) == DR_ALL_EMPTY


def test_row_destination_rule_reviews_random_on_default_route_and_subsets() -> None:
    sim = bookinfo("destination-rule-reviews.yaml")
    d = go(sim, req("reviews", NORMAL))
    assert "RANDOM picks" in trace_text(d) and d.subset is None
    with_vs = bookinfo("destination-rule-reviews.yaml", "virtual-service-reviews-v3.yaml")
    d = go(with_vs, req("reviews", NORMAL))
    assert d.subset == "v3" and "RANDOM picks" in trace_text(d)


# -- VirtualService rows ---------------------------------------------------------------------------

V1 = {None: F(1)}

#: file → service → user → {subset: probability} (a service not listed keeps its default route)
SPLITS: dict[str, dict[str, dict[str, dict[str | None, Fraction]]]] = {
    "virtual-service-all-v1.yaml": {s: {u: {"v1": F(1)} for u in USERS} for s in SERVICES},
    "virtual-service-reviews-test-v2.yaml": {
        "reviews": {"normal": {"v1": F(1)}, "jason": {"v2": F(1)}, "Jason": {"v1": F(1)}},
    },
    "virtual-service-reviews-jason-v2-v3.yaml": {
        "reviews": {"normal": {"v3": F(1)}, "jason": {"v2": F(1)}, "Jason": {"v3": F(1)}},
    },
    "virtual-service-reviews-50-v3.yaml": {
        "reviews": {u: {"v1": F(1, 2), "v3": F(1, 2)} for u in USERS},
    },
    "virtual-service-reviews-80-20.yaml": {
        "reviews": {u: {"v1": F(4, 5), "v2": F(1, 5)} for u in USERS},
    },
    "virtual-service-reviews-90-10.yaml": {
        "reviews": {u: {"v1": F(9, 10), "v2": F(1, 10)} for u in USERS},
    },
    "virtual-service-reviews-v2-v3.yaml": {
        "reviews": {u: {"v2": F(1, 2), "v3": F(1, 2)} for u in USERS},
    },
    "virtual-service-reviews-v3.yaml": {
        "reviews": {u: {"v3": F(1)} for u in USERS},
    },
}


@pytest.mark.parametrize("file", sorted(SPLITS))
@pytest.mark.parametrize("user", sorted(USERS))
def test_row_virtual_service_splits(file: str, user: str) -> None:
    sim = bookinfo(file)
    for service in SERVICES:
        want = SPLITS[file].get(service, {}).get(user)
        if want is None:
            d = go(sim, req(service, USERS[user]))
            assert d.virtual_service is None and d.subset is None, (service, d.explain())
            continue
        check_split(sim, service, USERS[user], want)
        if len(want) == 1:
            (subset,) = want
            single_pod(sim, service, USERS[user], subset, f"{service}-{subset}-0")


def test_row_reviews_test_v2_header_name_is_case_insensitive() -> None:
    sim = bookinfo("virtual-service-reviews-test-v2.yaml")
    assert go(sim, req("reviews", {"End-User": "jason"})).subset == "v2"
    assert go(sim, req("reviews", {"end-user": "jason "})).subset == "v1"


def test_row_reviews_v2_v3_flips_per_request_even_with_consistent_hash() -> None:
    hashed = (
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\n"
        "spec:\n  host: reviews\n  trafficPolicy:\n    loadBalancer:\n"
        "      consistentHash: {httpHeaderName: end-user}\n  subsets:\n"
        + "".join(f"  - {{name: {v}, labels: {{version: {v}}}}}\n" for v in ("v1", "v2", "v3"))
    )
    sim = load(KUBE, DR_ALL, hashed, NET / "virtual-service-reviews-v2-v3.yaml", rng=0)
    assert go(sim, req("reviews", JASON), route=0).subset == "v2"
    assert go(sim, req("reviews", JASON), route=50).subset == "v3"
    assert "consistentHash on header end-user" in trace_text(go(sim, req("reviews", JASON)))


def test_row_ratings_test_delay_7s_for_jason_only() -> None:
    sim = bookinfo("virtual-service-ratings-test-delay.yaml")
    d = go(sim, req("ratings", JASON), delay=999_999)
    assert (d.outcome, d.status, d.flags, d.delay_ms) == (Outcome.OK, 200, ("DI",), 7000)
    assert (d.subset, d.pod) == ("v1", "ratings-v1-0"), "delayed, then ratings v1"
    for user in (NORMAL, JASON_CAP):
        single_pod(sim, "ratings", user, "v1", "ratings-v1-0")
        assert go(sim, req("ratings", user), delay=0).delay_ms is None


def test_row_ratings_test_abort_500_for_jason_only() -> None:
    sim = bookinfo("virtual-service-ratings-test-abort.yaml")
    d = go(sim, req("ratings", JASON), abort=999_999)
    assert (d.outcome, d.status, d.flags, d.pod) == (Outcome.FI, 500, ("FI",), None)
    for user in (NORMAL, JASON_CAP):
        single_pod(sim, "ratings", user, "v1", "ratings-v1-0")


def test_row_fault_injection_details_v1_aborts_everything_and_flags_dead_rule() -> None:
    sim = bookinfo("fault-injection-details-v1.yaml")
    for user in USERS.values():
        d = go(sim, req("details", user), abort=999_999)
        assert (d.outcome, d.status, d.flags, d.rule) == (Outcome.FI, 555, ("FI",), 0)
    unreachable = [x for x in sim.diagnostics if x.code == "IST0130"]
    assert len(unreachable) == 1
    assert "only the last rule can have no matches" in unreachable[0].message
    assert unreachable[0].location is not None
    assert unreachable[0].location.file.endswith("fault-injection-details-v1.yaml")
    # the file's DR 'details' replaces destination-rule-all's: no empty v2 subset any more
    assert no_pod_subsets(sim) == DR_ALL_EMPTY - {("DestinationRule default/details", "v2")}


def test_row_details_v2_is_503_uh_without_its_deployment() -> None:
    sim = bookinfo("virtual-service-details-v2.yaml")
    for user in USERS.values():
        d = go(sim, req("details", user))
        assert (d.outcome, d.status, d.flags, d.subset) == (Outcome.UH, 503, ("UH",), "v2")
    sim = bookinfo("virtual-service-details-v2.yaml", extra=("bookinfo-details-v2.yaml",))
    single_pod(sim, "details", NORMAL, "v2", "details-v2-0")


@pytest.mark.parametrize(
    "file,subset,extra",
    [
        ("virtual-service-ratings-db.yaml", "v2", ("bookinfo-ratings-v2.yaml", "bookinfo-db.yaml")),
        ("virtual-service-ratings-mysql.yaml", "v2-mysql", ("bookinfo-ratings-v2-mysql.yaml", "bookinfo-mysql.yaml")),
        ("virtual-service-ratings-mysql-vm.yaml", "v2-mysql-vm", ("bookinfo-ratings-v2-mysql-vm.yaml",)),
    ],
)  # fmt: skip
def test_row_ratings_backends(file: str, subset: str, extra: tuple[str, ...]) -> None:
    sim = bookinfo(file)
    for user in USERS.values():
        single_pod(sim, "reviews", user, "v3", "reviews-v3-0")
        d = go(sim, req("ratings", user))
        assert (d.outcome, d.status, d.subset) == (Outcome.UH, 503, subset)
    sim = bookinfo(file, extra=extra)
    for user in USERS.values():
        single_pod(sim, "ratings", user, subset, f"ratings-{subset}-0")


# -- gateway rows ----------------------------------------------------------------------------------

GW = "default/bookinfo-gateway"


@pytest.mark.parametrize(
    "path",
    ["/productpage", "/productpage?u=normal", "/login", "/logout", "/static/css/x.css", "/staticfoo",
     "/api/v1/products", "/api/v1/products/0/reviews"],
)  # fmt: skip
def test_row_bookinfo_gateway_routes_to_productpage(path: str) -> None:
    sim = bookinfo("bookinfo-gateway.yaml")
    d = go(sim, Request("bookinfo.example.com", path, gateway=GW, port=8080))
    assert (d.outcome, d.status, d.pod, d.subset) == (Outcome.OK, 200, "productpage-v1-0", None)
    assert d.destination is not None and d.destination.port == 9080
    assert d.destination.cluster == "outbound|9080||productpage.default.svc.cluster.local"


@pytest.mark.parametrize("path", ["/", "/productpage/x", "/Login", "/api/v1/product"])
def test_row_bookinfo_gateway_other_paths_404(path: str) -> None:
    sim = bookinfo("bookinfo-gateway.yaml")
    d = go(sim, Request("bookinfo.example.com", path, gateway=GW, port=8080))
    assert (d.outcome, d.status) == (Outcome.NR, 404)


def test_row_bookinfo_gateway_has_no_effect_on_sidecars() -> None:
    sim = bookinfo("bookinfo-gateway.yaml")
    d = go(sim, req("productpage", NORMAL))
    assert d.virtual_service is None and d.pod == "productpage-v1-0"


def test_row_certmanager_gateway() -> None:
    gw = "istio-system/cert-manager-gateway"
    sim = bookinfo("certmanager-gateway.yaml")
    d = go(sim, Request("example.com", "/.well-known/acme-challenge/tok", gateway=gw, port=80))
    assert d.destination is not None
    assert (
        d.destination.cluster
        == "outbound|8089||cert-manager-resolver.istio-system.svc.cluster.local"
    )
    assert (d.outcome, d.status) == (Outcome.NC, 503), "no cert-manager-resolver Service loaded"
    assert go(sim, Request("example.com", "/", gateway=gw, port=80)).outcome is Outcome.NR
    resolver = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: cert-manager-resolver, namespace: istio-system}\n"
        "spec:\n  selector: {app: resolver}\n  ports: [{port: 8089, name: http}]\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: resolver\n  namespace: istio-system\n"
        "  labels: {app: resolver}\n"
    )
    sim = load(KUBE, DR_ALL, NET / "certmanager-gateway.yaml", resolver, rng=0)
    d = go(sim, Request("example.com", "/.well-known/acme-challenge/tok", gateway=gw, port=80))
    assert (d.outcome, d.pod) == (Outcome.OK, "resolver")


def test_row_egress_google_apis_port_80_goes_to_443() -> None:
    sim = bookinfo("egress-rule-google-apis.yaml")
    d = go(sim, Request("www.googleapis.com", "/", port=80))
    assert d.outcome is Outcome.OK and d.destination is not None
    assert d.destination.cluster == "outbound|443||www.googleapis.com"
    # portLevelSettings for 443 replace the top-level policy wholesale (only tls is set there),
    # so that cluster's LB is the default one, not the top-level ROUND_ROBIN
    assert "LEAST_REQUEST picks" in trace_text(d)
    d = go(sim, Request("www.googleapis.com", "/", port=443))
    assert d.virtual_service is None, "the VS only has a port-80 route"
