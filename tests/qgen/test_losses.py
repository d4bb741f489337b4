"""Pointer-generator mixture, NLL and length normalisation on numbers worked out by hand."""

import math

import torch

from genlab.qgen.losses import copy_distribution, cross_entropy_loss, length_normalised, nll_loss


def test_copy_distribution_mixes_vocabulary_and_attention_by_hand():
    # vocabulary of 3, source "w2 oov0 w2" (extended ids 2, 3, 2), p_gen 0.6
    p_vocab = torch.tensor([[0.5, 0.3, 0.2]])
    att = torch.tensor([[0.25, 0.5, 0.25]])
    src_ext = torch.tensor([[2, 3, 2]])
    out = copy_distribution(p_vocab, att, src_ext, torch.tensor([[0.6]]), n_oov=1)
    # w0: .6*.5 = .30; w1: .6*.3 = .18; w2: .6*.2 + .4*(.25+.25) = .32; oov0: .4*.5 = .20
    assert torch.allclose(out, torch.tensor([[0.30, 0.18, 0.32, 0.20]]))
    assert math.isclose(float(out.sum()), 1.0, rel_tol=1e-6)


def test_copy_distribution_broadcasts_over_time_steps():
    p_vocab = torch.full((2, 4, 5), 0.2)
    att = torch.softmax(torch.randn(2, 4, 3), dim=-1)
    src_ext = torch.tensor([[0, 5, 6], [1, 1, 5]])
    out = copy_distribution(p_vocab, att, src_ext, torch.full((2, 4, 1), 0.3), n_oov=2)
    assert out.shape == (2, 4, 7)
    assert torch.allclose(out.sum(-1), torch.ones(2, 4))
    # second example: oov id 5 gets 0.7 * attention on its last position, id 6 nothing
    assert torch.allclose(out[1, :, 5], 0.7 * att[1, :, 2])
    assert torch.all(out[1, :, 6] == 0)


def test_nll_loss_is_the_masked_mean_of_minus_log_p():
    probs = torch.tensor([[[0.5, 0.5], [0.25, 0.75], [0.9, 0.1]]])
    target = torch.tensor([[0, 1, 0]])
    mask = torch.tensor([[1, 1, 0]])
    expected = -(math.log(0.5) + math.log(0.75)) / 2
    assert math.isclose(float(nll_loss(probs, target, mask)), expected, rel_tol=1e-6)
    logits = torch.log(probs)
    assert math.isclose(float(cross_entropy_loss(logits, target, mask)), expected, rel_tol=1e-5)


def test_length_normalisation():
    assert length_normalised(-6.0, 3, 1.0) == -2.0
    assert length_normalised(-6.0, 3, 0.0) == -6.0
    assert math.isclose(length_normalised(-8.0, 4, 0.5), -4.0)
