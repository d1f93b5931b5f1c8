"""``assert_routes``: assert where one request goes, with the fields of a case's ``validate``;
a failure is a :class:`RouteAssertionError` with a table of expected vs actual and the trace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..request import Request
    from ..results import Decision
    from ..simulator import Simulator
    from .cases.compare import RouteCheck

__all__ = ["RouteAssertionError", "assert_routes"]


class RouteAssertionError(AssertionError):
    """A request was not routed as expected; ``decision`` is what happened."""

    __module__ = "istiosim.testing"  # shown in tracebacks: the public name

    def __init__(self, message: str, decision: Decision | None = None) -> None:
        super().__init__(message)
        self.decision = decision


def assert_routes(
    sim: Simulator,
    request: Request | Mapping[str, Any],
    *,
    rng: int = 0,
    **expected: Any,
) -> Decision:
    """Assert where ``request`` goes; return the decision.

    ``expected`` takes the ``validate`` fields of a case file: ``outcome``, ``status``,
    ``virtual_service``, ``rule`` (index or route name), ``match``, ``host``, ``subset``,
    ``cluster``, ``workload``, ``path``, ``authority``, ``redirect``, ``body``, ``timeout``,
    ``headers``, ``response_headers``, ``delay``, ``split`` and ``sampled``. Only those given
    are compared (``None`` is a value: ``subset=None`` asserts no subset). ``request`` is a
    :class:`~istiosim.Request` or a case ``input`` mapping. Unless the request pins
    ``random_value``, a rule that splits traffic must satisfy the fields for every destination
    its weighted pick can choose. Other draws (pod, fault percentages) come from ``rng``.
    """
    __tracebackhide__ = True
    from pydantic import ValidationError

    from ..errors import InvalidArgument
    from ..request import Request
    from .cases.compare import check_route
    from .cases.models import CaseInput, CaseValidate

    if isinstance(rng, bool) or not isinstance(rng, int) or rng < 0:
        raise InvalidArgument(f"rng must be a non-negative integer seed, got {rng!r}")
    if not expected:
        raise InvalidArgument("assert_routes needs at least one expected field, e.g. subset='v1'")
    try:
        want = CaseValidate.model_validate(expected)
        req = (
            request
            if isinstance(request, Request)
            else CaseInput.model_validate(dict(request)).to_request()
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidArgument(f"assert_routes: {problems}") from None
    chk = check_route(sim, req, want, seed=rng)
    if chk.mismatches:
        raise RouteAssertionError(_message(req, chk, rng), chk.decision)
    return chk.decision


def _message(req: Request, chk: RouteCheck, rng: int) -> str:
    from ..display import table

    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    for m in chk.mismatches:
        if m.field == "sampled":
            notes.append(m.actual.strip())
            continue
        rows.append((m.field, m.expected, m.actual, m.when or ""))
    headers = ["field", "expected", "actual"]
    if any(r[3] for r in rows):
        headers.append("when the weighted pick chooses")
    else:
        rows = [r[:3] for r in rows]
    what = "was not routed as expected" if rows else "failed the sampled split check"
    lines = [f"{req!r} {what}"]
    if rows:
        lines.append(table(headers, rows))
    lines.extend(notes)
    lines.append("trace:")
    lines.extend(f"  {s}" for s in chk.decision.explain().splitlines())
    if rows:  # a sampled-split failure alone names its own seed: one seed per message
        lines.append(
            f"seed: rng={rng} (draws for the pod pick and fault percentages; the weighted pick"
            + (
                f" is pinned by random_value={req.random_value})"
                if req.random_value is not None
                else " is checked for every destination it can choose)"
            )
        )
        lines.append(f"reproduce: sim.route({chk.request!r}, rng={rng}, trace=True).explain()")
    return "\n".join(lines)
