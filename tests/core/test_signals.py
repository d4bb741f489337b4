"""SIGTERM is handled like Ctrl-C (finish the step, save, exit 143, resume), and graceful_stop for other commands."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genlab.core.checkpoint import latest_checkpoint
from genlab.core.errors import GenlabError
from genlab.core.signals import Interrupted, graceful_stop
from genlab.core.tracking import read_metrics
from helpers import REPO

SCRIPT = Path(__file__).with_name("train_script.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO / "src")]), "OMP_NUM_THREADS": "1",
       "PYTHONUNBUFFERED": "1"}


@pytest.mark.parametrize("sig, code, words", [(signal.SIGTERM, 143, "terminated (SIGTERM)"),
                                              (signal.SIGINT, 130, "interrupted")])
def test_a_signal_to_a_real_training_saves_a_checkpoint_and_resume_continues(tmp_path, sig, code, words):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(out), "--max-steps", "100000", "--delay", "0.05",
                             "--checkpoint-every", "1000000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV)
    deadline = time.time() + 120
    while time.time() < deadline and len(read_metrics(out)) < 3:
        time.sleep(0.1)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    last = err.strip().splitlines()[-1]
    match = re.fullmatch(rf"genlab: stopped: {re.escape(words)} at step (\d+); checkpoint saved to (\S+); "
                         r"continue with --resume", last)
    assert match, err
    assert ("SIGTERM: finishing this step" if sig == signal.SIGTERM else "interrupt: finishing this step") in err
    step = int(match.group(1))
    assert step >= 3 and latest_checkpoint(out).name == f"step_{step:08d}"
    resumed = subprocess.run([sys.executable, str(SCRIPT), str(out), "--max-steps", str(step + 3), "--resume"],
                             capture_output=True, text=True, env=ENV, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"done: step {step + 3} from {step}" in resumed.stdout


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_graceful_stop_sets_a_flag_and_restores_the_handlers(sig, code, capsys):
    before = signal.getsignal(sig)
    with graceful_stop(message="stopping after this step") as stop:
        assert not stop and stop.signum is None
        os.kill(os.getpid(), sig)
        time.sleep(0.01)
        assert stop and stop.signum == sig and stop.exit_code == code
        with pytest.raises(Interrupted) as e:
            stop.raise_if_requested("dream stopped at step 3; partial result saved to x.png")
    assert signal.getsignal(sig) is before
    assert isinstance(e.value, GenlabError) and e.value.exit_code == code
    assert str(e.value) == "dream stopped at step 3; partial result saved to x.png"
    assert capsys.readouterr().err.strip() == "stopping after this step"


def test_a_second_ctrl_c_aborts():
    with pytest.raises(KeyboardInterrupt):
        with graceful_stop():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
