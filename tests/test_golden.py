"""Golden files: what users read, byte for byte.

``Decision.explain()`` text (``tests/golden/explain/``) and the CLI's stdout, stderr and exit code
(``tests/golden/cli/``) for requests on the bundled Bookinfo configs, the corpus and a few inputs
of ``tests/golden/inputs/``. Paths in outputs are replaced by placeholders (``{demo}``,
``{corpus}``, ``{data}``, ``{golden}``, ``{repo}``) so the files do not depend on the checkout.

After an intended change of output, regenerate and review the diff:

    python -m pytest tests/test_golden.py --update-golden
    git diff tests/golden

Without ``--update-golden`` a missing golden file is a failure and a mismatch shows a unified diff.
"""

from __future__ import annotations

import difflib
import shlex
from pathlib import Path
from typing import Any

import pytest

import istiosim
from istiosim import Request
from istiosim.cli import main

from conftest import CORPUS, DATA, ROOT

GOLDEN = Path(__file__).parent / "golden"
INPUTS = GOLDEN / "inputs"
DEMO = Path(istiosim.__file__).parent / "data" / "bookinfo"

#: placeholder → path, the most specific first (the corpus lives beside the checkout)
PLACES = {"demo": DEMO, "golden": INPUTS, "data": DATA, "corpus": CORPUS, "repo": ROOT}


def expand(text: str) -> str:
    return text.format(**{k: str(v) for k, v in PLACES.items()})


def normalise(text: str) -> str:
    for name, path in PLACES.items():
        text = text.replace(str(path), "{" + name + "}")
    return text


def check_golden(name: str, actual: str, update: bool) -> None:
    """Compare ``actual`` with ``tests/golden/<name>`` (or write it under ``--update-golden``)."""
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    if not path.is_file():
        pytest.fail(
            f"missing golden file tests/golden/{name}; create it with "
            "`python -m pytest tests/test_golden.py --update-golden`",
            pytrace=False,
        )
    expected = path.read_bytes().decode("utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"tests/golden/{name}",
            tofile="actual",
        )
        pytest.fail(
            "output differs from the golden file (--update-golden rewrites it):\n" + "".join(diff),
            pytrace=False,
        )


# -- Decision.explain() ----------------------------------------------------------------------

DEMO_BASE = ("{demo}/bookinfo-k8s.yaml", "{demo}/destination.yaml")
CORPUS_BASE = (
    "{corpus}/istio-bookinfo/platform-kube/bookinfo.yaml",
    "{corpus}/istio-bookinfo/networking/destination-rule-all.yaml",
)
NET = "{corpus}/istio-bookinfo/networking/"
PILOT = "{corpus}/istio-pilot-testdata-config/"
JASON = {"end-user": "jason"}

#: name → (config files, Request arguments, draws seed); route with trace=True, then explain()
EXPLAIN: dict[str, tuple[tuple[str, ...], dict[str, Any], int]] = {
    "demo-all-v1-reviews": ((*DEMO_BASE, "{demo}/virtual-service.yaml"), {"host": "reviews"}, 0),
    "demo-all-v1-productpage": (
        (*DEMO_BASE, "{demo}/virtual-service.yaml"),
        {"host": "productpage", "path": "/productpage", "port": 9080},
        0,
    ),
    "demo-blue-green-v2": (
        (*DEMO_BASE, "{demo}/blue-green-v2.yaml"),
        {"host": "reviews", "path": "/reviews/0"},
        0,
    ),
    "demo-canary-rv49": (
        (*DEMO_BASE, "{demo}/canary-50-50.yaml"),
        {"host": "reviews", "random_value": 49},
        0,
    ),
    "demo-canary-rv50": (
        (*DEMO_BASE, "{demo}/canary-50-50.yaml"),
        {"host": "reviews", "random_value": 50},
        0,
    ),
    "demo-jason-v3": (
        (*DEMO_BASE, "{demo}/header-jason-v3.yaml"),
        {"host": "reviews", "path": "/reviews/0", "headers": JASON, "port": 9080},
        0,
    ),
    "demo-jason-v3-no-header": (
        (*DEMO_BASE, "{demo}/header-jason-v3.yaml"),
        {"host": "reviews", "path": "/reviews/0", "port": 9080},
        0,
    ),
    "demo-jason-v3-capital-jason": (
        (*DEMO_BASE, "{demo}/header-jason-v3.yaml"),
        {"host": "reviews", "headers": {"end-user": "Jason"}},
        0,
    ),
    "demo-no-vs-ratings": (DEMO_BASE, {"host": "ratings", "path": "/ratings/0"}, 3),
    "corpus-reviews-80-20-rv80": (
        (*CORPUS_BASE, NET + "virtual-service-reviews-80-20.yaml"),
        {"host": "reviews", "random_value": 80},
        0,
    ),
    "corpus-ratings-abort-jason": (
        (
            *CORPUS_BASE,
            NET + "virtual-service-all-v1.yaml",
            NET + "virtual-service-ratings-test-abort.yaml",
        ),
        {"host": "ratings", "path": "/ratings/0", "headers": JASON},
        0,
    ),
    "corpus-ratings-delay-jason": (
        (
            *CORPUS_BASE,
            NET + "virtual-service-all-v1.yaml",
            NET + "virtual-service-ratings-test-delay.yaml",
        ),
        {
            "host": "ratings",
            "path": "/ratings/0",
            "headers": JASON,
            "source_workload": "reviews-v2",
        },
        0,
    ),
    "corpus-details-fault": (
        (*CORPUS_BASE, NET + "fault-injection-details-v1.yaml"),
        {"host": "details", "path": "/details/0"},
        0,
    ),
    "corpus-ratings-db-no-pods": (
        (*CORPUS_BASE, NET + "virtual-service-ratings-db.yaml"),
        {"host": "ratings"},
        0,
    ),
    "corpus-gateway-productpage": (
        ("{corpus}/istio-bookinfo/platform-kube/bookinfo.yaml", NET + "bookinfo-gateway.yaml"),
        {
            "host": "bookinfo.example.com",
            "path": "/productpage",
            "gateway": "default/bookinfo-gateway",
        },
        0,
    ),
    "corpus-gateway-404": (
        ("{corpus}/istio-bookinfo/platform-kube/bookinfo.yaml", NET + "bookinfo-gateway.yaml"),
        {"host": "bookinfo.example.com", "path": "/admin", "gateway": "default/bookinfo-gateway"},
        0,
    ),
    "pilot-redirect": (
        (PILOT + "rule-redirect-injection.yaml",),
        {
            "host": "redirect.test.istio.io",
            "headers": {"testredirect": "enabled"},
            "namespace": "testns",
        },
        0,
    ),
    "pilot-fault-source-labels": (
        (PILOT + "rule-fault-injection.yaml",),
        {
            "host": "fault.test.istio.io",
            "headers": {"version": "v2"},
            "namespace": "testns",
            "source_labels": {"version": "v1"},
        },
        0,
    ),
    "pilot-regex-route": (
        (PILOT + "rule-regex-route.yaml",),
        {"host": "regex.extsvc.com", "path": "/bar", "namespace": "testns"},
        0,
    ),
    "pilot-append-headers": (
        (PILOT + "rule-default-route-append-headers.yaml",),
        {"host": "appendh.test.istio.io", "namespace": "testns"},
        0,
    ),
    "pilot-cors-preflight": (
        (PILOT + "rule-default-route-cors-policy.yaml",),
        {
            "host": "cors.test.istio.io",
            "method": "OPTIONS",
            "headers": {"origin": "http://foo.example", "access-control-request-method": "POST"},
            "namespace": "testns",
        },
        0,
    ),
    "edge-rewrite-headers": (
        (*DEMO_BASE, "{data}/cases/productpage-edge.config.yaml"),
        {"host": "productpage", "path": "/api/v1/products", "headers": {"x-debug": "1"}},
        0,
    ),
    "edge-redirect": (
        (*DEMO_BASE, "{data}/cases/productpage-edge.config.yaml"),
        {"host": "productpage", "path": "/old/index.html?u=normal"},
        0,
    ),
    "edge-direct-response": (
        (*DEMO_BASE, "{data}/cases/productpage-edge.config.yaml"),
        {"host": "productpage", "path": "/healthz", "scheme": "https"},
        0,
    ),
    "delegate-v2": (
        (*DEMO_BASE, "{golden}/delegate-mirror.yaml"),
        {"host": "reviews", "path": "/reviews/v2/x"},
        0,
    ),
    "delegate-mirrors-jason": (
        (*DEMO_BASE, "{golden}/delegate-mirror.yaml"),
        {"host": "reviews", "path": "/reviews/1", "headers": JASON},
        0,
    ),
    "regex-rewrite-retries-cors": (
        (*DEMO_BASE, "{golden}/delegate-mirror.yaml"),
        {"host": "reviews", "path": "/legacy/42"},
        0,
    ),
    "weighted-mirror": (
        (*DEMO_BASE, "{golden}/delegate-mirror.yaml"),
        {"host": "reviews", "path": "/other", "random_value": 95},
        4,
    ),
}


def _describe(files: tuple[str, ...], kwargs: dict[str, Any], seed: int) -> str:
    lines = [f"# config: {f}" for f in files]
    lines.append("# request: " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()))
    lines.append(f"# draws: rng={seed}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", list(EXPLAIN))
def test_explain(name: str, update_golden: bool) -> None:
    files, kwargs, seed = EXPLAIN[name]
    sim = istiosim.load(*(expand(f) for f in files))
    d = sim.route(Request(**kwargs), rng=seed, trace=True)
    text = _describe(files, kwargs, seed) + normalise(d.explain()) + "\n"
    check_golden(f"explain/{name}.txt", text, update_golden)


# -- the CLI ---------------------------------------------------------------------------------

DEMO_F = "-f {demo}/bookinfo-k8s.yaml -f {demo}/destination.yaml"
CORPUS_F = (
    "-f {corpus}/istio-bookinfo/platform-kube/bookinfo.yaml"
    " -f {corpus}/istio-bookinfo/networking/destination-rule-all.yaml"
)
CANARY_F = CORPUS_F + f" -f {NET}virtual-service-reviews-80-20.yaml"
EDGE_F = DEMO_F + " -f {data}/cases/productpage-edge.config.yaml"
COUNTS = "{data}/counts/"
CASES = "{data}/cases/"

#: name → command line (after ``istiosim``), with placeholders for paths (``{{demo}}`` in an
#: f-string is the placeholder ``{demo}``). Every command that draws passes ``--seed`` or
#: ``--random-value`` (or uses an exact mode): without a seed the pod picks are random.
CLI: dict[str, str] = {
    # route
    "route-all-v1": f"route {DEMO_F} -f {{demo}}/virtual-service.yaml --host reviews --seed 0",
    "route-all-v1.json": f"route {DEMO_F} -f {{demo}}/virtual-service.yaml --host reviews --seed 0 --format json",
    "route-blue-green": f"route {DEMO_F} -f {{demo}}/blue-green-v2.yaml --host reviews --path /reviews/0 --seed 0",
    "route-canary-rv49": f"route {DEMO_F} -f {{demo}}/canary-50-50.yaml --host reviews --random-value 49 --seed 0",
    "route-canary-rv50.json": f"route {DEMO_F} -f {{demo}}/canary-50-50.yaml --host reviews --random-value 50 --seed 0 --format json",
    "route-jason": f"route {DEMO_F} -f {{demo}}/header-jason-v3.yaml --host reviews -H 'end-user: jason' --seed 0",
    "route-jason.json": f"route {DEMO_F} -f {{demo}}/header-jason-v3.yaml --host reviews -H 'end-user: jason' --seed 0 --format json",
    "route-not-jason": f"route {DEMO_F} -f {{demo}}/header-jason-v3.yaml --host reviews --path /reviews/0 --port 9080 --seed 0",
    "route-capital-jason": f"route {DEMO_F} -f {{demo}}/header-jason-v3.yaml --host reviews -H end-user=Jason --seed 0",
    "route-no-vs-ratings": f"route {DEMO_F} --host ratings --seed 2",
    "route-corpus-80-20-rv80": f"route {CANARY_F} --host reviews --random-value 80 --seed 0",
    "route-corpus-abort.json": (
        f"route {CORPUS_F} -f {NET}virtual-service-all-v1.yaml -f {NET}virtual-service-ratings-test-abort.yaml"
        " --host ratings --path /ratings/0 -H 'end-user: jason' --seed 0 --format json"
    ),
    "route-corpus-delay": (
        f"route {CORPUS_F} -f {NET}virtual-service-all-v1.yaml -f {NET}virtual-service-ratings-test-delay.yaml"
        " --host ratings -H 'end-user: jason' --source-workload reviews-v2 --seed 0"
    ),
    "route-corpus-ratings-db-503": f"route {CORPUS_F} -f {NET}virtual-service-ratings-db.yaml --host ratings --seed 0",
    "route-gateway.json": (
        f"route -f {{corpus}}/istio-bookinfo/platform-kube/bookinfo.yaml -f {NET}bookinfo-gateway.yaml"
        " --host bookinfo.example.com --gateway default/bookinfo-gateway --path /productpage --seed 0 --format json"
    ),
    "route-gateway-404": (
        f"route -f {{corpus}}/istio-bookinfo/platform-kube/bookinfo.yaml -f {NET}bookinfo-gateway.yaml"
        " --host bookinfo.example.com --gateway default/bookinfo-gateway --path /admin"
    ),
    "route-pilot-redirect.json": (
        f"route -f {PILOT}rule-redirect-injection.yaml --host redirect.test.istio.io"
        " -H 'testredirect: enabled' --namespace testns --seed 0 --format json"
    ),
    "route-pilot-fault": (
        f"route -f {PILOT}rule-fault-injection.yaml --host fault.test.istio.io -H 'version: v2'"
        " --source-label version=v1 --namespace testns --seed 0"
    ),
    "route-pilot-weighted": (
        f"route -f {PILOT}rule-weighted-route.yaml --host c-weighted.extsvc.com --namespace testns"
        " --random-value 75 --seed 0"
    ),
    "route-edge-rewrite": f"route {EDGE_F} --host productpage --path /api/v1/products -H 'x-debug: 1' --seed 0",
    "route-edge-redirect.json": f"route {EDGE_F} --host productpage --path '/old/index.html?u=normal' --seed 0 --format json",
    "route-edge-slow-testers": (
        f"route {EDGE_F} --host productpage -H 'x-test: slow' --source-workload reviews-v1 --seed 0"
    ),
    "route-delegate-mirrors.json": (
        f"route {DEMO_F} -f {{golden}}/delegate-mirror.yaml --host reviews --path /reviews/1"
        " -H 'end-user: jason' --seed 0 --format json"
    ),
    "route-weighted-mirror": (
        f"route {DEMO_F} -f {{golden}}/delegate-mirror.yaml --host reviews --path /other --seed 4"
    ),
    "route-error-missing-file": "route -f {repo}/no-such-file.yaml --host reviews",
    "route-error-bad-header": f"route {DEMO_F} --host reviews -H no-colon",
    "route-error-invalid-config": "route -f {data}/invalid/two-errors-one-file.yaml --host reviews",
    # check
    "check-demo": f"check {DEMO_F} -f {{demo}}/header-jason-v3.yaml",
    "check-corpus-errors": f"check {CORPUS_F} -f {NET}virtual-service-all-v1.yaml",
    "check-corpus-errors.json": f"check {CORPUS_F} -f {NET}virtual-service-all-v1.yaml --format json",
    "check-warnings-only.json": f"check -f {{corpus}}/istio-bookinfo/platform-kube/bookinfo.yaml -f {NET}fault-injection-details-v1.yaml --format json",
    "check-gateway-all": f"check -f {{corpus}}/istio-bookinfo/platform-kube/bookinfo.yaml -f {NET}bookinfo-gateway.yaml --all",
    "check-analyzer-destinationrules": "check -f {corpus}/istio-analyzer-testdata/virtualservice_destinationrules.yaml",
    "check-analyzer-conflicting-hosts.json": (
        "check -f {corpus}/istio-analyzer-testdata/virtualservice_conflictingmeshgatewayhosts.yaml --format json"
    ),
    "check-analyzer-dupmatches.json": (
        "check -f {corpus}/istio-analyzer-testdata/virtualservice_dupmatches.yaml"
        " -f {corpus}/istio-analyzer-testdata/virtualservice_overlappingmatches.yaml --format json"
    ),
    "check-analyzer-gateways": "check -f {corpus}/istio-analyzer-testdata/virtualservice_gateways.yaml",
    "check-pilot-folder": "check -f {corpus}/istio-pilot-testdata-config",
    "check-invalid-two-errors": "check -f {data}/invalid/two-errors-one-file.yaml",
    "check-invalid-unknown-field.json": "check -f {data}/invalid/unknown-field-weigth.yaml --format json",
    # simulate
    "simulate-jason-v3": f"simulate {DEMO_F} -f {{demo}}/header-jason-v3.yaml --host reviews -n 100000 --seed 1",
    "simulate-canary.json": f"simulate {DEMO_F} -f {{demo}}/canary-50-50.yaml --host reviews -n 10000 --seed 7 --format json",
    "simulate-exact": f"simulate {CANARY_F} --host reviews -n 1e6 --mode exact",
    "simulate-stratified.json": f"simulate {CANARY_F} --host reviews -n 1001 --mode stratified --format json",
    "simulate-traffic": f"simulate {DEMO_F} -f {{demo}}/header-jason-v3.yaml --traffic {{golden}}/traffic.yaml -n 120000 --seed 3",
    "simulate-traffic-vector.json": (
        f"simulate {DEMO_F} -f {{demo}}/header-jason-v3.yaml --traffic {{golden}}/traffic.yaml"
        " -n 12000 --seed 3 --sampler vector --threads 2 --format json"
    ),
    "simulate-faults": (
        f"simulate {CORPUS_F} -f {NET}virtual-service-all-v1.yaml -f {NET}virtual-service-ratings-test-abort.yaml"
        " --host ratings -H 'end-user: jason' -n 5000 --seed 11"
    ),
    "simulate-error-no-host": f"simulate {DEMO_F} -n 5",
    # test
    "test-bookinfo-canary": f"test {CASES}bookinfo-canary.cases.yaml {CANARY_F}",
    "test-bookinfo-canary.json": f"test {CASES}bookinfo-canary.cases.yaml {CANARY_F} --format json",
    "test-bookinfo-corpus": (
        f"test {CASES}bookinfo-corpus.cases.yaml {CORPUS_F} -f {NET}virtual-service-all-v1.yaml"
        f" -f {NET}virtual-service-reviews-jason-v2-v3.yaml -f {NET}virtual-service-ratings-test-delay.yaml"
        f" -f {NET}fault-injection-details-v1.yaml -f {NET}bookinfo-gateway.yaml"
    ),
    "test-demo-canary-details": f"test {CASES}demo-canary.cases.yaml {DEMO_F} -f {{demo}}/canary-50-50.yaml --details",
    "test-pilot-corpus.json": (
        f"test {CASES}pilot-corpus.cases.yaml -f {PILOT}rule-redirect-injection.yaml"
        f" -f {PILOT}rule-default-route-append-headers.yaml --format json"
    ),
    "test-productpage-edge": f"test {CASES}productpage-edge.cases.yaml {EDGE_F}",
    "test-failing": f"test {{golden}}/demo-canary-failing.cases.yaml {DEMO_F} -f {{demo}}/blue-green-v2.yaml --fail-under 90",
    "test-failing.json": f"test {{golden}}/demo-canary-failing.cases.yaml {DEMO_F} -f {{demo}}/blue-green-v2.yaml --format json",
    "test-fail-under": f"test {{golden}}/jason-only.cases.yaml {DEMO_F} -f {{demo}}/header-jason-v3.yaml --fail-under 80",
    "test-fail-under-details.json": (
        f"test {{golden}}/jason-only.cases.yaml {DEMO_F} -f {{demo}}/header-jason-v3.yaml --fail-under 80 --details --format json"
    ),
    "test-sampled": f"test {CASES}bookinfo-canary-sampled.cases.yaml {CANARY_F} --seed 4",
    # verify
    "verify-ok": f"verify {CANARY_F} --host reviews --observed {COUNTS}reviews-80-20-ok.json",
    "verify-rows.json": f"verify {CANARY_F} --host reviews --observed {COUNTS}reviews-80-20-rows.json --format json",
    "verify-srm": f"verify {CANARY_F} --host reviews --observed {COUNTS}reviews-80-20-srm.json",
    "verify-not-equivalent.json": (
        f"verify {CANARY_F} --host reviews --observed {COUNTS}reviews-80-20-srm.json --srm-alpha 1e-300 --format json"
    ),
    "verify-small": f"verify {CANARY_F} --host reviews --observed {COUNTS}reviews-80-20-small.json --tolerance 0.02",
    "verify-error-unknown-subset": f"verify {CANARY_F} --host reviews --observed {COUNTS}reviews-80-20-unknown.json",
    "verify-error-no-split": f"verify {CANARY_F} --host ratings --observed {COUNTS}reviews-80-20-ok.json",
    # demo
    "demo": "demo",
    "demo-seed-7": "demo --seed 7",
    # rollout
    "rollout-flagger-podinfo": "rollout -f {data}/rollouts/flagger-podinfo.yaml --rate 200/s",
    "rollout-flagger-ab": "rollout -f {data}/rollouts/flagger-ab.yaml --rate 50",
    "rollout-argo-header-route": "rollout -f {data}/rollouts/argo-header-route.yaml --rate 200/s",
    "rollout-argo-subset-jason": (
        "rollout -f {data}/rollouts/argo-subset.yaml --traffic {data}/rollouts/traffic-jason.yaml"
        " --rate 200/s --tolerance 0.02"
    ),
    "rollout-argo-subset.json": "rollout -f {data}/rollouts/argo-subset.yaml --rate 10 --format json",
    "rollout-error-missing-vs": "rollout -f {golden}/rollout-missing-vs.yaml",
    # diff: the Bookinfo task's steps, each applied over all-v1 as the task does
    "diff-all-v1-to-blue-green": f"diff {DEMO_F} --before {{demo}}/virtual-service.yaml --after {{demo}}/virtual-service.yaml --after {{demo}}/blue-green-v2.yaml",
    "diff-blue-green-to-canary": f"diff {DEMO_F} -f {{demo}}/virtual-service.yaml --before {{demo}}/blue-green-v2.yaml --after {{demo}}/canary-50-50.yaml",
    "diff-canary-to-jason": f"diff {DEMO_F} -f {{demo}}/virtual-service.yaml --before {{demo}}/canary-50-50.yaml --after {{demo}}/header-jason-v3.yaml",
    "diff-canary-to-jason.json": f"diff {DEMO_F} -f {{demo}}/virtual-service.yaml --before {{demo}}/canary-50-50.yaml --after {{demo}}/header-jason-v3.yaml --format json",
    # without all-v1 underneath, the other services lose their VirtualServices: all classes move
    "diff-blue-green-alone": f"diff {DEMO_F} --before {{demo}}/virtual-service.yaml --after {{demo}}/blue-green-v2.yaml",
    "diff-unchanged": f"diff {DEMO_F} --before {{demo}}/canary-50-50.yaml --after {{demo}}/canary-50-50.yaml",
    "diff-corpus-delay": f"diff {CORPUS_F} -f {NET}virtual-service-all-v1.yaml --before {NET}virtual-service-all-v1.yaml --after {NET}virtual-service-ratings-test-delay.yaml",
    # journey: Istio's fault-injection task (https://istio.io/latest/docs/tasks/traffic-management/fault-injection/)
    "journey-fault-delay-jason": (
        f"journey {CORPUS_F} -f {NET}virtual-service-all-v1.yaml -f {NET}virtual-service-reviews-test-v2.yaml"
        f" -f {NET}virtual-service-ratings-test-delay.yaml --app bookinfo --entry productpage -H 'end-user: jason' --seed 0"
    ),
    "journey-fault-abort-jason.json": (
        f"journey {CORPUS_F} -f {NET}virtual-service-all-v1.yaml -f {NET}virtual-service-reviews-test-v2.yaml"
        f" -f {NET}virtual-service-ratings-test-abort.yaml --app bookinfo -H 'end-user: jason' --seed 0 --format json"
    ),
    "journey-canary-exact": f"journey {DEMO_F} -f {{demo}}/canary-50-50.yaml --app bookinfo --mode exact",
}


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refusals
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", list(CLI))
def test_cli(name: str, capsys: pytest.CaptureFixture[str], update_golden: bool) -> None:
    command = CLI[name]
    code, out, err = run_cli(capsys, [expand(a) for a in shlex.split(command)])
    text = (
        f"$ istiosim {command}\n[exit {code}]\n[stdout]\n{normalise(out)}[stderr]\n{normalise(err)}"
    )
    check_golden(f"cli/{name}.txt", text, update_golden)


def test_every_golden_file_has_a_case() -> None:
    """A golden file left behind by a renamed or removed case would pin nothing."""
    wanted = {f"explain/{n}.txt" for n in EXPLAIN} | {f"cli/{n}.txt" for n in CLI}
    present = {
        p.relative_to(GOLDEN).as_posix()
        for p in GOLDEN.rglob("*")
        if p.is_file() and p.parent != INPUTS and p.name != ".gitattributes"
    }
    assert sorted(present - wanted) == []
