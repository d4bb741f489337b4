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
                            "--length", "30", "--output", table)
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
                            "--output", tmp_path / "s.txt")
    assert code == 0, err
    assert stdout.startswith("To be xylophone ")  # the prompt as typed, then the streamed words
    saved = (tmp_path / "s.txt").read_text(encoding="utf-8")
    assert saved.startswith("to be <unk>"), saved  # the normalised prompt, unknown word mapped to <unk>
    code, stdout, err = cli("text", "train", "--out", out, "--resume", "--max-steps", "9", "--no-progress")
    assert code == 0, err
    assert "trained 3 steps this run (step 6 -> 9)" in stdout


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
    import shutil

    run = shutil.copytree(trained_run, tmp_path / "copy")  # the module's run stays intact for the other tests
    weights = run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    code, _, err = cli("text", "sample", run)
    assert_one_line_error(code, err, "model.safetensors", "corrupt")


@pytest.mark.skipif(not (SHARED_DATA / "nietzsche").exists(), reason="needs ../shared/data")
def test_nietzsche_needs_an_encoding(cli, tmp_path):
    corpus = SHARED_DATA / "nietzsche" / "nietzsche.txt"
    code, _, err = cli("text", "train", "--corpus", corpus, "--out", tmp_path / "r", *FAST)
    assert_one_line_error(code, err, "not valid UTF-8", "394533", "--encoding latin-1")
    code, _, err = cli("text", "train", "--corpus", corpus, "--encoding", "latin-1", "--out", tmp_path / "ok",
                       "--max-steps", "2", *small(), *FAST)
    assert code == 0, err


# ---- issue 12 (hardening) and issue 11 (structure): each was wrong or missing before -------------------------------


def test_typed_epochs_beats_the_text_default_max_steps(cli, corpus, tmp_path):
    # trial #3: --epochs was silently ignored because text's defaults set max_steps=2000.
    out = tmp_path / "run"
    code, stdout, err = cli("text", "train", "--corpus", corpus, "--out", out, "--epochs", "1", "--batch-size", "64",
                            *small(), *FAST[2:])
    assert code == 0, err
    saved = json.loads((out / "train_config.json").read_text())["train"]
    assert saved["epochs"] == 1 and saved["max_steps"] is None
    steps = int(stdout.split("trained ")[1].split(" steps")[0])
    assert 1 <= steps <= 25, stdout  # one pass over ~1,190 windows in batches of 64, not 2000 steps
    code, stdout, err = cli("text", "train", "--corpus", corpus, "--out", tmp_path / "both", "--epochs", "1",
                            "--max-steps", "3", *small(), *FAST)
    assert code == 0 and "trained 3 steps" in stdout, err  # both typed: --max-steps


def test_help_shows_per_model_block_size_and_applies_it(cli, corpus, tmp_path):
    code, helptext, _ = cli("text", "train", "-h")
    helptext = " ".join(helptext.split())
    assert "(default: 128 for lstm/gru, 64 for gpt)" in helptext  # B7: it showed the RNN's 128 only
    assert "truncated back-propagation" not in helptext  # review §2.6: no state is carried between batches
    assert "write a sample text" in helptext and "sample image" not in helptext  # trial #18
    assert "whichever of --epochs / --max-steps you type wins" in helptext
    for title in ("lstm / gru model", "gpt model"):
        assert title in helptext
    code, _, err = cli("text", "train", "--corpus", corpus, "--model", "gpt", "--out", tmp_path / "g", "--max-steps",
                       "1", "--n-layer", "1", "--n-embd", "16", "--n-head", "2", *FAST)
    assert code == 0, err
    assert genlab.load(tmp_path / "g").config.block_size == 64
    code, _, err = cli("text", "train", "--corpus", corpus, "--out", tmp_path / "l", "--max-steps", "1",
                       "--hidden-size", "16", "--num-layers", "1", *FAST)
    assert code == 0, err
    assert genlab.load(tmp_path / "l").config.block_size == 128
    code, _, err = cli("text", "train", "--corpus", corpus, "--out", tmp_path / "x", "--n-layer", "2", *FAST)
    assert_one_line_error(code, err, "--n-layer do(es) not apply to --model lstm")


def test_resuming_with_another_model_is_one_line(cli, corpus, tmp_path):
    out = tmp_path / "run"
    code, _, err = cli("text", "train", "--corpus", corpus, "--model", "gpt", "--out", out, "--max-steps", "1",
                       "--block-size", "16", "--n-layer", "1", "--n-embd", "16", "--n-head", "2", *FAST)
    assert code == 0, err
    code, _, err = cli("text", "train", "--out", out, "--resume", "--model", "lstm", "--max-steps", "2")
    assert_one_line_error(code, err, f"the run in {out} is a gpt model; drop --model or start a new run")
    code, _, err = cli("text", "train", "--out", out, "--resume", "--tokenizer", "word", "--max-steps", "2")
    assert_one_line_error(code, err, "cannot change --tokenizer when resuming")


def test_corpus_is_stored_absolute(cli, corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("text", "train", "--corpus", "corpus.txt", "--out", "run", "--max-steps", "1", *small(), *FAST)
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())["data"]["corpus"]
    assert saved == str(corpus) and saved.startswith("/")
    monkeypatch.chdir("/")
    code, stdout, err = cli("text", "evaluate", tmp_path / "run")  # its own validation split, from anywhere
    assert code == 0, err


def test_summary_quotes_the_path_and_names_the_model(cli, corpus, tmp_path):
    out = tmp_path / "my run"
    code, stdout, err = cli("text", "train", "--corpus", corpus, "--out", out, "--max-steps", "1", *small(), *FAST)
    assert code == 0, err
    assert f"genlab text sample '{out}' --prompt ..." in stdout  # copy-pastes into a shell
    assert f"model:    '{out / 'model.safetensors'}'" in stdout


def test_prompt_with_unseen_characters_prints_nothing_first(cli, trained_run):
    # trial #11: "Привет" was printed to stdout before the error.
    code, stdout, err = cli("text", "sample", trained_run, "--prompt", "Привет")
    assert_one_line_error(code, err, "prompt contains", "never saw")
    assert stdout == ""


def test_sample_out_is_a_folder_and_output_a_file(cli, trained_run, tmp_path):
    folder = tmp_path / "outdir"
    folder.mkdir()  # trial #4: IsADirectoryError traceback
    code, stdout, err = cli("text", "sample", trained_run, "--length", "10", "--n", "2", "--out", folder)
    assert code == 0, err
    written = (folder / "samples.txt").read_text(encoding="utf-8")
    assert "\n--- sample 2 ---\n" in written  # trial #18: the separators of stdout, not a blank line
    assert stdout.rstrip("\n") == written.rstrip("\n")  # no prompt: the file is what stdout showed
    code, _, err = cli("text", "sample", trained_run, "--length", "10", "--n", "3", "--output", tmp_path / "t.txt")
    assert code == 0, err
    assert (tmp_path / "t.txt").read_text(encoding="utf-8").count("--- sample ") == 2
    code, stdout, err = cli("text", "sample", trained_run, "--out", tmp_path / "x.txt")
    assert_one_line_error(code, err, "--out is a folder", "--output")
    assert stdout == ""  # checked before any work
    code, _, err = cli("text", "sample", trained_run, "--output", folder)
    assert_one_line_error(code, err, "is a folder")


def test_evaluate_output_options(cli, trained_run, corpus, tmp_path):
    code, stdout, err = cli("text", "evaluate", trained_run, "--corpus", corpus, "--output", tmp_path / "e.json")
    assert code == 0, err
    assert json.loads((tmp_path / "e.json").read_text())["loss"] > 0
    assert stdout.strip().endswith(f"written to {tmp_path / 'e.json'}")
    code, _, err = cli("text", "evaluate", trained_run, "--corpus", corpus, "--out", tmp_path / "d")
    assert code == 0, err
    assert (tmp_path / "d" / "eval.json").exists()
    code, _, err = cli("text", "evaluate", trained_run, "--corpus", corpus, "--out", tmp_path / "e.json")
    assert_one_line_error(code, err, "--out is a folder")


def test_evaluate_reports_unknown_tokens_and_warns(cli, corpus, tmp_path):
    # trial #6: a word model scored on another language said nothing about every word being <unk>.
    out = tmp_path / "word"
    code, _, err = cli("text", "train", "--corpus", corpus, "--tokenizer", "word", "--out", out, "--max-steps", "1",
                       "--block-size", "8", "--hidden-size", "16", "--num-layers", "1", *FAST)
    assert code == 0, err
    code, stdout, err = cli("text", "evaluate", out, "--corpus", corpus)
    assert code == 0, err
    assert "unknown tokens: 0 (0.0 %" in stdout and "warning" not in err
    other = tmp_path / "other.txt"
    other.write_text("Жили-были дед да баба, и была у них курочка ряба. " * 30 + "\nTo be or not to be\n",
                     encoding="utf-8")
    code, stdout, err = cli("text", "evaluate", out, "--corpus", other)
    assert code == 0, err
    result = json.loads((out / "eval.json").read_text())
    assert result["unknown_share"] > 0.9 and result["unknown_tokens"] > 300
    assert f"unknown tokens: {result['unknown_tokens']} (" in stdout and "scored as <unk>" in stdout
    assert "% of tokens are unknown to this model" in err and "not comparable" in err
    code, _, err = cli("text", "evaluate", out, "--corpus", other, "--unknown", "refuse")
    assert_one_line_error(code, err, "words the model never saw")


def test_char_evaluate_unknown_refuse_map_skip(cli, trained_run, tmp_path):
    # trial #11: any character the model never saw made `text evaluate` refuse, with no way around it.
    other = tmp_path / "other.txt"
    other.write_text(TEXT.replace("o", "\u00f6") + "[1984]\n", encoding="utf-8")
    n_unseen = other.read_text(encoding="utf-8").count("\u00f6") + 6
    code, _, err = cli("text", "evaluate", trained_run, "--corpus", other)
    assert_one_line_error(code, err, "never saw", "--unknown map", "--unknown skip")
    code, stdout, err = cli("text", "evaluate", trained_run, "--corpus", other, "--unknown", "map")
    assert code == 0, err
    mapped = json.loads((trained_run / "eval.json").read_text())
    assert mapped["unknown_tokens"] == n_unseen and mapped["unknown"] == "map"
    assert "scored as ' '" in stdout and "not comparable" in err  # 9 % of the characters
    code, stdout, err = cli("text", "evaluate", trained_run, "--corpus", other, "--unknown", "skip")
    assert code == 0, err
    skipped = json.loads((trained_run / "eval.json").read_text())
    assert skipped["unknown_tokens"] == n_unseen and "dropped" in skipped["unknown_note"]
    assert skipped["unknown_share"] == pytest.approx(n_unseen / len(other.read_text(encoding="utf-8")))


def test_progress_lines_when_stdout_is_not_a_terminal(cli, trained_run, monkeypatch):
    import importlib

    api = importlib.import_module("genlab.text.train")  # the module (genlab.text.train is also the function)
    monkeypatch.setattr(api._Progress, "after_s", 0.0)
    code, stdout, err = cli("text", "sample", trained_run, "--length", "200")
    assert code == 0, err
    lines = err.strip().splitlines()
    assert lines[0].startswith("sampled 20/200 tokens (10 %)") and "tokens/s" in lines[0]
    assert lines[-1].startswith("sampled 200 tokens x 1 in ") and len(lines) == 11
    assert "\r" not in err
    code, stdout, err = cli("text", "sample", trained_run, "--length", "200", "--no-progress")
    assert code == 0 and err == ""


def test_sample_and_evaluate_help(cli):
    for cmd in ("sample", "evaluate"):
        code, out, _ = cli("text", cmd, "-h")
        out = " ".join(out.split())
        assert "--device DEVICE auto|cpu|cuda|mps" in out and "(default: auto)" in out
        assert "--out DIR" in out and "--output FILE" in out


def test_python_api(trained_run, corpus, tmp_path):
    from genlab import text

    texts = text.sample(trained_run, 2, prompt="To be", length=12, seed=3, device="cpu")
    assert len(texts) == 2 and all(t.startswith("To be") and len(t) == 17 for t in texts)
    model = genlab.load(trained_run)
    assert text.sample(model, 2, prompt="To be", length=12, seed=3) == texts  # a model or its run folder
    text.sample(model, prompt="To", length=5, output=tmp_path / "one.txt")
    assert (tmp_path / "one.txt").read_text(encoding="utf-8").startswith("To")
    r = text.evaluate(model, corpus=corpus)  # a model without a run folder: nothing written
    assert r["loss"] > 0 and r["unknown_tokens"] == 0 and "written_to" not in r
    r2 = text.evaluate(trained_run, data_config=text.TextConfig(corpus=str(corpus)), out=tmp_path / "ev")
    assert r2["loss"] == pytest.approx(r["loss"]) and (tmp_path / "ev" / "eval.json").exists()
    with pytest.raises(TypeError):
        text.sample(trained_run, 1, "To")  # generation knobs are keyword-only
    cfg = genlab.core.engine.TrainConfig(max_steps=1, batch_size=8, progress=False, tensorboard=False,
                                         device="cpu", sample_every=0, eval_every=0)
    data = text.TextConfig(corpus=str(corpus))
    rnn = text.RNNConfig(block_size=16, hidden_size=16, num_layers=1)
    new = text.train(rnn, data, cfg, out=tmp_path / "new")  # model_config, data_config, train_config
    old = text.train(data, rnn, cfg, out=tmp_path / "old")  # the order before issue 11
    assert new.step == old.step == 1
    assert genlab.load(tmp_path / "new").config == genlab.load(tmp_path / "old").config
    with pytest.raises(genlab.core.errors.ConfigError, match="needs a GPTConfig"):
        text.train(rnn, text.TextConfig(corpus=str(corpus), model="gpt"), cfg, out=tmp_path / "bad")
