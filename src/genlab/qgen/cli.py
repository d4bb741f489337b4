"""``genlab qgen train | generate | evaluate | attention``: question generation (Foster ch. 6, made sound)."""

from __future__ import annotations

import argparse
import json
import sys

from ..core import clikit
from ..core.errors import ConfigError, DataError


def _api():
    from . import api
    return api


def _train_defaults():
    from .api import DEFAULT_TRAIN
    return DEFAULT_TRAIN


def _summary(r) -> list[str]:
    m = r.metrics
    lines = [f"train loss {m.get('train/loss', float('nan')):.3f} nats/token"]
    if "val_loss" in r.eval_metrics:
        lines.append(f"validation loss {r.eval_metrics['val_loss']:.3f} nats/token (teacher forced)")
    return lines


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..core.engine import TrainConfig  # noqa: F401  (clikit needs it; light)
    from .data import QGenDataConfig
    from .models import QGenConfig

    sub = clikit.family_parser(subparsers, "qgen", help="question generation: BiGRU encoder, attention decoder, "
                                                        "copy mechanism, beam search (Foster ch. 6)")
    from .api import DEFAULT_TRAIN
    clikit.add_train_command(
        sub, family="qgen", train=lambda: _api().train,
        groups=[clikit.Options("data_config", QGenDataConfig, "data"),
                clikit.Options("model_config", QGenConfig, "model")],
        train_defaults=DEFAULT_TRAIN, summary=_summary,
        description="Train a question generator on sentence-question pairs (default: the shared split of Du et al. "
                    "2017, 10%% of its sentences held out for validation).")

    g = sub.add_parser("generate", help="write questions about sentences")
    clikit.add_run_argument(g)
    src = g.add_mutually_exclusive_group(required=True)
    src.add_argument("--sentence", help="one sentence to ask about")
    src.add_argument("--input", metavar="FILE", help="a file of sentences, one per line (optionally "
                                                      "sentence<TAB>answer)")
    g.add_argument("--answer", help="the answer span (for a model trained with answers)")
    _decode_args(g)
    g.add_argument("--output", metavar="FILE", help="write the questions to this file (one per line) as well")
    g.add_argument("--json", action="store_true", help="print JSON lines (question, tokens, attention)")
    clikit.add_device_argument(g)
    g.set_defaults(func=_generate)

    e = sub.add_parser("evaluate", help="BLEU-1..4, METEOR, ROUGE-L beside the copy and template baselines")
    clikit.add_run_argument(e)
    e.add_argument("--data", nargs=2, metavar=("SRC", "TGT"), help="a sentence file and its question file "
                                                                   "(default: the run's validation part)")
    e.add_argument("--pairs", metavar="FILE", help="instead of --data: sentence<TAB>question[<TAB>answer] lines")
    _decode_args(e)
    e.add_argument("--limit", type=int, help="score only the first N distinct sentences (quick look; say so)")
    e.add_argument("--meteor", action=argparse.BooleanOptionalAction, default=True,
                   help="compute METEOR 1.5 (starts Java); --no-meteor gives coco-caption BLEU and ROUGE-L only "
                        "(default: yes)")
    e.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                   help="also score the copy and 'what + 12 words + ?' baselines (default: yes)")
    clikit.add_output_arguments(e, default="RUN_DIR", what="eval.json (predictions.txt beside it)")
    clikit.add_device_argument(e)
    e.set_defaults(func=_evaluate)

    a = sub.add_parser("attention", help="heat map of the decoder's attention for one sentence")
    clikit.add_run_argument(a)
    a.add_argument("--sentence", required=True)
    a.add_argument("--answer")
    _decode_args(a)
    clikit.add_output_arguments(a, default="RUN_DIR/samples", what="the PNG")
    clikit.add_device_argument(a)
    a.set_defaults(func=_attention)


def _decode_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--beam", type=int, default=5, help="beam width (1 = greedy) (default: 5)")
    p.add_argument("--length-alpha", type=float, default=1.0,
                   help="length normalisation: score = log P / length**alpha (0 = none) (default: 1.0)")
    p.add_argument("--unk", choices=("replace", "keep"), default="replace",
                   help="replace a generated <unk> by the most attended source word, or keep it (default: replace)")


def _check_beam(args) -> None:
    if args.beam < 1:
        raise ConfigError(f"--beam must be >= 1 (got {args.beam}); 1 is greedy decoding")


def _generate(args) -> int:
    _check_beam(args)
    out_path = clikit.check_output_file(args.output, suffixes=(".txt",)) if args.output else None
    if args.input:
        from pathlib import Path
        path = Path(args.input)
        if not path.is_file():
            raise DataError(f"--input {path} does not exist or is not a file")
        lines = [ln.rstrip("\r") for ln in path.read_text(encoding="utf-8").split("\n")]
        if lines and lines[-1] == "":
            lines = lines[:-1]
        if not lines:
            raise DataError(f"--input {path} is empty; give one sentence per line")
        sentences, answers = [], []
        for i, ln in enumerate(lines, start=1):
            cols = ln.split("\t")
            if not cols[0].strip():
                raise DataError(f"--input {path} line {i} is empty; give one sentence per line")
            sentences.append(cols[0])
            answers.append(cols[1] if len(cols) > 1 else None)
        if args.answer is not None:
            raise ConfigError("--answer goes with --sentence; with --input give answers as a second tab column")
        answers = answers if any(a is not None for a in answers) else None
    else:
        sentences, answers = [args.sentence], [args.answer] if args.answer is not None else None
    res = _api().generate(args.run, sentences, answers, beam=args.beam, alpha=args.length_alpha, unk=args.unk,
                          device=args.device)
    for r in res:
        if args.json:
            print(json.dumps({k: r[k] for k in ("sentence", "question", "tokens", "log_prob", "attention")}))
        else:
            print(r["question"])
    if out_path is not None:
        from ..core.io import write_bytes_atomic
        write_bytes_atomic(out_path, "".join(r["question"] + "\n" for r in res).encode("utf-8"))
        print(f"questions: {clikit.show_path(out_path)}", file=sys.stderr)
    return 0


def _evaluate(args) -> int:
    _check_beam(args)
    if args.data and args.pairs:
        raise ConfigError("give --data SRC TGT or --pairs FILE, not both")
    src, tgt = (args.data or (None, None))
    r = _api().evaluate(args.run, src=src, tgt=tgt, pairs=args.pairs, beam=args.beam, alpha=args.length_alpha,
                        limit=args.limit, with_baselines=args.baselines, meteor=args.meteor, out=args.out,
                        output=args.output,
                        device=args.device)
    from .metrics import format_scores
    clikit.say(f"{r['data']}: {r['sentences']} sentences, {r['questions']} reference questions, beam {r['beam']}"
               + (f" (first {args.limit} sentences only)" if args.limit else ""))
    clikit.say(f"  model     {format_scores(r['model'])}")
    for name, s in r.get("baselines", {}).items():
        clikit.say(f"  {name:<9} {format_scores(s)}")
    clikit.say(f"  metrics: {r['model']['protocol']}")
    if "note" in r["model"]:
        clikit.stderr("warning: " + r["model"]["note"])
    if "written_to" in r:
        clikit.print_written(r["written_to"], "evaluation")
    return 0


def _attention(args) -> int:
    _check_beam(args)
    from pathlib import Path
    path = clikit.resolve_output(args, default_dir=Path(args.run) / "samples", filename="attention.png",
                                 suffixes=(".png",))
    r = _api().attention_figure(args.run, args.sentence, answer=args.answer, beam=args.beam, output=path,
                                device=args.device)
    clikit.say(r["question"])
    clikit.print_written(path, "attention heat map")
    return 0
