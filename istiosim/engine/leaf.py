"""The vector engine's leaves: the terminal states of one route table, and their ``Decision``.

A request routed by the vector engine ends in one leaf (passthrough, default route to a pod, no
route, redirect, direct response, fault abort, or a target's pod). Everything about it (rule,
status, destination, workload, pod) is a property of the leaf; ``leaf_decision`` rebuilds the
scalar engine's ``Decision`` for one request from its leaf, delay flag and mirror bits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..plan import DirectResponse, Forward, Redirect, ResolvedEntry, RouteTable, Target
from ..request import Request
from ..results import Decision, DestinationRef, Outcome
from .cors import preflight_answer, simple_headers
from .decision import (
    abort_headers,
    candidates,
    entry_fields,
    redirect_location,
    response_ops,
    target_decision,
)

if TYPE_CHECKING:
    from .program import Program


class LeafKind(enum.IntEnum):
    """What a leaf is: how the request ended."""

    PASS = 0  # no virtual host: PassthroughCluster
    DEFAULT = 1  # no VirtualService: the service's default route, one leaf per pod
    NR = 2  # no route matched
    REDIRECT = 3
    DIRECT = 4  # direct response
    FI = 5  # fault abort
    TARGET = 6  # a route's destination: one leaf per pod (one for a 503 NC/UH target)
    CORS = 7  # a CORS preflight answered 200 by Envoy's CORS filter (engine/cors.py)


PASS, DEFAULT, NR, REDIRECT, DIRECT, FI, TARGET, CORS = LeafKind


def n_pods(t: Target) -> int:
    """The pods a request to ``t`` can reach (0: ``t`` answers 503 NC/UH)."""
    return len(t.endpoints) if t.status == "OK" else 0


@dataclass(frozen=True, slots=True)
class Leaf:
    """One terminal state of one route table."""

    program: Program
    kind: LeafKind
    entry: int = -1
    target: int = -1
    endpoint: int = -1

    @property
    def table(self) -> RouteTable:
        return self.program.table

    @property
    def resolved(self) -> ResolvedEntry | None:
        return self.program.table.entries[self.entry] if self.entry >= 0 else None

    @property
    def target_obj(self) -> Target | None:
        if self.kind == DEFAULT:
            return self.program.table.default
        if self.kind in (TARGET, FI) and self.entry >= 0:
            return self.program.table.entries[self.entry].targets[self.target]
        return None

    @property
    def outcome(self) -> Outcome:
        t = self.target_obj
        if self.kind == PASS:
            return Outcome.PASSTHROUGH
        if self.kind == NR:
            return Outcome.NR
        if self.kind == REDIRECT:
            return Outcome.REDIRECT
        if self.kind in (DIRECT, CORS):
            return Outcome.DIRECT
        if self.kind == FI:
            return Outcome.FI
        assert t is not None
        return Outcome.OK if t.status == "OK" else Outcome(t.status)

    @property
    def status(self) -> int:
        e = self.resolved
        if self.kind in (PASS, CORS):
            return 200
        if self.kind == NR:
            return 404
        if self.kind in (REDIRECT, DIRECT):
            assert e is not None
            act = e.entry.action
            assert isinstance(act, Redirect | DirectResponse)
            return act.status
        if self.kind == FI:
            assert e is not None and isinstance(e.entry.action, Forward)
            fault = e.entry.action.fault
            assert fault is not None and fault.abort_status is not None
            return fault.abort_status
        return 200 if self.outcome is Outcome.OK else 503

    @property
    def rule(self) -> int | None:
        e = self.resolved
        return e.entry.rule if e is not None else None

    @property
    def virtual_service(self) -> str | None:
        e = self.resolved
        if e is not None:
            return e.virtual_service.key
        if self.kind == NR and self.table.virtual_services:
            return self.table.virtual_services[0].key
        return None

    @property
    def delay_ms(self) -> int | None:
        e = self.resolved
        if e is None or not isinstance(e.entry.action, Forward) or e.entry.action.fault is None:
            return None
        if self.kind == CORS:
            return None  # answered by the CORS filter, before the fault filter
        return e.entry.action.fault.delay_ms

    @property
    def pod(self) -> str | None:
        t = self.target_obj
        return t.endpoints[self.endpoint].pod if t is not None and self.endpoint >= 0 else None

    @property
    def workload(self) -> str | None:
        t = self.target_obj
        return t.endpoints[self.endpoint].workload if t is not None and self.endpoint >= 0 else None

    def destination(self, request_host: str) -> DestinationRef | None:
        if self.kind == PASS:
            return DestinationRef(request_host, None, self.table.port, "PassthroughCluster")
        t = self.target_obj
        return None if t is None else DestinationRef(t.host, t.subset, t.port, t.cluster)

    def host(self, request_host: str) -> str:
        """The destination host, or (no destination) the virtual host the request was for."""
        t = self.target_obj
        if t is not None:
            return t.host
        if self.table.service is not None:
            return self.table.service.fqdn
        raw = request_host
        if ":" in raw and not raw.startswith("["):
            raw = raw.rpartition(":")[0]
        return raw

    def cell(self) -> tuple[str, str | None, str | None, str, int]:
        """(host, subset, workload, outcome, status): the row of a simulation result."""
        t = self.target_obj
        return (
            self.host(self.program.key[0]),
            t.subset if t is not None else None,
            self.workload,
            self.outcome.value,
            self.status,
        )


def leaf_decision(lf: Leaf, request: Request, di: bool, mirror_bits: int) -> Decision:
    """Request ``i``'s ``Decision`` (without trace), built as the scalar engine builds it."""
    table = lf.table
    if lf.kind == PASS:
        return Decision(
            outcome=Outcome.PASSTHROUGH, status=200, destination=lf.destination(request.host)
        )
    if lf.kind == DEFAULT:
        assert table.default is not None
        return _target_decision(lf, table.default, None, request, [], None, {}, 0)
    if lf.kind == NR:
        return Decision(outcome=Outcome.NR, status=404, virtual_service=lf.virtual_service)
    hit = lf.resolved
    assert hit is not None
    common = entry_fields(hit)
    act = hit.entry.action
    if isinstance(act, DirectResponse):
        return Decision(
            outcome=Outcome.DIRECT,
            status=act.status,
            body=act.body,
            response_headers=response_ops(act.headers_response),
            **common,
        )
    if isinstance(act, Redirect):
        return Decision(
            outcome=Outcome.REDIRECT,
            status=act.status,
            redirect_location=redirect_location(act, request, table.port),
            response_headers=response_ops(act.headers_response),
            **common,
        )
    assert isinstance(act, Forward)
    if lf.kind == CORS:
        assert act.cors
        answer = preflight_answer(act.cors, str(request.method), request.headers)
        return Decision(
            outcome=Outcome.DIRECT,
            status=200,
            flags=("CORS",),
            response_headers=answer or (),
            **common,
        )
    flags: list[str] = []
    delay_ms = None
    if di and act.fault is not None and act.fault.delay_ms is not None:
        flags.append("DI")
        delay_ms = act.fault.delay_ms
    cands = candidates(hit, None)
    if lf.kind == FI:
        assert act.fault is not None and act.fault.abort_status is not None
        flags.append("FI")
        return Decision(
            outcome=Outcome.FI,
            status=act.fault.abort_status,
            destination=lf.destination(request.host),
            candidates=cands,
            flags=tuple(flags),
            delay_ms=delay_ms,
            response_headers=abort_headers(act.fault) + simple_headers(act.cors, request.headers),
            **common,
        )
    t = hit.targets[lf.target]
    return _target_decision(lf, t, act, request, flags, delay_ms, common, mirror_bits, cands)


def _target_decision(
    lf: Leaf,
    t: Target,
    act: Forward | None,
    request: Request,
    flags: list[str],
    delay_ms: int | None,
    common: dict[str, Any],
    mirror_bits: int,
    cands: Any = None,
) -> Decision:
    """The scalar engine's ``target_decision`` with this leaf's pod and mirror bits."""
    hit = lf.resolved
    if cands is None:
        cands = candidates(hit, lf.table.default if act is None else None)
    ep = t.endpoints[lf.endpoint] if t.status == "OK" else None
    mirrors: tuple[str, ...] = ()
    if ep is not None and act is not None and hit is not None:
        mirrors = tuple(
            mt.cluster for j, (mt, _pm) in enumerate(hit.mirrors) if mirror_bits >> j & 1
        )
    return target_decision(t, ep, act, hit, request, flags, delay_ms, cands, common, mirrors)


__all__ = ["Leaf", "LeafKind", "leaf_decision", "n_pods"]
