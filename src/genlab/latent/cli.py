"""Command-line pieces of the latent models: the tool subcommands every latent family gets
(``genlab vae|ae|aae scatter|manifold|interpolate|attribute|reconstruct RUN_DIR ...``) and the
``train|sample|evaluate`` verbs of ``genlab ae`` / ``genlab aae``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.config import add_dataclass_arguments, from_dict, given_options, to_dict
from ..core.engine import TrainConfig
from ..data.datasets import ImageDataConfig


def _common(p: argparse.ArgumentParser, *, data: bool = True) -> None:
    p.add_argument("run", metavar="RUN_DIR", help="a run folder or saved-model folder")
    p.add_argument("--out", help="output PNG (default: RUN_DIR/plots/<tool>.png)")
    if data:
        p.add_argument("--dataset", help="test images to use (default: the dataset the run was trained on)")
        p.add_argument("--data-dir", help="folder with the MNIST/Fashion-MNIST IDX .gz files")
    p.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")


def add_latent_tool_parsers(sub: argparse._SubParsersAction, *, family: str) -> None:
    """Add the five latent-space tools to a family's subcommands; each prints the path of the PNG it wrote."""
    p = sub.add_parser("scatter", help="plot the test set's codes in 2-D, coloured by label",
                       description="Encode the test set and plot the codes in 2-D, coloured by label (a 2-D latent "
                                   "as it is; a larger one reduced by PCA or t-SNE).")
    _common(p)
    p.add_argument("--method", default="auto", choices=("auto", "none", "pca", "tsne"),
                   help="2-D reduction: auto = as-is for a 2-D latent, else PCA (default: auto)")
    p.add_argument("--max-points", type=int, default=5000, help="test images to plot (default: 5000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the subset and of t-SNE (default: 0)")
    p.set_defaults(func=lambda a: _print(_tools().scatter(a.run, out=a.out, method=a.method, max_points=a.max_points,
                                                          seed=a.seed, family=family, device=a.device,
                                                          dataset=a.dataset, data_dir=a.data_dir)))

    p = sub.add_parser("manifold", help="decode a grid over a 2-D latent plane",
                       description="Decode a grid over a 2-D latent plane (N(0,1) quantiles 0.05..0.95 for a normal "
                                   "prior; for an autoencoder the same quantiles of its fitted code Gaussian).")
    _common(p, data=False)
    p.add_argument("--grid-size", type=int, default=20, help="the grid is N x N (default: 20)")
    p.add_argument("--dims", type=int, nargs=2, metavar=("I", "J"),
                   help="the two latent dimensions to vary, the rest held at 0 (needed when latent_dim != 2)")
    p.set_defaults(func=lambda a: _print(_tools().manifold(a.run, out=a.out, grid_size=a.grid_size, dims=a.dims,
                                                           family=family, device=a.device)))

    p = sub.add_parser("interpolate", help="morph between two images (linear and spherical)",
                       description="Morph image A into image B through the latent space: a strip with a linear "
                                   "(top) and a spherical/slerp (bottom) path. Images are test:INDEX or files; files "
                                   "of another size or mode are converted to the model's (with a note).")
    _common(p)
    p.add_argument("a", metavar="A", help="test:INDEX or an image file")
    p.add_argument("b", metavar="B", help="test:INDEX or an image file")
    p.add_argument("--steps", type=int, default=10, help="images per row, endpoints included (default: 10)")
    p.set_defaults(func=lambda a: _print(_tools().interpolate(a.run, a.a, a.b, steps=a.steps, out=a.out,
                                                              family=family, device=a.device, dataset=a.dataset,
                                                              data_dir=a.data_dir)))

    p = sub.add_parser("attribute", help="add an attribute vector (mean with label - mean without) to images",
                       description="Attribute vector = mean code of images with a label minus the mean of those "
                                   "without, added at each strength to chosen images: a grid (rows = images, "
                                   "columns = strengths).")
    _common(p)
    p.add_argument("--label", required=True, help="class name or index (e.g. Sneaker, 7), or an attribute of "
                                                  "--attributes (e.g. Smiling)")
    p.add_argument("--images", default="test:0,test:1,test:2,test:3",
                   help="comma-separated test:INDEX or image files (default: test:0,test:1,test:2,test:3)")
    p.add_argument("--strengths", nargs="+", default=["-2", "-1", "0", "1", "2"], metavar="S",
                   help="multiples of the vector: --strengths -2 -1 0 1 2 (or --strengths=-2,-1,0,1,2) "
                        "(default: -2 -1 0 1 2)")
    p.add_argument("--attributes", help="attributes file (CelebA list_attr_celeba.txt or a CSV with a header) for "
                                        "the images of --image-folder")
    p.add_argument("--image-folder", help="folder the attributes file describes (default: the run's image folder)")
    p.add_argument("--max-images", type=int, default=5000, help="images used for the vector (default: 5000)")
    p.set_defaults(func=lambda a: _print(_tools().attribute(
        a.run, label=a.label, images=a.images, strengths=a.strengths, attributes=a.attributes,
        image_folder=a.image_folder, max_images=a.max_images, out=a.out, family=family, device=a.device,
        dataset=a.dataset, data_dir=a.data_dir)))

    p = sub.add_parser("reconstruct", help="test images over their reconstructions")
    _common(p)
    p.add_argument("--n", type=int, default=16, help="test images (default: 16)")
    p.add_argument("--per-row", type=int, default=16, help="images per row (default: 16)")
    p.set_defaults(func=lambda a: _print(_tools().reconstruct(a.run, n=a.n, per_row=a.per_row, out=a.out,
                                                              family=family, device=a.device, dataset=a.dataset,
                                                              data_dir=a.data_dir)))


def _tools():
    from . import tools  # matplotlib / scikit-learn load only when a tool runs
    return tools


def _print(path: Path) -> int:
    print(path)
    return 0


def add_model_family_parser(subparsers: argparse._SubParsersAction, *, family: str, config_class: type,
                            default_train: dict[str, Any], help: str, description: str, sample_help: str,
                            functions: Callable[[], Any]) -> None:
    """``genlab FAMILY train|sample|evaluate`` (+ the latent tools) for a family whose module (``functions()``)
    has ``train``, ``sample`` and ``evaluate`` with the signatures of :mod:`genlab.ae.train`."""
    p = subparsers.add_parser(family, help=help, description=description)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    t = sub.add_parser("train", help=f"train a model ({family})",
                       description="Train on mnist, fashion-mnist or a folder of images. Writes a run folder "
                                   "(config, metrics.jsonl, tensorboard/, samples/, checkpoints/).")
    add_dataclass_arguments(t.add_argument_group("data"), ImageDataConfig)
    add_dataclass_arguments(t.add_argument_group("model"), config_class)
    add_dataclass_arguments(t.add_argument_group("training"), TrainConfig, defaults=default_train)
    t.add_argument("--out", help=f"run folder (default: runs/{family}/<dataset>-<arch>-z<D>-<time>)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    t.set_defaults(func=lambda a: _train(a, config_class, default_train, functions()))

    s = sub.add_parser("sample", help=sample_help, description=sample_help)
    s.add_argument("run", metavar="RUN_DIR", help="a run folder or saved-model folder")
    s.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    s.add_argument("--out", help="output PNG (default: RUN_DIR/samples/...)")
    s.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    s.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")
    s.set_defaults(func=lambda a: _sample(a, sample_help, functions()))

    e = sub.add_parser("evaluate", help="test reconstruction error (BCE nats/image, MSE per pixel)")
    add_evaluate_arguments(e, seed_help="seed of the samples for --fid-samples")
    e.add_argument("--out", help="output JSON (default: RUN_DIR/eval.json)")
    e.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")
    e.set_defaults(func=lambda a: _evaluate(a, functions()))
    add_latent_tool_parsers(sub, family=family)


def add_evaluate_arguments(e: argparse.ArgumentParser, *, seed_help: str) -> None:
    """The arguments every latent model's ``evaluate`` shares (RUN_DIR, data, batch size, seed, --fid-samples)."""
    e.add_argument("run", metavar="RUN_DIR", help="a run folder or saved-model folder")
    e.add_argument("--dataset", help="dataset to evaluate on (default: the one it was trained on)")
    e.add_argument("--data-dir", help="folder with the IDX .gz files")
    e.add_argument("--batch-size", type=int, default=1000, help="(default: 1000)")
    e.add_argument("--seed", type=int, default=0, help=f"{seed_help} (default: 0)")
    e.add_argument("--fid-samples", type=int, default=0, metavar="N",
                   help="also FID/KID of N samples vs the test set, on genlab's domain classifier (default: 0 = off)")


def evaluation_data_config(args: argparse.Namespace) -> ImageDataConfig | None:
    """The run's own data config with ``--dataset`` / ``--data-dir`` applied, or None when neither was given."""
    from ..data.datasets import saved_data_config

    if not (args.dataset or args.data_dir):
        return None
    base = saved_data_config(Path(args.run)) or ImageDataConfig()
    return from_dict(ImageDataConfig, {**to_dict(base), **({"dataset": args.dataset} if args.dataset else {}),
                                        **({"data_dir": args.data_dir} if args.data_dir else {})})


def _train(args: argparse.Namespace, config_class: type, default_train: dict[str, Any], fns: Any) -> int:
    given = {**given_options(args, ImageDataConfig), **given_options(args, config_class),
             **given_options(args, TrainConfig)}
    if args.resume:
        result = fns.train(out=args.out, resume=True, overrides=given)
    else:
        result = fns.train(from_dict(config_class, given_options(args, config_class)),
                           from_dict(ImageDataConfig, given_options(args, ImageDataConfig)),
                           from_dict(TrainConfig, {**default_train, **given_options(args, TrainConfig)}), out=args.out)
    print(f"trained {result.step} steps in {result.seconds:.1f}s")
    ev = result.eval_metrics
    if ev:
        print(f"test reconstruction: BCE {ev['eval/bce']:.2f} nats/image, MSE {ev['eval/mse']:.5f} per pixel; "
              f"codes: mean |mean| {ev['eval/code_mean_abs']:.3f}, mean std {ev['eval/code_std']:.3f}")
    print(f"run folder: {result.run_dir}")
    print(f"  model:    {result.run_dir / 'model.safetensors'} (+ config.json)")
    print(f"  samples:  {result.run_dir / 'samples'}")
    print(f"  metrics:  {result.run_dir / 'metrics.jsonl'}  (tensorboard --logdir {result.run_dir / 'tensorboard'})")
    return 0


def _sample(args: argparse.Namespace, what: str, fns: Any) -> int:
    path = fns.sample(args.run, n=args.n, out=args.out, seed=args.seed, device=args.device)
    print(f"{what}:")
    print(path)
    return 0


def _evaluate(args: argparse.Namespace, fns: Any) -> int:
    r = fns.evaluate(args.run, data_config=evaluation_data_config(args), batch_size=args.batch_size, seed=args.seed, out=args.out,
                     device=args.device, fid_samples=args.fid_samples)
    print(f"{r['dataset']} test ({r['num_images']} images): reconstruction BCE {r['bce']:.2f} nats/image, "
          f"MSE {r['mse']:.5f} per pixel; codes: mean |mean| {r['code_mean_abs']:.3f}, mean std {r['code_std']:.3f}")
    if "generation" in r:
        g = r["generation"]
        print(f"samples vs test: FID {g['fid']:.2f}, KID {g['kid_mean']:.3f} ± {g['kid_std']:.3f} "
              f"({g['n_fake']} samples; domain classifier, test accuracy {g['classifier_test_accuracy']:.2%})")
    print(f"written to {args.out or Path(args.run) / 'eval.json'}")
    return 0
