"""Start-up time of the command line (issue 9, item 6): prints a table, asserts nothing.

Run: ``python benchmarks/bench_startup.py [--runs N]`` (default 9). Each row is a fresh process
run N times; the table shows the median wall time and the median CPU time (user + system, of
that child alone, from ``os.wait4``: steadier than wall time on a shared machine), and the
same with the bare interpreter's start subtracted (``python -c pass``, the floor no program
can go under), then the median CPU time when the source is compiled at every start.

Two ways to start: **bytecode** (as an installed istiosim starts: pip writes the ``.pyc``
files; here the children read them from a private ``PYTHONPYCACHEPREFIX``, filled by a first
run) and **source** (the same cache without istiosim's files, and ``PYTHONDONTWRITEBYTECODE=1``:
istiosim's source is compiled at every start, as a checkout runs where the environment sets
that variable, as this project's machine does; it shows what each imported line costs). Rows:

- ``istiosim --help`` through the installed console script (when it is installed next to this
  interpreter; else the same ``from istiosim.cli import main`` it runs), and ``python -m istiosim``
- ``istiosim route`` on the bundled Bookinfo (Services, Deployments, DestinationRules and a
  VirtualService), the smallest real command: load, compile, analyze, route one request
- the same ``python -m istiosim route`` with ``OPENBLAS_NUM_THREADS=1``: numpy's OpenBLAS
  worker thread spins on another core for about 130 ms once numpy is loaded, CPU time that the
  wall time does not show and that istiosim, making no BLAS call worth a thread, does not need
- ``import istiosim.config`` and the loader's first VirtualService, in-process, to show what
  the models cost

The checkout this file lives in is put first on ``PYTHONPATH``; with ``--baseline DIR``,
another checkout is timed too, alternately with this one (both see the same load), for a
before/after table. To see where the time goes: ``python -X importtime -m istiosim --help``
(modules imported through ``importlib.import_module``, as the lazy names are, are not listed:
their time shows in the module that used the name).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "istiosim" / "data" / "bookinfo"
ROUTE = [
    "route",
    "-f",
    str(DEMO / "bookinfo-k8s.yaml"),
    "-f",
    str(DEMO / "destination.yaml"),
    "-f",
    str(DEMO / "virtual-service.yaml"),
    "--host",
    "reviews",
]


def console_script() -> list[str]:
    """The installed ``istiosim`` script run by this interpreter (as its shebang would), or
    the code it runs when it is not installed here."""
    script = Path(sysconfig.get_path("scripts")) / "istiosim"
    if script.is_file() and "istiosim.cli" in script.read_text(errors="replace"):
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "import sys; from istiosim.cli import main; sys.exit(main())"]


def child_env(root: Path, cache: Path, bytecode: bool) -> dict[str, str]:
    """The children's environment: checkout ``root`` first, bytecode read from ``cache`` (and,
    without ``bytecode``, never written there, so that what is missing is compiled each time)."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        PYTHONPYCACHEPREFIX=str(cache),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert p.stderr is not None
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {p.returncode}:\n{err.decode()}")
    return wall, usage.ru_utime + usage.ru_stime


IN_PROCESS = r"""
import time
t = time.process_time()
import istiosim.config as cfg
a = time.process_time() - t
from istiosim.loader import load_config
t = time.process_time()
load_config(r"{vs}")
b = time.process_time() - t
print(a, b)
"""


def rows_for(root: Path, script: list[str]) -> dict[str, list[str]]:
    """The commands timed, with the Bookinfo files of checkout ``root``."""
    demo = root / "istiosim" / "data" / "bookinfo"
    route = [
        a if a.startswith("-") or a in ("route", "reviews") else str(demo / Path(a).name)
        for a in ROUTE
    ]
    return {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "istiosim --help": [*script, "--help"],
        "python -m istiosim --help": [sys.executable, "-m", "istiosim", "--help"],
        "istiosim route (Bookinfo)": [*script, *route],
        "python -m istiosim route": [sys.executable, "-m", "istiosim", *route],
        # numpy's OpenBLAS worker thread spins on another core once numpy is loaded: CPU
        # time that is not on the route's path (``env`` execs python: the same process)
        "  OPENBLAS_NUM_THREADS=1": [
            *("env", "OPENBLAS_NUM_THREADS=1", sys.executable, "-m", "istiosim"),
            *route,
        ],
    }


class Checkout:
    """One checkout's children: their bytecode caches (filled by a first run of every row) and
    the times measured."""

    def __init__(self, root: Path, tmp: Path, script: list[str], cwd: str) -> None:
        self.root, self.rows = root, rows_for(root, script)
        full, source = tmp / "bytecode", tmp / "source"
        self.env = child_env(root, full, True)
        for argv in self.rows.values():
            run(argv, cwd, self.env)  # write the bytecode, warm the file cache
        # the same bytecode but istiosim's: that is compiled at every start, never written
        ours = full.joinpath(*root.parts[1:])
        shutil.copytree(full, source, ignore=lambda d, _: ["istiosim"] if Path(d) == ours else [])
        self.source_env = child_env(root, source, False)
        self.times: dict[str, list[tuple[float, float]]] = {n: [] for n in self.rows}
        self.source: dict[str, list[float]] = {n: [] for n in self.rows}

    def measure(self, name: str, cwd: str) -> None:
        self.times[name].append(run(self.rows[name], cwd, self.env))
        self.source[name].append(run(self.rows[name], cwd, self.source_env)[1])

    def cpu(self, name: str) -> float:
        return statistics.median(c for _, c in self.times[name]) * 1e3

    def wall(self, name: str) -> float:
        return statistics.median(w for w, _ in self.times[name]) * 1e3

    def source_cpu(self, name: str) -> float:
        return statistics.median(self.source[name]) * 1e3

    def in_process(self, runs: int, cwd: str) -> str:
        code = IN_PROCESS.format(
            vs=self.root / "istiosim" / "data" / "bookinfo" / "virtual-service.yaml"
        )
        env = dict(self.env, PYTHONPATH=str(self.root))
        pairs = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", code],
                env=env,
                cwd=cwd,  # not this checkout's folder: ``-c`` puts the working folder first
                capture_output=True,
                text=True,
                check=True,
            )
            pairs.append(tuple(float(x) for x in out.stdout.split()))
        return (
            f"import istiosim.config {statistics.median(a for a, _ in pairs) * 1e3:.0f},"
            f" then the first VirtualService loaded {statistics.median(b for _, b in pairs) * 1e3:.0f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="another checkout (e.g. `git worktree add DIR main`), timed alternately with this"
        " one so that both see the same load: a before/after table",
    )
    args = ap.parse_args()
    script = console_script()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average"
        f" {os.getloadavg()[0]:.1f}; median of {args.runs} runs; script: {script[-1][:60]}"
    )
    with tempfile.TemporaryDirectory() as cwd, tempfile.TemporaryDirectory() as tmp:
        after = Checkout(ROOT, Path(tmp, "after"), script, cwd)
        before = None
        if args.baseline is not None:
            before = Checkout(args.baseline.resolve(), Path(tmp, "before"), script, cwd)
        for name in after.rows:
            for _ in range(args.runs):  # alternated, so that all see the same load
                after.measure(name, cwd)
                if before is not None:
                    before.measure(name, cwd)
        floor = "python -c pass (floor)"
        if before is None:
            print(
                f"{'command':<28} {'wall ms':>8} {'cpu ms':>8} {'wall-floor':>11}"
                f" {'cpu-floor':>10} {'source: cpu ms':>15}"
            )
            for name in after.rows:
                print(
                    f"{name:<28} {after.wall(name):>8.0f} {after.cpu(name):>8.0f}"
                    f" {after.wall(name) - after.wall(floor):>11.0f}"
                    f" {after.cpu(name) - after.cpu(floor):>10.0f} {after.source_cpu(name):>15.0f}"
                )
        else:
            print(f"CPU ms, before = {before.root}, after = {after.root}")
            print(
                f"{'command':<28} {'before':>8} {'after':>8} {'source: before':>15}"
                f" {'source: after':>14} {'after: wall ms':>15}"
            )
            for name in after.rows:
                print(
                    f"{name:<28} {before.cpu(name):>8.0f} {after.cpu(name):>8.0f}"
                    f" {before.source_cpu(name):>15.0f} {after.source_cpu(name):>14.0f}"
                    f" {after.wall(name):>15.0f}"
                )
            print(f"in-process CPU ms, before: {before.in_process(args.runs, cwd)}")
        print(f"in-process CPU ms{', after' if before else ''}: {after.in_process(args.runs, cwd)}")


if __name__ == "__main__":
    main()
