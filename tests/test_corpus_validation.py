"""Istio's own configs load, or fail, as Istio says (semantics §5.1–5.2).

- ``istio-validation-testdata/``: the ``dataset-*`` files are valid objects from Istio's
  validation-webhook tests; every document of ``api-destinationrule-valid.yaml`` loads; every
  document of ``api-destinationrule-invalid.yaml`` is refused, at the field its ``_err`` names.
- ``istio-bookinfo/``, ``istio-pilot-testdata-config/``, ``istio-analyzer-testdata/``: accepted by
  Istio, so they load without a ConfigError — except the files listed in ``REFUSED`` below, each
  with the reason Istio's webhook (or API) refuses it too.

The corpus is read in place (conftest.CORPUS); no file is copied into the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from istiosim.analysis import analyze
from istiosim.compiler import compile_plan
from istiosim.errors import ConfigError
from istiosim.loader import load_config

from conftest import CORPUS

VALIDATION = CORPUS / "istio-validation-testdata"


def _compile(*sources: str | Path) -> None:
    compile_plan(load_config(*sources))


def _refused(*sources: str | Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _compile(*sources)
    return info.value


def _documents(path: Path) -> list[tuple[int, str]]:
    """(first line, text) of each ``---``-separated document, padded so that lines keep their
    numbers in the file (a document loaded alone reports the same line as the file)."""
    out: list[tuple[int, str]] = []
    start, buf = 1, []
    lines = path.read_text().splitlines(keepends=True)
    for n, line in enumerate(lines, 1):
        if line.rstrip() == "---":
            out.append((start, "\n" * (start - 1) + "".join(buf)))
            start, buf = n + 1, []
        else:
            buf.append(line)
    out.append((start, "\n" * (start - 1) + "".join(buf)))
    return [(s, t) for s, t in out if t.strip()]


# -- istio-validation-testdata ---------------------------------------------------------------

DATASETS = sorted(VALIDATION.glob("dataset-*.yaml"))


def test_the_validation_folder_is_what_we_expect() -> None:
    names = sorted(p.name for p in VALIDATION.glob("*.yaml"))
    assert len(DATASETS) == 6 and len(names) == 8
    assert "api-destinationrule-valid.yaml" in names
    assert "api-destinationrule-invalid.yaml" in names


@pytest.mark.parametrize("path", DATASETS, ids=[p.stem for p in DATASETS])
def test_webhook_dataset_objects_are_valid(path: Path) -> None:
    version, kind = re.fullmatch(r"dataset-networking-(\w+)-(\w+)\.yaml", path.name).groups()  # type: ignore[union-attr]
    config = load_config(path)
    plan = compile_plan(config)
    objs = config.virtual_services if kind == "VirtualService" else config.destination_rules
    assert len(objs) == 1
    assert objs[0].api_version == f"networking.istio.io/{version}"
    # valid, though nothing in this file defines the host: a diagnostic, not an error
    assert {d.code for d in analyze(config, plan)} <= {"IST0101", "IST0174"}


VALID_DOCS = _documents(VALIDATION / "api-destinationrule-valid.yaml")


@pytest.mark.parametrize(("line", "text"), VALID_DOCS, ids=[str(s) for s, _ in VALID_DOCS])
def test_api_valid_destination_rules_load(line: int, text: str) -> None:
    # One document at a time: they share the name bookinfo-ratings, so loaded together each
    # would replace the previous one and only the last would be checked.
    config = load_config(text)
    assert len(config.destination_rules) == 1
    compile_plan(config)


def test_api_valid_file_loads_as_a_whole() -> None:
    config = load_config(VALIDATION / "api-destinationrule-valid.yaml")
    assert [d.metadata.name for d in config.destination_rules] == [
        "bookinfo-ratings",
        "bookinfo-ratings-http2-ping",
    ]
    assert len(VALID_DOCS) == 4
    # three documents are named bookinfo-ratings: the later ones replace it, as kubectl does
    assert sum(d.code == "ISM0102" for d in config.diagnostics) == 2
    compile_plan(config)


_ERR = re.compile(r"^_err: '(?P<field>[\w.\[\]]+): (?P<reason>[^']+)'$", re.M)
INVALID_DOCS = _documents(VALIDATION / "api-destinationrule-invalid.yaml")


def test_every_invalid_document_carries_an_err() -> None:
    assert len(INVALID_DOCS) == 3
    assert all(_ERR.search(t) for _, t in INVALID_DOCS)


@pytest.mark.parametrize(("line", "text"), INVALID_DOCS, ids=[str(s) for s, _ in INVALID_DOCS])
def test_api_invalid_destination_rules_are_refused_at_the_err_field(line: int, text: str) -> None:
    m = _ERR.search(text)
    assert m is not None
    field, reason = m["field"], m["reason"]
    # `_err` is the test's annotation, not an Istio field: blank it (keeping line numbers)
    clean = _ERR.sub("# _err stripped", text)
    (d,) = _refused(clean).diagnostics
    assert d.field_path == field
    assert d.code == "IST0106"
    if reason == "Required value":
        assert "required" in d.message
    else:
        assert reason == "Invalid value"
        assert "must be" in d.message
    # the diagnostic points at the field itself (or, when missing, at its parent)
    assert d.location is not None
    leaf = field.rsplit(".", 1)[-1]
    file_line = clean.splitlines()[d.location.line - 1]
    assert leaf in file_line or reason == "Required value", file_line


def test_api_invalid_file_with_err_keys_is_refused_for_the_unknown_field() -> None:
    """Loaded as it is, `_err` itself is an unknown field: refused, once per document."""
    err = _refused(VALIDATION / "api-destinationrule-invalid.yaml")
    assert [
        (d.code, d.field_path, d.location.line if d.location else 0) for d in err.diagnostics
    ] == [
        ("ISM0003", "_err", 1),
        ("ISM0003", "_err", 14),
        ("ISM0003", "_err", 26),
    ]


# -- configs Istio accepts ---------------------------------------------------------------------

ACCEPTED_FOLDERS = ("istio-bookinfo", "istio-pilot-testdata-config", "istio-analyzer-testdata")
ALL_FILES = sorted(p for d in ACCEPTED_FOLDERS for p in (CORPUS / d).rglob("*.yaml"))

#: file → the errors we raise: (resource, field, code). Each is refused by Istio as well.
REFUSED: dict[str, list[tuple[str | None, str | None, str]]] = {
    # Not a config at all: our transcription of the upstream analyzer test grid.
    "istio-analyzer-testdata/expected-messages.yaml": [(None, "kind", "ISM0008")],
    # The http route has a fault and nothing else; the webhook says "HTTP route, redirect or
    # direct_response is required". Upstream feeds it to the deprecation analyzer only.
    "istio-analyzer-testdata/deprecation.yaml": [
        ("VirtualService foo/productpage", "spec.http[0]", "IST0106")
    ],
    # `route: [{}]`: the webhook says "destination is required"; the analyzer test uses it to
    # check that a missing destination does not crash the host analyzer.
    "istio-analyzer-testdata/virtualservice_destinationhosts.yaml": [
        ("VirtualService default/reviews-bogushost", "spec.http[0].route[0].destination", "IST0106")
    ],
    # Gateway-analyzer inputs without any http/tcp/tls route ("http, tcp or tls must be
    # provided in virtual service"), and host "*" on a mesh VirtualService; its two Gateways
    # have no servers ("gateway must have at least one server", ValidateGateway).
    "istio-analyzer-testdata/virtualservice_gateways.yaml": [
        ("Gateway default/httpbin-gateway", "spec", "IST0106"),
        ("Gateway another/crossnamespace-gw", "spec", "IST0106"),
        ("VirtualService default/httpbin", "spec", "IST0106"),
        ("VirtualService default/httpbin-bogus", "spec", "IST0106"),
        ("VirtualService default/httpbin-mesh", "spec", "IST0106"),
        ("VirtualService default/httpbin-mesh", "spec.hosts[0]", "IST0106"),
        ("VirtualService default/cross-test", "spec", "IST0106"),
    ],
    # Two servers of one Gateway both named `http` ("port names in servers must be unique",
    # ValidateGateway); upstream feeds them to the gateway host analyzer only.
    "istio-analyzer-testdata/virtualservice_host_not_found_gateway.yaml": [
        ("Gateway istio-system/testing-gateway-01-test-04", "spec.servers[1].port.name", "IST0106")
    ],
    "istio-analyzer-testdata/virtualservice_host_not_found_gateway_beta.yaml": [
        ("Gateway istio-system/testing-gateway-01-test-04", "spec.servers[1].port.name", "IST0106")
    ],
    # `gateway~istio-autogenerated-k8s-gateway~foo` is not a DNS-1123 label; validateGatewayNames
    # lets it through only for objects istiod generates (gateway route semantics annotation).
    "istio-analyzer-testdata/virtualservice_internal_gateway_ref.yaml": [
        ("VirtualService default/httpbin", "spec.gateways[0]", "IST0106")
    ],
    # `websocketUpgrade` was removed from HTTPRoute (websockets are always allowed); istioctl
    # validate and kubectl's strict field validation refuse it as an unknown field.
    "istio-pilot-testdata-config/rule-websocket-route.yaml": [
        ("VirtualService testns/websocket-route", "spec.http[0].websocketUpgrade", "ISM0003"),
        ("VirtualService testns/websocket-route2", "spec.http[0].websocketUpgrade", "ISM0003"),
    ],
}


def _rel(p: Path) -> str:
    return str(p.relative_to(CORPUS))


def test_the_corpus_has_the_files_the_readme_lists() -> None:
    counts = {d: sum(1 for p in ALL_FILES if _rel(p).startswith(d)) for d in ACCEPTED_FOLDERS}
    assert counts == {
        "istio-bookinfo": 29,
        "istio-pilot-testdata-config": 23,
        "istio-analyzer-testdata": 32,
    }
    assert set(REFUSED) <= {_rel(p) for p in ALL_FILES}


@pytest.mark.parametrize("path", ALL_FILES, ids=[_rel(p) for p in ALL_FILES])
def test_istio_accepted_configs_load(path: Path) -> None:
    rel = _rel(path)
    if rel not in REFUSED:
        _compile(path)
        return
    err = _refused(path)
    assert [(d.resource, d.field_path, d.code) for d in err.diagnostics] == REFUSED[rel]


def test_refused_analyzer_inputs_load_once_the_refused_objects_are_dropped() -> None:
    """The refusals above are about one object each, not about the rest of the file."""
    path = CORPUS / "istio-analyzer-testdata/virtualservice_destinationhosts.yaml"
    docs = [t for _, t in _documents(path) if "name: reviews-bogushost" not in t]
    _compile(*docs)


def test_bookinfo_with_every_routing_file_of_a_task_loads() -> None:
    kube = CORPUS / "istio-bookinfo/platform-kube/bookinfo.yaml"
    net = CORPUS / "istio-bookinfo/networking"
    for vs in sorted(net.glob("virtual-service-*.yaml")):
        config = load_config(kube, net / "destination-rule-all.yaml", vs)
        plan = compile_plan(config)
        # Bookinfo's own configs point nowhere only where the docs say so (v2 details, the
        # ratings databases): never a webhook error, at most IST0101/IST0173/IST0174.
        codes = {d.code for d in analyze(config, plan) if d.severity.value == "error"}
        assert codes <= {"IST0101", "IST0173"}, (vs.name, codes)
