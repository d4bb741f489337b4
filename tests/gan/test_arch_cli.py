"""`genlab gan train --arch progan|stylegan`, `sample --truncation`, `mix`, `noise` end to end on tiny data, the exact
resume in the middle of a fade-in, and every bad input as one line."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

import genlab
from genlab.core.tracking import read_metrics
from helpers import assert_one_line_error

TINY = ["--batch-size", "8", "--log-every", "1", "--no-progress", "--no-tensorboard", "--device", "cpu",
        "--g-channels", "2", "--d-channels", "2", "--latent-dim", "8", "--size", "16", "--fid-samples", "0",
        "--sample-every", "0"]
STYLE = ["--arch", "stylegan", "--w-dim", "8", "--mapping-layers", "1"]
PRO = ["--arch", "progan", "--stable-images", "16", "--fade-images", "32"]  # 8-image steps: 2 stable, 4 fading


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def train(cli, data, out, *extra):
    return cli("gan", "train", "--dataset", "mnist", "--data-dir", data, "--out", out, *TINY, *extra)


@pytest.fixture(scope="module")
def style_run(tmp_path_factory, tiny_mnist):
    from genlab.cli import main

    out = tmp_path_factory.mktemp("style") / "run"
    assert main(["gan", "train", "--dataset", "mnist", "--data-dir", str(tiny_mnist), "--out", str(out), *TINY,
                 *STYLE, "--max-steps", "2"]) == 0
    return out


@pytest.mark.slow
def test_stylegan_train_sample_mix_noise(cli, style_run, tmp_path):
    cfg = json.loads((style_run / "config.json").read_text())
    assert cfg["model_type"] == "gan-stylegan" and cfg["config"]["arch"] == "stylegan"
    code, out, err = cli("gan", "sample", style_run, "--truncation", "0", "--n", "4", "--out", tmp_path / "s")
    assert code == 0, err
    assert (tmp_path / "s" / "sample_seed0_psi0_ema.png").exists()
    code, out, err = cli("gan", "mix", style_run, "--out", tmp_path / "mix", "--n-a", "2", "--n-b", "3")
    assert code == 0, err
    # 16 px: style layers at 4, 8, 8, 16, 16 px; coarse = 4-8 px, fine = the finest side, no middle layers
    assert sorted(p.name for p in (tmp_path / "mix").iterdir()) == ["mix_coarse.png", "mix_fine.png"]
    from PIL import Image
    with Image.open(tmp_path / "mix" / "mix_coarse.png") as im:  # (1 + 2) columns x (1 + 3) rows of 16 px + pads
        assert im.size == (3 * 18 + 2, 4 * 18 + 2)
    code, out, err = cli("gan", "mix", style_run, "--out", tmp_path / "mix1", "--layers", "0-1", "--n-a", "2",
                         "--n-b", "2")
    assert code == 0 and (tmp_path / "mix1" / "mix_layers_0-1.png").exists(), err
    code, out, err = cli("gan", "noise", style_run, "--out", tmp_path / "noise", "--n", "2", "--realisations", "4")
    assert code == 0, err
    assert "noise alone changes pixels by" in out
    assert (tmp_path / "noise" / "noise_realisations.png").exists() and (tmp_path / "noise" / "noise_layers.png").exists()
    code, out, err = cli("gan", "sample", style_run, "--truncation", "1.5", "--n", "2", "--out", tmp_path / "s")
    assert code == 0 and "warning: --truncation 1.5 > 1 extrapolates" in err
    code, out, err = cli("gan", "analyze", style_run, "--samples", "60", "--pairs", "10", "--psi", "0", "1",
                         "--output", tmp_path / "an.json")
    assert code == 0, err
    assert "path length in z" in out and "path length in w" in out and "not comparable" in out
    r = json.loads((tmp_path / "an.json").read_text())
    sweep = {row["psi"]: row for row in r["truncation_sweep"]}
    assert sweep[0.0]["diversity_ratio"] < 0.01 < sweep[1.0]["diversity_ratio"]  # psi 0: one image for every z
    assert r["path_length_w"]["path_length"] > 0 and "LPIPS" in r["path_length_w"]["note"]
    assert set(r["mixing_class_survival"]) >= {"coarse", "fine", "chance", "pairs_with_different_classes"}
    code, _, err = cli("gan", "analyze", style_run, "--psi", "-1")
    assert_one_line_error(code, err, "--truncation must be in [0, 1]")


@pytest.mark.slow
def test_progan_grows_and_resumes_exactly_in_the_middle_of_a_fade_in(cli, tiny_mnist, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    code, _, err = train(cli, tiny_mnist, straight, *PRO, "--max-steps", "5")
    assert code == 0, err
    rows = [r for r in read_metrics(straight) if "train/alpha" in r]
    assert [r["train/side"] for r in rows] == [4, 4, 8, 8, 8]
    assert [r["train/alpha"] for r in rows] == [1.0, 1.0, 0.0, 0.25, 0.5]  # fade-in: 8 of 32 images per step
    assert sorted(p.name for p in (straight / "samples").glob("phase*.png")) == ["phase0_4px.png",
                                                                                 "phase1_8px-fade.png"]
    code, _, err = train(cli, tiny_mnist, split, *PRO, "--max-steps", "3")  # stops after alpha 0 (mid fade-in)
    assert code == 0, err
    code, _, err = cli("gan", "train", "--out", split, "--resume", "--max-steps", "5", "--no-progress")
    assert code == 0, err
    a, b = load_file(str(straight / "model.safetensors")), load_file(str(split / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert (a[k] == b[k]).all(), k  # bit for bit, weights and the growth buffers (level, alpha)
    model = genlab.load(split)
    assert model.growth == (1, 0.5)
    alphas = [r["train/alpha"] for r in read_metrics(split) if "train/alpha" in r]
    assert alphas[-2:] == [0.25, 0.5]
    code, _, err = cli("gan", "train", "--out", split, "--resume", "--arch", "stylegan", "--max-steps", "6")
    assert_one_line_error(code, err, "cannot change --arch when resuming", "is a progan run")
    state = __import__("torch").load(sorted((split / "checkpoints").glob("step_*"))[-1] / "trainer_state.pt",
                                     weights_only=True)
    assert state["extra"]["images_seen"] == 40


def test_non_power_of_two_sizes_are_refused(cli, tiny_mnist, tmp_path):
    for arch in ("progan", "stylegan"):
        code, _, err = train(cli, tiny_mnist, tmp_path / arch, "--arch", arch, "--size", "28")
        assert_one_line_error(code, err, "powers of two", "zero-padded to 32")


def test_options_of_another_arch_are_refused(cli, tiny_mnist, tmp_path):
    code, _, err = train(cli, tiny_mnist, tmp_path / "a", "--fade-images", "10")
    assert_one_line_error(code, err, "--fade-images", "--arch progan")
    code, _, err = train(cli, tiny_mnist, tmp_path / "b", "--arch", "progan", "--w-dim", "8")
    assert_one_line_error(code, err, "--w-dim", "not an option of --arch progan")
    code, _, err = train(cli, tiny_mnist, tmp_path / "c", "--arch", "stylegan", "--attention")
    assert_one_line_error(code, err, "--attention", "not an option of --arch stylegan")
    code, _, err = train(cli, tiny_mnist, tmp_path / "d", "--arch", "biggan")
    assert code != 0


@pytest.fixture()
def saved_style(tmp_path):
    """An untrained 16 px StyleGAN saved as a model folder (no training needed for the bad-input checks)."""
    from genlab.gan.stylegan import StyleGAN, StyleGANConfig

    return StyleGAN(StyleGANConfig(size=16, latent_dim=8, w_dim=8, mapping_layers=1, g_channels=2,
                                   d_channels=2)).save_pretrained(tmp_path / "saved")


def test_bad_truncation_mix_and_noise_inputs(cli, saved_style, tmp_path):
    style_run = saved_style
    code, _, err = cli("gan", "sample", style_run, "--truncation", "-0.5", "--out", tmp_path)
    assert_one_line_error(code, err, "--truncation must be in [0, 1]")
    code, _, err = cli("gan", "mix", style_run, "--layers", "3-40", "--out", tmp_path)
    assert_one_line_error(code, err, "--layers 3-40 is out of range", "0-4 (coarse 0-2, fine 3-4)")
    code, _, err = cli("gan", "mix", style_run, "--layers", "sideways", "--out", tmp_path)
    assert_one_line_error(code, err, "--layers must be coarse, middle, fine")
    code, _, err = cli("gan", "mix", style_run, "--n-a", "0", "--out", tmp_path)
    assert code != 0 and len(err.strip().splitlines()) == 1
    code, _, err = cli("gan", "mix", style_run, "--out", tmp_path / "x.png")
    assert_one_line_error(code, err, "looks like a file name")


@pytest.mark.parametrize("arch", ["dcgan", "progan"])
def test_mix_noise_truncation_on_a_run_of_another_arch(cli, tmp_path, arch):
    from genlab.gan import GAN, GANConfig
    from genlab.gan.progressive import ProGAN, ProGANConfig

    model = GAN(GANConfig(g_channels=2, d_channels=2)) if arch == "dcgan" else ProGAN(ProGANConfig(**{
        "size": 16, "g_channels": 2, "d_channels": 2}))
    run = model.save_pretrained(tmp_path / arch)
    for verb in (["mix", run], ["noise", run], ["sample", run, "--truncation", "0.5"]):
        code, _, err = cli("gan", *verb, "--out", tmp_path / "o")
        assert_one_line_error(code, err, "needs a StyleGAN run (--arch stylegan)", f"is a {arch} run")
