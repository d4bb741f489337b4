"""The question generator: Foster's chapter-6 encoder-decoder made sound.

* a bidirectional GRU (or LSTM) encoder over word embeddings, with answer-position (BIO) tag embeddings when the
  training data gave answers (Zhou et al. 2017's answer-aware features; Foster's answer tagger gives the same input),
* a GRU/LSTM decoder with attention in Luong et al. 2015's arrangement (attention from the decoder's current state
  ``s_t``, combined as ``tanh(W_c [s_t; c_t])`` before the softmax; no input feeding, so the decoder recurrence runs
  as one fused RNN call over the question, which keeps training fast on a CPU), with either Bahdanau et al. 2015's
  additive score ``v^T tanh(W_h h_i + W_s s_t)`` (``--attention bahdanau``) or Luong's "general" score
  ``s_t^T W h_i`` (``--attention luong``),
* optional copying (pointer-generator, :func:`genlab.qgen.losses.copy_distribution`) over the extended vocabulary,
* output embeddings tied to the input embeddings (Press & Wolf 2017; fewer parameters for a small data set),
* teacher forcing in :meth:`QGen.forward`; greedy and beam search (length-normalised) in :mod:`genlab.qgen.decode`.

The vocabulary is part of the config, so a saved model is self-contained (``config.json`` + ``model.safetensors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..core.config import cfg_field, check_choice, check_int
from ..core.errors import ConfigError
from ..core.model import GenlabModel
from .data import BOS_ID, PAD_ID, SPECIALS, UNK_ID
from .losses import copy_distribution, nll_loss


@dataclass
class QGenConfig:
    vocab: tuple[str, ...] = cfg_field((), help="the vocabulary (set from the training data)", cli=False)
    answer_tags: bool = cfg_field(False, help="answer-position features (set when the data has answers)", cli=False)
    emb_dim: int = cfg_field(100, help="word embedding size")
    hidden: int = cfg_field(128, help="encoder hidden size per direction (the decoder gets twice this)")
    rnn: Literal["gru", "lstm"] = cfg_field("gru", help="recurrent cell of encoder and decoder")
    enc_layers: int = cfg_field(1, help="bidirectional encoder layers")
    attention: Literal["bahdanau", "luong"] = cfg_field("luong", help="attention score: luong (general, bilinear; "
                                                                      "fast) or bahdanau (additive)")
    copy: bool = cfg_field(True, help="pointer-generator copying of source words (extended vocabulary)")
    tag_dim: int = cfg_field(16, help="answer tag embedding size (with answers)")
    dropout: float = cfg_field(0.3, help="dropout on embeddings and decoder outputs")
    max_src_len: int = cfg_field(100, help="sentences longer than this many tokens are truncated (counted)")
    max_tgt_len: int = cfg_field(40, help="questions longer than this are truncated in training; the decoding limit")

    def __post_init__(self) -> None:
        if isinstance(self.vocab, list):
            self.vocab = tuple(self.vocab)
        if self.vocab and tuple(self.vocab[: len(SPECIALS)]) != SPECIALS:
            raise ConfigError("a question-generation vocabulary must start with <pad> <unk> <s> </s>")
        for name in ("emb_dim", "hidden", "enc_layers", "tag_dim", "max_src_len", "max_tgt_len"):
            check_int(name, getattr(self, name), 1)
        check_choice("rnn", self.rnn, ("gru", "lstm"))
        check_choice("attention", self.attention, ("bahdanau", "luong"))
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"--dropout must be in [0, 1) (got {self.dropout})")


class QGen(GenlabModel):
    model_type = "qgen-seq2seq"
    family = "qgen"
    config_class = QGenConfig

    def __init__(self, config: QGenConfig) -> None:
        super().__init__(config)
        c = config
        V = max(len(c.vocab), len(SPECIALS))
        E, H = c.emb_dim, c.hidden
        self.D = D = 2 * H
        self.embed = nn.Embedding(V, E, padding_idx=PAD_ID)
        self.tag_embed = nn.Embedding(3, c.tag_dim) if c.answer_tags else None
        rnn = nn.GRU if c.rnn == "gru" else nn.LSTM
        self.encoder = rnn(E + (c.tag_dim if c.answer_tags else 0), H, num_layers=c.enc_layers, batch_first=True,
                           bidirectional=True, dropout=c.dropout if c.enc_layers > 1 else 0.0)
        self.bridge = nn.Linear(2 * H, D)
        self.decoder = rnn(E, D, batch_first=True)
        if c.attention == "bahdanau":
            self.att_h = nn.Linear(2 * H, D, bias=False)
            self.att_s = nn.Linear(D, D)
            self.att_v = nn.Linear(D, 1, bias=False)
        else:
            self.att_w = nn.Linear(D, 2 * H, bias=False)
        self.combine = nn.Linear(D + 2 * H, E)
        self.out_bias = nn.Parameter(torch.zeros(V))
        self.p_gen = nn.Linear(2 * H + D + E, 1) if c.copy else None
        self.drop = nn.Dropout(c.dropout)

    @property
    def vocab_size(self) -> int:
        return self.embed.num_embeddings

    # ---- encoder -----------------------------------------------------------------------------------------------
    def encode(self, src: torch.Tensor, tags: torch.Tensor, lens: torch.Tensor):
        """(memory (B, S, 2H), its attention projection or None, mask (B, S), initial decoder state)."""
        x = self.drop(self.embed(src))
        if self.tag_embed is not None:
            x = torch.cat([x, self.tag_embed(tags)], dim=-1)
        packed = nn.utils.rnn.pack_padded_sequence(x, lens.cpu(), batch_first=True, enforce_sorted=False)
        out, last = self.encoder(packed)
        memory, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        h = last[0] if isinstance(last, tuple) else last  # (layers * 2, B, H)
        h = torch.cat([h[-2], h[-1]], dim=-1)  # last layer, forward and backward
        s0 = torch.tanh(self.bridge(h))[None]  # (1, B, D)
        state = (s0, torch.zeros_like(s0)) if self.config.rnn == "lstm" else s0
        mask = torch.arange(src.shape[1], device=src.device)[None, :] < lens.to(src.device)[:, None]
        proj = self.att_h(memory) if self.config.attention == "bahdanau" else None
        return memory, proj, mask, state

    # ---- decoder: states, attention, output distribution (any number of steps at once) -----------------------
    def decode(self, y_in: torch.Tensor, state, memory: torch.Tensor, proj: torch.Tensor | None,
               mask: torch.Tensor, src_ext: torch.Tensor, n_oov: int):
        """Decoder over the input words ``y_in`` (B, T): (distribution over the extended vocabulary (B, T, V +
        n_oov), attention (B, T, S), final state). Without copying the distribution is the softmax over the
        vocabulary with n_oov columns of zeros appended, so ids line up."""
        y_in = torch.where(y_in >= self.vocab_size, torch.full_like(y_in, UNK_ID), y_in)
        x = self.drop(self.embed(y_in))  # (B, T, E)
        s, state = self.decoder(x, state)  # (B, T, D)
        if proj is not None:  # Bahdanau's additive score v^T tanh(W_h h_i + W_s s_t)
            scores = self.att_v(torch.tanh(proj[:, None, :, :] + self.att_s(s)[:, :, None, :])).squeeze(-1)
        else:  # Luong's general score s_t^T W h_i
            scores = torch.bmm(self.att_w(s), memory.transpose(1, 2))
        scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        att = torch.softmax(scores, dim=-1)  # (B, T, S)
        ctx = torch.bmm(att, memory)  # (B, T, 2H)
        o = self.drop(torch.tanh(self.combine(torch.cat([s, ctx], dim=-1))))
        logits = F.linear(o, self.embed.weight, self.out_bias)
        p_vocab = torch.softmax(logits.float(), dim=-1)
        if self.p_gen is not None:
            p_gen = torch.sigmoid(self.p_gen(torch.cat([ctx, s, x], dim=-1))).float()
            dist = copy_distribution(p_vocab, att.float(), src_ext, p_gen, n_oov)
        elif n_oov:
            dist = torch.cat([p_vocab, p_vocab.new_zeros(*p_vocab.shape[:-1], n_oov)], dim=-1)
        else:
            dist = p_vocab
        return dist, att, state

    def step(self, y_prev: torch.Tensor, state, memory, proj, mask, src_ext, n_oov: int):
        """One decoding step for inference: (distribution (B, V + n_oov), attention (B, S), new state)."""
        dist, att, state = self.decode(y_prev[:, None], state, memory, proj, mask, src_ext, n_oov)
        return dist[:, 0], att[:, 0], state

    def start(self, memory: torch.Tensor) -> torch.Tensor:
        return torch.full((memory.shape[0],), BOS_ID, dtype=torch.long, device=memory.device)

    # ---- teacher forcing ---------------------------------------------------------------------------------------
    def forward(self, src, src_ext, tags, lens, tgt_in, tgt_out, n_oov) -> dict[str, torch.Tensor]:
        """Teacher forcing: the reference question's previous word is the input at every step. Returns the mean
        NLL per question token (``</s>`` included) under the model's (copy) distribution."""
        n_oov = int(n_oov)
        if self.p_gen is None:  # nothing can be copied: a word outside the vocabulary is <unk>
            tgt_out = torch.where(tgt_out >= self.vocab_size, torch.full_like(tgt_out, UNK_ID), tgt_out)
        memory, proj, mask, state = self.encode(src, tags, lens)
        dist, _, _ = self.decode(tgt_in, state, memory, proj, mask, src_ext, n_oov)
        m = (tgt_out != PAD_ID).float()
        loss = nll_loss(dist, tgt_out, m)
        oov = ((tgt_out >= self.vocab_size).float() * m).sum() / m.sum().clamp_min(1.0)
        return {"loss": loss, "oov_target_share": oov.detach()}
