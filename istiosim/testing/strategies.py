"""Hypothesis strategies: meshes, ServiceEntries, VirtualServices, DestinationRules, requests,
batches and traffic models.

They generate configs Istio would accept (so ``istiosim.load`` compiles them) over a small
vocabulary of hosts, paths, users, methods, namespaces, client labels and gateways, so that
generated requests actually hit the generated match conditions: VirtualServices bound to the
mesh and/or gateways, delegating rules and their delegates, config-time matches (sourceLabels,
sourceNamespace, gateways, port), faults, CORS policies and several mirrors per rule; requests
(some of them CORS preflights) from sidecars in several namespaces (with or without a workload
and labels) or from a gateway. Used by
istiosim's own property tests (scalar engine ≡ vector engine, exact ≡ sampled) and available
to users::

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
from ..traffic import Traffic

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
#: client namespaces: ``frontend`` and ``batch`` hold client workloads (``clients()``)
NAMESPACES = ("default", "frontend", "batch")
#: gateways as VirtualServices name them; ``edge`` is short for ``<VS namespace>/edge``
GATEWAYS = ("istio-system/ingress", "default/edge")
#: ServiceEntry hosts (``service_entries()``): DNS, STATIC or workloadSelector, and a wildcard
SE_HOSTS = ("api.example.com", "db.example.com", "*.example.org")
#: a host only gateway-bound VirtualServices claim
GATEWAY_HOST = "shop.example.com"
#: what requests are sent to: short names, other host forms, ServiceEntry and gateway hosts
HOSTS = (
    *SERVICES,
    *SERVICES,
    "alpha.default",
    "beta.default.svc.cluster.local",
    "gamma.default.svc",
    "ghost.example.com",
    "api.example.com",
    "db.example.com",
    "x.example.org",
    GATEWAY_HOST,
)
#: sourceLabels of matches; client pods carry some of them (``clients()``, ``requests()``)
SOURCE_LABELS = (
    {"app": "web"},
    {"app": "web", "tier": "front"},
    {"version": "v1"},
    {"app": "alpha"},
    {"app": "job"},
)
#: who sends a request: (namespace, source workload, explicit source labels)
SOURCES: tuple[tuple[str, str | None, dict[str, str]], ...] = (
    ("default", None, {}),
    ("default", None, {}),
    ("default", "alpha-v1", {}),
    ("frontend", "web-v1", {}),
    ("frontend", None, {"app": "web"}),
    ("batch", "job", {}),
    ("batch", None, {"app": "alpha", "version": "v2"}),
)
#: the gateway a request enters through (None: a sidecar)
REQUEST_GATEWAYS = (None, None, None, "istio-system/ingress", "edge", "default/edge")
#: fault and mirror percentages (Istio truncates them to per-million); 50 first, as hypothesis
#: tries the first value most
PERCENTS = (50, 0, 0.0001, 0.5, 10, 33.3, 99.9999, 100)

data = st.data


def _json_docs(docs: list[dict[str, Any]]) -> str:
    return "\n---\n".join(json.dumps(d) for d in docs) + "\n"


def _name(host: str) -> str:
    """A DNS-1123 resource name for a host (``*.example.org`` → ``wild-example-org``)."""
    return host.replace("*", "wild").replace(".", "-")


def _deployment(name: str, ns: str, labels: dict[str, str], replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}},
        },
    }


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
            docs.append(
                _deployment(f"{name}-{v}", "default", {"app": name, "version": v}, replicas)
            )
    return docs


@st.composite
def clients(draw: Any) -> list[dict[str, Any]]:
    """Client workloads outside ``default``, whose labels ``sourceLabels`` matches select:
    ``frontend/web-v1`` (app=web, version=v1, tier=front) and ``batch/job`` (app=job); and
    sometimes a Service ``alpha`` in ``frontend`` too, so that the short name ``alpha`` means
    another service from that namespace."""
    docs = [
        _deployment("web-v1", "frontend", {"app": "web", "version": "v1", "tier": "front"}, 1),
        _deployment("job", "batch", {"app": "job"}, draw(st.sampled_from((0, 1, 2)))),
    ]
    if draw(st.integers(0, 3)) == 0:
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "alpha", "namespace": "frontend"},
                "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]},
            }
        )
    return docs


def _service_entry(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


@st.composite
def service_entries(draw: Any) -> list[dict[str, Any]]:
    """ServiceEntries for hosts outside the cluster, each present or not:

    - ``api.example.com``: DNS (the host itself is the endpoint) or DNS_ROUND_ROBIN with two
      named endpoints;
    - ``db.example.com``: STATIC endpoints labelled with versions (so DestinationRule subsets
      select them);
    - ``*.example.org``: a wildcard with resolution NONE (no endpoints).
    """
    http80 = {"number": 80, "name": "http", "protocol": "HTTP"}
    docs = []
    if draw(st.booleans()):
        spec: dict[str, Any] = {
            "hosts": ["api.example.com"],
            "ports": [http80],
            "location": "MESH_EXTERNAL",
            "resolution": "DNS",
        }
        if draw(st.booleans()):
            spec["resolution"] = "DNS_ROUND_ROBIN"
            spec["endpoints"] = [{"address": "a.api.example.com"}, {"address": "b.api.example.com"}]
        docs.append(_service_entry("api", spec))
    if draw(st.booleans()):
        ports = [http80]
        if draw(st.booleans()):
            ports.append({"number": 8080, "name": "http-alt", "protocol": "HTTP"})
        versions = draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=3))
        spec = {
            "hosts": ["db.example.com"],
            "ports": ports,
            "location": draw(st.sampled_from(("MESH_EXTERNAL", "MESH_INTERNAL"))),
            "resolution": "STATIC",
        }
        if draw(st.booleans()):  # the mesh's own pods, chosen by labels (ServiceEntry's form)
            spec["workloadSelector"] = {"labels": {"app": draw(st.sampled_from(SERVICES))}}
        else:
            spec["endpoints"] = [
                {"address": f"10.0.0.{i + 1}", "labels": {"version": v}}
                for i, v in enumerate(versions)
            ]
        docs.append(_service_entry("db", spec))
    if draw(st.booleans()):
        docs.append(
            _service_entry(
                "wild-org",
                {
                    "hosts": ["*.example.org"],
                    "ports": [http80],
                    "location": "MESH_EXTERNAL",
                    "resolution": "NONE",
                },
            )
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
def destination_rules(
    draw: Any, hosts: tuple[str, ...] = (*SERVICES, "db.example.com", "api.example.com")
) -> list[dict[str, Any]]:
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
                "metadata": {"name": f"{_name(h)}-dr", "namespace": "default"},
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
    """One HTTPMatchRequest over uri, method, the end-user header and query parameters, and
    the config-time conditions: port, sourceLabels, sourceNamespace and gateways."""
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
    if draw(st.integers(0, 4)) == 0:
        block["sourceLabels"] = dict(draw(st.sampled_from(SOURCE_LABELS)))
    if draw(st.integers(0, 5)) == 0:
        block["sourceNamespace"] = draw(st.sampled_from(NAMESPACES))
    if draw(st.integers(0, 5)) == 0:
        block["gateways"] = list(
            draw(st.sampled_from((("mesh",), (GATEWAYS[0],), ("mesh", GATEWAYS[0]), ("edge",))))
        )
    return block


def _percentage(draw: Any) -> dict[str, float]:
    return {"value": draw(st.sampled_from(PERCENTS))}


def _fault(draw: Any) -> dict[str, Any]:
    """A delay and/or an abort (HTTP or gRPC status), each with its percentage."""
    fault: dict[str, Any] = {}
    if draw(st.booleans()):
        delay: dict[str, Any] = {"fixedDelay": draw(st.sampled_from(("5s", "100ms", "1.5s")))}
        if draw(st.integers(0, 7)) == 0:
            delay["percent"] = draw(st.sampled_from((0, 30, 100)))  # deprecated (IST0002)
        else:
            delay["percentage"] = _percentage(draw)
        fault["delay"] = delay
    if draw(st.booleans()) or not fault:
        abort: dict[str, Any] = {"percentage": _percentage(draw)}
        if draw(st.integers(0, 5)) == 0:
            abort["grpcStatus"] = "UNAVAILABLE"
        else:
            abort["httpStatus"] = draw(st.sampled_from((503, 503, 400, 418)))
        fault["abort"] = abort
    return fault


def _mirror_destination(draw: Any, hosts: tuple[str, ...]) -> dict[str, Any]:
    d: dict[str, Any] = {"host": draw(st.sampled_from((*hosts, "db.example.com")))}
    if draw(st.integers(0, 3)) == 0:
        d["subset"] = draw(st.sampled_from((*VERSIONS, "v9")))
    return d


def _mirrors(draw: Any, hosts: tuple[str, ...], single: bool = True) -> dict[str, Any]:
    """``mirror`` (+ ``mirrorPercentage``) or a ``mirrors`` list of 1-3, each with its own
    percentage (absent = 100%)."""
    if single and draw(st.booleans()):
        out: dict[str, Any] = {"mirror": _mirror_destination(draw, hosts)}
        if draw(st.integers(0, 3)):
            out["mirrorPercentage"] = _percentage(draw)
        return out
    mirrors = []
    for _ in range(draw(st.integers(1, 3))):
        m: dict[str, Any] = {"destination": _mirror_destination(draw, hosts)}
        if draw(st.integers(0, 3)):
            m["percentage"] = _percentage(draw)
        mirrors.append(m)
    return {"mirrors": mirrors}


@st.composite
def http_routes(
    draw: Any,
    host: str,
    hosts: tuple[str, ...] = SERVICES,
    *,
    faulty: bool = False,
    plain: bool = False,
    kinds: tuple[str, ...] = ("route", "route", "route", "redirect", "direct"),
) -> dict[str, Any]:
    """One http rule: matches, then a weighted route, a redirect or a direct response.

    Forward rules may carry a fault, mirrors, a rewrite and header operations; with
    ``faulty=True`` three in four get a fault and mirrors (for the analytic-vs-sampling tests);
    ``plain=True`` only weighted forwards with none of those (what a scalar route program runs).
    """
    rule: dict[str, Any] = {}
    nblocks = draw(st.integers(0, 2))
    if nblocks:
        rule["match"] = [draw(match_blocks()) for _ in range(nblocks)]
    kind = draw(st.sampled_from(("route",) if plain else kinds))
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
        ghost = () if plain else ("ghost",)  # plain: destinations that exist
        d: dict[str, Any] = {"host": draw(st.sampled_from((host, host, *hosts, *ghost)))}
        if draw(st.integers(0, 3)):
            d["subset"] = draw(st.sampled_from(VERSIONS if plain else (*VERSIONS, "v9")))
        dest: dict[str, Any] = {"destination": d}
        if n > 1:
            dest["weight"] = draw(st.sampled_from((0, 1, 10, 25, 50, 100)))
        dests.append(dest)
    if n > 1 and sum(d.get("weight", 0) for d in dests) == 0:
        dests[0]["weight"] = 100
    rule["route"] = dests
    if plain:
        return rule
    # with faulty=True the simplest draw (0, what hypothesis tries first) means "yes"
    if (draw(st.integers(0, 3)) != 3) if faulty else (draw(st.integers(0, 3)) == 0):
        rule["fault"] = _fault(draw)
    if (draw(st.integers(0, 3)) != 3) if faulty else (draw(st.integers(0, 2)) == 0):
        rule.update(_mirrors(draw, hosts))
    if draw(st.integers(0, 3)) == 0:
        rule["rewrite"] = {"uri": "/rewritten"}
    if draw(st.integers(0, 3)) == 0:
        rule["headers"] = {"request": {"set": {"x-routed": "yes"}}}
    if draw(st.integers(0, 3)) == 0:
        rule["corsPolicy"] = _cors(draw)
    return rule


#: Origin header values requests carry; ``_cors`` allows some of them
ORIGINS = ("https://a.example.com", "https://b.example.com", "https://evil.example.org")


def _cors(draw: Any) -> dict[str, Any]:
    """A corsPolicy allowing some origins (exact, prefix or regex), sometimes with
    ``unmatchedPreflights: IGNORE``, credentials, allowed methods and headers."""
    kind = draw(st.sampled_from(("exact", "prefix", "regex")))
    value = {"exact": ORIGINS[0], "prefix": "https://b.", "regex": "https://[ab][.]example[.]com"}
    cors: dict[str, Any] = {"allowOrigins": [{kind: value[kind]}]}
    if draw(st.booleans()):
        cors["allowMethods"] = ["GET", "POST"]
        cors["allowHeaders"] = ["x-foo"]
        cors["maxAge"] = "1m"
    if draw(st.booleans()):
        cors["allowCredentials"] = True
        cors["exposeHeaders"] = ["x-bar"]
    if draw(st.integers(0, 3)) == 0:
        cors["unmatchedPreflights"] = "IGNORE"
    return cors


def _virtual_service(name: str, spec: dict[str, Any], ns: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


#: VS-level ``gateways``: None is omitted (= mesh only)
_VS_GATEWAYS = (
    None,
    None,
    None,
    None,
    ("mesh",),
    (GATEWAYS[0],),
    ("mesh", GATEWAYS[0]),
    ("edge",),
    (GATEWAYS[0], GATEWAYS[1]),
)


@st.composite
def delegating_rules(
    draw: Any,
    host: str,
    hosts: tuple[str, ...] = SERVICES,
    *,
    faulty: bool = False,
    plain: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A root rule ``delegate: {name: ...}`` and the delegate VirtualService (no hosts) it
    names, whose rules' matches Istio merges with the root's (semantics §8.5).

    The delegate is sometimes missing (the root rule is dropped) or in namespace ``frontend``
    (exported everywhere or only there). The root may carry fields the delegate's rules inherit
    (timeout, fault, mirrors, headers).
    """
    name = f"{_name(host)}-delegate-{draw(st.integers(0, 9))}"
    root: dict[str, Any] = {"delegate": {"name": name}}
    if draw(st.integers(0, 3)):
        root["match"] = [
            draw(
                st.sampled_from(
                    (
                        {"uri": {"prefix": "/api"}},
                        {"uri": {"prefix": "/"}},
                        {"uri": {"exact": "/items/42"}},
                        {"headers": {"end-user": {"exact": "jason"}}},
                        {"uri": {"prefix": "/api/v1"}, "method": {"exact": "GET"}},
                    )
                )
            )
        ]
        if draw(st.integers(0, 3)) == 0:
            root["match"].append(draw(match_blocks()))
    # a root's fault and mirror are inherited by every delegate rule, a redirect or direct
    # response included (Istio validates each object alone and never the merged route)
    kinds = ("route", "route", "route", "redirect", "direct")
    if draw(st.integers(0, 1 if faulty else 3)) == 0:
        root["fault"] = _fault(draw)
    if draw(st.integers(0, 3)) == 0:
        root.update(_mirrors(draw, hosts, single=draw(st.booleans())))
    if draw(st.integers(0, 3)) == 0:
        root["timeout"] = "3s"
    rules = []
    for _ in range(draw(st.integers(1, 3))):
        rule = draw(http_routes(host, hosts, faulty=faulty, plain=plain, kinds=kinds))
        if draw(st.booleans()) and "uri" not in rule.get("match", [{}])[0]:
            # narrow the root's uri: the delegate's match must be a sub-match to survive
            rule.setdefault("match", [{}])[0]["uri"] = {
                "prefix": draw(st.sampled_from(("/api/v1", "/api", "/items")))
            }
        rules.append(rule)
    where = draw(st.sampled_from(("default", "default", "frontend", "missing")))
    docs = []
    if where == "frontend":
        root["delegate"]["namespace"] = "frontend"
        spec: dict[str, Any] = {"http": rules}
        if draw(st.booleans()):
            spec["exportTo"] = [draw(st.sampled_from((".", "default", "*")))]
        docs.append(_virtual_service(name, spec, "frontend"))
    elif where == "default":
        docs.append(_virtual_service(name, {"http": rules}))
    return root, docs


@st.composite
def virtual_services(
    draw: Any,
    hosts: tuple[str, ...] = SERVICES,
    *,
    extra_hosts: tuple[str, ...] = SE_HOSTS,
    faulty: bool = False,
    plain: bool = False,
) -> list[dict[str, Any]]:
    """0-1 VirtualService per host (services and ServiceEntry hosts) with 1-5 http rules,
    sometimes bound to gateways, sometimes delegating rules; plus their delegates. With
    ``faulty=True`` every service host has one."""
    docs = []
    for h in (*hosts, *extra_hosts):
        if not (faulty and h in hosts) and not draw(st.booleans()):
            continue
        rules = []
        delegates: list[dict[str, Any]] = []
        named: set[str] = set()
        for _ in range(draw(st.integers(1, 5))):
            if draw(st.integers(0, 6)) == 0:
                root, dels = draw(delegating_rules(h, hosts, faulty=faulty, plain=plain))
                if root["delegate"]["name"] in named:
                    continue  # one root per delegate: its rules were drawn for that root
                named.add(root["delegate"]["name"])
                rules.append(root)
                delegates.extend(dels)
            else:
                rules.append(draw(http_routes(h, hosts, faulty=faulty, plain=plain)))
        if not rules:
            rules.append(draw(http_routes(h, hosts, faulty=faulty, plain=plain)))
        spec: dict[str, Any] = {"hosts": [h], "http": rules}
        gws = draw(st.sampled_from(_VS_GATEWAYS))
        if gws is not None:
            spec["gateways"] = list(gws)
        docs.append(_virtual_service(f"{_name(h)}-vs", spec))
        docs.extend(delegates)
    return docs


@st.composite
def gateway_virtual_services(
    draw: Any, hosts: tuple[str, ...] = SERVICES, *, faulty: bool = False, plain: bool = False
) -> list[dict[str, Any]]:
    """0-2 VirtualServices bound to gateways only (Istio merges them on a gateway, catch-alls
    last), for ``shop.example.com``, ``*`` or a service host."""
    docs = []
    for i in range(draw(st.integers(0, 2))):
        claimed = list(
            draw(st.sampled_from(((GATEWAY_HOST,), (GATEWAY_HOST, "alpha"), ("*",), ("beta",))))
        )
        gws = list(draw(st.sampled_from(((GATEWAYS[0],), ("edge",), GATEWAYS))))
        rules = [
            draw(http_routes(draw(st.sampled_from(hosts)), hosts, faulty=faulty, plain=plain))
            for _ in range(draw(st.integers(1, 4)))
        ]
        docs.append(_virtual_service(f"gw-{i}", {"hosts": claimed, "gateways": gws, "http": rules}))
    return docs


#: Gateway server hosts: every host, the gateway host, a wildcard, namespace-scoped forms
_SERVER_HOSTS = ("*", GATEWAY_HOST, "*.example.com", "default/*", "./shop.example.com", "other/*")


@st.composite
def gateways(draw: Any) -> list[dict[str, Any]]:
    """0-2 of the ``GATEWAYS`` as Gateway resources (one selector, so both configure the same
    pods): 1-2 servers on port 80 or 8080, HTTP or TCP, 1-2 hosts, sometimes
    ``tls.httpsRedirect``. A gateway left out routes nothing."""
    docs = []
    for ref in GATEWAYS:
        if not draw(st.booleans()):
            continue
        ns, name = ref.split("/")
        servers = []
        for i in range(draw(st.integers(1, 2))):
            port = draw(st.sampled_from((80, 8080)))
            proto = draw(st.sampled_from(("HTTP", "HTTP", "HTTP", "TCP")))
            server: dict[str, Any] = {
                "port": {"number": port, "name": f"p{i}-{port}", "protocol": proto},
                "hosts": draw(st.lists(st.sampled_from(_SERVER_HOSTS), min_size=1, max_size=2)),
            }
            if proto == "HTTP" and draw(st.integers(0, 3)) == 0:
                server["tls"] = {"httpsRedirect": True}
            servers.append(server)
        docs.append(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "Gateway",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"selector": {"istio": "ingressgateway"}, "servers": servers},
            }
        )
    return docs


#: Sidecar egress hosts: the namespace forms, wildcards, a service, a ServiceEntry, exclusions
_EGRESS_HOSTS = (
    "./*",
    "*/*",
    "*/*.example.org",
    "default/alpha.default.svc.cluster.local",
    "*/api.example.com",
    "~/beta.default.svc.cluster.local",
    "istio-system/*",
    "frontend/*",
)


@st.composite
def sidecars(draw: Any) -> list[dict[str, Any]]:
    """0-2 Sidecar resources scoping the client sidecars: a namespace default, one selecting
    ``app: web`` or the root namespace's, with 1-3 egress hosts and sometimes
    ``outboundTrafficPolicy: REGISTRY_ONLY`` (a host out of scope then answers 502)."""
    docs = []
    for i in range(draw(st.integers(0, 2))):
        ns = draw(st.sampled_from(("default", "frontend", "batch", "istio-system")))
        spec: dict[str, Any] = {
            "egress": [
                {"hosts": draw(st.lists(st.sampled_from(_EGRESS_HOSTS), min_size=1, max_size=3))}
            ]
        }
        if ns == "frontend" and draw(st.booleans()):
            spec["workloadSelector"] = {"labels": {"app": "web"}}
        if draw(st.integers(0, 2)) == 0:
            spec["outboundTrafficPolicy"] = {"mode": "REGISTRY_ONLY"}
        docs.append(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "Sidecar",
                "metadata": {"name": f"scope-{i}", "namespace": ns},
                "spec": spec,
            }
        )
    return docs


@st.composite
def configs(draw: Any, *, faulty: bool = False, plain: bool = False) -> str:
    """A whole config as YAML text: mesh, client workloads, ServiceEntries, DestinationRules,
    VirtualServices (mesh, gateway-bound, delegating) and delegates. ``faulty=True`` puts
    faults and mirrors on most forward rules; ``plain=True`` makes every rule a weighted forward
    without fault, mirror, rewrite, header operation or CORS."""
    return _json_docs(
        draw(meshes())
        + draw(clients())
        + draw(service_entries())
        + draw(destination_rules())
        + draw(virtual_services(faulty=faulty, plain=plain))
        + draw(gateway_virtual_services(faulty=faulty, plain=plain))
        + draw(gateways())
        + draw(sidecars())
    )


@st.composite
def simulators(draw: Any, *, faulty: bool = False, plain: bool = False) -> Any:
    """A compiled ``Simulator`` of a generated config."""
    from ..simulator import load

    return load(draw(configs(faulty=faulty, plain=plain)))


@st.composite
def requests(draw: Any, hosts: tuple[str, ...] = HOSTS) -> Request:
    """A request to one of ``hosts`` over the strategies' paths, users and methods, from a
    sidecar in one of ``NAMESPACES`` (with or without a workload and labels) or a gateway."""
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["end-user"] = draw(st.sampled_from(USERS))
    if draw(st.integers(0, 2)) == 0:
        headers[HASH_HEADER] = draw(st.sampled_from(USERS))
    if draw(st.integers(0, 4)) == 0:
        headers["cookie"] = draw(st.sampled_from(("sid=1", "a=b; sid=xyz", "other=1")))
    ns, workload, labels = draw(st.sampled_from(SOURCES))
    host, path, method = (
        draw(st.sampled_from(hosts)),
        draw(st.sampled_from(PATHS)),
        draw(st.sampled_from(METHODS)),
    )
    cors = draw(st.integers(0, 5))
    if cors >= 3:  # an Origin; a preflight (OPTIONS with Access-Control-Request-Method) or not
        headers["origin"] = draw(st.sampled_from(ORIGINS))
        if cors >= 4:
            headers["access-control-request-method"] = "POST"
        if cors == 5:
            method = "OPTIONS"
    return Request(
        host,
        path,
        method,
        headers,
        port=draw(st.sampled_from((None, None, None, 80, 8080))),
        scheme=draw(st.sampled_from(("http", "http", "https"))),
        namespace=ns,
        source_labels=labels,
        source_workload=workload,
        gateway=draw(st.sampled_from(REQUEST_GATEWAYS)),
        random_value=draw(st.one_of(st.none(), st.none(), st.integers(0, 2**64 - 1))),
    )


@st.composite
def batches(draw: Any, min_size: int = 1, max_size: int = 40) -> RequestBatch:
    """A ``RequestBatch`` of generated requests (few distinct rows, repeated)."""
    distinct = draw(st.lists(requests(), min_size=1, max_size=8))
    rows = draw(st.lists(st.integers(0, len(distinct) - 1), min_size=min_size, max_size=max_size))
    return RequestBatch.from_requests([distinct[i] for i in rows])


@st.composite
def traffics(draw: Any, max_classes: int = 3, hosts: tuple[str, ...] = HOSTS) -> Traffic:
    """A ``Traffic`` mix of 1-``max_classes`` request classes (generated template requests to
    ``hosts``, each with uniform or weighted choices over some paths, methods and end-user
    values)."""
    parts: list[tuple[Traffic | Request, float]] = []
    for _ in range(draw(st.integers(1, max_classes))):
        template = draw(requests(hosts))
        paths = draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=4, unique=True))
        users = draw(st.lists(st.sampled_from((*USERS, None)), min_size=1, max_size=3, unique=True))
        methods = draw(st.lists(st.sampled_from(METHODS), min_size=1, max_size=2, unique=True))
        path: Any = paths
        if len(paths) > 1 and draw(st.booleans()):
            w = [draw(st.integers(1, 9)) for _ in paths]
            path = {p: x / sum(w) for p, x in zip(paths, w, strict=True)}
        t = Traffic.request(template, path=path, method=methods, headers={"end-user": users})
        parts.append((t, draw(st.sampled_from((1, 1, 3, 10)))))
    return Traffic.mix(parts)


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
    "clients",
    "configs",
    "data",
    "delegating_rules",
    "destination_rules",
    "draws",
    "gateway_virtual_services",
    "gateways",
    "http_routes",
    "match_blocks",
    "meshes",
    "requests",
    "service_entries",
    "sidecars",
    "simulators",
    "traffics",
    "virtual_services",
]
