"""The music family's networks: Foster's note/duration LSTM with attention, the text family's GPT over the same
tokens, and an RNN over 88-key piano-roll frames with a Bernoulli or NADE output layer."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import ConfigError
from ..core.model import GenlabModel, register_model
from ..text import GPT, GPTConfig
from .config import NoteRNNConfig, PolyConfig
from .losses import bernoulli_frame_nll, masked_mean


# ---- the note/duration model (Foster ch. 7) ------------------------------------------------------------------------

@register_model
class NoteRNN(GenlabModel):
    """Foster's "music generating RNN with attention" (Generative Deep Learning, ch. 7), made causal.

    Pitch and duration embeddings are concatenated and run through stacked LSTMs; an additive attention layer scores
    every LSTM output ``e_i = tanh(w . h_i + b)`` (Bahdanau et al. 2015's alignment, with Foster's query-free score),
    ``alpha = softmax(e)`` over the window and the context ``c = sum_i alpha_i h_i`` feeds two softmax heads (next
    pitch, next duration). Foster predicts one next note per 32-note window; here position ``t`` attends to the notes
    ``<= t`` (a causal mask), so one window trains on every position at once and the attention at the window's last
    position is exactly Foster's. ``attention="none"`` is the ablation: the heads read the last LSTM output.
    """

    model_type = "music-rnn-attention"
    family = "music"
    config_class = NoteRNNConfig

    def __init__(self, config: NoteRNNConfig) -> None:
        super().__init__(config)
        P, D = len(config.pitch_vocab), len(config.duration_vocab)
        if P < 2 or D < 2:
            raise ConfigError("the note model needs its vocabularies (pitch_vocab, duration_vocab) from the data")
        E, H = config.embed_dim, config.hidden_size
        self.pitch_emb = nn.Embedding(P, E)
        self.duration_emb = nn.Embedding(D, E)
        self.lstm = nn.LSTM(2 * E, H, config.num_layers, batch_first=True,
                            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.score = nn.Linear(H, 1) if config.attention == "additive" else None
        self.pitch_head = nn.Linear(H, P)
        self.duration_head = nn.Linear(H, D)

    def features(self, pitch: torch.Tensor, duration: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, T) token ids -> the heads' input (B, T, H) and the attention weights (B, T, T) (row t: over notes
        0..t, each row sums to 1; None without attention)."""
        x = torch.cat([self.pitch_emb(pitch), self.duration_emb(duration)], dim=-1)
        h, _ = self.lstm(x)
        h = self.drop(h)
        if self.score is None:
            return h, None
        e = torch.tanh(self.score(h)).squeeze(-1)  # (B, T)
        T = e.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool, device=e.device).tril()
        alpha = torch.softmax(e[:, None, :].expand(-1, T, -1).masked_fill(~causal, float("-inf")), dim=-1)
        return alpha @ h, alpha

    def logits(self, pitch: torch.Tensor, duration: torch.Tensor):
        c, alpha = self.features(pitch, duration)
        return self.pitch_head(c), self.duration_head(c), alpha

    @torch.no_grad()
    def step(self, pitch: torch.Tensor, duration: torch.Tensor, state=None, past: torch.Tensor | None = None):
        """One note (B,) for generation: the LSTM state is carried (one step per note, not a re-run of the window)
        and the attention reads the last ``seq_len`` outputs. Returns (pitch logits, duration logits, attention
        (B, window) or None, state, past outputs). Equal to :meth:`logits` over the first ``seq_len`` notes."""
        x = torch.cat([self.pitch_emb(pitch), self.duration_emb(duration)], dim=-1)[:, None]
        h, state = self.lstm(x, state)
        h = self.drop(h)
        past = h if past is None else torch.cat([past, h], dim=1)[:, -self.config.seq_len:]
        if self.score is None:
            c, alpha = h[:, 0], None
        else:
            alpha = torch.softmax(torch.tanh(self.score(past)).squeeze(-1), dim=-1)
            c = (alpha[:, :, None] * past).sum(1)
        return self.pitch_head(c), self.duration_head(c), alpha, state, past

    def forward(self, pitch: torch.Tensor, duration: torch.Tensor, next_pitch: torch.Tensor,
                next_duration: torch.Tensor) -> dict[str, torch.Tensor]:
        lp, ld, _ = self.logits(pitch, duration)
        pitch_ce = F.cross_entropy(lp.float().flatten(0, 1), next_pitch.flatten())
        duration_ce = F.cross_entropy(ld.float().flatten(0, 1), next_duration.flatten())
        return {"loss": pitch_ce + duration_ce, "pitch_ce": pitch_ce, "duration_ce": duration_ce}


# ---- the text family's GPT over interleaved pitch/duration tokens --------------------------------------------------

@register_model
class MusicGPT(GPT):
    """genlab.text's GPT over one stream ``p_1 d_1 p_2 d_2 ...`` (ids ``0..P-1`` pitches, ``P..P+D-1`` durations).

    The vocabularies travel in ``config.tokenizer`` (``{"kind": "music-notes", "pitch_vocab": [...],
    "duration_vocab": [...]}``); sampling masks each position to its own head."""

    model_type = "music-gpt"
    family = "music"
    config_class = GPTConfig

    @property
    def pitch_vocab(self) -> list[str]:
        return list(self.config.tokenizer["pitch_vocab"])

    @property
    def duration_vocab(self) -> list[str]:
        return list(self.config.tokenizer["duration_vocab"])


# ---- the polyphonic frame model ------------------------------------------------------------------------------------

class FrameNADE(nn.Module):
    """A NADE over the K keys of one frame (Larochelle & Murray 2011), its biases given by the RNN state as in the
    RNN-NADE of Boulanger-Lewandowski et al. 2012: ``a_k = b_h(s) + sum_{j<k} x_j W_j``,
    ``p(x_k = 1 | x_<k, s) = sigmoid(b_v(s)_k + V_k . sigmoid(a_k))`` (keys from low to high)."""

    def __init__(self, state_size: int, n_keys: int, hidden: int) -> None:
        super().__init__()
        self.b_v = nn.Linear(state_size, n_keys)
        self.b_h = nn.Linear(state_size, hidden)
        self.W = nn.Parameter(torch.randn(n_keys, hidden) * (1.0 / math.sqrt(hidden)))
        self.V = nn.Parameter(torch.randn(n_keys, hidden) * (1.0 / math.sqrt(hidden)))

    def logits(self, state: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits of every key (..., K), each given the lower keys of ``frames``."""
        contrib = frames.unsqueeze(-1) * self.W  # (..., K, Hn)
        a = self.b_h(state).unsqueeze(-2) + torch.cumsum(contrib, dim=-2) - contrib  # exclusive: keys j < k
        return self.b_v(state) + (torch.sigmoid(a) * self.V).sum(-1)

    @torch.no_grad()
    def sample(self, state: torch.Tensor, *, temperature: float = 1.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """One frame per row of ``state`` (N, S), key by key."""
        bv, a = self.b_v(state), self.b_h(state)
        out = torch.zeros(state.shape[0], self.W.shape[0], device=state.device)
        for k in range(self.W.shape[0]):
            logit = bv[:, k] + (torch.sigmoid(a) * self.V[k]).sum(-1)
            u = torch.rand(logit.shape, generator=generator).to(logit.device)
            x = (u < torch.sigmoid(logit / temperature)).float()
            out[:, k] = x
            a = a + x[:, None] * self.W[k]
        return out


@register_model
class PolyRNN(GenlabModel):
    """An RNN over piano-roll frames: ``s_t = RNN(x_{t-1}, s_{t-1})`` predicts frame ``x_t``, either with 88
    independent Bernoulli keys (the JSB benchmark's classic model, as in Chung et al. 2014) or with a NADE over the
    keys of the frame (RNN-NADE). ``forward`` returns the frame NLL in nats per step, summed over the keys."""

    model_type = "music-polyphonic"
    family = "music"
    config_class = PolyConfig

    def __init__(self, config: PolyConfig) -> None:
        super().__init__(config)
        K, H = config.n_keys, config.hidden_size
        cell = nn.LSTM if config.cell == "lstm" else nn.GRU
        self.in_drop = nn.Dropout(config.dropout)
        self.rnn = cell(K, H, config.num_layers, batch_first=True,
                        dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.out_drop = nn.Dropout(config.dropout)
        if config.output_layer == "bernoulli":
            self.head: nn.Module = nn.Linear(H, K)
        else:
            self.head = FrameNADE(H, K, config.nade_hidden)

    def states(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, K) frames -> (B, T, H): state t has seen frames 0..t-1 (a zero frame before the first)."""
        inp = torch.cat([torch.zeros_like(frames[:, :1]), frames[:, :-1]], dim=1)
        h, _ = self.rnn(self.in_drop(inp))
        return self.out_drop(h)

    def frame_nll(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, K) 0/1 frames -> (B, T) nats: -log p(x_t | x_<t), summed over the keys."""
        s = self.states(frames)
        logits = self.head(s) if isinstance(self.head, nn.Linear) else self.head.logits(s, frames)
        return bernoulli_frame_nll(logits.float(), frames)

    def forward(self, frames: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": masked_mean(self.frame_nll(frames), mask)}

    @torch.no_grad()
    def sample(self, n: int, length: int, *, temperature: float = 1.0, seed: int = 0,
               prime: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` rolls of ``length`` frames (n, length, K) as 0/1 floats, after the optional ``prime`` frames."""
        g = torch.Generator(device="cpu").manual_seed(seed)
        K = self.config.n_keys
        dev = self.device
        x = torch.zeros(n, 1, K, device=dev)
        state = None
        frames = []
        if prime is not None and len(prime):
            p = prime.to(dev).float().expand(n, -1, -1)
            _, state = self.rnn(torch.cat([x, p[:, :-1]], dim=1))
            x = p[:, -1:]
        for _ in range(length):
            h, state = self.rnn(x, state)
            h = h[:, -1]
            if isinstance(self.head, nn.Linear):
                probs = torch.sigmoid(self.head(h) / temperature).cpu()
                frame = (torch.rand(probs.shape, generator=g) < probs).float().to(dev)
            else:
                frame = self.head.sample(h, temperature=temperature, generator=g)
            frames.append(frame)
            x = frame[:, None]
        return torch.stack(frames, dim=1)
