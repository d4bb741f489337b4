"""The networks: attention weights and heat map, the NADE's normalisation and teacher forcing, save/load."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from genlab.music.config import NoteRNNConfig, PolyConfig
from genlab.music.losses import bernoulli_frame_nll
from genlab.music.models import FrameNADE, NoteRNN, PolyRNN

VOCAB = dict(pitch_vocab=("<s>", "rest", "60", "62", "64"), duration_vocab=("<s>", "1/2", "1", "2"))


@pytest.fixture()
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_attention_rows_sum_to_one_and_see_only_the_past(one_thread):
    torch.manual_seed(0)
    m = NoteRNN(NoteRNNConfig(embed_dim=4, hidden_size=8, num_layers=1, seq_len=6, **VOCAB)).eval()
    p, d = torch.randint(0, 5, (2, 6)), torch.randint(0, 4, (2, 6))
    with torch.no_grad():
        c, alpha = m.features(p, d)
    assert c.shape == (2, 6, 8) and alpha.shape == (2, 6, 6)
    assert torch.allclose(alpha.sum(-1), torch.ones(2, 6), atol=1e-6)
    assert torch.all(alpha.triu(diagonal=1) == 0)  # position t attends to notes <= t only
    assert alpha[0, 0, 0].item() == pytest.approx(1.0)
    # the last row is Foster's attention over the whole window: softmax of tanh(w.h_i + b)
    h, _ = m.lstm(torch.cat([m.pitch_emb(p), m.duration_emb(d)], -1))
    e = torch.tanh(m.score(h)).squeeze(-1)
    assert torch.allclose(alpha[:, -1], torch.softmax(e, -1), atol=1e-6)
    assert m.logits(p, d)[0].shape == (2, 6, 5)
    none = NoteRNN(NoteRNNConfig(embed_dim=4, hidden_size=8, num_layers=1, attention="none", **VOCAB))
    assert none.features(p, d)[1] is None


def test_heat_map_has_the_sequences_shape(one_thread):
    from genlab.music.api import generate_notes

    torch.manual_seed(0)
    m = NoteRNN(NoteRNNConfig(embed_dim=4, hidden_size=8, num_layers=1, seq_len=5, **VOCAB))
    prompt = [("60", "1"), ("62", "1/2")]
    tokens, heat = generate_notes(m, length=7, prompt=prompt, seed=1)
    assert len(tokens) == 2 + 7 and tokens[:2] == prompt
    assert heat.shape == (7, 1 + 2 + 7)  # rows: generated notes; columns: <s>, prompt, generated notes
    assert np.allclose(heat.sum(1), 1.0, atol=1e-5)
    for i in range(7):  # generated note i sees the last seq_len notes before it
        seen = np.flatnonzero(heat[i] > 0)
        assert seen.max() <= 2 + i and seen.min() >= max(0, 3 + i - 5)
    again, _ = generate_notes(m, length=7, prompt=prompt, seed=1)
    assert again == tokens  # seeded


def test_nade_is_a_normalised_distribution_over_the_frames_of_its_keys():
    torch.manual_seed(0)
    nade = FrameNADE(state_size=3, n_keys=4, hidden=5)
    state = torch.randn(1, 3).expand(16, 3)
    frames = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)))
    nll = bernoulli_frame_nll(nade.logits(state, frames), frames)
    assert torch.exp(-nll).sum().item() == pytest.approx(1.0, abs=1e-5)


def test_nade_teacher_forcing_matches_key_by_key_computation():
    torch.manual_seed(1)
    nade = FrameNADE(state_size=3, n_keys=5, hidden=4)
    s, x = torch.randn(2, 3), (torch.rand(2, 5) < 0.5).float()
    fast = nade.logits(s, x)
    a = nade.b_h(s)
    for k in range(5):
        slow = nade.b_v(s)[:, k] + (torch.sigmoid(a) * nade.V[k]).sum(-1)
        assert torch.allclose(fast[:, k], slow, atol=1e-5)
        a = a + x[:, k:k + 1] * nade.W[k]


@pytest.mark.parametrize("output_layer", ["bernoulli", "nade"])
def test_poly_rnn_shapes_causality_save_and_load(tmp_path, output_layer, one_thread):
    import genlab

    torch.manual_seed(0)
    m = PolyRNN(PolyConfig(hidden_size=8, nade_hidden=4, output_layer=output_layer, seq_len=6)).eval()
    x = (torch.rand(2, 6, 88) < 0.05).float()
    nll = m.frame_nll(x)
    assert nll.shape == (2, 6) and torch.all(nll > 0)
    y = x.clone()
    y[:, 4:] = 1 - y[:, 4:]  # changing frames 4.. leaves the NLL of frames 0..3 alone
    assert torch.allclose(m.frame_nll(y)[:, :4], nll[:, :4], atol=1e-5)
    rolls = m.sample(3, 5, seed=0)
    assert rolls.shape == (3, 5, 88) and set(rolls.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(rolls, m.sample(3, 5, seed=0))
    m.save_pretrained(tmp_path / "m")
    back = genlab.load(tmp_path / "m")
    assert isinstance(back, PolyRNN) and torch.allclose(back.frame_nll(x), nll, atol=1e-6)


def test_one_note_steps_equal_the_window_over_the_first_seq_len_notes(one_thread):
    torch.manual_seed(3)
    m = NoteRNN(NoteRNNConfig(embed_dim=4, hidden_size=8, num_layers=2, seq_len=6, **VOCAB)).eval()
    p, d = torch.randint(0, 5, (2, 6)), torch.randint(0, 4, (2, 6))
    with torch.no_grad():
        lp, ld, alpha = m.logits(p, d)
    state = past = None
    for t in range(6):
        sp, sd, sa, state, past = m.step(p[:, t], d[:, t], state, past)
        assert torch.allclose(sp, lp[:, t], atol=1e-5) and torch.allclose(sd, ld[:, t], atol=1e-5)
        assert torch.allclose(sa, alpha[:, t, :t + 1], atol=1e-6)


def test_gpt_generation_through_the_cache_equals_full_recomputation(one_thread):
    from genlab.music.api import _GPTStream
    from genlab.music.models import MusicGPT
    from genlab.text import GPTConfig

    torch.manual_seed(0)
    tok = {"kind": "music-notes", "pitch_vocab": list(VOCAB["pitch_vocab"]),
           "duration_vocab": list(VOCAB["duration_vocab"])}
    m = MusicGPT(GPTConfig(block_size=6, n_layer=1, n_head=2, n_embd=8, vocab_size=9, tokenizer=tok)).eval()
    ids = [0, 5, 2, 7, 3, 6, 1, 8, 4, 5]
    stream = _GPTStream(m, ids[:1])
    for t in range(1, len(ids)):
        got = stream.next(ids[t])
        window = ids[max(0, t + 1 - 5):t + 1] if t + 1 > 6 else ids[:t + 1]
        if t + 1 <= 6:  # within the context: the cache gives exactly the full recomputation
            with torch.no_grad():
                want = m.logits(torch.tensor(window)[None])[0][0, -1]
            assert torch.allclose(got, want, atol=1e-5)
        assert got.shape == (9,) and torch.isfinite(got).all()  # past it: rebuilt from the last 5 tokens
