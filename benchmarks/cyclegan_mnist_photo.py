"""CycleGAN on mnist <-> mnist-photo: genlab's ResNet-6 and U-Net beside the reference implementation itself
(junyanz/pytorch-CycleGAN-and-pix2pix, its own train.py on CPU), at the same wall-clock, scored by genlab's judges.

    flock /tmp/genlab-bench.lock .venv/bin/python benchmarks/cyclegan_mnist_photo.py --reference /tmp/cg_ref \\
        --minutes 10 [--full]          # --full: the issue's 15 CPU-minutes per arm

The three arms train *at the same time* (one thread each), so they share whatever load the machine has; each stops
at the wall-clock budget. Stages are cached under --work (the PNG export, each arm's run, each score), so a stopped
run continues; --fresh starts over. The reference is brought in for the benchmark only, never vendored: pass a
checkout (--reference DIR); its weights are loaded into its own network classes (imported from that checkout) and
scored with genlab's evaluate code (label preservation both ways, FID/KID on the judges' features, stego check).

Reported: the FINAL checkpoint of each arm (the reference's last 'latest' save), never the best seen.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
RESULTS = REPO / "benchmarks" / "results"


def export_pair(root: Path, data_dir: str | None) -> dict:
    """The built-in pair's training halves as trainA/trainB PNG folders (lossless: the same pixels genlab trains on)."""
    done = root / ".done"
    if done.exists():
        return json.loads(done.read_text())
    from PIL import Image

    from genlab.cyclegan.data import UnpairedDataConfig, load_domains

    d = load_domains(UnpairedDataConfig(data_dir=data_dir))
    counts = {}
    # train folders only: the reference trains on them; every arm is scored on the same in-memory test split
    for name, data in (("trainA", d.a_train), ("trainB", d.b_train)):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i, img in enumerate(data.images):
            arr = img.numpy()
            pil = Image.fromarray(arr[0], "L") if arr.shape[0] == 1 else Image.fromarray(arr.transpose(1, 2, 0), "RGB")
            pil.save(folder / f"{i:05d}.png")
        counts[name] = len(data)
    done.write_text(json.dumps(counts))
    return counts


def run_arm(cmd: list[str], log: Path, env: dict) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=REPO,
                            start_new_session=True)


def genlab_cmd(run: Path, generator: str, args, minutes: float) -> list[str]:
    return [str(REPO / ".venv" / "bin" / "genlab"), "cyclegan", "train", "--domain-a", "mnist", "--domain-b",
            "mnist-photo", "--data-dir", args.data_dir, "--generator", generator, "--ngf", str(args.ngf), "--ndf",
            str(args.ndf), "--batch-size", str(args.batch_size), "--max-time", f"{minutes * 60:.0f}s",
            "--epochs", "100", "--decay-start", "1", "--eval-samples", "0", "--sample-every", "0",
            "--checkpoint-every", "500", "--log-every", "50", "--no-tensorboard", "--no-progress", "--device", "cpu",
            "--out", str(run)]


def reference_cmd(ref: Path, data: Path, ckpt: Path, args) -> list[str]:
    return [sys.executable, str(ref / "train.py"), "--dataroot", str(data), "--name", "mnist_photo",
            "--checkpoints_dir", str(ckpt), "--model", "cycle_gan", "--which_model_netG", "resnet_6blocks",
            "--ngf", str(args.ngf), "--ndf", str(args.ndf), "--input_nc", "1", "--output_nc", "3",
            "--loadSize", "32", "--fineSize", "32", "--no_flip", "--no_dropout", "--lambda_identity", "0", "--batchSize", "1",
            "--gpu_ids", "-1", "--display_id", "0", "--no_html", "--nThreads", "0", "--print_freq", "100",
            "--save_latest_freq", "100", "--niter", "100", "--niter_decay", "100"]


def reference_model(ref: Path, ckpt: Path, args):
    """The reference's final G_A / G_B (its own ResnetGenerator classes) inside a genlab CycleGAN shell, so genlab's
    evaluate code can score them (only g_ab / g_ba are used)."""
    import torch

    from genlab.cyclegan.models import CycleGAN, CycleGANConfig

    sys.path.insert(0, str(ref))
    import functools

    from models.networks import ResnetGenerator  # the reference's own class
    from torch import nn

    norm = functools.partial(nn.InstanceNorm2d, affine=False)
    model = CycleGAN(CycleGANConfig(image_size=32, channels_a=1, channels_b=3, ngf=args.ngf, ndf=args.ndf))
    folder = ckpt / "mnist_photo"
    for name, attr, (cin, cout) in (("G_A", "g_ab", (1, 3)), ("G_B", "g_ba", (3, 1))):
        g = ResnetGenerator(cin, cout, args.ngf, norm_layer=norm, use_dropout=False, n_blocks=6)
        g.load_state_dict(torch.load(folder / f"latest_net_{name}.pth", map_location="cpu", weights_only=True))
        setattr(model, attr, g)
    return model.eval()


def steps_of_reference(log: Path) -> int | None:
    """The reference prints '(epoch: E, iters: I, ...)': the last I seen (images = steps at batch 1)."""
    import re

    iters = re.findall(r"iters: (\d+)", log.read_text(errors="replace")) if log.exists() else []
    return int(iters[-1]) if iters else None


def score(model_or_run, args, out: Path) -> dict:
    from genlab.cyclegan import evaluate
    from genlab.cyclegan.data import UnpairedDataConfig

    if out.exists():
        return json.loads(out.read_text())
    cfg = UnpairedDataConfig(data_dir=args.data_dir)
    r = evaluate(model_or_run, n=args.n, seed=0, out=out, data_config=cfg, device="cpu")
    return r


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", type=Path, help="checkout of junyanz/pytorch-CycleGAN-and-pix2pix (train.py)")
    p.add_argument("--reference-shims", type=Path, default=None,
                   help="folder put first on the reference's PYTHONPATH (e.g. a stand-in for the 'dominate' HTML "
                        "package its visualizer imports)")
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mnist"))
    p.add_argument("--work", type=Path, default=Path("/tmp/genlab-bench-cyclegan"))
    p.add_argument("--minutes", type=float, default=10.0, help="wall-clock per arm (all arms run at once)")
    p.add_argument("--full", action="store_true", help="the issue's budget: 15 minutes per arm")
    p.add_argument("--ngf", type=int, default=16)
    p.add_argument("--ndf", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=4, help="genlab's arms (the reference trains at its batch 1)")
    p.add_argument("--n", type=int, default=2000, help="test images per direction for the scores")
    p.add_argument("--fresh", action="store_true")
    args = p.parse_args()
    minutes = 15.0 if args.full else args.minutes
    import genlab.cyclegan.judges  # noqa: F401 - pin the scoring code now (arms train for minutes meanwhile)
    work = args.work
    if args.fresh and work.exists():
        import shutil
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    counts = export_pair(work / "pair", args.data_dir)
    print(f"pair exported: {counts} ({time.time() - t0:.0f} s)", flush=True)

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    arms = {"genlab-resnet6": work / "runs" / "resnet6", "genlab-unet": work / "runs" / "unet"}
    procs = {}
    for name, run in arms.items():
        if (run / "model.safetensors").exists() or (run / "checkpoints").exists():
            continue  # trained (or stopped) before: cached
        gen = "resnet" if "resnet" in name else "unet"
        procs[name] = run_arm(genlab_cmd(run, gen, args, minutes), work / "logs" / f"{name}.log", env)
    ref_ckpt = work / "reference"
    ref_log = work / "logs" / "reference.log"
    if args.reference is not None and not (ref_ckpt / "mnist_photo" / "latest_net_G_A.pth").exists():
        renv = dict(env)
        paths = [str(args.reference)] + ([str(args.reference_shims)] if args.reference_shims else [])
        renv["PYTHONPATH"] = os.pathsep.join(paths)
        procs["reference-resnet6"] = run_arm(reference_cmd(args.reference, work / "pair", ref_ckpt, args), ref_log,
                                             renv)
        ref_started = time.time()
    if "reference-resnet6" in procs:
        # train.py has no time limit: stop it at the budget (its last 'latest' save is the final checkpoint)
        while time.time() - ref_started < minutes * 60 and procs["reference-resnet6"].poll() is None:
            time.sleep(5)
        if procs["reference-resnet6"].poll() is None:
            os.killpg(procs["reference-resnet6"].pid, signal.SIGTERM)
    for name, proc in procs.items():
        proc.wait()
        print(f"{name}: exit {proc.returncode} ({time.time() - t0:.0f} s)", flush=True)

    from genlab.core.tracking import read_metrics

    rows = {}
    for name, run in arms.items():
        metrics = [r for r in read_metrics(run) if "samples_per_sec" in r]
        steps = metrics[-1]["step"] if metrics else None
        rate = sorted(r["samples_per_sec"] for r in metrics[1:] or metrics)
        pairs = steps * args.batch_size if steps else None
        # the same definition for every arm: image pairs trained within the budget / the budget (startup included)
        rows[name] = {"steps": steps, "pairs": pairs, "pairs_per_s": pairs / (minutes * 60) if pairs else None,
                      "pairs_per_s_logged_median": rate[len(rate) // 2] if rate else None,
                      "scores": score(run, args, work / "scores" / f"{name}.json")}
    if args.reference is not None and (ref_ckpt / "mnist_photo" / "latest_net_G_A.pth").exists():
        images = steps_of_reference(ref_log)
        rows["reference-resnet6"] = {"steps": images, "pairs": images,
                                     "pairs_per_s": images / (minutes * 60) if images else None,
                                     "scores": score(reference_model(args.reference, ref_ckpt, args), args,
                                                     work / "scores" / "reference-resnet6.json")}
    table(rows, minutes, args)
    return 0


def table(rows: dict, minutes: float, args) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    head = f"{'arm':<20}{'pairs/s':>9}{'pairs':>8}{'G(A)->B lab':>12}{'F(B)->A lab':>12}{'FID a2b':>9}{'FID b2a':>9}" \
           f"{'stego a2b':>10}"
    print(head)
    base = None
    for name, r in rows.items():
        s = r["scores"]
        lp, fk, st = s["label_preservation"], s["fid_kid"], s["steganography"]
        base = base or lp
        rate = f"{r['pairs_per_s']:.2f}" if r["pairs_per_s"] else "?"
        print(f"{name:<20}{rate:>9}{r['pairs'] or 0:>8}{lp['a2b']['accuracy']:>12.1%}{lp['b2a']['accuracy']:>12.1%}"
              f"{fk['a2b']['fid']:>9.1f}{fk['b2a']['fid']:>9.1f}{st['a2b']['ratio']:>9.2f}x")
    if base:
        print(f"{'source-only':<37}{base['a2b']['source_only']:>12.1%}{base['b2a']['source_only']:>12.1%}")
        print(f"{'ceiling (real target)':<37}{base['a2b']['ceiling']:>12.1%}{base['b2a']['ceiling']:>12.1%}")
    out = {"budget_minutes_per_arm": minutes, "arms_concurrent": True, "threads_per_arm": 1, "ngf": args.ngf,
           "ndf": args.ndf, "genlab_batch_size": args.batch_size, "reference_batch_size": 1, "image_size": 32,
           "test_images_per_direction": args.n, "lr_schedule": "constant (decay not reached in the budget)",
           "identity_loss": "off (grey A, RGB B)", "final_checkpoint": True, "rows": rows,
           "features": {"a2b": "domain-B judge", "b2a": "genlab MNIST domain classifier"},
           "machine_note": "2 shared CPU cores, other engineers' jobs running (load average ~10)"}
    path = RESULTS / "cyclegan_mnist_photo.json"
    path.write_text(json.dumps(out, indent=1, default=str))
    print(f"written to {path}")


if __name__ == "__main__":
    sys.exit(main())
