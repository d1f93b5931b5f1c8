"""The pytest plugin, driven through real pytest runs (pytester)."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import _istiosim_pytestplugin

pytest_plugins = ["pytester"]

SEED_TESTS = """
    def test_one(istiosim_seed, istiosim_rng):
        print(f"SEED one {istiosim_seed} {istiosim_rng.integers(2**32)}")

    def test_two(istiosim_seed):
        print(f"SEED two {istiosim_seed}")
"""


@pytest.fixture(autouse=True)
def _no_seed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ISTIOSIM_SEED", raising=False)


def _seeds(result: pytest.RunResult) -> dict[str, list[int]]:
    found = re.findall(r"SEED (\w+) ([\d ]+)", result.stdout.str())
    return {name: [int(v) for v in values.split()] for name, values in found}


def test_plugin_import_is_light() -> None:
    code = (
        "import _istiosim_pytestplugin, sys\n"
        "heavy = ('numpy', 'scipy', 'pydantic', 'istiosim', 'yaml')\n"
        "assert not [m for m in heavy if m in sys.modules], sys.modules.keys() & set(heavy)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_report_header_shows_default_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([f"istiosim: seed={_istiosim_pytestplugin.DEFAULT_SEED}"])


def test_seed_option_and_env_var(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    pytester.runpytest("--istiosim-seed=5").stdout.fnmatch_lines(["istiosim: seed=5"])
    monkeypatch.setenv("ISTIOSIM_SEED", "9")
    pytester.runpytest().stdout.fnmatch_lines(["istiosim: seed=9"])
    # the command line wins over the environment
    pytester.runpytest("--istiosim-seed=6").stdout.fnmatch_lines(["istiosim: seed=6"])
    monkeypatch.setenv("ISTIOSIM_SEED", "nine")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ISTIOSIM_SEED must be an integer, got 'nine'*"])


def test_seeds_are_deterministic_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_seeds=SEED_TESTS)
    first = _seeds(pytester.runpytest("-s"))
    second = _seeds(pytester.runpytest("-s"))
    assert first == second
    assert first["one"][0] != first["two"][0]  # each test its own stream
    only_two = _seeds(pytester.runpytest("-s", "-k", "two"))
    assert only_two["two"] == first["two"]  # independent of which tests run
    expected = _istiosim_pytestplugin.derive_seed(
        _istiosim_pytestplugin.DEFAULT_SEED, "test_seeds.py::test_one"
    )
    assert first["one"][0] == expected
    assert first["one"][1] == np.random.default_rng(expected).integers(2**32)


def test_session_seed_changes_every_test_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_seeds=SEED_TESTS)
    default = _seeds(pytester.runpytest("-s"))
    other = _seeds(pytester.runpytest("-s", "--istiosim-seed=1"))
    assert default["one"] != other["one"]
    assert default["two"] != other["two"]
    assert 0 <= other["one"][0] < 2**63


def test_failure_report_says_how_to_reproduce(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_fails(istiosim_seed):
            assert istiosim_seed < 0

        def test_fails_without_seed():
            assert False
        """
    )
    result = pytester.runpytest("--istiosim-seed=42")
    result.assert_outcomes(failed=2)
    seed = _istiosim_pytestplugin.derive_seed(
        42, "test_failure_report_says_how_to_reproduce.py::test_fails"
    )
    result.stdout.fnmatch_lines(
        ["*- istiosim -*", f"istiosim_seed={seed} (reproduce with --istiosim-seed=42)"]
    )
    assert result.stdout.str().count("reproduce with --istiosim-seed") == 1


def test_istiosim_load_imports_lazily(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import istiosim

    calls: list[tuple[Any, ...]] = []

    def fake_load(*paths: Any, **kw: Any) -> str:
        calls.append((paths, kw))
        return "simulator"

    monkeypatch.setattr(istiosim, "load", fake_load, raising=False)
    pytester.makepyfile(
        """
        def test_load(istiosim_load):
            assert istiosim_load("a.yaml", "b/", namespace="ns") == "simulator"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)  # in-process: sees the fake
    assert calls == [(("a.yaml", "b/"), {"namespace": "ns"})]


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("-p", "no:istiosim")
    assert "istiosim: seed=" not in result.stdout.str()
