"""Issue 8: every input of the wrong kind is refused with a located error, never coerced.

Traffic files and counts files are read like configs (pydantic models with the loader's source
map): each error names the file, line, column, field path and a code. The public constructors
(``Request``, ``Traffic.*``) raise ``InvalidArgument`` naming the argument.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from istiosim import ConfigError, InvalidArgument, IstiosimError, Request, Traffic
from istiosim.cli import main
from istiosim.traffic import read_traffic

from conftest import DEMO

CONFIG = ["-f", str(DEMO / "bookinfo-k8s.yaml"), "-f", str(DEMO / "destination.yaml")]
CANARY = [*CONFIG, "-f", str(DEMO / "canary-50-50.yaml")]
LOCATED = re.compile(r"^(.+):(\d+):(\d+): error\[(ISM\d{4}|IST\d{4})\] ", re.M)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- wrong answers: values Python would coerce -----------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "argument"),
    [
        ({"port": True}, "port"),
        ({"port": 9080.0}, "port"),
        ({"namespace": 5}, "namespace"),
        ({"namespace": ""}, "namespace"),
        ({"gateway": 5}, "gateway"),
        ({"method": None}, "method"),
        ({"scheme": 1}, "scheme"),
        ({"source_workload": ["a"]}, "source_workload"),
        ({"source_labels": ["app=x"]}, "source_labels"),
        ({"source_labels": {"app": 1}}, "source_labels"),
        ({"random_value": True}, "random_value"),
        ({"random_value": 2**64}, "random_value"),
        ({"authority": 5}, "authority"),
        ({"headers": ["a"]}, "headers"),
        ({"headers": {"a": 1}}, "header 'a'"),
        ({"query": {"a": 1}}, "query"),
        ({"query": "a=1"}, "query"),
    ],
)
def test_request_refuses_wrong_types_naming_the_argument(kw: dict[str, Any], argument: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        Request("reviews", **kw)
    assert argument in str(exc.value)


def test_request_host_and_path_types() -> None:
    for args in [(5,), ("",), ("reviews", 5), ("reviews", "no-slash"), ("reviews", "/", 1)]:
        with pytest.raises(InvalidArgument):
            Request(*args)


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: Traffic.users(Request("a"), header=5), "header"),
        (lambda: Traffic.users(Request("a"), header=["x"]), "header"),
        (lambda: Traffic.users(Request("a"), named=["jason"]), "named"),
        (lambda: Traffic.users(Request("a"), name=5), "name"),
        (lambda: Traffic.users(Request("a"), prefix=None), "prefix"),
        (lambda: Traffic.users(Request("a"), n_users=10**12), "n_users"),
        (lambda: Traffic.users("reviews"), "Request"),
        (lambda: Traffic.users(Request("a"), named={"j": 10**400}), "share of named user"),
        (lambda: Traffic.request(Request("a"), headers=["x"]), "headers"),
        (lambda: Traffic.request(Request("a"), query=["x"]), "query"),
        (lambda: Traffic.request(Request("a"), name=1), "name"),
        (lambda: Traffic.request(Request("a"), method={"GET": 10**400}), "share of 'GET'"),
        (lambda: Traffic.request(Request("a"), method={"GET": float("inf")}), "share of 'GET'"),
        (lambda: Traffic.request(Request("a"), query={"q": [1, 2]}), "query parameter 'q'"),
        (lambda: Traffic.mix([(Request("a"), 10**400)]), "mix weight"),
        (lambda: Traffic.mix([(Request("a"), float("nan"))]), "mix weight"),
    ],
)
def test_traffic_constructors_raise_invalid_argument(make: Any, argument: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        make()
    assert argument in str(exc.value)


def test_more_than_65536_fixed_classes_sample() -> None:
    """Classes differing in port beyond 2^16 distinct values once overflowed uint16 codes."""
    hosts = [(Request(f"h{i}"), 1) for i in range(70_000)]
    t = Traffic.mix(hosts)
    import numpy as np

    cls, batch = t.sample(1000, np.random.default_rng(1))
    hosts_seen = batch.host.values
    assert {hosts_seen[int(c)] for c in batch.host.codes} == {f"h{int(i)}" for i in cls}


# -- traffic files: located errors -----------------------------------------------------------------

TRAFFIC_CASES = [
    ("classes:\n  - request: {host: reviews, port: true}\n", 2, "classes[0].request.port"),
    ("classes:\n  - request: {host: reviews, namespace: 5}\n", 2, "classes[0].request.namespace"),
    ("classes:\n  - request: {host: reviews, gateway: 5}\n", 2, "classes[0].request.gateway"),
    ("classes:\n  - request: {host: reviews}\n    vary: {headers: [a]}\n", 3, "vary.headers"),
    ("classes:\n  - request: {host: reviews}\n    vary: {method: [[GET]]}\n", 3, "vary.method"),
    ("classes:\n  - request: {host: reviews}\n    weight: 1e400\n", 3, "classes[0].weight"),
    ("classes:\n  - request: {host: reviews}\n    weight: 1.0e400\n", 3, "classes[0].weight"),
    (
        "classes:\n  - request: {host: reviews}\n    users: {named: {a: " + "9" * 400 + "}}\n",
        3,
        "users.named.a",
    ),
    ("classes:\n  - request: {host: reviews, headers: [a]}\n", 2, "request.headers"),
    ("classes:\n  - request: {host: reviews, source_labels: [a]}\n", 2, "source_labels"),
    ("classes:\n  - request: {host: reviews}\n    users: [a]\n", 3, "classes[0].users"),
    ("classes:\n  - request: {host: reviews}\n    vary: [a]\n", 3, "classes[0].vary"),
    ("classes:\n  - request: {host: reviews}\n    oops: 1\n", 3, "classes[0].oops"),
    ("classes: {a: 1}\n", 1, "classes"),
    ("classes:\n  - request: {host: reviews}\n    vary: {method: {GET: 0.5}}\n", 3, "vary"),
    ("classes:\n  - request:\n      host: reviews\n      method: {a: b}\n", 4, "request.method"),
]


@pytest.mark.parametrize(("text", "line", "field"), TRAFFIC_CASES)
def test_traffic_file_errors_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, field: str
) -> None:
    f = tmp_path / "traffic.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        read_traffic(str(f))
    d = exc.value.diagnostics[0]
    assert d.location is not None and d.location.file == str(f)
    assert d.location.line == line and d.location.column >= 1
    assert field in (d.field_path or "")
    code, _, err = cli(capsys, "simulate", *CONFIG, "--traffic", str(f), "-n", "10")
    assert code == 2 and "Traceback" not in err
    m = LOCATED.match(err)
    assert m and m.group(1) == str(f) and int(m.group(2)) == line, err


def test_traffic_file_round_trips() -> None:
    t = read_traffic(
        "classes:\n  - name: j\n    weight: 2\n    request: {host: reviews, port: 9080}\n"
        "  - request: {host: ratings}\n    vary: {path: [/a, /b], method: {GET: 0.5, POST: 0.5}}\n"
    )
    assert t.names == ("j", "ratings") and t.shares == pytest.approx((2 / 3, 1 / 3))
    assert t.classes[0].template.port == 9080


def test_traffic_from_dict_names_where() -> None:
    with pytest.raises(ConfigError) as exc:
        Traffic.from_dict({"classes": [{"request": {"host": "a", "port": True}}]}, where="mine")
    d = exc.value.diagnostics[0]
    assert d.location is not None and d.location.file == "mine"
    assert d.field_path == "classes[0].request.port"


# -- counts files: unknown keys and values refused -------------------------------------------------

COUNTS_CASES = [
    ('{"counts": {"v1": 10, "v3": 12}, "extra": 1}', 1, "extra", "ISM0003"),
    ('{"rows": [{"subset": "v1", "outcome": "OKK", "count": 5}]}', 1, "rows[0].outcome", "ISM0004"),
    ('{"rows": [{"subset": "v1", "count": 5, "sbset": "v3"}]}', 1, "rows[0].sbset", "ISM0003"),
    ('{"rows": [{"subset": "v1", "count": 5}], "n": 5, "foo": 1}', 1, "foo", "ISM0003"),
    ("v1: 9223372036854775808\nv3: 3\n", 1, "v1", "ISM0004"),
    ("v1: 10\nv3: true\n", 2, "v3", "ISM0004"),
    ("v1: 10\nv3: 1.5\n", 2, "v3", "ISM0004"),
    ("v1: 10\nv3: -1\n", 2, "v3", "ISM0004"),
    ("v1: 10\nv3: [1]\n", 2, "v3", "ISM0004"),
    ("counts: [1, 2]\n", 1, "counts", "ISM0004"),
    ("rows: {a: 1}\n", 1, "rows", "ISM0004"),
]


@pytest.mark.parametrize(("text", "line", "field", "code"), COUNTS_CASES)
def test_counts_file_errors_are_located(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    line: int,
    field: str,
    code: str,
) -> None:
    f = tmp_path / "counts.yaml"
    f.write_text(text)
    rc, _, err = cli(capsys, "verify", *CANARY, "--host", "reviews", "--observed", str(f))
    assert rc == 2 and "Traceback" not in err
    m = LOCATED.match(err)
    assert m, err
    assert (m.group(1), int(m.group(2)), m.group(4)) == (str(f), line, code), err
    assert field in err


def test_counts_whole_floats_still_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "counts.json"
    f.write_text(json.dumps({"v2": 5000.0, "v3": 5000}))
    rc, out, err = cli(capsys, "verify", *CANARY, "--host", "reviews", "--observed", str(f))
    assert rc == 0, err
    assert "10,000 observed" in out


def test_api_errors_are_istiosim_errors() -> None:
    with pytest.raises(IstiosimError):
        Traffic.from_dict([{"request": {"host": 5}}])


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: Traffic(5), "non-empty list"),
        (lambda: Traffic([(5, 1)]), "(RequestClass, weight)"),
        (lambda: Traffic.mix(True), "mix()"),
        (lambda: Traffic.from_dict({"classes": []}, where=5), "where"),
    ],
)
def test_more_constructors_raise_invalid_argument(make: Any, argument: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        make()
    assert argument in str(exc.value)


def test_load_arguments_are_checked() -> None:
    import istiosim

    with pytest.raises(InvalidArgument, match="load\\(\\) takes paths"):
        istiosim.load(5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="namespace"):
        istiosim.load(str(DEMO / "bookinfo-k8s.yaml"), namespace=5)  # type: ignore[arg-type]
