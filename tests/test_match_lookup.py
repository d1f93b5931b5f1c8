"""The vector engine's first-match lookups (``engine.match.lookup``) agree with the scalar engine.

Each scheme is forced by the shape of the rules and checked on every row of a batch that hits
every rule: the direct table from 16-bit masks to the entry (at most 16 live entries), the
minimum of per-column-group first entries (single columns, and joint tables of several
columns), and 32-entry blocks with the block map folded into the lookup tables (more than 32
entries whose column group is too large for a joint table).
"""

from __future__ import annotations

import numpy as np
import pytest

from istiosim import RequestBatch
from istiosim.engine import route, route_batch
from istiosim.engine.match import lookup

from conftest import load_demo

HEAD = "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: lk}\n"


def _vs(matches: list[str]) -> str:
    rules = []
    for i, m in enumerate(matches):
        sub = ("v1", "v2", "v3")[i % 3]
        rules.append(
            f"  - match: [{m}]\n    route: [{{destination: {{host: reviews, subset: {sub}}}}}]"
        )
    return HEAD + "spec:\n  hosts: [reviews]\n  http:\n" + "\n".join(rules) + "\n"


def _single_columns(k: int) -> list[str]:
    """Each rule tests one column: user, path or method."""
    out = []
    for i in range(k):
        if i % 3 == 0:
            out.append(f"{{headers: {{end-user: {{exact: u{i}}}}}}}")
        elif i % 3 == 1:
            out.append(f"{{uri: {{prefix: /p{i}}}}}")
        else:
            out.append(f"{{method: {{exact: {('PUT', 'DELETE', 'PATCH')[i % 3]}}}}}")
    return out


def _joint(k: int) -> list[str]:
    """Rules test path and method together, or the user alone; one always-true regex."""
    out = []
    for i in range(k):
        if i % 2 == 0:
            out.append(f"{{uri: {{prefix: /p{i}}}, method: {{exact: POST}}}}")
        elif i == k - 1:
            out.append('{headers: {end-user: {regex: ".*"}}}')  # holds for every user
        else:
            out.append(f'{{headers: {{end-user: {{regex: "u{i}[0-9]*"}}}}}}')
    return out


def _wide(k: int) -> list[str]:
    """Rules test user and path together over 300 × 300 values: no joint table."""
    return [
        f'{{uri: {{prefix: /p{i}}}, headers: {{end-user: {{regex: "u{i % 7}[0-9]*"}}}}}}'
        for i in range(k)
    ]


def _batch(k: int, n: int, rng: np.random.Generator, wide: bool = False) -> RequestBatch:
    m = 300 if wide else max(k, 20)
    paths = [f"/p{i}" for i in range(m)] + [f"/q{i}" for i in range(m)]
    users = [f"u{i}" for i in range(m)] + ["nobody"]
    return RequestBatch(
        n,
        host="reviews",
        path=np.asarray(paths)[rng.integers(0, len(paths), n)],
        method=np.asarray(["GET", "POST", "PUT", "DELETE", "PATCH"])[rng.integers(0, 5, n)],
        headers={"end-user": np.asarray(users)[rng.integers(0, len(users), n)]},
    )


@pytest.mark.parametrize(
    ("rules", "k", "kind"),
    [
        (_single_columns, 12, "min"),
        (_single_columns, 40, "min"),
        (_single_columns, 100, "min"),
        (_joint, 10, "direct"),
        (_joint, 16, "direct"),
        (_joint, 24, "min"),
        (_joint, 70, "min"),
        (_wide, 20, "bits"),
        (_wide, 33, "bits"),
        (_wide, 70, "bits"),
    ],
)
def test_lookup_agrees_with_scalar_on_every_row(rules, k, kind):
    sim = load_demo(_vs(rules(k)))
    rng = np.random.default_rng(k)
    n = 1000
    batch = _batch(k, n, rng, wide=rules is _wide)
    draws = rng.integers(0, 2**64, (n, sim.plan.n_draws), dtype=np.uint64)
    router = sim.router
    bd = route_batch(sim.plan, batch, draws, router=router)
    (prog,) = router.programs.values()
    plan = prog.matching.plan(batch)
    assert plan[0] == "bits"
    assert lookup(plan)[0] == kind
    want = [route(sim.plan, batch[i], [int(x) for x in draws[i]]).rule for i in range(n)]
    assert bd.rule.tolist() == [-1 if r is None else r for r in want]
    assert len(set(want)) > min(k, 8)  # the batch reaches many rules, not just the fallback
