"""Route case files: loading (with file:line errors), running, and every ``validate`` field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import istiosim
from istiosim.errors import ConfigError
from istiosim.testing import CaseInput, CaseValidate, RouteCase, load_cases, run_cases
from istiosim.testing.cases.compare import _Seeded

from conftest import DATA, KUBE, NET, examples

CASES = DATA / "cases"
BUNDLED = resources.files("istiosim") / "data" / "bookinfo"
PILOT = NET.parent.parent / "istio-pilot-testdata-config"

#: each case file and the configs it is written against (apply order)
SUITES: dict[str, list[Path | str]] = {
    "bookinfo-corpus.cases.yaml": [
        KUBE,
        NET / "destination-rule-all.yaml",
        NET / "virtual-service-all-v1.yaml",
        NET / "virtual-service-reviews-jason-v2-v3.yaml",
        NET / "virtual-service-ratings-test-delay.yaml",
        NET / "fault-injection-details-v1.yaml",
        NET / "bookinfo-gateway.yaml",
    ],
    "bookinfo-canary.cases.yaml": [
        KUBE,
        NET / "destination-rule-all.yaml",
        NET / "virtual-service-reviews-80-20.yaml",
    ],
    "bookinfo-canary-sampled.cases.yaml": [
        KUBE,
        NET / "destination-rule-all.yaml",
        NET / "virtual-service-reviews-80-20.yaml",
    ],
    "demo-canary.cases.yaml": [
        str(BUNDLED / "bookinfo-k8s.yaml"),
        str(BUNDLED / "destination.yaml"),
        str(BUNDLED / "canary-50-50.yaml"),
    ],
    "productpage-edge.cases.yaml": [
        str(BUNDLED / "bookinfo-k8s.yaml"),
        str(BUNDLED / "destination.yaml"),
        CASES / "productpage-edge.config.yaml",
    ],
    "productpage-edge-more.cases.yaml": [
        str(BUNDLED / "bookinfo-k8s.yaml"),
        str(BUNDLED / "destination.yaml"),
        CASES / "productpage-edge.config.yaml",
    ],
    "pilot-corpus.cases.yaml": [
        PILOT / "rule-redirect-injection.yaml",
        PILOT / "rule-default-route-append-headers.yaml",
    ],
}


def _sim(name: str) -> istiosim.Simulator:
    return istiosim.load(*(str(p) for p in SUITES[name]))


def test_every_case_file_has_its_configs() -> None:
    assert sorted(SUITES) == sorted(p.name for p in CASES.glob("*.cases.yaml"))


@pytest.mark.parametrize("name", sorted(SUITES))
def test_case_file_passes_against_its_configs(name: str) -> None:
    report = run_cases(_sim(name), CASES / name)
    assert report.passed, str(report)
    assert len(report.results) == sum(map(_n_requests, _written_cases(CASES / name)))


def _written_cases(path: Path) -> list[dict[str, Any]]:
    return [c for doc in yaml.safe_load_all(path.read_text()) for c in doc["tests"]]


def _n_requests(case: dict[str, Any]) -> int:
    """The requests one written case runs: every combination of its listed input values."""
    n = 1
    for k in ("host", "authority", "method", "path"):
        v = case["input"].get(k)
        n *= len(v) if isinstance(v, list) else 1
    return n


def test_case_files_state_every_validate_and_input_field() -> None:
    validate: set[str] = set()
    inputs: set[str] = set()
    source: set[str] = set()
    sampled: set[str] = set()
    for f in CASES.glob("*.cases.yaml"):
        for case in _written_cases(f):
            validate |= {"negated" if k == "not" else k for k in case["validate"]}
            inputs |= set(case["input"])
            source |= set(case["input"].get("source", {}))
            sampled |= set(case["validate"].get("sampled", {}))
    assert validate == set(CaseValidate.model_fields)
    assert inputs == set(CaseInput.model_fields)
    assert source == {"namespace", "labels", "workload", "gateway"}
    assert sampled == {"n", "seed", "tolerance", "alpha"}


def test_corpus_coverage_lists_the_unreachable_details_rule() -> None:
    """fault-injection-details-v1.yaml's rule 1 is unreachable (IST0130): no case reaches it."""
    name = "bookinfo-corpus.cases.yaml"
    report = run_cases(_sim(name), CASES / name)
    missing = [(i.kind, i.virtual_service, i.rule) for i in report.coverage.uncovered]
    assert missing == [("rule", "default/details", 1), ("match", "default/details", 1)]
    assert report.coverage.count() == (18, 20)


# -- running: what is compared ---------------------------------------------------------------

CANARY = [str(p) for p in SUITES["bookinfo-canary.cases.yaml"]]


@pytest.fixture(scope="module")
def canary() -> istiosim.Simulator:
    return istiosim.load(*CANARY)


def _run(sim: istiosim.Simulator, text: str) -> list[list[str]]:
    report = run_cases(sim, text)
    return [[str(m) for m in r.mismatches] for r in report.results]


def test_only_stated_fields_are_compared(canary: istiosim.Simulator) -> None:
    text = """
tests:
- test_name: outcome only
  input: {host: reviews, random_value: 0}
  validate: {outcome: OK}
"""
    assert _run(canary, text) == [[]]


def test_without_random_value_every_weighted_destination_is_checked(
    canary: istiosim.Simulator,
) -> None:
    text = """
tests:
- test_name: v1 only
  input: {host: reviews}
  validate: {subset: v1, rule: 0}
- test_name: wrong everywhere
  input: {host: reviews}
  validate: {rule: 3, workload: ratings-v1}
"""
    assert _run(canary, text) == [
        ["subset: expected 'v1', actual 'v2'  (when the weighted pick chooses v2 (20%))"],
        [
            "rule: expected 3, actual 0",
            "workload: expected 'ratings-v1', actual 'reviews-v1'"
            "  (when the weighted pick chooses v1 (80%))",
            "workload: expected 'ratings-v1', actual 'reviews-v2'"
            "  (when the weighted pick chooses v2 (20%))",
        ],
    ]


def test_failed_case_shows_the_trace_of_the_failing_pick(canary: istiosim.Simulator) -> None:
    report = run_cases(
        canary, "tests:\n- {test_name: t, input: {host: reviews}, validate: {subset: v1}}\n"
    )
    r = report.results[0]
    assert r.request.random_value == 99  # the last value of v2's interval [80, 100)
    assert r.decision.subset == "v2"
    text = str(r)
    assert text.startswith("FAIL t  [<string>:2:3]\n  subset: expected 'v1', actual 'v2'")
    assert "random_value % 100 = 99 → v2" in text


def test_random_value_pins_the_pick(canary: istiosim.Simulator) -> None:
    text = """
tests:
- {test_name: a, input: {host: reviews, random_value: 80}, validate: {subset: v1}}
"""
    assert _run(canary, text) == [["subset: expected 'v1', actual 'v2'"]]


def test_split_is_exact(canary: istiosim.Simulator) -> None:
    text = """
tests:
- {test_name: close, input: {host: reviews}, validate: {split: {v1: 80.001, v2: 19.999}}}
- {test_name: thirds, input: {host: reviews}, validate: {split: {v1: 2, v2: 1}}}
- {test_name: typo, input: {host: reviews}, validate: {split: {v1: 80, v22: 20}}}
- {test_name: other subset, input: {host: reviews}, validate: {split: {v1: 80, v3: 20}}}
- {test_name: by host, input: {host: reviews}, validate: {split: {reviews/v1: 4, reviews.default.svc.cluster.local/v2: 1}}}
"""
    assert _run(canary, text) == [
        ["split: expected [v1 80% (80001/100000), v2 20% (19999/100000)], actual [v1 80%, v2 20%]"],
        ["split: expected [v1 66.67% (2/3), v2 33.33% (1/3)], actual [v1 80%, v2 20%]"],
        [
            "split: expected [v1 80%, v22 20%], actual [v1 80%, v2 20%]"
            " ('v22' is not a destination of the matched rule; did you mean 'v2'?)"
        ],
        [
            "split: expected [v1 80%, v3 20%], actual [v1 80%, v2 20%]"
            " ('v3' is not a destination of the matched rule)"
        ],
        [],
    ]


def test_split_on_a_request_that_is_not_forwarded() -> None:
    sim = _sim("bookinfo-corpus.cases.yaml")
    text = """
tests:
- {test_name: gw, input: {host: x.example.com, path: /nope, source: {gateway: bookinfo-gateway}}, validate: {split: {v1: 1}}}
"""
    assert _run(sim, text) == [
        ["split: expected [v1 100%], actual no weighted destinations (outcome NR 404)"]
    ]


def test_split_key_naming_several_destinations_is_reported() -> None:
    config = (
        _service("a", ["v1"]) + _service("b", ["v1"]) + _vs("a", [("a", "v1", 50), ("b", "v1", 50)])
    )
    sim = istiosim.load(config)
    text = """
tests:
- {test_name: ambiguous, input: {host: a}, validate: {split: {v1: 100}}}
- {test_name: by host, input: {host: a}, validate: {split: {a/v1: 1, b/v1: 1}}}
"""
    assert _run(sim, text) == [
        [
            "split: expected [v1 100%], actual [a/v1 50%, b/v1 50%]"
            " ('v1' names several destinations (a/v1, b/v1))"
        ],
        [],
    ]


def test_host_accepts_short_and_qualified_names() -> None:
    sim = _sim("bookinfo-canary.cases.yaml")
    text = """
tests:
- {test_name: short, input: {host: reviews, random_value: 0}, validate: {host: reviews}}
- {test_name: ns, input: {host: reviews, random_value: 0}, validate: {host: reviews.default}}
- {test_name: svc, input: {host: reviews, random_value: 0}, validate: {host: reviews.default.svc}}
- {test_name: other, input: {host: reviews, random_value: 0}, validate: {host: ratings}}
"""
    assert _run(sim, text) == [
        [],
        [],
        [],
        ["host: expected 'ratings', actual 'reviews.default.svc.cluster.local'"],
    ]


def test_headers_of_a_request_that_is_not_forwarded() -> None:
    sim = _sim("bookinfo-corpus.cases.yaml")
    text = """
tests:
- {test_name: abort, input: {host: details}, validate: {headers: {a: b}}}
"""
    assert _run(sim, text) == [
        ["headers: expected {'a': 'b'}, actual not forwarded (outcome FI 555)"]
    ]


def test_run_cases_accepts_loaded_cases_and_a_seed(canary: istiosim.Simulator) -> None:
    cases = load_cases(CASES / "bookinfo-canary.cases.yaml")
    assert all(isinstance(c, RouteCase) for c in cases)
    assert cases[0].location is not None and cases[0].location.line == 5
    assert run_cases(canary, cases, seed=3).passed
    with pytest.raises(istiosim.InvalidArgument, match="seed"):
        run_cases(canary, cases, seed=-1)


def test_report_to_dict(canary: istiosim.Simulator) -> None:
    report = run_cases(
        canary,
        "tests:\n- {test_name: t, input: {host: reviews, random_value: 0}, validate: {subset: v2}}\n",
    )
    d = report.to_dict()
    assert d["passed"] is False
    assert d["summary"] == {"total": 1, "passed": 0, "failed": 1}
    case = d["cases"][0]
    assert case["test_name"] == "t" and case["line"] == 2
    assert case["mismatches"] == [
        {"field": "subset", "expected": "'v2'", "actual": "'v1'", "when": None}
    ]
    assert case["decision"]["destination"]["subset"] == "v1"
    assert d["coverage"]["weighted_destinations"] == {"covered": 1, "total": 2, "percent": 50.0}


# -- property: exact split checks are deterministic (no statistics inside @given) -------------


def _service(name: str, subsets: list[str]) -> str:
    out = f"""
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec: {{selector: {{app: {name}}}, ports: [{{port: 80}}]}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {name}}}
spec:
  host: {name}
  subsets:
"""
    for s in subsets:
        out += f"  - {{name: {s}, labels: {{version: {s}}}}}\n"
    for s in subsets:
        out += f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}-{s}}}
spec:
  template: {{metadata: {{labels: {{app: {name}, version: {s}}}}}}}
"""
    return out + "---\n"


def _vs(host: str, dests: list[tuple[str, str, int]]) -> str:
    route = "".join(
        f"    - destination: {{host: {h}, subset: {s}}}\n      weight: {w}\n" for h, s, w in dests
    )
    return f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {host}}}
spec:
  hosts: [{host}]
  http:
  - route:
{route}"""


@settings(max_examples=examples(25), deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=1000), min_size=2, max_size=4))
def test_split_case_with_the_configured_weights_passes(weights: list[int]) -> None:
    subsets = [f"v{i}" for i in range(len(weights))]
    sim = istiosim.load(
        _service("svc", subsets)
        + _vs("svc", [("svc", s, w) for s, w in zip(subsets, weights, strict=True)])
    )
    same = {s: w * 3 for s, w in zip(subsets, weights, strict=True)}  # scaled: the same shares
    off = dict(same, v0=same["v0"] + 1)
    cases = [
        RouteCase("same", CaseInput(host="svc"), CaseValidate(split=same)),
        RouteCase("off", CaseInput(host="svc"), CaseValidate(split=off)),
    ]
    report = run_cases(sim, cases)
    assert [r.passed for r in report.results] == [True, False]
    assert report.coverage.count("destination") == (len(weights), len(weights))


# -- loading: bad files give file:line ------------------------------------------------------


def _errors(text: str, tmp_path: Path) -> list[str]:
    f = tmp_path / "cases.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_cases(f)
    return [str(d).replace(str(f), "cases.yaml") for d in exc.value.diagnostics]


BAD = [
    (
        "tests:\n- test_name: a\n  input: {host: reviews}\n  validate: {subsett: v1}\n",
        [
            "cases.yaml:4:14: error[ISM0003] tests[0].validate.subsett: unknown field 'subsett';"
            " did you mean 'subset'? (cases)"
        ],
    ),
    (
        "tests:\n- test_name: a\n  inptu: {host: reviews}\n  validate: {subset: v1}\n",
        [
            "cases.yaml:2:3: error[ISM0008] tests[0].input: missing required field 'input' (cases)",
            "cases.yaml:3:3: error[ISM0003] tests[0].inptu: unknown field 'inptu'; did you mean"
            " 'input'? (cases)",
        ],
    ),
    (
        "tests:\n- test_name: a\n  input: {host: reviews, port: '80'}\n  validate: {rule: true}\n",
        [
            "cases.yaml:3:26: error[ISM0004] tests[0].input.port: Input should be a valid integer"
            " (got '80') (cases)",
            "cases.yaml:4:14: error[ISM0004] tests[0].validate.rule.int: Input should be a valid"
            " integer (got True) (cases)",
            "cases.yaml:4:14: error[ISM0004] tests[0].validate.rule.str: Input should be a valid"
            " string (got True) (cases)",
        ],
    ),
    (
        "tests:\n- test_name: a\n  input: {host: reviews, path: reviews}\n"
        "  validate: {delay: soon, outcome: okay}\n",
        [
            "cases.yaml:3:26: error[ISM0004] tests[0].input.path: Value error, path must start"
            " with '/' (got 'reviews') (cases)",
            "cases.yaml:4:27: error[ISM0004] tests[0].validate.outcome: Value error, outcome must"
            " be one of OK, NR, NC, UH, FI, REDIRECT, DIRECT, PASSTHROUGH (got 'okay') (cases)",
            "cases.yaml:4:14: error[ISM0004] tests[0].validate.delay: Value error, delay must be a"
            " duration such as '7s' or '500ms', or milliseconds (got 'soon') (cases)",
        ],
    ),
    (
        "tests:\n- test_name: a\n  input: {host: reviews}\n  validate: {split: {v1: -1, v2: 2}}\n",
        [
            "cases.yaml:4:14: error[ISM0004] tests[0].validate.split: Value error, weight of 'v1'"
            " must be a finite number >= 0, got -1 (got dict) (cases)"
        ],
    ),
    (
        "tests:\n- test_name: a\n  input: {host: reviews}\n  validate: {split: {v1: 0, v2: 0}}\n",
        [
            "cases.yaml:4:14: error[ISM0004] tests[0].validate.split: Value error, all split"
            " weights are zero (got dict) (cases)"
        ],
    ),
    (
        "tests:\n- test_name: a\n  input: {host: reviews}\n  validate: {split: {}}\n",
        [
            "cases.yaml:4:14: error[ISM0004] tests[0].validate.split: Value error, split is empty:"
            " name at least one subset and its weight (got dict) (cases)"
        ],
    ),
    (
        "tests:\n- test_name: a\n  input: {host: reviews, random_value: 3}\n"
        "  validate:\n    sampled: {n: 10}\n",
        [
            "cases.yaml:5:5: error[ISM0004] tests[0].validate.sampled: sampled checks a split:"
            " state 'split' too (a)",
            "cases.yaml:5:5: error[ISM0004] tests[0].validate.sampled: sampled traffic needs random"
            " draws: remove input.random_value (a)",
        ],
    ),
    (
        "tests:\n- test_name: a\n  input: {host: reviews}\n  validate:\n    split: {v1: 1}\n"
        "    sampled: {alpha: 0.5, tolerance: 0, n: 0, seed: -1}\n",
        [
            "cases.yaml:6:41: error[ISM0004] tests[0].validate.sampled.n: Input should be greater"
            " than or equal to 1 (got 0) (cases)",
            "cases.yaml:6:47: error[ISM0004] tests[0].validate.sampled.seed: Input should be"
            " greater than or equal to 0 (got -1) (cases)",
            "cases.yaml:6:27: error[ISM0004] tests[0].validate.sampled.tolerance: Input should be"
            " greater than 0 (got 0) (cases)",
            "cases.yaml:6:15: error[ISM0004] tests[0].validate.sampled.alpha: Input should be less"
            " than 0.5 (got 0.5) (cases)",
        ],
    ),
    (
        "tests:\n- {test_name: a, input: {host: r}, validate: {}}\n"
        "- {test_name: a, input: {host: r}, validate: {rule: 0}}\n",
        [
            "cases.yaml:2:36: error[ISM0008] tests[0].validate: validate states nothing to check (a)",
            "cases.yaml:3:4: error[ISM0004] tests[1].test_name: duplicate test_name 'a' (first is"
            " tests[0])",
        ],
    ),
    (
        "tests: []\n",
        [
            "cases.yaml:1:1: error[ISM0004] tests: List should have at least 1 item after"
            " validation, not 0 (got list) (cases)"
        ],
    ),
    ("", ["cases.yaml: error[ISM0007] a case file is empty; write one 'tests:' list"]),
    (  # several documents: each is checked (issue 13)
        "tests: [{test_name: a}]\n---\ntests: []\n",
        [
            "cases.yaml:1:9: error[ISM0008] tests[0].input: missing required field 'input' (cases)",
            "cases.yaml:1:9: error[ISM0008] tests[0].validate: missing required field 'validate'"
            " (cases)",
            "cases.yaml:3:1: error[ISM0004] tests: List should have at least 1 item after"
            " validation, not 0 (got list) (cases)",
        ],
    ),
    ("- a\n- b\n", ["cases.yaml:1:1: error[ISM0007] a document must be a mapping, not list"]),
    (
        "tests:\n- test_name: a\n  input: {host: reviews\n",
        [
            "cases.yaml:4:1: error[ISM0002] while parsing a flow mapping did not find expected"
            " ',' or '}'"
        ],
    ),
    (
        "tests:\n- test_name: a\n  test_name: b\n",
        [
            "cases.yaml:3:3: error[ISM0005] tests[0].test_name: duplicate key 'test_name' (first"
            " at line 2)"
        ],
    ),
    (
        "tests:\n- test_name: a\n  input: {host: reviews, headers: {x: 1}}\n  validate: {rule: 0}\n",
        [
            "cases.yaml:3:36: error[ISM0004] tests[0].input.headers.x.str: Input should be a valid"
            " string (got 1) (cases)",
            "cases.yaml:3:36: error[ISM0004] tests[0].input.headers.x.list[str]: Input should be a"
            " valid list (got 1) (cases)",
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=range(len(BAD)))
def test_bad_case_files_give_file_and_line(text: str, expected: list[str], tmp_path: Path) -> None:
    assert _errors(text, tmp_path) == expected


def test_missing_case_file() -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: error\[ISM0001\] cannot read file"):
        load_cases("nope.yaml")


def test_every_validate_field_can_fail_with_its_message() -> None:
    """The mirror of the case files: each field, wrong, fails with expected vs actual."""
    sim = _sim("productpage-edge.cases.yaml")
    api = "{host: productpage, path: /api/v1/products, headers: {x-debug: '1'}}"
    text = f"""
tests:
- {{test_name: outcome, input: {{host: productpage, path: /old}}, validate: {{outcome: OK}}}}
- {{test_name: status, input: {{host: productpage, path: /old}}, validate: {{status: 301}}}}
- {{test_name: vs, input: {{host: productpage}}, validate: {{virtual_service: default/reviews}}}}
- {{test_name: rule, input: {{host: productpage}}, validate: {{rule: 0}}}}
- {{test_name: rule name, input: {{host: productpage}}, validate: {{rule: health}}}}
- {{test_name: match, input: {{host: productpage}}, validate: {{match: 0}}}}
- {{test_name: host, input: {{host: productpage}}, validate: {{host: reviews}}}}
- {{test_name: subset, input: {{host: productpage}}, validate: {{subset: v2}}}}
- {{test_name: cluster, input: {{host: productpage}}, validate: {{cluster: outbound|80|v1|x}}}}
- {{test_name: workload, input: {{host: productpage}}, validate: {{workload: null}}}}
- {{test_name: path, input: {api}, validate: {{path: /api/v1/products}}}}
- {{test_name: authority, input: {api}, validate: {{authority: productpage}}}}
- {{test_name: redirect, input: {{host: productpage, path: /old}}, validate: {{redirect: /new}}}}
- {{test_name: body, input: {{host: productpage, path: /healthz}}, validate: {{body: fine}}}}
- {{test_name: timeout, input: {api}, validate: {{timeout: 1s}}}}
- {{test_name: headers, input: {api}, validate: {{headers: {{x-debug: '1', x-api-version: null}}}}}}
- {{test_name: response, input: {api}, validate: {{response_headers: {{server: gone, cache-control: null}}}}}}
- {{test_name: delay, input: {{host: productpage}}, validate: {{delay: 2s}}}}
- {{test_name: split, input: {{host: productpage}}, validate: {{split: {{v1: 1, v2: 1}}}}}}
"""
    got = dict(
        zip(
            [c.name for c in load_cases(text)],
            _run(sim, text),
            strict=True,
        )
    )
    assert got == {
        "outcome": ["outcome: expected 'OK', actual 'REDIRECT'"],
        "status": ["status: expected 301, actual 308"],
        "vs": ["virtual_service: expected 'default/reviews', actual 'default/productpage'"],
        "rule": ["rule: expected 0, actual 4"],
        "rule name": ["rule: expected 'health', actual 'default'"],
        "match": ["match: expected 0, actual null"],
        "host": ["host: expected 'reviews', actual 'productpage.default.svc.cluster.local'"],
        "subset": ["subset: expected 'v2', actual 'v1'"],
        "cluster": [
            "cluster: expected 'outbound|80|v1|x',"
            " actual 'outbound|9080|v1|productpage.default.svc.cluster.local'"
        ],
        "workload": ["workload: expected null, actual 'productpage-v1'"],
        "path": ["path: expected '/api/v1/products', actual '/v1/products'"],
        "authority": ["authority: expected 'productpage', actual 'api.productpage.internal'"],
        "redirect": ["redirect: expected '/new', actual 'http://bookinfo.example.com/productpage'"],
        "body": ["body: expected 'fine', actual 'ok'"],
        "timeout": ["timeout: expected '1s', actual '3s'"],
        "headers": [
            "headers.x-debug: expected '1', actual null",
            "headers.x-api-version: expected null, actual '1'",
        ],
        "response": [
            "response_headers.server: expected 'gone', actual null",
            "response_headers.cache-control: expected null, actual 'no-store'",
        ],
        "delay": ["delay: expected 2000 ms, actual no delay"],
        "split": [
            "split: expected [v1 50%, v2 50%], actual [v1 100%]"
            " ('v2' is not a destination of the matched rule)"
        ],
    }


def test_sampled_split_failure_carries_the_assert_split_message(
    canary: istiosim.Simulator,
) -> None:
    """Too few requests to show ±1 pp: the case fails with assert_split's own explanation."""
    from istiosim.testing import SplitAssertionError, assert_split

    text = """
tests:
- test_name: too few
  input: {host: reviews}
  validate: {split: {v1: 80, v2: 20}, sampled: {n: 2000, seed: 5}}
"""
    [mismatches] = [r.mismatches for r in run_cases(canary, text).results]
    counts = canary.simulate(istiosim.Request("reviews"), n=2000, rng=5).subset_counts()
    with pytest.raises(SplitAssertionError) as exc:
        assert_split(
            _Seeded(counts, 5),
            {"v1": 80, "v2": 20},
            tolerance=0.01,
            alpha=1e-6,
        )
    assert [str(m) for m in mismatches] == [
        "sampled: expected split [v1 80%, v2 20%], actual:\n"
        + "\n".join(f"    {line}" for line in str(exc.value).splitlines())
    ]
    assert "too few requests to show the split is within ±1.00 pp" in str(exc.value)
    assert "seed = 5; reproduce: run the simulation again with rng=5" in str(exc.value)


def test_sampled_split_default_n_passes(canary: istiosim.Simulator) -> None:
    text = """
tests:
- test_name: default n
  input: {host: reviews}
  validate: {split: {v1: 0.8, v2: 0.2}, sampled: {seed: 11}}
"""
    assert run_cases(canary, text).passed


@pytest.mark.parametrize("name", sorted(SUITES))
def test_case_files_route_the_same_on_both_engines(name: str) -> None:
    """DESIGN: route cases run against both engines. The runner uses the scalar engine (for its
    trace); the vector engine must give the same decision for each case's request and draws."""
    import numpy as np

    from istiosim.batch import RequestBatch
    from istiosim.engine import route_batch

    sim = _sim(name)
    report = run_cases(sim, CASES / name)
    requests = [r.request for r in report.results]
    draws = np.array([sim.draws(rng=0)] * len(requests), dtype=np.uint64)
    batch = route_batch(sim.plan, RequestBatch.from_requests(requests), draws)
    for i, r in enumerate(report.results):
        assert batch[i] == r.decision, r.name
