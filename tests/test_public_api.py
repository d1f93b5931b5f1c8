"""The public surface and the import layering of DESIGN.md, enforced.

Imports point down: errors → config/mesh/request/weights → loader/plan → compiler/results →
engine → simulator/stats → analysis/display → testing → cli and the façade. Only the loader's
yaml module imports yaml; the engines never see config, loader, mesh, compiler, pydantic or yaml.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import istiosim

PKG = Path(istiosim.__file__).parent

LAYER = {
    "errors": 0,
    "_lazy": 0,
    "_gc": 0,
    "_display": 0,
    "config": 1,
    "config.base": 1,
    "config.kubernetes": 1,
    "config.networking": 1,
    "config.serviceentry": 1,
    "config.listeners": 1,
    "config.security": 1,
    "config.rollouts": 1,
    "config.inputs": 1,
    "config.app": 1,
    "config.kinds": 1,
    "config.gateway_api": 1,
    "mesh": 1,
    "request": 1,
    "batch": 1,
    "weights": 1,
    "loader": 2,
    "loader.assemble": 2,
    "loader.errors": 2,
    "loader.yaml": 2,
    "plan": 2,
    "lookup": 2,
    "rule_table": 2,
    "compiler": 3,
    "compiler.collector": 3,
    "compiler.webhook": 3,
    "compiler.webhook.values": 3,
    "compiler.webhook.virtualservice": 3,
    "compiler.webhook.httproute": 3,
    "compiler.webhook.destinationrule": 3,
    "compiler.webhook.gateway": 3,
    "compiler.virtualservice": 3,
    "compiler.delegation": 3,
    "compiler.destinationrule": 3,
    "compiler.gateway": 3,
    "compiler.sidecar": 3,
    "results": 3,
    "engine": 4,
    "engine.scalar": 4,
    "engine.vector": 4,
    "engine.draws": 4,
    "engine.match": 4,
    "engine.program": 4,
    "engine.leaf": 4,
    "engine.decision": 4,
    "engine.analytic": 4,
    "engine.cors": 4,
    "traffic": 4,
    "simulator": 5,
    "simulate": 5,
    "sessions": 5,
    "stats": 5,
    "stats.inputs": 5,
    "stats.binomial": 5,
    "stats.render": 5,
    "stats.results": 5,
    "stats.intervals": 5,
    "stats.goodness_of_fit": 5,
    "stats.equivalence": 5,
    "stats.sequential": 5,
    "display": 6,
    "display.table": 6,
    "display.text": 6,
    "display.html": 6,
    "display.frames": 6,
    "display.objects": 6,
    "display.plot": 6,
    "display.whatif": 6,
    "display.changes": 6,
    "analysis": 4,
    "analysis.registry": 4,
    "analysis.subject": 4,
    "analysis.destinations": 4,
    "analysis.pods": 4,
    "analysis.conflicts": 4,
    "analysis.rule_order": 4,
    "analysis.deprecations": 4,
    "analysis.gateways": 4,
    "analysis.ingress": 4,
    "analysis.jwt_claims": 4,
    "analysis.sidecars": 4,
    "analysis.tls_origination": 4,
    "analysis.rollouts_lint": 4,
    "analysis.rollout": 7,
    "analysis.rollout_writers": 4,
    "analysis.witness": 4,
    "analysis.classes": 4,
    "analysis.reachability": 4,
    "analysis.diff": 7,
    "journey": 7,
    "journey.model": 7,
    "journey.run": 7,
    "journey.result": 7,
    "journey.vector": 7,
    "testing": 7,
    "testing.cases": 7,
    "testing.cases.compare": 7,
    "testing.cases.coverage": 7,
    "testing.cases.models": 7,
    "testing.cases.run": 7,
    "testing.cases.formats": 7,
    "testing.cases.ci": 7,
    "testing.routes": 7,
    "testing.split": 7,
    "testing.strategies": 7,
    "cli": 8,
    "cli.__main__": 9,
    "cli.common": 8,
    "cli.check": 8,
    "cli.demo": 8,
    "cli.route": 8,
    "cli.simulate": 8,
    "cli.test": 8,
    "cli.verify": 8,
    "cli.rollout": 8,
    "cli.diff": 8,
    "cli.journey": 8,
    "__init__": 9,
    "__main__": 9,
}
#: same-layer imports that are part of one stage
SAME_STAGE = {
    ("plan", "lookup"),
    ("lookup", "plan"),
    ("plan", "rule_table"),
    ("rule_table", "plan"),
    ("engine", "engine.scalar"),
    ("engine", "engine.vector"),
    ("engine.vector", "engine.scalar"),
    ("batch", "request"),
    ("simulator", "simulate"),
    ("simulator", "sessions"),
    ("sessions", "simulate"),
    ("analysis.reachability", "engine.scalar"),  # a witness is checked by routing it
}
#: the one upward import DESIGN allows: a result's _repr_html_ lazily importing display
#: and a Decision's explain() lazily routing its request again through the scalar engine
UPWARD_OK = {("results", "display"), ("compiler", "loader"), ("results", "engine.scalar")}
UPWARD_OK |= {("analysis.reachability", "display")}  # Reachability's text and _repr_html_
UPWARD_OK |= {("analysis.reachability", "display.changes")}  # its Table, to_pandas
UPWARD_OK |= {("analysis.diff", "display.changes")}
UPWARD_OK |= {("_display", "display")}  # the display package, imported when a result is shown
UPWARD_OK |= {("stats.render", "display"), ("stats.render", "display.objects")}  # Diff's text and _repr_html_
UPWARD_OK |= {("sessions", "display"), ("sessions", "display.table")}  # SessionResult display
#: every result's display methods (_repr_html_, to_pandas, plot) import display lazily
UPWARD_OK |= {
    (m, f"display{sub}")
    for m in ("errors", "plan", "simulator", "traffic", "stats.results", "results")
    for sub in ("", ".objects", ".plot")
}
THIRD_PARTY_ONLY_IN = {
    "yaml": {"loader.yaml"},
    "pydantic": {
        "config",
        "config.base",
        "config.kubernetes",
        "config.networking",
        "config.serviceentry",
        "config.listeners",
        "config.security",
        "config.rollouts",
        "config.inputs",
        "config.app",
        "config.gateway_api",
        "loader.assemble",
        "loader.errors",
        "testing.cases.models",
        "testing.cases.formats",
        "testing.routes",
    },
    "scipy": {
        "stats.binomial",
        "stats.intervals",
        "stats.goodness_of_fit",
        "stats.equivalence",
        "stats.sequential",
        "testing.split",
    },
}
ENGINE_FORBIDDEN = {"config", "loader", "mesh", "compiler"}


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _imports(name: str, path: Path) -> set[str]:
    """istiosim modules (relative names) and top-level third-party packages imported."""
    tree = ast.parse(path.read_text())
    pkg = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    if name == "__init__":
        pkg = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("istiosim."):
                    found.add(a.name[len("istiosim.") :])
                else:
                    found.add("ext:" + a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
                if node.module is None:
                    for a in node.names:
                        found.add(".".join([*base, a.name]))
                else:
                    found.add(mod)
            elif node.module and node.module.startswith("istiosim"):
                found.add(node.module[len("istiosim.") :] if "." in node.module else "__init__")
            elif node.module:
                found.add("ext:" + node.module.split(".")[0])
    return found


def test_every_module_has_a_layer() -> None:
    missing = sorted(set(_modules()) - set(LAYER))
    assert not missing, f"add these modules to LAYER in tests/test_public_api.py: {missing}"


@pytest.mark.parametrize("name", sorted(_modules()))
def test_imports_point_down(name: str) -> None:
    path = _modules()[name]
    own = LAYER[name]
    for imp in _imports(name, path):
        if imp.startswith("ext:"):
            top = imp[4:]
            allowed = THIRD_PARTY_ONLY_IN.get(top)
            assert allowed is None or name in allowed, (
                f"{name} imports {top}; only {sorted(allowed)} may"
            )
            if name.startswith("engine"):
                assert top not in ("pydantic", "yaml"), f"{name} must not import {top}"
            continue
        target = imp if imp in LAYER else imp.rsplit(".", 1)[0]
        if target not in LAYER:
            continue  # e.g. "engine.scalar.route" resolved above; names inside modules
        if name.startswith("engine"):
            assert target not in ENGINE_FORBIDDEN, f"{name} must not import {target}"
        ok = LAYER[target] < own or (name, target) in SAME_STAGE or (name, target) in UPWARD_OK
        ok = (
            ok
            or target == name
            or (target.split(".")[0] == name.split(".")[0] and LAYER[target] <= own)
        )
        assert ok, (
            f"{name} (layer {own}) imports {target} (layer {LAYER[target]}): imports must point down"
        )


def test_all_is_sorted_and_resolves() -> None:
    assert len(set(istiosim.__all__)) == len(istiosim.__all__)  # the order is ruff's RUF022
    for n in istiosim.__all__:
        assert getattr(istiosim, n) is not None


def test_testing_all_is_sorted_and_resolves() -> None:
    """istiosim.testing exports every type its functions hand out, under its own name."""
    import istiosim.testing as t

    assert t.__all__ == sorted(t.__all__)
    for n in t.__all__:
        assert getattr(t, n) is not None
    for exc in (t.RouteAssertionError, t.SplitAssertionError):
        assert exc.__module__ == "istiosim.testing"


def test_facade_is_lazy() -> None:
    """Importing istiosim must not import numpy, pydantic, yaml or scipy (the plugin relies on it)."""
    code = "import istiosim, sys; print(sorted(m for m in ('numpy','pydantic','yaml','scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_routing_does_not_import_scipy() -> None:
    code = (
        "import sys, istiosim; sim = istiosim.load('''apiVersion: v1\\nkind: Service\\nmetadata: {name: a}\\n"
        "spec: {selector: {app: a}, ports: [{port: 80}]}'''); sim.route(istiosim.Request('a')); "
        "print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError):
        _ = istiosim.does_not_exist  # type: ignore[attr-defined]


def test_route_plan_explains_its_rule_table() -> None:
    from conftest import load_demo

    plan = load_demo("header-jason-v3.yaml").plan
    assert repr(plan) == "<RoutePlan: 1 VirtualService(s), 4 DestinationRule(s), 4 service(s)>"
    text = plan.explain()
    lines = text.splitlines()
    assert lines[0] == "RoutePlan: 1 VirtualService(s), 4 DestinationRule(s), 4 service(s)"
    rule0 = next(line for line in lines if "rule 0 match 0" in line)
    assert "header end-user exact 'jason'" in rule0 and "→ reviews.default v3" in rule0
    assert "header-jason-v3.yaml:10:7" in rule0
    rule1 = next(line for line in lines if line.lstrip().startswith("rule 1"))
    assert "any request" in rule1 and "→ reviews.default v2" in rule1
    assert "  subset v3" in text and "version=v3" in text


def test_route_plan_explains_weights_as_shares() -> None:
    from conftest import load_demo

    text = load_demo("canary-50-50.yaml").plan.explain()
    assert "reviews.default v2 50%, reviews.default v3 50%" in text


def test_all_lists_exactly_the_facade_names() -> None:
    """As httpx's test_exported_members: __all__ is the façade's table, no more, no less."""
    from istiosim import _NAMES, _SUBMODULES

    assert set(istiosim.__all__) == {*_NAMES, "__version__"}
    public = {n for n in dir(istiosim) if not n.startswith("_")}
    assert public == {*_NAMES, *_SUBMODULES}


@pytest.mark.parametrize("name", [n for n in istiosim.__all__ if n != "__version__"])
def test_public_names_say_istiosim(name: str) -> None:
    value = getattr(istiosim, name)
    assert value.__module__ == "istiosim", f"{name} shows as {value.__module__}"
    assert f"{value.__module__}.{value.__qualname__}" == f"istiosim.{name}"


def test_public_values_pickle_by_their_public_name() -> None:
    import pickle

    from conftest import load_demo

    d = load_demo("canary-50-50.yaml").route(istiosim.Request("reviews"), rng=1)
    again = pickle.loads(pickle.dumps(d))
    assert again == d and type(again) is istiosim.Decision
    assert pickle.loads(pickle.dumps(istiosim.Outcome.NC)) is istiosim.Outcome.NC


def test_a_route_builds_only_the_model_families_it_reads() -> None:
    """Start-up (issue 9 item 6): the model families are imported by the kinds a config holds,
    so routing Bookinfo never builds the Gateway API, security or rollout models, nor imports
    stats or the notebook widgets; a Canary in the files brings its family in."""
    demo = PKG / "data" / "bookinfo"
    files = ", ".join(
        repr(str(demo / f))
        for f in ("bookinfo-k8s.yaml", "destination.yaml", "virtual-service.yaml")
    )
    families = (
        "istiosim.config.rollouts",
        "istiosim.config.gateway_api",
        "istiosim.config.security",
        "istiosim.display.whatif",
        "istiosim.stats",
        "scipy",
    )
    code = (
        "import sys, istiosim\n"
        f"sim = istiosim.load({files})\n"
        "sim.route(istiosim.Request('reviews')); sim.diagnostics\n"
        f"print([m for m in {families!r} if m in sys.modules])\n"
        f"istiosim.load({str(demo / 'rollout-argo.yaml')!r})\n"
        "print('istiosim.config.rollouts' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"]


#: what ``istiosim route`` over Bookinfo (Services, Deployments, DestinationRules, one
#: VirtualService) must not import: each is start-up time a route does not use (issue 9 item 6)
ROUTE_NEVER_IMPORTS = (
    "istiosim.config.rollouts",
    "istiosim.config.gateway_api",
    "istiosim.config.security",
    "istiosim.config.listeners",  # Gateway and Sidecar models
    "istiosim.config.serviceentry",
    "istiosim.compiler.webhook.gateway",  # the Gateway and Sidecar webhook rules
    "istiosim.analysis.rollouts_lint",
    "istiosim.engine.vector",
    "istiosim.engine.program",
    "istiosim.engine.match",
    "istiosim.batch",
    "istiosim.traffic",
    "istiosim.simulate",
    "istiosim.display",
    "istiosim.stats",
    "scipy",
    "pandas",
)


GATEWAY = """apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
"""


def test_the_route_command_imports_only_what_a_route_needs() -> None:
    """Start-up (issue 9 item 6): ``istiosim route`` over Bookinfo, run as the command line
    runs it, imports none of :data:`ROUTE_NEVER_IMPORTS`; a file with a Gateway brings the
    Gateway models and webhook rules in (so the check above is not vacuous)."""
    demo = PKG / "data" / "bookinfo"
    files = [
        str(demo / f) for f in ("bookinfo-k8s.yaml", "destination.yaml", "virtual-service.yaml")
    ]
    argv = ["route", *(a for f in files for a in ("-f", f)), "--host", "reviews"]
    code = (
        "import contextlib, io, sys\n"
        "from istiosim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main({argv!r})\n"
        "assert code == 0 and 'reviews-v1' in out.getvalue(), out.getvalue()\n"
        f"print(sorted(m for m in {ROUTE_NEVER_IMPORTS!r} if m in sys.modules))\n"
        "from istiosim.loader import load_config\n"
        "from istiosim.compiler import compile_plan\n"
        f"compile_plan(load_config({files[0]!r}, {GATEWAY!r}))\n"
        "print(sorted(m for m in ('istiosim.config.listeners', 'istiosim.compiler.webhook.gateway')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "[]",
        "['istiosim.compiler.webhook.gateway', 'istiosim.config.listeners']",
    ]


def test_the_lazy_config_names_resolve() -> None:
    """Every name of istiosim.config's table is defined where the table says."""
    import importlib

    from istiosim import config

    for name, module in config._NAMES.items():
        assert getattr(config, name) is getattr(importlib.import_module(module), name)
    assert set(config.MODELS) == set(config.ISTIO_KINDS) | {
        "Service", "Deployment", "StatefulSet", "Pod", "Node", "Namespace", "Canary", "Rollout"
    }  # fmt: skip
    assert config.MODELS["StatefulSet"] is config.Deployment
