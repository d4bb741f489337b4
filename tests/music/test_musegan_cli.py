"""`genlab music train --model musegan`, `sample`, `evaluate` end to end at toy size; exact resume; every bad input is
one line."""

from __future__ import annotations

import json
import shutil
import wave

import numpy as np
import pytest
import torch

from helpers import assert_one_line_error

TOY = ["--musegan-z-dim", "4", "--musegan-g-width", "8", "--musegan-d-width", "4", "--musegan-temporal-width", "8",
       "--batch-size", "8", "--no-progress", "--no-tensorboard", "--musegan-eval-samples", "16", "--sample-every", "0",
       "--log-every", "1", "--checkpoint-every", "2"]


def _toy_json(path, n_train: int = 6, n_valid: int = 3, steps: int = 64):
    rng = np.random.default_rng(0)

    def chorales(n):
        out = []
        for _ in range(n):
            beats = np.cumsum(rng.integers(-2, 3, size=(steps // 4, 4)), axis=0) + np.array([72, 67, 60, 48])
            out.append(np.repeat(beats, 4, axis=0).tolist())
        return out

    path.write_text(json.dumps({"train": chorales(n_train), "valid": chorales(n_valid)}))
    return path


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory):
    return _toy_json(tmp_path_factory.mktemp("musegan_data") / "toy.json")


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory, toy_data):
    from genlab.cli import main

    run = tmp_path_factory.mktemp("musegan") / "run"
    assert main(["music", "train", "--model", "musegan", "--data", str(toy_data), "--out", str(run),
                 "--max-steps", "4", *TOY]) == 0
    return run


def test_train_writes_a_run_with_metrics(toy_run):
    assert (toy_run / "model.safetensors").exists()
    cfg = json.loads((toy_run / "config.json").read_text())
    assert cfg["model_type"] == "music-musegan"
    saved = json.loads((toy_run / "train_config.json").read_text())
    assert saved["data_info"]["train_windows"] == 18 and saved["musegan"]["critic_steps"] == 5
    assert saved["train"]["adam_beta1"] == 0.5 and saved["train"]["adam_beta2"] == 0.9  # Foster's Adam
    rows = [json.loads(line) for line in (toy_run / "metrics.jsonl").read_text().splitlines()]
    assert any("train/gp" in r for r in rows)
    assert any("eval/qualified_note_rate" in r for r in rows)


def test_foster_first_windows_only(tmp_path, cli, toy_data):
    code, _, err = cli("music", "train", "--model", "musegan", "--data", toy_data, *TOY, "--max-steps", "1",
                       "--batch-size", "4", "--musegan-windows", "first", "--musegan-eval-samples", "0",
                       "--out", tmp_path / "r")
    assert code == 0, err
    saved = json.loads((tmp_path / "r" / "train_config.json").read_text())
    assert saved["data_info"]["train_windows"] == 6 and saved["data"]["windows"] == "first"


@pytest.mark.slow
def test_exact_resume(tmp_path, cli, toy_data):
    base = ["music", "train", "--model", "musegan", "--data", toy_data, *TOY]
    code, _, err = cli(*base, "--out", tmp_path / "a", "--max-steps", "6")
    assert code == 0, err
    code, _, err = cli(*base, "--out", tmp_path / "b", "--max-steps", "4")
    assert code == 0, err
    code, _, err = cli("music", "train", "--model", "musegan", "--out", tmp_path / "b", "--resume", "--max-steps", "6")
    assert code == 0, err
    from safetensors.torch import load_file

    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.slow
def test_sample_writes_midi_wav_png_and_the_noise_grid(toy_run, tmp_path, cli):
    out = tmp_path / "samples"
    code, stdout, err = cli("music", "sample", toy_run, "--out", out, "--n", "2", "--seed", "3")
    assert code == 0, err
    for i in range(2):
        for suffix in (".mid", ".wav", ".png", "_tracks.png"):
            assert (out / f"musegan_3_{i:03d}{suffix}").stat().st_size > 0
    assert (out / "noise_grid_3.png").exists() and "noise grid" in stdout
    voices = json.loads((out / "musegan_3.json").read_text())["voices"]
    assert np.array(voices).shape == (2, 4, 32)
    pm = __import__("pretty_midi").PrettyMIDI(str(out / "musegan_3_000.mid"))
    playing = [name for name, v in zip(("soprano", "alto", "tenor", "bass"), voices[0], strict=True)
               if any(p >= 0 for p in v)]  # a track without a note has no instrument in the file read back
    assert [i.name for i in pm.instruments if i.notes] == playing
    assert sum(len(i.notes) for i in pm.instruments) == sum(
        len(__import__("genlab.music.musegan_metrics", fromlist=["x"]).note_lengths(np.array(v))) for v in voices[0])
    with wave.open(str(out / "musegan_3_000.wav")) as w:
        assert w.getnframes() > 0
    if shutil.which("fluidsynth") is None:
        assert "sine" in err  # said on stderr; the MIDI is written all the same
    # the same seed gives the same samples
    code, _, err = cli("music", "sample", toy_run, "--out", tmp_path / "again", "--n", "2", "--seed", "3", "--no-wav")
    assert code == 0, err
    assert json.loads((tmp_path / "again" / "musegan_3.json").read_text())["voices"] == voices


def test_evaluate_compares_samples_with_real_windows(toy_run, tmp_path, cli, toy_data):
    out = tmp_path / "ev.json"
    code, stdout, err = cli("music", "evaluate", toy_run, "--n-samples", "40", "--output", out)
    assert code == 0, err
    assert "40 samples is few" in err
    result = json.loads(out.read_text())
    assert result["protocol"]["samples"] == 40 and result["protocol"]["real_split"] == "valid"
    assert result["protocol"]["real_windows"] == 9
    real = result["real_valid"]
    assert real["empty_bar_rate"]["mean"] == 0.0  # the toy voices never rest
    assert real["qualified_note_rate"]["mean"] >= 0.5  # quarter notes (runs may merge), never one step
    assert result["memorisation"]["training_windows"] == 18
    assert 0.0 <= result["memorisation"]["generated"]["median_normalised_distance"] <= 1.0
    assert (tmp_path / "ev_memorisation.png").exists()
    assert "tonal distance soprano-bass" in stdout
    # any file of the same format, any split (a held-back test split)
    test_file = tmp_path / "held.json"
    test_file.write_text(json.dumps({"test": json.loads(toy_data.read_text())["valid"]}))
    code, stdout, err = cli("music", "evaluate", toy_run, "--data", test_file, "--split", "test", "--n-samples", "20",
                            "--output", tmp_path / "t.json")
    assert code == 0, err
    assert json.loads((tmp_path / "t.json").read_text())["protocol"]["real_split"] == "test"


@pytest.mark.parametrize("extra, words", [
    (["--temperature", "0"], ("--temperature", "> 0")),
    (["--temperature", "-1"], ("--temperature", "> 0")),
    (["--n", "0"], ("--n",)),
    (["--output", "x.mid"], ("--out DIR",)),
    (["--prompt", "60:1"], ("--prompt", "MuseGAN")),
    (["--length", "10"], ("--length", "MuseGAN")),
    (["--soundfont", "/nonexistent.sf2"], ("--soundfont", "does not exist")),
    (["--tempo", "0"], ("--tempo",)),
])
def test_bad_sample_input_is_one_line(toy_run, tmp_path, cli, extra, words):
    assert_one_line_error(*_code_err(cli("music", "sample", toy_run, "--out", tmp_path / "s", *extra)), *words)


def _code_err(result):
    code, _, err = result
    return code, err


@pytest.mark.parametrize("extra, words", [
    (["--split", "test"], ("no 'test' split",)),
    (["--data", "/nonexistent/x.json"], ("does not exist",)),
    (["--n-samples", "0"], ("--n-samples",)),
])
def test_bad_evaluate_input_is_one_line(toy_run, tmp_path, cli, extra, words):
    assert_one_line_error(*_code_err(cli("music", "evaluate", toy_run, "--output", tmp_path / "e.json", *extra)),
                          *words)


def test_bad_train_input_is_one_line(tmp_path, cli, toy_data):
    train = ["music", "train", "--model", "musegan", *TOY, "--max-steps", "2"]
    bad_json = tmp_path / "bad.json"
    bad_json.write_text(json.dumps({"train": [[[60, 55, 50]] * 40]}))
    cases = [
        (["--data", tmp_path / "missing.json"], ("does not exist",)),
        (["--data", bad_json], ("exactly four pitches",)),
        (["--data", toy_data, "--critic-steps", "0"], ("--critic-steps",)),
        (["--data", toy_data, "--gp-weight", "-1"], ("--gp-weight",)),
        (["--data", toy_data, "--musegan-parts", "1", "1", "2", "3"], ("--musegan-parts", "four different")),
        (["--data", toy_data, "--hidden-size", "16"], ("--hidden-size", "--model musegan")),
        (["--data", toy_data, "--musegan-g-width", "10"], ("--g-width", "multiple of 4")),
        (["--data", toy_data, "--batch-size", "100"], ("fewer than one batch",)),
        (["--data", toy_data, "--precision", "fp16"], ("fp16",)),
    ]
    for i, (extra, words) in enumerate(cases):
        code, _, err = cli(*train, "--out", tmp_path / f"r{i}", *extra)
        assert_one_line_error(code, err, *words)


def test_empty_or_unusable_music_folder_is_one_line(tmp_path, cli):
    folder = tmp_path / "music"
    folder.mkdir()
    code, _, err = cli("music", "train", "--model", "musegan", "--data", folder, "--out", tmp_path / "r", *TOY)
    assert_one_line_error(code, err, "no music files")
    (folder / "broken.mid").write_bytes(b"not a midi file")
    code, _, err = cli("music", "train", "--model", "musegan", "--data", folder, "--out", tmp_path / "r2", *TOY)
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code != 0 and lines[-1].startswith("genlab: error: ") and "none of the 1 music files" in lines[-1]
    assert any("skipped broken.mid" in line for line in lines[:-1])  # the file is named


def test_resume_cannot_change_the_model(toy_run, tmp_path, cli):
    run = tmp_path / "copy"
    shutil.copytree(toy_run, run)
    code, _, err = cli("music", "train", "--model", "musegan", "--out", run, "--resume", "--musegan-g-width", "16",
                       "--max-steps", "6")
    assert_one_line_error(code, err, "--g-width", "resuming")
