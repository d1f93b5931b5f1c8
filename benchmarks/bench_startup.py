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
- ``import istiosim.config`` and the loader's first VirtualService, in-process, to show what
  the models cost

The checkout this file lives in is put first on ``PYTHONPATH``. To see where the time goes:
``python -X importtime -m istiosim --help``.
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


def child_env(cache: str, bytecode: bool) -> dict[str, str]:
    """The children's environment: this checkout first, bytecode cached under ``cache`` (or
    never written there, so that every start compiles the source)."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        PYTHONPYCACHEPREFIX=cache,
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    script = console_script()
    rows = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "istiosim --help": [*script, "--help"],
        "python -m istiosim --help": [sys.executable, "-m", "istiosim", "--help"],
        "istiosim route (Bookinfo)": [*script, *ROUTE],
        "python -m istiosim route": [sys.executable, "-m", "istiosim", *ROUTE],
    }
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average"
        f" {os.getloadavg()[0]:.1f}; median of {args.runs} runs; script: {script[-1][:60]}"
    )
    print(
        f"{'command':<28} {'wall ms':>8} {'cpu ms':>8} {'wall-floor':>11} {'cpu-floor':>10}"
        f" {'source: cpu ms':>15}"
    )
    floor = (0.0, 0.0)
    with tempfile.TemporaryDirectory() as cwd, tempfile.TemporaryDirectory() as tmp:
        env = child_env(os.path.join(tmp, "bytecode"), True)
        for argv in rows.values():
            run(argv, cwd, env)  # write the bytecode, warm the file cache
        # the same bytecode but istiosim's: that is compiled at every start, never written
        ours = Path(tmp, "bytecode", *ROOT.parts[1:], "istiosim")
        shutil.copytree(Path(tmp, "bytecode"), Path(tmp, "source"), ignore=lambda d, _: (
            ["istiosim"] if Path(d) == ours.parent else []
        ))  # fmt: skip
        source_env = child_env(os.path.join(tmp, "source"), False)
        for name, argv in rows.items():
            run(argv, cwd, source_env)
            times, source = [], []
            for _ in range(args.runs):  # alternated, so that both see the same load
                times.append(run(argv, cwd, env))
                source.append(run(argv, cwd, source_env)[1])
            wall = statistics.median(w for w, _ in times)
            cpu = statistics.median(c for _, c in times)
            if name.startswith("python -c pass"):
                floor = (wall, cpu)
            print(
                f"{name:<28} {wall * 1e3:>8.0f} {cpu * 1e3:>8.0f}"
                f" {(wall - floor[0]) * 1e3:>11.0f} {(cpu - floor[1]) * 1e3:>10.0f}"
                f" {statistics.median(source) * 1e3:>15.0f}",
                flush=True,
            )
        code = IN_PROCESS.format(vs=DEMO / "virtual-service.yaml")
        env = dict(env, PYTHONPATH=str(ROOT))
        pairs = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            pairs.append(tuple(float(x) for x in out.stdout.split()))
        print(
            f"in-process CPU ms: import istiosim.config"
            f" {statistics.median(a for a, _ in pairs) * 1e3:.0f},"
            f" then the first VirtualService loaded {statistics.median(b for _, b in pairs) * 1e3:.0f}"
        )


if __name__ == "__main__":
    main()
