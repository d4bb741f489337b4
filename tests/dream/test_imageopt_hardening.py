"""Hardening of every image-optimisation command (issue 12): output paths checked before the work, images too small
for the network, --blur-every with the Fourier parametrisation, progress in logs, why a dream stopped, a clean stop
on SIGINT / SIGTERM, channel numbers on the filter grid."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import REPO, assert_one_line_error

LEGACY_FAST_STYLE = REPO / "tests" / "fixtures" / "legacy_runs" / "fast-style"


def _png(path, h=40, w=40):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def _commands(tmp_path, image_folder):
    """Every image-optimisation subcommand, set up so that the work itself would fail loudly (ImageNet weights while
    offline with an empty TORCH_HOME): an output error that comes first proves the output was checked first."""
    png = _png(tmp_path / "in.png")
    return {
        "dream run": ["dream", "run", png, "--model", "vgg16", "--weights", "imagenet", "--layers", "block1_conv2",
                      "--no-progress"],
        "visualize run": ["visualize", "run", "block1_conv2", "--model", "vgg16", "--weights", "imagenet",
                          "--size", "24", "--no-progress"],
        "style run": ["style", "run", png, png, "--weights", "imagenet", "--size", "32", "--no-progress"],
        "style train": ["style", "train", "--dataset", image_folder, "--style-image", png,
                        "--loss-network-weights", "imagenet", "--no-progress", "--no-tensorboard"],
        # a real trained network: the work succeeds, so only an early check stops it
        "style apply": ["style", "apply", LEGACY_FAST_STYLE, png, "--device", "cpu"],
        "style evaluate": ["style", "evaluate", LEGACY_FAST_STYLE, "--dataset", image_folder, "--device", "cpu"],
    }


BAD_OUTPUTS = [
    (["--out", "/proc/d"], ["cannot write --out /proc/d"]),
    (["--out", "{file}"], ["exists and is not a folder"]),
    (["--out", "{tmp}/x.png"], ["--out is a folder", "looks like a file name; use --output"]),
    (["--output", "/proc/d/x.png"], ["cannot write --output /proc/d/x.png"]),
    (["--output", "{tmp}"], ["is a folder; give a file name"]),
]


@pytest.mark.parametrize("command", ["dream run", "visualize run", "style run", "style train", "style apply",
                                     "style evaluate"])
def test_every_command_checks_its_output_before_the_work(cli, tmp_path, image_folder, monkeypatch, command):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.chdir(tmp_path)
    argv = _commands(tmp_path, image_folder)[command]
    existing = tmp_path / "a_file"
    existing.write_text("not a folder")
    for bad, needles in BAD_OUTPUTS:
        if command == "style train" and bad[0] == "--output":
            continue  # a run folder only
        suffix = ".json" if command == "style evaluate" and bad[0] == "--output" else ".png"  # it writes eval.json
        bad = [a.replace("{file}", str(existing)).replace("{tmp}", str(tmp_path)).replace(".png", suffix) for a in bad]
        code, out, err = cli(*argv, *bad)
        assert_one_line_error(code, err, *[n.replace(".png", suffix) for n in needles])
        assert "ImageNet weights" not in err and not (tmp_path / "runs").exists()


def test_min_input_size_is_the_real_minimum():
    """The size in "image too small" is measured, not guessed: the truncated network runs at N px and not at N-1."""
    from genlab.features import load_feature_network

    for model, layer in (("inception_v3", "mixed5"), ("vgg19", "block5_conv2"), ("googlenet", "mixed4c")):
        net = load_feature_network(model, weights="random", layers=[layer])
        n = net.min_input_size()
        with torch.no_grad():
            net(torch.zeros(1, 3, n, n), [layer])
            with pytest.raises(RuntimeError):
                net(torch.zeros(1, 3, n - 1, n - 1), [layer])
        print(model, layer, n)  # measured: inception_v3 mixed5 43, vgg19 block5_conv2 16, googlenet mixed4c 15


@pytest.mark.parametrize("args, needles", [
    (["dream", "run", "{tiny}", "--octaves", "1"], ["image too small for inception_v3 up to Mixed_6c (min 43 px)",
                                                    "the image is 8x8 px"]),
    (["dream", "run", "{png}", "--size", "20"], ["image too small for inception_v3", "smallest octave",
                                                 "fewer --octaves"]),
    (["visualize", "run", "mixed4", "--size", "32"], ["image too small for inception_v3 up to Mixed_6b (min 43 px)",
                                                      "30x30 px"]),
    (["style", "run", "{wide}", "{png}", "--size", "64"], ["image too small for vgg19", "(min 16 px)",
                                                           "the content image is 64x3 px"]),
])
def test_images_too_small_for_the_network(cli, tmp_path, args, needles):
    subs = {"{tiny}": str(_png(tmp_path / "tiny.png", 8, 8)), "{png}": str(_png(tmp_path / "p.png")),
            "{wide}": str(_png(tmp_path / "wide.png", 10, 200))}
    extra = ["--weights", "random", "--no-progress", "--out", tmp_path / "o"]
    code, _, err = cli(*[subs.get(a, a) for a in args], *extra)
    assert_one_line_error(code, err, *needles)


def test_tiles_need_a_margin_the_network_can_run_on(cli, tmp_path):
    """Edge tiles are the margin plus as little as 1 px: a margin below the network's minimum was a conv error."""
    code, _, err = cli("dream", "run", _png(tmp_path / "p.png", 100, 100), "--weights", "random", "--layers",
                       "mixed2:1", "--octaves", "1", "--tile-size", "48", "--tile-margin", "8", "--device", "cpu",
                       "--no-progress", "--out", tmp_path / "o")
    assert_one_line_error(code, err, "--tile-margin 8 is too small for inception_v3 up to Mixed_5d",
                          "use --tile-margin 27 or more")
    code, out, err = cli("dream", "run", tmp_path / "p.png", "--weights", "random", "--layers", "mixed2:1",
                         "--octaves", "1", "--steps-per-octave", "1", "--tile-size", "48", "--tile-margin", "27",
                         "--device", "cpu", "--no-progress", "--out", tmp_path / "o")
    assert code == 0, err


def test_image_too_small_for_the_fast_style_network(cli, tmp_path):
    """Its 9x9 convolution's reflection padding needs at least 5 px (measured on the meta device, checked here)."""
    import genlab

    model = genlab.load(LEGACY_FAST_STYLE)
    n = model.min_input_size()
    with torch.no_grad():
        model.stylize(torch.zeros(1, 3, n, n))
        with pytest.raises(RuntimeError):
            model.stylize(torch.zeros(1, 3, n - 1, n - 1))
    code, _, err = cli("style", "apply", LEGACY_FAST_STYLE, _png(tmp_path / "t.png", 4, 4), "--device", "cpu",
                       "--out", tmp_path / "o")
    assert_one_line_error(code, err, "image too small for the fast style network (min 5 px)", "4x4 px")


def test_blur_every_works_with_the_fourier_parametrisation():
    """B8: with the default --param fft, --blur-every used to do nothing. It blurs the spectrum now (the Gaussian's
    transfer function), so the images change and lose high-frequency energy."""
    from genlab.features import load_feature_network
    from genlab.imageopt.visualize import VisualizeConfig, visualize

    net = load_feature_network("vgg16", weights="random", layers=["block2_conv1"], seed=0)
    base = dict(model="vgg16", weights="random", channels="0-1", size=32, iterations=6, param="fft", device="cpu")
    plain = visualize("block2_conv1", VisualizeConfig(**base), net=net, write=False, progress=False).images
    blurred = visualize("block2_conv1", VisualizeConfig(**base, blur_every=2, blur_sigma=1.5), net=net, write=False,
                        progress=False).images

    def roughness(x):
        return float((x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., 1:] - x[..., :-1]).abs().mean())

    assert not torch.allclose(plain, blurred)
    assert roughness(blurred) < 0.8 * roughness(plain), (roughness(blurred), roughness(plain))


DREAM = ["--model", "vgg16", "--weights", "random", "--layers", "block2_conv2:1", "--octaves", "2",
         "--steps-per-octave", "3", "--size", "32", "--device", "cpu"]


def test_progress_in_a_log_is_lines_not_a_bar_and_says_why_a_dream_stopped(cli, tmp_path, photos):
    code, out, err = cli("dream", "run", photos["coffee"], *DREAM, "--max-loss", "none", "--out", tmp_path / "d")
    assert code == 0, err
    assert "\r" not in err  # stderr is not a terminal here: no tqdm bar
    assert "dream: 6/6 steps" in err and len(err.strip().splitlines()) <= 6
    code, out, err = cli("dream", "run", photos["coffee"], *DREAM, "--max-loss", "1e-9", "--no-progress",
                         "--out", tmp_path / "d2")
    assert code == 0, err
    assert "dreamed 2 of 6 steps" in out
    assert "octave 1 (23x15): --max-loss 1e-09 reached at step 1 of 3" in out, out
    assert "octave 2" in out and err == ""


@pytest.mark.parametrize("signum, code_expected", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_dream_cleanly_and_keeps_what_is_done(cli, tmp_path, photos, monkeypatch, signum,
                                                                 code_expected):
    import genlab.imageopt.dream as dream

    calls = {"n": 0}
    real = dream.gradient
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}  # (SIG_IGN under nohup / `cmd &`)

    def gradient(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signum)  # as if the user pressed Ctrl-C (or `kill`) during the second step
        return real(*a, **kw)

    monkeypatch.setattr(dream, "gradient", gradient)
    code, out, err = cli("dream", "run", photos["coffee"], *DREAM, "--max-loss", "none", "--no-progress",
                         "--out", tmp_path / "d")
    assert code == code_expected
    assert f"the dream stopped by {signal.Signals(signum).name}" in err and "Traceback" not in err
    meta = json.loads((tmp_path / "d" / "metadata.json").read_text())
    assert len(meta["losses"]) == 2 and meta["interrupted"] == signal.Signals(signum).name
    assert Image.open(tmp_path / "d" / "dream.png").size == (32, 21)
    assert {s: signal.getsignal(s) for s in before} == before  # the handlers that were there are restored


def test_a_signal_stops_style_transfer_with_the_best_image_so_far(tmp_path, photos, monkeypatch):
    import genlab.imageopt.gatys as gatys
    from genlab.imageopt.gatys import StyleConfig, style_transfer

    real = gatys.StyleObjective.__call__
    calls = {"n": 0}

    def call(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            os.kill(os.getpid(), signal.SIGINT)
        return real(self, *a, **kw)

    monkeypatch.setattr(gatys.StyleObjective, "__call__", call)
    r = style_transfer(photos["astronaut"], [photos["coffee"]], StyleConfig(weights="random", size=32,
                       evaluations=50, device="cpu"), out=tmp_path / "s", progress=False)
    assert r.interrupted == "SIGINT" and len(r.losses) == 4 and r.path.exists()


def test_filter_grid_is_labelled_with_channel_numbers(tmp_path, monkeypatch):
    import importlib

    from genlab.imageopt.visualize import VisualizeConfig, visualize
    vis = importlib.import_module("genlab.imageopt.visualize")  # the package's `visualize` is the function

    seen = {}
    real = vis.save_labelled_grid

    def spy(images, labels, path, **kw):
        seen["labels"] = list(labels)
        return real(images, labels, path, **kw)

    monkeypatch.setattr(vis, "save_labelled_grid", spy)
    cfg = VisualizeConfig(model="vgg16", weights="random", channels="3,5,9", size=24, iterations=1, device="cpu")
    r = visualize("block1_conv2", cfg, out=tmp_path / "v", progress=False)
    assert seen["labels"] == ["channel 3", "channel 5", "channel 9"] and r.path == tmp_path / "v" / "filters.png"
    from genlab.features.domain import ClassifierConfig, DomainClassifier

    DomainClassifier(ClassifierConfig()).save_pretrained(tmp_path / "clf")
    cfg = VisualizeConfig(model=str(tmp_path / "clf"), weights="genlab", channels="7", size=28, iterations=1,
                          device="cpu")
    visualize("logits", cfg, out=tmp_path / "c", progress=False)
    assert seen["labels"] == ["class 7"]


def test_output_file_gets_the_main_image(cli, tmp_path, photos):
    code, out, err = cli("dream", "run", photos["coffee"], *DREAM, "--no-progress", "--out", tmp_path / "d",
                         "--output", tmp_path / "pics" / "dreamed.png")
    assert code == 0, err
    assert Image.open(tmp_path / "pics" / "dreamed.png").size == (32, 21)
    assert not (tmp_path / "d" / "dream.png").exists() and (tmp_path / "d" / "metadata.json").exists()
    assert f"dream: {tmp_path / 'pics' / 'dreamed.png'}" in out


def test_device_defaults_to_auto(cli, tmp_path, photos):
    """dream/style ran on the CPU of a GPU machine unless told (trial #13): auto picks CUDA, then MPS, then CPU."""
    from genlab.core.device import resolve_device
    from genlab.imageopt import DreamConfig, StyleConfig, VisualizeConfig

    assert DreamConfig().device == StyleConfig().device == VisualizeConfig().device == "auto"
    fast = [a for a in DREAM if a not in ("--device", "cpu")]
    code, out, err = cli("dream", "run", photos["coffee"], *fast, "--no-progress", "--out", tmp_path / "d")
    assert code == 0, err
    meta = json.loads((tmp_path / "d" / "metadata.json").read_text())
    assert meta["device"].split(":")[0] == resolve_device("auto").type and meta["config"]["device"] == "auto"
