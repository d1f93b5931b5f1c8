"""IST0149: a gateway-bound VirtualService routes on a JWT claim but a pod of the gateway has
no RequestAuthentication to validate the token (istioctl's ``virtualservice.JWTClaimRouteAnalyzer``,
``pkg/config/analysis/analyzers/virtualservice/jwtclaimroute.go``); the claim match then never
matches.

As upstream: the first header or withoutHeaders key of the VirtualService naming a claim
(``@request.auth.claims.x`` or ``@request.auth.claims[x]``, ``jwt.ToRoutingClaim``); for each
gateway that exists (``ns/name`` or ``name`` in the VirtualService's namespace), each pod its
selector picks needs a RequestAuthentication in ``istio-system`` or in the pod's namespace whose
selector (none: every pod) matches the pod; one message per such pod.

The pods are the workloads loaded (a Deployment stands for its pods, as in the subset
analyzer) plus the stand-in ingress pod ``istio-system/istio-ingressgateway-dummypod``
(``istio: ingressgateway``) that ``istioctl analyze`` adds for files-only analysis
(``pkg/config/analysis/local/defaults.go``, ``AddDefaultResources``).
"""

from __future__ import annotations

from ..config import VirtualService
from ..errors import Diagnostic
from ..mesh import Workload, labels_match
from .subject import Subject

ISTIO_SYSTEM = "istio-system"
HEADER_JWT_CLAIM = "@request.auth.claims"

#: the pod ``istioctl analyze`` assumes (defaults.go): the default ingress gateway
DEFAULT_INGRESS_POD = Workload(
    "istio-ingressgateway-dummypod", ISTIO_SYSTEM, {"istio": "ingressgateway"}, 1, "Pod"
)


def is_routing_claim(header: str) -> bool:
    """``jwt.ToRoutingClaim(header).Match``."""
    if not header.lower().startswith(HEADER_JWT_CLAIM):
        return False
    rest = header[len(HEADER_JWT_CLAIM) :]
    return (rest.startswith(".") and len(rest) > 1) or (
        rest.startswith("[") and rest.endswith("]") and len(rest) > 2
    )


def claim_key(vs: VirtualService) -> str | None:
    """``routeBasedOnJWTClaimKey``: the first claim-routing key of any match."""
    for r in vs.spec.http:
        for m in r.match if r is not None else ():
            for key in (*m.headers, *m.without_headers):
                if is_routing_claim(key):
                    return key
    return None


def analyze(s: Subject) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    authn: dict[str, list[dict[str, str]]] = {}
    for ra in s.config.request_authentications:
        sel = ra.spec.selector.match_labels if ra.spec.selector is not None else {}
        authn.setdefault(ra.metadata.namespace or "default", []).append(dict(sel))
    gateways = {(g.metadata.namespace or "default", g.metadata.name): g for g in s.config.gateways}
    pods = [*s.mesh.workloads, DEFAULT_INGRESS_POD]
    for vs in s.config.virtual_services:
        key = claim_key(vs)
        if key is None:
            continue
        ns = vs.metadata.namespace or "default"
        col = s.collector(out, "VirtualService", ns, vs.metadata.name)
        for i, name in enumerate(vs.spec.gateways):
            if name == "mesh":
                continue
            gns, slash, gname = name.partition("/")
            gkey = (gns, gname) if slash else (ns, name)
            gw = gateways.get(gkey)
            if gw is None:
                continue
            for pod in pods:
                if not labels_match(gw.spec.selector, pod.labels):
                    continue
                selectors = [*authn.get(ISTIO_SYSTEM, []), *authn.get(pod.namespace, [])]
                if any(labels_match(sel, pod.labels) for sel in selectors):
                    continue
                col.add(
                    "IST0149",
                    f"The virtual service uses the JWT claim based routing (key: {key}) but found "
                    f"no request authentication for the gateway ({gkey[0]}/{gkey[1]}) pod "
                    f"({pod.name}). The request authentication must first be applied for the "
                    "gateway pods to validate the JWT token and make the claims available for "
                    "routing.",
                    ("spec", "gateways", i),
                )
    return out
