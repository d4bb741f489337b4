"""`genlab vae ...` end to end on tiny data, and every bad input: one line on stderr, non-zero exit, nothing lost."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import genlab
from genlab.core.checkpoint import latest_checkpoint, list_checkpoints
from genlab.core.tracking import read_metrics
from helpers import assert_one_line_error, make_image_folder

FAST = ["--batch-size", "32", "--log-every", "2", "--no-progress", "--no-tensorboard", "--device", "cpu"]


def train_args(data_dir, out, *extra):
    return ["vae", "train", "--dataset", "mnist", "--data-dir", data_dir, "--out", out, *FAST, *extra]


def test_train_sample_evaluate_manifold(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli(*train_args(tiny_mnist, out, "--max-steps", "30", "--latent-dim", "2",
                                        "--sample-every", "10", "--checkpoint-every", "10"))
    assert code == 0, err
    assert "test -ELBO" in stdout and str(out) in stdout
    assert {p.name for p in (out / "samples").iterdir()} >= {"step_000010.png", "step_000020.png", "step_000030.png"}
    assert Image.open(out / "samples" / "step_000030.png").size == (8 * 30 + 2, 8 * 30 + 2)
    rows = read_metrics(out)
    assert rows[-1]["step"] == 30 and rows[-1]["eval/nelbo"] > 0
    train_losses = [r["train/loss"] for r in rows if "train/loss" in r]
    assert train_losses[-1] < train_losses[0]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model_type"] == "vae-mlp" and cfg["config"]["latent_dim"] == 2 and cfg["genlab_version"]

    code, stdout, err = cli("vae", "sample", out, "--n", "9", "--output", tmp_path / "s.png", "--seed", "3")
    assert code == 0, err
    assert Image.open(tmp_path / "s.png").size == (3 * 30 + 2, 3 * 30 + 2)
    cli("vae", "sample", out, "--n", "9", "--output", tmp_path / "s2.png", "--seed", "3")
    assert (tmp_path / "s.png").read_bytes() == (tmp_path / "s2.png").read_bytes()  # same seed, same picture

    code, stdout, err = cli("vae", "manifold", out, "--grid-size", "5", "--no-axes", "--output", tmp_path / "m.png")
    assert code == 0, err
    assert Image.open(tmp_path / "m.png").size == (5 * 28, 5 * 28)

    code, stdout, err = cli("vae", "evaluate", out, "--data-dir", tiny_mnist)
    assert code == 0, err
    result = json.loads((out / "eval.json").read_text())
    assert result["num_images"] == 128 and result["units"] == "nats per image"
    assert result["nelbo"] == pytest.approx(result["recon"] + result["kl"])
    assert result["nelbo"] == pytest.approx(rows[-1]["eval/nelbo"], rel=1e-5)  # same seed, same estimate


def test_resume_continues_and_python_api_matches(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, out, "--max-steps", "10", "--checkpoint-every", "5"))[0] == 0
    code, stdout, err = cli("vae", "train", "--out", out, "--resume", "--max-steps", "16", "--no-progress")
    assert code == 0, err
    assert "resuming" in err and "trained 6 steps this run (step 10 -> 16)" in stdout
    assert latest_checkpoint(out).name == "step_00000016"
    model = genlab.load(out)
    assert isinstance(model, genlab.vae.VAE) and model.sample(2, seed=0).shape == (2, 1, 28, 28)
    # Resuming cannot change the model.
    code, _, err = cli("vae", "train", "--out", out, "--resume", "--latent-dim", "8")
    assert_one_line_error(code, err, "cannot change --latent-dim when resuming")


def test_conv_vae_on_an_image_folder(cli, image_folder, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli("vae", "train", "--dataset", image_folder, "--image-size", "32", "--arch", "conv",
                            "--out", out, "--max-steps", "4", "--batch-size", "8", "--no-progress", "--no-tensorboard")
    assert code == 0, err
    model = genlab.load(out)
    assert model.model_type == "vae-conv" and model.image_shape == (3, 32, 32)


# ---- bad input ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags,needle", [
    (["--latent-dim", "0"], "--latent-dim must be an integer >= 1"),
    (["--latent-dim", "-2"], "--latent-dim"),
    (["--epochs", "-1"], "--epochs must be >= 0"),
    (["--epochs", "0"], "--epochs 0 trains nothing"),
    (["--beta", "-1"], "--beta must be >= 0"),
    (["--lr", "0"], "--lr must be > 0"),
    (["--batch-size", "100000"], "fewer than one batch"),
])
def test_bad_options(cli, tiny_mnist, tmp_path, flags, needle):
    code, _, err = cli(*train_args(tiny_mnist, tmp_path / "run", *flags))
    assert_one_line_error(code, err, needle)


def test_missing_data_dir(cli, tmp_path):
    code, _, err = cli(*train_args(tmp_path / "nowhere", tmp_path / "run"))
    assert_one_line_error(code, err, "nowhere", "does not exist")


def test_truncated_and_corrupt_gz(cli, tiny_mnist, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for f in tiny_mnist.iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    gz = data / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) // 2])
    code, _, err = cli(*train_args(data, tmp_path / "run"))
    assert_one_line_error(code, err, "train-images-idx3-ubyte.gz")
    gz.write_bytes(b"\x1f\x8b" + os.urandom(200))
    code, _, err = cli(*train_args(data, tmp_path / "run"))
    assert_one_line_error(code, err, "train-images-idx3-ubyte.gz")
    with gzip.open(gz, "wb") as f:  # valid gzip, wrong content
        f.write(b"not an idx file at all")
    code, _, err = cli(*train_args(data, tmp_path / "run"))
    assert_one_line_error(code, err, "train-images-idx3-ubyte.gz")


def test_bad_image_folders(cli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    code, _, err = cli("vae", "train", "--dataset", empty, "--out", tmp_path / "r1", *FAST)
    assert_one_line_error(code, err, "no images")

    folder = make_image_folder(tmp_path / "imgs", n_per_class=4)
    (folder / "red" / "fake.png").write_text("this is not a png")
    code, _, err = cli("vae", "train", "--dataset", folder, "--out", tmp_path / "r2", *FAST)
    assert_one_line_error(code, err, "fake.png")

    (folder / "red" / "fake.png").unlink()
    good = (folder / "red" / "000.png").read_bytes()
    (folder / "red" / "cut.png").write_bytes(good[: len(good) // 2])
    code, _, err = cli("vae", "train", "--dataset", folder, "--out", tmp_path / "r3", *FAST)
    assert_one_line_error(code, err, "cut.png")

    (folder / "red" / "cut.png").unlink()
    code, _, err = cli("vae", "train", "--dataset", folder, "--max-pixels", "1000", "--out", tmp_path / "r4", *FAST)
    assert_one_line_error(code, err, "above the limit")

    code, _, err = cli("vae", "train", "--dataset", tmp_path / "no-such-folder", "--out", tmp_path / "r5", *FAST)
    assert_one_line_error(code, err, "no-such-folder")


def test_resume_without_checkpoint(cli, tmp_path):
    code, _, err = cli("vae", "train", "--out", tmp_path / "fresh", "--resume")
    assert_one_line_error(code, err, "nothing to resume")
    code, _, err = cli("vae", "train", "--resume")
    assert_one_line_error(code, err, "--resume needs --out")


def _other_family_run(tmp_path: Path) -> Path:
    from toy import ToyConfig, ToyRegressor
    from genlab.core.checkpoint import save_checkpoint

    run = tmp_path / "toy-run"
    model = ToyRegressor(ToyConfig())
    save_checkpoint(run, 3, model, {"step": 3})
    model.save_pretrained(run)
    return run


def test_another_familys_run(cli, tmp_path):
    run = _other_family_run(tmp_path)
    code, _, err = cli("vae", "train", "--out", run, "--resume")
    assert_one_line_error(code, err, "cannot resume", "toy")
    code, _, err = cli("vae", "sample", run)
    assert_one_line_error(code, err, "toy model", "not a vae model")
    code, _, err = cli("vae", "evaluate", run)
    assert_one_line_error(code, err, "not a vae model")


def test_corrupt_checkpoint(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, out, "--max-steps", "4", "--checkpoint-every", "2"))[0] == 0
    ckpt = latest_checkpoint(out)
    weights = ckpt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    code, _, err = cli("vae", "train", "--out", out, "--resume")
    assert_one_line_error(code, err, "model.safetensors", "corrupt")
    (out / "model.safetensors").write_bytes(b"\x00" * 64)
    code, _, err = cli("vae", "sample", out)
    assert_one_line_error(code, err, "model.safetensors", "corrupt")
    state = list_checkpoints(out)[0][1] / "trainer_state.pt"
    (ckpt / "model.safetensors").unlink()  # an incomplete newest checkpoint is named, with what to do
    state.write_bytes(state.read_bytes()[:200])
    code, _, err = cli("vae", "train", "--out", out, "--resume")
    assert_one_line_error(code, err, "is incomplete", "delete")
    import shutil
    shutil.rmtree(ckpt)  # now the older checkpoint is the newest one
    code, _, err = cli("vae", "train", "--out", out, "--resume")
    assert_one_line_error(code, err, "trainer_state.pt", "corrupt")


def test_output_dir_not_writable(cli, tiny_mnist, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = cli(*train_args(tiny_mnist, blocker / "run", "--max-steps", "2"))
    assert_one_line_error(code, err, "cannot write", "is a file, not a folder")
    model_dir = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, model_dir, "--max-steps", "2"))[0] == 0
    code, _, err = cli("vae", "sample", model_dir, "--output", blocker / "x.png")
    assert_one_line_error(code, err, "cannot write")
    code, _, err = cli("vae", "sample", model_dir, "--out", blocker)
    assert_one_line_error(code, err, "not a folder")


def test_existing_run_is_never_overwritten(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, out, "--max-steps", "2"))[0] == 0
    before = (out / "model.safetensors").read_bytes()
    code, _, err = cli(*train_args(tiny_mnist, out, "--max-steps", "2"))
    assert_one_line_error(code, err, "already holds a run", "--resume")
    assert (out / "model.safetensors").read_bytes() == before


def test_manifold_on_a_32d_model(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, out, "--max-steps", "2", "--latent-dim", "32"))[0] == 0
    code, _, err = cli("vae", "manifold", out)
    assert_one_line_error(code, err, "needs a 2-D latent", "--latent-dim 2")
    code, _, err = cli("vae", "sample", out, "--n", "0")
    assert_one_line_error(code, err, "--n must be an integer >= 1")


def test_real_process_exit_code_and_no_traceback(tmp_path):
    env = {**os.environ, "GENLAB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "genlab", "vae", "train", "--latent-dim", "0", "--out",
                           str(tmp_path / "r")], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "genlab: error: --latent-dim must be an integer >= 1 (got 0)"
    proc = subprocess.run([sys.executable, "-m", "genlab", "vae", "sample", str(tmp_path / "missing")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "does not exist" in proc.stderr


def test_ddp_vae_cli_under_torchrun(tiny_mnist, tmp_path):
    """The real CLI under `torchrun --nproc_per_node 2`: rank 0 alone writes, resume works."""
    env = {**os.environ, "GENLAB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "genlab",
           "vae", "train", "--dataset", "mnist", "--data-dir", str(tiny_mnist), "--out", str(tmp_path / "run"),
           "--max-steps", "6", "--batch-size", "16", "--log-every", "2", "--no-progress", "--no-tensorboard",
           "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("trained 6 steps") == 1  # both ranks finish; only rank 0 writes and prints
    assert [r["step"] for r in read_metrics(tmp_path / "run") if "train/loss" in r] == [2, 4, 6]
    assert genlab.load(tmp_path / "run").model_type == "vae-mlp"


def test_ctrl_c_on_the_real_cli_saves_a_checkpoint_and_resumes(tiny_mnist, tmp_path):
    import re
    import signal
    import time

    out = tmp_path / "run"
    env = {**os.environ, "GENLAB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "genlab", *train_args(tiny_mnist, out, "--max-steps", "100000",
                                                                       "--checkpoint-every", "1000000")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and len(read_metrics(out)) < 3:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    match = re.fullmatch(r"genlab: stopped: interrupted at step (\d+); checkpoint saved to (\S+); "
                         r"continue with --resume", last)
    assert match, err
    step = int(match.group(1))
    assert step >= 6 and latest_checkpoint(out).name == f"step_{step:08d}"
    resumed = subprocess.run([sys.executable, "-m", "genlab", "vae", "train", "--out", str(out), "--resume",
                              "--max-steps", str(step + 4), "--no-progress"], capture_output=True, text=True,
                             env=env, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"(step {step} -> {step + 4})" in resumed.stdout


def test_evaluate_with_fid_on_the_domain_classifier(cli, tiny_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the classifier is trained once, cached here
    out = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, out, "--max-steps", "20"))[0] == 0
    code, stdout, err = cli("vae", "evaluate", out, "--data-dir", tiny_mnist, "--fid-samples", "64")
    assert code == 0, err
    gen = json.loads((out / "eval.json").read_text())["generation"]
    assert gen["n_fake"] == 64 and gen["n_real"] == 128 and gen["fid"] > 0 and gen["classifier_test_accuracy"] > 0.5
    assert "FID" in stdout
    assert any((tmp_path / "cache" / "genlab" / "classifiers").iterdir())
    code, _, err = cli("vae", "evaluate", out, "--data-dir", tiny_mnist, "--fid-samples", "-1")
    assert_one_line_error(code, err, "--fid-samples must be an integer >= 0")
