"""Char-level GPT on tiny Shakespeare: nanoGPT's published CPU recipe vs genlab, side by side on this machine.

Reference: nanoGPT's README CPU recipe, as a plain nanoGPT-style loop (random batches with torch.randint, AdamW
lr 1e-3 betas (0.9, 0.99) weight decay 0.1 non-fused as nanoGPT uses on CPU, warm-up 100, cosine to 1e-4 at 2000,
clip 1.0, loss estimated every 250 iterations on 20 batches, loss.item() every iteration), 4 layers, 4 heads,
128 wide, block 64, batch 12, dropout 0, on genlab's GPT module (the same architecture as nanoGPT's model.py).
The issue quotes 1.8857 val loss in 123 s for the original code on this machine kind.

Every run is scored by the same function: the mean next-token loss over the WHOLE validation split (the last 10%
of input.txt) in non-overlapping blocks (genlab.text.evaluate_ids). nanoGPT's own 20-batch estimate is shown too.

Runs: (1) the reference; (2) genlab's engine with the recipe's settings; (3) genlab's default GPT settings within
half the reference's wall-clock; (4) the same defaults within the reference's wall-clock.

    python benchmarks/text_gpt_shakespeare.py [--out benchmarks/results/text_gpt_shakespeare.json]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

import genlab
from genlab.core.engine import TrainConfig
from genlab.data.text import read_text
from genlab.text import DEFAULT_TRAIN, GPT, GPTConfig, TextConfig, evaluate_ids, train
from genlab.text.tokenizers import CharTokenizer
from common import SHAKESPEARE, write_results


def recipe_model_config(tok: CharTokenizer) -> GPTConfig:
    return GPTConfig(block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=False,
                     vocab_size=tok.vocab_size, tokenizer=tok.to_dict())


def run_reference(train_ids, val_ids, tok, *, max_iters=2000, seed=1337):
    """nanoGPT train.py, CPU recipe, in plain PyTorch."""
    torch.manual_seed(seed)
    cfg = recipe_model_config(tok)
    model = GPT(cfg)
    batch_size, block = 12, cfg.block_size
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))

    def get_lr(it):
        if it < 100:
            return 1e-3 * (it + 1) / 101
        ratio = (it - 100) / (2000 - 100)
        return 1e-4 + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (1e-3 - 1e-4)

    def get_batch(data):
        ix = torch.randint(len(data) - block, (batch_size,))
        x = torch.stack([data[i:i + block] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + block] for i in ix])
        return x, y

    @torch.no_grad()
    def estimate_loss():
        model.eval()
        out = {}
        for split, data in (("train", train_ids), ("val", val_ids)):
            losses = torch.zeros(20)
            for k in range(20):
                x, y = get_batch(data)
                losses[k] = model(x, y)["loss"].item()
            out[split] = losses.mean().item()
        model.train()
        return out

    start = time.time()
    estimate = None
    for it in range(max_iters + 1):
        for group in opt.param_groups:
            group["lr"] = get_lr(it)
        if it % 250 == 0:
            estimate = estimate_loss()
            print(f"  reference iter {it}: val {estimate['val']:.4f} ({time.time() - start:.0f}s)", file=sys.stderr)
        if it == max_iters:
            break
        x, y = get_batch(train_ids)
        loss = model(x, y)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()  # nanoGPT logs every iteration (log_interval=1)
    seconds = time.time() - start
    return model, seconds, max_iters * batch_size * block, estimate["val"]


def run_genlab(corpus, model_cfg, train_cfg, out):
    t0 = time.time()
    result = train(model_cfg, TextConfig(corpus=str(corpus), model="gpt"), train_cfg, out=out)
    return result, time.time() - t0


def steps_for(seconds: float, model_cfg: GPTConfig, train_cfg: TrainConfig, tok: CharTokenizer, ids) -> int:
    """How many steps of this config fit in ``seconds`` (timed on 30 steps, minus a margin for evaluation/IO)."""
    cfg = GPTConfig(**{**model_cfg.__dict__, "vocab_size": tok.vocab_size, "tokenizer": tok.to_dict()})
    model = GPT(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    x = ids[: train_cfg.batch_size * cfg.block_size].view(train_cfg.batch_size, cfg.block_size)
    y = ids[1: train_cfg.batch_size * cfg.block_size + 1].view(train_cfg.batch_size, cfg.block_size)
    for i in range(35):
        if i == 5:
            t0 = time.time()
        loss = model(x, y)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    per_step = (time.time() - t0) / 30
    return int(seconds * 0.85 / per_step)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=None, help="default: ../shared/data/tinyshakespeare/input.txt")
    ap.add_argument("--out", default="benchmarks/results/text_gpt_shakespeare.json")
    ap.add_argument("--reference-seconds", type=float, default=None,
                    help="skip the reference run and use this wall-clock instead (for quick checks)")
    args = ap.parse_args()
    corpus = Path(args.corpus) if args.corpus else SHAKESPEARE
    text = read_text(corpus)
    tok = CharTokenizer.fit(text)
    ids = torch.tensor(tok.encode(text, what="corpus"), dtype=torch.long)
    n = int(0.9 * len(ids))
    train_ids, val_ids = ids[:n], ids[n:]
    rows = []

    def row(name, seconds, steps, tokens, model, extra=None):
        val = evaluate_ids(model, val_ids)["loss"]
        rows.append({"name": name, "seconds": seconds, "steps": steps, "tokens": tokens,
                     "tokens_per_sec": tokens / seconds, "val_loss": val, **(extra or {})})
        print(f"  {name}: val {val:.4f} in {seconds:.1f}s", file=sys.stderr)

    if args.reference_seconds is None:
        print("reference (nanoGPT recipe, plain loop) ...", file=sys.stderr)
        ref, ref_seconds, ref_tokens, ref_estimate = run_reference(train_ids, val_ids, tok)
        row("reference: nanoGPT CPU recipe, 2000 iters", ref_seconds, 2000, ref_tokens, ref,
            {"val_loss_nanogpt_estimate": ref_estimate})
    else:
        ref_seconds = args.reference_seconds

    quiet = {"progress": False, "tensorboard": False, "sample_every": 0, "eval_every": 0,
             "checkpoint_every": 100000}
    with tempfile.TemporaryDirectory() as tmp:
        print("genlab engine with the recipe's settings ...", file=sys.stderr)
        recipe_train = TrainConfig(**{**DEFAULT_TRAIN, **quiet, "lr": 1e-3, "batch_size": 12, "max_steps": 2000,
                                      "warmup_steps": 100, "min_lr_ratio": 0.1})
        res, secs = run_genlab(corpus, recipe_model_config(tok), recipe_train, Path(tmp) / "recipe")
        row("genlab engine, recipe settings (4x128, batch 12, lr 1e-3)", secs, res.step, res.step * 12 * 64,
            genlab.load(res.run_dir))

        default_model = GPTConfig()
        seconds_per_step = None
        for label, budget in (("half", ref_seconds / 2), ("same", ref_seconds)):
            base = TrainConfig(**{**DEFAULT_TRAIN, **quiet})
            if seconds_per_step is None:  # first budget: from a timed micro-run, with a margin for data/eval/IO
                steps = steps_for(budget, default_model, base, tok, train_ids)
            else:  # then from the whole first run, overheads included
                steps = int(0.97 * budget / seconds_per_step)
            cfg = TrainConfig(**{**DEFAULT_TRAIN, **quiet, "max_steps": steps})
            print(f"genlab defaults, {label} the reference's wall-clock: {steps} steps ...", file=sys.stderr)
            res, secs = run_genlab(corpus, default_model, cfg, Path(tmp) / label)
            seconds_per_step = secs / res.step
            tokens = res.step * cfg.batch_size * default_model.block_size
            row(f"genlab defaults ({default_model.n_layer}x{default_model.n_embd}, batch {cfg.batch_size}, "
                f"lr {cfg.lr:g}), {label} wall-clock", secs, res.step, tokens, genlab.load(res.run_dir),
                {"budget_seconds": budget})

    print()
    print(f"| {'run':<66} | {'steps':>5} | {'wall-clock':>10} | {'tokens/s':>8} | {'val loss':>8} |")
    print(f"|{'-' * 68}|{'-' * 7}|{'-' * 12}|{'-' * 10}|{'-' * 10}|")
    for r in rows:
        print(f"| {r['name']:<66} | {r['steps']:>5} | {r['seconds']:>9.1f}s | {r['tokens_per_sec']:>8.0f} | "
              f"{r['val_loss']:>8.4f} |")
    summary = {"rows": rows, "reference_seconds": ref_seconds, "val_loss_metric": "mean nats/token, whole val split"}
    half, same = rows[-2], rows[-1]
    summary["goal_half_time"] = half["val_loss"] <= 1.88 and half["seconds"] <= ref_seconds / 2
    summary["goal_same_time"] = same["val_loss"] < 1.88 and same["seconds"] <= ref_seconds
    print(f"\ngoal 1 (<= 1.88 in <= half the reference's {ref_seconds:.0f}s): "
          f"{'met' if summary['goal_half_time'] else 'NOT met'}; goal 2 (< 1.88 at the same wall-clock): "
          f"{'met' if summary['goal_same_time'] else 'NOT met'}")
    write_results(args.out, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
