"""The music family's option dataclasses (the CLI is derived from them: every help text lives here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.config import cfg_field, check_choice, check_int, check_non_negative, check_positive
from ..core.errors import ConfigError

MODELS = ("rnn-attention", "gpt", "polyphonic", "musegan")
NOTE_MODELS = ("rnn-attention", "gpt")


def _check_dropout(p: float | None) -> None:
    if p is not None and not 0.0 <= p < 1.0:
        raise ConfigError(f"--dropout must be in [0, 1) (got {p})")


@dataclass
class MusicDataConfig:
    model: Literal["rnn-attention", "gpt", "polyphonic", "musegan"] = cfg_field(
        "rnn-attention", help="rnn-attention (Foster's note/duration LSTM with attention), gpt (the text family's GPT "
                              "over the same tokens), polyphonic (RNN over 88-key frames), musegan (4-track GAN)")
    data: str | None = cfg_field(None, metavar="FILE|DATA", help=(
        "a DATA folder from `genlab music prepare`, a JSB JSON file (polyphonic), or a built-in name: essen, "
        "chorale-soprano (note models), jsb-quarter, jsb-8th, jsb-16th (polyphonic); default: essen for the note "
        "models, jsb-quarter for polyphonic"))
    max_tunes: int | None = cfg_field(None, help="note models: use at most this many tunes of the data (a quick run)")
    transpose: int = cfg_field(0, help="polyphonic: transpose each training chorale by a random -N..N semitones "
                                       "(data augmentation; 0 = off)")

    def __post_init__(self) -> None:
        check_choice("model", self.model, MODELS)
        check_int("max_tunes", self.max_tunes, 1, allow_none=True)
        check_int("transpose", self.transpose, 0)
        if self.transpose > 12:
            raise ConfigError(f"--transpose must be at most 12 semitones (got {self.transpose})")


@dataclass
class SharedModelOptions:
    """Options every --model has, with per-model defaults (None: that model's default)."""

    hidden_size: int | None = cfg_field(None, help="RNN units per layer (gpt: embedding width) "
                                                   "(rnn-attention 256, polyphonic 192, gpt 128)")
    num_layers: int | None = cfg_field(None, help="stacked layers (rnn-attention 2, polyphonic 1, gpt 4)")
    dropout: float | None = cfg_field(None, help="dropout (rnn-attention 0.2, polyphonic 0.3, gpt 0.1)")
    seq_len: int | None = cfg_field(None, help="training window in steps (notes for the note models, frames for "
                                               "polyphonic) (rnn-attention 32, gpt 64 notes, polyphonic 64 frames)")

    def __post_init__(self) -> None:
        for name in ("hidden_size", "num_layers", "seq_len"):
            check_int(name, getattr(self, name), 1, allow_none=True)
        _check_dropout(self.dropout)


@dataclass
class NoteRNNConfig:
    """Foster ch. 7: pitch and duration embeddings, two stacked LSTMs, additive attention, two softmax heads."""

    embed_dim: int = cfg_field(100, help="size of each of the pitch and duration embeddings")
    attention: Literal["additive", "none"] = cfg_field(
        "additive", help="additive (Foster's: a score tanh(w.h_i) per input note, softmax over the window, causal) "
                         "or none (the heads read the last LSTM state: the ablation)")
    hidden_size: int = cfg_field(256, help="LSTM units per layer")
    num_layers: int = cfg_field(2, help="stacked LSTMs")
    dropout: float = cfg_field(0.2, help="dropout after each LSTM")
    seq_len: int = cfg_field(32, help="training window in notes")
    pitch_vocab: tuple[str, ...] = cfg_field((), help="pitch tokens", cli=False)
    duration_vocab: tuple[str, ...] = cfg_field((), help="duration tokens", cli=False)

    def __post_init__(self) -> None:
        for name in ("embed_dim", "hidden_size", "num_layers", "seq_len"):
            check_int(name, getattr(self, name), 1)
        check_choice("attention", self.attention, ("additive", "none"))
        _check_dropout(self.dropout)


@dataclass
class PolyConfig:
    """An RNN over 88-key piano-roll frames with a Bernoulli or NADE output per frame."""

    cell: Literal["lstm", "gru"] = cfg_field("gru", help="recurrent cell")
    output_layer: Literal["bernoulli", "nade"] = cfg_field(
        "nade", help="bernoulli: 88 independent keys given the past (the classic benchmark model); nade: the keys of a "
                     "frame one after another, low to high, each given the lower ones (RNN-NADE, Boulanger-Lewandowski "
                     "et al. 2012)")
    nade_hidden: int = cfg_field(32, help="NADE hidden units")
    hidden_size: int = cfg_field(192, help="RNN units per layer")
    num_layers: int = cfg_field(1, help="stacked RNN layers")
    dropout: float = cfg_field(0.3, help="dropout on the input frames and the RNN output")
    seq_len: int = cfg_field(64, help="training window in frames (a chorale is cut in windows of this length)")
    n_keys: int = cfg_field(88, help="keys per frame", cli=False)
    lowest_pitch: int = cfg_field(21, help="MIDI pitch of key 0", cli=False)
    steps_per_quarter: int = cfg_field(1, help="grid of the training data", cli=False)

    def __post_init__(self) -> None:
        check_choice("cell", self.cell, ("lstm", "gru"))
        check_choice("output_layer", self.output_layer, ("bernoulli", "nade"))
        for name in ("nade_hidden", "hidden_size", "num_layers", "seq_len", "n_keys", "steps_per_quarter"):
            check_int(name, getattr(self, name), 1)
        check_non_negative("lowest_pitch", self.lowest_pitch)
        _check_dropout(self.dropout)


@dataclass
class MusicGPTOptions:
    n_head: int = cfg_field(4, help="gpt: attention heads")


def check_temperature(name: str, t: float) -> None:
    if not t > 0:
        raise ConfigError(f"--{name} must be > 0 for a sampled head (got {t}); lower it towards 0.1 for "
                          f"near-greedy choices")


def check_positive_int(name: str, value: int) -> None:
    check_int(name, value, 1)
    check_positive(name, value)
