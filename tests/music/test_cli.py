"""`genlab music prepare|train|sample|evaluate` end to end at toy size for rnn-attention, gpt and polyphonic, exact
resume, and every bad input as one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from helpers import assert_one_line_error

sys.path.insert(0, str(Path(__file__).resolve().parent))
from music_helpers import ENGINE, TINY_GPT, TINY_NOTES, TINY_POLY, make_jsb, make_note_data


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def jsb(tmp_path_factory):
    return make_jsb(tmp_path_factory.mktemp("jsb") / "toy-quarter.json", n_test=2)


@pytest.fixture(scope="module")
def notes_data(tmp_path_factory):
    return make_note_data(tmp_path_factory.mktemp("notes") / "DATA", extra_split="test")


def _weights(run):
    from safetensors.torch import load_file
    return load_file(str(run / "model.safetensors"))


@pytest.fixture(scope="module")
def poly_run(tmp_path_factory, jsb):
    from genlab.cli import main

    run = tmp_path_factory.mktemp("poly") / "run"
    torch.set_num_threads(1)
    assert main(["music", "train", "--model", "polyphonic", "--data", str(jsb), "--out", str(run), "--max-steps", "4",
                 *TINY_POLY, *ENGINE]) == 0
    return run


def test_polyphonic_train_sample_evaluate(cli, poly_run, jsb, tmp_path):
    assert (poly_run / "best" / "best.json").is_file()
    best = json.loads((poly_run / "best" / "best.json").read_text())
    rows = [json.loads(x) for x in (poly_run / "metrics.jsonl").read_text().splitlines()]
    evals = [r["eval/nll"] for r in rows if "eval/nll" in r]
    assert best["loss"] == pytest.approx(min(evals)) and best["step"] in (2, 4)
    code, out, err = cli("music", "sample", poly_run, "--out", tmp_path / "s", "--n", "2", "--length", "8",
                         "--no-wav")
    assert code == 0, err
    assert (tmp_path / "s" / "sample.mid").is_file() and (tmp_path / "s" / "sample_2.png").is_file()
    code, out, err = cli("music", "evaluate", poly_run, "--data", jsb, "--split", "test",
                         "--output", tmp_path / "e.json")
    assert code == 0, err
    r = json.loads((tmp_path / "e.json").read_text())
    assert r["split"] == "test" and r["steps"] == 2 * 24 and 0 < r["nll"] < 100
    assert set(r["baselines"]) >= {"independent_bernoulli", "per_key_markov"}
    assert "frame NLL" in out and "baselines on the same steps" in out


def test_polyphonic_resume_is_exact(cli, jsb, tmp_path):
    # a constant LR: with the default cosine schedule, --max-steps 2 would be another schedule, not a stopped run
    flags = ["--model", "polyphonic", "--data", jsb, "--transpose", "2", "--lr-schedule", "constant", *TINY_POLY,
             *ENGINE]
    assert cli("music", "train", *flags, "--out", tmp_path / "a", "--max-steps", "4")[0] == 0
    assert cli("music", "train", *flags, "--out", tmp_path / "b", "--max-steps", "2")[0] == 0
    code, out, err = cli("music", "train", "--out", tmp_path / "b", "--resume", "--max-steps", "4")
    assert code == 0, err
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("model,tiny", [("rnn-attention", TINY_NOTES), ("gpt", TINY_GPT)])
def test_note_models_train_sample_evaluate_and_resume_exactly(cli, notes_data, tmp_path, model, tiny):
    flags = ["--model", model, "--data", notes_data, "--lr-schedule", "constant", *tiny, *ENGINE]
    code, out, err = cli("music", "train", *flags, "--out", tmp_path / "a", "--max-steps", "4")
    assert code == 0, err
    assert "validation cross-entropy" in out
    assert cli("music", "train", *flags, "--out", tmp_path / "b", "--max-steps", "2")[0] == 0
    assert cli("music", "train", "--out", tmp_path / "b", "--resume", "--max-steps", "4")[0] == 0
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    code, out, err = cli("music", "sample", tmp_path / "a", "--out", tmp_path / "s", "--length", "10",
                         "--prompt", "60:1 62:1/2", "--pitch-temperature", "0.5", "--no-wav")
    assert code == 0, err
    tokens = (tmp_path / "s" / "sample.txt").read_text().split()
    assert tokens[:2] == ["60:1", "62:1/2"] and len(tokens) == 12
    assert (tmp_path / "s" / "sample_attention.png").is_file() == (model == "rnn-attention")
    code, out, err = cli("music", "evaluate", tmp_path / "a", "--data", notes_data, "--split", "test",
                         "--n-samples", "2", "--output", tmp_path / "e.json")
    assert code == 0, err
    r = json.loads((tmp_path / "e.json").read_text())
    assert r["split"] == "test" and r["notes"] == 4 * 40
    assert set(r["baselines"]) == {"unigram", "bigram", "trigram"}
    assert len(r["memorisation"]["longest_copied_notes"]) == 2


def test_sample_without_soundfont_falls_back_and_still_writes_midi(cli, poly_run, tmp_path, monkeypatch):
    from genlab.music import render

    monkeypatch.setattr(render, "SOUNDFONTS", ())
    code, out, err = cli("music", "sample", poly_run, "--out", tmp_path / "s", "--length", "4")
    assert code == 0, err
    assert "sine waves" in err and "the MIDI files are complete" in err
    assert (tmp_path / "s" / "sample.mid").is_file() and (tmp_path / "s" / "sample.wav").stat().st_size > 44


def test_prepare_a_folder_and_train_on_it(cli, tmp_path):
    import numpy as np

    from genlab.music.render import write_midi

    folder = tmp_path / "midi"
    for i in range(3):
        roll = np.zeros((16, 88), dtype=bool)
        for t in range(16):
            roll[t, 39 + (t + i) % 5] = roll[t, 27] = True
        write_midi({"piano": roll}, folder / f"song{i}.mid", fs_steps_per_quarter=2, lowest_pitch=21)
    (folder / "broken.mid").write_bytes(b"MThd not really")
    code, out, err = cli("music", "prepare", folder, "--out", tmp_path / "DATA", "--workers", "1")
    assert code == 0, err
    assert "parsed 3 of 4 files (1 skipped: broken.mid)" in out and "skipped: broken.mid" in err
    data = json.loads((tmp_path / "DATA" / "data.json").read_text())
    assert len(data["tunes"]["train"]) == 2 and len(data["tunes"]["valid"]) == 1
    rolls = json.loads((tmp_path / "DATA" / "rolls.json").read_text())
    assert len(rolls["train"][0]) == 8 and all(48 in step for step in rolls["train"][0])  # quarter grid, the bass
    code, out, err = cli("music", "train", "--model", "polyphonic", "--data", tmp_path / "DATA", "--out",
                         tmp_path / "run", "--max-steps", "2", *TINY_POLY, "--batch-size", "2", *ENGINE)
    assert code == 0, err


def test_bad_inputs_are_one_line(cli, tmp_path, jsb, notes_data, poly_run):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no music here")
    assert_one_line_error(*cli("music", "prepare", empty, "--out", tmp_path / "D")[::2], "holds no music files")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.mid").write_bytes(b"garbage")
    (bad / "empty.mid").write_bytes(b"")
    code, out, err = cli("music", "prepare", bad, "--out", tmp_path / "D2", "--workers", "1", "--no-progress")
    assert code != 0 and err.strip().splitlines()[-1].startswith("genlab: error: none of the 2 music files")
    (tmp_path / "x.json").write_text('{"train": [[[60, 200]]], "valid": [[[60]]]}')
    assert_one_line_error(*cli("music", "train", "--model", "polyphonic", "--data", tmp_path / "x.json", "--out",
                               tmp_path / "r1")[::2], "pitch 200, outside the 88 keys")
    (tmp_path / "y.json").write_text("not json")
    assert_one_line_error(*cli("music", "train", "--model", "polyphonic", "--data", tmp_path / "y.json", "--out",
                               tmp_path / "r2")[::2], "not a JSB JSON file")
    assert_one_line_error(*cli("music", "train", "--model", "rnn-attention", "--data", jsb, "--out",
                               tmp_path / "r3")[::2], "a JSB JSON file is for --model polyphonic")
    assert_one_line_error(*cli("music", "train", "--model", "rnn-attention", "--cell", "lstm", "--out",
                               tmp_path / "r4")[::2], "--cell do(es) not apply to --model rnn-attention")
    assert_one_line_error(*cli("music", "train", "--model", "gpt", "--transpose", "2", "--out",
                               tmp_path / "r5")[::2], "--transpose does not apply to --model gpt")
    assert_one_line_error(*cli("music", "train", "--model", "polyphonic", "--max-tunes", "2", "--out",
                               tmp_path / "r6")[::2], "--max-tunes does not apply to --model polyphonic")
    # a run's vocabulary is fixed: resuming on data with other tokens is refused
    run = tmp_path / "notes_run"
    assert cli("music", "train", "--model", "rnn-attention", "--data", notes_data, "--out", run, "--max-steps", "2",
               *TINY_NOTES, *ENGINE)[0] == 0
    other = make_note_data(tmp_path / "OTHER", pitches=(50, 52, 53, 55, 57, 59, 60, 62))
    assert_one_line_error(*cli("music", "train", "--out", run, "--resume", "--max-steps", "4", "--data",
                               other)[::2], "outside the model's vocabulary")
    assert_one_line_error(*cli("music", "evaluate", run, "--data", other, "--split", "valid")[::2],
                          "outside the model's vocabulary")
    assert_one_line_error(*cli("music", "sample", run, "--prompt", "61:1")[::2], "--prompt pitch 61")
    assert_one_line_error(*cli("music", "sample", run, "--prompt", "60:7/3")[::2], "--prompt duration 7/3")
    assert_one_line_error(*cli("music", "sample", run, "--temperature", "0")[::2], "--temperature must be > 0")
    assert_one_line_error(*cli("music", "sample", run, "--duration-temperature", "-1")[::2],
                          "--duration-temperature must be > 0")
    assert_one_line_error(*cli("music", "sample", run, "--soundfont", tmp_path / "no.sf2")[::2],
                          "--soundfont", "does not exist")
    assert_one_line_error(*cli("music", "evaluate", run, "--data", notes_data, "--split", "nope")[::2],
                          "has no split 'nope'")
    assert_one_line_error(*cli("music", "evaluate", poly_run, "--data", jsb, "--split", "nope")[::2],
                          "has no split 'nope'")
    assert_one_line_error(*cli("music", "sample", poly_run, "--prompt", "60:1")[::2], "--prompt is for the note")
    assert_one_line_error(*cli("music", "sample", poly_run, "--pitch-temperature", "0.5")[::2],
                          "--pitch-temperature / --duration-temperature are for the note models")
    assert_one_line_error(*cli("music", "sample", tmp_path / "nowhere")[::2], "does not exist")
