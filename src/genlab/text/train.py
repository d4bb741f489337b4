"""Train, sample and evaluate language models: the functions behind ``genlab text ...``.

    >>> from genlab import text
    >>> result = text.train(text.TextConfig(corpus="input.txt", model="gpt"), out="runs/text/shakespeare")
    >>> print(text.generate(genlab.load(result.run_dir), "ROMEO:", length=300, temperature=0.8, seed=0)[0])
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from ..core.config import cfg_field, check_choice, from_dict, to_dict
from ..core.device import resolve_device, seed_everything
from ..core.engine import RUN_CONFIG, TrainConfig, Trainer, TrainResult
from ..core.errors import ConfigError, DataError
from ..core.io import read_json, write_bytes_atomic, write_json_atomic
from ..core.model import load
from ..core.runs import resumed_configs
from ..data.text import read_text
from .data import TokenBlockDataset, split_ids
from .generate import generate
from .gpt import GPT, GPTConfig
from .model import GRULanguageModel, LSTMLanguageModel, RNNConfig, TextModel
from .sampling import check_sampling_options
from .tokenizers import fit_tokenizer

FAMILY = "text"
MODELS: dict[str, tuple[type[TextModel], type]] = {
    "lstm": (LSTMLanguageModel, RNNConfig), "gru": (GRULanguageModel, RNNConfig), "gpt": (GPT, GPTConfig)}

# Engine defaults for text: nanoGPT's AdamW recipe (warm-up, cosine decay to 10%, clip 1.0, beta2 0.99), with a
# larger batch and learning rate that, with the narrower default GPT (4 x 64), reach a lower loss per CPU second
# (benchmarks/text_gpt_shakespeare.py).
DEFAULT_TRAIN = dict(max_steps=2000, batch_size=32, lr=5e-3, optimizer="adamw", weight_decay=0.1,
                     adam_beta2=0.99, lr_schedule="cosine", warmup_steps=100, min_lr_ratio=0.1, grad_clip=1.0,
                     log_every=50, eval_every=500, sample_every=500, checkpoint_every=500)


@dataclass
class TextConfig:
    corpus: str | None = cfg_field(None, help="a UTF-8 text file to learn from", metavar="FILE")
    model: Literal["lstm", "gru", "gpt"] = cfg_field("lstm", help="language model")
    tokenizer: Literal["char", "word"] = cfg_field("char", help="character or word tokens")
    encoding: str = cfg_field("utf-8", help="the corpus's encoding (e.g. latin-1, cp1252)")
    encoding_errors: str = cfg_field("strict", help="strict|replace|ignore|backslashreplace for undecodable bytes")
    max_vocab: int = cfg_field(20000, help="word tokenizer: keep the most frequent N words")
    lowercase: bool = cfg_field(True, help="word tokenizer: lower-case the text (as the seeds do)")
    val_fraction: float = cfg_field(0.1, help="last fraction of the corpus held out for validation")

    def __post_init__(self) -> None:
        check_choice("model", self.model, tuple(MODELS))
        check_choice("tokenizer", self.tokenizer, ("char", "word"))


def default_train_config(**overrides: Any) -> TrainConfig:
    return TrainConfig(**{**DEFAULT_TRAIN, **overrides})


def _model_config(text_cfg: TextConfig, options: dict[str, Any]) -> Any:
    _, cfg_cls = MODELS[text_cfg.model]
    names = {f for f in cfg_cls.__dataclass_fields__}
    return from_dict(cfg_cls, {k: v for k, v in options.items() if k in names})


def load_corpus(cfg: TextConfig) -> str:
    if not cfg.corpus:
        raise ConfigError("--corpus FILE is required (a UTF-8 text file to learn from)")
    return read_text(cfg.corpus, encoding=cfg.encoding, errors=cfg.encoding_errors)


def train(text_config: TextConfig | None = None, model_config: RNNConfig | GPTConfig | None = None,
          train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
          overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train a language model on ``text_config.corpus``; returns the :class:`TrainResult` of the run."""
    overrides = dict(overrides or {})
    if resume:
        model_config, text_config, train_config = resumed_configs(
            out, family=FAMILY, data_class=TextConfig, overrides=overrides, model_config=model_config,
            data_config=text_config, train_config=train_config)
    text_config = text_config or TextConfig()
    train_config = train_config or default_train_config()
    text = load_corpus(text_config)
    if resume:
        tokenizer = MODELS[text_config.model][0](model_config).tokenizer
    else:
        tokenizer = fit_tokenizer(text_config.tokenizer, text, **(
            {"max_vocab": text_config.max_vocab, "lowercase": text_config.lowercase}
            if text_config.tokenizer == "word" else {}))
        model_config = model_config or _model_config(text_config, {})
        model_config = from_dict(type(model_config), {**to_dict(model_config), "vocab_size": tokenizer.vocab_size,
                                                      "tokenizer": tokenizer.to_dict()})
    ids = torch.tensor(tokenizer.encode(text, what="corpus"), dtype=torch.long)
    block = model_config.block_size
    train_ids, val_ids = split_ids(ids, val_fraction=text_config.val_fraction, block_size=block)
    chars_per_token = len(text) / max(1, len(ids))
    run_dir = Path(out) if out is not None else (
        Path("runs") / FAMILY / f"{Path(text_config.corpus).stem}-{text_config.model}-{time.strftime('%Y%m%d-%H%M%S')}")

    seed_everything(train_config.seed)
    model_cls = MODELS[text_config.model][0]
    model = model_cls(model_config)
    run_config = {"family": FAMILY, "model_type": model.model_type, "data": to_dict(text_config),
                  "corpus_tokens": len(ids), "train_tokens": len(train_ids), "val_tokens": len(val_ids)}

    def eval_fn(m: TextModel) -> dict[str, float]:
        return evaluate_ids(m, val_ids, chars_per_token=chars_per_token)

    def sample_fn(m: TextModel, stem: Path) -> None:
        sample = generate(m, "", length=300, temperature=0.8, seed=train_config.seed)[0]
        write_bytes_atomic(stem.with_suffix(".txt"), sample.encode("utf-8"))

    trainer = Trainer(model, TokenBlockDataset(train_ids, block), train_config, run_dir, run_config=run_config,
                      eval_fn=eval_fn, sample_fn=sample_fn)
    return trainer.fit(resume=resume)


@torch.no_grad()
def evaluate_ids(model: TextModel, ids: torch.Tensor, *, chars_per_token: float = 1.0,
                 batch_size: int = 64) -> dict[str, float]:
    """Mean next-token loss (nats/token) over ``ids`` in non-overlapping blocks, and bits per character.

    Every token after the first of each block is predicted once. Bits per character divide the total nats by the
    characters those tokens cover (``chars_per_token`` of the corpus; 1 for a character tokenizer).
    """
    was_training = model.training
    model.eval()
    T = model.block_size
    n_blocks = (len(ids) - 1) // T
    if n_blocks < 1:
        raise ConfigError(f"the text has {len(ids)} tokens, fewer than one block of {T + 1}")
    x = ids[: n_blocks * T].view(n_blocks, T)
    y = ids[1: n_blocks * T + 1].view(n_blocks, T)
    total, count = 0.0, 0
    for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True):
        logits = model.logits(xb.to(model.device))[0].float()
        total += float(torch.nn.functional.cross_entropy(logits.flatten(0, 1), yb.to(model.device).flatten(),
                                                         reduction="sum"))
        count += yb.numel()
    model.train(was_training)
    loss = total / count
    return {"loss": loss, "bits_per_char": loss / math.log(2) / chars_per_token, "tokens": count}


def _load_text_model(run: str | Path, device: str = "cpu") -> TextModel:
    model = load(run, device=resolve_device(device), family=FAMILY)
    assert isinstance(model, TextModel)
    return model


def _saved_text_config(run: Path) -> TextConfig | None:
    if not (run / RUN_CONFIG).exists():
        return None
    try:
        return from_dict(TextConfig, read_json(run / RUN_CONFIG, what="run config")["data"])
    except (KeyError, ConfigError):
        return None


def evaluate(run: str | Path, corpus: str | Path | None = None, *, encoding: str = "utf-8",
             encoding_errors: str = "strict", out: str | Path | None = None, device: str = "cpu") -> dict[str, Any]:
    """Loss (nats/token) and bits/char of a trained model on ``corpus`` (default: its own validation split)."""
    run = Path(run)
    model = _load_text_model(run, device)
    tok = model.tokenizer
    if corpus is None:
        saved = _saved_text_config(run)
        if saved is None or not saved.corpus:
            raise ConfigError("--corpus FILE is required (this model folder does not say what it was trained on)")
        text, source = load_corpus(saved), f"{saved.corpus} (validation split)"
    else:
        text, source = read_text(corpus, encoding=encoding, errors=encoding_errors), str(corpus)
    ids = torch.tensor(tok.encode(text, what="corpus"), dtype=torch.long)
    chars_per_token = len(text) / max(1, len(ids))
    if corpus is None:
        ids = split_ids(ids, val_fraction=saved.val_fraction, block_size=model.block_size)[1]
    if len(ids) < model.block_size + 1:
        raise DataError(f"{source} has {len(ids)} tokens, fewer than one block of {model.block_size + 1}; "
                        f"use a longer text")
    metrics = evaluate_ids(model, ids, chars_per_token=chars_per_token)
    result = {"corpus": source, "model_type": model.model_type, **metrics,
              "units": {"loss": "nats per token", "bits_per_char": "bits per character"}}
    if getattr(tok, "kind", "") == "word":
        result["unknown_tokens"] = tok.count_unknown(text)
    write_json_atomic(Path(out) if out else run / "eval.json", result)
    return result


def temperature_table(run: str | Path, prompt: str = "", *, temperatures: tuple[float, ...] = (0.2, 0.5, 1.0, 1.2),
                      length: int = 300, seed: int = 0, top_k: int | None = None, top_p: float | None = None,
                      out: str | Path | None = None, device: str = "cpu") -> Path:
    """The seeds' figure: the same prompt continued at several temperatures, side by side, as Markdown."""
    check_sampling_options(temperature=temperatures, top_k=top_k, top_p=top_p, length=length, n=1)
    model = _load_text_model(run, device)
    lines = [f"# {model.model_type}: one prompt at {len(temperatures)} temperatures", "",
             f"Prompt: `{prompt!r}`, {length} tokens, seed {seed}" + (f", top-k {top_k}" if top_k else "") +
             (f", top-p {top_p}" if top_p else ""), ""]
    for t in temperatures:
        text = generate(model, prompt, length=length, temperature=t, top_k=top_k, top_p=top_p, seed=seed)[0]
        lines += [f"## temperature {t}", "", "```", text, "```", ""]
    path = Path(out) if out else Path(run) / "samples" / "temperatures.md"
    write_bytes_atomic(path, "\n".join(lines).encode("utf-8"))
    return path
