"""DeepDream: genlab vs a straightforward PyTorch port of the seeds' algorithm, side by side.

Reference (the book's loop, ported as a PyTorch user would write it): forward hooks on mixed2/3/4/5 of torchvision's
InceptionV3 and a full ``model(x)`` forward every step (through Mixed_7c, pooling and fc), float32 NCHW; loss =
sum of weight x sum(act[2:-2, 2:-2]^2) / act.size, gradient / mean|gradient|, step 0.01, 20 steps per octave,
3 octaves at scale 1.4 with the lost detail re-injected. genlab: :func:`genlab.dream.deepdream` with the same
settings (the network cut after mixed5 = Mixed_6c, frozen BatchNorms folded into the convolutions, channels-last;
genlab-nchw without channels-last). Both: the same random-weight InceptionV3 (seed 0;
ImageNet weights cannot be downloaded here) and scikit-image's astronaut photo at 400x400 px. The max-loss stop
(10, calibrated for ImageNet activations) is off for both, so both run all 60 steps.

    python benchmarks/deepdream.py                       # 3 octaves at 400 px (the issue's setting)
    python benchmarks/deepdream.py --size 160 --steps-per-octave 3  # smoke run
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F

from common import write_results  # benchmarks/common.py
from style_gatys import side_by_side  # the same subprocess-per-variant runner and table

LAYERS = {"Mixed_5d": 0.2, "Mixed_6a": 3.0, "Mixed_6b": 2.0, "Mixed_6c": 1.5}  # mixed2..mixed5


def photo(size: int) -> torch.Tensor:
    from skimage import data

    x = torch.from_numpy(data.astronaut()).permute(2, 0, 1)[None].float() / 255
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def reference(net, img: torch.Tensor, steps: int, octaves: int = 3, scale: float = 1.4, step: float = 0.01):
    acts = {}
    for name, module in zip(net.names, net.body, strict=True):
        if name in LAYERS:
            module.register_forward_hook(lambda m, i, o, name=name: acts.__setitem__(name, o))

    def model(x):
        for module in net.body:
            x = module(x)
        return x

    def resize(x, shape):
        return F.interpolate(x, size=shape, mode="bilinear", align_corners=False)

    def loss_and_grads(x):
        x = x.detach().requires_grad_(True)
        model(x)
        loss = 0.0
        for name, coeff in LAYERS.items():
            a = acts[name]
            loss = loss + coeff * torch.sum(a[:, :, 2:-2, 2:-2] ** 2) / a.numel()
        loss.backward()
        g = x.grad
        return float(loss), g / torch.clamp(g.abs().mean(), min=1e-7)

    original = (img - 0.5) / 0.5  # Keras' inception preprocess_input: [-1, 1]
    h, w = original.shape[-2:]
    shapes = [(round(h / scale**i), round(w / scale**i)) for i in range(octaves)][::-1]
    x = resize(original, shapes[0])
    shrunk = x.clone()
    losses = []
    for shape in shapes:
        x = resize(x, shape)
        for _ in range(steps):
            loss, g = loss_and_grads(x)
            losses.append(loss)
            x = x + step * g
        x = x + resize(original, shape) - resize(shrunk, shape)
        shrunk = resize(original, shape)
    return losses


def run_one(which: str, size: int, steps: int) -> dict:
    from genlab.dream import DreamConfig, deepdream
    from genlab.features import load_feature_network

    img = photo(size)
    # Network builds are not timed: the reference's is the whole classifier (as ``model(x)`` runs), genlab's is cut
    # after mixed5 by deepdream itself (here: the same full network is handed to it and it truncates).
    net = load_feature_network("inception_v3", weights="random", seed=0)
    t0 = time.perf_counter()
    if which == "reference":
        losses = reference(net, img, steps)
    else:
        cfg = DreamConfig(weights="random", max_loss=None, steps_per_octave=steps, channels_last=which == "genlab",
                          device="cpu")
        losses = deepdream(img, cfg, net=net, write=False, progress=False).losses
    seconds = time.perf_counter() - t0
    return {"which": which, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "final_loss": losses[-1], "first_loss": losses[0], "count": len(losses)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=400)
    p.add_argument("--steps-per-octave", dest="steps", type=int, default=20, help="as genlab dream run's")
    p.add_argument("--variants", default="reference,genlab,genlab-nchw", help="genlab-nchw: --no-channels-last")
    p.add_argument("--out", default="benchmarks/results/deepdream.json")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.size, args.steps)))
        return
    rows = side_by_side(__file__, args.variants.split(","), ["--size", str(args.size), "--steps-per-octave", str(args.steps)],
                        title=f"DeepDream, InceptionV3 (random weights, seed 0), {args.size}x{args.size} px, "
                              f"3 octaves x {args.steps} steps", per="step")
    write_results(args.out, {"benchmark": "deepdream", "size": args.size, "steps_per_octave": args.steps,
                             "rows": rows})


if __name__ == "__main__":
    main()
