"""Hypothesis strategies: meshes, VirtualServices, DestinationRules, requests and batches.

They generate configs Istio would accept (so ``istiosim.load`` compiles them) over a small
vocabulary of hosts, paths, users and methods, so that generated requests actually hit the
generated match conditions. Used by istiosim's own property tests (scalar engine ≡ vector
engine) and available to users::

    from hypothesis import given
    from istiosim.testing import strategies as ist

    @given(ist.simulators(), ist.data())
    def test_no_500s(sim, data): ...

Configs are produced as JSON documents (valid YAML) joined with ``---``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..batch import RequestBatch
from ..request import Request

SERVICES = ("alpha", "beta", "gamma")
VERSIONS = ("v1", "v2", "v3")
PATHS = (
    "/",
    "/api",
    "/api/v1/items",
    "/api/v2/items/7",
    "/items/42",
    "/Items/42",
    "/login?next=/home",
    "/static/app.css",
    "/api/v1/items?debug=1&user=alice",
)
USERS = ("jason", "alice", "bob-7", "Jason", "")
METHODS = ("GET", "POST", "PUT")
REGEXES = ("/items/[0-9]+", "/api/.*", "(alice|bob)-[0-9]+", ".*", "[a-z]+")
HASH_HEADER = "x-user"

data = st.data


def _json_docs(docs: list[dict[str, Any]]) -> str:
    return "\n---\n".join(json.dumps(d) for d in docs) + "\n"


@st.composite
def meshes(draw: Any, services: tuple[str, ...] = SERVICES) -> list[dict[str, Any]]:
    """Kubernetes Services and Deployments: versions v1-v3 with 0-3 replicas each."""
    docs: list[dict[str, Any]] = []
    for name in services:
        ports = [{"name": "http", "port": draw(st.sampled_from((80, 80, 9080)))}]
        if draw(st.booleans()):
            ports.append({"name": "http-alt", "port": 8080})
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"selector": {"app": name}, "ports": ports},
            }
        )
        for v in VERSIONS:
            replicas = draw(st.sampled_from((0, 1, 1, 2, 3)))
            labels = {"app": name, "version": v}
            docs.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": f"{name}-{v}", "namespace": "default"},
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": labels},
                        "template": {"metadata": {"labels": labels}},
                    },
                }
            )
    return docs


_LB = st.sampled_from(
    [
        None,
        {"simple": "ROUND_ROBIN"},
        {"consistentHash": {"httpHeaderName": HASH_HEADER}},
        {"consistentHash": {"httpQueryParameterName": "user"}},
        {"consistentHash": {"httpCookie": {"name": "sid", "ttl": "0s"}}},
        {"consistentHash": {"useSourceIp": True}},
    ]
)


@st.composite
def destination_rules(draw: Any, hosts: tuple[str, ...] = SERVICES) -> list[dict[str, Any]]:
    """DestinationRules defining some of v1-v3 (and sometimes a subset with no pods)."""
    docs = []
    for h in hosts:
        if not draw(st.booleans()):
            continue
        names = draw(
            st.lists(st.sampled_from((*VERSIONS, "v9")), min_size=1, max_size=4, unique=True)
        )
        subsets = []
        for s in names:
            sub: dict[str, Any] = {"name": s, "labels": {"version": s}}
            lb = draw(_LB)
            if lb is not None and draw(st.booleans()):
                sub["trafficPolicy"] = {"loadBalancer": lb}
            subsets.append(sub)
        spec: dict[str, Any] = {"host": h, "subsets": subsets}
        lb = draw(_LB)
        if lb is not None:
            spec["trafficPolicy"] = {"loadBalancer": lb}
        docs.append(
            {
                "apiVersion": "networking.istio.io/v1beta1",
                "kind": "DestinationRule",
                "metadata": {"name": f"{h}-dr", "namespace": "default"},
                "spec": spec,
            }
        )
    return docs


def _string_match(draw: Any, pool: tuple[str, ...], regex: bool = True) -> dict[str, str]:
    kinds = ["exact", "prefix", "regex"] if regex else ["exact", "prefix"]
    kind = draw(st.sampled_from(kinds))
    if kind == "regex":
        return {"regex": draw(st.sampled_from(REGEXES))}
    value = draw(st.sampled_from([v for v in pool if v]))  # Istio refuses empty values
    if kind == "prefix":
        value = value[: draw(st.integers(1, len(value)))]
    return {kind: value}


@st.composite
def match_blocks(draw: Any) -> dict[str, Any]:
    """One HTTPMatchRequest over uri, method, the end-user header and query parameters."""
    block: dict[str, Any] = {}
    if draw(st.booleans()):
        block["uri"] = _string_match(draw, tuple(p.split("?")[0] for p in PATHS))
        if draw(st.integers(0, 4)) == 0:
            block["ignoreUriCase"] = True
    if draw(st.integers(0, 3)) == 0:
        block["method"] = {"exact": draw(st.sampled_from(METHODS))}
    if draw(st.booleans()):
        if draw(st.integers(0, 4)) == 0:
            block["headers"] = {"end-user": {}}  # presence
        else:
            block["headers"] = {"end-user": _string_match(draw, USERS)}
    if draw(st.integers(0, 4)) == 0:
        block["queryParams"] = {"user": _string_match(draw, USERS)}
    if draw(st.integers(0, 5)) == 0:
        block["withoutHeaders"] = {HASH_HEADER: _string_match(draw, USERS, regex=False)}
    if draw(st.integers(0, 6)) == 0:
        block["port"] = draw(st.sampled_from((80, 8080)))
    return block


@st.composite
def http_routes(draw: Any, host: str, hosts: tuple[str, ...] = SERVICES) -> dict[str, Any]:
    """One http rule: matches, then a weighted route, a redirect or a direct response."""
    rule: dict[str, Any] = {}
    nblocks = draw(st.integers(0, 2))
    if nblocks:
        rule["match"] = [draw(match_blocks()) for _ in range(nblocks)]
    kind = draw(st.sampled_from(("route", "route", "route", "redirect", "direct")))
    if kind == "redirect":
        rule["redirect"] = {"uri": draw(st.sampled_from(("/new", "/moved?x=1")))}
        if draw(st.booleans()):
            rule["redirect"]["authority"] = draw(
                st.sampled_from(("example.com", "example.com:8443"))
            )
        extra = draw(st.sampled_from(("", "derive-request", "derive-default", "port", "scheme")))
        if extra == "derive-request":
            rule["redirect"]["derivePort"] = "FROM_REQUEST_PORT"
        elif extra == "derive-default":
            rule["redirect"]["derivePort"] = "FROM_PROTOCOL_DEFAULT"
        elif extra == "port":
            rule["redirect"]["port"] = draw(st.sampled_from((80, 8080)))
        elif extra == "scheme":
            rule["redirect"]["scheme"] = "https"
        return rule
    if kind == "direct":
        rule["directResponse"] = {"status": draw(st.sampled_from((200, 418, 503)))}
        return rule
    n = draw(st.integers(1, 3))
    dests = []
    for _ in range(n):
        d: dict[str, Any] = {"host": draw(st.sampled_from((host, host, *hosts, "ghost")))}
        if draw(st.integers(0, 3)):
            d["subset"] = draw(st.sampled_from((*VERSIONS, "v9")))
        dest: dict[str, Any] = {"destination": d}
        if n > 1:
            dest["weight"] = draw(st.sampled_from((0, 1, 10, 25, 50, 100)))
        dests.append(dest)
    if n > 1 and sum(d.get("weight", 0) for d in dests) == 0:
        dests[0]["weight"] = 100
    rule["route"] = dests
    if draw(st.integers(0, 3)) == 0:
        fault: dict[str, Any] = {}
        if draw(st.booleans()):
            pct = draw(st.sampled_from((0, 0.5, 50, 100)))
            fault["delay"] = {"fixedDelay": "5s", "percentage": {"value": pct}}
        if draw(st.booleans()) or not fault:
            pct = draw(st.sampled_from((0, 10, 50, 100)))
            fault["abort"] = {"httpStatus": 503, "percentage": {"value": pct}}
        rule["fault"] = fault
    if draw(st.integers(0, 2)) == 0:
        rule["mirror"] = {"host": draw(st.sampled_from(hosts))}
        rule["mirrorPercentage"] = {"value": draw(st.sampled_from((0, 25, 100)))}
    if draw(st.integers(0, 3)) == 0:
        rule["rewrite"] = {"uri": "/rewritten"}
    if draw(st.integers(0, 3)) == 0:
        rule["headers"] = {"request": {"set": {"x-routed": "yes"}}}
    return rule


@st.composite
def virtual_services(draw: Any, hosts: tuple[str, ...] = SERVICES) -> list[dict[str, Any]]:
    """0-1 VirtualService per host with 1-5 http rules."""
    docs = []
    for h in hosts:
        if not draw(st.booleans()):
            continue
        rules = [draw(http_routes(h, hosts)) for _ in range(draw(st.integers(1, 5)))]
        docs.append(
            {
                "apiVersion": "networking.istio.io/v1beta1",
                "kind": "VirtualService",
                "metadata": {"name": f"{h}-vs", "namespace": "default"},
                "spec": {"hosts": [h], "http": rules},
            }
        )
    return docs


@st.composite
def configs(draw: Any) -> str:
    """A whole config (mesh + DestinationRules + VirtualServices) as YAML text."""
    return _json_docs(draw(meshes()) + draw(destination_rules()) + draw(virtual_services()))


@st.composite
def simulators(draw: Any) -> Any:
    """A compiled ``Simulator`` of a generated config."""
    from ..simulator import load

    return load(draw(configs()))


@st.composite
def requests(
    draw: Any, hosts: tuple[str, ...] = (*SERVICES, *SERVICES, "ghost.example.com")
) -> Request:
    """A request to one of ``hosts`` over the strategies' paths, users and methods."""
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["end-user"] = draw(st.sampled_from(USERS))
    if draw(st.integers(0, 2)) == 0:
        headers[HASH_HEADER] = draw(st.sampled_from(USERS))
    if draw(st.integers(0, 4)) == 0:
        headers["cookie"] = draw(st.sampled_from(("sid=1", "a=b; sid=xyz", "other=1")))
    return Request(
        draw(st.sampled_from(hosts)),
        draw(st.sampled_from(PATHS)),
        draw(st.sampled_from(METHODS)),
        headers,
        port=draw(st.sampled_from((None, None, None, 80, 8080))),
        source_workload=draw(st.sampled_from((None, None, "alpha-v1"))),
        random_value=draw(st.one_of(st.none(), st.none(), st.integers(0, 2**64 - 1))),
    )


@st.composite
def batches(draw: Any, min_size: int = 1, max_size: int = 40) -> RequestBatch:
    """A ``RequestBatch`` of generated requests (few distinct rows, repeated)."""
    distinct = draw(st.lists(requests(), min_size=1, max_size=8))
    rows = draw(st.lists(st.integers(0, len(distinct) - 1), min_size=min_size, max_size=max_size))
    return RequestBatch.from_requests([distinct[i] for i in rows])


@st.composite
def draws(draw: Any, n: int, k: int) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """An ``(n, k)`` uint64 draw array: random 64-bit values, with small and extreme ones mixed in."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 2**64, size=(n, k), dtype=np.uint64, endpoint=False)
    if draw(st.booleans()):
        out[rng.random((n, k)) < 0.3] = np.uint64(draw(st.sampled_from((0, 1, 99, 2**64 - 1))))
    return out


__all__ = [
    "batches",
    "configs",
    "data",
    "destination_rules",
    "draws",
    "http_routes",
    "match_blocks",
    "meshes",
    "requests",
    "simulators",
    "virtual_services",
]
