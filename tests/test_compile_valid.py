"""compiler.compile_valid: check's entry point, which leaves out what the webhook refuses and
compiles the rest (as ``istioctl analyze`` reports a refused object and analyses everything)."""

from __future__ import annotations

import pytest

from istiosim.compiler import compile_plan, compile_valid
from istiosim.errors import ConfigError
from istiosim.loader import load_config

ROOT = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /d}}]
    delegate: {name: child}
  - route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: child}
spec:
  http:
  - route: [{destination: {host: reviews}, weight: -1}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ok}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
"""


def test_refused_objects_are_left_out_and_the_rest_compiled() -> None:
    config = load_config(ROOT)
    with pytest.raises(ConfigError):  # the API keeps refusing the whole config
        compile_plan(config)
    plan, refused = compile_valid(config)
    assert [(d.code, d.resource, d.field_path) for d in refused] == [
        ("IST0106", "VirtualService default/child", "spec.http[0].route[0].weight")
    ]
    assert [v.name for v in plan.virtual_services] == ["root"]
    assert not plan.delegates
    assert [d.name for d in plan.destination_rules] == ["ok"]
    # the root now delegates to nothing: Istio drops that route (webhook warning, IST0133)
    (w,) = [d for d in plan.diagnostics if d.code == "IST0133"]
    assert w.resource == "VirtualService default/root"
    assert "default/child not found: the route is dropped" in w.message


def test_loader_errors_are_refusals_too() -> None:
    config = load_config(ROOT.replace("weight: -1", "weigth: 1"), partial=True)
    plan, refused = compile_valid(config)
    assert [(d.code, d.field_path) for d in refused] == [
        ("ISM0003", "spec.http[0].route[0].weigth")
    ]
    assert [v.name for v in plan.virtual_services] == ["root"]


def test_a_valid_config_compiles_as_compile_plan_does() -> None:
    config = load_config(ROOT.replace("weight: -1", "weight: 1"))
    plan, refused = compile_valid(config)
    assert refused == ()
    assert plan == compile_plan(config)
