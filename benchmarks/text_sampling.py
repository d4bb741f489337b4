"""Sampling speed: chars/s at 500, 5,000 and 50,000 characters (linear time), and optionally the fast paths against
the seeds' re-encoding.

``genlab text sample`` streams the first sample to stdout; before issue 12 it re-decoded the whole sample for every
new character (and the GPT's sliding window concatenated the whole sequence on every rebuild), so the time grew with
the square of ``--length`` (trial #5: 3,000 chars 5.6 s, 20,000 chars 57.9 s). This script times the same path
(:func:`genlab.text.sample` with a stream that discards the text, exactly what the CLI runs minus the terminal) for
the default LSTM (256 x 2) and the default GPT (4 x 64, context 64). Linear time means the same chars/s at every
length. Speed does not depend on the weights, so the models are freshly initialised (untrained) with genlab's default
sizes and a 100-character vocabulary; no training is involved.

``--compare-reencoding`` adds the older table: stateful LSTM vs the seeds' re-encoding of the last 60 characters, and
GPT with vs without its key/value cache (tests/text/test_models.py checks they give the same tokens).

    python benchmarks/text_sampling.py [--lengths 500 5000 50000] [--threads 1] [--compare-reencoding]
"""

from __future__ import annotations

import argparse
import resource
import string
import sys
import time

import torch

from genlab.text import GPT, GPTConfig, LSTMLanguageModel, RNNConfig, generate_ids, generate_ids_reencoding, sample
from genlab.text.tokenizers import CharTokenizer

from common import write_results  # benchmarks/common.py


def timed(fn, repeats: int = 3) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def default_models(vocab: dict) -> list[tuple[str, torch.nn.Module]]:
    torch.manual_seed(0)
    return [("LSTM (256 x 2, default)", LSTMLanguageModel(RNNConfig(**vocab)).eval()),
            ("GPT (4 x 64, context 64, default)", GPT(GPTConfig(**vocab)).eval())]


def scaling(models, lengths: list[int]) -> list[dict]:
    rows = []
    for name, model in models:
        sample(model, prompt="the ", length=50, stream=lambda _s: None, progress=False)  # warm-up
        for length in lengths:
            chunks = {"n": 0}

            def sink(piece: str) -> None:
                chunks["n"] += len(piece)

            t0 = time.perf_counter()
            text = sample(model, prompt="the ", length=length, seed=0, stream=sink, progress=False)[0]
            seconds = time.perf_counter() - t0
            assert len(text) == length + 4 and chunks["n"] == length + 4
            rows.append({"model": name, "length": length, "seconds": seconds, "chars_per_sec": length / seconds,
                         "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
            print(f"  {name}: {length} chars in {seconds:.2f}s", file=sys.stderr, flush=True)
    return rows


def reencoding(models, vocab: dict, tok: CharTokenizer, length: int) -> list[dict]:
    torch.manual_seed(0)
    models = [models[0] + (60,),
              ("LSTM (1024 x 3)", LSTMLanguageModel(RNNConfig(hidden_size=1024, num_layers=3, **vocab)).eval(), 60),
              models[1] + (64,),
              ("GPT (6 x 384, context 256)", GPT(GPTConfig(n_layer=6, n_head=6, n_embd=384, block_size=256,
                                                           **vocab)).eval(), 256)]
    prompt = tok.encode("the seeds sample one character at a time after a sixty-char")[:60]
    kw = dict(n=1, length=length, temperature=1.0, seed=0)
    rows = []
    for name, model, window in models:
        fast = timed(lambda m=model: generate_ids(m, prompt, **kw))
        slow = timed(lambda m=model, w=window: generate_ids_reencoding(m, prompt, window=w, **kw), repeats=1)
        rows.append({"model": name, "window": window, "fast_chars_per_sec": length / fast,
                     "slow_chars_per_sec": length / slow, "speedup": slow / fast})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[500, 5000, 50000], help="characters per sample")
    ap.add_argument("--compare-reencoding", action="store_true", help="also time the seeds' re-encoding path")
    ap.add_argument("--compare-length", type=int, default=400, help="characters for --compare-reencoding")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: on a shared machine, 2 threads for batch-1 GPT steps spin-wait "
                         "and run 10x slower; one thread measures the per-token work)")
    ap.add_argument("--out", default="benchmarks/results/text_sampling.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tok = CharTokenizer.fit(string.printable)  # 100 characters
    vocab = {"vocab_size": tok.vocab_size, "tokenizer": tok.to_dict()}
    models = default_models(vocab)

    rows = scaling(models, args.lengths)
    print(f"| {'model (untrained, default size)':<34} | {'length':>7} | {'seconds':>8} | {'chars/s':>8} | "
          f"{'vs shortest':>11} |")
    print(f"|{'-' * 36}|{'-' * 9}|{'-' * 10}|{'-' * 10}|{'-' * 13}|")
    linear = {}
    for name, _ in models:
        mine = [r for r in rows if r["model"] == name]
        for r in mine:
            r["rate_vs_shortest"] = r["chars_per_sec"] / mine[0]["chars_per_sec"]
            print(f"| {name:<34} | {r['length']:>7} | {r['seconds']:>8.2f} | {r['chars_per_sec']:>8.0f} | "
                  f"{r['rate_vs_shortest']:>10.2f}x |")
        # Linear time: the longest sample runs at (nearly) the rate of the shortest; quadratic time would divide the
        # rate by the length ratio (100x for 500 -> 50,000).
        linear[name] = mine[-1]["rate_vs_shortest"] >= 0.5
    summary = {"scaling": rows, "linear_time": linear, "torch_threads": args.threads,
               "models": "freshly initialised (untrained) genlab defaults, 100-character vocabulary; "
                         "timed through genlab.text.sample with a discarding stream (the CLI's path)"}
    print("\nlinear time (rate at the longest length >= half the rate at the shortest): " +
          ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in linear.items()))

    if args.compare_reencoding:
        comp = reencoding(models, vocab, tok, args.compare_length)
        label = {"LSTM": ("stateful", "re-encode last 60"), "GPT": ("KV cache", "no cache (re-encode context)")}
        print(f"\n| {'model':<34} | {'fast path':<14} | {'chars/s':>8} | {'slow path':<28} | {'chars/s':>8} | "
              f"{'speed-up':>8} |")
        print(f"|{'-' * 36}|{'-' * 16}|{'-' * 10}|{'-' * 30}|{'-' * 10}|{'-' * 10}|")
        for r in comp:
            fast_name, slow_name = label[r["model"].split()[0]]
            print(f"| {r['model']:<34} | {fast_name:<14} | {r['fast_chars_per_sec']:>8.0f} | {slow_name:<28} | "
                  f"{r['slow_chars_per_sec']:>8.0f} | {r['speedup']:>7.1f}x |")
        summary.update({"rows": comp, "length": args.compare_length, "n": 1})
    write_results(args.out, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
