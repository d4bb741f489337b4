"""``genlab gan train|sample|evaluate`` (on :mod:`genlab.core.clikit`).

    genlab gan train --dataset fashion-mnist --loss hinge --size 28 --out runs/gan/fashion
    genlab gan sample runs/gan/fashion --n 64 [--out DIR | --output FILE.png] [--no-ema]
    genlab gan evaluate runs/gan/fashion [--fid-samples 10000] [--output FILE.json] [--inception]
    genlab gan train --arch progan|stylegan --dataset fashion-mnist --out runs/gan/style
    genlab gan sample runs/gan/style --truncation 0.7 --out DIR
    genlab gan mix runs/gan/style --out DIR [--layers coarse|middle|fine|I-J]
    genlab gan noise runs/gan/style --out DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core import clikit
from ..core.clikit import say
from ..data.datasets import ImageDataConfig, add_evaluation_data_arguments, evaluation_data_config

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _api():
    from . import api  # the models load only when a command runs
    return api


class _TrainDefaults(dict):
    """genlab's GAN recipe (what ``-h`` shows); called with the configs, it adds the chosen loss's optimiser defaults
    (WGAN's RMSprop 5e-5, WGAN-GP's Adam 1e-4 with betas (0, 0.9)) under what the user typed."""

    def __call__(self, configs: dict) -> dict:
        from .api import LOSS_TRAIN_DEFAULTS
        from .arch import ARCH_TRAIN_DEFAULTS
        arch = getattr(configs["model_config"], "arch", "dcgan")
        if arch != "dcgan":
            return {**self, **ARCH_TRAIN_DEFAULTS[arch]}
        return {**self, **LOSS_TRAIN_DEFAULTS.get(configs["model_config"].loss, {})}


def _build(given: dict) -> dict:
    """The configs of a new run: ``--size`` is the model's image side; ``--image-size`` (a folder's resize) follows it
    and is accepted as the same thing when given alone."""
    from ..core.config import from_dict
    from ..core.errors import ConfigError
    from .arch import build_model_config
    from .trainer import GANTrainOptions

    data, model = dict(given["data_config"]), dict(given["model_config"])
    if "image_size" in data:
        if "size" not in model:
            model["size"] = data["image_size"]
        elif model["size"] != data["image_size"]:
            raise ConfigError(f"--image-size {data['image_size']} and --size {model['size']} differ; give only "
                              f"--size (the images are resized to it)")
    arch = dict(given.get("arch_options", {}))
    data_config = from_dict(ImageDataConfig, data)
    model_config = build_model_config(arch.get("arch", "dcgan"), model, arch, folder=not data_config.is_builtin)
    return {"data_config": data_config, "model_config": model_config,
            "options": from_dict(GANTrainOptions, given["options"])}


def _summary(result) -> list[str]:
    ev = result.eval_metrics or {}
    if "eval/fid" not in ev:
        return []
    return [f"FID {ev['eval/fid']:.2f}, KID {ev['eval/kid_mean']:.4f} ± {ev['eval/kid_std']:.4f} (raw, not x1000; "
            f"EMA samples vs test, genlab domain classifier)"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from .api import DEFAULT_TRAIN
    from .arch import ArchOptions
    from .models import GANConfig
    from .trainer import GANTrainOptions

    sub = clikit.family_parser(subparsers, "gan", help="GANs: DCGAN with ns / wgan / wgan-gp / hinge losses, FID "
                                                       "during training",
                               description="Train, sample and evaluate GANs.")
    t = clikit.add_train_command(
        sub, family="gan", train=lambda: _api().train,
        groups=[clikit.Options("data_config", ImageDataConfig, "data", exclude=("image_size",)),
                clikit.Options("model_config", GANConfig, "model"),
                clikit.Options("arch_options", ArchOptions, "architecture (--arch; progan / stylegan options)"),
                clikit.Options("options", GANTrainOptions, "adversarial training")],
        # The optimisers come from the objective (RMSprop for wgan, Adam otherwise): no --optimizer / --weight-decay /
        # --grad-clip; eval_every is --fid-every below.
        train_defaults=_TrainDefaults(DEFAULT_TRAIN), train_exclude=("eval_every", "optimizer", "weight_decay",
                                                                     "grad_clip"),
        build=_build, summary=_summary, outputs=lambda run: {"figures": clikit.show_path(run / "figures")},
        help="train a GAN",
        description="Train a DCGAN-style GAN on mnist, fashion-mnist or a folder of images. One step = one "
                    "discriminator update; the generator updates every --n-critic steps. --size is the image side "
                    "the GAN makes (28, 32, 64); the training images are padded/resized to it (--image-size, the "
                    "folder loader's resize, follows --size: give only --size). --lr/--adam-beta* defaults depend on "
                    "--loss (wgan: RMSprop 5e-5; wgan-gp: Adam 1e-4, betas (0, 0.9)). --arch progan grows G and D "
                    "from 4x4 (ProGAN); --arch stylegan trains StyleGAN-lite (see the architecture options).",
        out_help="run folder (default: runs/gan/<dataset>-<loss>-<size>px-<time>)")
    t.add_argument("--image-size", dest="image_size", type=int, default=argparse.SUPPRESS, metavar="PX",
                   help="the same as --size (kept for folders: their images are resized to the GAN's --size); give "
                        "only --size")
    t.add_argument("--fid-every", "--eval-every", dest="eval_every", type=int, default=argparse.SUPPRESS,
                   metavar="N", help=f"FID/KID every N steps (0 = only at the end) on --fid-samples EMA samples "
                                     f"(default: {DEFAULT_TRAIN['eval_every']})")

    s = sub.add_parser("sample", help="write a grid of samples", description="Write a grid of samples from the EMA "
                                                                             "generator (or --no-ema).")
    clikit.add_run_argument(s)
    s.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    s.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    s.add_argument("--ema", action=argparse.BooleanOptionalAction, default=True,
                   help="use the EMA generator (default: yes; --no-ema for the trained weights)")
    s.add_argument("--truncation", type=float, default=None, metavar="PSI",
                   help="StyleGAN runs: the truncation trick in w, w_avg + PSI (w - w_avg); PSI in [0, 1] (0: the "
                        "mean w's image for every seed; above 1 is warned about) (default: none)")
    clikit.add_output_arguments(s, default="RUN_DIR/samples, as sample_seed<SEED>[_psiPSI]_ema.png", what="the PNG")
    clikit.add_device_argument(s)
    s.set_defaults(func=_sample)

    m = sub.add_parser("mix", help="StyleGAN style-mixing grids (coarse / middle / fine styles from B onto A)",
                       description="The style-mixing figure of Karras et al. 2019 (figure 3) for a --arch stylegan "
                                   "run: top row source A, left column source B, each cell A's image with B's styles "
                                   "at the chosen layers. Writes mix_coarse.png, mix_middle.png, mix_fine.png (or one "
                                   "grid for --layers).")
    clikit.add_run_argument(m)
    m.add_argument("--layers", default=None, metavar="SPEC",
                   help="coarse, middle, fine, or style-layer indices I or I-J (0 = the 4x4 layer) (default: one "
                        "grid per group)")
    m.add_argument("--n-a", type=int, default=5, help="source-A seeds (columns) (default: 5)")
    m.add_argument("--n-b", type=int, default=5, help="source-B seeds (rows) (default: 5)")
    m.add_argument("--seed-a", type=int, default=0, help="first source-A seed (default: 0)")
    m.add_argument("--seed-b", type=int, default=100, help="first source-B seed (default: 100)")
    m.add_argument("--truncation", type=float, default=1.0, metavar="PSI", help="truncation in w (default: 1, none)")
    m.add_argument("--out", metavar="DIR", help="folder for the grids (default: RUN_DIR/mix)")
    clikit.add_device_argument(m)
    m.set_defaults(func=_mix)

    nz = sub.add_parser("noise", help="StyleGAN per-layer noise figures",
                        description="The per-layer noise figures of Karras et al. 2019 (figures 4, 5) for a --arch "
                                    "stylegan run: noise_realisations.png (per seed: three noise draws and the "
                                    "per-pixel std over --realisations draws) and noise_layers.png (noise in all "
                                    "layers, none, fine layers only, coarse layers only).")
    clikit.add_run_argument(nz)
    nz.add_argument("--n", type=int, default=4, help="seeds (rows) (default: 4)")
    nz.add_argument("--seed", type=int, default=0, help="first seed (default: 0)")
    nz.add_argument("--realisations", type=int, default=32, help="noise draws for the std map (default: 32)")
    nz.add_argument("--out", metavar="DIR", help="folder for the figures (default: RUN_DIR/noise)")
    clikit.add_device_argument(nz)
    nz.set_defaults(func=_noise)

    e = sub.add_parser("evaluate", help="FID and KID of samples vs the test set (genlab domain classifier)",
                       description="FID and KID (raw, not x1000) of samples vs the test images, on genlab's domain "
                                   "classifier; RUN_DIR/eval.json. Says when the numbers mean little, refuses when "
                                   "they could mean nothing.")
    clikit.add_run_argument(e)
    add_evaluation_data_arguments(e)
    e.add_argument("--fid-samples", type=int, default=10000, metavar="N",
                   help="number of samples scored (default: 10000)")
    e.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    e.add_argument("--ema", action=argparse.BooleanOptionalAction, default=True,
                   help="use the EMA generator (default: yes)")
    a = sub.add_parser("analyze", help="path length z vs w, truncation sweep, style-mixing test (domain features)",
                       description="The StyleGAN paper's measurements on genlab's domain classifier (not Inception, "
                                   "not LPIPS): the path-length analogue in z (any GAN) and in w (StyleGAN; not "
                                   "comparable to the paper's numbers, only z vs w on one model), and for a StyleGAN "
                                   "the truncation sweep (FID/KID and diversity vs psi) and the style-mixing "
                                   "class-survival test. RUN_DIR/analysis.json.")
    clikit.add_run_argument(a)
    add_evaluation_data_arguments(a)
    a.add_argument("--samples", type=int, default=2000, help="samples per psi of the sweep (default: 2000)")
    a.add_argument("--pairs", type=int, default=500, help="pairs for the path length (default: 500)")
    a.add_argument("--psi", type=float, nargs="+", default=[0.0, 0.5, 0.7, 1.0], help="psi values of the sweep")
    a.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    clikit.add_output_arguments(a, default="RUN_DIR, as analysis.json", what="the JSON")
    clikit.add_device_argument(a)
    a.set_defaults(func=_analyze)

    e.add_argument("--truncation", type=float, default=None, metavar="PSI",
                   help="StyleGAN runs: score samples truncated in w with PSI (default: none)")
    e.add_argument("--inception", action="store_true",
                   help="also Inception FID via torchmetrics (needs torchmetrics[image] and the Inception weights)")
    clikit.add_output_arguments(e, default="RUN_DIR, as eval.json", what="the JSON")
    clikit.add_device_argument(e)
    clikit.add_progress_argument(e)
    e.set_defaults(func=_evaluate)


def _sample(args: argparse.Namespace) -> int:
    tag = f"_psi{args.truncation:g}" if args.truncation is not None else ""
    path = clikit.resolve_output(args, default_dir=Path(args.run) / "samples",
                                 filename=f"sample_seed{args.seed}{tag}{'_ema' if args.ema else ''}.png",
                                 suffixes=IMAGE_SUFFIXES)
    path = _api().sample(args.run, n=args.n, seed=args.seed, ema=args.ema, out=path, device=args.device,
                         truncation=args.truncation)
    clikit.print_written(path)
    return 0


def _mix(args: argparse.Namespace) -> int:
    out = clikit.check_output_dir(args.out) if args.out else None
    paths = _api().mix(args.run, out=out, layers=args.layers, n_a=args.n_a, n_b=args.n_b, seed_a=args.seed_a,
                       seed_b=args.seed_b, truncation=args.truncation, device=args.device)
    for name, path in paths.items():
        clikit.print_written(path, f"{name} styles from B")
    return 0


def _noise(args: argparse.Namespace) -> int:
    out = clikit.check_output_dir(args.out) if args.out else None
    r = _api().noise_figure(args.run, out=out, n=args.n, seed=args.seed, realisations=args.realisations,
                            device=args.device)
    say(f"noise alone changes pixels by {r['mean_pixel_std']:.4f} on average (per-pixel std over "
        f"{r['realisations_per_seed']} noise draws, [0, 1] pixel units, mean over {r['seeds']} seeds)")
    clikit.print_written(r["realisations"], "noise realisations")
    clikit.print_written(r["layers"], "noise per layer group")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    path = clikit.resolve_output(args, default_dir=Path(args.run), filename="eval.json", suffixes=(".json",))
    r = _api().evaluate(args.run, data_config=evaluation_data_config(args), fid_samples=args.fid_samples,
                        seed=args.seed, ema=args.ema, out=path, device=args.device, inception=args.inception,
                        progress=args.progress, truncation=args.truncation)
    for w in r.get("warnings", []):
        clikit.stderr(f"warning: FID/KID not meaningful: {w}")
    say(f"{r['dataset']}: FID {r['fid']:.2f}, KID {r['kid_mean']:.4f} ± {r['kid_std']:.4f} (raw, not x1000; "
        f"{r['n_fake']} {r['generator']} samples vs {r['reference']}; genlab domain classifier, test accuracy "
        f"{r['classifier_test_accuracy']:.2%})" + ("" if r.get("meaningful", True) else " [not meaningful: see "
                                                    "the warnings]"))
    if isinstance(r["inception_fid"], float):
        say(f"Inception FID {r['inception_fid']:.2f} (torchmetrics, {r['n_fake']} samples)")
    else:
        say(f"Inception FID: {r['inception_fid']}")
    clikit.print_written(path)
    return 0


def _analyze(args: argparse.Namespace) -> int:
    path = clikit.resolve_output(args, default_dir=Path(args.run), filename="analysis.json", suffixes=(".json",))
    r = _api().analyze(args.run, data_config=evaluation_data_config(args), samples=args.samples, pairs=args.pairs,
                       psis=tuple(args.psi), seed=args.seed, out=path, device=args.device)
    on = f"genlab {r['dataset']} domain classifier, test accuracy {r['classifier_test_accuracy']:.2%}"
    pz = r["path_length_z"]
    say(f"path length in z: {pz['path_length']:.4g} ({pz['n_pairs']} pairs, eps {pz['epsilon']:g}; {on}; "
        f"not comparable to the paper's)")
    if "path_length_w" in r:
        pw = r["path_length_w"]["path_length"]
        say(f"path length in w: {pw:.4g} (z / w = {pz['path_length'] / pw:.2f}; the paper: w smoother than z)")
        for row in r["truncation_sweep"]:
            say(f"  psi {row['psi']:g}: FID {row['fid']:.2f}, KID {row['kid_mean']:.4f} ± {row['kid_std']:.4f}, "
                f"diversity {row['diversity_ratio']:.3f} of the test images' ({row['n_fake']} samples vs "
                f"{row['reference']})")
        mix = r["mixing_class_survival"]
        say(f"style mixing ({mix['pairs_with_different_classes']} pairs of different classes, chance "
            f"{mix['chance']:.0%}): " + "; ".join(f"{g} from B keeps B's class {mix[g]['donor_b_class_kept']:.0%}, "
                                                 f"A's {mix[g]['a_class_kept']:.0%}"
                                                 for g in ("coarse", "middle", "fine") if g in mix))
    clikit.print_written(path)
    return 0
