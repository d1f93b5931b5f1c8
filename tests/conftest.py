"""Shared fixtures: paths to the Istio corpus beside the checkout and the bundled Bookinfo."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
BOOKINFO = CORPUS / "istio-bookinfo"
NET = BOOKINFO / "networking"
KUBE = BOOKINFO / "platform-kube" / "bookinfo.yaml"
DATA = ROOT / "tests" / "data"


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
