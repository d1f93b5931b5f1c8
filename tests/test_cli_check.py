"""``istiosim check``: the JSON contract and the exit codes (DESIGN.md, CLI).

``--format json`` prints ``{"diagnostics": [{"code", "severity", "message", "resource", "file",
"line"}, ...]}``; exit 1 when any diagnostic is an error (IST0101, IST0109, IST0173, ...), 0
when there are only warnings and infos, 2 when the input is refused (bad YAML, webhook rules).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from istiosim.cli import main

from conftest import CORPUS, KUBE, NET

DATA_INVALID = Path(__file__).parent / "data" / "invalid"
KEYS = {"code", "severity", "message", "resource", "file", "line"}


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    rc = main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    return rc, json.loads(out) if out else None, err


def test_clean_config_exits_0_with_no_errors(capsys: pytest.CaptureFixture[str]) -> None:
    rc, doc, err = _check(
        capsys, "-f", str(KUBE), "-f", str(NET / "destination-rule-reviews.yaml"),
        "-f", str(NET / "virtual-service-reviews-80-20.yaml"),
    )  # fmt: skip
    assert (rc, err) == (0, "")
    assert set(doc) == {"diagnostics"}
    assert all(d["severity"] != "error" for d in doc["diagnostics"])


def test_errors_give_exit_1_and_the_documented_shape(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # ratings v2 has no pods (IST0173) and the VS names an undefined subset (IST0101)
    vs = tmp_path / "vs.yaml"
    vs.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ratings\n"
        "spec:\n  hosts:\n  - ratings\n  http:\n  - route:\n    - destination:\n"
        "        host: ratings\n        subset: v9\n"
    )
    rc, doc, err = _check(
        capsys, "-f", str(KUBE), "-f", str(NET / "destination-rule-all.yaml"), "-f", str(vs)
    )
    assert (rc, err) == (1, "")
    diags = doc["diagnostics"]
    assert diags and all(set(d) >= KEYS for d in diags)
    for d in diags:
        assert d["severity"] in ("error", "warning", "info")
        assert isinstance(d["message"], str) and d["message"]
        assert d["line"] is None or (isinstance(d["line"], int) and d["line"] >= 1)
    (subset,) = [d for d in diags if d["code"] == "IST0101"]
    assert subset == {
        **subset,
        "severity": "error",
        "resource": "VirtualService default/ratings",
        "file": str(vs),
        "line": 12,  # the subset: key
    }
    assert '"ratings+v9"' in subset["message"]  # as written, as istioctl (destinationrules.go)
    unhealthy = sorted(d["message"] for d in diags if d["code"] == "IST0173")
    assert any("'v2-mysql'" in m for m in unhealthy)
    assert all(d["file"] == str(NET / "destination-rule-all.yaml")
               for d in diags if d["code"] == "IST0173")  # fmt: skip


def test_warnings_alone_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    # fault-injection-details-v1.yaml (a DR with subset v1 and a VS): its rule 1 is
    # unreachable (IST0130, a warning); everything it names exists in bookinfo.yaml
    rc, doc, _ = _check(capsys, "-f", str(KUBE), "-f", str(NET / "fault-injection-details-v1.yaml"))
    assert [(d["code"], d["severity"]) for d in doc["diagnostics"]] == [("IST0130", "warning")]
    assert rc == 0
    rc, doc, _ = _check(
        capsys, "-f", str(KUBE), "-f", str(NET / "destination-rule-all.yaml"),
        "-f", str(NET / "fault-injection-details-v1.yaml"),
    )  # fmt: skip
    assert {d["code"] for d in doc["diagnostics"]} == {"IST0130", "IST0173"}
    assert rc == 1  # ratings v2, v2-mysql, v2-mysql-vm have no pods: errors


def test_infos_hidden_unless_all(capsys: pytest.CaptureFixture[str]) -> None:
    dep = CORPUS / "istio-analyzer-testdata/deprecation.yaml"  # EnvoyFilter, QuotaSpec
    _, doc, _ = _check(capsys, "-f", str(KUBE), "-f", str(dep))
    assert "ISM0100" not in {d["code"] for d in doc["diagnostics"]}
    _, doc, _ = _check(capsys, "-f", str(KUBE), "-f", str(dep), "--all")
    ignored = [d for d in doc["diagnostics"] if d["code"] == "ISM0100"]
    assert ignored and all(d["severity"] == "info" for d in ignored)
    assert {"EnvoyFilter", "QuotaSpec"} <= {d["resource"].split()[0] for d in ignored}
    assert "Sidecar" not in {d["resource"].split()[0] for d in ignored}


def test_gateways_sidecars_and_request_authentications_are_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Istio's Gateway and Sidecar and RequestAuthentication are modelled: not ignored kinds."""
    gw = NET / "bookinfo-gateway.yaml"
    _, doc, _ = _check(capsys, "-f", str(KUBE), "-f", str(gw), "--all")
    ignored = {d["resource"] for d in doc["diagnostics"] if d["code"] == "ISM0100"}
    assert ignored and not {r for r in ignored if r.startswith("Gateway ")}


def test_text_format_summarises(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", "-f", str(KUBE), "-f", str(NET / "destination-rule-all.yaml")])
    out = capsys.readouterr().out
    assert rc == 1  # ratings v2-mysql & co. have no pods: IST0173 is an error
    assert out.rstrip().splitlines()[-1].startswith("0 VirtualService(s), 4 DestinationRule(s)")
    assert "error[IST0173]" in out


def test_refused_input_is_reported_in_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    """A config Istio's webhook refuses is a finding (IST0106, with its line), not a usage
    error: the JSON is printed, exit 1 (istioctl analyze reports it among its messages)."""
    path = DATA_INVALID / "weight-negative.yaml"
    rc, doc, err = _check(capsys, "-f", str(path))
    assert (rc, err) == (1, "")
    assert doc is not None
    refused = [d for d in doc["diagnostics"] if d["code"] == "IST0106"]
    assert refused and all(d["file"] == str(path) and d["line"] for d in refused)


def test_unreadable_path_prints_json_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yaml"
    rc, doc, err = _check(capsys, "-f", str(missing))
    assert (rc, err) == (2, "")
    assert doc is not None
    assert [d["code"] for d in doc["diagnostics"]] == ["ISM0001"]


def test_json_in_a_real_process() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "istiosim", "check", "--format", "json",
         "-f", str(CORPUS / "istio-analyzer-testdata/destinationrule-with-fake-host.yaml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr  # IST0174 is a warning
    (d,) = json.loads(r.stdout)["diagnostics"]
    assert (d["code"], d["severity"], d["resource"]) == (
        "IST0174",
        "warning",
        "DestinationRule default/fake-host",
    )
    assert d["line"] is not None and d["file"].endswith("destinationrule-with-fake-host.yaml")


# -- suppression, as istioctl analyze --suppress (istioctl/pkg/analyze/analyze.go) --------------

GATEWAYS = CORPUS / "istio-analyzer-testdata/virtualservice_gateways.yaml"


def _codes(doc: Any) -> list[tuple[str, str]]:
    return [(d["code"], d["resource"]) for d in doc["diagnostics"]]


def test_suppress_by_code_and_resource(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc, _ = _check(capsys, "-f", str(GATEWAYS))
    before = _codes(doc)
    assert ("IST0132", "VirtualService default/httpbin") in before
    # istioctl's spelling (FriendlyName: Kind name.namespace) and ours (Kind ns/name)
    for spec in (
        "IST0132=VirtualService httpbin.default",
        "IST0132=VirtualService default/httpbin",
    ):
        _, doc, _ = _check(capsys, "-f", str(GATEWAYS), "--suppress", spec)
        assert _codes(doc) == [
            c for c in before if c != ("IST0132", "VirtualService default/httpbin")
        ]


def test_suppress_glob_and_repeat(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc, _ = _check(capsys, "-f", str(GATEWAYS))
    before = _codes(doc)
    rc, doc, err = _check(
        capsys, "-f", str(GATEWAYS), "-S", "IST0132=VirtualService *.default",
        "-S", "IST0101=*",
    )  # fmt: skip
    assert err == ""
    assert _codes(doc) == [c for c in before if c[0] not in ("IST0132", "IST0101")]
    assert rc == 1  # the IST0106 errors are not suppressed


def test_suppress_unknown_code_warns_and_bad_value_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, doc, err = _check(capsys, "-f", str(GATEWAYS), "-S", "IST9999=VirtualService *")
    assert rc == 1 and doc is not None
    assert "Supplied message code 'IST9999' is an unknown message code" in err
    assert main(["check", "-f", str(GATEWAYS), "-S", "IST0132"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "is not a valid suppression value" in err


def test_suppress_annotation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``galley.istio.io/analyze-suppress`` on the resource: codes, comma-separated, or '*'."""
    text = GATEWAYS.read_text().replace(
        "metadata:\n  name: httpbin-bogus\n",
        "metadata:\n  name: httpbin-bogus\n  annotations:\n"
        "    galley.istio.io/analyze-suppress: IST0101,IST0132\n",
    )
    f = tmp_path / "gw.yaml"
    f.write_text(text)
    _, doc, _ = _check(capsys, "-f", str(f))
    mine = [c for c in _codes(doc) if c[1] == "VirtualService default/httpbin-bogus"]
    assert mine == [("IST0106", "VirtualService default/httpbin-bogus")]
