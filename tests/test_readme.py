"""The README runs as written: every code block, in order, in a fresh folder.

- ``bash``: the install commands, the only block not run (it would install over this checkout);
- ``console``: each ``$ command`` runs (``istiosim`` as ``python -m istiosim``, ``python`` as this
  interpreter) and must exit 0; each line shown under it must begin a line of its output;
- ``python``: ``>>>`` blocks run as doctests in one namespace shared by the whole README (outputs
  compared); a block whose first line is ``# FILE`` is written to FILE (then a console block runs it);
- ``yaml``: written to the file its first line names (``# FILE``); if the demo already wrote that
  file, the README's copy must say the same.

The first console block is ``istiosim demo --export bookinfo``: the README's examples use the files
it writes.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks() -> list[tuple[str, str, int]]:
    text = README.read_text(encoding="utf-8")
    return [
        (m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)
    ]


def _file_name(body: str) -> str | None:
    first = body.splitlines()[0] if body.strip() else ""
    m = re.match(r"#\s*(\S+\.(?:ya?ml|py|json))\b", first)
    return m.group(1) if m else None


def _run_console(body: str, where: str, cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    commands: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif line.strip():
            assert commands, f"{where}: output before any command"
            commands[-1][1].append(line.rstrip())
    assert commands, f"{where}: a console block without a command"
    for command, shown in commands:
        # a trailing "# exit N: why" states a deliberate non-zero exit (diff: 1 = changed)
        m = re.search(r"#\s*exit (\d+)\b", command)
        want = int(m.group(1)) if m else 0
        argv = shlex.split(command, comments=True)
        if argv[0] == "istiosim":
            argv = [sys.executable, "-m", "istiosim", *argv[1:]]
        elif argv[0] == "python":
            argv = [sys.executable, *argv[1:]]
        r = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == want, f"{where}: $ {command}\n{r.stdout[-2000:]}{r.stderr[-2000:]}"
        lines = [ln.rstrip() for ln in (r.stdout + r.stderr).splitlines()]
        for want in shown:
            assert any(ln.startswith(want) for ln in lines), (
                f"{where}: $ {command}\nshown in the README: {want!r}\nnot in:\n" + "\n".join(lines)
            )


def test_readme_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    found = blocks()
    kinds = [k for k, _, _ in found]
    assert kinds.count("bash") == 1 and "pip install" in found[kinds.index("bash")][1]
    first_console = next(b for k, b, _ in found if k == "console")
    assert first_console.startswith("$ istiosim demo --export bookinfo\n")
    namespace: dict[str, object] = {"__name__": "readme"}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    ran = {"console": 0, "doctest": 0, "file": 0}
    for kind, body, line in found:
        where = f"README.md:{line}"
        name = _file_name(body)
        if kind == "bash":
            continue
        if kind == "console":
            _run_console(body, where, tmp_path)
            ran["console"] += 1
        elif name is not None:
            path = tmp_path / name
            if path.exists():  # the demo wrote it: the README shows the same thing
                assert yaml.safe_load(body) == yaml.safe_load(path.read_text()), where
            path.write_text(body, encoding="utf-8")
            ran["file"] += 1
        elif kind == "python":
            assert body.lstrip().startswith(">>>"), (
                f"{where}: a python block is a doctest or a file"
            )
            test = doctest.DocTestParser().get_doctest(body, namespace, where, str(README), line)
            result = runner.run(test, clear_globs=False)
            namespace.update(test.globs)  # DocTest works on a copy: later blocks see these names
            assert result.failed == 0, f"{where}: the doctest above failed"
            ran["doctest"] += 1
        elif kind == "text":  # an illustration (the code layout), never a command
            assert not any(x.startswith(("$ ", ">>>")) for x in body.splitlines()), where
        else:
            pytest.fail(f"{where}: a {kind or 'plain'} block that is neither run nor a file")
    assert ran["console"] >= 4 and ran["doctest"] >= 2 and ran["file"] >= 3, ran


def test_every_help_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The examples that end each subcommand's ``--help`` run as written (exit 0) where
    ``istiosim demo --export bookinfo`` wrote the bundled files."""
    from istiosim.cli import build_parser, main
    from istiosim.cli.demo import export

    monkeypatch.chdir(tmp_path)
    export("bookinfo")
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    ran = 0
    for name, p in sub.choices.items():  # type: ignore[attr-defined]
        epilog = p.epilog or ""
        commands = [ln.strip() for ln in epilog.splitlines()[1:] if not ln.strip().startswith("#")]
        for command in commands:
            argv = shlex.split(command)
            assert argv[:2] == ["istiosim", name], command
            if argv[2:] == [] and name == "demo":
                argv.append("--seed=1")
            code = main(argv[1:])
            out, err = capsys.readouterr()
            want = 1 if name == "diff" else 0  # diff: exit 1 says the routing changes
            assert code == want, f"$ {command}\n{out[-2000:]}{err[-2000:]}"
            assert "error" not in err, f"$ {command}\n{err}"
            ran += 1
    assert ran >= 12


def test_readme_layout_names_modules_that_exist() -> None:
    """The "How the code is laid out" tree names real modules and packages."""
    text = README.read_text(encoding="utf-8")
    tree = text[text.index("## How the code is laid out") :].split("```text\n", 1)[1]
    tree = tree.split("```", 1)[0]
    names = [line.split()[0] for line in tree.splitlines() if line.startswith("  ") and line.split()]
    names = [n for n in names if n.endswith((".py", "/"))]
    assert len(names) > 15
    for n in names:
        assert (ROOT / "istiosim" / n).exists(), f"README names istiosim/{n}, which does not exist"
