"""Language models over token ids: LSTM and GRU (the seeds' char-RNN, made stateful) and a small GPT.

Every model's ``forward(idx, targets)`` returns ``{"loss": mean cross-entropy in nats/token}`` for the engine, and
offers what fast generation needs:

- RNNs: ``prime(idx) -> (last logits, state)`` runs a prompt once; ``step(token, state)`` costs one time step, so
  each new character costs one step, not a re-encoding of a 60-character window as in the seeds.
- GPT: ``logits(idx, cache=..., start=...)`` with a key/value cache (see gpt.py).

The tokenizer travels inside the config (``config.tokenizer``), so a saved model is self-contained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.config import cfg_field, check_non_negative, check_positive
from ..core.errors import ConfigError
from ..core.model import GenlabModel, register_model


@dataclass
class RNNConfig:
    block_size: int = cfg_field(128, help="training window in tokens (each window starts from a zero state: no hidden "
                                           "state is carried between batches)")
    embedding_dim: int = cfg_field(64, help="token embedding size")
    hidden_size: int = cfg_field(256, help="RNN hidden units per layer")
    num_layers: int = cfg_field(2, help="stacked RNN layers")
    dropout: float = cfg_field(0.0, help="dropout between layers and before the output")
    vocab_size: int = cfg_field(0, help="set from the tokenizer", cli=False)
    tokenizer: dict = cfg_field(help="tokenizer (kind + vocabulary), saved with the model", cli=False,
                                default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("block_size", "embedding_dim", "hidden_size", "num_layers"):
            check_positive(name, getattr(self, name))
        _check_dropout(self.dropout)
        check_non_negative("vocab_size", self.vocab_size)


def _check_dropout(p: float) -> None:
    if not 0.0 <= p < 1.0:
        raise ConfigError(f"--dropout must be in [0, 1) (got {p})")


class TextModel(GenlabModel):
    """Shared by every text model: the tokenizer, and next-token cross-entropy."""

    family = "text"

    @property
    def tokenizer(self):
        if not hasattr(self, "_tokenizer"):
            from .tokenizers import tokenizer_from_dict
            self._tokenizer = tokenizer_from_dict(self.config.tokenizer)
        return self._tokenizer

    @property
    def block_size(self) -> int:
        return self.config.block_size

    @property
    def context_limit(self) -> int | None:
        """The most tokens the model can attend to at once: ``None`` for an RNN (its state carries any length)."""
        return None

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.logits(idx)[0]  # (B, T, V)
        loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())
        return {"loss": loss}


class RNNLanguageModel(TextModel):
    """Embedding -> stacked RNN -> linear head to the vocabulary. Subclasses pick the cell."""

    config_class = RNNConfig
    rnn_class: type[nn.RNNBase]

    def __init__(self, config: RNNConfig) -> None:
        super().__init__(config)
        if config.vocab_size < 1:
            raise ConfigError("the model needs a vocabulary (vocab_size >= 1); build it with a tokenizer")
        self.embed = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.rnn = self.rnn_class(config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
                                  dropout=config.dropout if config.num_layers > 1 else 0.0, batch_first=True)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def logits(self, idx: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """idx (B, T) -> logits (B, T, V) and the state after the last step."""
        out, state = self.rnn(self.embed(idx), state)
        return self.head(self.drop(out)), state

    @torch.no_grad()
    def prime(self, idx: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Run a prompt (B, T) once: logits for the next token (B, V) and the carried state."""
        logits, state = self.logits(idx)
        return logits[:, -1], state

    @torch.no_grad()
    def step(self, token: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """One token (B,) in, next-token logits (B, V) out: one time step per generated token.

        The cell is written out with the module's own weights (the same maths as ``nn.LSTM``/``nn.GRU``): for a
        single time step, the fused sequence kernel's per-call set-up costs more than the arithmetic.
        """
        x = self.embed(token)
        x, state = self._cell_step(x, state)
        return self.head(x), state

    def _weights(self, layer: int) -> tuple[torch.Tensor, ...]:
        rnn = self.rnn
        return (getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}"),
                getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}"))


@register_model
class LSTMLanguageModel(RNNLanguageModel):
    """LSTM language model (Hochreiter & Schmidhuber 1997), the seeds' char-RNN."""

    model_type = "text-lstm"
    rnn_class = nn.LSTM

    def _cell_step(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        h0, c0 = state  # (layers, B, H) tensors from nn.LSTM, or per-layer lists from an earlier step
        hs, cs = [], []
        H = self.config.hidden_size
        for layer in range(self.config.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._weights(layer)
            gates = torch.addmm(b_ih, x, w_ih.t()).add_(b_hh).addmm_(h0[layer], w_hh.t())
            act = torch.sigmoid(gates)  # i, f, o gates (PyTorch's order i, f, g, o); g's slot is unused
            g = torch.tanh(gates[:, 2 * H:3 * H])
            c = torch.addcmul(act[:, H:2 * H] * c0[layer], act[:, :H], g)
            x = act[:, 3 * H:] * torch.tanh(c)
            hs.append(x)
            cs.append(c)
        return x, (hs, cs)


@register_model
class GRULanguageModel(RNNLanguageModel):
    """GRU language model (Cho et al. 2014)."""

    model_type = "text-gru"
    rnn_class = nn.GRU

    def _cell_step(self, x: torch.Tensor, state: torch.Tensor):
        hs = []
        for layer in range(self.config.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._weights(layer)
            h = state[layer]
            gi = torch.addmm(b_ih, x, w_ih.t())
            gh = torch.addmm(b_hh, h, w_hh.t())
            i_r, i_z, i_n = gi.chunk(3, dim=1)  # PyTorch's gate order: reset, update, new
            h_r, h_z, h_n = gh.chunk(3, dim=1)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            x = torch.lerp(n, h, z)  # (1 - z) * n + z * h
            hs.append(x)
        return x, hs  # per-layer list; indexing works as for nn.GRU's (layers, B, H) tensor


__all__ = ["RNNConfig", "TextModel", "RNNLanguageModel", "LSTMLanguageModel", "GRULanguageModel"]
