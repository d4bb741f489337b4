"""The CLI kit shared by every family: output paths checked before the work, one meaning for --out, the
--epochs/--max-steps rule, --config files, and the run summary."""

from __future__ import annotations

import argparse
import os

import pytest

from genlab.core import clikit
from genlab.core.errors import ConfigError
from helpers import one_line


def _args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"out": None, "output": None, **kw})


def test_out_is_a_folder_and_output_a_file(tmp_path):
    assert clikit.resolve_output(_args(), default_dir=tmp_path / "run" / "samples", filename="s.png") == \
        tmp_path / "run" / "samples" / "s.png"
    assert clikit.resolve_output(_args(out=str(tmp_path / "d")), default_dir="x", filename="s.png") == \
        tmp_path / "d" / "s.png"
    assert clikit.resolve_output(_args(output=str(tmp_path / "a.png")), default_dir="x", filename="s.png") == \
        tmp_path / "a.png"
    with pytest.raises(ConfigError) as err:  # a folder name that looks like a file
        clikit.resolve_output(_args(out=str(tmp_path / "x.png")), default_dir="x", filename="s.png")
    one_line(err, "--out is a folder", "use --output")
    (tmp_path / "adir").mkdir()
    with pytest.raises(ConfigError) as err:  # an existing folder as the one output file
        clikit.resolve_output(_args(output=str(tmp_path / "adir")), default_dir="x", filename="s.png")
    one_line(err, "is a folder; give a file name")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError) as err:  # the parent is a file: "not a folder", not "File exists"
        clikit.resolve_output(_args(output=str(tmp_path / "afile" / "x.png")), default_dir="x", filename="s.png")
    one_line(err, "is a file, not a folder")
    with pytest.raises(ConfigError) as err:
        clikit.resolve_output(_args(out=str(tmp_path / "afile")), default_dir="x", filename="s.png")
    one_line(err, "exists and is not a folder")
    with pytest.raises(ConfigError) as err:
        clikit.resolve_output(_args(output=str(tmp_path / "a.txt")), default_dir="x", filename="s.png",
                              suffixes=(".png",))
    one_line(err, "must end in .png")
    with pytest.raises(ConfigError):
        clikit.resolve_output(_args(out="a", output="b.png"), default_dir="x", filename="s.png")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_refused_before_the_work(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError) as err:
        clikit.check_output_dir(locked / "out")
    one_line(err, "cannot write", "Permission denied")


def test_proc_is_refused_before_the_work():
    with pytest.raises(ConfigError) as err:
        clikit.check_output_dir("/proc/genlab-out")
    one_line(err, "cannot write --out /proc/genlab-out")


def test_typed_epochs_beat_a_family_default_max_steps():
    defaults = {"max_steps": 2000, "epochs": 10, "lr": 1e-3}
    assert clikit.train_config_fields(defaults, {"epochs": 1}) == {"epochs": 1, "lr": 1e-3}
    assert clikit.train_config_fields(defaults, {"epochs": 1, "max_steps": 5})["max_steps"] == 5
    assert clikit.train_config_fields(defaults, {})["max_steps"] == 2000


def test_config_files_toml_and_json(tmp_path):
    from genlab.core.engine import TrainConfig
    from genlab.data.datasets import ImageDataConfig

    toml = tmp_path / "c.toml"
    toml.write_text('[training]\nmax-steps = 3\nlr = 0.01\n[data]\ndataset = "fashion-mnist"\n')
    assert clikit.read_config_file(toml, [ImageDataConfig, TrainConfig]) == \
        {"max_steps": 3, "lr": 0.01, "dataset": "fashion-mnist"}
    js = tmp_path / "c.json"
    js.write_text('{"batch_size": 4, "nope": 1}')
    with pytest.raises(ConfigError) as err:
        clikit.read_config_file(js, [TrainConfig])
    one_line(err, "unknown option(s) nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("max_steps = = 3")
    with pytest.raises(ConfigError) as err:
        clikit.read_config_file(bad, [TrainConfig])
    one_line(err, "is not valid TOML")


def test_a_config_file_through_the_cli_and_flags_win(cli, tiny_mnist, tmp_path):
    import json

    cfg = tmp_path / "vae.toml"
    cfg.write_text(f'dataset = "mnist"\ndata_dir = "{tiny_mnist}"\nmax_steps = 3\nbatch_size = 32\n'
                   f'latent_dim = 3\nhidden_dims = [16]\ntensorboard = false\nprogress = false\n')
    code, out, err = cli("vae", "train", "--config", cfg, "--max-steps", "2", "--out", tmp_path / "run")
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert saved["train"]["max_steps"] == 2 and saved["train"]["batch_size"] == 32
    assert saved["model"]["latent_dim"] == 3 and saved["model"]["hidden_dims"] == [16]


def test_the_summary_quotes_paths_and_counts_this_invocation(capsys, tmp_path):
    class R:
        run_dir, step, start_step, seconds = tmp_path / "my run", 150, 100, 1.5

    clikit.print_run_summary(R(), ["loss 1.0"])
    out = capsys.readouterr().out
    assert "trained 50 steps this run (step 100 -> 150)" in out
    assert f"run folder: '{tmp_path / 'my run'}'" in out and "loss 1.0" in out


def test_the_summary_says_why_a_run_stopped(capsys, tmp_path):
    class R:
        run_dir, step, start_step, seconds, stop_reason = tmp_path, 40, 10, 2.0, "max_time"

    clikit.print_run_summary(R())
    assert "stopped at the --max-time budget" in capsys.readouterr().out
    R.stop_reason, R.start_step = "nothing_to_train", 40
    clikit.print_run_summary(R())
    assert "nothing trained: the run is already at step 40" in capsys.readouterr().out


def test_a_hidden_field_is_never_taken_from_another_groups_flag():
    # text's RNNConfig has a hidden `tokenizer` field; TextConfig's --tokenizer must not leak into it
    from dataclasses import dataclass

    from genlab.core.config import cfg_field, given_options

    @dataclass
    class Model:
        tokenizer: str = cfg_field("char", help="set from the data", cli=False)
        width: int = cfg_field(4, help="width")

    assert given_options(argparse.Namespace(tokenizer="word", width=8), Model) == {"width": 8}
