"""``genlab vae train|sample|evaluate``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.config import add_dataclass_arguments, from_dict, given_options
from ..core.engine import TrainConfig
from ..data.datasets import ImageDataConfig


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("vae", help="variational autoencoders (MLP / conv, beta-VAE)",
                              description="Train, sample and evaluate variational autoencoders.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from .model import VAEConfig
    from .train import DEFAULT_TRAIN

    t = sub.add_parser("train", help="train a VAE",
                       description="Train a VAE on mnist, fashion-mnist or a folder of images. Writes a run folder "
                                   "(config, metrics.jsonl, tensorboard/, samples/, checkpoints/).")
    add_dataclass_arguments(t.add_argument_group("data"), ImageDataConfig)
    add_dataclass_arguments(t.add_argument_group("model"), VAEConfig)
    add_dataclass_arguments(t.add_argument_group("training"), TrainConfig, defaults=DEFAULT_TRAIN)
    t.add_argument("--out", help="run folder (default: runs/vae/<dataset>-<arch>-z<D>-<time>)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    t.set_defaults(func=_train)

    s = sub.add_parser("sample", help="write a grid of samples (or the 2-D latent manifold)")
    s.add_argument("run", metavar="RUN_DIR", help="a run folder or saved-model folder")
    s.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    s.add_argument("--out", help="output PNG (default: RUN_DIR/samples/...)")
    s.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    s.add_argument("--manifold", action="store_true", help="decode a grid over a 2-D latent plane instead")
    s.add_argument("--grid-size", type=int, default=20, help="manifold grid is N x N (default: 20)")
    s.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")
    s.set_defaults(func=_sample)

    from ..latent.cli import add_evaluate_arguments, add_latent_tool_parsers

    e = sub.add_parser("evaluate", help="test-set negative ELBO in nats per image")
    add_evaluate_arguments(e, seed_help="seed of the z samples")
    e.add_argument("--iwae-k", type=int, default=0, metavar="K",
                   help="also estimate -log p(x) by importance weighting with K samples per image (Burda et al. "
                        "2016; 5000 is the reporting standard; costs N*K decoder passes) (default: 0 = off)")
    e.add_argument("--iwae-images", type=int, default=None, metavar="N",
                   help="use the first N test images for --iwae-k (default: all)")
    e.add_argument("--out", help="output JSON (default: RUN_DIR/eval.json)")
    e.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")
    e.set_defaults(func=_evaluate)

    add_latent_tool_parsers(sub, family="vae")  # scatter, manifold, interpolate, attribute, reconstruct


def _train(args: argparse.Namespace) -> int:
    from .model import VAEConfig
    from .train import DEFAULT_TRAIN, train

    given = {**given_options(args, ImageDataConfig), **given_options(args, VAEConfig),
             **given_options(args, TrainConfig)}
    if args.resume:
        result = train(out=args.out, resume=True, overrides=given)
    else:
        data_cfg = from_dict(ImageDataConfig, given_options(args, ImageDataConfig))
        model_cfg = from_dict(VAEConfig, given_options(args, VAEConfig))
        train_cfg = from_dict(TrainConfig, {**DEFAULT_TRAIN, **given_options(args, TrainConfig)})
        result = train(model_cfg, data_cfg, train_cfg, out=args.out)
    ev = result.eval_metrics
    print(f"trained {result.step} steps in {result.seconds:.1f}s")
    if ev:
        print(f"test -ELBO {ev['eval/nelbo']:.2f} nats/image (recon {ev['eval/recon']:.2f} + KL {ev['eval/kl']:.2f})")
    print(f"run folder: {result.run_dir}")
    print(f"  model:    {result.run_dir / 'model.safetensors'} (+ config.json)")
    print(f"  samples:  {result.run_dir / 'samples'}")
    print(f"  metrics:  {result.run_dir / 'metrics.jsonl'}  (tensorboard --logdir {result.run_dir / 'tensorboard'})")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from ..latent.tools import manifold
    from .train import sample

    if args.manifold:  # the shared tool, as `genlab vae manifold`
        out = args.out or Path(args.run) / "samples" / f"manifold_{args.grid_size}x{args.grid_size}.png"
        path = manifold(args.run, grid_size=args.grid_size, out=out, device=args.device, family="vae")
    else:
        path = sample(args.run, n=args.n, out=args.out, seed=args.seed, device=args.device)
    print(path)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from ..latent.cli import evaluation_data_config
    from .train import evaluate

    r = evaluate(args.run, data_config=evaluation_data_config(args), batch_size=args.batch_size, seed=args.seed, out=args.out,
                 device=args.device, fid_samples=args.fid_samples, iwae_k=args.iwae_k, iwae_images=args.iwae_images)
    binary = " (binarised)" if r.get("binarized") else ""
    print(f"{r['dataset']}{binary} test ({r['num_images']} images): -ELBO {r['nelbo']:.2f} nats/image "
          f"= recon {r['recon']:.2f} + KL {r['kl']:.2f}")
    if "iwae" in r:
        w = r["iwae"]
        print(f"IWAE estimate of -log p(x), k={w['k']}: {w['nll']:.2f} ± {w['nll_stderr']:.2f} nats/image "
              f"({w['num_images']} images, {w['seconds']:.0f}s)")
    if "generation" in r:
        g = r["generation"]
        print(f"samples vs test: FID {g['fid']:.2f}, KID {g['kid_mean']:.3f} ± {g['kid_std']:.3f} "
              f"({g['n_fake']} samples; domain classifier, test accuracy {g['classifier_test_accuracy']:.2%})")
    print(f"written to {args.out or Path(args.run) / 'eval.json'}")
    return 0
