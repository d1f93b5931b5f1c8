"""Diagnostics of one object, located through its source map (file:line:col and field path).

The webhook validators and the translators both report through a ``Collector``; the field
path is kept as a tuple (``("spec", "http", 0, "route")``) until it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import Diagnostic, Location, Severity
from ..loader import ConfigSet, SourceMap

Path = tuple[str | int, ...]


def dotted(path: Iterable[str | int]) -> str:
    """``("spec", "http", 0, "route")`` → ``spec.http[0].route``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


@dataclass
class Collector:
    """Diagnostics of one object, appended to a shared list in the order they are found."""

    resource: str
    source: SourceMap
    fallback: Location
    out: list[Diagnostic] = field(default_factory=list)

    def loc(self, path: Iterable[str | int]) -> Location:
        return self.source.find(tuple(path)) or self.fallback

    def add(self, code: str, message: str, path: Path, severity: Severity | None = None) -> None:
        self.out.append(
            Diagnostic.make(
                code,
                message,
                self.loc(path),
                resource=self.resource,
                field_path=dotted(path),
                severity=severity,
            )
        )

    def error(self, message: str, path: Path) -> None:
        self.add("IST0106", message, path)

    def warn(self, message: str, path: Path, code: str = "IST0133") -> None:
        self.add(code, message, path)

    def written_last(self, path: Path, keys: list[str]) -> str:
        """Of several mutually exclusive keys, the one written last: the one that conflicts."""

        def where(k: str) -> tuple[int, int]:
            loc = self.source.get((*path, k))
            return (loc.line, loc.column) if loc else (0, 0)

        return max(keys, key=where)


def collector(config: ConfigSet, out: list[Diagnostic], kind: str, ns: str, name: str) -> Collector:
    """The collector of one object, falling back to its file when a field has no position."""
    src = config.source(kind, ns, name)
    fallback = src.find(()) or Location(config.files[0] if config.files else "<config>")
    return Collector(f"{kind} {ns}/{name}", src, fallback, out)


def namespace_of(metadata_namespace: str | None) -> str:
    return metadata_namespace or "default"
