"""Question generation on the shared Du, Shao & Cardie 2017 split: the genlab model beside the two baselines.

    flock /tmp/genlab-bench.lock .venv/bin/python benchmarks/qgen_du.py            # ~10 min of training (reduced)
    flock /tmp/genlab-bench.lock .venv/bin/python benchmarks/qgen_du.py --full     # the issue's budget: 50 min

Trains `genlab qgen train` (defaults: BiGRU 2 x 128 encoder, Luong attention, pointer-generator copy, 6k-word
vocabulary) on the shared dev split with 10% of its sentences held out (by sentence, split seed 0), then scores on
that held-out part, in the same run: the model (beam 5, length-normalised, and greedy), copying the sentence, and
"what" + its first 12 words + "?". All three metrics are coco-caption's (BLEU-1..4, METEOR 1.5, ROUGE-L) grouped
by sentence as Du et al. do. Stages are cached: a stopped run continues (training resumes from its checkpoint;
finished evaluations are read back). Du et al.'s numbers are on their TEST split with 7x more training pairs: an
anchor, not a comparable number.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from common import write_results  # noqa: E402

DU_TEST = {"source": "PROVENANCE.md of ../shared/data/question-generation (Du et al. 2017's test split, coco-caption)",
           "copy": {"bleu_4": 4.89, "meteor": 18.43, "rouge_l": 21.37},
           "template": {"bleu_4": 6.90, "meteor": 15.51, "rouge_l": 32.03},
           "du_et_al_2017": {"bleu_4": 12.28, "meteor": 16.62, "rouge_l": 39.75}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(REPO / "runs" / "bench" / "qgen_du"))
    p.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "qgen_du.json"))
    p.add_argument("--minutes", type=float, default=9.0, help="training wall-clock budget (default 9)")
    p.add_argument("--steps", type=int, default=700, help="optimiser steps the LR schedule is planned for")
    p.add_argument("--full", action="store_true", help="the issue's budget: 50 minutes (50 CPU-minutes on one "
                                                       "thread), 4500 steps (~30 epochs)")
    p.add_argument("--dropout", type=float, default=None, help="the model's dropout (default: genlab's, 0.3)")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--deadline", metavar="HH:MM", help="UTC time by which the whole run must be done: the training "
                                                      "budget shrinks to fit (about 4 minutes are kept for the "
                                                      "evaluation), and the budget used is recorded")
    args = p.parse_args()
    if args.full:
        args.minutes, args.steps, args.threads = 50.0, 4500, 1
    if args.deadline:
        import datetime as dt

        now = dt.datetime.now(dt.timezone.utc)
        hh, mm = map(int, args.deadline.split(":"))
        end = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if end < now - dt.timedelta(hours=12):
            end += dt.timedelta(days=1)
        left = (end - now).total_seconds() / 60 - 4.0
        if left < 2.0:
            print(f"only {left + 4:.1f} minutes left before {args.deadline} UTC: not enough for a run; nothing done")
            return 1
        if left < args.minutes:
            args.steps = max(100, int(args.steps * left / args.minutes))
            args.minutes = left
            print(f"deadline {args.deadline} UTC: training budget cut to {args.minutes:.1f} min, {args.steps} steps")
    import torch

    torch.set_num_threads(args.threads)
    from genlab.cli import main as genlab
    from genlab.core.checkpoint import latest_checkpoint
    from genlab.core.io import read_json
    from genlab.qgen import api
    from genlab.qgen.metrics import format_scores

    run = Path(args.out)
    t0 = time.time()
    train_argv = ["qgen", "train", "--out", str(run), "--max-steps", str(args.steps), "--max-time",
                  f"{int(args.minutes * 60)}s", "--no-tensorboard", "--eval-every", "500", "--sample-every", "500",
                  "--log-every", "50"] + (["--dropout", str(args.dropout)] if args.dropout is not None else [])
    done_file = run / "bench_train_done.json"
    if not done_file.exists():
        resume = latest_checkpoint(run) is not None if run.exists() else False
        code = genlab(train_argv + (["--resume"] if resume else []))
        if code != 0:
            return code
        metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        done_file.write_text(json.dumps({"seconds": time.time() - t0, "step": max(m["step"] for m in metrics)}))
    train_info = json.loads(done_file.read_text())
    cfg = read_json(run / "train_config.json", what="run config")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train_seconds = train_info["seconds"]

    evals = {}
    for beam in (args.beam, 1):
        f = run / f"bench_eval_beam{beam}.json"
        if not f.exists():
            t = time.time()
            r = api.evaluate(run, beam=beam, with_baselines=beam == args.beam, output=f)
            r["seconds"] = time.time() - t
            f.write_text(json.dumps(r, indent=1))
        evals[beam] = json.loads(f.read_text())
    main_eval = evals[args.beam]
    val_losses = [r["eval/val_loss"] for r in rows if "eval/val_loss" in r]
    table = [("genlab qgen, beam %d" % args.beam, main_eval["model"]),
             ("genlab qgen, greedy", evals[1]["model"]),
             ("copy the sentence", main_eval["baselines"]["copy"]),
             ("what + 12 words + ?", main_eval["baselines"]["template"])]
    print(f"\nvalidation part: {main_eval['sentences']} sentences, {main_eval['questions']} questions "
          f"({cfg['train_pairs']} training pairs, vocabulary {cfg['vocab_size']}); "
          f"{train_info['step']} steps, training budget {args.minutes:g} min")
    print(f"{'':<24} BLEU-1  BLEU-2  BLEU-3  BLEU-4  METEOR  ROUGE-L")
    for name, s in table:
        print(f"{name:<24} {s['bleu_1']:6.2f}  {s['bleu_2']:6.2f}  {s['bleu_3']:6.2f}  {s['bleu_4']:6.2f}  "
              f"{(s['meteor'] or float('nan')):6.2f}  {s['rouge_l']:6.2f}")
    print("protocol:", main_eval["model"]["protocol"], "|", main_eval["model"]["implementation"]["meteor"])
    print("\ngood examples:")
    for e in main_eval["examples_good"][:4]:
        print(f"  S: {e['sentence']}\n  G: {e['generated']}\n  R: {' | '.join(e['references'])}")
    print("bad examples:")
    for e in main_eval["examples_bad"][:4]:
        print(f"  S: {e['sentence']}\n  G: {e['generated']}\n  R: {' | '.join(e['references'])}")
    summary = {
        "benchmark": "qgen_du", "data": main_eval["data"], "budget": {
            "training_minutes_cap": args.minutes, "planned_steps": args.steps, "steps_done": train_info["step"],
            "batch_size": 64, "threads": args.threads,
            "dropout": read_json(run / "config.json", what="model config")["config"]["dropout"], "issue_asks": "30-60 CPU-minutes of training (use --full)"},
        "train_pairs": cfg["train_pairs"], "val_pairs": cfg["val_pairs"], "vocab_size": cfg["vocab_size"],
        "val_loss_curve": val_losses, "train_seconds": train_seconds,
        "results": {name: {k: s[k] for k in ("bleu_1", "bleu_2", "bleu_3", "bleu_4", "meteor", "rouge_l")}
                    for name, s in table},
        "implementation": main_eval["model"]["implementation"], "protocol": main_eval["protocol"],
        "eval_seconds": {str(b): e.get("seconds") for b, e in evals.items()},
        "examples_good": main_eval["examples_good"][:6], "examples_bad": main_eval["examples_bad"][:6],
        "anchor_not_comparable": DU_TEST,
        "wall_seconds_this_call": time.time() - t0}
    write_results(args.results, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
