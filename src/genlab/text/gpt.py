"""A small GPT (decoder-only Transformer) in the spirit of nanoGPT, with a key/value cache for generation.

Attention goes through ``torch.nn.functional.scaled_dot_product_attention`` (flash / memory-efficient kernels
where the device has them). ``logits(idx, cache=cache, start=pos)`` appends the new keys/values to ``cache`` so that
generating one token costs one position, not the whole window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..core.config import cfg_field, check_non_negative, check_positive
from ..core.errors import ConfigError
from ..core.model import register_model
from .model import TextModel, _check_dropout


@dataclass
class GPTConfig:
    block_size: int = cfg_field(64, help="context length in tokens")
    n_layer: int = cfg_field(4, help="Transformer blocks")
    n_head: int = cfg_field(4, help="attention heads")
    n_embd: int = cfg_field(64, help="embedding width")
    dropout: float = cfg_field(0.0, help="dropout in attention and MLP")
    bias: bool = cfg_field(False, help="biases in Linear and LayerNorm layers")
    vocab_size: int = cfg_field(0, help="set from the tokenizer", cli=False)
    tokenizer: dict = cfg_field(help="tokenizer (kind + vocabulary), saved with the model", cli=False,
                                default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("block_size", "n_layer", "n_head", "n_embd"):
            check_positive(name, getattr(self, name))
        if self.n_embd % self.n_head:
            raise ConfigError(f"--n-embd ({self.n_embd}) must be divisible by --n-head ({self.n_head})")
        _check_dropout(self.dropout)
        check_non_negative("vocab_size", self.vocab_size)


class KVCache:
    """Per-layer keys and values, each (B, n_head, T_cached, head_dim)."""

    def __init__(self, n_layer: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * n_layer
        self.values: list[torch.Tensor | None] = [None] * n_layer

    @property
    def length(self) -> int:
        return 0 if self.keys[0] is None else self.keys[0].shape[2]


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = cfg.dropout
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, cache: KVCache | None, layer: int) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        if cache is not None:
            if cache.keys[layer] is not None:
                k = torch.cat([cache.keys[layer], k], dim=2)
                v = torch.cat([cache.values[layer], v], dim=2)
            cache.keys[layer], cache.values[layer] = k, v
        # New queries see every cached key (all earlier) and, among themselves, only the past: causal when there is
        # no cache prefix; for one new token (the generation step) nothing needs masking.
        past = k.shape[2] - T
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                               dropout_p=self.dropout if self.training else 0.0)
        elif T == 1:
            y = F.scaled_dot_product_attention(q, k, v)
        else:
            mask = torch.ones(T, k.shape[2], dtype=torch.bool, device=x.device).tril(diagonal=past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_drop(self.proj(y))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias), nn.GELU(),
                                 nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias), nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor, cache: KVCache | None, layer: int) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), cache, layer)
        return x + self.mlp(self.ln2(x))


@register_model
class GPT(TextModel):
    """GPT-2-style decoder (Radford et al. 2019): token + learned position embeddings, pre-LayerNorm blocks."""

    model_type = "text-gpt"
    config_class = GPTConfig

    def __init__(self, config: GPTConfig) -> None:
        super().__init__(config)
        if config.vocab_size < 1:
            raise ConfigError("the model needs a vocabulary (vocab_size >= 1); build it with a tokenizer")
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying (Press & Wolf 2017), as GPT-2
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2's scaled init of residual projections
            if name.endswith("attn.proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @property
    def context_limit(self) -> int:
        """A GPT attends to at most ``block_size`` tokens (its position embeddings)."""
        return self.config.block_size

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def logits(self, idx: torch.Tensor, cache: KVCache | None = None) -> tuple[torch.Tensor, KVCache | None]:
        """idx (B, T) -> logits (B, T, V). With a cache, ``idx`` continues the cached sequence."""
        start = cache.length if cache is not None else 0
        T = idx.shape[1]
        if start + T > self.config.block_size:
            raise ConfigError(f"sequence of {start + T} tokens is longer than the context of "
                              f"{self.config.block_size}")
        pos = torch.arange(start, start + T, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for i, block in enumerate(self.blocks):
            x = block(x, cache, i)
        return self.head(self.ln_f(x)), cache

    @torch.no_grad()
    def prime(self, idx: torch.Tensor) -> tuple[torch.Tensor, KVCache]:
        """Run a prompt (B, T <= block_size) once, filling a fresh cache; next-token logits (B, V)."""
        cache = KVCache(self.config.n_layer)
        logits, _ = self.logits(idx, cache)
        return logits[:, -1], cache

    @torch.no_grad()
    def step(self, token: torch.Tensor, cache: KVCache) -> tuple[torch.Tensor, KVCache]:
        logits, _ = self.logits(token[:, None], cache)
        return logits[:, -1], cache
