"""Issue 8: a fuzz suite for every input format and public constructor.

Generated bad values of every type (None, bools, huge and negative integers, NaN and infinite
floats, strings, lists, mappings, nested junk) are put at every field of a valid traffic file,
counts file, Prometheus response and case file, and into every argument of ``Request``,
``Traffic.*`` and ``simulate``. The API must answer or raise an ``IstiosimError``; the CLI must
exit 0, 1 or 2, and on 2 print ``file:line:col: error[CODE]`` lines (or ``istiosim: error:``
for arguments) and never a traceback.

Quick under the default ``ci`` profile; ``HYPOTHESIS_PROFILE=thorough`` runs ten times the
examples (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import istiosim
from istiosim import IstiosimError, Request, Simulator, Traffic
from istiosim.cli import main
from istiosim.testing.cases import load_cases
from istiosim.traffic import read_traffic

from conftest import DEMO, examples, load_demo

LOCATED = re.compile(r"^\S.*?(:\d+:\d+)?: (error|warning|info)\[(ISM|IST)\d{4}\] ")
ARGUMENT = re.compile(r"^istiosim: error: ")
SETTINGS = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63, 2**64, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "/", "GET", "v1", "reviews", "end-user", "OK", "1e400", "🙂", "\x00"]),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every field path of a JSON-like document (mapping keys and list indexes)."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _put(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    here = doc
    for p in path[:-1]:
        here = here[p]
    here[path[-1]] = value
    return doc


def _text(doc: Any) -> str:
    """JSON (a subset of YAML); values JSON cannot spell become YAML-ish strings."""
    return json.dumps(doc, default=str, allow_nan=True) + "\n"


def mutated(base: Any) -> st.SearchStrategy[Any]:
    """``base`` with one field replaced by junk, or one mapping given an extra key."""
    paths = _paths(base)
    maps = [p for p in paths if isinstance(_get(base, p), dict)]
    replace = st.tuples(st.sampled_from(paths), junk).map(lambda pv: _put(base, pv[0], pv[1]))
    extra = st.tuples(st.sampled_from(maps), st.text(min_size=1, max_size=8), junk).map(
        lambda pkv: _put(base, (*pkv[0], pkv[1]), pkv[2])
    )
    return st.one_of(replace, extra)


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _cli_ok(code: int, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err
    if code == 2:
        first = err.splitlines()[0] if err else ""
        assert LOCATED.match(first) or ARGUMENT.match(first), err


TRAFFIC = {
    "classes": [
        {
            "name": "jason",
            "weight": 1,
            "request": {
                "host": "reviews",
                "headers": {"end-user": "jason"},
                "port": 9080,
                "namespace": "default",
                "gateway": None,
                "source_labels": {"app": "productpage"},
            },
        },
        {
            "weight": 9,
            "request": {"host": "reviews"},
            "users": {"header": "end-user", "n_users": 100, "named": {"a": 0.1}},
        },
        {
            "request": {"host": "ratings", "method": "GET"},
            "vary": {
                "path": ["/r/1", "/r/2"],
                "method": {"GET": 0.9, "POST": 0.1},
                "headers": {"x": ["a", None]},
                "query": {"q": ["1", "2"]},
            },
        },
    ]
}
COUNTS = [
    {"v2": 500, "v3": 500},
    {"counts": {"v2": 500, "v3": 500}},
    {
        "n": 1000,
        "rows": [
            {"host": "reviews", "subset": "v2", "outcome": "OK", "status": 200, "count": 500},
            {"host": "reviews", "subset": "v3", "outcome": "OK", "status": 200, "count": 500},
        ],
    },
    {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"destination_version": "v2"}, "value": [1.5, "500"]},
                {"metric": {"destination_workload": "reviews-v3"}, "value": [1.5, "500"]},
            ],
        },
    },
]
CASES = {
    "tests": [
        {
            "name": "jason",
            "input": {
                "host": "reviews",
                "headers": {"end-user": "jason"},
                "port": 9080,
                "source": {"namespace": "default", "labels": {"app": "productpage"}},
            },
            "validate": {"subset": "v2", "status": 200},
        },
        {
            "name": "split",
            "input": {"host": "reviews"},
            "validate": {"split": {"v2": 0.5, "v3": 0.5}},
        },
    ]
}
CONFIG = ["-f", str(DEMO / "bookinfo-k8s.yaml"), "-f", str(DEMO / "destination.yaml")]
CANARY = [*CONFIG, "-f", str(DEMO / "canary-50-50.yaml")]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return load_demo("canary-50-50.yaml")


# -- files ----------------------------------------------------------------------------------------


@SETTINGS
@given(doc=mutated(TRAFFIC))
def test_fuzz_traffic_file_api(doc: Any) -> None:
    try:
        t = read_traffic(_text(doc))
    except IstiosimError:
        return
    assert len(t.classes) >= 1 and abs(sum(t.shares) - 1) < 1e-9


@SETTINGS
@given(doc=mutated(TRAFFIC))
def test_fuzz_traffic_file_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any
) -> None:
    f = tmp_path / "traffic.json"
    f.write_text(_text(doc))
    code = main(["simulate", *CANARY, "--traffic", str(f), "-n", "1000", "--seed", "1"])
    _, err = capsys.readouterr()
    _cli_ok(code, err)


@SETTINGS
@given(doc=st.one_of(*(mutated(c) for c in COUNTS)))
def test_fuzz_counts_file_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any) -> None:
    f = tmp_path / "counts.json"
    f.write_text(_text(doc))
    code = main(["verify", *CANARY, "--host", "reviews", "--observed", str(f)])
    _, err = capsys.readouterr()
    _cli_ok(code, err)


@SETTINGS
@given(doc=mutated(CASES))
def test_fuzz_case_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any) -> None:
    with contextlib.suppress(IstiosimError):  # answers or refuses, nothing else
        load_cases(_text(doc))
    f = tmp_path / "cases.json"
    f.write_text(_text(doc))
    code = main(["test", *CANARY, str(f)])
    _, err = capsys.readouterr()
    _cli_ok(code, err)


@SETTINGS
@given(data=st.binary(max_size=200))
def test_fuzz_raw_bytes_as_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    f = tmp_path / "x.yaml"
    f.write_bytes(data)
    for argv in (
        ["simulate", *CANARY, "--traffic", str(f), "-n", "10"],
        ["verify", *CANARY, "--host", "reviews", "--observed", str(f)],
        ["check", "-f", str(f)],
    ):
        code = main(argv)
        _, err = capsys.readouterr()
        _cli_ok(code, err)


# -- constructors ---------------------------------------------------------------------------------

REQUEST_ARGS = [
    "path",
    "method",
    "headers",
    "authority",
    "scheme",
    "port",
    "namespace",
    "source_labels",
    "source_workload",
    "gateway",
    "random_value",
    "query",
]


@SETTINGS
@given(name=st.sampled_from(["host", *REQUEST_ARGS]), value=junk)
def test_fuzz_request(sim: Simulator, name: str, value: Any) -> None:
    kw = {"host": "reviews", name: value}
    try:
        r = Request(**kw)
    except IstiosimError:
        return
    # accepted: then it is the value given, of the right type, and it routes
    got = getattr(r, name)
    if name in ("namespace", "method", "scheme", "path"):
        assert isinstance(got, str) and got
    if name == "port":
        assert got is None or (type(got) is int and 0 < got < 65536)
    sim.route(r, rng=0)


@SETTINGS
@given(
    header=junk,
    n_users=junk,
    named=junk,
    prefix=junk,
    name=junk,
    which=st.integers(0, 4),
)
def test_fuzz_traffic_users(
    header: Any, n_users: Any, named: Any, prefix: Any, name: Any, which: int
) -> None:
    kw: dict[str, Any] = {"header": "end-user", "n_users": 10, "named": {"a": 0.5}}
    key = ["header", "n_users", "named", "prefix", "name"][which]
    kw[key] = [header, n_users, named, prefix, name][which]
    try:
        t = Traffic.users(Request("reviews"), **kw)
    except IstiosimError:
        return
    assert abs(sum(t.shares) - 1) < 1e-9


@SETTINGS
@given(
    arg=st.sampled_from(["path", "method", "headers", "query", "name"]),
    value=junk,
)
def test_fuzz_traffic_request(arg: str, value: Any) -> None:
    try:
        t = Traffic.request(Request("reviews"), **{arg: value})
    except IstiosimError:
        return
    t.batch(10, 1)


@SETTINGS
@given(items=junk, weight=junk)
def test_fuzz_traffic_mix(items: Any, weight: Any) -> None:
    for arg in (items, [(Request("a"), weight)], [(Request("a"), 1), (items, weight)]):
        try:
            t = Traffic.mix(arg)
        except IstiosimError:
            continue
        assert abs(sum(t.shares) - 1) < 1e-9


@SETTINGS
@given(
    arg=st.sampled_from(["n", "mode", "method", "chunk_size", "threads", "rng", "keep"]),
    value=junk,
)
def test_fuzz_simulate_arguments(sim: Simulator, arg: str, value: Any) -> None:
    kw: dict[str, Any] = {"n": 1000, "rng": 1}
    kw[arg] = value
    if arg == "n" and isinstance(value, int) and not isinstance(value, bool) and value > 10**7:
        kw["method"] = "counts"  # keep the run short: the argument itself is what is tested
    try:
        res = sim.simulate(Request("reviews"), **kw)
    except IstiosimError:
        return
    assert int(np.asarray(res.matrix).sum()) == res.n


@SETTINGS
@given(
    flag=st.sampled_from(["-n", "--seed", "--threads", "--port", "--mode", "--sampler", "-H"]),
    value=st.one_of(st.text(max_size=10), st.sampled_from(["1e400", "-1", "0", "nan", "2**64"])),
)
def test_fuzz_cli_arguments(capsys: pytest.CaptureFixture[str], flag: str, value: str) -> None:
    try:
        code = main(
            ["simulate", *CANARY, "--host", "reviews", flag, value, "-n", "100"]
            if flag != "-n"
            else ["simulate", *CANARY, "--host", "reviews", flag, value]
        )
    except SystemExit as exc:  # argparse refuses: its own usage line and exit 2
        code = int(exc.code or 0)
        _, err = capsys.readouterr()
        assert code == 2 and "Traceback" not in err and "error:" in err
        return
    _, err = capsys.readouterr()
    _cli_ok(code, err)


@SETTINGS
@given(value=junk)
def test_fuzz_load_and_traffic_constructor(value: Any) -> None:
    """``istiosim.load`` sources and namespace, ``Traffic(...)`` and ``Traffic.from_dict``."""
    calls: list[Callable[[], Any]] = [
        lambda: Traffic(value),
        lambda: Traffic.from_dict(value),
        lambda: Traffic.from_dict({"classes": [{"request": {"host": "a"}}]}, where=value),
        lambda: Traffic.constant(Request("a"), name=value),
    ]
    if not isinstance(value, str):  # a string is a path or YAML text: tested by the file tests
        calls.append(lambda: istiosim.load(value))
    calls.append(lambda: istiosim.load(str(DEMO / "bookinfo-k8s.yaml"), namespace=value))
    for call in calls:
        with contextlib.suppress(IstiosimError):
            call()
