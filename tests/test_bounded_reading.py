"""Issue 8: reading is bounded. ``-f /dev/zero``, an endless stdin pipe, ``--observed
/dev/zero`` and a FIFO without a writer end with exit 2 and a located error, never a hang or
unbounded memory."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import istiosim
from istiosim import ConfigError
from istiosim.loader import MAX_FILE_BYTES
from istiosim.loader import yaml as loader_yaml

from conftest import DEMO, ROOT

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def run(*argv: str, stdin: object = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "istiosim", *argv],
        stdin=stdin,  # type: ignore[arg-type]
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
    )


def test_dev_zero_as_config_is_refused_at_once() -> None:
    t0 = time.monotonic()
    p = run("check", "-f", "/dev/zero")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith("/dev/zero: error[ISM0001] cannot read a character device")
    assert time.monotonic() - t0 < 30


def test_dev_zero_as_observed_counts_is_refused() -> None:
    p = run("verify", "-f", str(DEMO), "--host", "reviews", "--observed", "/dev/zero")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "/dev/zero: error[ISM0001]" in p.stderr


def test_dev_zero_on_stdin_is_refused() -> None:
    with open("/dev/zero", "rb") as zero:
        p = run("check", "-f", "-", stdin=zero)
    assert p.returncode == 2
    assert "<stdin>: error[ISM0001] cannot read stdin: it is a device" in p.stderr


def test_endless_stdin_pipe_stops_at_the_limit() -> None:
    """``yes | istiosim route -f -``: refused once byte MAX_FILE_BYTES + 1 arrives; the child's
    peak memory stays a small multiple of the limit."""
    code = (
        "import resource, subprocess, sys;"
        "yes = subprocess.Popen(['yes', 'a: b'], stdout=subprocess.PIPE);"
        "p = subprocess.run([sys.executable, '-m', 'istiosim', 'route', '-f', '-', '--host', 'x'],"
        " stdin=yes.stdout, capture_output=True, text=True);"
        "yes.kill();"
        "print(p.returncode); print(p.stderr.strip());"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120
    )
    rc, err, rss_kib = p.stdout.strip().split("\n")
    assert rc == "2"
    assert (
        err
        == f"<stdin>: error[ISM0009] input is larger than the limit of {MAX_FILE_BYTES} bytes (32 MiB)"
    )
    assert int(rss_kib) * 1024 < 8 * MAX_FILE_BYTES


def test_non_utf8_stdin_is_located() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "istiosim", "route", "-f", "-", "--host", "x"],
        input=b"a: b\nc: \xff\n",
        capture_output=True,
        env=ENV,
        timeout=60,
    )
    assert p.returncode == 2
    assert p.stderr.decode().startswith("<stdin>:2:4: error[ISM0001] input is not UTF-8 text")


def test_fifo_without_writer_is_an_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    monkeypatch.setattr(loader_yaml, "FIFO_WAIT_SECONDS", 0.2)
    t0 = time.monotonic()
    with pytest.raises(ConfigError) as exc:
        istiosim.load(str(fifo))
    assert time.monotonic() - t0 < 5
    d = exc.value.diagnostics[0]
    assert d.code == "ISM0001" and "no writer" in d.message
    assert d.location is not None and d.location.file == str(fifo)


def test_fifo_with_a_writer_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    text = (DEMO / "bookinfo-k8s.yaml").read_bytes()

    def write() -> None:
        with open(fifo, "wb") as f:
            f.write(text)

    th = threading.Thread(target=write)
    th.start()
    sim = istiosim.load(str(fifo))
    th.join(10)
    assert len(sim.plan.services) == 4


def test_oversized_regular_file_is_refused_on_stat(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    with open(f, "wb") as out:
        out.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(ConfigError) as exc:
        istiosim.load(str(f))
    assert exc.value.diagnostics[0].code == "ISM0009"


def test_bounded_reader_stops_at_the_limit() -> None:
    r, w = os.pipe()
    os.write(w, b"x" * 100)
    os.close(w)
    assert loader_yaml.read_bounded(r, "p", limit=100) == b"x" * 100
    os.close(r)
    r, w = os.pipe()
    os.write(w, b"x" * 101)
    os.close(w)
    with pytest.raises(ConfigError) as exc:
        loader_yaml.read_bounded(r, "p", limit=100)
    os.close(r)
    assert exc.value.diagnostics[0].code == "ISM0009"
