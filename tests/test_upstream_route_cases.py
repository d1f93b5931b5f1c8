"""istio/istio pilot/pkg/networking/core/route/route_test.go ``TestBuildHTTPRoutes``, the
rewrite, redirect and direct-response cases, translated into requests.

Upstream asserts the Envoy route Istio builds (``PrefixRewrite``, ``RegexRewrite``,
``HostRewriteLiteral``, ``RedirectAction``, ``DirectResponse``, ``ResponseHeadersToAdd``); here
each becomes a request whose forwarded path and authority, redirect Location and status, or
direct response are what Envoy does with that route. The upstream VirtualServices are bound to
a gateway with no hosts; the same ``http`` rules are put on a mesh VirtualService for host
``foo``. Both engines route every request.
"""

from __future__ import annotations

import numpy as np
import pytest

from istiosim import Outcome, Request
from istiosim.batch import RequestBatch
from istiosim.engine import route, route_batch
from istiosim.errors import ConfigError
from istiosim.results import Decision

from helpers import load, svc, vs

FOO = svc("foo", ports=(80,))


def both(rules: str, req: Request) -> Decision:
    sim = load(FOO, vs("foo", rules))
    n = sim.plan.n_draws
    d = route(sim.plan, req, [0] * n)
    assert (
        route_batch(sim.plan, RequestBatch.from_requests([req]), np.zeros((1, n), np.uint64))[0]
        == d
    )
    return d


TO_FOO = "  route: [{destination: {host: foo}}]\n"

# name → (http rules, request path, (path, authority) forwarded)
REWRITES = {
    "for host rewrite": ("- rewrite: {authority: bar.example.org}\n" + TO_FOO, "/a", ("/a", "bar.example.org")),
    "for full path rewrite": (
        "- rewrite: {uriRegexRewrite: {match: /.*, rewrite: /replace-full}}\n" + TO_FOO, "/a/b?q=1",
        ("/replace-full?q=1", "foo")),
    # Envoy's prefix_rewrite replaces the matched prefix ("/" without a uri match)
    "for prefix path rewrite": ("- rewrite: {uri: /replace-prefix}\n" + TO_FOO, "/a", ("/replace-prefixa", "foo")),
    "for path and host rewrite": (
        "- rewrite: {uriRegexRewrite: {match: /.*, rewrite: /replace-full}, authority: bar.example.org}\n" + TO_FOO,
        "/x", ("/replace-full", "bar.example.org")),
    "for path regex match with regex rewrite": (
        "- match: [{uri: {regex: '^/service/[^/]+/.*$'}}]\n"
        "  rewrite: {uriRegexRewrite: {match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1'}}\n" + TO_FOO,
        "/service/abc/def", ("/def/instance/abc", "foo")),
    # upstream's "for empty prefix path rewrite" strips the prefix only under Gateway API
    # semantics (an internal annotation, route.go UseGatewaySemantics); a VirtualService as
    # written gets Envoy's prefix_rewrite, which keeps the rest's leading slash
    "for empty prefix path rewrite (VirtualService semantics)": (
        "- match: [{uri: {prefix: /prefix-to-be-removed}}]\n  rewrite: {uri: /}\n" + TO_FOO,
        "/prefix-to-be-removed/foo", ("//foo", "foo")),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REWRITES))
def test_rewrites(case: str) -> None:
    rules, path, want = REWRITES[case]
    d = both(rules, Request("foo", path=path))
    assert d.outcome is Outcome.OK
    assert (d.path, d.authority) == want


# name → (http rules, request path, status, Location or None)
REDIRECTS = {
    "for redirect code": (
        "- redirect: {uri: example.org, authority: some-authority.default.svc.cluster.local, redirectCode: 308}\n",
        "/a", 308, None),  # upstream asserts the code only
    "for full path redirect": (
        "- redirect: {uri: /replace-full-path, authority: some-authority.default.svc.cluster.local, redirectCode: 308}\n",
        "/a?q=1", 308, "http://some-authority.default.svc.cluster.local/replace-full-path?q=1"),
    "for prefix_rewrite redirect": (
        "- redirect: {authority: foo.example.com, prefixRewrite: /, redirectCode: 301}\n",
        "/a/b", 301, "http://foo.example.com/a/b"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REDIRECTS))
def test_redirects(case: str) -> None:
    rules, path, status, location = REDIRECTS[case]
    d = both(rules, Request("foo", path=path))
    assert (d.outcome, d.status) == (Outcome.REDIRECT, status)
    if location is not None:
        assert d.redirect_location == location


def test_redirect_and_header_manipulation() -> None:
    rules = (
        "- redirect: {uri: /x, redirectCode: 308}\n"
        "  headers: {response: {set: {Strict-Transport-Security: 'max-age=31536000; includeSubDomains; preload'}}}\n"
    )  # fmt: skip
    d = both(rules, Request("foo"))
    assert (d.outcome, d.status) == (Outcome.REDIRECT, 308)
    assert d.response_headers == (
        ("set", "Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload"),
    )


def test_direct_response_code_and_header_manipulation() -> None:
    d = both("- directResponse: {status: 200, body: {string: hello}}\n", Request("foo"))
    assert (d.outcome, d.status, d.body) == (Outcome.DIRECT, 200, "hello")
    rules = (
        "- directResponse: {status: 200, body: {string: hello}}\n"
        "  headers: {response: {set: {Strict-Transport-Security: max-age=31536000}}}\n"
    )
    d = both(rules, Request("foo"))
    assert d.response_headers == (("set", "Strict-Transport-Security", "max-age=31536000"),)


def test_invalid_redirect_code_is_refused() -> None:
    """Upstream "for invalid redirect code" (317) builds no redirect; the webhook refuses it."""
    with pytest.raises(ConfigError) as exc:
        load(FOO, vs("foo", "- redirect: {uri: example.org, redirectCode: 317}\n"))
    assert "redirect" in str(exc.value).lower() and "317" in str(exc.value)
