"""Case reports in the formats CI systems read: JUnit XML (:func:`junit_xml`, for the test
reporters of GitLab, Jenkins and GitHub) and GitHub Actions workflow annotations
(:func:`github_annotations`, one ``::error file=F,line=L::message`` per failed case).

The JUnit XML keeps to the Jenkins xunit plugin's ``junit-10.xsd`` (the schema the widest set
of readers accept): ``testsuites`` > ``testsuite`` > ``testcase`` with ``failure`` elements,
``properties`` and ``system-out``; file:line go in the failure text and the class name, since
that schema has no ``file`` attribute on a test case.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

from ...errors import CODES, Diagnostic, Location, Severity
from .coverage import KINDS
from .run import CaseReport, CaseResult

__all__ = [
    "annotation",
    "diagnostic_annotation",
    "github_annotations",
    "junit_error_xml",
    "junit_xml",
    "write_junit",
]


def _suite_name(result: CaseResult, default: str) -> str:
    loc = result.location
    return loc.file if loc is not None and loc.file else default


def _where(loc: Location | None) -> str:
    if loc is None:
        return ""
    return f"{loc.file}:{loc.line}" if loc.line > 0 else loc.file


def junit_xml(
    report: CaseReport,
    *,
    name: str = "istiosim",
    timestamp: datetime | None = None,
    hostname: str | None = None,
) -> str:
    """The report as JUnit XML: one ``testsuite`` per case file, one ``testcase`` per case
    (a ``failure`` with expected vs actual and the trace when it failed), the route coverage
    as ``properties`` and in ``system-out``."""
    times = [r.duration for r in report.results]
    stamp = (timestamp or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S")
    host = hostname if hostname is not None else socket.gethostname()
    suites: dict[str, list[tuple[CaseResult, float]]] = {}
    for r, t in zip(report.results, times, strict=True):
        suites.setdefault(_suite_name(r, name), []).append((r, t))
    root = ET.Element("testsuites", name=name)
    cov = report.coverage
    total_t = 0.0
    for i, (suite, items) in enumerate(suites.items()):
        fails = sum(not r.passed for r, _ in items)
        st = sum(t for _, t in items)
        total_t += st
        s = ET.SubElement(
            root,
            "testsuite",
            name=suite,
            tests=str(len(items)),
            failures=str(fails),
            errors="0",
            skipped="0",
            time=f"{st:.3f}",
            timestamp=stamp,
            hostname=host,
            id=str(i),
        )
        props = ET.SubElement(s, "properties")
        ET.SubElement(
            props,
            "property",
            name="route_coverage",
            value="n/a" if cov.empty else f"{cov.percent:.1f}",
        )
        for kind in KINDS:
            c, tot = cov.count(kind)
            ET.SubElement(props, "property", name=f"route_coverage_{kind}", value=f"{c}/{tot}")
        classname = os.path.splitext(os.path.basename(suite))[0] or name
        for r, t in items:
            tc = ET.SubElement(s, "testcase", name=r.name, classname=classname, time=f"{t:.3f}")
            if not r.passed:
                first = r.mismatches[0]
                f = ET.SubElement(
                    tc,
                    "failure",
                    message=_one_line(str(first)),
                    type="RouteMismatch",
                )
                where = _where(r.location)
                f.text = (f"{where}\n" if where else "") + r.failure_text()
        ET.SubElement(s, "system-out").text = cov.details()
    root.set("tests", str(len(report.results)))
    root.set("failures", str(len(report.failed)))
    root.set("errors", "0")
    root.set("time", f"{total_t:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def junit_error_xml(diagnostics: Iterable[Diagnostic], *, name: str = "istiosim") -> str:
    """JUnit XML for a run that could not start (bad case file or config, exit code 2): one
    test case ``load`` with an ``error`` listing every problem, so the CI report shows why."""
    diags = list(diagnostics)
    root = ET.Element("testsuites", name=name, tests="1", failures="0", errors="1", time="0")
    s = ET.SubElement(
        root, "testsuite", name=name, tests="1", failures="0", errors="1", skipped="0", time="0"
    )
    tc = ET.SubElement(s, "testcase", name="load", classname=name, time="0")
    first = str(diags[0]) if diags else "the input could not be read"
    e = ET.SubElement(tc, "error", message=_one_line(first), type="ConfigError")
    e.text = "\n".join(str(d) for d in diags)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: str | os.PathLike[str], report: CaseReport | str) -> None:
    """Write :func:`junit_xml` of ``report`` (or XML text already made) to ``path`` (UTF-8),
    creating its folder."""
    d = os.path.dirname(os.fspath(path))
    if d:
        os.makedirs(d, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(report if isinstance(report, str) else junit_xml(report))


def _one_line(text: str) -> str:
    return text.splitlines()[0] if text else text


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: str,
    message: str,
    location: Location | None = None,
    *,
    title: str | None = None,
) -> str:
    """One GitHub Actions workflow command (``::error file=F,line=L,col=C,title=T::message``),
    escaped as the runner expects (``%``, CR, LF in the message; also ``:`` and ``,`` in
    properties)."""
    if level not in ("error", "warning", "notice"):
        raise ValueError(f"annotation level must be error, warning or notice, got {level!r}")
    props: list[str] = []
    if location is not None and location.file and not location.file.startswith("<"):
        props.append(f"file={_escape_property(location.file)}")
        if location.line > 0:
            props.append(f"line={location.line}")
            if location.column > 0:
                props.append(f"col={location.column}")
    if title:
        props.append(f"title={_escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{_escape_data(message)}"


_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def diagnostic_annotation(d: Diagnostic) -> str:
    """A diagnostic as a workflow command: error, warning or notice at its file:line:col,
    titled with its code and name (``IST0101 ReferencedResourceNotFound``)."""
    name = CODES.get(d.code, ("", d.severity))[0]
    what = f"{d.field_path}: " if d.field_path else ""
    res = f" ({d.resource})" if d.resource else ""
    title = f"{d.code} {name}".strip()
    return annotation(_LEVELS[d.severity], f"{what}{d.message}{res}", d.location, title=title)


def github_annotations(report: CaseReport, *, fail_under: float | None = None) -> list[str]:
    """One ``::error`` per failed case at its file:line, and a ``::notice`` (or ``::error``
    below ``fail_under``) with the route coverage."""
    out = [
        annotation(
            "error",
            "\n".join(str(m) for m in r.mismatches),
            r.location,
            title=f"route case failed: {r.name}",
        )
        for r in report.failed
    ]
    cov = report.coverage
    below = fail_under is not None and cov.fail_under(fail_under)
    text = cov.summary() + (f" (below --fail-under {fail_under:g}%)" if below else "")
    out.append(annotation("error" if below else "notice", text, title="istiosim route coverage"))
    return out
