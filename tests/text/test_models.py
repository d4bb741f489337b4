"""Text models: shapes, initial loss, training lowers loss, fast generation == the slow path, save/load."""

from __future__ import annotations

import math

import pytest
import torch

import genlab
from genlab.core.errors import ConfigError
from genlab.core.engine import TrainConfig
from genlab.text import (GPT, GPTConfig, GRULanguageModel, LSTMLanguageModel, RNNConfig, TextConfig, generate,
                         generate_ids, generate_ids_reencoding, train)
from genlab.text.tokenizers import CharTokenizer

TEXT = "the quick brown fox jumps over the lazy dog.\n" * 40
TOK = CharTokenizer.fit(TEXT)


def make(kind: str, block: int = 32):
    torch.manual_seed(0)
    common = {"vocab_size": TOK.vocab_size, "tokenizer": TOK.to_dict(), "block_size": block}
    if kind == "gpt":
        return GPT(GPTConfig(n_layer=2, n_head=2, n_embd=32, **common))
    cls = {"lstm": LSTMLanguageModel, "gru": GRULanguageModel}[kind]
    return cls(RNNConfig(embedding_dim=16, hidden_size=32, num_layers=2, **common))


@pytest.mark.parametrize("kind", ["lstm", "gru", "gpt"])
def test_forward_shapes_and_initial_loss(kind):
    model = make(kind)
    x = torch.randint(0, TOK.vocab_size, (3, 32))
    logits, _ = model.logits(x)
    assert logits.shape == (3, 32, TOK.vocab_size)
    loss = model(x, torch.randint(0, TOK.vocab_size, (3, 32)))["loss"]
    assert loss.ndim == 0
    # An untrained model is close to uniform over the vocabulary: loss ~ ln V.
    assert abs(loss.item() - math.log(TOK.vocab_size)) < 0.3


def test_gpt_rejects_a_sequence_longer_than_its_context():
    with pytest.raises(ConfigError, match="longer than the context of 32"):
        make("gpt").logits(torch.zeros(1, 33, dtype=torch.long))
    with pytest.raises(ConfigError, match="divisible by --n-head"):
        GPTConfig(n_embd=30, n_head=4)


@pytest.mark.parametrize("kind", ["lstm", "gru", "gpt"])
def test_cached_step_logits_equal_the_full_forward(kind):
    model = make(kind).eval()
    x = torch.randint(0, TOK.vocab_size, (2, 20))
    full = model.logits(x)[0]
    logits, state = model.prime(x[:, :5])
    torch.testing.assert_close(logits, full[:, 4], rtol=1e-4, atol=1e-5)
    for t in range(5, 20):
        logits, state = model.step(x[:, t], state)
        torch.testing.assert_close(logits, full[:, t], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru", "gpt"])
@pytest.mark.parametrize("temperature,top_k,top_p", [(0.0, None, None), (1.0, None, None), (0.7, 5, 0.9)])
def test_fast_generation_matches_the_reencoding_path(kind, temperature, top_k, top_p):
    model = make(kind)
    prompt = TOK.encode("the quick")
    kw = dict(n=3, length=20, temperature=temperature, top_k=top_k, top_p=top_p, seed=11)
    fast = generate_ids(model, prompt, **kw)
    slow = generate_ids_reencoding(model, prompt, window=32, **kw)  # whole sequence fits: same distribution
    assert fast.shape == (3, 20)
    assert torch.equal(fast, slow)


def test_greedy_is_deterministic_and_seeds_reproduce():
    model = make("gpt")
    a = generate(model, "the", length=15, temperature=0.0, seed=1)
    b = generate(model, "the", length=15, temperature=0.0, seed=2)
    assert a == b
    c = generate(model, "the", length=15, temperature=1.0, seed=5, n=2)
    d = generate(model, "the", length=15, temperature=1.0, seed=5, n=2)
    assert c == d and all(s.startswith("the") and len(s) == 18 for s in c)


def test_gpt_generates_past_its_context_with_a_sliding_window():
    model = make("gpt", block=16)
    out = generate_ids(model, TOK.encode("the quick brown"), length=60, temperature=1.0, seed=0)
    assert out.shape == (1, 60) and int(out.max()) < TOK.vocab_size


def test_streaming_reassembles_the_sample():
    model = make("lstm")
    pieces: list[str] = []
    text = generate(model, "the ", length=25, temperature=0.8, seed=3, stream=pieces.append)[0]
    assert "the " + "".join(pieces) == text


@pytest.mark.parametrize("model_kind", ["lstm", "gru", "gpt"])
def test_training_lowers_loss_and_round_trips(tmp_path, model_kind):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    small = {"lstm": RNNConfig(block_size=32, hidden_size=64, num_layers=1),
             "gru": RNNConfig(block_size=32, hidden_size=64, num_layers=1),
             "gpt": GPTConfig(block_size=32, n_layer=2, n_head=2, n_embd=32)}[model_kind]
    cfg = TrainConfig(max_steps=60, batch_size=16, lr=1e-2, optimizer="adamw", log_every=10, sample_every=0,
                      checkpoint_every=1000, progress=False, tensorboard=False, device="cpu")
    result = train(TextConfig(corpus=str(corpus), model=model_kind), small, cfg, out=tmp_path / "run")
    assert result.eval_metrics["eval/loss"] < 0.5 * math.log(TOK.vocab_size)
    assert result.eval_metrics["eval/bits_per_char"] == pytest.approx(result.eval_metrics["eval/loss"] / math.log(2))
    model = genlab.load(tmp_path / "run")
    assert model.tokenizer == TOK
    assert generate(model, "the q", length=20, temperature=0.0)[0] == \
        generate(genlab.load(tmp_path / "run"), "the q", length=20, temperature=0.0)[0]


@pytest.mark.parametrize("prefix,chunk", [(1, 7), (5, 11), (12, 20)])
def test_gpt_prefix_plus_chunk_equals_the_full_forward(prefix, chunk):
    # The chunked-prefill branch (a cache prefix and T > 1 new tokens: mask tril(diagonal=past)).
    model = make("gpt").eval()
    x = torch.randint(0, TOK.vocab_size, (2, 32), generator=torch.Generator().manual_seed(4))
    full = model.logits(x)[0]
    _, cache = model.prime(x[:, :prefix])
    logits, cache = model.logits(x[:, prefix:chunk], cache)
    torch.testing.assert_close(logits, full[:, prefix:chunk], rtol=1e-4, atol=1e-5)
    assert cache.length == chunk
    step, _ = model.step(x[:, chunk], cache)  # and the cache goes on from there
    torch.testing.assert_close(step, full[:, chunk], rtol=1e-4, atol=1e-5)
