"""Match semantics, rule by rule: semantics.md §0.5-§0.9, §0.14, §1.2 and §1.3.

Each test names the rule it proves. The fixture VS sends requests that satisfy the match block
under test to subset v2 and everything else to v1 (rule 1, a catch-all), so "matched" is simply
``decision.subset == "v2"``.
"""

from __future__ import annotations

import textwrap

import pytest

from istiosim import ConfigError, Outcome, Request
from istiosim.simulator import Simulator

from helpers import dr, go, load, svc, trace_text, vs

BASE = svc("reviews", ["v1", "v2"]) + "---\n" + dr("reviews", ["v1", "v2"])


def match_vs(match: str, **kw: str) -> Simulator:
    """reviews: rule 0 = the given match list → v2; rule 1 = catch-all → v1."""
    http = (
        "- match:\n"
        + textwrap.indent(textwrap.dedent(match).strip("\n"), "  ")
        + "\n  route:\n  - destination: {host: reviews, subset: v2}\n"
        "- route:\n  - destination: {host: reviews, subset: v1}\n"
    )
    return load(BASE, vs("reviews", http, **kw))


def matched(sim: Simulator, req: Request) -> bool:
    d = go(sim, req)
    assert d.outcome is Outcome.OK, d.explain()
    return d.subset == "v2"


def R(path: str = "/", **kw: object) -> Request:
    return Request("reviews", path, **kw)  # type: ignore[arg-type]


# -- §0.5 regex is RE2 full match ------------------------------------------------------------


def test_s0_5_regex_is_re2_full_match_on_uri() -> None:
    sim = match_vs("- uri:\n    regex: /reviews/[0-9]+")
    assert matched(sim, R("/reviews/12"))
    assert not matched(sim, R("/reviews/12/extra")), "implicitly anchored at the end"
    assert not matched(sim, R("/x/reviews/12")), "implicitly anchored at the start"


@pytest.mark.parametrize("where", ["headers", "queryParams"])
def test_s0_5_regex_is_re2_full_match_on_headers_and_query(where: str) -> None:
    sim = match_vs(f"- {where}:\n    k:\n      regex: ab+")
    if where == "headers":
        hit = lambda v: matched(sim, R(headers={"k": v}))  # noqa: E731
    else:
        hit = lambda v: matched(sim, R(f"/?k={v}"))  # noqa: E731
    assert hit("abbb")
    assert not hit("xabb")
    assert not hit("abbx")


def test_s0_5_regex_full_match_on_method_scheme_authority() -> None:
    sim = match_vs(
        "- method:\n    regex: GE.\n  authority:\n    regex: rev.*\n  scheme:\n    regex: htt."
    )
    assert matched(sim, R(method="GET"))
    assert not matched(sim, R(method="GETX"))
    assert not matched(sim, R(method="GET", scheme="https"))


@pytest.mark.parametrize("pattern", ["(?=a)b", "(a)\\1", "(?<=x)y"])
def test_s0_5_regex_lookaround_and_backrefs_rejected_as_not_re2(pattern: str) -> None:
    with pytest.raises(ConfigError, match="RE2"):
        match_vs(f"- uri:\n    regex: '{pattern}'")


# -- §0.6 uri ignores query and fragment; ignoreUriCase for exact/prefix only ---------------


@pytest.mark.parametrize(
    "kind,value",
    [("exact", "/reviews/0"), ("prefix", "/reviews"), ("regex", "/reviews/[0-9]")],
)
def test_s0_6_uri_match_ignores_query_and_fragment(kind: str, value: str) -> None:
    sim = match_vs(f"- uri:\n    {kind}: {value}")
    assert matched(sim, R("/reviews/0?user=x&q=/y"))
    assert matched(sim, R("/reviews/0#frag"))
    assert matched(sim, R("/reviews/0?a=1#frag"))


def test_s0_6_query_string_never_participates_in_uri_match() -> None:
    sim = match_vs("- uri:\n    regex: '.*user=jason.*'")
    assert not matched(sim, R("/reviews?user=jason"))


def test_s0_6_ignore_uri_case_applies_to_exact_and_prefix() -> None:
    exact = match_vs("- uri:\n    exact: /Reviews/0\n  ignoreUriCase: true")
    assert matched(exact, R("/REVIEWS/0"))
    prefix = match_vs("- uri:\n    prefix: /Reviews\n  ignoreUriCase: true")
    assert matched(prefix, R("/rEvIeWs/1"))
    sensitive = match_vs("- uri:\n    prefix: /Reviews")
    assert not matched(sensitive, R("/reviews/1"))


def test_s0_6_ignore_uri_case_never_applies_to_regex() -> None:
    sim = match_vs("- uri:\n    regex: /reviews/.*\n  ignoreUriCase: true")
    assert matched(sim, R("/reviews/1"))
    assert not matched(sim, R("/REVIEWS/1"))


# -- §0.7 header names case-insensitive, values case-sensitive, several values joined ------


def test_s0_7_header_names_case_insensitive_values_case_sensitive() -> None:
    sim = match_vs("- headers:\n    End-User:\n      exact: jason")
    assert matched(sim, R(headers={"end-user": "jason"}))
    assert matched(sim, R(headers={"END-USER": "jason"}))
    assert not matched(sim, R(headers={"end-user": "Jason"}))
    prefix = match_vs("- headers:\n    x-tier:\n      prefix: gold")
    assert matched(prefix, R(headers={"X-Tier": "golden"}))
    assert not matched(prefix, R(headers={"x-tier": "Golden"}))


def test_s0_7_regex_can_ignore_value_case_with_flag() -> None:
    sim = match_vs("- headers:\n    end-user:\n      regex: (?i)jason")
    assert matched(sim, R(headers={"end-user": "JaSoN"}))


def test_s0_7_several_header_values_are_joined_with_comma() -> None:
    sim = match_vs("- headers:\n    x-tag:\n      exact: a,b")
    assert matched(sim, R(headers={"x-tag": ["a", "b"]}))
    single = match_vs("- headers:\n    x-tag:\n      exact: a")
    assert not matched(single, R(headers={"x-tag": ["a", "b"]})), "no per-value matching"


# -- §0.8 presence match; null rejected; regex "*" ------------------------------------------


def test_s0_8_empty_string_match_is_presence() -> None:
    sim = match_vs("- headers:\n    x-canary: {}")
    assert matched(sim, R(headers={"x-canary": "anything"}))
    assert matched(sim, R(headers={"x-canary": ""}))
    assert not matched(sim, R())


@pytest.mark.parametrize(
    "block",
    [
        "- headers:\n    x-canary: {regex: '*'}",
        "- queryParams:\n    debug: {regex: '*'}",
        "- uri: {regex: '*'}",
        "- method: {regex: '*'}",
    ],
)
def test_s0_8_regex_star_is_refused_by_the_webhook(block: str) -> None:
    """Differs from semantics.md §0.8, which follows route.go's ``canBeConvertedToPresentMatch``.

    Istio's admission webhook runs first: istio/istio pkg/config/validation/virtualservice.go
    ``validateHTTPRouteMatchRequest`` calls ``validateStringMatchRegexp`` on headers, uri,
    scheme, method, authority and queryParams, which compiles the pattern with Go's RE2
    (``regexp.Compile``) and refuses ``*`` ("missing argument to repetition operator").
    """
    with pytest.raises(ConfigError) as exc:
        match_vs(block)
    assert any("invalid RE2 regex `*`" in d.message for d in exc.value.diagnostics)


def test_s0_8_regex_star_under_without_headers_is_presence() -> None:
    """withoutHeaders is never regex-validated by the webhook, so route.go's conversion applies."""
    sim = match_vs("- withoutHeaders:\n    x-canary: {regex: '*'}")
    assert matched(sim, R())
    assert not matched(sim, R(headers={"x-canary": "anything"}))


def test_s0_8_null_header_match_rejected() -> None:
    with pytest.raises(ConfigError) as exc:
        match_vs("- headers:\n    x-canary: null")
    assert any("null" in d.message for d in exc.value.diagnostics)


# -- §0.9 withoutHeaders: missing header is the empty string --------------------------------


def test_s0_9_without_headers_missing_is_empty() -> None:
    sim = match_vs("- withoutHeaders:\n    x-user:\n      exact: foo")
    assert matched(sim, R()), "missing header = '' which is not 'foo' → inverted → match"
    assert matched(sim, R(headers={"x-user": "bar"}))
    assert not matched(sim, R(headers={"x-user": "foo"}))


def test_s0_9_without_headers_exact_empty_does_not_match_missing_header() -> None:
    sim = match_vs("- withoutHeaders:\n    x-user:\n      exact: ''")
    assert not matched(sim, R()), "'' matches the treated-as-empty header, inverted → no"
    assert matched(sim, R(headers={"x-user": "bob"}))


def test_s0_9_without_headers_presence_matches_only_when_absent() -> None:
    sim = match_vs("- withoutHeaders:\n    x-user: {}")
    assert matched(sim, R())
    assert not matched(sim, R(headers={"x-user": ""}))
    assert not matched(sim, R(headers={"x-user": "bob"}))


def test_s0_9_without_headers_regex_against_missing_header() -> None:
    sim = match_vs("- withoutHeaders:\n    x-user:\n      regex: '.*'")
    assert not matched(sim, R()), "'.*' matches '' so the inverted matcher fails"


# -- §0.14 authority sees the raw Host including the port -----------------------------------


def test_s0_14_authority_match_sees_port() -> None:
    exact = match_vs("- authority:\n    exact: reviews")
    assert matched(exact, Request("reviews"))
    assert not matched(exact, Request("reviews", port=9080)), "authority is 'reviews:9080'"
    assert not matched(exact, Request("reviews:9080"))
    prefix = match_vs("- authority:\n    prefix: 'reviews:'")
    assert matched(prefix, Request("reviews:9080"))


def test_s0_14_authority_header_override_is_what_matches() -> None:
    sim = match_vs("- authority:\n    exact: shop.example.com")
    assert matched(sim, Request("reviews", authority="shop.example.com"))


# -- §1.2 each HTTPMatchRequest field ---------------------------------------------------------


def test_s1_2_uri_exact_prefix_regex() -> None:
    exact = match_vs("- uri:\n    exact: /reviews")
    assert matched(exact, R("/reviews"))
    assert not matched(exact, R("/reviews/"))
    prefix = match_vs("- uri:\n    prefix: /rev")
    assert matched(prefix, R("/reviews"))
    assert matched(prefix, R("/rev"))
    assert not matched(prefix, R("/re"))


def test_s1_2_uri_plain_prefix_is_not_path_separated() -> None:
    sim = match_vs("- uri:\n    prefix: /static")
    assert matched(sim, R("/staticfoo"))


def test_s1_2_empty_uri_prefix_matches_everything() -> None:
    sim = match_vs("- uri:\n    prefix: ''")
    assert matched(sim, R("/anything"))


def test_s1_2_scheme_matches_the_scheme_pseudo_header() -> None:
    sim = match_vs("- scheme:\n    exact: https")
    assert not matched(sim, R()), "plaintext sidecar traffic is http"
    assert matched(sim, R(scheme="https"))


def test_s1_2_method_is_case_sensitive() -> None:
    sim = match_vs("- method:\n    exact: POST")
    assert matched(sim, R(method="POST"))
    assert not matched(sim, R(method="post"))
    assert not matched(sim, R())


def test_s1_2_headers_all_must_match() -> None:
    sim = match_vs("- headers:\n    a:\n      exact: '1'\n    b:\n      prefix: x")
    assert matched(sim, R(headers={"a": "1", "b": "xy"}))
    assert not matched(sim, R(headers={"a": "1"}))
    assert not matched(sim, R(headers={"a": "2", "b": "xy"}))


def test_s1_2_fields_within_one_match_block_are_anded() -> None:
    sim = match_vs(
        "- uri:\n    prefix: /r\n  method:\n    exact: GET\n  headers:\n    a:\n      exact: '1'"
    )
    assert matched(sim, R("/r", headers={"a": "1"}))
    assert not matched(sim, R("/r", method="PUT", headers={"a": "1"}))
    assert not matched(sim, R("/x", headers={"a": "1"}))


def test_s1_2_match_blocks_are_ored() -> None:
    sim = match_vs("- uri:\n    prefix: /a\n- headers:\n    x:\n      exact: '1'")
    d = go(sim, R("/b", headers={"x": "1"}))
    assert (d.subset, d.rule, d.match) == ("v2", 0, 1)
    d = go(sim, R("/a"))
    assert (d.subset, d.rule, d.match) == ("v2", 0, 0)
    assert go(sim, R("/b")).subset == "v1"


def test_s1_2_query_params_must_be_present() -> None:
    sim = match_vs("- queryParams:\n    u:\n      exact: jason")
    assert matched(sim, R("/?u=jason"))
    assert not matched(sim, R("/?u=jasonx"))
    assert not matched(sim, R("/"))
    assert matched(sim, R("/", query={"u": "jason"}))


def test_s1_2_query_params_first_occurrence_wins() -> None:
    sim = match_vs("- queryParams:\n    u:\n      exact: a")
    assert matched(sim, R("/?u=a&u=b"))
    assert not matched(sim, R("/?u=b&u=a"))


def test_s1_2_query_params_exact_empty_matches_bare_key_and_values_not_decoded() -> None:
    bare = match_vs("- queryParams:\n    debug:\n      exact: ''")
    assert matched(bare, R("/?debug"))
    assert matched(bare, R("/?debug="))
    assert not matched(bare, R("/?debug=1"))
    enc = match_vs("- queryParams:\n    q:\n      exact: a b")
    assert not matched(enc, R("/?q=a%20b")), "values are not URL-decoded"


def test_s1_2_query_params_presence() -> None:
    sim = match_vs("- queryParams:\n    debug: {}")
    assert matched(sim, R("/?debug"))
    assert matched(sim, R("/?x=1&debug=yes"))
    assert not matched(sim, R("/?x=1"))


def test_s1_2_match_without_uri_is_prefix_slash() -> None:
    sim = match_vs("- method:\n    exact: GET")
    d = go(sim, R("/any/path"))
    assert d.subset == "v2"


def test_s1_2_header_keys_named_like_fields_are_ordinary_headers() -> None:
    sim = match_vs("- headers:\n    uri:\n      exact: /reviews")
    assert not matched(sim, R("/reviews")), "'uri' is a header name, not the path"
    assert matched(sim, R("/other", headers={"uri": "/reviews"}))


def test_s1_2_pseudo_header_keys_read_the_request_line() -> None:
    sim = match_vs("- headers:\n    ':method':\n      exact: DELETE")
    assert matched(sim, R(method="DELETE"))
    assert not matched(sim, R(method="GET"))


def test_s1_2_match_name_does_not_change_matching() -> None:
    sim = match_vs("- name: by-user\n  headers:\n    u:\n      exact: a")
    d = go(sim, R(headers={"u": "a"}))
    assert d.subset == "v2" and d.match == 0


# -- §1.3 StringMatch rules --------------------------------------------------------------------


def test_s1_3_exact_empty_matches_only_present_empty_value() -> None:
    sim = match_vs("- headers:\n    x:\n      exact: ''")
    assert matched(sim, R(headers={"x": ""}))
    assert not matched(sim, R())
    assert not matched(sim, R(headers={"x": "y"}))


def test_s1_3_missing_header_never_matches_a_normal_matcher() -> None:
    for cond in ("exact: a", "prefix: a", "regex: '.*'"):
        sim = match_vs(f"- headers:\n    x:\n      {cond}")
        assert not matched(sim, R()), cond


def test_s1_3_empty_prefix_rejected_for_headers() -> None:
    with pytest.raises(ConfigError, match="prefix"):
        match_vs("- headers:\n    x:\n      prefix: ''")


def test_s1_3_empty_regex_rejected() -> None:
    with pytest.raises(ConfigError, match="empty"):
        match_vs("- headers:\n    x:\n      regex: ''")


def test_s1_3_regex_longer_than_1024_rejected() -> None:
    with pytest.raises(ConfigError, match="1024"):
        match_vs(f"- uri:\n    regex: '{'a' * 1025}'")
    match_vs(f"- uri:\n    regex: '{'a' * 1024}'")  # the limit itself is fine


def test_s1_3_header_names_with_underscores_pass_on_sidecars() -> None:
    sim = match_vs("- headers:\n    x_user:\n      exact: a")
    assert matched(sim, R(headers={"x_user": "a"}))


def test_s1_3_trace_names_the_failing_condition_and_its_line() -> None:
    sim = match_vs("- headers:\n    end-user:\n      exact: jason")
    d = go(sim, R(headers={"end-user": "Jason"}))
    text = trace_text(d)
    assert "header end-user exact 'jason': no (got 'Jason')" in text
    miss = next(s for s in d.trace or () if s.kind == "miss")
    assert miss.location is not None and miss.location.file == "<string>" and miss.location.line > 0
