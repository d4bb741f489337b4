"""``genlab dream IMAGE``, ``genlab visualize LAYER`` and ``genlab features list --model M``."""

from __future__ import annotations

import argparse

from ..core.config import add_dataclass_arguments, from_dict, given_options


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from .deepdream import DreamConfig

    d = subparsers.add_parser("dream", help="DeepDream an image through a trained convnet",
                              description="DeepDream (the seeds' algorithm: octaves, detail re-injection, max-loss "
                                          "stop) plus jitter, tiled gradients for large images and a guide image. "
                                          "Writes OUT/dream.png, octaves.png, loss.png and metadata.json.")
    d.add_argument("image", metavar="IMAGE", help="the image to dream on")
    add_dataclass_arguments(d.add_argument_group("dream"), DreamConfig)
    d.add_argument("--out", help="output folder (default: runs/dream/<image>-<time>)")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=_dream)



def add_visualize_parser(subparsers: argparse._SubParsersAction) -> None:
    from .visualize import VisualizeConfig

    v = subparsers.add_parser("visualize", help="what a unit responds to: maximise a channel or a class logit",
                              description="Maximise channels of LAYER from noise (jitter, scale, blur or Fourier "
                                          "regularisation). --channels 0-15 gives a grid of the first 16 filters; "
                                          "LAYER logits with --channels K visualises class K.")
    v.add_argument("layer", metavar="LAYER", help="layer name (Keras alias or torchvision module name)")
    add_dataclass_arguments(v.add_argument_group("visualize"), VisualizeConfig)
    v.add_argument("--out", help="output folder (default: runs/visualize/<model>-<layer>-<time>)")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(func=_visualize)



def add_features_parser(subparsers: argparse._SubParsersAction) -> None:
    f = subparsers.add_parser("features", help="feature networks: list their layer names",
                              description="Feature networks shared by dream, visualize and style.")
    fsub = f.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fl = fsub.add_parser("list", help="list the layer names (and Keras aliases) of a feature network")
    fl.add_argument("--model", default="vgg19", help="vgg16, vgg19, googlenet, inception_v3 or a genlab classifier "
                                                     "folder (default: vgg19)")
    fl.set_defaults(func=_features_list)


def _dream(args: argparse.Namespace) -> int:
    from .deepdream import DreamConfig, deepdream

    cfg = from_dict(DreamConfig, given_options(args, DreamConfig))
    r = deepdream(args.image, cfg, out=args.out, progress=not args.quiet)
    last = f"{r.losses[-1]:.4g}" if r.losses else "n/a"
    print(f"dreamed {len(r.losses)} steps in {r.seconds:.1f}s; loss {r.losses[0] if r.losses else 0:.4g} -> {last}")
    print(f"output: {r.out_dir / 'dream.png'} (+ octaves.png, loss.png, metadata.json)")
    return 0


def _visualize(args: argparse.Namespace) -> int:
    from .visualize import VisualizeConfig, visualize

    cfg = from_dict(VisualizeConfig, given_options(args, VisualizeConfig))
    r = visualize(args.layer, cfg, out=args.out, progress=not args.quiet)
    if r.objectives:
        print(f"{len(r.channels)} channel(s), {len(r.objectives)} steps: objective {r.objectives[0]:.4g} -> "
              f"{r.objectives[-1]:.4g}")
    print(f"output: {r.out_dir / 'filters.png'} (+ objective.png, metadata.json)")
    return 0


def _features_list(args: argparse.Namespace) -> int:
    from ..features.networks import layer_names

    rows = layer_names(args.model)
    print(f"{'layer':<16} {'aliases':<28} output shape")
    for name, aliases, shape in rows:
        print(f"{name:<16} {', '.join(aliases):<28} {'x'.join(map(str, shape))}")
    return 0
