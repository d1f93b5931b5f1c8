"""``istiosim verify``: observed counts per subset against the split the config gives a
request (SRM check and equivalence test).

Exit codes as everywhere: 0 the split verifies, 1 it does not, 2 bad input
(``file:line:col: error[CODE] message``).
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from .common import add_request_flags, build_request, load_simulator

if TYPE_CHECKING:
    import argparse

    from ..errors import ConfigError, Location
    from ..loader.yaml import SourceMap
    from .common import Subparsers

    #: one observation of a counts file: host, subset, outcome, count, where it is written
    Row = tuple[str | None, str | None, str | None, int, Location]


def register(sub: Subparsers, name: str) -> None:
    v = sub.add_parser(
        name,
        help="check observed counts per subset against the configured split",
        description=(
            "SRM check and equivalence test of observed counts (COUNTS.json: {subset: count}, "
            "or the output of `istiosim simulate --format json`) against the weights the "
            "config gives this request. Exit 1 when the split does not verify."
        ),
    )
    add_request_flags(v)
    v.add_argument("--observed", required=True, metavar="COUNTS.json")
    v.add_argument(
        "--tolerance",
        type=float,
        default=0.01,
        help="allowed absolute deviation of each share (default 0.01 = 1 pp)",
    )
    v.add_argument(
        "--alpha", type=float, default=0.05, help="level of the equivalence test (default 0.05)"
    )
    v.add_argument(
        "--srm-alpha", type=float, default=5e-4, help="level of the SRM check (default 0.0005)"
    )
    v.add_argument("--config-namespace", default="default")
    v.set_defaults(func=cmd_verify)


def _level(name: str, value: float, high: float) -> None:
    from ..errors import InvalidArgument

    if not (math.isfinite(value) and 0 < value < high):
        raise InvalidArgument(f"{name} must be between 0 and {high:g} (exclusive), got {value:g}")


def _bad(msg: str, loc: Location | None, file: str) -> ConfigError:
    from ..errors import ConfigError, Diagnostic, Location

    return ConfigError([Diagnostic.make("ISM0004", msg, loc or Location(file))])


def read_counts(path: str | os.PathLike[str]) -> list[Row]:
    """(host, subset, outcome, count, where) from a counts file: ``{subset: count}``,
    ``{"counts": {...}}``, or ``istiosim simulate --format json`` output (``rows``), validated
    like a config (unknown keys, misspelled outcomes and counts beyond 2^63 - 1 refused, each
    at its file:line:col). A Prometheus response is read by :func:`read_observed`."""
    from ..errors import ConfigError, Diagnostic, Location
    from ..loader import load_yaml_documents

    file = str(path)
    docs = load_yaml_documents(path)
    if len(docs) != 1:
        raise ConfigError(
            [
                Diagnostic.make(
                    "ISM0007",
                    "a counts file holds one mapping of subset -> count",
                    docs[1][2] if docs else Location(file),
                )
            ]
        )
    data, smap, where = docs[0]
    return counts_rows(data, smap, where)


def _validate(model: Any, data: dict[str, Any], smap: SourceMap, where: Location) -> Any:
    from ..traffic import validate_input

    return validate_input(model, data, smap, where)


def counts_rows(data: dict[str, Any], smap: SourceMap, where: Location) -> list[Row]:
    """The rows of a counts document (see :func:`read_counts`)."""
    from ..config import inputs

    out: list[Row] = []
    if "rows" in data:
        sim = _validate(inputs.SimulatedCounts, data, smap, where)
        for i, row in enumerate(sim.rows):
            loc = smap.find(("rows", i)) or where
            out.append((row.host, row.subset, row.outcome, row.count, loc))
    elif "counts" in data:
        wrapped = _validate(inputs.WrappedCounts, data, smap, where)
        for k, v in wrapped.counts.items():
            out.append((None, k, None, v, smap.find(("counts", k)) or where))
    else:
        plain = _validate(inputs.PlainCounts, data, smap, where)
        for k, v in plain.root.items():
            out.append((None, k, None, v, smap.find((k,)) or where))
    if not out:
        raise _bad("no counts: the sample is empty", where, str(where.file))
    return out


def cmd_verify(args: argparse.Namespace) -> int:
    import json

    from ..errors import ConfigError, Diagnostic, InvalidArgument
    from ..stats import split_equivalence, srm_check
    from ..testing.cases.compare import count_key, destination_key, resolve_keys

    _level("--tolerance", args.tolerance, 1.0)
    _level("--alpha", args.alpha, 0.5)
    _level("--srm-alpha", args.srm_alpha, 1.0)
    rows = read_counts(args.observed)
    sim = load_simulator(args)
    req = build_request(args)
    d = sim.route(req, rng=0, trace=True)
    cands = d.candidates
    if d.rule is None and d.virtual_service is None and len(cands) <= 1:
        what = f"{d.outcome.value} {d.status}" if not cands else "a single destination"
        raise InvalidArgument(
            f"the config gives {req.host} no weighted route for this request ({what}):"
            " there is no split to verify counts against"
        )
    weights: dict[str, int] = {}
    for c in cands:
        k = destination_key(c, cands)
        weights[k] = weights.get(k, 0) + c.weight
    observed: dict[str, int] = {k: 0 for k in weights}
    ignored = 0
    problems: list[Diagnostic] = []
    for host, subset, outcome, n, loc in rows:
        reached = outcome is None or outcome in ("OK", "NC", "UH")
        if not reached or (host is None and subset is None):
            ignored += n  # requests that reached no destination (404 NR, fault aborts, ...)
            continue
        if host is None:
            name, key = str(subset), count_key(subset, cands)
        else:
            name = f"{host}/{subset}" if subset else host
            key = resolve_keys([name], cands)[0].get(name)
        if key is None:
            _, why = resolve_keys([name], cands)
            msg = why[0] if why else f"{name!r} names no single destination"
            problems.append(
                Diagnostic.make("ISM0004", f"observed {msg} (weights: {', '.join(weights)})", loc)
            )
            continue
        observed[key] += n
    if problems:
        raise ConfigError(problems)
    if sum(observed.values()) == 0:
        raise InvalidArgument(f"{args.observed}: the sample is empty (n = 0): nothing to verify")
    srm = srm_check(observed, weights, alpha=args.srm_alpha)
    eq = split_equivalence(observed, weights, tolerance=args.tolerance, alpha=args.alpha)
    ok = srm.verdict != "mismatch" and eq.verdict == "equivalent"
    where = f"{d.virtual_service} rule {d.rule}" if d.rule is not None else "default route"
    if args.format == "json":
        out: dict[str, Any] = {
            "ok": ok,
            "host": req.host,
            "virtual_service": d.virtual_service,
            "rule": d.rule,
            "weights": weights,
            "observed": observed,
            "ignored": ignored,
            "srm": srm.to_dict(),
            "equivalence": eq.to_dict(),
        }
        print(json.dumps(out, indent=2))
    else:
        total = sum(weights.values())
        shares = ", ".join(f"{k} {w}/{total}" for k, w in weights.items())
        print(f"{req.host}: {sum(observed.values()):,} observed requests vs {where} ({shares})")
        if ignored:
            print(f"({ignored:,} requests that reached no destination were left out)")
        print()
        print(srm)
        print()
        print(eq)
        print()
        if ok:
            print(f"verified: every share is within ±{args.tolerance:g} of its weight")
        elif srm.verdict == "mismatch":
            print("NOT VERIFIED: sample ratio mismatch (the counts do not fit the weights)")
        elif eq.verdict == "not-equivalent":
            print(f"NOT VERIFIED: some share is off by more than ±{args.tolerance:g}")
        else:
            print(
                f"NOT VERIFIED: too few requests to show every share within ±{args.tolerance:g}"
                f" (about {eq.n_required:,} needed)"
            )
    return 0 if ok else 1
