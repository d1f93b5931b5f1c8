"""pytest plugin for istiosim: per-test seeds and a lazy loader fixture.

This module lives outside the ``istiosim`` package on purpose (as Hypothesis does with
``_hypothesis_pytestplugin``): a ``pytest11`` entry point loads it in *every* pytest session of
an environment where istiosim is installed, so importing it must cost nothing. It imports only
the standard library and pytest; numpy and istiosim are imported inside the fixtures that need
them. Opt out with ``-p no:istiosim``.

* ``--istiosim-seed=N`` (or the ``ISTIOSIM_SEED`` environment variable) sets the session seed,
  printed in the report header as ``istiosim: seed=N``.
* ``istiosim_seed``: an int derived from the session seed and the test's node id, so each test
  gets its own stream, independent of test order, selection and xdist workers.
* ``istiosim_rng``: ``numpy.random.default_rng(istiosim_seed)``.
* ``istiosim_load``: ``istiosim.load`` behind a lazy import.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Generator
from typing import Any

import pytest

DEFAULT_SEED = 20261126
ENV_VAR = "ISTIOSIM_SEED"
_SEED_KEY = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("istiosim", "istiosim simulation")
    group.addoption(
        "--istiosim-seed",
        action="store",
        type=int,
        default=None,
        dest="istiosim_seed",
        metavar="INT",
        help=f"session seed for istiosim fixtures (default: ${ENV_VAR} or {DEFAULT_SEED})",
    )


def _session_seed(config: pytest.Config) -> int:
    option = config.getoption("istiosim_seed", default=None)
    if option is not None:
        return int(option)
    env = os.environ.get(ENV_VAR, "").strip()
    if not env:
        return DEFAULT_SEED
    try:
        return int(env)
    except ValueError:
        raise pytest.UsageError(f"{ENV_VAR} must be an integer, got {env!r}") from None


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SEED_KEY] = _session_seed(config)


def pytest_report_header(config: pytest.Config) -> str:
    return f"istiosim: seed={config.stash[_SEED_KEY]}"


def derive_seed(session_seed: int, nodeid: str) -> int:
    """A stable 63-bit seed for one test (blake2b, since ``hash()`` is salted per process)."""
    digest = hashlib.blake2b(f"{session_seed}\0{nodeid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@pytest.fixture
def istiosim_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed: a function of ``--istiosim-seed`` and the test's node id."""
    return derive_seed(request.config.stash[_SEED_KEY], request.node.nodeid)


@pytest.fixture
def istiosim_rng(istiosim_seed: int) -> Any:
    """A ``numpy.random.Generator`` seeded with ``istiosim_seed``."""
    import numpy as np

    return np.random.default_rng(istiosim_seed)


@pytest.fixture
def istiosim_load() -> Callable[..., Any]:
    """``istiosim.load(*paths, **kw)``, importing istiosim only when called."""

    def load(*paths: Any, **kw: Any) -> Any:
        import istiosim

        return istiosim.load(*paths, **kw)  # type: ignore[attr-defined, unused-ignore]

    return load


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On failure of a seeded test, say how to get the same seed again."""
    report = yield
    fixtures = getattr(item, "fixturenames", ())
    if report.failed and ("istiosim_seed" in fixtures or "istiosim_rng" in fixtures):
        session = item.config.stash[_SEED_KEY]
        report.sections.append(
            (
                "istiosim",
                f"istiosim_seed={derive_seed(session, item.nodeid)} "
                f"(reproduce with --istiosim-seed={session})",
            )
        )
    return report
