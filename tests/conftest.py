"""Shared fixtures: paths to the Istio corpus beside the checkout and the bundled Bookinfo, the
``--update-golden`` option, and the Hypothesis profiles.

Hypothesis profiles: ``ci`` (the default, quick) and ``thorough`` (ten times the examples, no
deadline), chosen with ``HYPOTHESIS_PROFILE=thorough python -m pytest`` (or pytest's
``--hypothesis-profile thorough``). Tests that need a fixed number of examples use
``examples(n)``: ``n`` under ``ci``, scaled with the profile otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
BOOKINFO = CORPUS / "istio-bookinfo"
NET = BOOKINFO / "networking"
KUBE = BOOKINFO / "platform-kube" / "bookinfo.yaml"
DATA = ROOT / "tests" / "data"

#: max_examples of the ``ci`` profile; ``examples(n)`` scales by the active profile over this
CI_EXAMPLES = 100
settings.register_profile("ci", max_examples=CI_EXAMPLES)
settings.register_profile("thorough", max_examples=10 * CI_EXAMPLES, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(n: int) -> int:
    """``n`` examples under the ``ci`` profile, proportionally more under ``thorough``."""
    return max(1, n * settings.default.max_examples // CI_EXAMPLES)


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
    assert CORPUS.is_dir(), f"the Istio corpus is expected at {CORPUS}"
    return CORPUS


DEMO = ROOT / "istiosim" / "data" / "bookinfo"


def load_demo(*extra: str):  # type: ignore[no-untyped-def]
    """The bundled demo's Bookinfo (k8s + DestinationRules) plus ``extra``: demo file names or YAML text."""
    import istiosim

    files = ["bookinfo-k8s.yaml", "destination.yaml", *extra]
    return istiosim.load(*(f if "\n" in f else str(DEMO / f) for f in files))
