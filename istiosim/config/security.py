"""The ``security.istio.io`` kinds istiosim reads: RequestAuthentication, as far as the
analyzers need it (which workloads validate JWTs, so that routes on JWT claims work: IST0149).
Strict like the networking kinds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import IstioModel, ObjectMeta, new_list
from .kinds import SECURITY_VERSIONS as SECURITY_VERSIONS
from .networking import WorkloadSelector


class JWTHeader(IstioModel):
    name: str
    prefix: str | None = None


class ClaimToHeader(IstioModel):
    header: str
    claim: str


class JWTRule(IstioModel):
    issuer: str | None = None
    audiences: list[str] = Field(default_factory=new_list)
    jwks_uri: str | None = None
    jwks: str | None = None
    from_headers: list[JWTHeader] = Field(default_factory=new_list)
    from_params: list[str] = Field(default_factory=new_list)
    from_cookies: list[str] = Field(default_factory=new_list)
    output_payload_to_header: str | None = None
    forward_original_token: bool | None = None
    output_claim_to_headers: list[ClaimToHeader] = Field(default_factory=new_list)
    timeout: str | None = None
    space_delimited_claims: list[str] = Field(default_factory=new_list)


class PolicyTargetReference(IstioModel):
    group: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None


class RequestAuthenticationSpec(IstioModel):
    selector: WorkloadSelector | None = None
    target_ref: PolicyTargetReference | None = None
    target_refs: list[PolicyTargetReference] = Field(default_factory=new_list)
    jwt_rules: list[JWTRule] = Field(default_factory=new_list)


class RequestAuthentication(IstioModel):
    api_version: str = "security.istio.io/v1"
    kind: Literal["RequestAuthentication"] = "RequestAuthentication"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: RequestAuthenticationSpec = Field(default_factory=RequestAuthenticationSpec)
    status: dict[str, Any] | None = None
