"""The image-optimisation commands, with verbs like every other family::

    genlab dream run IMAGE [options]                 DeepDream
    genlab visualize run LAYER [options]             filter / class visualisation
    genlab features list [--model M]                 the layers of a feature network
    genlab style run CONTENT STYLE [STYLE ...]       Gatys et al. (optimise the pixels)
    genlab style train --dataset FOLDER --style-image S   a fast (feed-forward) style network
    genlab style apply RUN IMAGE                     stylise a photo with it, in one pass
    genlab style evaluate RUN                        its perceptual losses on held-out photos (RUN/eval.json)

``apply``, not ``sample``: stylising is a deterministic function of an input photo (no ``--n``, no seed), which is
what every other family's ``sample`` is not.

``--out DIR`` is always a folder (the figures and metadata.json go there), ``--output FILE`` the one main image;
both are checked before any work. ``--device`` defaults to auto, ``--no-progress`` hides progress.
"""

from __future__ import annotations

import argparse

from ..core import clikit
from ..core.config import add_dataclass_arguments, from_dict, given_options


def _finish(interrupted: str | None, what: str, path) -> int:
    """0, or (after a SIGINT / SIGTERM stopped the work and what was done is written) the signal's exit code."""
    if interrupted:
        import signal

        from ..core.signals import Interrupted
        raise Interrupted(f"{what} stopped by {interrupted}; what was done is written to {clikit.show_path(path)}",
                          signum=signal.Signals[interrupted])
    return 0


def _outputs(p: argparse.ArgumentParser, default: str, what: str) -> None:
    clikit.add_output_arguments(p, default=default, what=what)
    clikit.add_progress_argument(p)


# ---- dream ---------------------------------------------------------------------------------------------------------

def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from .dream import DreamConfig

    sub = clikit.family_parser(subparsers, "dream", help="DeepDream an image through a trained convnet")
    d = sub.add_parser("run", help="DeepDream one image",
                       description="DeepDream (the seeds' algorithm: octaves, detail re-injection, max-loss stop) plus "
                                   "jitter, tiled gradients for large images and a guide image. Writes OUT/dream.png "
                                   "(or --output FILE), octaves.png, loss.png and metadata.json.")
    d.add_argument("image", metavar="IMAGE", help="the image to dream on")
    add_dataclass_arguments(d.add_argument_group("dream"), DreamConfig)
    _outputs(d, "runs/dream/<image>-<time>", "the dream image")
    d.set_defaults(func=_dream)


def _dream(args: argparse.Namespace) -> int:
    from .dream import DreamConfig, deepdream

    cfg = from_dict(DreamConfig, given_options(args, DreamConfig))
    r = deepdream(args.image, cfg, out=args.out, output=args.output, progress=args.progress)
    first, last = (f"{r.losses[0]:.4g}", f"{r.losses[-1]:.4g}") if r.losses else ("n/a", "n/a")
    planned = cfg.steps_per_octave * cfg.octaves
    clikit.say(f"dreamed {len(r.losses)} of {planned} steps in {r.seconds:.1f}s; loss {first} -> {last}",
               *(f"  {note}" for note in r.notes))
    clikit.print_written(r.path, "dream")
    clikit.say(f"  (+ octaves.png, loss.png, metadata.json in {clikit.show_path(r.out_dir)})")
    return _finish(r.interrupted, "the dream", r.path)


# ---- visualize -----------------------------------------------------------------------------------------------------

def add_visualize_parser(subparsers: argparse._SubParsersAction) -> None:
    from .visualize import VisualizeConfig

    sub = clikit.family_parser(subparsers, "visualize",
                               help="what a convnet's channels respond to (filter / class visualisation)")
    v = sub.add_parser("run", help="maximise channels of LAYER (or class logits) from noise",
                       description="Maximise channels of LAYER from noise (jitter, scale, blur or Fourier "
                                   "regularisation). --channels 0-15 gives a grid of the first 16 filters, each "
                                   "labelled with its channel; LAYER logits with --channels K visualises class K. "
                                   "Writes OUT/filters.png (or --output FILE), objective.png and metadata.json.")
    v.add_argument("layer", metavar="LAYER", help="layer name (Keras alias or torchvision module name; "
                                                  "see genlab features list)")
    add_dataclass_arguments(v.add_argument_group("visualize"), VisualizeConfig)
    _outputs(v, "runs/visualize/<model>-<layer>-<time>", "the labelled grid")
    v.set_defaults(func=_visualize)


def _visualize(args: argparse.Namespace) -> int:
    from .visualize import VisualizeConfig, visualize

    cfg = from_dict(VisualizeConfig, given_options(args, VisualizeConfig))
    r = visualize(args.layer, cfg, out=args.out, output=args.output, progress=args.progress)
    if r.objectives:
        clikit.say(f"{len(r.channels)} channel(s), {len(r.objectives)} of {cfg.iterations} iterations: objective "
                   f"{r.objectives[0]:.4g} -> {r.objectives[-1]:.4g}")
    clikit.print_written(r.path, "filters")
    clikit.say(f"  (+ objective.png, metadata.json in {clikit.show_path(r.out_dir)})")
    return _finish(r.interrupted, "the visualisation", r.path)


# ---- features ------------------------------------------------------------------------------------------------------

def add_features_parser(subparsers: argparse._SubParsersAction) -> None:
    sub = clikit.family_parser(subparsers, "features", help="feature networks: list their layer names",
                               description="Feature networks shared by dream, visualize and style.")
    fl = sub.add_parser("list", help="list the layer names (and Keras aliases) of a feature network")
    fl.add_argument("--model", default="vgg19", help="vgg16, vgg19, googlenet, inception_v3 or a genlab classifier "
                                                     "folder (default: vgg19)")
    fl.set_defaults(func=_features_list)


def _features_list(args: argparse.Namespace) -> int:
    from ..features.loading import layer_names

    rows = layer_names(args.model)
    clikit.say(f"{'layer':<16} {'aliases':<28} output shape",
               *(f"{name:<16} {', '.join(aliases):<28} {'x'.join(map(str, shape))}" for name, aliases, shape in rows))
    return 0


# ---- style ---------------------------------------------------------------------------------------------------------

def add_style_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..data.datasets import ImageDataConfig, add_evaluation_data_arguments
    from .fast_style import DEFAULT_TRAIN, FastStyleConfig, StyleLossConfig
    from .gatys import StyleConfig

    sub = clikit.family_parser(subparsers, "style", help="style transfer: Gatys (run) and fast feed-forward "
                                                         "(train, apply)")
    g = sub.add_parser("run", help="Gatys et al.: optimise the pixels of CONTENT towards STYLE(s)",
                       description="Gatys et al. style transfer by optimising pixels (L-BFGS by default). Writes "
                                   "OUT/result.png (or --output FILE), figure.png (content | style | result), "
                                   "loss.png and metadata.json.")
    g.add_argument("content", metavar="CONTENT", help="the content image")
    g.add_argument("styles", metavar="STYLE", nargs="+", help="one or more style images (blend: --style-blend)")
    add_dataclass_arguments(g.add_argument_group("style transfer"), StyleConfig)
    _outputs(g, "runs/style/<content>-<time>", "the result image")
    g.set_defaults(func=_gatys)

    clikit.add_train_command(
        sub, family="style", train=_train_fn, help="train a fast (feed-forward) style network for one style",
        description="Train a fast style network for one style on a folder of photos (Johnson et al. 2016).",
        out_help="run folder (default: runs/style/fast-<style>-<time>)",
        groups=[clikit.Options("data_config", ImageDataConfig, "data (a folder of photos; required)",
                               defaults={"dataset": ""}, exclude=("data_dir", "download", "channels")),
                clikit.Options("model_config", FastStyleConfig, "style network"),
                clikit.Options("options", StyleLossConfig, "perceptual loss")],
        train_defaults=DEFAULT_TRAIN, summary=_train_summary, build=_build_train_configs)

    a = sub.add_parser("apply", help="stylise IMAGE in one pass with a trained fast style network",
                       description="Stylise a photo in one forward pass with a network from `genlab style train`. "
                                   "Writes OUT/result.png (or --output FILE), figure.png and metadata.json.")
    clikit.add_run_argument(a, help="a `genlab style train` run folder or saved-model folder")
    a.add_argument("image", metavar="IMAGE", help="the photo to stylise")
    a.add_argument("--size", type=int, default=None, help="longer side in pixels (default: as it is)")
    clikit.add_output_arguments(a, default="runs/style/<image>-fast-<time>", what="the stylised image")
    clikit.add_device_argument(a)
    a.set_defaults(func=_apply)

    e = sub.add_parser("evaluate", help="the perceptual losses of a fast style network on held-out photos",
                       description="Mean content, style and TV losses (and their weighted total, the training "
                                   "objective) of a `genlab style train` network on the test split of its photos. "
                                   "Writes RUN_DIR/eval.json (or --output FILE).")
    clikit.add_run_argument(e, help="a `genlab style train` run folder")
    add_evaluation_data_arguments(e)
    e.add_argument("--batch-size", type=int, default=8, help="(default: 8)")
    clikit.add_output_arguments(e, default="RUN_DIR", what="the JSON (eval.json)")
    clikit.add_device_argument(e)
    e.set_defaults(func=_evaluate)


def _build_train_configs(given: dict[str, dict]) -> dict:
    """The configs of a new run. The network config's legacy fields share names with the loss options (an old run's
    config.json kept them there), so only its own fields are taken from what was typed."""
    from ..data.datasets import ImageDataConfig
    from .fast_style import LEGACY_LOSS_FIELDS, FastStyleConfig, StyleLossConfig

    net = {k: v for k, v in given["model_config"].items() if k not in LEGACY_LOSS_FIELDS}
    return {"data_config": from_dict(ImageDataConfig, {"dataset": "", **given["data_config"]}),
            "model_config": from_dict(FastStyleConfig, net),
            "options": from_dict(StyleLossConfig, given["options"])}


def _train_fn():
    from .fast_style import train
    return train


def _train_summary(result) -> list[str]:
    loss = result.metrics.get("train/loss", float("nan")) if getattr(result, "metrics", None) else float("nan")
    return [f"loss {loss:.4g}", f"apply it: genlab style apply {clikit.show_path(result.run_dir)} IMAGE"]


def _gatys(args: argparse.Namespace) -> int:
    from .gatys import StyleConfig, style_transfer

    cfg = from_dict(StyleConfig, given_options(args, StyleConfig))
    r = style_transfer(args.content, args.styles, cfg, out=args.out, output=args.output, progress=args.progress)
    first = f"{r.losses[0]:.4g}" if r.losses else "n/a"
    clikit.say(f"{len(r.losses)} loss evaluations in {r.seconds:.1f}s; loss {first} -> {r.final_loss:.4g}"
               + (" (stopped early: the best image so far is written)" if r.interrupted else ""))
    clikit.print_written(r.path, "result")
    clikit.say(f"  (+ figure.png, loss.png, metadata.json in {clikit.show_path(r.out_dir)})")
    return _finish(r.interrupted, "the style transfer", r.path)


def _apply(args: argparse.Namespace) -> int:
    from .fast_style import apply

    path = apply(args.run, args.image, out=args.out, output=args.output, size=args.size, device=args.device)
    clikit.print_written(path, "result")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..data.datasets import evaluation_data_config
    from .common import probe_writable
    from .fast_style import evaluate

    path = clikit.resolve_output(args, default_dir=Path(args.run), filename="eval.json", suffixes=(".json",))
    probe_writable(path.parent, flag="--output" if args.output else "--out" if args.out else "RUN_DIR",
                   of=path if args.output else None)  # really writable, before the work
    r = evaluate(args.run, data_config=evaluation_data_config(args), out=path, device=args.device,
                 batch_size=args.batch_size)
    clikit.say(f"{r['images']} held-out photos of {r['dataset']}: loss {r['loss']:.4g} (content {r['content']:.4g}, "
               f"style {r['style']:.4g}, tv {r['tv']:.4g})")
    clikit.print_written(path, "evaluation")
    return 0
