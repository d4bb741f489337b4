"""``genlab vae|ae|aae ...``: one parser builder for the three latent families (on :mod:`genlab.core.clikit`).

    genlab vae train --dataset mnist --latent-dim 2 --out runs/vae/z2
    genlab vae sample runs/vae/z2 --n 64 [--out DIR | --output FILE.png]
    genlab vae evaluate runs/vae/z2 [--iwae-k 5000] [--fid-samples 10000]
    genlab vae scatter|manifold|interpolate|attribute|reconstruct runs/vae/z2 ...

``--out DIR`` is always a folder, ``--output FILE`` the exact file; both are checked before any work.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from ..core import clikit
from ..core.clikit import say
from ..data.datasets import ImageDataConfig, add_evaluation_data_arguments, evaluation_data_config

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

TEXT = {
    "vae": dict(help="variational autoencoders (MLP / conv, beta-VAE)",
                description="Train, sample and evaluate variational autoencoders, and look into their latent space.",
                sample="decoded draws from the prior N(0, I)",
                evaluate="test-set negative ELBO in nats per image (+ IWAE -log p(x), FID/KID)"),
    "ae": dict(help="plain (deterministic) autoencoders (MLP / conv)",
               description="Train, sample and evaluate a deterministic autoencoder, and look into its latent space.",
               sample="decoded draws from a Gaussian fitted to the training codes (mean and covariance of the "
                      "encoded training set; an autoencoder has no prior)",
               evaluate="test reconstruction error (BCE nats/image, MSE per pixel) and code statistics"),
    "aae": dict(help="adversarial autoencoders (Makhzani et al. 2016)",
                description="Train, sample and evaluate an adversarial autoencoder (a discriminator on z matches the "
                            "codes to a prior), and look into its latent space.",
                sample="decoded draws from the prior the codes were matched to",
                evaluate="test reconstruction error (BCE nats/image, MSE per pixel) and how close the codes are to "
                         "the prior"),
}


def _api():
    from . import api  # the models load only when a command runs
    return api


def _tools():
    from . import tools  # matplotlib / scikit-learn load only when a tool runs
    return tools


def add_vae_parser(subparsers: argparse._SubParsersAction) -> None:
    add_family_parser(subparsers, "vae")


def add_ae_parser(subparsers: argparse._SubParsersAction) -> None:
    add_family_parser(subparsers, "ae")


def add_aae_parser(subparsers: argparse._SubParsersAction) -> None:
    add_family_parser(subparsers, "aae")


def add_family_parser(subparsers: argparse._SubParsersAction, family: str) -> None:
    """``genlab FAMILY train|sample|evaluate|scatter|manifold|interpolate|attribute|reconstruct``."""
    from .api import AAE_TRAIN, AE_TRAIN, VAE_TRAIN
    from .config import AAEConfig, AEConfig, VAEConfig

    config_class = {"vae": VAEConfig, "ae": AEConfig, "aae": AAEConfig}[family]
    defaults = {"vae": VAE_TRAIN, "ae": AE_TRAIN, "aae": AAE_TRAIN}[family]
    text = TEXT[family]
    sub = clikit.family_parser(subparsers, family, help=text["help"], description=text["description"])
    clikit.add_train_command(
        sub, family=family, train=lambda: getattr(_api(), f"train_{family}"),
        groups=[clikit.Options("data_config", ImageDataConfig, "data"),
                clikit.Options("model_config", config_class, "model")],
        build=lambda given: _build(given, config_class), train_defaults=defaults, summary=_summary, description=f"Train a {family} model on mnist, fashion-mnist "
                                                                  f"or a folder of images.",
        out_help=f"run folder (default: runs/{family}/<dataset>-<arch>-z<D>-<time>)")

    s = sub.add_parser("sample", help=text["sample"], description=f"Write a grid of {text['sample']}.")
    clikit.add_run_argument(s)
    s.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    s.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    clikit.add_output_arguments(s, default="RUN_DIR/samples, as sample_seed<SEED>.png", what="the PNG")
    clikit.add_device_argument(s)
    s.set_defaults(func=lambda a: _sample(a, family))

    e = sub.add_parser("evaluate", help=text["evaluate"], description=text["evaluate"] + ".")
    clikit.add_run_argument(e)
    add_evaluation_data_arguments(e)
    e.add_argument("--batch-size", type=int, default=1000, help="(default: 1000)")
    e.add_argument("--seed", type=int, default=0, help="seed of the z samples and of the --fid-samples draws "
                                                       "(default: 0)")
    e.add_argument("--fid-samples", type=int, default=0, metavar="N",
                   help="also FID/KID of N samples vs the test set, on genlab's domain classifier (default: 0 = off)")
    if family == "vae":
        e.add_argument("--iwae-k", type=int, default=0, metavar="K",
                       help="also estimate -log p(x) by importance weighting with K samples per image (Burda et al. "
                            "2016; 5000 is the reporting standard; costs N*K decoder passes) (default: 0 = off)")
        e.add_argument("--iwae-images", type=int, default=None, metavar="N",
                       help="use the first N test images for --iwae-k (default: all)")
    clikit.add_output_arguments(e, default="RUN_DIR, as eval.json", what="the JSON")
    clikit.add_device_argument(e)
    clikit.add_progress_argument(e)
    e.set_defaults(func=lambda a: _evaluate(a, family))

    add_tool_parsers(sub, family=family)


# ---- the verbs -----------------------------------------------------------------------------------------------------

def _build(given: dict, config_class: type) -> dict:
    """The configs of a new run, with the model's image shape taken from the data flags before the model config is
    checked (a 4-stage conv net at --image-size 64 is valid; at the 28-px default it is not)."""
    from ..core.config import from_dict

    data = from_dict(ImageDataConfig, given["data_config"])
    shape = {"image_size": 28, "image_channels": 1} if data.is_builtin else {
        "image_size": data.image_size or 64, "image_channels": data.channels or 3}
    return {"data_config": data, "model_config": from_dict(config_class, {**shape, **given["model_config"]})}


def _summary(result) -> list[str]:
    ev = result.eval_metrics or {}
    if "eval/nelbo" in ev:
        return [f"test -ELBO {ev['eval/nelbo']:.2f} nats/image (recon {ev['eval/recon']:.2f} + KL {ev['eval/kl']:.2f})"]
    if "eval/bce" in ev:
        return [f"test reconstruction: BCE {ev['eval/bce']:.2f} nats/image, MSE {ev['eval/mse']:.5f} per pixel; "
                f"codes: mean |mean| {ev['eval/code_mean_abs']:.3f}, mean std {ev['eval/code_std']:.3f}"]
    return []


def _sample(args: argparse.Namespace, family: str) -> int:
    path = clikit.resolve_output(args, default_dir=Path(args.run) / "samples", filename=f"sample_seed{args.seed}.png",
                                 suffixes=IMAGE_SUFFIXES)
    path = getattr(_api(), f"sample_{family}")(args.run, n=args.n, seed=args.seed, out=path, device=args.device)
    say(f"{TEXT[family]['sample']}:")
    clikit.print_written(path)
    return 0


def _evaluate(args: argparse.Namespace, family: str) -> int:
    path = clikit.resolve_output(args, default_dir=Path(args.run), filename="eval.json", suffixes=(".json",))
    extra = dict(iwae_k=args.iwae_k, iwae_images=args.iwae_images) if family == "vae" else {}
    r = getattr(_api(), f"evaluate_{family}")(
        args.run, data_config=evaluation_data_config(args), out=path, device=args.device,
        fid_samples=args.fid_samples, batch_size=args.batch_size, seed=args.seed, progress=args.progress, **extra)
    if family == "vae":
        binary = " (binarised)" if r.get("binarized") else ""
        say(f"{r['dataset']}{binary} test ({r['num_images']} images): -ELBO {r['nelbo']:.2f} nats/image "
            f"= recon {r['recon']:.2f} + KL {r['kl']:.2f}")
    else:
        say(f"{r['dataset']} test ({r['num_images']} images): reconstruction BCE {r['bce']:.2f} nats/image, "
            f"MSE {r['mse']:.5f} per pixel; codes: mean |mean| {r['code_mean_abs']:.3f}, mean std "
            f"{r['code_std']:.3f}")
    if "iwae" in r:
        w = r["iwae"]
        say(f"IWAE estimate of -log p(x), k={w['k']}: {w['nll']:.2f} ± {w['nll_stderr']:.2f} nats/image "
            f"({w['num_images']} images, {w['seconds']:.0f}s)")
    if "generation" in r:
        g = r["generation"]
        say(f"samples vs test: FID {g['fid']:.2f}, KID {g['kid_mean']:.3f} ± {g['kid_std']:.3f} "
            f"({g['n_fake']} samples; domain classifier, test accuracy {g['classifier_test_accuracy']:.2%})")
    clikit.print_written(path)
    return 0


# ---- the latent tools ----------------------------------------------------------------------------------------------

def _tool_common(p: argparse.ArgumentParser, *, default_name: str, data: bool = True) -> None:
    clikit.add_run_argument(p)
    clikit.add_output_arguments(p, default=f"RUN_DIR/plots, as {default_name}", what="the PNG")
    if data:
        add_evaluation_data_arguments(p)
    clikit.add_device_argument(p)


def _run_tool(name: str, filename: Callable[[argparse.Namespace], str], call: Callable[..., Path]):
    def run(args: argparse.Namespace) -> int:
        path = clikit.resolve_output(args, default_dir=Path(args.run) / "plots", filename=filename(args),
                                     suffixes=IMAGE_SUFFIXES)
        data = {"dataset": args.dataset, "data_dir": args.data_dir} if hasattr(args, "dataset") else {}
        clikit.print_written(call(getattr(_tools(), name), args, path, data))
        return 0
    return run


def _allow_negative_lists(p: argparse.ArgumentParser) -> None:
    """Let a value such as ``-2,-1,0,1,2`` follow an option: argparse takes only plain negative numbers (``-2``) for
    values, so ``--strengths -2,-1,0,1,2`` (the README's form) would be read as an unknown option."""
    p._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\d.]+(,-?[\d.]*)*$")


def add_tool_parsers(sub: argparse._SubParsersAction, *, family: str) -> None:
    """The five latent-space tools; each writes a PNG (default ``RUN_DIR/plots/<tool>.png``) and prints its path."""
    p = sub.add_parser("scatter", help="plot the test set's codes in 2-D, coloured by label",
                       description="Encode the test set and plot the codes in 2-D, coloured by label (a 2-D latent "
                                   "as it is; a larger one reduced by PCA or t-SNE).")
    _tool_common(p, default_name="scatter.png")
    p.add_argument("--method", default="auto", choices=("auto", "none", "pca", "tsne"),
                   help="2-D reduction: auto = as-is for a 2-D latent, else PCA (default: auto)")
    p.add_argument("--max-points", type=int, default=5000, help="test images to plot (default: 5000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the subset and of t-SNE (default: 0)")
    p.set_defaults(func=_run_tool("scatter", lambda a: "scatter.png", lambda fn, a, out, data: fn(
        a.run, out=out, method=a.method, max_points=a.max_points, seed=a.seed, family=family, device=a.device,
        **data)))

    p = sub.add_parser("manifold", help="decode a grid over a 2-D latent plane",
                       description="Decode a grid over a 2-D latent plane (N(0,1) quantiles 0.05..0.95 for a normal "
                                   "prior; for an autoencoder the same quantiles of its fitted code Gaussian), with "
                                   "the latent coordinates on the axes.")
    _tool_common(p, default_name="manifold_<N>x<N>.png", data=False)
    p.add_argument("--grid-size", type=int, default=20, help="the grid is N x N (default: 20)")
    p.add_argument("--dims", type=int, nargs=2, metavar=("I", "J"),
                   help="the two latent dimensions to vary, the rest held at the centre (needed when latent_dim != 2)")
    p.add_argument("--axes", action=argparse.BooleanOptionalAction, default=True,
                   help="label the latent coordinates (--no-axes: the bare N*H x N*W grid) (default: yes)")

    def manifold_name(a: argparse.Namespace) -> str:
        dims = f"_dims{a.dims[0]}-{a.dims[1]}" if a.dims and tuple(a.dims) != (0, 1) else ""
        return f"manifold_{a.grid_size}x{a.grid_size}{dims}.png"

    p.set_defaults(func=_run_tool("manifold", manifold_name, lambda fn, a, out, data: fn(
        a.run, out=out, grid_size=a.grid_size, dims=a.dims, axes=a.axes, family=family, device=a.device)))

    p = sub.add_parser("interpolate", help="morph between two images (linear and spherical)",
                       description="Morph image A into image B through the latent space: a strip with a linear "
                                   "(top) and a spherical/slerp (bottom) row, labelled. Images are test:INDEX or "
                                   "files; files of another size or mode are converted to the model's (with a note).")
    _tool_common(p, default_name="interpolate.png")
    p.add_argument("a", metavar="A", help="test:INDEX or an image file")
    p.add_argument("b", metavar="B", help="test:INDEX or an image file")
    p.add_argument("--frames", type=int, default=10, help="images per row, endpoints included (default: 10)")
    p.add_argument("--steps", dest="frames", type=int, help=argparse.SUPPRESS)  # the old name of --frames
    p.set_defaults(func=_run_tool("interpolate", lambda a: "interpolate.png", lambda fn, a, out, data: fn(
        a.run, a.a, a.b, frames=a.frames, out=out, family=family, device=a.device, **data)))

    p = sub.add_parser("attribute", help="add an attribute vector (mean with label - mean without) to images",
                       description="Attribute vector = mean code of images with a label minus the mean of those "
                                   "without, added at each strength to chosen images: a grid (rows = images, "
                                   "columns = strengths), labelled.")
    _allow_negative_lists(p)
    _tool_common(p, default_name="attribute.png")
    p.add_argument("--label", required=True, help="class name or index (e.g. Sneaker, 7), or an attribute of "
                                                  "--attributes (e.g. Smiling)")
    p.add_argument("--images", default="test:0,test:1,test:2,test:3",
                   help="comma-separated test:INDEX or image files (default: test:0,test:1,test:2,test:3)")
    p.add_argument("--strengths", nargs="+", default=["-2", "-1", "0", "1", "2"], metavar="S",
                   help="multiples of the vector: --strengths -2,-1,0,1,2 or --strengths -2 -1 0 1 2 "
                        "(default: -2 -1 0 1 2)")
    p.add_argument("--attributes", help="attributes file (CelebA list_attr_celeba.txt or a CSV with a header) for "
                                        "the images of --image-folder")
    p.add_argument("--image-folder", help="folder the attributes file describes (default: the run's image folder)")
    p.add_argument("--max-images", type=int, default=5000, help="images used for the vector (default: 5000)")
    p.set_defaults(func=_run_tool("attribute", lambda a: "attribute.png", lambda fn, a, out, data: fn(
        a.run, label=a.label, images=a.images, strengths=a.strengths, attributes=a.attributes,
        image_folder=a.image_folder, max_images=a.max_images, out=out, family=family, device=a.device, **data)))

    p = sub.add_parser("reconstruct", help="test images over their reconstructions")
    _tool_common(p, default_name="reconstruct.png")
    p.add_argument("--n", type=int, default=16, help="test images (default: 16)")
    p.add_argument("--per-row", type=int, default=16, help="images per row (default: 16)")
    p.set_defaults(func=_run_tool("reconstruct", lambda a: "reconstruct.png", lambda fn, a, out, data: fn(
        a.run, n=a.n, per_row=a.per_row, out=out, family=family, device=a.device, **data)))
