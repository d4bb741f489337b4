"""Losses and mixtures of the question generator (pure functions, checked on hand numbers in tests/qgen).

The pointer-generator (See, Liu & Manning 2017, "Get To The Point: Summarization with Pointer-Generator Networks",
eq. 9) writes the next word from a mixture of the decoder's softmax over the vocabulary and its attention over the
source words:

    P(w) = p_gen * P_vocab(w) + (1 - p_gen) * sum_{i: x_i = w} a_i

over the *extended* vocabulary (the vocabulary plus the source's out-of-vocabulary words), so a word the model has
no embedding for can still be written when it is in the sentence. The loss is the negative log-likelihood of the
reference question under that mixture (their eq. 6), averaged over the question's tokens (``</s>`` included).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-12


def copy_distribution(p_vocab: torch.Tensor, attention: torch.Tensor, src_ext: torch.Tensor, p_gen: torch.Tensor,
                      n_oov: int) -> torch.Tensor:
    """The pointer-generator's output distribution over the extended vocabulary.

    ``p_vocab`` (..., V) softmax over the vocabulary; ``attention`` (..., S) attention over the source (sums to 1);
    ``src_ext`` (B, S) the source's extended ids (broadcast over the middle dims of ``attention``); ``p_gen`` (..., 1)
    the probability of generating rather than copying. Returns (..., V + n_oov), summing to 1.
    """
    gen = p_gen * p_vocab
    if n_oov > 0:
        gen = torch.cat([gen, gen.new_zeros(*gen.shape[:-1], n_oov)], dim=-1)
    index = src_ext
    while index.dim() < attention.dim():
        index = index.unsqueeze(1)
    index = index.expand_as(attention)
    return gen.scatter_add(-1, index, (1.0 - p_gen) * attention)


def nll_loss(probs: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean -log P(target) over the positions where ``mask`` is true (``probs`` (B, T, V'), ``target`` (B, T))."""
    p = probs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    nll = -torch.log(p.clamp_min(EPS))
    m = mask.to(nll.dtype)
    return (nll * m).sum() / m.sum().clamp_min(1.0)


def cross_entropy_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Without copying: the ordinary softmax cross-entropy over the vocabulary (targets outside it are ``<unk>``)."""
    nll = F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none").view_as(target)
    m = mask.to(nll.dtype)
    return (nll * m).sum() / m.sum().clamp_min(1.0)


def length_normalised(log_prob: float, length: int, alpha: float) -> float:
    """The beam's score of a hypothesis: its log-probability divided by ``length ** alpha`` (alpha 0: none; 1: the
    mean log-probability per token), so that beam search does not favour short questions (Wu et al. 2016 use a
    softer ((5 + length) / 6) ** alpha; this is the plain form of Koehn's / OpenNMT's average)."""
    return log_prob / (max(1, length) ** alpha)
