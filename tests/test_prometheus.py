"""Issue 13 item 8: ``istiosim verify`` reads counts from Prometheus: a saved ``/api/v1/query``
response (``--observed``) or a live one (``--prometheus URL --query Q``), grouped by
``destination_version`` or ``destination_workload`` and mapped to the rule's destinations
through the DestinationRule's subset labels over the Service's pods.

The live tests run against a local HTTP server on 127.0.0.1 that serves the recorded responses
of ``tests/data/prometheus`` (the format of Prometheus' HTTP API, "Instant queries" and
"Expression query result formats": https://prometheus.io/docs/prometheus/latest/querying/api/).
No other network is used.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from istiosim.cli import main

from conftest import DATA, DEMO

RECORDED = DATA / "prometheus"
CANARY = [
    "-f",
    str(DEMO / "bookinfo-k8s.yaml"),
    "-f",
    str(DEMO / "destination.yaml"),
    "-f",
    str(DEMO / "canary-50-50.yaml"),
    "--host",
    "reviews",
]
QUERY_VERSION = (
    "sum by (destination_version) (increase(istio_requests_total"
    '{destination_service="reviews.default.svc.cluster.local"}[1h]))'
)
QUERY_WORKLOAD = QUERY_VERSION.replace("destination_version", "destination_workload")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query).get("query", [""])[0]
        _Handler.seen.append(q)
        status = 200
        if url.path != "/prom/api/v1/query":
            status, name = 404, None
        elif q == QUERY_VERSION:
            name = "reviews-by-version.json"
        elif q == QUERY_WORKLOAD:
            name = "reviews-by-workload.json"
        else:
            status, name = 400, "bad-query.json"
        body = (RECORDED / name).read_bytes() if name else b"404 page not found\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if name else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def prometheus() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/prom"
    finally:
        server.shutdown()
        server.server_close()


def test_saved_response_by_version_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    f = RECORDED / "reviews-by-version.json"
    code, out, err = cli(capsys, "verify", *CANARY, "--observed", str(f), "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    # increase() values are extrapolated: 50123.4 and 49876.6 rounded to whole requests
    assert d["observed"] == {"v2": 50123, "v3": 49877}
    assert d["ok"] is True


def test_saved_response_by_workload_maps_through_pods(capsys: pytest.CaptureFixture[str]) -> None:
    f = RECORDED / "reviews-by-workload.json"
    code, out, _ = cli(capsys, "verify", *CANARY, "--observed", str(f), "--format", "json")
    d = json.loads(out)
    assert d["observed"] == {"v2": 40000, "v3": 60000}
    assert code == 1 and d["srm"]["verdict"] == "mismatch"


def test_unknown_version_is_located(capsys: pytest.CaptureFixture[str]) -> None:
    f = RECORDED / "reviews-unknown-version.json"
    code, _, err = cli(capsys, "verify", *CANARY, "--observed", str(f))
    assert code == 2
    assert err.startswith(f"{f}:7:7: error[ISM0004] data.result[1].metric.destination_version:")
    assert "'v9' selects no destination" in err


def test_series_without_a_known_label_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = tmp_path / "p.json"
    f.write_text(
        json.dumps(
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [{"metric": {"pod": "x"}, "value": [1, "5"]}],
                },
            }
        )
    )
    code, _, err = cli(capsys, "verify", *CANARY, "--observed", str(f))
    assert code == 2 and "exactly one of destination_version, destination_workload" in err
    f.write_text(json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}))
    code, _, err = cli(capsys, "verify", *CANARY, "--observed", str(f))
    assert code == 2 and "data.resultType" in err


@pytest.mark.parametrize(("query", "expect"), [(QUERY_VERSION, 0), (QUERY_WORKLOAD, 1)])
def test_live_query(
    capsys: pytest.CaptureFixture[str], prometheus: str, query: str, expect: int
) -> None:
    code, out, err = cli(capsys, "verify", *CANARY, "--prometheus", prometheus, "--query", query)
    assert code == expect, err
    assert _Handler.seen[-1] == query  # sent URL-encoded, received intact
    assert "100,000 observed requests" in out


def test_live_query_error_is_reported(capsys: pytest.CaptureFixture[str], prometheus: str) -> None:
    code, _, err = cli(capsys, "verify", *CANARY, "--prometheus", prometheus, "--query", "sum(")
    assert code == 2
    assert "error[ISM0004] Prometheus answered bad_data" in err and "Traceback" not in err


def test_wrong_url_and_unreachable_server(
    capsys: pytest.CaptureFixture[str], prometheus: str
) -> None:
    code, _, err = cli(
        capsys, "verify", *CANARY, "--prometheus", prometheus + "/nope", "--query", QUERY_VERSION
    )
    assert code == 2 and "error[ISM0001] HTTP 404" in err
    code, _, err = cli(
        capsys, "verify", *CANARY, "--prometheus", "http://127.0.0.1:9", "--query", "x"
    )
    assert code == 2 and "error[ISM0001] cannot fetch" in err
    code, _, err = cli(capsys, "verify", *CANARY, "--prometheus", "ftp://x", "--query", "x")
    assert code == 2 and "http:// or https://" in err


def test_observed_and_prometheus_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    f = str(RECORDED / "reviews-by-version.json")
    code, _, err = cli(
        capsys, "verify", *CANARY, "--observed", f, "--prometheus", "http://x", "--query", "q"
    )
    assert code == 2 and "either --observed" in err
    code, _, err = cli(capsys, "verify", *CANARY)
    assert code == 2 and "either --observed" in err
    code, _, err = cli(capsys, "verify", *CANARY, "--prometheus", "http://127.0.0.1:9")
    assert code == 2 and "go together" in err
