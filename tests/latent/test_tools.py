"""Each latent tool, through the CLI of each family, writes an image of the right size; and every bad input gets one
line on stderr and a non-zero exit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

import genlab
from genlab import latent
from genlab.data.datasets import ImageDataConfig, load_image_dataset
from genlab.data.datasets import saved_data_config
from helpers import assert_one_line_error

CELL = 28 + 2  # save_image_grid pads each 28 px image with 2 px ...


def grid_size(cols: int, rows: int, cell: int = CELL) -> tuple[int, int]:
    return (cols * cell + 2, rows * cell + 2)  # ... plus 2 px at the far edge


def labels(path) -> str:
    """The row/column labels a labelled figure records in its PNG text (what its axes show)."""
    return Image.open(path).text.get("Description", "")


@pytest.mark.parametrize("family", ["vae", "ae", "aae"])
def test_every_tool_writes_an_image_of_the_right_size(cli, runs, family, tmp_path):
    run = runs[family]

    def tool(*argv) -> Image.Image:
        out = tmp_path / f"{argv[0]}.png"
        code, stdout, err = cli(family, *argv[:1], run, *argv[1:], "--output", out)
        assert code == 0, err
        assert stdout.strip().splitlines()[-1] == f"written to {out}"
        return Image.open(out)

    assert tool("scatter").size == (800, 650)
    assert tool("manifold", "--grid-size", "5", "--no-axes").size == (5 * 28, 5 * 28)
    assert tool("manifold", "--grid-size", "5").size > (5 * 28, 5 * 28)  # with the coordinate axes
    strip = tool("interpolate", "test:0", "test:7", "--frames", "6")
    assert labels(tmp_path / "interpolate.png").startswith("rows: linear | spherical; columns: 0 | 0.2 | ")
    assert strip.size[0] > grid_size(6, 2)[0]
    tool("attribute", "--label", "3", "--images", "test:0,test:1,test:2", "--strengths", "-1", "0", "1,2")
    assert labels(tmp_path / "attribute.png") == "rows: test:0 | test:1 | test:2; columns: -1 | +0 | +1 | +2"
    assert tool("reconstruct", "--n", "10", "--per-row", "4").size == grid_size(4, 2 * math.ceil(10 / 4))
    # Default output folder: RUN/plots/; --out DIR: that folder, same file name.
    code, stdout, err = cli(family, "reconstruct", run, "--n", "3")
    assert code == 0 and stdout.strip() == f"written to {run / 'plots' / 'reconstruct.png'}"
    code, stdout, err = cli(family, "reconstruct", run, "--n", "3", "--out", tmp_path / "figs")
    assert code == 0 and (tmp_path / "figs" / "reconstruct.png").is_file()


def test_python_api_mirrors_the_cli(runs, tmp_path, tiny_mnist):
    model = genlab.load(runs["ae"])
    with pytest.raises(genlab.ConfigError, match="pass out="):
        latent.manifold(model)
    path = latent.manifold(model, out=tmp_path / "m.png", grid_size=3, axes=False)
    assert Image.open(path).size == (3 * 28, 3 * 28)
    data = ImageDataConfig("mnist", data_dir=str(tiny_mnist))
    path = latent.scatter(model, out=tmp_path / "s.png", data_config=data, method="pca")
    assert Image.open(path).size == (800, 650)


def test_reconstruction_row_shows_the_models_reconstructions(runs, tmp_path):
    model = genlab.load(runs["vae"])
    path = latent.reconstruct(runs["vae"], n=2, out=tmp_path / "r.png")
    pixels = np.asarray(Image.open(path), dtype=np.float32) / 255
    test = load_image_dataset(saved_data_config(runs["vae"]), "test")
    x = test.images[:2].float() / 255
    recon = model.reconstruct(x)
    assert np.abs(pixels[2:30, 2:30] - x[0, 0].numpy()).max() <= 1 / 255 + 1e-6
    assert np.abs(pixels[32:60, 2:30] - recon[0, 0].numpy()).max() <= 1 / 255 + 1e-6


def test_scatter_of_a_32d_latent_reduces_it(cli, runs, tmp_path):
    for method in ("auto", "pca", "tsne"):
        code, _, err = cli("ae", "scatter", runs["ae32"], "--method", method, "--max-points", "60",
                           "--output", tmp_path / f"{method}.png")
        assert code == 0, err
        assert Image.open(tmp_path / f"{method}.png").size == (800, 650)


def test_manifold_of_a_32d_latent_with_dims(cli, runs, tmp_path):
    code, _, err = cli("ae", "manifold", runs["ae32"], "--dims", "3", "7", "--grid-size", "4", "--no-axes",
                       "--output", tmp_path / "m.png")
    assert code == 0, err
    assert Image.open(tmp_path / "m.png").size == (4 * 28, 4 * 28)
    model = genlab.load(runs["ae32"])
    z = latent.manifold_codes(model, grid_size=4, dims=(3, 7))
    others = [i for i in range(32) if i not in (3, 7)]
    assert torch.allclose(z[:, others], model.code_mean[others].expand(16, -1))  # the AE's mean code elsewhere


def test_vae_sample_has_no_manifold_flag_the_manifold_command_does_it(cli, runs, tmp_path):
    code, _, err = cli("vae", "sample", runs["vae"], "--manifold")
    assert_one_line_error(code, err, "unrecognized arguments: --manifold")
    code, stdout, err = cli("vae", "manifold", runs["vae"], "--grid-size", "4")
    assert code == 0, err
    assert (runs["vae"] / "plots" / "manifold_4x4.png").is_file()


def test_interpolate_converts_files_of_another_size_and_mode(cli, runs, tmp_path):
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[10:30, 10:40] = (200, 30, 30, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    Image.fromarray(np.full((28, 28), 128, np.uint8), "L").save(tmp_path / "b.png")
    code, stdout, err = cli("vae", "interpolate", runs["vae"], tmp_path / "a.png", tmp_path / "b.png", "--frames", "3",
                            "--output", tmp_path / "i.png")
    assert code == 0, err
    assert "note:" in err and "50x40 to 28x28" in err and "mode RGBA to grey" in err
    assert "b.png" not in err  # same size and mode: nothing to say
    assert labels(tmp_path / "i.png") == "rows: linear | spherical; columns: 0 | 0.5 | 1"


# ---- bad input ----------------------------------------------------------------------------------------------------

def test_2d_only_tools_on_a_32d_model_say_which_option_to_use(cli, runs, tmp_path):
    code, _, err = cli("ae", "manifold", runs["ae32"])
    assert_one_line_error(code, err, "needs a 2-D latent", "32-D", "--dims I J", "--latent-dim 2")
    code, _, err = cli("ae", "scatter", runs["ae32"], "--method", "none")
    assert_one_line_error(code, err, "32-D", "--method pca")
    code, _, err = cli("ae", "manifold", runs["ae32"], "--dims", "3", "3")
    assert_one_line_error(code, err, "--dims takes two different latent dimensions in 0..31")


@pytest.mark.parametrize("argv,needles", [
    (["attribute", "--label", "Sneaker"], ["unknown label 'Sneaker'", "0..9"]),
    (["attribute", "--label", "3", "--strengths=1,x"], ["--strengths"]),
    (["attribute", "--label", "3", "--images", "test:999"], ["test set has 128 images"]),
    (["interpolate", "test:0", "nowhere.png"], ["nowhere.png", "does not exist"]),
    (["interpolate", "test:0", "test:x"], ["test:INDEX"]),
    (["interpolate", "test:0", "test:1", "--frames", "1"], ["--frames must be an integer >= 2"]),
    (["reconstruct", "--n", "0"], ["--n must be"]),
    (["manifold", "--grid-size", "1"], ["--grid-size must be"]),
])
def test_bad_tool_arguments(cli, runs, argv, needles):
    code, _, err = cli("vae", argv[0], runs["vae"], *argv[1:])
    assert_one_line_error(code, err, *needles)


def test_attribute_with_a_label_that_has_no_images(cli, runs, tmp_path):
    # The tiny test set has all ten classes; keep only the first 3 images, which lack some label.
    model = genlab.load(runs["vae"])
    test = load_image_dataset(saved_data_config(runs["vae"]), "test")
    missing = next(k for k in range(10) if k not in test.labels[:3].tolist())
    code, _, err = cli("vae", "attribute", runs["vae"], "--label", str(missing), "--max-images", "3")
    assert_one_line_error(code, err, f"no images have label '{missing}'")
    assert model.latent_dim == 2


def test_attribute_with_a_celeba_style_attributes_file(cli, runs, tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    rows = []
    for i in range(8):
        img = np.full((28, 28), 40 if i % 2 else 220, np.uint8)
        Image.fromarray(img, "L").save(folder / f"{i:06d}.jpg")
        rows.append(f"{i:06d}.jpg {'1' if i % 2 else '-1'} -1")
    attrs = tmp_path / "list_attr_celeba.txt"
    attrs.write_text("8\nSmiling Bald\n" + "\n".join(rows) + "\n")
    out = tmp_path / "a.png"
    code, _, err = cli("vae", "attribute", runs["vae"], "--attributes", attrs, "--image-folder", folder, "--label",
                       "smiling", "--images", f"{folder / '000000.jpg'},test:1", "--output", out)
    assert code == 0, err
    assert "4 of 8 images have it" in err
    assert labels(out) == "rows: 000000.jpg | test:1; columns: -2 | -1 | +0 | +1 | +2"
    code, _, err = cli("vae", "attribute", runs["vae"], "--attributes", attrs, "--image-folder", folder, "--label",
                       "Bald")
    assert_one_line_error(code, err, "no images have attribute 'Bald'")
    code, _, err = cli("vae", "attribute", runs["vae"], "--attributes", attrs, "--image-folder", folder, "--label",
                       "Eyeglasses")
    assert_one_line_error(code, err, "'Eyeglasses' is not in", "Smiling, Bald")
    code, _, err = cli("vae", "attribute", runs["vae"], "--attributes", attrs, "--label", "Smiling")
    assert_one_line_error(code, err, "--image-folder")


@pytest.mark.parametrize("family,other", [("ae", "vae"), ("aae", "ae"), ("vae", "aae"), ("ae", "aae")])
def test_a_run_of_another_family(cli, runs, family, other):
    a = "a" if other == "vae" else "an"  # an ae model, an aae model (trial #20)
    code, _, err = cli(family, "scatter", runs[other])
    assert_one_line_error(code, err, f"holds {a} {other} model", f"genlab {other}")
    code, _, err = cli(family, "sample" if family != "vae" else "evaluate", runs[other])
    assert_one_line_error(code, err, f"holds {a} {other} model")
