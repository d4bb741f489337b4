"""MuseGAN on the JSB chorales (all 2-bar windows, hop 1 bar): the objective metrics of Dong et al. 2018 on 2,000
generated windows beside the real valid windows, and the memorisation check (nearest training window).

    flock /tmp/genlab-bench.lock .venv/bin/python benchmarks/musegan_chorales.py              # this session's budget
    flock /tmp/genlab-bench.lock .venv/bin/python benchmarks/musegan_chorales.py --full       # the issue's 45 CPU-min,
                                                                                              # Foster's widths

Each stage is cached in --work (the run folder, its eval.json): a stopped run continues (training resumes from its
last checkpoint with what is left of the budget), and a finished stage is not redone. Prints a table and writes
benchmarks/results/musegan_chorales.json plus the figures under benchmarks/results/musegan_chorales/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=None, help="training wall-clock seconds (default 300; --full: 2700)")
    p.add_argument("--full", action="store_true", help="the issue's budget (45 min) at Foster's widths")
    p.add_argument("--g-width", type=int, default=None, help="bar-generator width (default 128; --full: 512)")
    p.add_argument("--d-width", type=int, default=None, help="critic width (default 32; --full: 128)")
    p.add_argument("--temporal-width", type=int, default=None, help="temporal-network width (default 256; --full 1024)")
    p.add_argument("--batch-size", type=int, default=None, help="(default 32; --full: 64)")
    p.add_argument("--samples", type=int, default=2000, help="generated windows for the metrics (default 2000)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: fastest on a shared machine)")
    p.add_argument("--work", default=None, help="cache folder (default runs/bench/musegan_chorales[_full])")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    full = args.full
    budget = args.budget or (2700.0 if full else 300.0)
    widths = dict(g_width=args.g_width or (512 if full else 128), d_width=args.d_width or (128 if full else 32),
                  temporal_width=args.temporal_width or (1024 if full else 256))
    batch = args.batch_size or (64 if full else 32)
    tag = "musegan_chorales_full" if full else "musegan_chorales"
    work = Path(args.work or f"runs/bench/{tag}")
    figures = RESULTS / tag
    figures.mkdir(parents=True, exist_ok=True)

    from genlab.core.engine import TrainConfig
    from genlab.music.musegan import MuseGANConfig
    from genlab.music.musegan_api import DEFAULT_TRAIN, MuseGANDataConfig, evaluate, sample, train
    from genlab.music.musegan_trainer import MuseGANTrainOptions

    # ---- stage 1: train for the budget (resumable) ------------------------------------------------------------
    stage = work / "bench_train.json"
    run = work / "run"
    if stage.exists():
        trained = json.loads(stage.read_text())
        print(f"stage 1 cached: {trained['steps']} critic steps in {trained['seconds']:.0f} s")
    else:
        spent = 0.0
        partial = work / "bench_partial.json"
        if partial.exists():
            spent = json.loads(partial.read_text())["seconds"]
        left = max(1.0, budget - spent)
        resume = (run / "checkpoints").exists()
        cfg = TrainConfig(**{**DEFAULT_TRAIN, "max_steps": 1_000_000, "batch_size": batch, "max_time": f"{left:.0f}s",
                             "eval_every": 0, "sample_every": 0, "checkpoint_every": 200, "progress": True,
                             "tensorboard": False, "seed": args.seed})
        t0 = time.time()
        try:
            if resume:
                result = train(out=run, resume=True, overrides={"max_time": f"{left:.0f}s", "max_steps": 1_000_000})
            else:
                result = train(MuseGANConfig(**widths), MuseGANDataConfig(), cfg,
                               MuseGANTrainOptions(eval_samples=0), out=run)
        finally:
            work.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps({"seconds": spent + time.time() - t0}))
        seconds = spent + time.time() - t0
        trained = {"steps": result.step, "generator_steps": result.step // 5, "seconds": seconds,
                   "final_wasserstein": result.metrics.get("train/wasserstein")}
        stage.write_text(json.dumps(trained))

    # ---- stage 2: metrics of 2,000 samples vs the real valid windows, memorisation ----------------------------
    eval_path = work / "eval.json"
    if eval_path.exists():
        ev = json.loads(eval_path.read_text())
        print("stage 2 cached")
    else:
        t0 = time.time()
        ev = evaluate(run, n_samples=args.samples, seed=args.seed, output=eval_path,
                      memorisation_figure=figures / "memorisation.png")
        ev["seconds"] = time.time() - t0
        eval_path.write_text(json.dumps({k: v for k, v in ev.items() if k != "lines"}, indent=1))

    # ---- stage 3: the chapter's figures (per-track rolls, noise grid) + MIDI/WAV ------------------------------
    s = sample(run, n=2, seed=args.seed, out=figures, wav=False)  # MIDI + PNG (WAVs are 0.8 MB each)

    gen, real, mem = ev["generated"], ev["real_valid"], ev["memorisation"]
    rows = [("empty-bar rate", gen["empty_bar_rate"]["mean"], real["empty_bar_rate"]["mean"]),
            ("used pitch classes / bar", gen["used_pitch_classes"]["mean"], real["used_pitch_classes"]["mean"]),
            ("qualified-note rate (>=2 steps)", gen["qualified_note_rate"]["mean"], real["qualified_note_rate"]["mean"]),
            *[(f"tonal distance {pair}", gen["tonal_distance"][pair], real["tonal_distance"][pair])
              for pair in ("soprano-bass", "soprano-alto", "tenor-bass")],
            ("TD soprano vs another window's bass", None, real["tonal_distance_soprano_other_bass"]),
            ("exact copies of a training window", mem["generated"]["exact_copy_rate"],
             mem["real_valid"]["exact_copy_rate"]),
            ("near copies (distance < 0.1)", mem["generated"]["near_copy_rate"], mem["real_valid"]["near_copy_rate"]),
            ("median distance to nearest train window", mem["generated"]["median_normalised_distance"],
             mem["real_valid"]["median_normalised_distance"])]

    def f(x):
        return "-" if x is None else f"{x:.3f}"

    print(f"\nMuseGAN, JSB chorales (Jsb16thSeparated, {mem['training_windows']} train windows), "
          f"{trained['steps']} critic steps / {trained['steps'] // 5} generator steps in {trained['seconds']:.0f} s "
          f"({torch.get_num_threads()} thread(s)), widths {widths}, batch {batch}")
    print(f"{'metric':<42}{'generated':>11}{'real valid':>12}")
    for name, g, r in rows:
        print(f"{name:<42}{f(g):>11}{f(r):>12}")
    print(f"({ev['protocol']['samples']} generated windows vs {ev['protocol']['real_windows']} real valid windows)")
    write_results(RESULTS / f"{tag}.json", {
        "benchmark": "MuseGAN objective metrics, JSB chorales (Dong et al. 2018 metrics; Foster ch. 7 model)",
        "budget": {"train_seconds": budget, "issue_budget_seconds": 2700,
                   "note": "scaled down from the issue's ~45 CPU-minutes to fit this session" if not full else "full"},
        "model": widths, "batch_size": batch, "trained": trained, "protocol": ev["protocol"],
        "generated": gen, "real_valid": real, "memorisation": mem,
        "figures": {"memorisation": ev.get("memorisation_figure"), "noise_grid": s.get("noise_grid"),
                    "samples": s["samples"]}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
