"""``genlab style CONTENT STYLE [STYLE ...]`` (Gatys), ``genlab style train-fast`` and ``genlab style apply``.

``style`` takes images *or* a sub-command as its first word, so it re-parses its arguments with one of three
parsers (argparse cannot mix optional sub-commands with positional files).
"""

from __future__ import annotations

import argparse
import sys

from ..core.config import add_dataclass_arguments, from_dict, given_options
from ..core.engine import TrainConfig
from ..data.datasets import ImageDataConfig

SUBCOMMANDS = ("train-fast", "apply")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("style", help="neural style transfer (Gatys; fast feed-forward: train-fast, apply)",
                              add_help=False, prefix_chars="+", usage="genlab style CONTENT STYLE [STYLE ...] [options] | "
                                                    "genlab style train-fast ... | genlab style apply ...",
                              description="Neural style transfer. `genlab style CONTENT STYLE... -h` for Gatys "
                                          "options, `genlab style train-fast -h`, `genlab style apply -h`.")
    # prefix_chars="+": every word (options included) lands in argv, re-parsed by the right parser below
    p.add_argument("argv", nargs="*")
    p.set_defaults(func=_dispatch)


def gatys_parser() -> argparse.ArgumentParser:
    from .gatys import StyleConfig

    g = argparse.ArgumentParser(prog="genlab style", description="Gatys et al. style transfer by optimising pixels "
                                "(L-BFGS by default). Writes OUT/result.png, figure.png (content | style | result), "
                                "loss.png and metadata.json. Sub-commands: train-fast, apply.")
    g.add_argument("content", metavar="CONTENT", help="the content image")
    g.add_argument("styles", metavar="STYLE", nargs="+", help="one or more style images (blend: --style-blend)")
    add_dataclass_arguments(g.add_argument_group("style transfer"), StyleConfig)
    g.add_argument("--out", help="output folder (default: runs/style/<content>-<time>)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    return g


def train_parser() -> argparse.ArgumentParser:
    from .fast import DEFAULT_TRAIN, FastStyleConfig

    t = argparse.ArgumentParser(prog="genlab style train-fast", description="Train a fast (feed-forward) style "
                                "network for one style on a folder of photos (Johnson et al. 2016).")
    add_dataclass_arguments(t.add_argument_group("data"), ImageDataConfig)
    add_dataclass_arguments(t.add_argument_group("style network and loss"), FastStyleConfig)
    add_dataclass_arguments(t.add_argument_group("training"), TrainConfig, defaults=DEFAULT_TRAIN)
    t.add_argument("--steps", dest="max_steps", type=int, default=argparse.SUPPRESS, help="alias of --max-steps")
    t.add_argument("--size", dest="image_size", type=int, default=argparse.SUPPRESS, help="alias of --image-size")
    t.add_argument("--out", help="run folder (default: runs/style/fast-<style>-<time>)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    return t


def apply_parser() -> argparse.ArgumentParser:
    a = argparse.ArgumentParser(prog="genlab style apply", description="Stylise an image in one pass with a "
                                "trained fast style network.")
    a.add_argument("run", metavar="RUN_DIR", help="a train-fast run folder or saved-model folder")
    a.add_argument("image", metavar="IMAGE", help="the photo to stylise")
    a.add_argument("--size", type=int, default=None, help="longer side in pixels (default: as it is)")
    a.add_argument("--out", help="output folder (default: runs/style/<image>-fast-<time>)")
    a.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default: cpu)")
    return a


def _dispatch(args: argparse.Namespace) -> int:
    argv = list(args.argv)
    if not argv or argv[0] in ("-h", "--help"):
        gatys_parser().print_help()
        print(f"\nsub-commands: {', '.join(SUBCOMMANDS)} (genlab style train-fast -h)")
        return 0 if argv else 2
    if argv[0] == "train-fast":
        return _train(train_parser().parse_args(argv[1:]))
    if argv[0] == "apply":
        a = apply_parser().parse_args(argv[1:])
        from .fast import apply_fast
        path = apply_fast(a.run, a.image, out=a.out, size=a.size, device=a.device)
        print(f"output: {path} (+ figure.png, metadata.json)")
        return 0
    return _gatys(gatys_parser().parse_args(argv))


def _gatys(args: argparse.Namespace) -> int:
    from .gatys import StyleConfig, style_transfer

    cfg = from_dict(StyleConfig, given_options(args, StyleConfig))
    r = style_transfer(args.content, args.styles, cfg, out=args.out, progress=not args.quiet)
    first = f"{r.losses[0]:.4g}" if r.losses else "n/a"
    print(f"{len(r.losses)} loss evaluations in {r.seconds:.1f}s; loss {first} -> {r.final_loss:.4g}")
    print(f"output: {r.out_dir / 'result.png'} (+ figure.png, loss.png, metadata.json)")
    return 0


def _train(args: argparse.Namespace) -> int:
    from .fast import DEFAULT_TRAIN, FastStyleConfig, train_fast

    given = {**given_options(args, ImageDataConfig), **given_options(args, FastStyleConfig),
             **given_options(args, TrainConfig)}
    if args.resume:
        result = train_fast(out=args.out, resume=True, overrides=given)
    else:
        data_given = given_options(args, ImageDataConfig)
        if "dataset" not in data_given:
            print("genlab: error: --dataset FOLDER (the photos to train on) is required", file=sys.stderr)
            return 2
        result = train_fast(from_dict(FastStyleConfig, given_options(args, FastStyleConfig)),
                            from_dict(ImageDataConfig, data_given),
                            from_dict(TrainConfig, {**DEFAULT_TRAIN, **given_options(args, TrainConfig)}), out=args.out)
    print(f"trained {result.step} steps in {result.seconds:.1f}s; loss {result.metrics.get('train/loss', float('nan')):.4g}")
    print(f"run folder: {result.run_dir}  (apply: genlab style apply {result.run_dir} IMAGE)")
    return 0
