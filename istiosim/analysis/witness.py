"""Witness values for match conditions: strings that make conditions true or false.

For one request attribute and the conditions on it (``Matcher``), ``witness_values`` returns
candidate values whose truth vectors (which conditions hold) cover every truth vector any value
can have when the conditions are exact, prefix or presence matches (see ``regions``); regexes
add values generated from the regex itself (``regex_samples``), which are only witnesses once a
``Matcher.test`` (RE2) says so.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from ..plan import Matcher

#: the stdlib's regex parser (RE2's syntax is nearly a subset of Python's)
sre: Any = importlib.import_module("re._parser")
#: characters tried, in order, as the "fresh" character that extends no literal
_FRESH = "0123456789_~-.zqxjZQXJ"
#: attributes every request has (no "absent" value)
ALWAYS_PRESENT = ("uri", "method", "scheme", "authority")


def valid(key: str, value: str | None) -> bool:
    """Can a request carry this attribute value (a uri starts with /, query values have no &)?"""
    if value is None:
        return key not in ALWAYS_PRESENT
    if key == "uri":
        return value.startswith("/") and "?" not in value and "#" not in value
    if key.startswith("query:"):
        return "&" not in value and "#" not in value
    if key in ("method", "scheme"):
        return bool(value) and value.strip() == value
    return "\n" not in value and "\r" not in value


def fresh_char(literals: Iterable[str]) -> str:
    used = {c for lit in literals for c in (lit.lower() + lit.upper())}
    return next((c for c in _FRESH if c not in used), "\u00b7")


def witness_values(key: str, matchers: Iterable[Matcher]) -> list[str | None]:
    """Candidate values for ``key``: every literal in its own case, lower and upper case, each
    also followed by a fresh character, the fresh character alone, "", absent, and values
    generated from each regex (the literals prefixed to them too)."""
    ms = list(matchers)
    lits = [m.value for m in ms if m.kind in ("exact", "prefix")]
    if key == "uri":
        lits.append("/")
    samples: list[str] = []
    for m in ms:
        if m.kind == "regex":
            samples.extend(regex_samples(m.value))
    fresh = fresh_char([*lits, *samples])
    # the usual value first, so that it is the witness of its region when it can be
    usual = {"uri": "/", "method": "GET", "scheme": "http"}.get(key)
    out: dict[str | None, None] = {usual: None, None: None, "": None, fresh: None}
    cased = any(m.ignore_case for m in ms)
    for lit in lits:
        for v in (lit, lit.lower(), lit.upper()) if cased else (lit,):
            out[v] = None
            out[v + fresh] = None
    for s in samples:
        out[s] = None
        out[s + fresh] = None
        for lit in lits:
            out[lit + s] = None
    return [v for v in out if valid(key, v)]


@lru_cache(maxsize=4096)
def regex_samples(pattern: str, n: int = 6, seed: int = 0) -> tuple[str, ...]:
    """Strings the regex should match: the shortest, then ``n`` random ones (fixed seed).
    Cached: a cluster export repeats the same few patterns across thousands of rules.

    Generated from the pattern's parse tree (Python's parser; RE2's syntax is nearly a subset);
    the caller checks each with RE2, so an odd construct only costs a witness, never a wrong
    answer. Empty when the pattern cannot be parsed here.
    """
    try:
        tree = sre.parse(pattern)
    except Exception:
        return ()
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n + 1):
        try:
            s = _gen(tree, rng, shortest=i == 0, groups={})
        except _Unsupported:
            break
        if s not in out:
            out.append(s)
    return tuple(out)


class _Unsupported(Exception):
    pass


_CATEGORY = {
    "CATEGORY_DIGIT": "7",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_WORD": "w",
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "s",
}


def _gen(tree: Any, rng: random.Random, shortest: bool, groups: dict[int, str]) -> str:
    out: list[str] = []
    for op, av in tree:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(av))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(av) != "a" else "b")
        elif name == "ANY":
            out.append("a" if shortest else rng.choice("ab7-/"))
        elif name == "IN":
            out.append(_in(av, rng, shortest))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = av
            hi = min(int(hi), lo + 3)
            k = lo if shortest else rng.randint(lo, max(lo, hi))
            out.extend(_gen(sub, rng, shortest, groups) for _ in range(k))
        elif name == "SUBPATTERN":
            gid, _, _, sub = av
            text = _gen(sub, rng, shortest, groups)
            if gid is not None:
                groups[gid] = text
            out.append(text)
        elif name == "BRANCH":
            alts = av[1]
            if shortest:
                texts = [_gen(a, rng, True, groups) for a in alts]
                out.append(min(texts, key=len))
            else:
                out.append(_gen(rng.choice(alts), rng, False, groups))
        elif name == "GROUPREF":
            out.append(groups.get(av, ""))
        elif name == "AT":
            continue  # anchors: fullmatch semantics already
        else:
            raise _Unsupported(name)
    return "".join(out)


def _in(items: Any, rng: random.Random, shortest: bool) -> str:
    negate = any(str(op) == "NEGATE" for op, _ in items)
    choices: list[str] = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            choices.append(chr(av))
        elif name == "RANGE":
            lo, hi = av
            choices.append(chr(lo) if shortest else chr(rng.randint(lo, hi)))
        elif name == "CATEGORY":
            choices.append(_CATEGORY.get(str(av), "a"))
    if negate:
        return next(c for c in "a7-_Zq/" if c not in choices)
    if not choices:
        raise _Unsupported("IN")
    return choices[0] if shortest else rng.choice(choices)


def universal(m: Matcher) -> bool:
    """A regex that every value of a single line matches (``.*``): Istio's catch-all uri."""
    return m.kind == "regex" and not m.invert and m.value in (".*", "(.*)", "^.*$")


__all__ = ["ALWAYS_PRESENT", "regex_samples", "universal", "valid", "witness_values"]
