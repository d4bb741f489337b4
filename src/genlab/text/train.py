"""Train, sample and evaluate language models: the functions behind ``genlab text ...``.

    >>> from genlab import text
    >>> result = text.train(data_config=text.TextConfig(corpus="input.txt", model="gpt"), out="runs/text/shakespeare")
    >>> print(text.sample(result.run_dir, prompt="ROMEO:", length=300, temperature=0.8)[0])
    >>> text.evaluate(result.run_dir)["bits_per_char"]
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from ..core.config import cfg_field, check_choice, from_dict, replace, to_dict
from ..core.device import resolve_device, seed_everything
from ..core.engine import RUN_CONFIG, TrainConfig, Trainer, TrainResult
from ..core.errors import ConfigError, DataError
from ..core.io import read_json, write_bytes_atomic, write_json_atomic
from ..core.checkpoint import latest_checkpoint
from ..core.model import load, read_model_config
from ..core.runs import resumed_configs
from ..data.text import read_text
from .data import TokenBlockDataset, split_ids
from .generate import generate
from .gpt import GPT, GPTConfig
from .model import GRULanguageModel, LSTMLanguageModel, RNNConfig, TextModel
from .sampling import check_sampling_options
from .tokenizers import UNKNOWN_MODES, fit_tokenizer

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
    corpus: str | None = cfg_field(None, help="a UTF-8 text file to learn from (stored as an absolute path)",
                                   metavar="FILE")
    model: Literal["lstm", "gru", "gpt"] = cfg_field("lstm", help="language model")
    tokenizer: Literal["char", "word", "bpe"] = cfg_field("char", help="character, word or byte-level BPE (subword) "
                                                                      "tokens")
    encoding: str = cfg_field("utf-8", help="the corpus's encoding (e.g. latin-1, cp1252)")
    encoding_errors: str = cfg_field("strict", help="strict|replace|ignore|backslashreplace for undecodable bytes")
    max_vocab: int = cfg_field(20000, help="word tokenizer: keep the most frequent N words")
    lowercase: bool = cfg_field(True, help="word tokenizer: lower-case the text (as the seeds do)")
    vocab_size: int = cfg_field(1000, help="bpe tokenizer: vocabulary size (256 byte tokens + merges learned on "
                                           "the corpus)")
    val_fraction: float = cfg_field(0.1, help="last fraction of the corpus held out for validation")

    def __post_init__(self) -> None:
        check_choice("model", self.model, tuple(MODELS))
        check_choice("tokenizer", self.tokenizer, ("char", "word", "bpe"))


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


def _absolute(path: str | None) -> str | None:
    """The corpus as an absolute path, so the run's train_config.json works from any directory (trial #7)."""
    return None if not path else os.path.abspath(os.path.expanduser(path))


# Options that define the tokenizer or the architecture: they are fixed by the run's checkpoint.
_FIXED_ON_RESUME = ("model", "tokenizer", "max_vocab", "lowercase", "vocab_size")


def _check_resume_overrides(out: str | Path | None, overrides: dict[str, Any]) -> None:
    """Refuse ``--model`` / tokenizer options that differ from the run being resumed, in one line."""
    typed = [k for k in _FIXED_ON_RESUME if k in overrides]
    if not typed or out is None:
        return
    run = Path(out)
    ckpt = latest_checkpoint(run) if run.is_dir() else None
    if ckpt is None or not (run / RUN_CONFIG).exists():
        return  # resumed_configs says what is missing
    saved = read_json(run / RUN_CONFIG, what="run config").get("data", {})
    model_type = str(read_model_config(ckpt).get("model_type", ""))
    saved_model = model_type.removeprefix("text-") or saved.get("model")
    if "model" in overrides and overrides["model"] != saved_model:
        raise ConfigError(f"the run in {run} is a {saved_model} model; drop --model or start a new run")
    changed = [k for k in typed if k != "model" and k in saved and saved[k] != overrides[k]]
    if changed:
        flags = ", ".join("--" + k.replace("_", "-") for k in changed)
        raise ConfigError(f"cannot change {flags} when resuming {run} (the tokenizer is saved with the model); "
                          f"drop {'it' if len(changed) == 1 else 'them'} or start a new run")


def train(model_config: RNNConfig | GPTConfig | None = None, data_config: TextConfig | None = None,
          train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
          overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train a language model on ``data_config.corpus``; returns the :class:`TrainResult` of the run.

    ``model_config`` (an :class:`RNNConfig` for ``model="lstm"``/``"gru"``, a :class:`GPTConfig` for ``"gpt"``)
    defaults to that model's defaults; ``train_config`` to :data:`DEFAULT_TRAIN`. ``resume=True`` continues the run
    in ``out`` with ``overrides`` (field -> value, as typed on the command line). The old order
    ``train(TextConfig, model_config, train_config)`` is still accepted.
    """
    if isinstance(model_config, TextConfig) or isinstance(data_config, (RNNConfig, GPTConfig)):
        model_config, data_config = data_config, model_config  # the order before issue 11: data first
    overrides = dict(overrides or {})
    if "corpus" in overrides:
        overrides["corpus"] = _absolute(overrides["corpus"])
    if resume:
        _check_resume_overrides(out, overrides)
        model_config, data_config, train_config = resumed_configs(
            out, family=FAMILY, data_class=TextConfig, overrides=overrides, model_config=model_config,
            data_config=data_config, train_config=train_config)
    data_config = data_config or TextConfig()
    if data_config.corpus:
        data_config = replace(data_config, corpus=_absolute(data_config.corpus))
    train_config = train_config or default_train_config()
    model_cls, cfg_cls = MODELS[data_config.model]
    if model_config is not None and not isinstance(model_config, cfg_cls):
        raise ConfigError(f"model={data_config.model!r} needs a {cfg_cls.__name__}, got "
                          f"{type(model_config).__name__}")
    text = load_corpus(data_config)
    if resume:
        tokenizer = model_cls(model_config).tokenizer
    else:
        tokenizer = fit_tokenizer(data_config.tokenizer, text, **(
            {"max_vocab": data_config.max_vocab, "lowercase": data_config.lowercase}
            if data_config.tokenizer == "word" else
            {"vocab_size": data_config.vocab_size} if data_config.tokenizer == "bpe" else {}))
        model_config = model_config or _model_config(data_config, {})
        model_config = from_dict(type(model_config), {**to_dict(model_config), "vocab_size": tokenizer.vocab_size,
                                                      "tokenizer": tokenizer.to_dict()})
    ids = torch.tensor(tokenizer.encode(text, what="corpus"), dtype=torch.long)
    block = model_config.block_size
    train_ids, val_ids = split_ids(ids, val_fraction=data_config.val_fraction, block_size=block)
    chars_per_token = len(text) / max(1, len(ids))
    run_dir = Path(out) if out is not None else (
        Path("runs") / FAMILY / f"{Path(data_config.corpus).stem}-{data_config.model}-{time.strftime('%Y%m%d-%H%M%S')}")

    seed_everything(train_config.seed)
    model = model_cls(model_config)
    run_config = {"family": FAMILY, "model_type": model.model_type, "data": to_dict(data_config),
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


def _load_text_model(run: str | Path, device: str = "auto") -> TextModel:
    model = load(run, device=resolve_device(device), family=FAMILY)
    assert isinstance(model, TextModel)
    return model


def _model_and_run(model_or_run: TextModel | str | Path, device: str) -> tuple[TextModel, Path | None]:
    """A loaded model stays where it is; a run or saved-model folder is loaded onto ``device``."""
    if isinstance(model_or_run, TextModel):
        return model_or_run, None
    if isinstance(model_or_run, torch.nn.Module):
        raise ConfigError(f"{type(model_or_run).__name__} is not a text model; pass a text model or its run folder")
    return _load_text_model(model_or_run, device), Path(model_or_run)


def _saved_text_config(run: Path) -> TextConfig | None:
    if not (run / RUN_CONFIG).exists():
        return None
    try:
        return from_dict(TextConfig, read_json(run / RUN_CONFIG, what="run config")["data"])
    except (KeyError, ConfigError):
        return None


# Above this share of unknown tokens the loss says more about the vocabulary than about the model.
UNKNOWN_WARN_SHARE = 0.05


def unknown_warning(result: dict[str, Any]) -> str | None:
    """The loud line for an evaluation whose text the model mostly does not know, else None."""
    share = result.get("unknown_share", 0.0)
    if share <= UNKNOWN_WARN_SHARE:
        return None
    return (f"warning: {100 * share:.1f} % of tokens are unknown to this model (more than "
            f"{100 * UNKNOWN_WARN_SHARE:.0f} %); the loss is not comparable with its validation loss")


def evaluate(model_or_run: TextModel | str | Path, *, data_config: TextConfig | None = None,
             corpus: str | Path | None = None, out: str | Path | None = None, output: str | Path | None = None,
             device: str = "auto", unknown: str | None = None, encoding: str = "utf-8",
             encoding_errors: str = "strict") -> dict[str, Any]:
    """Loss (nats/token), bits/char and the share of unknown tokens of a model on a text.

    The text is ``corpus`` (or ``data_config.corpus``, read with its encoding), else the run's own validation split.
    ``unknown`` says what happens to what the model never saw: ``"refuse"`` (the default for a character model),
    ``"map"`` (a character model's :attr:`~CharTokenizer.replacement`; a word model's ``<unk>``, its default) or
    ``"skip"``. The result is written to ``output``, else ``out/eval.json``, else ``RUN/eval.json`` (not written for
    a model passed without a run folder and without ``out``/``output``).
    """
    model, run = _model_and_run(model_or_run, device)
    path = _output_path(out, output, default_dir=run, filename="eval.json", suffixes=(".json",))
    tok = model.tokenizer
    mode = unknown or ("map" if tok.kind == "word" else "refuse")
    if mode not in UNKNOWN_MODES:
        raise ConfigError(f"--unknown must be one of {', '.join(UNKNOWN_MODES)} (got {mode!r})")
    if corpus is None and data_config is not None and data_config.corpus:
        corpus, encoding, encoding_errors = data_config.corpus, data_config.encoding, data_config.encoding_errors
    if corpus is None:
        saved = _saved_text_config(run) if run is not None else None
        if saved is None or not saved.corpus:
            raise ConfigError("--corpus FILE is required (this model folder does not say what it was trained on)")
        text, source = load_corpus(saved), f"{saved.corpus} (validation split)"
    else:
        text, source = read_text(corpus, encoding=encoding, errors=encoding_errors), str(corpus)
    what = "corpus" if corpus is None else f"corpus {corpus}"
    n_unknown = tok.count_unknown(text)
    ids = torch.tensor(tok.encode(text, what=what, unknown=mode,
                                  hint="pass --unknown map (replace them) or --unknown skip (drop them)"),
                       dtype=torch.long)
    n_tokens = len(ids) + (n_unknown if mode == "skip" else 0)  # the text's tokens before any were dropped
    chars_per_token = len(text) / max(1, len(ids))
    if corpus is None:
        ids = split_ids(ids, val_fraction=saved.val_fraction, block_size=model.block_size)[1]
        if tok.kind == "word":  # the share of what is scored: the validation split's <unk> tokens
            n_unknown, n_tokens = int((ids == 0).sum()), len(ids)
    elif tok.kind == "word" and mode == "map":
        n_unknown = int((ids == 0).sum())  # also the corpus's own rare words the model knows only as <unk>
    if len(ids) < model.block_size + 1:
        raise DataError(f"{source} has {len(ids)} tokens, fewer than one block of {model.block_size + 1}; "
                        f"use a longer text")
    metrics = evaluate_ids(model, ids, chars_per_token=chars_per_token)
    unk_name = "<unk>" if tok.kind == "word" else repr(getattr(tok, "replacement", "?"))
    result = {"corpus": source, "model_type": model.model_type, **metrics,
              "unknown_tokens": n_unknown, "unknown_share": n_unknown / max(1, n_tokens), "unknown": mode,
              "unknown_note": {"map": f"unknown tokens scored as {unk_name}", "skip": "unknown tokens dropped",
                               "refuse": "no unknown tokens"}[mode] if n_unknown else "no unknown tokens",
              "units": {"loss": "nats per token", "bits_per_char": "bits per character",
                        "unknown_share": "fraction of the text's tokens"}}
    warning = unknown_warning(result)
    if warning:
        result["warning"] = warning
    if path is not None:
        write_json_atomic(path, result)
        result["written_to"] = str(path)
    return result


def _output_path(out: str | Path | None, output: str | Path | None, *, default_dir: Path | None, filename: str,
                 suffixes: Sequence[str] | None = None) -> Path | None:
    """``output`` (a file), else ``out/filename`` (a folder), else ``default_dir/filename``; checked before work."""
    from ..core.clikit import check_output_dir, check_output_file

    if out is not None and output is not None:
        raise ConfigError("give --out DIR or --output FILE, not both")
    if output is not None:
        return check_output_file(output, suffixes=suffixes)
    if out is not None:
        return check_output_dir(out) / filename
    return None if default_dir is None else default_dir / filename


def format_samples(samples: Sequence[str]) -> str:
    """Samples as ``genlab text sample`` shows them: the first, then ``--- sample 2 ---`` before each further one
    (a blank line alone would not separate samples that hold blank lines themselves)."""
    parts = [samples[0]] if samples else []
    parts += [f"\n--- sample {i} ---\n{s}" for i, s in enumerate(samples[1:], start=2)]
    return "\n".join(parts)


class _Progress:
    """Progress of a long generation on stderr, one plain line now and then (no ``\\r``): for when stdout, which
    carries the text, is a file or a pipe. Silent for the first ``after_s`` seconds, so short samples print none."""

    after_s = 2.0

    def __init__(self, total: int) -> None:
        self.total, self.done, self.t0 = total, 0, time.monotonic()
        self.next_mark, self.shown = 0.1, False

    def __call__(self, _token: torch.Tensor) -> None:
        self.done += 1
        if self.done >= self.next_mark * self.total:
            self.next_mark = math.floor(10 * self.done / self.total + 1) / 10
            elapsed = time.monotonic() - self.t0
            if elapsed >= self.after_s:
                rate = self.done / max(elapsed, 1e-9)
                eta = (self.total - self.done) / max(rate, 1e-9)
                print(f"sampled {self.done}/{self.total} tokens ({100 * self.done / self.total:.0f} %), "
                      f"{rate:.0f} tokens/s, {eta:.0f}s left", file=sys.stderr, flush=True)
                self.shown = True


def sample(model_or_run: TextModel | str | Path, n: int = 1, *, prompt: str = "", length: int = 500,
           temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None, seed: int = 0,
           out: str | Path | None = None, output: str | Path | None = None, device: str = "auto",
           stream: Callable[[str], None] | None = None, progress: bool | None = None) -> list[str]:
    """``n`` continuations of ``prompt`` (each with the prompt in front) from a model or a run folder.

    They are written (``--- sample 2 ---`` between them) to ``output``, or to ``out/samples.txt`` when ``out`` is
    a folder. ``stream`` gets the first sample's text as it is generated, the prompt first (as typed). ``progress``
    prints a line on stderr at every tenth of a long generation (default: when stdout is not a terminal).
    """
    check_sampling_options(temperature=temperature, top_k=top_k, top_p=top_p, length=length, n=n)
    path = _output_path(out, output, default_dir=None, filename="samples.txt", suffixes=(".txt", ".md"))
    model, _ = _model_and_run(model_or_run, device)
    if prompt:
        model.tokenizer.encode(prompt, what="prompt")  # refuse an unknown character before anything is printed
    if progress is None:
        progress = not sys.stdout.isatty()
    meter = _Progress(length) if progress and length else None
    if stream is not None:
        stream(prompt)
    samples = generate(model, prompt, n=n, length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                       seed=seed, stream=stream, on_token=meter)
    if meter is not None and meter.shown:
        elapsed = time.monotonic() - meter.t0
        print(f"sampled {length} tokens x {n} in {elapsed:.1f}s ({n * length / max(elapsed, 1e-9):.0f} tokens/s)",
              file=sys.stderr, flush=True)
    if path is not None:
        write_bytes_atomic(path, (format_samples(samples) + "\n").encode("utf-8"))
    return samples


def temperature_table(model_or_run: TextModel | str | Path, prompt: str = "", *,
                      temperatures: tuple[float, ...] = (0.2, 0.5, 1.0, 1.2), length: int = 300, seed: int = 0,
                      top_k: int | None = None, top_p: float | None = None, out: str | Path | None = None,
                      output: str | Path | None = None, device: str = "auto") -> Path:
    """The seeds' figure: the same prompt continued at several temperatures, side by side, as Markdown.

    Written to ``output``, else ``out/temperatures.md``, else ``RUN/samples/temperatures.md``."""
    check_sampling_options(temperature=temperatures, top_k=top_k, top_p=top_p, length=length, n=1)
    model, run = _model_and_run(model_or_run, device)
    path = _output_path(out, output, default_dir=run / "samples" if run is not None else None,
                        filename="temperatures.md", suffixes=(".md", ".txt"))
    if path is None:
        raise ConfigError("temperature_table needs out= or output= for a model passed without its run folder")
    if prompt:
        model.tokenizer.encode(prompt, what="prompt")
    lines = [f"# {model.model_type}: one prompt at {len(temperatures)} temperatures", "",
             f"Prompt: `{prompt!r}`, {length} tokens, seed {seed}" + (f", top-k {top_k}" if top_k else "") +
             (f", top-p {top_p}" if top_p else ""), ""]
    for t in temperatures:
        text = generate(model, prompt, length=length, temperature=t, top_k=top_k, top_p=top_p, seed=seed)[0]
        lines += [f"## temperature {t}", "", "```", text, "```", ""]
    write_bytes_atomic(path, "\n".join(lines).encode("utf-8"))
    return path
