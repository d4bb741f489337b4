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
    block_size: int = cfg_field(128, help="training sequence length (truncated back-propagation through time)")
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
        """One token (B,) in, next-token logits (B, V) out: one time step per generated token."""
        logits, state = self.logits(token[:, None], state)
        return logits[:, -1], state


@register_model
class LSTMLanguageModel(RNNLanguageModel):
    """LSTM language model (Hochreiter & Schmidhuber 1997), the seeds' char-RNN."""

    model_type = "text-lstm"
    rnn_class = nn.LSTM


@register_model
class GRULanguageModel(RNNLanguageModel):
    """GRU language model (Cho et al. 2014)."""

    model_type = "text-gru"
    rnn_class = nn.GRU


__all__ = ["RNNConfig", "TextModel", "RNNLanguageModel", "LSTMLanguageModel", "GRULanguageModel"]
