"""Byte-level BPE (issue 17): exact round trip, saved inside the model config, bits per character reported."""

import json

import pytest

from helpers import assert_one_line_error

from genlab.text.tokenizers import BPETokenizer, fit_tokenizer, tokenizer_from_dict

CORPUS = ("First Citizen:\nBefore we proceed any further, hear me speak.\nROMEO:\nBut soft! what light.\n" * 40
          + "café, naïve — 東京 😀\n")


def test_bpe_round_trip_and_saved_form():
    tok = fit_tokenizer("bpe", CORPUS, vocab_size=300)
    assert tok.vocab_size == 300
    for text in (CORPUS, "unseen words: zyxwv 123 ü ∑", "", "\n\n"):
        ids = tok.encode(text)
        assert tok.decode(ids) == text
        dec = tok.decoder()
        assert "".join(dec([i]) for i in ids) == text  # incremental, one token at a time
    assert len(tok.encode(CORPUS)) < len(CORPUS) / 2  # merges make tokens longer than one character
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert isinstance(again, BPETokenizer) and again == tok and again.encode(CORPUS) == tok.encode(CORPUS)
    assert tok.count_unknown("anything at all ✓") == 0


def test_bpe_bad_vocab_size():
    from genlab.core.errors import ConfigError

    with pytest.raises(ConfigError, match="--vocab-size"):
        fit_tokenizer("bpe", CORPUS, vocab_size=100)
    with pytest.raises(ConfigError, match="--vocab-size"):
        fit_tokenizer("char", CORPUS, vocab_size=300)


def test_bpe_through_the_cli(tmp_path, cli):
    corpus = tmp_path / "c.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    toy = ["--max-steps", "2", "--batch-size", "2", "--block-size", "8", "--hidden-size", "8", "--embedding-dim", "8",
           "--num-layers", "1", "--no-tensorboard", "--no-progress", "--sample-every", "0", "--log-every", "1"]
    code, out, err = cli("text", "train", "--corpus", corpus, "--tokenizer", "bpe", "--vocab-size", "280",
                         "--out", tmp_path / "run", *toy)
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["config"]["tokenizer"]
    assert saved["kind"] == "bpe" and "spec" in saved
    code, out, err = cli("text", "evaluate", tmp_path / "run")
    assert code == 0 and "bits/char" in out, err
    code, out, err = cli("text", "sample", tmp_path / "run", "--prompt", "ROMEO:", "--length", "5", "--no-progress")
    assert code == 0 and out.startswith("ROMEO:"), err
    code, out, err = cli("text", "train", "--corpus", corpus, "--tokenizer", "bpe", "--vocab-size", "50",
                         "--out", tmp_path / "r2", *toy)
    assert_one_line_error(code, err, "--vocab-size")
