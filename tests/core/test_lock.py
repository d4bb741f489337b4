"""One process per run folder: RUN/.lock, a clear error for a second trainer, stale locks taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genlab.core.checkpoint import latest_checkpoint
from genlab.core.errors import GenlabError
from genlab.core.lock import LOCK_NAME, RunLock
from genlab.core.tracking import read_metrics
from helpers import REPO

SCRIPT = Path(__file__).with_name("train_script.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO / "src")]), "OMP_NUM_THREADS": "1",
       "PYTHONUNBUFFERED": "1"}


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_file_contents_and_release(tmp_path):
    with RunLock(tmp_path, command="genlab vae train") as lock:
        info = json.loads((tmp_path / LOCK_NAME).read_text())
        assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
        assert info["command"] == "genlab vae train" and info["time"]
        assert lock.path == tmp_path / LOCK_NAME
    assert not (tmp_path / LOCK_NAME).exists()
    with pytest.raises(ValueError):
        with RunLock(tmp_path):
            raise ValueError("boom")
    assert not (tmp_path / LOCK_NAME).exists()  # released on exceptions too


def test_a_lock_held_by_a_live_process_is_one_clear_line(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                                      "time": "2026-12-01 21:00:00", "command": "x"}))
        with pytest.raises(GenlabError) as early:
            RunLock.check(tmp_path)  # the probe a slow command can run before its slow part
        with pytest.raises(GenlabError) as e:
            RunLock(tmp_path).acquire()
        msg = str(e.value)
        assert str(early.value) == msg
        assert msg == (f"{tmp_path} is in use by pid {holder.pid} on {socket.gethostname()} since 2026-12-01 21:00:00; "
                       f"wait for it or choose another --out")
        assert (tmp_path / LOCK_NAME).exists()  # not ours: left alone
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_from_another_host_is_never_taken_over(tmp_path):
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": dead_pid(), "host": "elsewhere.example",
                                                  "time": "2026-12-01 21:00:00", "command": "x"}))
    with pytest.raises(GenlabError, match=r"in use by pid \d+ on elsewhere.example since .*delete .*\.lock"):
        RunLock(tmp_path).acquire()


def test_a_stale_lock_of_a_dead_pid_is_taken_over_with_one_line(tmp_path, capsys):
    pid = dead_pid()
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": socket.gethostname(),
                                                  "time": "2026-12-01 21:00:00", "command": "x"}))
    RunLock.check(tmp_path)  # stale: no error, nothing taken
    with RunLock(tmp_path):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
        RunLock.check(tmp_path)  # our own lock
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"pid {pid}" in err and "no longer running" in err, err
    assert not (tmp_path / LOCK_NAME).exists()


def test_an_unreadable_lock_is_reported_not_deleted(tmp_path):
    (tmp_path / LOCK_NAME).write_text("{half a lock")
    with pytest.raises(GenlabError, match="unreadable.*delete it"):
        RunLock(tmp_path, wait=0.1).acquire()
    assert (tmp_path / LOCK_NAME).exists()


def test_two_real_trainings_into_the_same_out(tmp_path):
    """Trial #1: the second process must not clobber the first; it fails at once with one line."""
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, str(SCRIPT), str(out), "--max-steps", "100000", "--delay", "0.05",
                              "--checkpoint-every", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=ENV)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(read_metrics(out)) < 2:
            time.sleep(0.1)
        assert (out / LOCK_NAME).exists()
        second = subprocess.run([sys.executable, str(SCRIPT), str(out), "--max-steps", "3"], capture_output=True,
                                text=True, env=ENV, timeout=120)
        assert second.returncode == 2
        assert second.stderr.count("\n") == 1, second.stderr
        assert f"genlab: error: {out} is in use by pid {first.pid} on {socket.gethostname()} since " in second.stderr
        assert first.poll() is None  # the first run goes on, its metrics intact
        n = len(read_metrics(out))
        deadline = time.time() + 60
        while time.time() < deadline and len(read_metrics(out)) <= n + 1:
            time.sleep(0.1)
        assert len(read_metrics(out)) > n + 1
    finally:
        first.kill()
        first.communicate()
    # killed with -9: the lock is stale now, and a --resume takes it over
    step = int(latest_checkpoint(out).name[5:])
    resumed = subprocess.run([sys.executable, str(SCRIPT), str(out), "--max-steps", str(step + 2), "--resume"],
                             capture_output=True, text=True, env=ENV, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"done: step {step + 2} from {step}" in resumed.stdout
    assert "no longer running" in resumed.stderr and not (out / LOCK_NAME).exists()
