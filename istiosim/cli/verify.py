"""``istiosim verify``: observed counts per subset against the split the config gives a
request (SRM check and equivalence test).

Exit codes as everywhere: 0 the split verifies, 1 it does not, 2 bad input
(``file:line:col: error[CODE] message``).
"""

from __future__ import annotations

import argparse
import math
import os
from typing import TYPE_CHECKING, Any

from .common import add_request_flags, build_request, examples, load_simulator, report_problems

if TYPE_CHECKING:
    from ..errors import ConfigError, Location
    from ..loader.yaml import SourceMap
    from .common import Subparsers

    #: one observation of a counts file: host, subset, outcome, count, where it is written
    Row = tuple[str | None, str | None, str | None, int, Location]


EXAMPLES = [
    ("counts observed during the 50/50 canary (files from `istiosim demo --export bookinfo`)",
     "istiosim verify -f bookinfo/bookinfo-k8s.yaml -f bookinfo/destination.yaml"
     " -f bookinfo/canary-50-50.yaml --host reviews --observed bookinfo/reviews-counts.yaml"),
    ("the same, every share within ±2 percentage points, as JSON",
     "istiosim verify -f bookinfo/bookinfo-k8s.yaml -f bookinfo/destination.yaml"
     " -f bookinfo/canary-50-50.yaml --host reviews --observed bookinfo/reviews-counts.yaml"
     " --tolerance 0.02 --format json"),
]  # fmt: skip


def register(sub: Subparsers, name: str) -> None:
    v = sub.add_parser(
        name,
        help="check observed counts per subset against the configured split",
        description=(
            "SRM check and equivalence test of observed counts (COUNTS.json: {subset: count}, "
            "or the output of `istiosim simulate --format json`) against the weights the "
            "config gives this request. Exit 1 when the split does not verify."
        ),
        epilog=examples(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_request_flags(v)
    v.add_argument(
        "--observed",
        default=None,
        metavar="COUNTS.json",
        help="observed counts: {subset: count}, simulate --format json output, or the JSON of "
        "Prometheus' /api/v1/query for sum by (destination_version) or (destination_workload)",
    )
    v.add_argument(
        "--prometheus",
        default=None,
        metavar="URL",
        help="fetch the counts from this Prometheus (with --query) instead of --observed",
    )
    v.add_argument(
        "--query",
        default=None,
        metavar="PROMQL",
        help="e.g. 'sum by (destination_version) (increase(istio_requests_total"
        '{destination_service="reviews.default.svc.cluster.local"}[1h]))\'',
    )
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
    v.add_argument(
        "--config-namespace",
        default="default",
        metavar="NS",
        help="namespace for objects without one (default: default)",
    )
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
    at its file:line:col). A Prometheus response is read by :func:`prometheus_rows`."""

    return counts_rows(*_read_one(path))


def _read_one(path: str | os.PathLike[str]) -> tuple[dict[str, Any], SourceMap, Location]:
    """The one mapping of a counts file (or a saved Prometheus response)."""
    from ..errors import ConfigError, Diagnostic, Location
    from ..loader import load_yaml_documents

    docs = load_yaml_documents(path)
    if len(docs) != 1:
        raise ConfigError(
            [
                Diagnostic.make(
                    "ISM0007",
                    "a counts file holds one mapping of subset -> count",
                    docs[1][2] if docs else Location(str(path)),
                )
            ]
        )
    return docs[0]


#: how long ``--prometheus`` waits for an answer
PROMETHEUS_TIMEOUT = 30.0


def _fetch(url: str, query: str) -> tuple[dict[str, Any], SourceMap, Location]:
    """GET ``URL/api/v1/query?query=Q`` (bounded like a file), as a located document."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from ..errors import ConfigError, Diagnostic, Location
    from ..loader.yaml import MAX_FILE_BYTES, documents

    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise _bad_arg(f"--prometheus must be an http:// or https:// URL, got {url!r}")
    full = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    name = f"{base}/api/v1/query"
    try:
        with urllib.request.urlopen(full, timeout=PROMETHEUS_TIMEOUT) as resp:
            body = resp.read(MAX_FILE_BYTES + 1)
    except urllib.error.HTTPError as exc:  # Prometheus answers errors as JSON too
        body = exc.read(MAX_FILE_BYTES + 1)
        if not body.lstrip().startswith(b"{"):
            raise ConfigError(
                [Diagnostic.make("ISM0001", f"HTTP {exc.code} {exc.reason}", Location(name))]
            ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        why = getattr(exc, "reason", None) or exc
        raise ConfigError(
            [Diagnostic.make("ISM0001", f"cannot fetch: {why}", Location(name))]
        ) from None
    if len(body) > MAX_FILE_BYTES:
        raise ConfigError(
            [Diagnostic.make("ISM0009", "response larger than 32 MiB", Location(name))]
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            [Diagnostic.make("ISM0001", "response is not UTF-8 text", Location(name))]
        ) from None
    docs = list(documents(name, text))
    if len(docs) != 1:
        raise ConfigError([Diagnostic.make("ISM0007", "expected one JSON object", Location(name))])
    return docs[0].data, docs[0].source, docs[0].location


def _bad_arg(msg: str) -> Exception:
    from ..errors import InvalidArgument

    return InvalidArgument(msg)


def _is_prometheus(data: dict[str, Any]) -> bool:
    """A Prometheus API answer: ``status`` with ``data`` (success) or ``errorType`` (error)."""
    return "status" in data and ("data" in data or "errorType" in data)


#: the istio_requests_total labels a Prometheus response may be grouped by
PROMETHEUS_LABELS = ("destination_version", "destination_workload")


def prometheus_rows(
    data: dict[str, Any], smap: SourceMap, where: Location, plan: Any, cands: Any
) -> list[Row]:
    """Counts from a Prometheus ``/api/v1/query`` instant vector grouped by
    ``destination_version`` or ``destination_workload``: each series is mapped to the
    destination of the matched rule whose pods carry that version label or belong to that
    workload (the DestinationRule's subset labels over the Service's pods). Values of
    ``increase()`` are extrapolated, hence fractional: they are rounded to whole requests."""
    import math

    from ..config import inputs
    from ..errors import ConfigError, Diagnostic

    if data.get("status") == "error":
        msg = f"Prometheus answered {data.get('errorType', 'error')}: {data.get('error', '?')}"
        raise ConfigError([Diagnostic.make("ISM0004", msg, where)])
    resp = _validate(inputs.PrometheusResponse, data, smap, where)
    pods = {(c.host, c.subset): _candidate_pods(plan, c) for c in cands}
    out: list[Row] = []
    problems: list[Diagnostic] = []
    for i, sample in enumerate(resp.data.result):
        p = ("data", "result", i)
        loc = smap.find(p) or where
        labels = {k: v for k, v in sample.metric.items() if k in PROMETHEUS_LABELS}
        if len(labels) != 1:
            problems.append(
                Diagnostic.make(
                    "ISM0004",
                    "each series must be grouped by exactly one of "
                    f"{', '.join(PROMETHEUS_LABELS)} (sum by (destination_version) (...)); "
                    f"got labels {sorted(sample.metric)}",
                    loc,
                    field_path=f"data.result[{i}].metric",
                )
            )
            continue
        ((label, value),) = labels.items()
        try:
            x = float(sample.value[1])
        except ValueError:
            x = math.nan
        if not (math.isfinite(x) and 0 <= x < 2**63):
            problems.append(
                Diagnostic.make(
                    "ISM0004",
                    f"value {sample.value[1]!r} is not a count",
                    smap.find((*p, "value")) or loc,
                    field_path=f"data.result[{i}].value",
                )
            )
            continue
        if label == "destination_version":
            hit = [
                k
                for k, ps in pods.items()
                if any(dict(e.labels).get("version") == value for e in ps)
            ]
        else:
            hit = [k for k, ps in pods.items() if any(e.workload == value for e in ps)]
        if len(hit) != 1:
            what = "no destination" if not hit else f"{len(hit)} destinations"
            dests = ", ".join(f"{h}/{s}" if s else h for h, s in pods)
            problems.append(
                Diagnostic.make(
                    "ISM0004",
                    f"{label}={value!r} selects {what} of the matched rule ({dests})",
                    loc,
                    field_path=f"data.result[{i}].metric.{label}",
                )
            )
            continue
        host, subset = hit[0]
        out.append((host, subset, None, round(x), loc))
    if problems:
        raise ConfigError(problems)
    if not out:
        raise ConfigError(
            [Diagnostic.make("ISM0004", "no series: the query returned no counts", where)]
        )
    return out


def _candidate_pods(plan: Any, c: Any) -> tuple[Any, ...]:
    """The pods a candidate destination reaches: the Service's endpoints with the labels of
    the DestinationRule subset."""
    svc = plan.services.get(c.host)
    if svc is None:
        return ()
    if c.subset is None:
        return tuple(svc.endpoints)
    labels: dict[str, str] | None = None
    for dr in plan.destination_rules:
        spec = dr.subset(c.subset) if dr.host == c.host else None
        if spec is not None:
            labels = dict(spec.labels)
            break
    if labels is None:
        return ()
    return tuple(
        e for e in svc.endpoints if all(dict(e.labels).get(k) == v for k, v in labels.items())
    )


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
    if (args.observed is None) == (args.prometheus is None):
        raise InvalidArgument("give either --observed FILE or --prometheus URL --query Q")
    if (args.prometheus is None) != (args.query is None):
        raise InvalidArgument("--prometheus and --query go together")
    doc = _fetch(args.prometheus, args.query) if args.prometheus else _read_one(args.observed)
    sim = load_simulator(args, report=False)
    req = build_request(args)
    d = sim.route(req, rng=0, trace=True)
    cands = d.candidates
    prom = _is_prometheus(doc[0])
    rows = prometheus_rows(*doc, sim.plan, cands) if prom else counts_rows(*doc)
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
        raise InvalidArgument(
            f"{args.observed or args.prometheus}: the sample is empty (n = 0): nothing to verify"
        )
    srm = srm_check(observed, weights, alpha=args.srm_alpha)
    eq = split_equivalence(observed, weights, tolerance=args.tolerance, alpha=args.alpha)
    ok = srm.verdict != "mismatch" and eq.verdict == "equivalent"
    report_problems(sim, args.filename)  # once there is an answer (exit 2 shows only the bad input)
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
        elif eq.n < eq.n_required:
            print(
                f"NOT VERIFIED: too few requests to show every share within ±{args.tolerance:g}"
                f" (about {eq.n_required:,} needed, {eq.n:,} observed)"
            )
        else:
            print(
                f"NOT VERIFIED: {eq.n:,} requests are more than the {eq.n_required:,} a correct"
                f" split needs (power 0.9) to show every share within ±{args.tolerance:g}; some"
                " share sits near the edge of the band, so the split is probably off"
            )
    return 0 if ok else 1
