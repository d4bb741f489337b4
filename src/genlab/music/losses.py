"""Losses and baselines of the music family: pure functions, each unit-tested on numbers computed by hand.

Frame NLL follows the convention of the polyphonic-music literature (Boulanger-Lewandowski, Bengio & Vincent 2012,
"Modeling temporal dependencies in high-dimensional sequences"; Chung et al. 2014, "Empirical evaluation of gated
recurrent neural networks on sequence modeling", table 2): the negative log-likelihood of a frame is summed over its
88 keys, and the figure reported is the mean over every time step of the split (nats per step).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np
import torch
import torch.nn.functional as F


def bernoulli_frame_nll(logits: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """-log p(frame) under independent Bernoulli keys, per step: (..., K) logits and 0/1 frames -> (...) nats.

    ``-sum_k [x_k log s(l_k) + (1 - x_k) log(1 - s(l_k))]``, computed stably from the logits.
    """
    return F.binary_cross_entropy_with_logits(logits, frames, reduction="none").sum(-1)


def masked_mean(per_step: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of per-step values over the steps where ``mask`` is 1 (the convention: mean over all steps)."""
    return (per_step * mask).sum() / mask.sum().clamp_min(1.0)


# ---- piano-roll baselines ------------------------------------------------------------------------------------------

def independent_bernoulli_fit(rolls: Sequence[np.ndarray], *, alpha: float = 0.5) -> np.ndarray:
    """p_k = (frames with key k on + alpha) / (frames + 2 alpha): one probability per key, ignoring time."""
    on = sum(r.sum(0) for r in rolls).astype(np.float64)
    n = float(sum(len(r) for r in rolls))
    return (on + alpha) / (n + 2 * alpha)


def independent_bernoulli_nll(p: np.ndarray, rolls: Sequence[np.ndarray]) -> float:
    """Mean over all steps of -sum_k log p(x_k) under the per-key probabilities ``p``."""
    total, steps = 0.0, 0
    lp, lq = np.log(p), np.log1p(-p)
    for r in rolls:
        x = r.astype(np.float64)
        total -= float((x * lp + (1 - x) * lq).sum())
        steps += len(r)
    return total / steps


def markov_fit(rolls: Sequence[np.ndarray], *, alpha: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Per-key first-order Markov chains: ``P[k, a]`` = p(key k on now | it was ``a`` (0/1) one step before), with
    add-alpha smoothing; the first step of a piece uses the per-key marginal (returned second)."""
    counts = np.zeros((rolls[0].shape[1], 2, 2))  # key, previous, current
    for r in rolls:
        prev, cur = r[:-1].astype(int), r[1:].astype(int)
        for a in (0, 1):
            for b in (0, 1):
                counts[:, a, b] += ((prev == a) & (cur == b)).sum(0)
    trans = (counts[:, :, 1] + alpha) / (counts.sum(-1) + 2 * alpha)
    return trans, independent_bernoulli_fit(rolls, alpha=alpha)


def markov_nll(trans: np.ndarray, first: np.ndarray, rolls: Sequence[np.ndarray]) -> float:
    """Mean over all steps of the per-key Markov chains' -log p(frame) (the first frame from the marginal)."""
    total, steps = 0.0, 0
    for r in rolls:
        x = r.astype(np.float64)
        p = np.empty_like(x)
        p[0] = first
        p[1:] = trans[np.arange(x.shape[1])[None, :], r[:-1].astype(int)]
        total -= float((x * np.log(p) + (1 - x) * np.log1p(-p)).sum())
        steps += len(r)
    return total / steps


# ---- token baselines (the note/duration model) ---------------------------------------------------------------------

class WittenBellNGram:
    """An n-gram model with Witten-Bell interpolation (Witten & Bell 1991; Chen & Goodman 1998, section 2.4):
    ``p(w | h) = (c(h, w) + N1+(h .) p(w | h')) / (c(h) + N1+(h .))``, down to an add-one unigram over the vocabulary.

    Trained on sequences (each starts with the history padded by ``start``); scores in nats.
    """

    def __init__(self, n: int, vocab: Sequence[Hashable], start: Hashable = "<s>") -> None:
        if n < 1:
            raise ValueError("n >= 1")
        self.n, self.vocab, self.start = n, list(vocab), start
        self.counts: list[Counter] = [Counter() for _ in range(n)]  # order m: (history..., w) -> count
        self.hist: list[Counter] = [Counter() for _ in range(n)]  # order m: history -> count
        self.types: list[Counter] = [Counter() for _ in range(n)]  # order m: history -> distinct continuations

    def fit(self, sequences: Sequence[Sequence[Hashable]]) -> WittenBellNGram:
        for seq in sequences:
            padded = [self.start] * (self.n - 1) + list(seq)
            for i in range(self.n - 1, len(padded)):
                w = padded[i]
                for m in range(self.n):
                    h = tuple(padded[i - m:i])
                    key = h + (w,)
                    if self.counts[m][key] == 0:
                        self.types[m][h] += 1
                    self.counts[m][key] += 1
                    self.hist[m][h] += 1
        return self

    def prob(self, history: Sequence[Hashable], w: Hashable) -> float:
        V = len(self.vocab)
        p = (self.counts[0][(w,)] + 1.0) / (self.hist[0][()] + V)
        for m in range(1, self.n):
            h = tuple(history[len(history) - m:]) if m <= len(history) else None
            if h is None:
                break
            c_h, t_h = self.hist[m][h], self.types[m][h]
            if c_h == 0:
                continue
            p = (self.counts[m][h + (w,)] + t_h * p) / (c_h + t_h)
        return p

    def cross_entropy(self, sequences: Sequence[Sequence[Hashable]]) -> tuple[float, int]:
        """(mean nats per token, tokens scored) over ``sequences``."""
        total, count = 0.0, 0
        for seq in sequences:
            padded = [self.start] * (self.n - 1) + list(seq)
            for i in range(self.n - 1, len(padded)):
                total -= math.log(self.prob(padded[i - self.n + 1:i], padded[i]))
                count += 1
        return total / max(count, 1), count


def longest_copied_ngram(sample: Sequence[Hashable], training: Sequence[Sequence[Hashable]]) -> tuple[int, int]:
    """The longest run of consecutive tokens of ``sample`` that also occurs, in order, in one training sequence:
    (its length, where it starts in the sample). A memorisation check: long copies mean the model recites."""
    index: dict[Hashable, str] = {}

    def enc(seq: Sequence[Hashable]) -> str:
        return "".join(chr(0x100 + index.setdefault(t, len(index))) for t in seq)

    corpus = "\x00".join(enc(s) for s in training)
    s = enc(sample)
    best, where = 0, 0
    for i in range(len(s)):
        while i + best < len(s) and s[i:i + best + 1] in corpus:
            best += 1
            where = i
    return best, where
