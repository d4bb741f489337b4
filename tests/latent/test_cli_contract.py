"""The CLI contract of the latent families (issue 11 "one meaning per flag", issue 12 / new-user trial items), each
through the real CLI: --out DIR / --output FILE, --frames, --device auto, the README's --strengths form, errors that
name a command that exists, FID progress, grammar, and the Python API's symmetric signatures."""

from __future__ import annotations

import inspect
import json

import pytest
from PIL import Image

import genlab
from helpers import assert_one_line_error


@pytest.mark.parametrize("family", ["vae", "ae", "aae"])
def test_sample_out_is_a_folder_and_output_a_file(cli, runs, family, tmp_path):
    # Trial #4: `vae sample RUN --out outdir` (an existing folder) ended in IsADirectoryError.
    outdir = tmp_path / "outdir"
    outdir.mkdir()
    code, stdout, err = cli(family, "sample", runs[family], "--n", "4", "--out", outdir)
    assert code == 0, err
    assert (outdir / "sample_seed0.png").is_file() and stdout.strip().endswith(str(outdir / "sample_seed0.png"))
    code, _, err = cli(family, "sample", runs[family], "--output", outdir)
    assert_one_line_error(code, err, "--output", "is a folder", "--out")
    code, _, err = cli(family, "sample", runs[family], "--out", tmp_path / "x.png")
    assert_one_line_error(code, err, "looks like a file name", "--output")
    (tmp_path / "a-file").write_text("x")
    code, _, err = cli(family, "sample", runs[family], "--out", tmp_path / "a-file")
    assert_one_line_error(code, err, "not a folder")
    code, _, err = cli(family, "sample", runs[family], "--output", tmp_path / "s.png", "--out", outdir)
    assert_one_line_error(code, err, "not both")


def test_evaluate_and_tools_take_out_dir_and_output_file(cli, runs, tmp_path):
    outdir = tmp_path / "outdir"
    outdir.mkdir()
    code, _, err = cli("vae", "evaluate", runs["vae"], "--out", outdir)
    assert code == 0, err
    assert json.loads((outdir / "eval.json").read_text())["num_images"] == 128
    code, _, err = cli("vae", "evaluate", runs["vae"], "--output", outdir)
    assert_one_line_error(code, err, "is a folder")
    code, _, err = cli("vae", "evaluate", runs["vae"], "--output", tmp_path / "e.txt")
    assert_one_line_error(code, err, ".json")
    code, _, err = cli("ae", "scatter", runs["ae"], "--out", outdir)
    assert code == 0, err
    assert Image.open(outdir / "scatter.png").size == (800, 650)
    code, _, err = cli("ae", "scatter", runs["ae"], "--output", outdir)
    assert_one_line_error(code, err, "is a folder")


def test_interpolate_takes_frames_and_still_steps(cli, runs, tmp_path):
    for flag in ("--frames", "--steps"):
        out = tmp_path / f"{flag[2:]}.png"
        code, _, err = cli("vae", "interpolate", runs["vae"], "test:0", "test:1", flag, "4", "--output", out)
        assert code == 0, err
        assert Image.open(out).text["Description"] == "rows: linear | spherical; columns: 0 | 0.33 | 0.67 | 1"
    code, _, err = cli("vae", "interpolate", "-h")
    assert code == 0


@pytest.mark.parametrize("command", [["sample"], ["evaluate"], ["scatter"], ["manifold"],
                                     ["interpolate", "test:0", "test:1"], ["attribute", "--label", "3"],
                                     ["reconstruct"]])
def test_device_defaults_to_auto(command):
    from genlab.cli import build_parser

    argv = ["ae", command[0], "RUN", *command[1:]]
    assert build_parser(argv).parse_args(argv).device == "auto"


def test_attribute_strengths_as_the_readme_writes_them(cli, runs, tmp_path):
    # Trial #10: `--strengths -2,-1,0,1,2` was read as an unknown option.
    for form in (["--strengths", "-2,-1,0,1,2"], ["--strengths=-2,-1,0,1,2"], ["--strengths", "-2", "-1", "0", "1", "2"]):
        out = tmp_path / "a.png"
        code, _, err = cli("vae", "attribute", runs["vae"], "--label", "3", "--images", "test:0,test:1", *form,
                           "--output", out)
        assert code == 0, (form, err)
        assert Image.open(out).text["Description"] == "rows: test:0 | test:1; columns: -2 | -1 | +0 | +1 | +2"
        out.unlink()


def test_the_dims_hint_names_a_command_that_has_dims(cli, runs, tmp_path):
    # Trial #14: `vae sample --manifold` on a 4-D latent suggested --dims, which `sample` did not have.
    code, _, err = cli("ae", "manifold", runs["ae32"])
    assert_one_line_error(code, err, "`genlab ae manifold RUN_DIR --dims I J`")
    code, _, err = cli("ae", "manifold", runs["ae32"], "--dims", "0", "1", "--output", tmp_path / "m.png")
    assert code == 0, err


def test_manifold_axes_show_the_latent_coordinates(cli, runs, tmp_path):
    # Trial #11: no latent-coordinate ticks on the manifold.
    out = tmp_path / "m.png"
    code, _, err = cli("vae", "manifold", runs["vae"], "--grid-size", "3", "--output", out)
    assert code == 0, err
    # N(0, 1) quantiles at 0.05, 0.5, 0.95: -1.64, 0, 1.64; rows from high z2 to low.
    assert Image.open(out).text["Description"] == "rows: 1.64 | 0 | -1.64; columns: -1.64 | 0 | 1.64"


def test_scatter_markers_grow_when_there_are_few_points():
    from genlab.latent.tools import marker_size

    assert marker_size(6) >= 30 and marker_size(5000) <= 3 and marker_size(200) > marker_size(2000)


def test_fid_in_evaluate_shows_progress(cli, runs, tmp_path, monkeypatch):
    # Trial #16: FID in `vae evaluate --fid-samples` printed nothing until the result.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code, _, err = cli("vae", "evaluate", runs["vae"], "--fid-samples", "16", "--output", tmp_path / "e.json")
    assert code == 0, err
    assert "FID/KID: 16/16 samples" in err
    code, _, err = cli("vae", "evaluate", runs["vae"], "--fid-samples", "16", "--no-progress",
                       "--output", tmp_path / "e2.json")
    assert code == 0, err
    assert "FID/KID:" not in err


def test_wrong_family_grammar(cli, runs):
    # Trial #20: "holds a ae model".
    code, _, err = cli("vae", "sample", runs["ae"])
    assert_one_line_error(code, err, "holds an ae model (ae), not a vae model", "genlab ae")
    code, _, err = cli("ae", "sample", runs["aae"])
    assert_one_line_error(code, err, "holds an aae model (aae), not an ae model")


def test_python_api_is_symmetric_and_takes_a_model(runs, tmp_path):
    for family in (genlab.vae, genlab.ae, genlab.aae):
        for name in ("train", "sample", "evaluate"):
            params = inspect.signature(getattr(family, name)).parameters.values()
            assert not [p for p in params if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)], (family, name)
        train = list(inspect.signature(family.train).parameters)
        assert train[:6] == ["model_config", "data_config", "train_config", "out", "resume", "overrides"]
        sample = inspect.signature(family.sample).parameters
        assert list(sample)[:2] == ["model_or_run", "n"] and sample["device"].default == "auto"
        assert sample["seed"].kind is inspect.Parameter.KEYWORD_ONLY
        evaluate = inspect.signature(family.evaluate).parameters
        assert list(evaluate)[:5] == ["model_or_run", "data_config", "out", "device", "fid_samples"]
    model = genlab.load(runs["aae"])
    path = genlab.aae.sample(model, 4, seed=1, out=tmp_path / "s.png")
    assert Image.open(path).size == (2 * 30 + 2, 2 * 30 + 2)
    r = genlab.aae.evaluate(model, data_config=genlab.data.datasets.saved_data_config(runs["aae"]))
    assert r["num_images"] == 128 and not (tmp_path / "eval.json").exists()
    with pytest.raises(genlab.ConfigError, match="not a vae model"):
        genlab.vae.sample(model, 4, out=tmp_path / "v.png")
    # out= names a file (x.png) or a folder (an existing one, or a name without a suffix): the default name inside.
    assert genlab.aae.sample(runs["aae"], 4, out=tmp_path / "figs") == tmp_path / "figs" / "sample_seed0.png"
    data = genlab.data.datasets.saved_data_config(runs["aae"])
    assert genlab.latent.reconstruct(model, n=2, out=tmp_path / "figs", data_config=data) == \
        tmp_path / "figs" / "reconstruct.png"
    assert (tmp_path / "figs" / "sample_seed0.png").is_file() and (tmp_path / "figs" / "reconstruct.png").is_file()
