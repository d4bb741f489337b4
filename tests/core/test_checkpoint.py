"""Saved models and training checkpoints: round trips, pruning, corruption -> one-line errors, safe loading, kill -9."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import genlab
from genlab.core.checkpoint import (checkpoint_dir, checkpoint_family, latest_checkpoint, list_checkpoints,
                                    load_trainer_state, save_checkpoint)
from genlab.core.errors import CheckpointError
from genlab.core.model import load
from helpers import REPO
from toy import Blob, BlobConfig, ToyConfig, ToyRegressor

FILES = ["config.json", "model.safetensors", "trainer_state.pt"]


def toy(seed: int = 0, **cfg) -> ToyRegressor:
    torch.manual_seed(seed)
    return ToyRegressor(ToyConfig(**cfg))


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def one_line_error(excinfo, *needles: str) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
    return msg


# ---- save_pretrained / load --------------------------------------------------------------------------------------

def test_save_pretrained_load_round_trip(tmp_path):
    model = toy(seed=1, dim=5, noise=0.0)
    out = model.save_pretrained(tmp_path / "m")
    assert out == tmp_path / "m"
    assert sorted(os.listdir(out)) == ["config.json", "model.safetensors"]  # no temp files left behind
    assert json.loads((out / "config.json").read_text()) == {
        "model_type": "test-toy", "family": "toy", "genlab_version": genlab.__version__,
        "config": {"dim": 5, "noise": 0.0, "nan_after": -1}}
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        assert f.metadata() == {"model_type": "test-toy"}

    loaded = load(out)
    assert type(loaded) is ToyRegressor and loaded.config == ToyConfig(dim=5, noise=0.0)
    assert loaded.training is False  # load() returns eval mode
    assert same_weights(model, loaded)
    assert not same_weights(model, toy(seed=2, dim=5))  # (the comparison can fail)
    x = torch.randn(7, 5)
    y = torch.zeros(7)
    with torch.no_grad():
        assert torch.equal(model.net(x), loaded.net(x))
        assert torch.equal(model(x, y)["loss"], loaded(x, y)["loss"])
    assert same_weights(ToyRegressor.from_pretrained(out), model)
    assert same_weights(genlab.load(out, family="toy"), model)


def test_load_of_a_run_folder_picks_the_highest_step(tmp_path):
    run = tmp_path / "run"
    models = {step: toy(seed=step) for step in (10, 3, 7)}  # saved out of order: newest = highest step, not mtime
    for step, model in models.items():
        save_checkpoint(run, step, model, {"step": step}, keep_last=5)
    assert [s for s, _ in list_checkpoints(run)] == [3, 7, 10]
    assert latest_checkpoint(run) == run / "checkpoints" / "step_00000010"
    loaded = load(run)
    assert same_weights(loaded, models[10]) and not same_weights(loaded, models[3])
    # A saved model at the run's root wins over its checkpoints (that is what the engine writes at the end).
    models[3].save_pretrained(run)
    assert same_weights(load(run), models[3])


def test_load_with_the_wrong_family_names_both(tmp_path):
    toy().save_pretrained(tmp_path / "m")
    with pytest.raises(CheckpointError) as e:
        load(tmp_path / "m", family="vae")
    one_line_error(e, "toy model (test-toy)", "not a vae model", "genlab toy")
    assert checkpoint_family(tmp_path / "m") == "toy"


def test_from_pretrained_of_the_wrong_class(tmp_path):
    Blob(BlobConfig(numel=10)).save_pretrained(tmp_path / "blob")
    with pytest.raises(CheckpointError) as e:
        ToyRegressor.from_pretrained(tmp_path / "blob")
    one_line_error(e, str(tmp_path / "blob"), "test-blob model, not a test-toy")
    blob = Blob.from_pretrained(tmp_path / "blob")
    assert type(blob) is Blob and blob.weight.shape == (10,)


# ---- save_checkpoint -----------------------------------------------------------------------------------------------

def test_save_checkpoint_layout_and_trainer_state(tmp_path):
    model = toy(seed=4)
    state = {"step": 5, "epoch": 1, "rng": torch.get_rng_state(), "lrs": [0.1, 0.2], "name": "adam",
             "optim": {"state": {0: {"exp_avg": torch.arange(3.0)}}}}
    path = save_checkpoint(tmp_path / "run", 5, model, state)
    assert path == tmp_path / "run" / "checkpoints" / "step_00000005" == checkpoint_dir(tmp_path / "run", 5)
    assert sorted(os.listdir(path)) == FILES
    assert os.listdir(tmp_path / "run" / "checkpoints") == ["step_00000005"]
    assert json.loads((path / "config.json").read_text())["model_type"] == "test-toy"
    with safe_open(str(path / "model.safetensors"), "pt") as f:
        assert f.metadata() == {"model_type": "test-toy", "step": "5"}
    got = load_trainer_state(path)
    assert got.keys() == state.keys()
    assert (got["step"], got["epoch"], got["lrs"], got["name"]) == (5, 1, [0.1, 0.2], "adam")
    assert torch.equal(got["rng"], state["rng"])
    assert torch.equal(got["optim"]["state"][0]["exp_avg"], torch.arange(3.0))
    assert same_weights(load(path), model)


def test_keep_last_prunes_the_oldest(tmp_path):
    run, model = tmp_path / "run", toy()
    for step in range(1, 6):
        save_checkpoint(run, step, model, {"step": step}, keep_last=2)
    assert [s for s, _ in list_checkpoints(run)] == [4, 5]
    save_checkpoint(run, 6, model, {"step": 6}, keep_last=3)
    assert [s for s, _ in list_checkpoints(run)] == [4, 5, 6]
    save_checkpoint(run, 7, model, {"step": 7}, keep_last=1)
    assert [s for s, _ in list_checkpoints(run)] == [7]
    assert os.listdir(run / "checkpoints") == ["step_00000007"]


def test_saving_the_same_step_twice_replaces_it(tmp_path):
    run, first, second = tmp_path / "run", toy(seed=1), toy(seed=2)
    save_checkpoint(run, 4, first, {"step": 4})
    save_checkpoint(run, 5, first, {"step": 5, "which": "first"})
    save_checkpoint(run, 5, second, {"step": 5, "which": "second"})
    assert [s for s, _ in list_checkpoints(run)] == [4, 5]
    assert sorted(os.listdir(run / "checkpoints")) == ["step_00000004", "step_00000005"]  # no .trash-/.tmp- left
    assert load_trainer_state(latest_checkpoint(run))["which"] == "second"
    assert same_weights(load(run), second) and not same_weights(load(run), first)


def _fake_leftover(folder: Path, step: int) -> None:
    folder.mkdir(parents=True)
    toy(seed=99).save_pretrained(folder)
    torch.save({"step": step}, folder / "trainer_state.pt")


def test_leftovers_of_killed_writes_are_ignored_then_cleaned(tmp_path):
    run = tmp_path / "run"
    model = toy(seed=1)
    save_checkpoint(run, 2, model, {"step": 2})
    ckpts = run / "checkpoints"
    # Complete-looking leftovers of other (killed) processes: a newer temp write and a same-step-resave trash.
    _fake_leftover(ckpts / ".tmp-step_00000009-999999991", 9)
    _fake_leftover(ckpts / ".trash-step_00000002-999999992", 2)
    assert [s for s, _ in list_checkpoints(run)] == [2]
    assert latest_checkpoint(run) == ckpts / "step_00000002"
    assert same_weights(load(run), model)
    save_checkpoint(run, 3, model, {"step": 3})
    assert sorted(os.listdir(ckpts)) == ["step_00000002", "step_00000003"]


@pytest.mark.parametrize("missing", FILES)
def test_a_step_folder_missing_a_file_is_not_listed(tmp_path, missing):
    run, older, newer = tmp_path / "run", toy(seed=1), toy(seed=2)
    save_checkpoint(run, 1, older, {"step": 1})
    save_checkpoint(run, 2, newer, {"step": 2})
    (run / "checkpoints" / "step_00000002" / missing).unlink()
    (run / "checkpoints" / "step_3").mkdir()  # too few digits: not a checkpoint name
    (run / "checkpoints" / "step_00000004").write_text("a file, not a folder")
    (run / "checkpoints" / "step_00000005.bak").mkdir()
    assert [s for s, _ in list_checkpoints(run)] == [1]
    assert latest_checkpoint(run) == run / "checkpoints" / "step_00000001"
    assert same_weights(load(run), older)


def test_no_checkpoints_at_all(tmp_path):
    assert list_checkpoints(tmp_path) == [] and latest_checkpoint(tmp_path) is None
    with pytest.raises(CheckpointError) as e:
        load(tmp_path)
    one_line_error(e, f"no saved model in {tmp_path}")


# ---- corruption -> one-line CheckpointError naming the file ----------------------------------------------------

def _garbage(n: int) -> bytes:
    return random.Random(0).randbytes(n)


def _header_not_json(path: Path) -> None:
    path.write_bytes((40).to_bytes(8, "little") + b"{this is not json at all, really, no...}" + b"\0" * 64)


@pytest.mark.parametrize("corrupt", [
    pytest.param(lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), id="cut-in-half"),
    pytest.param(lambda p: p.write_bytes(p.read_bytes()[:5]), id="cut-to-5-bytes"),
    pytest.param(lambda p: p.write_bytes(b""), id="empty"),
    pytest.param(lambda p: p.write_bytes(_garbage(p.stat().st_size)), id="garbage"),
    pytest.param(_header_not_json, id="header-not-json"),
])
def test_corrupt_weights(tmp_path, corrupt):
    toy().save_pretrained(tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    corrupt(weights)
    with pytest.raises(CheckpointError) as e:
        load(tmp_path / "m")
    one_line_error(e, str(weights), "corrupt or truncated")


def test_weights_that_do_not_fit_the_config(tmp_path):
    toy(dim=8).save_pretrained(tmp_path / "m")
    cfg_path = tmp_path / "m" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["config"]["dim"] = 4
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError) as e:
        load(tmp_path / "m")
    one_line_error(e, str(tmp_path / "m" / "model.safetensors"), "does not fit the model in its config.json",
                   "size mismatch for net.0.weight")


def test_weights_missing_a_tensor(tmp_path):
    toy().save_pretrained(tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    tensors = load_file(str(weights))
    del tensors["net.2.bias"]
    save_file(tensors, str(weights))
    with pytest.raises(CheckpointError) as e:
        load(tmp_path / "m")
    one_line_error(e, str(weights), "does not fit", "missing: ['net.2.bias']")


@pytest.mark.parametrize("contents, needle", [
    pytest.param("{not json", "unreadable or corrupt (JSONDecodeError", id="not-json"),
    pytest.param(b"\xff\xfe\x00garbage", "unreadable or corrupt (UnicodeDecodeError", id="not-utf8"),
    pytest.param("[1, 2, 3]", "expected a JSON object", id="json-list"),
    pytest.param('{"model_type": "test-toy"}', "not a genlab model config", id="no-config-key"),
    pytest.param('{"model_type": "no-such-model", "config": {}}', "unknown model_type 'no-such-model'",
                 id="unknown-model-type"),
    pytest.param('{"model_type": "test-toy", "config": {"dim": 8, "bogus": 1}}', "unknown option(s)",
                 id="unknown-config-key"),
])
def test_bad_config_json(tmp_path, contents, needle):
    toy().save_pretrained(tmp_path / "m")
    cfg = tmp_path / "m" / "config.json"
    cfg.write_bytes(contents if isinstance(contents, bytes) else contents.encode())
    with pytest.raises(CheckpointError) as e:
        load(tmp_path / "m")
    msg = one_line_error(e, str(cfg), needle)
    if needle.startswith("unknown model_type"):
        assert "test-toy" in msg and "test-blob" in msg  # lists the model types it knows
    if needle.startswith("unknown option"):
        assert "bogus;" in msg and "valid: dim, nan_after, noise" in msg


def test_missing_folder_and_a_file_instead_of_a_folder(tmp_path):
    with pytest.raises(CheckpointError) as e:
        load(tmp_path / "nope")
    one_line_error(e, f"{tmp_path / 'nope'} does not exist")
    (tmp_path / "file.txt").write_text("hello")
    with pytest.raises(CheckpointError) as e:
        load(tmp_path / "file.txt")
    one_line_error(e, f"{tmp_path / 'file.txt'} is not a folder")


PYTORCH_WORDS = ("PytorchStreamReader", "weights_only", "If you are seeing", "miniz", "Unpickl", "load key")


@pytest.mark.parametrize("corrupt, needle", [
    pytest.param(lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "is truncated", id="cut-in-half"),
    pytest.param(lambda p: p.write_bytes(_garbage(p.stat().st_size)), "is not a PyTorch file", id="garbage"),
    pytest.param(lambda p: p.write_bytes(b"hello, not a checkpoint"), "is not a PyTorch file", id="text"),
    pytest.param(lambda p: p.write_bytes(b""), "is empty", id="empty"),
    pytest.param(lambda p: p.unlink(), "trainer_state.pt is missing", id="missing"),
    pytest.param(lambda p: torch.save([1, 2], p), "not a genlab trainer state", id="a-list"),
    pytest.param(lambda p: torch.save({"epoch": 1}, p), "not a genlab trainer state", id="no-step"),
])
def test_corrupt_trainer_state(tmp_path, corrupt, needle):
    """Trial #15: genlab's words (what, which file, what to do), never PyTorch's cut or unsafe advice."""
    path = save_checkpoint(tmp_path / "run", 3, toy(), {"step": 3, "payload": torch.arange(1000.0)})
    corrupt(path / "trainer_state.pt")
    with pytest.raises(CheckpointError) as e:
        load_trainer_state(path)
    msg = one_line_error(e, str(path / "trainer_state.pt"), needle)
    assert not any(w in msg for w in PYTORCH_WORDS), msg
    if "genlab trainer state" not in needle:
        assert "the only checkpoint" in msg and "start a new run" in msg, msg


def test_a_damaged_newest_checkpoint_points_at_the_one_before(tmp_path):
    save_checkpoint(tmp_path / "run", 2, toy(), {"step": 2})
    path = save_checkpoint(tmp_path / "run", 3, toy(), {"step": 3})
    (path / "trainer_state.pt").write_bytes(b"\0" * 100)
    with pytest.raises(CheckpointError) as e:
        load_trainer_state(path)
    one_line_error(e, "is not a PyTorch file", f"delete {path} to resume from step_00000002")


def test_resume_when_the_only_checkpoint_lacks_trainer_state_says_so(tmp_path):
    """Trial #15: not "no checkpoints/step_* folder" when the folder and its weights are there."""
    from genlab.core.checkpoint import resumable_checkpoint
    from genlab.core.engine import TrainConfig, Trainer
    from toy import toy_data

    run = tmp_path / "run"
    cfg = TrainConfig(batch_size=8, max_steps=2, progress=False, tensorboard=False, device="cpu", sample_every=0)
    Trainer(toy(), toy_data(), cfg, run).fit()
    (latest_checkpoint(run) / "trainer_state.pt").unlink()
    for resume in (lambda: resumable_checkpoint(run), lambda: Trainer(toy(), toy_data(), cfg, run).fit(resume=True)):
        with pytest.raises(CheckpointError) as e:
            resume()
        msg = one_line_error(e, str(run / "checkpoints" / "step_00000002"), "trainer_state.pt is missing")
        assert "no checkpoints/step_* folder" not in msg


# ---- loading never runs code ----------------------------------------------------------------------------------------

class Payload:
    """Unpickling this calls ``Path(marker).touch()``: the stand-in for arbitrary code in a malicious file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def test_trainer_state_with_code_is_refused_and_not_run(tmp_path):
    ckpt = save_checkpoint(tmp_path / "run", 1, toy(), {"step": 1})
    marker = tmp_path / "pwned"
    torch.save({"step": 1, "evil": Payload(marker)}, ckpt / "trainer_state.pt")
    # Control: an unrestricted torch.load really would run the payload, so the marker is a real detector.
    control = tmp_path / "control"
    torch.save({"step": 1, "evil": Payload(control)}, tmp_path / "control.pt")
    torch.load(tmp_path / "control.pt", weights_only=False)
    assert control.exists()

    with pytest.raises(CheckpointError) as e:
        load_trainer_state(ckpt)
    msg = one_line_error(e, str(ckpt / "trainer_state.pt"), "could run code")
    assert not any(w in msg for w in PYTORCH_WORDS), msg
    assert not marker.exists()


def test_trainer_state_with_a_non_allowlisted_class_is_refused(tmp_path):
    ckpt = save_checkpoint(tmp_path / "run", 1, toy(), {"step": 1})
    torch.save({"step": 1, "args": argparse.Namespace(lr=0.1)}, ckpt / "trainer_state.pt")
    with pytest.raises(CheckpointError) as e:
        load_trainer_state(ckpt)
    one_line_error(e, str(ckpt / "trainer_state.pt"), "could run code")


# ---- kill -9 while checkpoints are being written -----------------------------------------------------------------

NUMEL = 3_000_000
PAYLOAD = 500_000
REPEATS = 8


def _check_checkpoint(path: Path) -> int:
    step = int(path.name.removeprefix("step_"))
    cfg = json.loads((path / "config.json").read_text())
    assert (cfg["model_type"], cfg["config"]) == ("test-blob", {"numel": NUMEL}), path
    weight = load_file(str(path / "model.safetensors"))["weight"]
    assert weight.shape == (NUMEL,) and bool((weight == step).all()), f"{path}: weights are not all {step}"
    state = load_trainer_state(path)
    assert state["step"] == step
    assert torch.equal(state["payload"], torch.full((PAYLOAD,), float(step))), path
    return step


def test_kill_9_during_checkpoint_writes_never_leaves_a_broken_latest_checkpoint(tmp_path):
    run = tmp_path / "run"
    ckpts = run / "checkpoints"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO / "src")]),
           "OMP_NUM_THREADS": "1"}
    stderr = open(tmp_path / "writer.stderr", "w+")
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("ckpt_writer_script.py")), str(run),
                             str(NUMEL)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
                            env=env)
    rng = random.Random(20240607)
    latest_steps, mid_write_kills, pid = [], 0, None

    def writer_failed() -> str:
        stderr.seek(0)
        return stderr.read()[-3000:]

    try:
        for _ in range(REPEATS):
            start = list_checkpoints(run)[-1][0] if list_checkpoints(run) else 0
            proc.stdin.write("go\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            assert line.strip().isdigit(), writer_failed()
            pid = int(line)
            # Two new saves: the first one's pruning (which clears older writers' leftovers) has then finished.
            deadline = time.monotonic() + 20
            while not list_checkpoints(run) or list_checkpoints(run)[-1][0] < start + 2:
                assert time.monotonic() < deadline, "the writer made no progress: " + writer_failed()
                time.sleep(0.005)
            time.sleep(rng.uniform(0.05, 0.4))
            os.kill(pid, signal.SIGKILL)
            assert proc.stdout.readline().split() == ["dead", "-9"], writer_failed()  # it died by the kill
            pid = None

            leftovers = [p.name for p in ckpts.iterdir() if p.name.startswith((".tmp-step_", ".trash-step_"))]
            mid_write_kills += any(name.startswith(".tmp-step_") for name in leftovers)
            # Only the killed writer's own half-written folder can be there: earlier ones were cleaned up.
            assert len(leftovers) <= 1, leftovers

            latest = latest_checkpoint(run)
            assert latest is not None
            step = _check_checkpoint(latest)
            loaded = load(run)
            assert type(loaded) is Blob and bool((loaded.weight == step).all())
            steps = [_check_checkpoint(path) for _, path in list_checkpoints(run)]
            assert steps[-1] == step and 2 <= len(steps) <= 3  # keep_last=2 (+1 if killed before pruning)
            assert steps == list(range(steps[0], step + 1))
            latest_steps.append(step)
    finally:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stderr.close()

    assert proc.returncode == 0
    # Every restart resumed from the newest checkpoint and got further.
    assert all(b >= a + 2 for a, b in zip([0] + latest_steps, latest_steps, strict=False)), latest_steps
    print(f"{mid_write_kills}/{REPEATS} kills landed mid-write; latest steps after each kill: {latest_steps}")
    assert mid_write_kills >= 1, f"no kill landed during a write in {REPEATS} tries"
