"""`genlab text ...` end to end on a small corpus, and every bad input: one line on stderr, non-zero exit."""

from __future__ import annotations

import json

import pytest

import genlab
from helpers import SHARED_DATA, assert_one_line_error

FAST = ["--batch-size", "8", "--log-every", "5", "--eval-every", "0", "--sample-every", "0", "--no-progress",
        "--no-tensorboard", "--device", "cpu"]
TEXT = ("To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
        "The slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles\n") * 8


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def small(*extra):
    return ["--block-size", "32", "--hidden-size", "32", "--num-layers", "1", *extra]


def test_train_sample_evaluate_lstm_char(cli, corpus, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli("text", "train", "--corpus", corpus, "--out", out, "--max-steps", "20", *small(), *FAST)
    assert code == 0, err
    assert "validation loss" in stdout and "bits/char" in stdout
    assert (out / "samples" / "step_000020.txt").read_text(encoding="utf-8")

    code, stdout, err = cli("text", "sample", out, "--prompt", "To be", "--length", "40", "--seed", "1")
    assert code == 0, err
    assert stdout.startswith("To be") and len(stdout.rstrip("\n")) >= 5 + 1
    code, again, _ = cli("text", "sample", out, "--prompt", "To be", "--length", "40", "--seed", "1")
    assert again == stdout

    table = tmp_path / "temps.md"
    code, stdout, err = cli("text", "sample", out, "--prompt", "The ", "--temperature", "0.2", "0.5", "1.0", "1.2",
                            "--length", "30", "--out", table)
    assert code == 0, err
    md = table.read_text(encoding="utf-8")
    assert [line for line in md.splitlines() if line.startswith("## ")] == [
        "## temperature 0.2", "## temperature 0.5", "## temperature 1.0", "## temperature 1.2"]

    code, stdout, err = cli("text", "sample", out, "--n", "3", "--length", "10", "--top-k", "5", "--top-p", "0.9")
    assert code == 0, err
    assert stdout.count("--- sample") == 2

    code, stdout, err = cli("text", "evaluate", out, "--corpus", corpus)
    assert code == 0, err
    result = json.loads((out / "eval.json").read_text())
    assert result["loss"] > 0 and result["bits_per_char"] == pytest.approx(result["loss"] / 0.6931471805599453)


def test_gpt_word_level_and_resume(cli, corpus, tmp_path):
    out = tmp_path / "run"
    code, _, err = cli("text", "train", "--corpus", corpus, "--model", "gpt", "--tokenizer", "word", "--out", out,
                       "--max-steps", "6", "--block-size", "16", "--n-layer", "1", "--n-embd", "32", "--n-head", "2",
                       "--checkpoint-every", "3", *FAST)
    assert code == 0, err
    model = genlab.load(out)
    assert model.model_type == "text-gpt" and model.tokenizer.kind == "word"
    # A word the model never saw becomes <unk>: no error.
    code, stdout, err = cli("text", "sample", out, "--prompt", "To be xylophone", "--length", "5",
                            "--out", tmp_path / "s.txt")
    assert code == 0, err
    assert stdout.startswith("To be xylophone ")  # the prompt as typed, then the streamed words
    saved = (tmp_path / "s.txt").read_text(encoding="utf-8")
    assert saved.startswith("to be <unk>"), saved  # the normalised prompt, unknown word mapped to <unk>
    code, stdout, err = cli("text", "train", "--out", out, "--resume", "--max-steps", "9", "--no-progress")
    assert code == 0, err
    assert "trained 9 steps" in stdout


def test_bad_corpora(cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, _, err = cli("text", "train", "--corpus", empty, "--out", tmp_path / "r", *FAST)
    assert_one_line_error(code, err, "empty")

    latin = tmp_path / "latin.txt"
    latin.write_bytes(("wertsch\xe4tzung und " * 200).encode("latin-1"))
    code, _, err = cli("text", "train", "--corpus", latin, "--out", tmp_path / "r", *FAST)
    assert_one_line_error(code, err, "not valid UTF-8", "offset 7", "--encoding")
    code, _, err = cli("text", "train", "--corpus", latin, "--encoding", "latin-1", "--out", tmp_path / "ok",
                       "--max-steps", "2", *small(), *FAST)
    assert code == 0, err

    short = tmp_path / "short.txt"
    short.write_text("too short")
    code, _, err = cli("text", "train", "--corpus", short, "--out", tmp_path / "r", *small(), *FAST)
    assert_one_line_error(code, err, "block")

    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 20)
    code, _, err = cli("text", "train", "--corpus", binary, "--out", tmp_path / "r", *FAST)
    assert_one_line_error(code, err, "binary")

    code, _, err = cli("text", "train", "--out", tmp_path / "r", *FAST)
    assert_one_line_error(code, err, "--corpus FILE is required")

    code, _, err = cli("text", "train", "--corpus", tmp_path / "missing.txt", "--out", tmp_path / "r", *FAST)
    assert_one_line_error(code, err, "missing.txt", "does not exist")


@pytest.mark.parametrize("flags,needle", [
    (["--model", "gpt", "--n-embd", "30", "--n-head", "4"], "divisible by --n-head"),
    (["--model", "gpt", "--hidden-size", "64"], "--hidden-size do(es) not apply to --model gpt"),
    (["--dropout", "1.5"], "--dropout must be in [0, 1)"),
    (["--block-size", "0"], "--block-size must be > 0"),
])
def test_bad_model_options(cli, corpus, tmp_path, flags, needle):
    code, _, err = cli("text", "train", "--corpus", corpus, "--out", tmp_path / "r", *flags, *FAST)
    assert_one_line_error(code, err, needle)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from genlab.cli import main

    out = tmp_path_factory.mktemp("text") / "run"
    path = out.parent / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    assert main(["text", "train", "--corpus", str(path), "--out", str(out), "--max-steps", "2", *small(), *FAST]) == 0
    return out


@pytest.mark.parametrize("flags,needle", [
    (["--prompt", "Ωmega é"], "characters the model never saw"),
    (["--temperature", "-1"], "--temperature must be >= 0"),
    (["--top-p", "0"], "--top-p must be in (0, 1]"),
    (["--top-p", "1.5"], "--top-p must be in (0, 1]"),
    (["--top-k", "0"], "--top-k must be >= 1"),
    (["--length", "-1"], "--length must be >= 0"),
    (["--n", "0"], "--n must be >= 1"),
])
def test_bad_sampling_options(cli, trained_run, flags, needle):
    code, _, err = cli("text", "sample", trained_run, *flags)
    assert_one_line_error(code, err, needle)


def test_sampling_another_family_or_a_corrupt_checkpoint(cli, trained_run, tiny_mnist, tmp_path):
    vae_run = tmp_path / "vae"
    assert cli("vae", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--out", vae_run, "--max-steps", "1",
               "--batch-size", "8", "--no-progress", "--no-tensorboard")[0] == 0
    code, _, err = cli("text", "sample", vae_run)
    assert_one_line_error(code, err, "vae model", "not a text model")
    code, _, err = cli("text", "evaluate", vae_run, "--corpus", vae_run / "config.json")
    assert_one_line_error(code, err, "not a text model")
    weights = trained_run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    code, _, err = cli("text", "sample", trained_run)
    assert_one_line_error(code, err, "model.safetensors", "corrupt")


@pytest.mark.skipif(not (SHARED_DATA / "nietzsche").exists(), reason="needs ../shared/data")
def test_nietzsche_needs_an_encoding(cli, tmp_path):
    corpus = SHARED_DATA / "nietzsche" / "nietzsche.txt"
    code, _, err = cli("text", "train", "--corpus", corpus, "--out", tmp_path / "r", *FAST)
    assert_one_line_error(code, err, "not valid UTF-8", "394533", "--encoding latin-1")
    code, _, err = cli("text", "train", "--corpus", corpus, "--encoding", "latin-1", "--out", tmp_path / "ok",
                       "--max-steps", "2", *small(), *FAST)
    assert code == 0, err
