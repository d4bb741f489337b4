"""Sampling speed: stateful LSTM vs the seeds' re-encoding, and GPT with vs without its key/value cache.

The seeds (Deep Learning with Python's char-LSTM) generate each new character by running the model over the last
60 characters again. genlab's RNN carries its hidden state (one time step per character) and its GPT keeps a
key/value cache (one position per token). Both produce the same distribution as the slow path while the sequence
fits the window (tests/text/test_models.py checks token-for-token equality). Speed does not depend on the
weights, so the models here are freshly initialised with genlab's default sizes and a 100-character vocabulary.

    python benchmarks/text_sampling.py [--length 400] [--out benchmarks/results/text_sampling.json]
"""

from __future__ import annotations

import argparse
import string
import sys
import time

import torch

from genlab.text import GPT, GPTConfig, LSTMLanguageModel, RNNConfig, generate_ids, generate_ids_reencoding
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--length", type=int, default=400, help="characters to generate per run")
    ap.add_argument("--n", type=int, default=1, help="samples generated at once")
    ap.add_argument("--out", default="benchmarks/results/text_sampling.json")
    args = ap.parse_args()
    tok = CharTokenizer.fit(string.printable)  # 100 characters
    vocab = {"vocab_size": tok.vocab_size, "tokenizer": tok.to_dict()}
    torch.manual_seed(0)
    models = [("LSTM (256 x 2, default)", LSTMLanguageModel(RNNConfig(**vocab)), 60),
              ("LSTM (1024 x 3)", LSTMLanguageModel(RNNConfig(hidden_size=1024, num_layers=3, **vocab)), 60),
              ("GPT (4 x 64, context 64, default)", GPT(GPTConfig(**vocab)), 64),
              ("GPT (6 x 384, context 256)", GPT(GPTConfig(n_layer=6, n_head=6, n_embd=384, block_size=256,
                                                           **vocab)), 256)]
    prompt = tok.encode("the seeds sample one character at a time after a sixty-char")[:60]
    kw = dict(n=args.n, length=args.length, temperature=1.0, seed=0)
    rows = []
    for name, model, window in models:
        model.eval()
        fast = timed(lambda m=model: generate_ids(m, prompt, **kw))
        slow = timed(lambda m=model, w=window: generate_ids_reencoding(m, prompt, window=w, **kw), repeats=1)
        chars = args.length * args.n
        rows.append({"model": name, "window": window, "fast_chars_per_sec": chars / fast,
                     "slow_chars_per_sec": chars / slow, "speedup": slow / fast})
    label = {"LSTM": ("stateful", "re-encode last 60"), "GPT": ("KV cache", "no cache (re-encode context)")}
    # The slow path always sees the last `window` tokens; the GPT rows generate past their context only with 400
    # tokens and the 64-token model, where the cached path slides its window (see generate_ids).
    print(f"| {'model':<34} | {'fast path':<14} | {'chars/s':>8} | {'slow path':<28} | {'chars/s':>8} | {'speed-up':>8} |")
    print(f"|{'-' * 36}|{'-' * 16}|{'-' * 10}|{'-' * 30}|{'-' * 10}|{'-' * 10}|")
    for r in rows:
        fast_name, slow_name = label[r["model"].split()[0]]
        print(f"| {r['model']:<34} | {fast_name:<14} | {r['fast_chars_per_sec']:>8.0f} | {slow_name:<28} | "
              f"{r['slow_chars_per_sec']:>8.0f} | {r['speedup']:>7.1f}x |")
    summary = {"rows": rows, "length": args.length, "n": args.n,
               "goal_lstm_50x": rows[0]["speedup"] >= 50}
    # Why the default LSTM falls short of 50x on a CPU: at batch 1 a step is ~18 tiny eager ops plus a gemv over
    # ~3 MB of weights (~0.3 ms), while re-encoding 60 characters is one fused oneDNN call (~3 ms).
    print(f"\nLSTM goal (>= 50x): {'met' if summary['goal_lstm_50x'] else 'NOT met'}")
    write_results(args.out, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
