"""The loader: sources, multi-document files, kind: List, kubectl-apply replacement, namespaces."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import istiosim
from istiosim import Request
from istiosim.loader import load_config

from conftest import KUBE, NET

SVC = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-v1}
spec:
  replicas: 3
  template: {metadata: {labels: {app: web, version: v1}}}
"""

VS_V1 = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http:
  - route:
    - destination: {host: web, subset: v1}
"""


def test_yaml_text_multi_document_and_replicas_become_pods() -> None:
    cfg = load_config(SVC)
    (svc,) = cfg.mesh.services
    assert svc.fqdn() == "web.default.svc.cluster.local"
    pods = cfg.mesh.endpoints(svc)
    assert [p.name for p in pods] == ["web-v1-0", "web-v1-1", "web-v1-2"]
    assert {p.workload for p in pods} == {"web-v1"}


def test_all_three_api_versions_load() -> None:
    for version in ("v1alpha3", "v1beta1", "v1"):
        text = VS_V1.replace("v1beta1", version)
        cfg = load_config(text)
        assert cfg.virtual_services[0].spec.hosts == ["web"]


def test_kind_list_items_are_unpacked() -> None:
    text = """
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
  spec: {selector: {app: a}, ports: [{port: 80}]}
- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: a}
  spec: {host: a, subsets: [{name: v1, labels: {version: v1}}]}
"""
    cfg = load_config(text)
    assert [s.name for s in cfg.mesh.services] == ["a"]
    assert cfg.destination_rules[0].spec.subsets[0] is not None
    loc = cfg.source("DestinationRule", "default", "a").find(("spec", "host"))
    assert loc is not None and (loc.line, loc.column) == (12, 10)


def test_later_object_replaces_earlier_like_kubectl_apply() -> None:
    v2 = VS_V1.replace("subset: v1", "subset: v2")
    cfg = load_config(VS_V1, v2)
    assert len(cfg.virtual_services) == 1
    route = cfg.virtual_services[0].spec.http[0]
    assert route is not None and route.route[0].destination is not None
    assert route.route[0].destination.subset == "v2"
    assert any(d.code == "ISM0102" for d in cfg.diagnostics)


def test_objects_without_namespace_go_to_the_load_namespace() -> None:
    cfg = load_config(SVC, VS_V1, namespace="shop")
    assert cfg.virtual_services[0].metadata.namespace == "shop"
    assert cfg.mesh.services[0].namespace == "shop"


def test_folder_is_read_recursively(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "svc.yaml").write_text(SVC)
    (tmp_path / "vs.yml").write_text(VS_V1)
    (tmp_path / "notes.txt").write_text("not yaml: [")
    sim = istiosim.load(tmp_path)
    d = sim.route(Request("web"))
    assert (d.outcome, d.status) == (istiosim.Outcome.NC, 503)  # no DestinationRule defines v1
    dr = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\n"
    dr += "spec: {host: web, subsets: [{name: v1, labels: {version: v1}}]}\n"
    (tmp_path / "k8s" / "dr.yaml").write_text(dr)
    assert istiosim.load(tmp_path).route(Request("web")).workload == "web-v1"


def test_stdin_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(SVC))
    cfg = load_config("-")
    assert cfg.files == ["<stdin>"]
    assert cfg.mesh.services[0].name == "web"


def test_real_bookinfo_loads_with_info_for_other_kinds() -> None:
    cfg = load_config(KUBE)
    assert {s.name for s in cfg.mesh.services} == {"details", "ratings", "reviews", "productpage"}
    assert {w.name for w in cfg.mesh.workloads} >= {"reviews-v1", "reviews-v2", "reviews-v3"}
    infos = [d for d in cfg.diagnostics if d.code == "ISM0100"]
    assert infos and all("ServiceAccount" in d.message for d in infos)


def test_tcp_routes_load_and_are_reported_not_simulated() -> None:
    text = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db}
spec:
  hosts: [db]
  tcp:
  - route:
    - destination: {host: db}
"""
    cfg = load_config(text)
    assert any(d.code == "ISM0101" and "tcp" in d.message for d in cfg.diagnostics)


def test_trace_points_at_the_rule_file_and_line() -> None:
    sim = istiosim.load(
        KUBE, NET / "destination-rule-all.yaml", NET / "virtual-service-reviews-test-v2.yaml"
    )
    d = sim.route(Request("reviews", headers={"end-user": "jason"}), trace=True)
    text = d.explain()
    assert "virtual-service-reviews-test-v2.yaml:10:7" in text  # the `- headers:` match block
    assert d.location is not None and d.location.line == 10


def test_schema_and_webhook_errors_are_reported_together(tmp_path: Path) -> None:
    """A typo in one document does not hide a bad regex in another: one run lists both."""
    f = tmp_path / "two.yaml"
    f.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: a}\n"
        "spec:\n  hosts: [a]\n  http:\n  - match: [{uri: {prefx: /a}}]\n"
        "    route: [{destination: {host: a}}]\n"
        "---\n"
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: b}\n"
        "spec:\n  hosts: [b]\n  http:\n  - match: [{headers: {x: {regex: '(?=a)'}}}]\n"
        "    route: [{destination: {host: b}}]\n"
    )
    with pytest.raises(istiosim.ConfigError) as exc:
        istiosim.load(f)
    codes = [(d.code, d.location.line if d.location else 0) for d in exc.value.diagnostics]
    assert codes == [("ISM0003", 7), ("IST0106", 16)]
    from istiosim.cli import main

    assert main(["route", "-f", str(f), "--host", "a"]) == 2
    assert main(["check", "-f", str(f)]) == 1  # reported, as istioctl analyze does


def test_service_entry_selects_workloads_by_labels() -> None:
    """A ServiceEntry's workloadSelector has ``labels`` (networking.v1alpha3.WorkloadSelector,
    istio/api networking/v1alpha3/sidecar.proto), not a DestinationRule's ``matchLabels``."""
    import istiosim

    sim = istiosim.load(
        """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: beta-pods}
spec:
  hosts: [beta.internal]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: beta}}
---
apiVersion: v1
kind: Pod
metadata: {name: beta-0, labels: {app: beta}}
spec: {containers: [{name: beta}]}
"""
    )
    d = sim.route(istiosim.Request(host="beta.internal"), rng=1)
    assert d.outcome.value == "OK"
    assert d.pod == "beta-0"


NESTED = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web]
  http:
  - match:
    - headers: {x-user: {exact: a}}
    - uri: {prefix: /b}
    route:
    - destination: {host: web, subset: v1}
      weight: 90
    - {destination: {host: web, subset: v2}, weight: 10}
"""


def test_source_map_paths_lines_and_columns() -> None:
    """The packed source map gives every field the position where its key (or list item) is
    written, and a path that was not written falls back to its nearest written ancestor."""
    from istiosim.loader.yaml import documents

    (doc,) = documents("vs.yaml", NESTED)
    src = doc.source
    lines = NESTED.splitlines()

    def at(line: int, needle: str) -> str:  # where ``needle`` is written on that line
        return f"vs.yaml:{line}:{lines[line - 1].index(needle) + 1}"

    assert str(src.find(())) == "vs.yaml:1:1"
    assert str(src.find(("spec", "http", 0, "match", 1, "uri", "prefix"))) == at(9, "prefix")
    assert str(src.find(("spec", "http", 0, "route", 1))) == at(13, "{destination")
    assert str(src.find(("spec", "http", 0, "route", 1, "weight"))) == at(13, "weight")
    assert str(src.find(("spec", "http", 0, "route", 0, "weight"))) == at(12, "weight")
    assert str(src.find(("spec", "http", 0, "timeout"))) == at(7, "match")  # not written: its rule
    assert src.get(("spec", "http", 0, "timeout")) is None
    assert str(src.get(("metadata", "namespace"))) == at(3, "namespace")
    # the eager form (every path a Location) agrees with the packed one
    assert all(src.find(p) == loc for p, loc in src.locations.items())
    assert len(src.locations) == 30  # one per node: 1 + 5 + 3 + 10 + 11


def test_kind_list_item_errors_point_into_the_item() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        + "\n".join(
            "- " + line if i == 0 else "  " + line
            for i, line in enumerate(NESTED.replace("weight: 10", "weight: ten").splitlines())
        )
        + "\n"
    )
    with pytest.raises(istiosim.ConfigError) as err:
        load_config(text)
    (diag,) = err.value.diagnostics
    ((line, written),) = [(i, t) for i, t in enumerate(text.splitlines(), 1) if "ten" in t]
    assert str(diag.location) == f"<string>:{line}:{written.index('weight') + 1}"
    assert diag.field_path == "spec.http[0].route[1].weight"


def test_a_file_with_a_yaml_error_contributes_nothing(tmp_path: Path) -> None:
    """Documents are validated as they are read, but a file is all or nothing: the objects
    before a YAML error in the same file are not loaded, and their findings not reported."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        VS_V1
        + "---\n"
        + VS_V1.replace("[web]", "[web-bad]", 1).replace("subset: v1", "subset: v1, weight: x")
        + "---\nkey: [unclosed\n"
    )
    good = tmp_path / "good.yaml"
    good.write_text(SVC)
    config = load_config(str(good), str(bad), partial=True)
    assert config.virtual_services == []
    assert [d.code for d in config.errors] == ["ISM0002"]
    assert config.errors[0].location is not None
    assert config.errors[0].location.file == str(bad)
    assert config.errors[0].location.line == 22
    assert len(config.mesh.services) == 1


def test_loading_leaves_the_garbage_collector_as_it_was() -> None:
    """The collector is off while loading and back on after, with nothing left frozen (the
    loaded objects only skip the young generations); off stays off; also after an error."""
    import gc

    assert gc.isenabled()
    load_config(SVC)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with pytest.raises(istiosim.ConfigError):
        load_config("apiVersion: v1\nkind: Service\nmetadata: {name: [x]}\n")
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        load_config(SVC)
        assert not gc.isenabled()
    finally:
        gc.enable()
