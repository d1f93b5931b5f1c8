"""Shared fixtures: paths to the Istio corpus beside the checkout and the bundled Bookinfo, the
``--update-golden`` option, and the Hypothesis profiles.

The Istio corpus (upstream's Bookinfo, validation and analyzer test data) lives beside the
checkout in ``../shared/corpus`` (``ISTIOSIM_CORPUS=DIR`` points elsewhere). On a clone of the
repository alone it is missing, and every test that reads it is skipped with a one-line reason
naming the folder it needs, while every other test runs. Which tests read it is found centrally:

- at collection, a test marked ``@pytest.mark.corpus``, using the ``corpus`` fixture, or
  parametrized with a path inside the corpus is skipped before it runs;
- at run time (and at a module's import), opening or listing anything inside the missing corpus
  skips the test (or the module) there: an audit hook, installed only when the corpus is missing,
  turns the read into ``pytest.skip``, so a test cannot fail for want of the corpus.

When the corpus is there (as in CI) nothing is skipped and no hook is installed.

Hypothesis profiles: ``ci`` (the default, quick) and ``thorough`` (ten times the examples, no
deadline), chosen with ``HYPOTHESIS_PROFILE=thorough python -m pytest`` (or pytest's
``--hypothesis-profile thorough``). Tests that need a fixed number of examples use
``examples(n)``: ``n`` under ``ci``, scaled with the profile otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Hashable
from pathlib import Path
from types import CodeType, FunctionType

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("ISTIOSIM_CORPUS") or ROOT.parent / "shared" / "corpus")
BOOKINFO = CORPUS / "istio-bookinfo"
NET = BOOKINFO / "networking"
KUBE = BOOKINFO / "platform-kube" / "bookinfo.yaml"
DATA = ROOT / "tests" / "data"

#: max_examples of the ``ci`` profile; ``examples(n)`` scales by the active profile over this
CI_EXAMPLES = 100
# ci: the same examples on every run (CI must be deterministic); thorough: new ones each run
settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True)
settings.register_profile("thorough", max_examples=10 * CI_EXAMPLES, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(n: int) -> int:
    """``n`` examples under the ``ci`` profile, proportionally more under ``thorough``."""
    return max(1, n * settings.default.max_examples // CI_EXAMPLES)


def corpus_missing_reason(path: str | os.PathLike[str] | None = None) -> str:
    """The one-line skip reason: the corpus folder (or its subfolder holding ``path``) is missing."""
    folder = CORPUS
    if path is not None:
        try:
            rel = Path(os.fspath(path)).resolve().relative_to(CORPUS.resolve())
        except ValueError:
            rel = None
        if rel is not None and rel.parts:
            folder = CORPUS / rel.parts[0]
    return (
        f"needs the Istio corpus folder {folder} (missing: check the corpus out beside the"
        " repository, or set ISTIOSIM_CORPUS=DIR)"
    )


def _in_corpus(value: object) -> bool:
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)
        return isinstance(text, str) and (
            text == str(CORPUS) or text.startswith(f"{CORPUS}{os.sep}")
        )
    return False


def _corpus_guard(event: str, args: tuple[object, ...]) -> None:
    """Audit hook (only while the corpus is missing): reading it skips the test or module."""
    if event in ("open", "os.listdir", "os.scandir") and args and _in_corpus(args[0]):
        raise pytest.skip.Exception(corpus_missing_reason(args[0]), allow_module_level=True)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "corpus: reads the Istio corpus (skipped with a reason when it is missing)"
    )
    if not CORPUS.is_dir() and not getattr(sys, "_istiosim_corpus_guard", False):
        sys.addaudithook(_corpus_guard)  # audit hooks cannot be removed: install once
        sys._istiosim_corpus_guard = True  # type: ignore[attr-defined]


def _names_corpus(value: object, depth: int = 0) -> object | None:
    """A corpus path ``value`` holds (a path, a string naming one or ``{corpus}``, or a container
    of them), else None."""
    if isinstance(value, Path) or (isinstance(value, str) and depth < 8):
        text = os.fspath(value)
        if _in_corpus(text) or "{corpus}" in text:
            return text
        i = text.find(f"{CORPUS}{os.sep}")
        return text[i:].split()[0] if i >= 0 else None
    if depth < 4 and isinstance(value, list | tuple | set | frozenset | dict):
        items = value.values() if isinstance(value, dict) else value
        for v in items:
            hit = _names_corpus(v, depth + 1)
            if hit is not None:
                return hit
    return None


def _global_names(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _global_names(const)
    return names


def _reads_corpus(item: pytest.Item) -> object | None:
    """The corpus path a test names: in its parameters, or in a module-level value its function
    (or a function of its module it calls, transitively) refers to. For a parametrized test, a
    table indexed by its parameter counts only by the entry of that parameter."""
    callspec = getattr(item, "callspec", None)
    params = list(callspec.params.values()) if callspec is not None else []
    hit = _names_corpus(params)
    if hit is not None:
        return hit
    func = getattr(item, "function", None)
    if func is None:
        return None
    info = getattr(item, "_fixtureinfo", None)
    fixtures = [d.func for defs in (info.name2fixturedefs.values() if info else ()) for d in defs]
    todo, seen = [func, *fixtures], set()
    while todo:
        f = todo.pop()
        if id(f) in seen or not hasattr(f, "__code__"):
            continue
        seen.add(id(f))
        g = f.__globals__
        for name in _global_names(f.__code__):
            value = g.get(name)
            if isinstance(value, FunctionType) and value.__module__ == f.__module__:
                todo.append(value)
                continue
            if name in ("CORPUS", "BOOKINFO", "NET", "KUBE"):
                return g[name]
            if isinstance(value, dict):
                keys = [p for p in params if isinstance(p, Hashable) and p in value]
                if keys:
                    value = [value[k] for k in keys]
            hit = _names_corpus(value)
            if hit is not None:
                return hit
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CORPUS.is_dir():
        return
    for item in items:
        marked = item.get_closest_marker("corpus") is not None
        if marked or "corpus" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(reason=corpus_missing_reason()))
            continue
        hit = _reads_corpus(item)
        if hit is not None:
            path = str(hit).replace("{corpus}", str(CORPUS))
            item.add_marker(pytest.mark.skip(reason=corpus_missing_reason(path)))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="write the golden files of tests/golden/ instead of comparing against them",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():  # pragma: no cover - the collection hook skips users of this fixture
        pytest.skip(corpus_missing_reason())
    return CORPUS


DEMO = ROOT / "istiosim" / "data" / "bookinfo"


def load_demo(*extra: str):  # type: ignore[no-untyped-def]
    """The bundled demo's Bookinfo (k8s + DestinationRules) plus ``extra``: demo file names or YAML text."""
    import istiosim

    files = ["bookinfo-k8s.yaml", "destination.yaml", *extra]
    return istiosim.load(*(f if "\n" in f else str(DEMO / f) for f in files))
