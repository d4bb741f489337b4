"""``genlab gan train|sample|evaluate``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.config import add_dataclass_arguments, from_dict, given_options, to_dict
from ..core.engine import TrainConfig
from ..core.errors import ConfigError
from ..data.datasets import ImageDataConfig


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("gan", help="GANs: DCGAN with ns / wgan / wgan-gp / hinge losses, FID during training",
                              description="Train, sample and evaluate GANs.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from .models import GANConfig
    from .api import DEFAULT_TRAIN
    from .trainer import GANTrainOptions

    t = sub.add_parser("train", help="train a GAN",
                       description="Train a DCGAN-style GAN on mnist, fashion-mnist or a folder of images. Writes a "
                                   "run folder (config, metrics.jsonl with FID/KID, samples/, figures/, checkpoints/). "
                                   "One step = one discriminator update; the generator updates every --n-critic steps.")
    add_dataclass_arguments(t.add_argument_group("data"), ImageDataConfig)
    add_dataclass_arguments(t.add_argument_group("model"), GANConfig)
    add_dataclass_arguments(t.add_argument_group("adversarial training"), GANTrainOptions)
    g = t.add_argument_group("training")
    # The optimisers come from the objective (RMSprop for wgan, Adam otherwise): no --optimizer / --weight-decay /
    # --grad-clip here.
    add_dataclass_arguments(g, TrainConfig, defaults=DEFAULT_TRAIN,
                            exclude=("eval_every", "optimizer", "weight_decay", "grad_clip"))
    g.add_argument("--fid-every", "--eval-every", dest="eval_every", type=int, default=argparse.SUPPRESS,
                   help=f"FID/KID every N steps (0 = only at the end) (default: {DEFAULT_TRAIN['eval_every']})")
    t.add_argument("--out", help="run folder (default: runs/gan/<dataset>-<loss>-<size>px-<time>)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    t.set_defaults(func=_train)

    s = sub.add_parser("sample", help="write a grid of samples")
    s.add_argument("run", metavar="RUN_DIR", help="a run folder or saved-model folder")
    s.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    s.add_argument("--out", help="output PNG (default: RUN_DIR/samples/...)")
    s.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    s.add_argument("--ema", action=argparse.BooleanOptionalAction, default=True,
                   help="use the EMA generator (default: yes; --no-ema for the trained weights)")
    s.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")
    s.set_defaults(func=_sample)

    e = sub.add_parser("evaluate", help="FID and KID of samples vs the test set (genlab domain classifier)")
    e.add_argument("run", metavar="RUN_DIR", help="a run folder or saved-model folder")
    e.add_argument("--n", type=int, default=10000, help="number of samples (default: 10000)")
    e.add_argument("--dataset", help="dataset to compare with (default: the one it was trained on)")
    e.add_argument("--data-dir", help="folder with the IDX .gz files")
    e.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    e.add_argument("--ema", action=argparse.BooleanOptionalAction, default=True,
                   help="use the EMA generator (default: yes)")
    e.add_argument("--inception", action="store_true",
                   help="also Inception FID via torchmetrics (needs torchmetrics[image] and the Inception weights)")
    e.add_argument("--out", help="output JSON (default: RUN_DIR/eval.json)")
    e.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")
    e.set_defaults(func=_evaluate)


def _train(args: argparse.Namespace) -> int:
    from .models import GANConfig
    from .api import DEFAULT_TRAIN, LOSS_TRAIN_DEFAULTS, train
    from .trainer import GANTrainOptions

    data_given = given_options(args, ImageDataConfig)
    model_given = given_options(args, GANConfig)
    opts_given = given_options(args, GANTrainOptions)
    train_given = given_options(args, TrainConfig)
    if args.resume:
        result = train(out=args.out, resume=True, overrides={**data_given, **model_given, **opts_given,
                                                              **train_given})
    else:
        if "image_size" in data_given:  # an image folder loaded at --image-size: the GAN's --size follows
            if "size" not in model_given:
                model_given["size"] = data_given["image_size"]
            elif model_given["size"] != data_given["image_size"]:
                raise ConfigError(f"--image-size {data_given['image_size']} and --size {model_given['size']} "
                                  f"differ; give only --size")
        data_cfg = from_dict(ImageDataConfig, data_given)
        model_cfg = from_dict(GANConfig, model_given)
        loss_defaults = LOSS_TRAIN_DEFAULTS.get(model_cfg.loss, {})
        train_cfg = from_dict(TrainConfig, {**DEFAULT_TRAIN, **loss_defaults, **train_given})
        result = train(model_cfg, data_cfg, train_cfg, from_dict(GANTrainOptions, opts_given), out=args.out)
    ev = result.eval_metrics
    print(f"trained {result.step} steps in {result.seconds:.1f}s")
    if "eval/fid" in ev:
        print(f"FID {ev['eval/fid']:.2f}, KID {ev['eval/kid_mean']:.4f} ± {ev['eval/kid_std']:.4f} "
              f"(EMA samples vs test, genlab domain classifier)")
    run = result.run_dir
    print(f"run folder: {run}")
    print(f"  model:    {run / 'model.safetensors'} (+ config.json)")
    print(f"  samples:  {run / 'samples'}   figures: {run / 'figures'}")
    print(f"  metrics:  {run / 'metrics.jsonl'}  (tensorboard --logdir {run / 'tensorboard'})")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from .api import sample

    print(sample(args.run, n=args.n, out=args.out, seed=args.seed, ema=args.ema, device=args.device))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .api import evaluate, saved_data_config

    data_cfg = None
    if args.dataset or args.data_dir:
        base = saved_data_config(Path(args.run)) or ImageDataConfig()
        data_cfg = from_dict(ImageDataConfig, {**to_dict(base), **({"dataset": args.dataset} if args.dataset else {}),
                                                **({"data_dir": args.data_dir} if args.data_dir else {})})
    r = evaluate(args.run, n=args.n, data_config=data_cfg, seed=args.seed, ema=args.ema, out=args.out,
                 device=args.device, inception=args.inception)
    print(f"{r['dataset']}: FID {r['fid']:.2f}, KID {r['kid_mean']:.4f} ± {r['kid_std']:.4f} "
          f"({r['n_fake']} {r['generator']} samples vs {r['n_real']} test images; genlab domain classifier, test "
          f"accuracy {r['classifier_test_accuracy']:.2%})")
    if isinstance(r["inception_fid"], float):
        print(f"Inception FID {r['inception_fid']:.2f} (torchmetrics, {r['n_fake']} samples)")
    else:
        print(f"Inception FID: {r['inception_fid']}")
    print(f"written to {args.out or Path(args.run) / 'eval.json'}")
    return 0
