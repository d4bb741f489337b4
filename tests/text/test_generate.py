"""Generation cost without timing: what is decoded per token, and what the GPT re-reads when its window slides."""

from __future__ import annotations

import pytest
import torch

import genlab.text.tokenizers as tokenizers
from genlab.text import GPT, GPTConfig, LSTMLanguageModel, RNNConfig, generate, generate_ids
from genlab.text.tokenizers import CharTokenizer, WordTokenizer

TEXT = "the quick brown fox jumps over the lazy dog.\n" * 40
TOK = CharTokenizer.fit(TEXT)


def make(kind: str, tok=TOK, block: int = 16):
    torch.manual_seed(0)
    common = {"vocab_size": tok.vocab_size, "tokenizer": tok.to_dict(), "block_size": block}
    if kind == "gpt":
        return GPT(GPTConfig(n_layer=1, n_head=2, n_embd=16, **common))
    return LSTMLanguageModel(RNNConfig(embedding_dim=8, hidden_size=16, num_layers=1, **common))


@pytest.fixture()
def decoded(monkeypatch):
    """Counts every token id that any decode path of the tokenizers looks at."""
    seen = {"ids": 0}
    real = tokenizers._ids_list

    def counting(ids, vocab_size):
        out = real(ids, vocab_size)
        seen["ids"] += len(out)
        return out

    monkeypatch.setattr(tokenizers, "_ids_list", counting)
    return seen


@pytest.mark.parametrize("kind", ["lstm", "gpt"])
def test_streaming_decodes_each_token_a_bounded_number_of_times(kind, decoded):
    # Re-decoding the whole sample for every streamed piece made sampling quadratic in --length (trial #5).
    model = make(kind)
    length = 600
    pieces: list[str] = []
    text = generate(model, "the ", length=length, temperature=1.0, seed=0, stream=pieces.append)[0]
    assert "the " + "".join(pieces) == text
    assert decoded["ids"] <= 3 * (length + 4), decoded  # linear: a few passes at most, not length**2 / 2


def test_word_streaming_is_incremental_and_exact(decoded):
    tok = WordTokenizer.fit('he said: "to be, or (not) to be" - that is it.\n' * 10)
    model = make("lstm", tok=tok)
    pieces: list[str] = []
    text = generate(model, "to be", length=300, temperature=1.0, seed=1, stream=pieces.append)[0]
    assert tok.decode(tok.encode("to be")) + "".join(pieces) == text
    assert decoded["ids"] <= 4 * (300 + 2), decoded


def test_word_decoder_pieces_equal_decode():
    tok = WordTokenizer.fit('a "b" (c) [d], e. f\n g \'h\' “i” x' * 3)
    ids = list(range(tok.vocab_size)) * 3
    dec = tok.decoder()
    assert "".join(dec([i]) for i in ids) == tok.decode(ids)
    char = CharTokenizer.fit("abc\n")
    dec = char.decoder()
    assert dec([0, 1]) + dec([3]) == char.decode([0, 1, 3])


def test_gpt_window_rebuilds_are_bounded_and_periodic(monkeypatch):
    # Past its context the GPT re-primes from the last 3/4 of the window: every rebuild reads at most block_size
    # tokens, and there is one rebuild per block_size/4 + 1 new tokens (amortised O(1) per token).
    model = make("gpt", block=16)
    sizes: list[int] = []
    real = model.prime

    def prime(idx):
        sizes.append(idx.shape[1])
        return real(idx)

    monkeypatch.setattr(model, "prime", prime)
    length = 400
    generate_ids(model, TOK.encode("the quick"), length=length, seed=0)
    assert max(sizes) <= 16 and sizes[1:] == [12] * (len(sizes) - 1)
    assert len(sizes) - 1 == pytest.approx(length / (16 - 12 + 1), abs=2)


def test_gpt_window_is_the_tail_of_prompt_and_text(monkeypatch):
    # Each rebuilt window must be the last 12 tokens of prompt + generated text at that moment, also when it still
    # reaches back into the prompt.
    model = make("gpt", block=16)
    prompt = TOK.encode("the quick brown fox")  # 19 tokens: the first window holds the last 16
    windows: list[tuple[int, list[int]]] = []
    count = {"t": 0}
    real = model.prime

    def prime(idx):
        windows.append((count["t"], idx[0].tolist()))
        return real(idx)

    def on_token(token):
        count["t"] += 1

    monkeypatch.setattr(model, "prime", prime)
    out = generate_ids(model, prompt, length=40, seed=3, on_token=on_token)
    full = prompt + out[0].tolist()
    assert windows[0] == (0, prompt[-16:])
    assert len(windows) > 3
    for t, window in windows[1:]:
        assert window == full[: len(prompt) + t][-12:], t
