"""The IST0131 prefix-overlap check (Istio's ``coveredValidation``) through an index by prefix
gives exactly the pairs of Istio's quadratic loop, in the same order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from istiosim import config as cfg
from istiosim.analysis.rule_order import _covering_pairs, _covers, _prefixed

_prefixes = st.sampled_from(["/", "/a", "/a/", "/a/b", "/ab", "/b", "/a/b/c"])
_methods = st.sampled_from([None, "GET", "POST", "G"])
_header = st.sampled_from(
    [{}, {"u": {"exact": "x"}}, {"u": {"prefix": "x"}}, {"v": {"exact": "x"}}]
)


@st.composite
def _match(draw: st.DrawFn) -> cfg.HTTPMatchRequest:
    data: dict[str, object] = {"uri": {"prefix": draw(_prefixes)}, "headers": draw(_header)}
    method = draw(_methods)
    if method:
        data["method"] = {draw(st.sampled_from(["exact", "prefix"])): method}
    if draw(st.booleans()):
        data["port"] = draw(st.sampled_from([80, 8080]))
    return cfg.HTTPMatchRequest.model_validate(data)


@given(st.lists(_match(), max_size=30))
def test_indexed_pairs_equal_istios_quadratic_loop(matches: list[cfg.HTTPMatchRequest]) -> None:
    prefixed = [
        p for i, m in enumerate(matches) if (p := _prefixed(m, f"#{i}", "#0", ())) is not None
    ]
    expected = [
        (a, b)
        for n, a in enumerate(prefixed)
        for b in prefixed[n + 1 :]
        if b.prefix != a.prefix and _covers(a, b)
    ]
    assert _covering_pairs(prefixed) == expected
