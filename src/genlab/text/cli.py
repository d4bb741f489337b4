"""``genlab text train|sample|evaluate``."""

from __future__ import annotations

import argparse
import sys

from ..core.config import add_dataclass_arguments, from_dict, given_options
from ..core.engine import TrainConfig
from ..core.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from .gpt import GPTConfig
    from .model import RNNConfig
    from .train import DEFAULT_TRAIN, TextConfig

    p = subparsers.add_parser("text", help="language models: char/word LSTM, GRU and a small GPT",
                              description="Train language models on any UTF-8 text, sample and evaluate them.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train a language model on a text file",
                       description="Train an LSTM, GRU or GPT on a text file. Writes a run folder (config, "
                                   "metrics.jsonl, tensorboard/, samples/step_*.txt, checkpoints/).")
    add_dataclass_arguments(t.add_argument_group("data"), TextConfig)
    add_dataclass_arguments(t.add_argument_group("lstm / gru model"), RNNConfig)
    add_dataclass_arguments(t.add_argument_group("gpt model"), GPTConfig, exclude=("block_size", "dropout"))
    add_dataclass_arguments(t.add_argument_group("training"), TrainConfig, defaults=DEFAULT_TRAIN)
    t.add_argument("--out", help="run folder (default: runs/text/<corpus>-<model>-<time>)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    t.set_defaults(func=_train)

    s = sub.add_parser("sample", help="generate text (streams the first sample to stdout)")
    s.add_argument("run", metavar="RUN_DIR", help="a run folder or saved-model folder")
    s.add_argument("--prompt", default="", help="text to continue (default: start of a line)")
    s.add_argument("--temperature", type=float, nargs="+", default=[1.0], metavar="T",
                   help="0 = greedy; several values write the seeds' side-by-side table (default: 1.0)")
    s.add_argument("--top-k", type=int, help="sample only among the k most likely tokens")
    s.add_argument("--top-p", type=float, help="nucleus sampling: the smallest set with probability >= p")
    s.add_argument("--length", type=int, default=500, help="tokens to generate (default: 500)")
    s.add_argument("--n", type=int, default=1, help="number of samples (default: 1)")
    s.add_argument("--seed", type=int, default=0, help="(default: 0)")
    s.add_argument("--out", help="also write the samples (or the temperature table) to this file")
    s.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")
    s.set_defaults(func=_sample)

    e = sub.add_parser("evaluate", help="loss (nats/token) and bits per character on a text")
    e.add_argument("run", metavar="RUN_DIR", help="a run folder or saved-model folder")
    e.add_argument("--corpus", metavar="FILE", help="text to score (default: the run's validation split)")
    e.add_argument("--encoding", default="utf-8", help="(default: utf-8)")
    e.add_argument("--encoding-errors", default="strict", help="(default: strict)")
    e.add_argument("--out", help="output JSON (default: RUN_DIR/eval.json)")
    e.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")
    e.set_defaults(func=_evaluate)


def _train(args: argparse.Namespace) -> int:
    from .gpt import GPTConfig
    from .model import RNNConfig
    from .train import DEFAULT_TRAIN, MODELS, TextConfig, train

    given_model = {**given_options(args, RNNConfig), **given_options(args, GPTConfig)}
    given = {**given_options(args, TextConfig), **given_model, **given_options(args, TrainConfig)}
    if args.resume:
        result = train(out=args.out, resume=True, overrides=given)
    else:
        text_cfg = from_dict(TextConfig, given_options(args, TextConfig))
        cfg_cls = MODELS[text_cfg.model][1]
        stray = sorted(k for k in given_model if k not in cfg_cls.__dataclass_fields__)
        if stray:
            flags = ", ".join("--" + k.replace("_", "-") for k in stray)
            raise ConfigError(f"{flags} do(es) not apply to --model {text_cfg.model}")
        model_cfg = from_dict(cfg_cls, {k: v for k, v in given_model.items() if k in cfg_cls.__dataclass_fields__})
        train_cfg = from_dict(TrainConfig, {**DEFAULT_TRAIN, **given_options(args, TrainConfig)})
        result = train(text_cfg, model_cfg, train_cfg, out=args.out)
    ev = result.eval_metrics
    print(f"trained {result.step} steps in {result.seconds:.1f}s")
    if ev:
        print(f"validation loss {ev['eval/loss']:.4f} nats/token, {ev['eval/bits_per_char']:.4f} bits/char")
    print(f"run folder: {result.run_dir}")
    print(f"  samples:  {result.run_dir / 'samples'}   (genlab text sample {result.run_dir} --prompt ...)")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from functools import partial

    from ..core.io import write_bytes_atomic
    from .generate import generate
    from .sampling import check_sampling_options
    from .train import _load_text_model, temperature_table

    check_sampling_options(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, length=args.length,
                           n=args.n)
    if len(args.temperature) > 1:
        path = temperature_table(args.run, args.prompt, temperatures=tuple(args.temperature), length=args.length,
                                 seed=args.seed, top_k=args.top_k, top_p=args.top_p, out=args.out, device=args.device)
        print(path.read_text(encoding="utf-8"))
        print(f"written to {path}", file=sys.stderr)
        return 0
    model = _load_text_model(args.run, args.device)
    stream = partial(print, end="", flush=True)
    stream(args.prompt)
    samples = generate(model, args.prompt, n=args.n, length=args.length, temperature=args.temperature[0],
                       top_k=args.top_k, top_p=args.top_p, seed=args.seed, stream=stream)
    print()
    for i, s in enumerate(samples[1:], start=2):
        print(f"\n--- sample {i} ---\n{s}")
    if args.out:
        write_bytes_atomic(args.out, "\n\n".join(samples).encode("utf-8"))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .train import evaluate

    r = evaluate(args.run, args.corpus, encoding=args.encoding, encoding_errors=args.encoding_errors, out=args.out,
                 device=args.device)
    print(f"{r['corpus']}: loss {r['loss']:.4f} nats/token, {r['bits_per_char']:.4f} bits/char "
          f"({r['tokens']} tokens)")
    print(f"written to {args.out or Path(args.run) / 'eval.json'}")
    return 0
