"""The app's kit without a browser (fast): run folders confined to --runs-dir, upload limits, the job queue, the
Train tab's argument checks, the error guard, and `genlab app` errors as one line."""

from __future__ import annotations

import json
import os
import stat
import struct
import sys
import time
import zlib
from pathlib import Path

import pytest

from helpers import assert_one_line_error

from genlab.app.kit import AppContext, AppError, JobQueue


def _fake_run(folder: Path, model_type: str = "vae-mlp", family: str = "vae") -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": model_type, "family": family, "config": {}}))
    (folder / "model.safetensors").write_bytes(b"x")
    return folder


@pytest.fixture()
def ctx(tmp_path):
    runs = tmp_path / "runs"
    _fake_run(runs / "vae" / "a")
    _fake_run(runs / "gan" / "b", "gan-dcgan", "gan")
    _fake_run(runs / "vae" / "a" / "checkpoints" / "step_00000010")  # never listed
    outside = _fake_run(tmp_path / "outside" / "run")
    (runs / "link-out").symlink_to(outside, target_is_directory=True)
    (runs / "notarun").mkdir()
    c = AppContext(runs, work_dir=tmp_path / "work", start_jobs=False, max_upload_bytes=10_000)
    yield c
    c.close()


def test_list_runs_filters_by_model_type_or_family_and_skips_checkpoints_and_links(ctx):
    assert ctx.run_choices() == sorted(ctx.run_choices(), key=lambda r: ctx.run_choices().index(r))
    assert set(ctx.run_choices()) == {"vae/a", "gan/b"}
    assert ctx.run_choices("gan") == ["gan/b"]
    assert ctx.run_choices(("vae", "ae")) == ["vae/a"]


@pytest.mark.parametrize("value, words", [
    ("../outside/run", "outside the runs folder"),
    ("vae/../../outside/run", "outside the runs folder"),
    ("link-out", "outside the runs folder"),
    ("/etc", "outside the runs folder"),
    ("", "pick a run folder"),
    ("nosuch", "does not exist"),
    ("notarun", "not a genlab run"),
    ("a\x00b", "not valid"),
])
def test_resolve_run_refuses_anything_outside_or_not_a_run(ctx, value, words):
    with pytest.raises(AppError) as err:
        ctx.resolve_run(value)
    assert words in str(err.value)


def test_resolve_run_accepts_relative_and_absolute_inside_and_checks_the_tab_kind(ctx):
    assert ctx.resolve_run("vae/a") == ctx.runs_dir / "vae" / "a"
    assert ctx.resolve_run(str(ctx.runs_dir / "gan" / "b"), prefix="gan") == ctx.runs_dir / "gan" / "b"
    with pytest.raises(AppError, match="this tab takes vae / ae runs"):
        ctx.resolve_run("gan/b", prefix=("vae", "ae"))


def _bomb(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
    return path


def test_uploads_are_checked_by_the_image_loader_and_the_byte_limit(ctx, tmp_path):
    from PIL import Image

    good = tmp_path / "good.png"
    Image.new("RGB", (20, 10), (1, 2, 3)).save(good)
    assert ctx.load_upload(str(good)).size == (20, 10)
    assert ctx.load_upload({"path": str(good)}, mode="L").mode == "L"
    truncated = tmp_path / "trunc.png"
    truncated.write_bytes(good.read_bytes()[:40])
    text = tmp_path / "text.png"
    text.write_text("not pixels")
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 20_000)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    cases = [(_bomb(tmp_path / "bomb.png"), "above the limit"), (truncated, "refused"), (text, "refused"),
             (big, "above the app's limit"), (empty, "empty"), (None, "upload a file")]
    for path, words in cases:
        with pytest.raises(AppError) as err:
            ctx.load_upload(None if path is None else str(path))
        assert words in str(err.value), str(err.value)
        assert str(tmp_path) not in str(err.value)  # the server's temporary paths are not shown
    with pytest.raises(AppError, match="must be a .safetensors"):
        ctx.upload_path(str(good), suffixes=(".safetensors",))


def test_guard_turns_errors_into_page_messages_and_keeps_the_signature(ctx):
    gr = pytest.importorskip("gradio", reason="gradio is not installed: pip install 'genlab[app]'")
    import inspect

    def handler(c, run, n=3, progress=None):
        c.resolve_run(run)

    wrapped = ctx.guard(handler, ctx)
    assert list(inspect.signature(wrapped).parameters) == ["run", "n", "progress"]
    with pytest.raises(gr.Error) as err:
        wrapped("../x")
    assert "outside the runs folder" in str(err.value)
    with pytest.raises(gr.Error, match="internal error"):
        ctx.guard(lambda: 1 / 0)()

    def gen(c):
        yield 1
        raise AppError("late failure")
    with pytest.raises(gr.Error, match="late failure"):
        list(ctx.guard(gen, ctx)())


def _fake_python(tmp_path: Path) -> str:
    """Stands in for `python -m genlab ...`: prints, writes metrics, exits 130 on SIGINT (as the engine does)."""
    script = tmp_path / "fakepython"
    script.write_text("#!/bin/sh\ntrap 'echo saved checkpoint; exit 130' INT\nshift 2\necho args: \"$@\"\n"
                      "if [ \"$1\" = fail ]; then exit 2; fi\n"
                      "if [ \"$1\" = long ]; then i=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; fi\n"
                      "exit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_job_queue_runs_one_job_at_a_time_in_order_and_cancel_sends_sigint(tmp_path):
    q = JobQueue(tmp_path / "jobs", python=_fake_python(tmp_path))
    try:
        long = q.submit(["long"], tmp_path / "r1")
        quick = q.submit(["quick", "x y"], tmp_path / "r2")
        failing = q.submit(["fail"], tmp_path / "r3")
        dropped = q.submit(["quick"], tmp_path / "r4")
        deadline = time.time() + 20
        while long.state != "running" and time.time() < deadline:
            time.sleep(0.05)
        assert long.state == "running" and quick.state == "queued"  # one at a time
        assert q.cancel(dropped.id).state == "cancelled"  # a queued job is dropped
        time.sleep(0.3)
        q.cancel(long.id)
        assert q.wait(long.id, 20).state == "cancelled" and long.returncode == 130
        assert "saved checkpoint" in long.log_tail()
        assert q.wait(quick.id, 20).state == "finished" and "args: quick x y" in quick.log_tail()
        assert q.wait(failing.id, 20).state == "failed" and failing.returncode == 2
        assert dropped.started is None
        assert "resume with" in long.describe()
    finally:
        q.shutdown()


def test_job_metrics_skip_a_half_written_line(tmp_path):
    from genlab.app.kit import Job

    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "train/loss": 2.0}\n{"step": 2, "train/lo')
    job = Job(1, ["x"], tmp_path, tmp_path / "log")
    assert job.metrics() == [{"step": 1, "train/loss": 2.0}]


def test_train_tab_arguments_are_checked(ctx):
    from genlab.app.train_tab import job_argv

    argv, run_dir = job_argv(ctx, "vae", "mnist", 50, "my-run", "--latent-dim 2", False)
    assert argv[:4] == ["vae", "train", "--dataset", "mnist"] and run_dir == ctx.runs_dir / "app" / "my-run"
    assert "--latent-dim" in argv and str(run_dir) in argv
    for args, words in [(("nosuch", "x", 5, "n", "", False), "trains"),
                        (("vae", "mnist", 5, "../up", "", False), "run name"),
                        (("vae", "mnist", 0, "n", "", False), "max steps"),
                        (("vae", "mnist", 5, "n", "--out /tmp/x", False), "may not contain --out"),
                        (("vae", "mnist", 5, "n", "'unclosed", False), "extra flags"),
                        (("vae", "mnist", 5, "never", "", True), "no run app/never to resume")]:
        with pytest.raises(AppError, match=words):
            job_argv(ctx, *args)
    (ctx.runs_dir / "app" / "done").mkdir(parents=True)
    (ctx.runs_dir / "app" / "done" / "train_config.json").write_text("{}")
    with pytest.raises(AppError, match="exists"):
        job_argv(ctx, "vae", "mnist", 5, "done", "", False)
    argv, _ = job_argv(ctx, "vae", "mnist", 80, "done", "", True)
    assert "--resume" in argv and "--dataset" not in argv


def test_app_cli_errors_are_one_line(cli, tmp_path, monkeypatch):
    code, out, err = cli("app", "--port", "70000")
    assert_one_line_error(code, err, "--port")
    (tmp_path / "f").write_text("x")
    code, out, err = cli("app", "--runs-dir", tmp_path / "f")
    assert_one_line_error(code, err, "--runs-dir")
    import importlib

    real = importlib.import_module

    def no_gradio(name, *a, **k):
        if name == "gradio":
            raise ImportError("No module named 'gradio'")
        return real(name, *a, **k)
    monkeypatch.setattr(importlib, "import_module", no_gradio)
    code, out, err = cli("app", "--runs-dir", tmp_path)
    assert_one_line_error(code, err, "gradio", "pip install 'genlab[app]'")


def test_import_genlab_app_does_not_import_gradio():
    import subprocess

    out = subprocess.run([sys.executable, "-c", "import sys, genlab.app, genlab.app.kit, genlab.tour; "
                          "print('gradio' in sys.modules)"], capture_output=True, text=True, check=True,
                         env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    assert out.stdout.strip() == "False"
