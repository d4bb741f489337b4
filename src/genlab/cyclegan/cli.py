"""``genlab cyclegan train|sample|translate|evaluate`` (on :mod:`genlab.core.clikit`).

    genlab cyclegan train --domain-a mnist --domain-b mnist-photo --generator resnet --resnet-blocks 6 --out RUN
    genlab cyclegan evaluate RUN [--n 2000] [--output FILE.json]
    genlab cyclegan sample RUN [--out DIR | --output FILE.png]
    genlab cyclegan translate RUN IMAGE... --direction a2b|b2a --out DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core import clikit
from ..core.clikit import say

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _api():
    from . import api  # the networks load only when a command runs
    return api


def _build(given: dict) -> dict:
    from ..core.config import from_dict
    from .data import UnpairedDataConfig
    from .models import CycleGANConfig
    from .trainer import CycleGANOptions

    return {"data_config": from_dict(UnpairedDataConfig, given["data_config"]),
            "model_config": from_dict(CycleGANConfig, given["model_config"]),
            "options": from_dict(CycleGANOptions, given["options"])}


def _summary(result) -> list[str]:
    m, ev = result.metrics or {}, result.eval_metrics or {}
    lines = []
    if "train/cycle" in m:
        lines.append(f"cycle L1 {m['train/cycle']:.3f} (A and B summed, [-1, 1] scale), D_A {m.get('train/d_a', 0):.3f}, "
                     f"D_B {m.get('train/d_b', 0):.3f}")
    if "eval/label_a2b" in ev:
        lines.append(f"label preservation A->B {ev['eval/label_a2b']:.1%}, B->A {ev['eval/label_b2a']:.1%} "
                     f"(quick check on --eval-samples test images; `genlab cyclegan evaluate` for the full report)")
    return lines


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from .api import DEFAULT_TRAIN
    from .data import UnpairedDataConfig
    from .models import CycleGANConfig
    from .trainer import CycleGANOptions

    sub = clikit.family_parser(subparsers, "cyclegan", help="unpaired image-to-image translation (CycleGAN)",
                               description="Train, sample, translate and evaluate CycleGANs (Zhu et al. 2017).")
    clikit.add_train_command(
        sub, family="cyclegan", train=lambda: _api().train,
        groups=[clikit.Options("data_config", UnpairedDataConfig, "data"),
                clikit.Options("model_config", CycleGANConfig, "model"),
                clikit.Options("options", CycleGANOptions, "objective")],
        train_defaults=DEFAULT_TRAIN, train_exclude=("optimizer", "weight_decay", "grad_clip"), build=_build,
        summary=_summary, help="train a CycleGAN",
        description="Train a CycleGAN between two unpaired image domains: the built-in mnist <-> mnist-photo pair "
                    "(digits vs MNIST-M-style digits on photo patches, disjoint halves of MNIST) or two folders. "
                    "One step = one update of both generators, then of both discriminators. Adam (paper: 2e-4, "
                    "beta1 0.5), constant LR then linear decay to 0 (--decay-start). Memory: the images are held "
                    "as uint8 at --size (a 1,000-photo folder at --size 143 is ~61 MB per domain); a ResNet-9 "
                    "step at --crop 128, batch 1, peaked at 2.0 GB resident (measured on CPU).",
        out_help="run folder (default: runs/cyclegan/<A>-<B>-<generator>-<time>)")

    s = sub.add_parser("sample", help="the cycle figure: original | translated | reconstructed, both directions",
                       description="Write Foster's figure from test images: columns A | G(A) | F(G(A)) | B | F(B) | "
                                   "G(F(B)).")
    clikit.add_run_argument(s)
    s.add_argument("--n", type=int, default=6, help="test images per direction (default: 6)")
    s.add_argument("--seed", type=int, default=0, help="which test images (default: 0)")
    clikit.add_output_arguments(s, default="RUN_DIR/samples, as cycle_seed<SEED>.png", what="the PNG")
    clikit.add_device_argument(s)
    s.set_defaults(func=_sample)

    t = sub.add_parser("translate", help="translate image files with G (a2b) or F (b2a)",
                       description="Translate images: each is read in the source domain's mode (others are "
                                   "converted, with a note), resized and centre-cropped to the run's --size.")
    clikit.add_run_argument(t)
    t.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    t.add_argument("--direction", choices=("a2b", "b2a"), default="a2b", help="a2b (G) or b2a (F) (default: a2b)")
    t.add_argument("--size", type=int, default=None, help="side to translate at (default: the run's --size)")
    t.add_argument("--out", metavar="DIR", required=True, help="folder for <name>_<direction>.png")
    clikit.add_device_argument(t)
    t.set_defaults(func=_translate)

    e = sub.add_parser("evaluate", help="label preservation both ways, FID/KID, the steganography check",
                       description="On mnist <-> mnist-photo: label preservation of each direction (the target "
                                   "domain's frozen judge on translated test images) beside source-only and ceiling, "
                                   "FID/KID on the judges' features, and Chu et al.'s steganography check; on folders: "
                                   "the cycle error and the steganography check. Writes RUN_DIR/eval.json.")
    clikit.add_run_argument(e)
    e.add_argument("--n", type=int, default=2000, help="test images per direction (seeded subset; default: 2000)")
    e.add_argument("--seed", type=int, default=0, help="subset seed (default: 0)")
    e.add_argument("--stego-noise", type=float, default=0.01,
                   help="std of the noise added to G(x) in the steganography check, in [0, 1] pixels (default: 0.01)")
    e.add_argument("--domain-a", help="score on this domain-A test data instead of the run's (built-in name or folder)")
    e.add_argument("--domain-b", help="score on this domain-B test data instead of the run's")
    clikit.add_output_arguments(e, default="RUN_DIR, as eval.json", what="the JSON")
    clikit.add_device_argument(e)
    e.set_defaults(func=_evaluate)


def _sample(args: argparse.Namespace) -> int:
    path = clikit.resolve_output(args, default_dir=Path(args.run) / "samples", filename=f"cycle_seed{args.seed}.png",
                                 suffixes=IMAGE_SUFFIXES)
    path = _api().sample(args.run, n=args.n, seed=args.seed, out=path, device=args.device)
    clikit.print_written(path)
    return 0


def _translate(args: argparse.Namespace) -> int:
    folder = clikit.check_output_dir(args.out)
    written = _api().translate(args.run, args.images, direction=args.direction, out=folder, size=args.size,
                               device=args.device)
    say(f"translated {len(written)} image(s) {args.direction}")
    clikit.print_written(folder)
    return 0


def _eval_data(args: argparse.Namespace):
    if not (args.domain_a or args.domain_b):
        return None
    from ..core.config import from_dict, to_dict
    from .api import run_data_config
    from .data import UnpairedDataConfig

    base = run_data_config(Path(args.run)) or UnpairedDataConfig()
    changes = {k: v for k, v in (("domain_a", args.domain_a), ("domain_b", args.domain_b)) if v}
    return from_dict(UnpairedDataConfig, {**to_dict(base), **changes})


def _evaluate(args: argparse.Namespace) -> int:
    path = clikit.resolve_output(args, default_dir=Path(args.run), filename="eval.json", suffixes=(".json",))
    r = _api().evaluate(args.run, n=args.n, seed=args.seed, out=path, data_config=_eval_data(args),
                        stego_noise=args.stego_noise, device=args.device)
    lp = r.get("label_preservation")
    if lp:
        for d, name in (("a2b", "A->B (G)"), ("b2a", "B->A (F)")):
            x = lp[d]
            say(f"label preservation {name}: {x['accuracy']:.1%} (source-only {x['source_only']:.1%}, ceiling "
                f"{x['ceiling']:.1%}; {x['judge']}, {x['n']} test images)")
        fk = r["fid_kid"]
        for d in ("a2b", "b2a"):
            x = fk[d]
            say(f"FID {d} {x['fid']:.2f} (untranslated {x['untranslated_fid']:.2f}), KID {x['kid_mean']:.4f} ± "
                f"{x['kid_std']:.4f} raw; {x['what']}, {x['n_fake']} vs {x['n_real']} images, features: "
                f"{x['features'].split(' (')[0]}")
        if fk.get("warning"):
            clikit.stderr(f"warning: {fk['warning']}")
    else:
        clikit.stderr(f"note: {r['note']}")
    for d in ("a2b", "b2a"):
        x = r["steganography"][d]
        say(f"steganography {d}: cycle L1 {x['cycle_l1']:.4f} clean, {x['cycle_l1_noisy']:.4f} with noise std "
            f"{x['noise_std']:g} on the translation (x{x['ratio']:.2f}; {x['n']} test images)")
    clikit.print_written(path)
    return 0
