"""Sidecar scope (semantics §8.2; pilot/pkg/model/sidecar.go, push_context.go
``doGetSidecarScope``): ``egress.hosts`` restrict which Services and VirtualServices a proxy
sees; a host outside the scope falls to the outbound traffic policy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from istiosim import Outcome, Request

from helpers import go, load, svc, trace_text

MESH = svc("reviews", ["v1"]) + "---\n" + svc("ratings", ["v1"], ns="other")


def sidecar(ns: str, *hosts: str, selector: dict[str, str] | None = None, mode: str = "") -> str:
    spec: dict[str, object] = {"egress": [{"hosts": list(hosts)}]}
    if selector:
        spec["workloadSelector"] = {"labels": selector}
    if mode:
        spec["outboundTrafficPolicy"] = {"mode": mode}
    name = "sel" if selector else "default"
    return json.dumps(
        {"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
         "metadata": {"name": name, "namespace": ns}, "spec": spec}
    )  # fmt: skip


RATINGS = "ratings.other.svc.cluster.local"


def test_namespace_default_sidecar_hides_other_namespaces() -> None:
    sim = load(MESH, sidecar("default", "./*"))
    assert go(sim, Request(RATINGS, port=9080)).outcome is Outcome.PASSTHROUGH
    d = go(sim, Request(RATINGS, port=9080))
    assert "not imported by Sidecar default/default" in trace_text(d)
    assert go(sim, Request("reviews", port=9080)).outcome is Outcome.OK
    # another namespace's proxies are not scoped by it
    assert go(sim, Request(RATINGS, port=9080, namespace="x")).outcome is Outcome.OK


def test_namespace_forms_and_exclusions() -> None:
    for hosts, ok in [
        (("other/*",), True),
        (("*/ratings.other.svc.cluster.local",), True),
        (("*/*", "~/ratings.other.svc.cluster.local"), False),
        (("default/*",), False),
    ]:
        sim = load(MESH, sidecar("default", *hosts))
        got = go(sim, Request(RATINGS, port=9080)).outcome is Outcome.OK
        assert got == ok, hosts


def test_workload_selector_wins_over_the_namespace_default() -> None:
    sim = load(MESH, sidecar("default", "./*"), sidecar("default", "*/*", selector={"app": "web"}))
    assert go(sim, Request(RATINGS, port=9080, source_labels={"app": "web"})).outcome is Outcome.OK
    assert go(sim, Request(RATINGS, port=9080)).outcome is Outcome.PASSTHROUGH


def test_root_namespace_default_applies_to_every_namespace() -> None:
    sim = load(MESH, sidecar("istio-system", "./*"))
    # ``./`` is the proxy's namespace
    assert go(sim, Request("reviews", port=9080)).outcome is Outcome.OK
    assert go(sim, Request(RATINGS, port=9080)).outcome is Outcome.PASSTHROUGH


def test_registry_only_answers_502() -> None:
    sim = load(MESH, sidecar("default", "./*", mode="REGISTRY_ONLY"))
    d = go(sim, Request(RATINGS, port=9080))
    assert (d.outcome, d.status) == (Outcome.DIRECT, 502)
    assert "REGISTRY_ONLY" in trace_text(d)
    d = go(sim, Request("unknown.example.com", port=80))
    assert (d.outcome, d.status) == (Outcome.DIRECT, 502)


def test_mesh_config_registry_only() -> None:
    sim = load(MESH)
    plan = sim.plan.with_mesh_config("REGISTRY_ONLY")
    from istiosim.engine import route

    d = route(plan, Request("unknown.example.com", port=80), [0] * plan.n_draws)
    assert (d.outcome, d.status) == (Outcome.DIRECT, 502)
    assert go(sim, Request("unknown.example.com", port=80)).outcome is Outcome.PASSTHROUGH


def test_cli_mesh_config(tmp_path: Path) -> None:
    cfg = tmp_path / "mesh.yaml"
    cfg.write_text(MESH)
    mc = tmp_path / "meshconfig.yaml"
    mc.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\n"
        "data:\n  mesh: |\n    outboundTrafficPolicy:\n      mode: REGISTRY_ONLY\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "istiosim", "route", "-f", str(cfg), "--host", "x.example.com",
         "--port", "80", "--mesh-config", str(mc), "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert json.loads(out.stdout)["status"] == 502, out.stderr


def test_redirect_prefix_rewrite_replaces_the_matched_prefix() -> None:
    """route.go ``ApplyRedirect`` → Envoy ``prefix_rewrite`` (semantics §8.6): the matched
    prefix is replaced, the query kept; without a uri match the prefix is ``/``."""
    from helpers import vs

    sim = load(
        svc("reviews", ["v1"]),
        vs(
            "reviews",
            """
            - match: [{uri: {prefix: /old}}]
              redirect: {prefixRewrite: /new}
            - redirect: {prefixRewrite: /v2/}
            """,
        ),
    )
    d = go(sim, Request("reviews", "/old/a?x=1", port=9080))
    assert (d.outcome, d.redirect_location) == (Outcome.REDIRECT, "http://reviews:9080/new/a?x=1")
    d = go(sim, Request("reviews", "/abc", port=9080))
    assert d.redirect_location == "http://reviews:9080/v2/abc"
