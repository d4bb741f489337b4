"""qgen through the command line: every bad input is one line; train, generate, evaluate, attention at toy size;
exact resume."""

import json

import pytest
import torch

from helpers import assert_one_line_error

PAIRS = [("paris is the capital of france .", "what is the capital of france ?"),
         ("the nile flows through egypt .", "what river flows through egypt ?"),
         ("berlin is in germany .", "where is berlin ?"),
         ("the sun is a star .", "what is the sun ?"),
         ("water boils at 100 degrees .", "at what temperature does water boil ?"),
         ("tokyo is the capital of japan .", "what is the capital of japan ?")] * 3
TOY = ["--max-steps", "4", "--batch-size", "4", "--emb-dim", "8", "--hidden", "8", "--no-tensorboard",
       "--no-progress", "--log-every", "1", "--sample-every", "0", "--checkpoint-every", "2", "--min-freq", "1",
       "--val-fraction", "0.3"]


def _files(tmp_path, pairs=PAIRS, answers=False):
    src, tgt = tmp_path / "src.txt", tmp_path / "tgt.txt"
    src.write_text("".join(s + "\n" for s, _ in pairs))
    tgt.write_text("".join(q + "\n" for _, q in pairs))
    return src, tgt


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One toy run shared by the tests of this module (they only read it)."""
    from genlab.cli import main

    folder = tmp_path_factory.mktemp("qgen_run")
    src, tgt = _files(folder)
    assert main(["qgen", "train", "--src", str(src), "--tgt", str(tgt), "--out", str(folder / "run"), *TOY]) == 0
    return folder / "run"


def test_train_generate_evaluate_attention(tmp_path, cli, run, monkeypatch):
    code, out, err = cli("qgen", "generate", run, "--sentence", "Paris is the capital of France.", "--beam", "2")
    assert code == 0 and out.strip(), err
    inp = tmp_path / "in.txt"
    inp.write_text("berlin is in germany .\nthe zorblax is in egypt .\n")
    code, out, err = cli("qgen", "generate", run, "--input", inp, "--beam", "1", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 2 and abs(sum(rows[0]["attention"][0]) - 1) < 1e-5
    monkeypatch.setenv("PATH", str(tmp_path))  # no Java: the labelled fallback (and a fast test)
    code, out, err = cli("qgen", "evaluate", run, "--beam", "1", "--out", tmp_path / "ev")
    assert code == 0, err
    assert "METEOR n/a (no Java)" in out and "copy" in out and "template" in out and "Java is missing" in err
    r = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert r["sentences"] == 2 and r["baselines"]["copy"]["bleu_1"] > 0
    src, tgt = _files(tmp_path)
    code, out, err = cli("qgen", "evaluate", run, "--data", src, tgt, "--beam", "1", "--output", tmp_path / "e.json")
    assert code == 0 and json.loads((tmp_path / "e.json").read_text())["sentences"] == 6, err
    code, out, err = cli("qgen", "attention", run, "--sentence", "berlin is in germany .", "--output",
                         tmp_path / "att.png")
    assert code == 0 and (tmp_path / "att.png").stat().st_size > 1000, err


def test_bad_inputs_are_one_line(tmp_path, cli, run):
    src, tgt = _files(tmp_path)
    short = tmp_path / "short.txt"
    short.write_text("what ?\n")
    code, out, err = cli("qgen", "train", "--src", src, "--tgt", short, "--out", tmp_path / "r1", *TOY)
    assert_one_line_error(code, err, "has 18 lines", "has 1")
    holes = tmp_path / "holes.txt"
    holes.write_text("".join(q + "\n" for _, q in PAIRS[:-1]) + "\n")
    code, out, err = cli("qgen", "train", "--src", src, "--tgt", holes, "--out", tmp_path / "r2", *TOY)
    assert_one_line_error(code, err, "line 18", "question is empty")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("paris is in france .\twhere is paris ?\tlondon\n")
    code, out, err = cli("qgen", "train", "--pairs", pairs, "--out", tmp_path / "r3", *TOY)
    assert_one_line_error(code, err, "'london' is not in its sentence")
    code, out, err = cli("qgen", "train", "--src", src, "--out", tmp_path / "r4", *TOY)
    assert_one_line_error(code, err, "--tgt")
    code, out, err = cli("qgen", "generate", run, "--sentence", "paris", "--beam", "0")
    assert_one_line_error(code, err, "--beam must be >= 1")
    code, out, err = cli("qgen", "evaluate", run, "--beam", "0")
    assert_one_line_error(code, err, "--beam")
    code, out, err = cli("qgen", "generate", run, "--sentence", "paris", "--answer", "paris")
    assert_one_line_error(code, err, "trained without answers")
    code, out, err = cli("qgen", "generate", run, "--sentence", "   ")
    assert_one_line_error(code, err, "empty")
    vec = tmp_path / "vec.txt"
    vec.write_text("2 3\nparis 0.1 0.2 0.3\nfrance 0.1 0.2 0.3\n")
    code, out, err = cli("qgen", "train", "--src", src, "--tgt", tgt, "--out", tmp_path / "r5", "--embeddings", vec,
                         *TOY)
    assert_one_line_error(code, err, "3-dimensional", "--emb-dim is 8")
    code, out, err = cli("qgen", "evaluate", run, "--data", src, short)
    assert_one_line_error(code, err, "has 18 lines")
    code, out, err = cli("qgen", "generate", tmp_path / "nothing", "--sentence", "paris")
    assert_one_line_error(code, err, "does not exist")


def test_long_sentence_is_truncated_with_a_count(cli, run):
    long = " ".join(["word"] * 150)
    code, out, err = cli("qgen", "generate", run, "--sentence", long, "--beam", "1")
    assert code == 0 and "1 sentence(s) longer than 100 tokens were truncated" in err


def test_answer_tagging_and_embeddings(tmp_path, cli):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{s}\t{q}\t{s.split()[0]}\n" for s, q in PAIRS))
    vec = tmp_path / "vec.txt"
    vec.write_text("paris " + " ".join(["0.5"] * 8) + "\negypt " + " ".join(["0.25"] * 8) + "\n")
    code, out, err = cli("qgen", "train", "--pairs", pairs, "--out", tmp_path / "r", "--embeddings", vec, *TOY)
    assert code == 0 and "embeddings: 2 of" in err, (out, err)
    code, out, err = cli("qgen", "generate", tmp_path / "r", "--sentence", "paris is in france .")
    assert_one_line_error(code, err, "trained with answers", "--answer")
    code, out, err = cli("qgen", "generate", tmp_path / "r", "--sentence", "paris is in france .", "--answer",
                         "france", "--beam", "2")
    assert code == 0 and out.strip(), err
    code, out, err = cli("qgen", "generate", tmp_path / "r", "--sentence", "paris is in france .", "--answer", "rome")
    assert_one_line_error(code, err, "'rome' is not in sentence 1")


@pytest.mark.slow
def test_exact_resume(tmp_path, cli):
    from safetensors.torch import load_file

    src, tgt = _files(tmp_path)
    flags = [a for a in TOY if a not in ("4",)]
    steps = ["--max-steps", "6", "--checkpoint-every", "3"]
    code, out, err = cli("qgen", "train", "--src", src, "--tgt", tgt, "--out", tmp_path / "a", *TOY, *steps)
    assert code == 0, err
    code, out, err = cli("qgen", "train", "--src", src, "--tgt", tgt, "--out", tmp_path / "b", *TOY,
                         "--max-steps", "3", "--checkpoint-every", "3")
    assert code == 0, err
    code, out, err = cli("qgen", "train", "--out", tmp_path / "b", "--resume", "--max-steps", "6")
    assert code == 0, err
    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert flags
