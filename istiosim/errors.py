"""Errors and diagnostics.

The exception tree is shallow, and each class also inherits the builtin it refines::

    IstiosimError
     ├── ConfigError(ValueError)       bad configuration: carries every Diagnostic found
     └── InvalidArgument(ValueError)   misuse of the API or CLI (bad n, bad weights, bad alpha, ...)

Traffic outcomes (404 NR, 503 UH, ...) are never exceptions: they are data on a Decision.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value came from: a file (or ``<string>``/``<stdin>``), 1-based line and column."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


class Severity(str, enum.Enum):
    """How bad a diagnostic is, in Istio's words."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


#: The diagnostic codes istiosim emits. Istio's own codes where the concept matches
#: (``istioctl analyze``), our own ``ISM`` prefix where it does not.
CODES: dict[str, tuple[str, Severity]] = {
    "IST0002": ("Deprecated", Severity.WARNING),
    "IST0101": ("ReferencedResourceNotFound", Severity.ERROR),
    "IST0106": ("SchemaValidationError", Severity.ERROR),
    "IST0109": ("ConflictingMeshGatewayVirtualServiceHosts", Severity.ERROR),
    "IST0110": ("ConflictingSidecarWorkloadSelectors", Severity.ERROR),
    "IST0111": ("MultipleSidecarsWithoutWorkloadSelectors", Severity.ERROR),
    "IST0112": ("VirtualServiceDestinationPortSelectorRequired", Severity.ERROR),
    "IST0128": ("NoServerCertificateVerificationDestinationLevel", Severity.WARNING),
    "IST0129": ("NoServerCertificateVerificationPortLevel", Severity.WARNING),
    "IST0130": ("VirtualServiceUnreachableRule", Severity.WARNING),
    "IST0131": ("VirtualServiceIneffectiveMatch", Severity.INFO),
    "IST0132": ("VirtualServiceHostNotFoundInGateway", Severity.WARNING),
    "IST0133": ("SchemaWarning", Severity.WARNING),
    "IST0140": ("IngressRouteRulesNotAffected", Severity.WARNING),
    "IST0149": ("JwtClaimBasedRoutingWithoutRequestAuthN", Severity.ERROR),
    "IST0165": ("ReferencedInternalGateway", Severity.WARNING),
    "IST0167": ("IneffectivePolicy", Severity.WARNING),
    "IST0173": ("DestinationRuleSubsetNotSelectPods", Severity.ERROR),
    "IST0174": ("UnknownDestinationRuleHost", Severity.WARNING),
    "ISM0001": ("FileError", Severity.ERROR),
    "ISM0002": ("YAMLSyntaxError", Severity.ERROR),
    "ISM0003": ("UnknownField", Severity.ERROR),
    "ISM0004": ("InvalidValue", Severity.ERROR),
    "ISM0005": ("DuplicateKey", Severity.ERROR),
    "ISM0006": ("YAMLAliasRefused", Severity.ERROR),
    "ISM0007": ("NotAMapping", Severity.ERROR),
    "ISM0008": ("MissingField", Severity.ERROR),
    "ISM0009": ("InputTooLarge", Severity.ERROR),
    "ISM0100": ("UnknownKind", Severity.INFO),
    "ISM0101": ("NotSimulated", Severity.INFO),
    "ISM0102": ("ObjectReplaced", Severity.INFO),
    "ISM0300": ("RolloutInvalid", Severity.ERROR),
    "ISM0301": ("RolloutReferenceNotFound", Severity.ERROR),
    "ISM0302": ("RolloutStepRejected", Severity.ERROR),
    "ISM0303": ("RolloutRouteShadowed", Severity.WARNING),
    "ISM0304": ("RolloutMaxWeightOvershoot", Severity.WARNING),
    "ISM0305": ("RolloutCanaryShareBelowWeight", Severity.WARNING),
    "ISM0306": ("RolloutStepUnverifiable", Severity.INFO),
    "ISM0307": ("RolloutPlanSuspicious", Severity.WARNING),
    "ISM0308": ("RolloutStepFailsRequests", Severity.WARNING),
    "ISM0130": ("UnreachableRoute", Severity.WARNING),
    "ISM0400": ("ApplicationUnknownHost", Severity.ERROR),
    "ISM0401": ("ApplicationCallCycle", Severity.ERROR),
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a configuration: a stable code, a message, and where it is."""

    code: str
    message: str
    location: Location | None = None
    resource: str | None = None
    severity: Severity = field(default=Severity.ERROR)
    field_path: str | None = None

    @classmethod
    def make(
        cls,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        resource: str | None = None,
        field_path: str | None = None,
        severity: Severity | None = None,
    ) -> Diagnostic:
        """Build a diagnostic whose severity defaults to the one in the code table."""
        sev = severity if severity is not None else CODES.get(code, ("", Severity.ERROR))[1]
        return cls(code, message, location, resource, sev, field_path)

    @property
    def name(self) -> str:
        return CODES.get(self.code, (self.code, self.severity))[0]

    def __str__(self) -> str:
        where = str(self.location) if self.location else "<config>"
        what = f"{self.field_path}: " if self.field_path else ""
        res = f" ({self.resource})" if self.resource else ""
        return f"{where}: {self.severity.value}[{self.code}] {what}{self.message}{res}"

    def to_dict(self) -> dict[str, object]:
        loc = self.location
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "resource": self.resource,
            "field": self.field_path,
            "file": loc.file if loc else None,
            "line": loc.line if loc and loc.line > 0 else None,
            "column": loc.column if loc and loc.column > 0 else None,
        }

    def __repr__(self) -> str:
        where = f" {self.location}" if self.location else ""
        return f"<Diagnostic {self.severity.value} {self.code}{where}: {self.message}>"

    def _table(self) -> Any:
        from .display.objects import diagnostics_table

        return diagnostics_table([self], title=f"{self.severity.value}: {self.name}")

    def _repr_html_(self) -> str:
        from .display import as_html

        return as_html(self)


class IstiosimError(Exception):
    """Base of every exception istiosim raises on purpose."""


class ConfigError(IstiosimError, ValueError):
    """The configuration is refused; ``diagnostics`` lists every problem found, with file:line."""

    max_shown = 20

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        shown = [str(d) for d in self.diagnostics[: self.max_shown]]
        rest = len(self.diagnostics) - len(shown)
        if rest > 0:
            shown.append(f"... and {rest} more")
        super().__init__("\n".join(shown) if shown else "invalid configuration")

    @property
    def errors(self) -> Sequence[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]


class InvalidArgument(IstiosimError, ValueError):
    """An argument is out of range or of the wrong kind (API or CLI misuse)."""
