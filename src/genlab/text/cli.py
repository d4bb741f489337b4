"""``genlab text train|sample|evaluate``, built from core/clikit.py."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..core import clikit
from ..core.config import cfg_field, from_dict
from ..core.errors import ConfigError

BLOCK_SIZE_DEFAULTS = "128 for lstm/gru, 64 for gpt"


@dataclass
class _SharedModelOptions:
    """The two model options every --model has, with per-model defaults (RNNConfig / GPTConfig hold them)."""

    block_size: int | None = cfg_field(None, help="context length in tokens: the length of each training window "
                                                  "(an RNN starts each window from a zero state; a GPT also attends "
                                                  "to at most this many tokens when sampling)")
    dropout: float | None = cfg_field(None, help="dropout (RNN: between layers and before the output; GPT: in "
                                                 "attention and MLP)")


def _train_fn():
    from .train import train
    return train


def _build(given: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """TextConfig, and RNNConfig or GPTConfig as --model says; a flag of the other model is refused."""
    from .train import MODELS, TextConfig

    data = from_dict(TextConfig, given["data_config"])
    cfg_cls = MODELS[data.model][1]
    mine, other = ("gpt", "rnn") if data.model == "gpt" else ("rnn", "gpt")
    stray = sorted(_own(given, other))
    if stray:
        flags = ", ".join("--" + k.replace("_", "-") for k in stray)
        raise ConfigError(f"{flags} do(es) not apply to --model {data.model}")
    return {"data_config": data, "model_config": from_dict(cfg_cls, {**_own(given, mine), **given["shared"]})}


def _own(given: dict[str, dict[str, Any]], group: str) -> dict[str, Any]:
    """What the user typed for one model group: given_options() of RNNConfig/GPTConfig also sees --block-size,
    --dropout (shown once, in the shared group) and TextConfig's --tokenizer (a hidden field of theirs)."""
    from dataclasses import fields

    from .gpt import GPTConfig
    from .model import RNNConfig

    cls = GPTConfig if group == "gpt" else RNNConfig
    flags = {f.name for f in fields(cls) if f.metadata.get("cli", True)} - set(given["shared"]) - {"block_size",
                                                                                                  "dropout"}
    return {k: v for k, v in given[group].items() if k in flags}


def _summary(result: Any) -> list[str]:
    ev = result.eval_metrics or {}
    if "eval/loss" not in ev:
        return []
    return [f"validation loss {ev['eval/loss']:.4f} nats/token, {ev['eval/bits_per_char']:.4f} bits/char"]


def _outputs(run_dir) -> dict[str, str]:
    return {"sample": f"genlab text sample {clikit.show_path(run_dir)} --prompt ..."}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from .gpt import GPTConfig
    from .model import RNNConfig
    from .train import DEFAULT_TRAIN, TextConfig
    from .tokenizers import UNKNOWN_MODES

    sub = clikit.family_parser(subparsers, "text", help="language models: char/word LSTM, GRU and a small GPT",
                               description="Train language models on any UTF-8 text, sample and evaluate them.")
    shared = ("block_size", "dropout")
    t = clikit.add_train_command(
        sub, family="text", train=_train_fn, build=_build, summary=_summary, outputs=_outputs,
        help="train a language model on a text file",
        description="Train an LSTM, GRU or GPT on a text file.",
        groups=[clikit.Options("data_config", TextConfig, "data"),
                clikit.Options("shared", _SharedModelOptions, "model (every --model)",
                               defaults={"block_size": BLOCK_SIZE_DEFAULTS, "dropout": 0.0}),
                clikit.Options("rnn", RNNConfig, "lstm / gru model (--model lstm or gru)", exclude=shared),
                clikit.Options("gpt", GPTConfig, "gpt model (--model gpt)", exclude=shared)],
        train_defaults=DEFAULT_TRAIN)
    for action in t._actions:  # the engine's help speaks of images
        if action.dest == "max_steps":
            action.help = (f"stop after this many optimiser steps (default: {DEFAULT_TRAIN['max_steps']}, "
                           f"dropped when you type --epochs)")
        if action.dest == "sample_every":
            action.help = (f"write a sample text (RUN/samples/step_*.txt) every N steps (0 = only at the end) "
                           f"(default: {DEFAULT_TRAIN['sample_every']})")

    s = sub.add_parser("sample", help="generate text (streams the first sample to stdout)",
                       description="Generate text from a trained model. The first sample streams to stdout; "
                                   "further ones follow after '--- sample N ---' lines.")
    clikit.add_run_argument(s)
    s.add_argument("--prompt", default="", help="text to continue (default: start of a line)")
    s.add_argument("--temperature", type=float, nargs="+", default=[1.0], metavar="T",
                   help="0 = greedy; several values write the seeds' side-by-side table (default: 1.0)")
    s.add_argument("--top-k", type=int, help="sample only among the k most likely tokens")
    s.add_argument("--top-p", type=float, help="nucleus sampling: the smallest set with probability >= p")
    s.add_argument("--length", type=int, default=500, help="tokens to generate (default: 500)")
    s.add_argument("--n", type=int, default=1, help="number of samples (default: 1)")
    s.add_argument("--seed", type=int, default=0, help="(default: 0)")
    clikit.add_output_arguments(s, default="none: stdout only; several --temperature: RUN_DIR/samples",
                                what="the samples (samples.txt; temperatures.md for several --temperature)")
    clikit.add_device_argument(s)
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress line on stderr at every tenth of a long sample "
                        "(default: when stdout is not a terminal)")
    s.set_defaults(func=_sample)

    e = sub.add_parser("evaluate", help="loss (nats/token), bits per character and unknown-token share on a text")
    clikit.add_run_argument(e)
    e.add_argument("--corpus", metavar="FILE", help="text to score (default: the run's validation split)")
    e.add_argument("--encoding", default="utf-8", help="(default: utf-8)")
    e.add_argument("--encoding-errors", default="strict", help="(default: strict)")
    e.add_argument("--unknown", choices=UNKNOWN_MODES, default=None,
                   help="what the model never saw: refuse, map (a char model: to a space, or its first character "
                        "if it has no space; a word model: to <unk>) or skip (drop) "
                        "(default: refuse for a char model, map for a word model)")
    clikit.add_output_arguments(e, default="RUN_DIR", what="the JSON result (eval.json)")
    clikit.add_device_argument(e)
    e.set_defaults(func=_evaluate)


def _sample(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .sampling import check_sampling_options
    from .train import format_samples, sample, temperature_table

    check_sampling_options(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, length=args.length,
                           n=args.n)
    if args.out:
        clikit.check_output_dir(args.out)
    if args.output:
        clikit.check_output_file(args.output, suffixes=(".txt", ".md"))
    if args.out and args.output:
        raise ConfigError("give --out DIR or --output FILE, not both")
    if len(args.temperature) > 1:
        out = args.out if args.out or args.output else Path(args.run) / "samples"
        path = temperature_table(args.run, args.prompt, temperatures=tuple(args.temperature), length=args.length,
                                 seed=args.seed, top_k=args.top_k, top_p=args.top_p, out=out, output=args.output,
                                 device=args.device)
        clikit.say(path.read_text(encoding="utf-8"))
        clikit.stderr(f"written to {clikit.show_path(path)}")
        return 0
    samples = sample(args.run, args.n, prompt=args.prompt, length=args.length, temperature=args.temperature[0],
                     top_k=args.top_k, top_p=args.top_p, seed=args.seed, out=args.out, output=args.output,
                     device=args.device, stream=partial(print, end="", flush=True), progress=args.progress)
    print()
    rest = format_samples(samples)[len(samples[0]):]
    if rest:
        print(rest.removeprefix("\n"))
    if args.out or args.output:
        path = Path(args.output) if args.output else Path(args.out) / "samples.txt"
        clikit.stderr(f"written to {clikit.show_path(path)}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .train import evaluate

    r = evaluate(args.run, corpus=args.corpus, encoding=args.encoding, encoding_errors=args.encoding_errors,
                 out=args.out, output=args.output, device=args.device, unknown=args.unknown)
    clikit.say(f"{r['corpus']}: loss {r['loss']:.4f} nats/token, {r['bits_per_char']:.4f} bits/char "
               f"({r['tokens']} tokens)",
               f"unknown tokens: {r['unknown_tokens']} ({100 * r['unknown_share']:.1f} % of the text's tokens"
               + (f"; {r['unknown_note']})" if r["unknown_tokens"] else ")"))
    if r.get("warning"):
        clikit.stderr(r["warning"])
    clikit.print_written(r["written_to"])
    return 0
