"""The model's contracts: attention sums to 1, beam width 1 is greedy, copying writes an OOV source word,
save/load keeps the vocabulary."""

import pytest
import torch

from genlab.qgen.data import SPECIALS, Vocab, collate, encode_pair
from genlab.qgen.decode import beam_search, greedy
from genlab.qgen.models import QGen, QGenConfig

WORDS = list(SPECIALS) + ["what", "is", "the", "capital", "of", "france", "?", "paris", "city", "a"]


def _model(**kw) -> QGen:
    torch.manual_seed(0)
    return QGen(QGenConfig(vocab=tuple(WORDS), emb_dim=8, hidden=8, dropout=0.0, max_tgt_len=8, **kw)).eval()


def _batch(model, sentences, questions=None, answers=None):
    vocab = Vocab(model.config.vocab)
    items = [encode_pair(vocab, s.split(), q.split() if q else None, a.split() if a else None, max_src_len=50,
                         max_tgt_len=20)
             for s, q, a in zip(sentences, questions or [None] * len(sentences), answers or [None] * len(sentences))]
    return items, collate(items)


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_attention_weights_sum_to_one_and_ignore_padding(attention, rnn):
    m = _model(attention=attention, rnn=rnn)
    items, (src, src_ext, tags, lens, tgt_in, tgt_out, n_oov) = _batch(
        m, ["paris is the capital of france", "a city"], ["what is paris ?", "what ?"])
    memory, proj, mask, state = m.encode(src, tags, lens)
    dist, att, _ = m.decode(tgt_in, state, memory, proj, mask, src_ext, int(n_oov))
    assert torch.allclose(att.sum(-1), torch.ones(att.shape[:2]), atol=1e-6)
    assert torch.all(att[1, :, 2:] == 0)  # the second sentence has 2 tokens: no weight on padding
    assert torch.allclose(dist.sum(-1), torch.ones(dist.shape[:2]), atol=1e-5)
    loss = m(src, src_ext, tags, lens, tgt_in, tgt_out, n_oov)["loss"]
    assert torch.isfinite(loss)


@pytest.mark.parametrize("copy", [True, False])
def test_beam_width_one_is_greedy(copy):
    m = _model(copy=copy)
    for sentence in ["paris is the capital of france", "the zorblax of quux is a city", "france"]:
        items, (src, src_ext, tags, lens) = _batch(m, [sentence])
        g = greedy(m, src, src_ext, tags, lens, len(items[0].oovs), 8)[0]
        b = beam_search(m, src, src_ext, tags, lens, len(items[0].oovs), 8, beam=1)
        assert b.ids == g.ids
        assert abs(b.log_prob - g.log_prob) < 1e-4
        wide = beam_search(m, src, src_ext, tags, lens, len(items[0].oovs), 8, beam=4, alpha=0.0)
        assert wide.log_prob >= g.log_prob - 1e-4 or len(wide.ids) != len(g.ids)


def test_copy_mechanism_writes_an_out_of_vocabulary_source_word():
    from genlab.qgen.api import generate

    m = _model(copy=True)
    with torch.no_grad():  # p_gen -> 0: every word is copied; a one-word sentence gets all the attention
        m.p_gen.weight.zero_()
        m.p_gen.bias.fill_(-30.0)
    res = generate(m, ["zorblax"], beam=1, max_len=2)[0]
    assert res["tokens"][:1] == ["zorblax"]  # not in the vocabulary, written through the extended vocabulary
    res = generate(m, ["zorblax"], beam=3, max_len=2)[0]
    assert res["tokens"][0] == "zorblax"
    no_copy = _model(copy=False)
    assert "zorblax" not in generate(no_copy, ["zorblax"], beam=1, max_len=3, unk="keep")[0]["tokens"]


def test_answer_tags_and_save_load_round_trip(tmp_path):
    from genlab.core.model import load

    m = _model(answer_tags=True)
    items, batch = _batch(m, ["paris is the capital of france"], ["what is the capital ?"], ["paris"])
    assert items[0].tags[:2] == [1, 0]
    out1 = m(*batch)["loss"]
    m.save_pretrained(tmp_path / "m")
    m2 = load(tmp_path / "m")
    assert m2.config.vocab == tuple(WORDS) and m2.config.answer_tags
    assert torch.allclose(m2(*batch)["loss"], out1)


def test_beam_zero_is_refused():
    from genlab.core.errors import ConfigError

    m = _model()
    items, (src, src_ext, tags, lens) = _batch(m, ["paris"])
    with pytest.raises(ConfigError, match="--beam"):
        beam_search(m, src, src_ext, tags, lens, 0, 5, beam=0)
