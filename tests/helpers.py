"""Small builders for semantics tests: k8s Services/Deployments as YAML text, explicit draws.

Tests compose configs inline (``svc("reviews", ["v1", "v2"]) + vs(...)``) so that each test
shows the whole configuration it checks, and route with explicit draws so that every weighted,
fault, mirror and endpoint pick is deterministic.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from fractions import Fraction

import istiosim
from istiosim.engine.scalar import route as scalar_route
from istiosim.plan import DRAW_ABORT, DRAW_DELAY, DRAW_ENDPOINT, DRAW_MIRROR0, DRAW_ROUTE
from istiosim.request import Request
from istiosim.results import Decision
from istiosim.simulator import Simulator


def svc(
    name: str,
    versions: Iterable[str] = ("v1",),
    *,
    ns: str = "default",
    ports: Sequence[int] = (9080,),
    replicas: int = 1,
) -> str:
    """A k8s Service ``name`` (selector app=name) and one Deployment per version."""
    port_lines = "".join(f"\n  - port: {p}\n    name: http-{p}" for p in ports)
    docs = [
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
        f"spec:\n  selector:\n    app: {name}\n  ports:{port_lines}\n"
    ]
    for v in versions:
        docs.append(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}-{v}\n"
            f"  namespace: {ns}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n"
            f"      app: {name}\n      version: {v}\n  template:\n    metadata:\n      labels:\n"
            f"        app: {name}\n        version: {v}\n"
        )
    return "---\n".join(docs)


def doc(text: str) -> str:
    """One YAML document written indented inside a test."""
    return textwrap.dedent(text).strip("\n") + "\n"


def load(*docs: str, namespace: str = "default") -> Simulator:
    """Compile YAML documents (joined with ``---``) into a Simulator."""
    text = "\n---\n".join(doc(d).rstrip("\n") for d in docs) + "\n"
    return istiosim.load(text, namespace=namespace, rng=0)


def draws(
    route: int = 0,
    endpoint: int = 0,
    delay: int = 0,
    abort: int = 0,
    mirrors: Sequence[int] = (),
    n_mirrors: int = 4,
) -> list[int]:
    """One request's draws by slot; fault/mirror draws of 0 mean 'fires when percentage > 0'."""
    out = [0] * (DRAW_MIRROR0 + max(n_mirrors, len(mirrors)))
    out[DRAW_ROUTE] = route
    out[DRAW_ENDPOINT] = endpoint
    out[DRAW_DELAY] = delay
    out[DRAW_ABORT] = abort
    for j, m in enumerate(mirrors):
        out[DRAW_MIRROR0 + j] = m
    return out


#: a draw that never fires a fault or mirror (``x % 1e6`` = 999_999 ≥ any per-million below 100 %)
NEVER = 999_999


def go(sim: Simulator, request: Request, **kw: int | Sequence[int]) -> Decision:
    """Route one request through the scalar engine with explicit draws, trace on."""
    return scalar_route(sim.plan, request, draws(**kw), trace=True)  # type: ignore[arg-type]


def probs(d: Decision) -> dict[str | None, Fraction]:
    """Candidate subset → exact probability (weight-0 candidates omitted)."""
    return {c.subset: c.probability for c in d.candidates if c.probability}


def trace_text(d: Decision) -> str:
    return d.traced().explain()


def vs(
    host: str,
    http: str,
    *,
    name: str | None = None,
    ns: str | None = None,
    extra: str = "",
) -> str:
    """A VirtualService for one host; ``http`` is the YAML list under ``spec.http``."""
    meta = f"  name: {name or host.split('.')[0].replace('*', 'wild')}\n"
    if ns:
        meta += f"  namespace: {ns}\n"
    body = textwrap.indent(doc(http), "  ")
    return (
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n"
        f"{meta}spec:\n  hosts:\n  - {host!r}\n{textwrap.indent(doc(extra), '  ') if extra else ''}"
        f"  http:\n{body}"
    )


def dr(
    host: str,
    subsets: Iterable[str] = ("v1",),
    *,
    name: str | None = None,
    ns: str | None = None,
    policy: str = "",
) -> str:
    """A DestinationRule with one subset per version label (``version: <name>``)."""
    meta = f"  name: {name or host.split('.')[0]}\n"
    if ns:
        meta += f"  namespace: {ns}\n"
    subs = "".join(f"  - name: {s}\n    labels:\n      version: {s}\n" for s in subsets)
    pol = textwrap.indent(doc(policy), "  ") if policy else ""
    return (
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n"
        f"{meta}spec:\n  host: {host}\n{pol}  subsets:\n{subs}"
    )


def reviews(*versions: str, replicas: int = 1, policy: str = "", subset_policies: str = "") -> str:
    """reviews Service + Deployments + one DR (optionally with a policy / custom subsets)."""
    out = svc("reviews", versions, replicas=replicas) + "---\n"
    if subset_policies:
        pol = "\n".join("  " + ln for ln in doc(policy).splitlines()) + "\n" if policy else ""
        sub = "\n".join("  " + ln for ln in doc(subset_policies).splitlines()) + "\n"
        return out + (
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n"
            f"  name: reviews\nspec:\n  host: reviews\n{pol}  subsets:\n{sub}"
        )
    return out + dr("reviews", versions, policy=policy)


def split(*pairs: tuple[str, int | None], extra: str = "") -> str:
    """A VS sending reviews to the given (subset, weight) destinations."""
    lines = ["- route:"]
    for subset, weight in pairs:
        lines.append(f"  - destination: {{host: reviews, subset: {subset}}}")
        if weight is not None:
            lines.append(f"    weight: {weight}")
    return vs("reviews", "\n".join(lines) + "\n" + extra)


def pods(sim: Simulator, req: Request, n: int = 6, **kw: int) -> set[str | None]:
    """The pods reached with endpoint draws 0..n-1 (other draws fixed)."""
    return {go(sim, req, endpoint=i, **kw).pod for i in range(n)}
