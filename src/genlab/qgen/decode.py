"""Greedy decoding and beam search for :class:`genlab.qgen.models.QGen`.

Beam search keeps the ``beam`` best partial questions by log-probability; a finished question (``</s>``) is scored by
:func:`genlab.qgen.losses.length_normalised` (log-probability / length ** alpha). With ``beam=1`` it takes the single
most likely word at every step, which is exactly greedy decoding (tested). ``<pad>`` and ``<s>`` are never written.
``<unk>`` may be written; the caller replaces it with the source word the attention weighs most (Luong et al.
2015's unknown-word replacement) unless told to keep it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core.errors import ConfigError
from .data import BOS_ID, EOS_ID, PAD_ID
from .losses import EPS, length_normalised


@dataclass
class Hypothesis:
    ids: list[int]  # extended ids, without </s>
    log_prob: float
    score: float
    attention: list[torch.Tensor]  # one (S,) row per written token (and the </s> step when finished)
    finished: bool


def _banned(dist: torch.Tensor) -> torch.Tensor:
    dist = dist.clone()
    dist[:, PAD_ID] = 0.0
    dist[:, BOS_ID] = 0.0
    return dist


@torch.no_grad()
def greedy(model, src, src_ext, tags, lens, n_oov: int, max_len: int) -> list[Hypothesis]:
    """The most likely word at every step, for a batch; stops at ``</s>`` or ``max_len`` words."""
    memory, proj, mask, state = model.encode(src, tags, lens)
    y = model.start(memory)
    B = src.shape[0]
    ids: list[list[int]] = [[] for _ in range(B)]
    atts: list[list[torch.Tensor]] = [[] for _ in range(B)]
    logp = [0.0] * B
    done = [False] * B
    for _ in range(max_len + 1):
        dist, att, state = model.step(y, state, memory, proj, mask, src_ext, n_oov)
        dist = _banned(dist)
        p, y = dist.max(dim=-1)
        for b in range(B):
            if done[b]:
                continue
            logp[b] += float(torch.log(p[b].clamp_min(EPS)))
            atts[b].append(att[b, : int(lens[b])].cpu())
            if int(y[b]) == EOS_ID or len(ids[b]) == max_len:
                done[b] = True
            else:
                ids[b].append(int(y[b]))
        if all(done):
            break
    return [Hypothesis(ids[b], logp[b], logp[b], atts[b], True) for b in range(B)]


@torch.no_grad()
def beam_search(model, src, src_ext, tags, lens, n_oov: int, max_len: int, beam: int = 5,
                alpha: float = 1.0) -> Hypothesis:
    """The best question for ONE sentence (batch of 1) by beam search of width ``beam``.

    At every step each live hypothesis is extended by each word; the ``beam`` best by total log-probability go on.
    Hypotheses ending in ``</s>`` (or reaching ``max_len`` words) are set aside; search stops when ``beam`` are set
    aside or no live one is left, and the best set-aside one by length-normalised score is returned."""
    if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
        raise ConfigError(f"--beam must be an integer >= 1 (got {beam!r}); 1 is greedy decoding")
    if src.shape[0] != 1:
        raise ValueError("beam_search decodes one sentence at a time")
    memory, proj, mask, state = model.encode(src, tags, lens)
    y = model.start(memory)
    S = int(lens[0])
    live = [Hypothesis([], 0.0, 0.0, [], False)]
    finished: list[Hypothesis] = []
    for _ in range(max_len + 1):
        k = len(live)
        mem_k = memory.expand(k, -1, -1)
        proj_k = proj.expand(k, -1, -1) if proj is not None else None
        dist, att, state = model.step(y, state, mem_k, proj_k, mask.expand(k, -1), src_ext.expand(k, -1), n_oov)
        logp = torch.log(_banned(dist).clamp_min(EPS)) + torch.tensor([h.log_prob for h in live])[:, None]
        logp[_banned(dist) == 0] = float("-inf")
        flat = logp.view(-1)
        top = torch.topk(flat, min(beam, flat.numel()))
        V = dist.shape[1]
        nxt, rows, words = [], [], []
        for value, index in zip(top.values.tolist(), top.indices.tolist(), strict=True):
            r, w = divmod(index, V)
            h = live[r]
            a = [*h.attention, att[r, :S].cpu()]
            if w == EOS_ID or len(h.ids) == max_len:
                ids = h.ids  # </s>, or the length limit: max_len words, as greedy
                finished.append(Hypothesis(ids, value, length_normalised(value, len(ids) + 1, alpha), a, True))
            else:
                nxt.append(Hypothesis([*h.ids, w], value, value, a, False))
                rows.append(r)
                words.append(w)
        if len(finished) >= beam or not nxt:
            break
        live = nxt
        index = torch.tensor(rows)
        state = tuple(s[:, index] for s in state) if isinstance(state, tuple) else state[:, index]
        y = torch.tensor(words, dtype=torch.long, device=src.device)
    if not finished:  # pragma: no cover - max_len always finishes
        finished = live
    return max(finished, key=lambda h: h.score)
