"""Foster's note/duration model on the Essen folk songs (music21's corpus, split by tune, 10% valid): valid pitch and
duration cross-entropy (nats per note) with attention vs the same model without attention at an equal budget, beside
Witten-Bell unigram/bigram/trigram baselines on the same notes, and sampling speed (notes/s).

The issue's budget is 30 CPU-minutes per model; this session allows ~2 minutes each (stated in the table and JSON).
Each stage is cached in --work (a finished run is not retrained; a stopped one resumes). One torch thread.

    flock /tmp/genlab-bench.lock python benchmarks/music_notes.py                 # ~4 min: 2 x 2 min
    python benchmarks/music_notes.py --minutes 30 --steps 20000                   # the issue's budget
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from common import write_results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=2.0, help="wall-clock budget per model (default: 2)")
    ap.add_argument("--steps", type=int, default=1200, help="optimiser steps per model, the LR schedule's length "
                                                            "(the budget stops earlier if it runs out)")
    ap.add_argument("--work", default="runs/bench/music_notes", help="run folders (cache; under runs/, not in git)")
    ap.add_argument("--out", default="benchmarks/results/music_notes.json")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from genlab import music
    from genlab.core.checkpoint import latest_checkpoint
    from genlab.core.engine import TrainConfig
    from genlab.music.api import generate_notes, load_music_model, train_defaults

    rows = []
    ev = None
    for name, attention in (("LSTM 2x256 + attention (Foster)", "additive"), ("LSTM 2x256, no attention", "none")):
        run = Path(args.work) / attention
        tc = TrainConfig(**{**train_defaults("rnn-attention"), "max_steps": args.steps, "eval_every": 200,
                            "sample_every": 0, "checkpoint_every": 200, "progress": False, "tensorboard": False,
                            "max_time": f"{args.minutes * 60:.0f}s"})
        done = (run / "best" / "best.json").is_file() and (run / "model.safetensors").is_file()
        steps = secs = None
        if not done:
            if latest_checkpoint(run) is not None:
                r = music.train(out=run, resume=True, overrides={})
            else:
                r = music.train(music.MusicDataConfig(model="rnn-attention", data="essen"),
                                {"attention": attention}, tc, out=run)
            steps, secs = r.step, r.seconds
        ev = music.evaluate(run, n_samples=8, output=run / "eval_valid.json")
        model, _ = load_music_model(run)
        t0 = time.perf_counter()
        generate_notes(model, length=256, seed=0)
        rate = 256 / (time.perf_counter() - t0)
        rows.append({"model": name, "attention": attention, "pitch_ce": ev["pitch_ce"],
                     "duration_ce": ev["duration_ce"], "joint": ev["pitch_ce"] + ev["duration_ce"],
                     "trained_steps": steps, "train_seconds": secs, "sampling_notes_per_s": rate,
                     "memorisation": ev["memorisation"], "best_model": ev["model"]})
        print(f"{name}: pitch {ev['pitch_ce']:.3f} duration {ev['duration_ce']:.3f}", file=sys.stderr)
    b = ev["baselines"]
    print(f"\nEssen folk songs, valid split ({ev['notes']} notes, {ev['tunes']} tunes): cross-entropy, nats per note")
    print(f"{'model':<34}{'pitch':>8}{'duration':>10}{'joint':>8}{'steps':>7}{'notes/s':>9}")
    for label in ("unigram", "bigram", "trigram"):
        print(f"{label + ' (Witten-Bell)':<34}{b[label]['pitch_ce']:>8.3f}{b[label]['duration_ce']:>10.3f}"
              f"{b[label]['pitch_ce'] + b[label]['duration_ce']:>8.3f}{'-':>7}{'-':>9}")
    for r in rows:
        print(f"{r['model']:<34}{r['pitch_ce']:>8.3f}{r['duration_ce']:>10.3f}{r['joint']:>8.3f}"
              f"{str(r['trained_steps'] or 'cached'):>7}{r['sampling_notes_per_s']:>9.0f}")
    write_results(args.out, {"benchmark": "music_notes",
                             "data": f"Essen folk songs (music21 corpus) [valid]: {ev['tunes']} tunes, "
                                     f"{ev['notes']} notes, split by tune",
                             "metric": "cross-entropy, nats per note, each head's softmax",
                             "budget": f"{args.minutes} min wall per model, at most {args.steps} steps of batch 64 x "
                                       f"32 notes, {args.threads} torch thread(s), shared 2-core CPU "
                                       f"(the issue asks 30 CPU-minutes)",
                             "baselines": b, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
