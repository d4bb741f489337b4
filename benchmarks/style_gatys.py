"""Gatys style transfer: genlab vs a straightforward reference loop written the textbook way, side by side.

Reference (a PyTorch port of the seeds' Keras loop): every loss evaluation runs the *full* VGG19 convolutional
stack (``include_top=False``: all 37 modules up to block5_pool) on the batch [content, style, combination], in
float32 NCHW, and recomputes the content features and the style Gram matrices from that batch each time.
genlab: :func:`genlab.style.style_transfer` (targets cached once, one image per evaluation, network cut after
block5_conv2, channels-last). Both: the same random-weight VGG19 (seed 0: ImageNet weights cannot be downloaded
here), the same loss definitions and weights, the same content/style photos (scikit-image astronaut / coffee,
centre-cropped), L-BFGS with strong-Wolfe line search from the content image, exactly ``--evaluations`` loss evaluations.

Each side runs in its own subprocess (sequentially), so its peak memory (max RSS) is its own.

    python benchmarks/style_gatys.py                      # 300 evaluations at 256 px (the issue's setting)
    python benchmarks/style_gatys.py --size 96 --evaluations 10 # smoke run
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from common import write_results  # benchmarks/common.py


def photos(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    from skimage import data

    def prep(arr) -> torch.Tensor:
        x = torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 255
        s = min(x.shape[-2:])
        x = x[..., :s, :s] if x.shape[-1] == s else x[..., (x.shape[-1] - s) // 2:(x.shape[-1] - s) // 2 + s]
        return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)

    return prep(data.astronaut()), prep(data.coffee())


def reference(net, content: torch.Tensor, style: torch.Tensor, steps: int, cfg) -> tuple[float, list[float]]:
    """The textbook loop: full VGG19 features on [content, style, combination] every evaluation."""
    from genlab.features.networks import parse_layer_weights

    style_layers = {net.resolve(k): w for k, w in parse_layer_weights(cfg.style_layers).items()}
    content_layer = net.resolve(cfg.content_layer)
    mean, std = net.mean, net.std

    def gram(f):  # (C, H, W)
        c, h, w = f.shape
        f = f.reshape(c, h * w)
        return f @ f.t() / (c * h * w)

    x = content.clone().requires_grad_(True)
    losses: list[float] = []

    def closure():
        if len(losses) >= steps:
            raise StopIteration
        opt.zero_grad()
        batch = (torch.cat([content, style, x]) - mean) / std
        feats = {}
        h = batch
        for name, module in zip(net.names, net.body, strict=True):
            h = module(h)
            feats[name] = h
        loss = cfg.content_weight * torch.mean((feats[content_layer][2] - feats[content_layer][0]) ** 2)
        for name, w in style_layers.items():
            loss = loss + cfg.style_weight * w * torch.mean((gram(feats[name][2]) - gram(feats[name][1])) ** 2)
        a = (x[..., :-1, :-1] - x[..., 1:, :-1]) ** 2
        b = (x[..., :-1, :-1] - x[..., :-1, 1:]) ** 2
        loss = loss + cfg.tv_weight * torch.mean((a + b) ** 1.25)
        loss.backward()
        losses.append(float(loss))
        return loss

    opt = torch.optim.LBFGS([x], lr=1.0, max_iter=steps, max_eval=10 * steps, history_size=50, tolerance_grad=0.0,
                            tolerance_change=0.0, line_search_fn="strong_wolfe")
    try:
        while len(losses) < steps:
            opt.step(closure)
    except StopIteration:
        pass
    return min(losses), losses


def run_one(which: str, size: int, steps: int) -> dict:
    from genlab.features import load_feature_network
    from genlab.style import StyleConfig, style_transfer

    torch.manual_seed(0)
    content, style = photos(size)
    channels_last = which != "genlab-nchw"
    cfg = StyleConfig(weights="random", size=size, evaluations=steps, channels_last=channels_last, device="cpu")
    # The same network (include_top=False: up to block5_pool) for both; builds are not timed. genlab's
    # style_transfer cuts it after block5_conv2 itself.
    net = load_feature_network("vgg19", weights="random", seed=0, layers=["block5_pool"])
    t0 = time.perf_counter()
    if which == "reference":
        final, losses = reference(net, content, style, steps, cfg)
    else:
        r = style_transfer(content, [style], cfg, net=net, write=False, progress=False)
        final, losses = min(r.losses), r.losses
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"which": which, "seconds": seconds, "peak_rss_mb": peak_mb, "final_loss": final, "count": len(losses),
            "first_loss": losses[0]}


def side_by_side(script: str, variants: list[str], argv: list[str], *, title: str, per: str) -> list[dict]:
    """Run ``script --one VARIANT`` for each variant in its own subprocess (so max RSS is its own), then print the
    table: time, time per ``per``, peak RSS, final loss, loss and speed relative to the ``reference`` row."""
    rows = []
    for which in variants:
        out = subprocess.run([sys.executable, script, "--one", which, *argv], capture_output=True, text=True,
                             check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"  done {which}: {rows[-1]['seconds']:.1f}s", flush=True)
    ref = next((r for r in rows if r["which"] == "reference"), rows[0])
    print(f"\n{title}, {torch.get_num_threads()} threads")
    print(f"{'':<14}{'time (s)':>10}{'s/' + per:>9}{'peak RSS MB':>13}{'final loss':>13}{'vs ref loss':>12}"
          f"{'speed-up':>10}")
    for r in rows:
        r["speedup"] = ref["seconds"] / r["seconds"]
        r["loss_ratio"] = r["final_loss"] / ref["final_loss"]
        print(f"{r['which']:<14}{r['seconds']:>10.1f}{r['seconds'] / r['count']:>9.3f}{r['peak_rss_mb']:>13.0f}"
              f"{r['final_loss']:>13.5g}{r['loss_ratio']:>12.3f}{r['speedup']:>9.2f}x")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--evaluations", dest="steps", type=int, default=300,
                   help="loss evaluations (forward+backward passes), as genlab style run's")
    p.add_argument("--variants", default="reference,genlab", help="also: genlab-nchw (channels-last off)")
    p.add_argument("--out", default="benchmarks/results/style_gatys.json")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.size, args.steps)))
        return
    rows = side_by_side(__file__, args.variants.split(","), ["--size", str(args.size), "--evaluations", str(args.steps)],
                        title=f"Gatys style transfer, VGG19 (random weights, seed 0), {args.size}x{args.size} px, "
                              f"{args.steps} L-BFGS loss evaluations", per="eval")
    write_results(args.out, {"benchmark": "style_gatys", "size": args.size, "steps": args.steps, "rows": rows})


if __name__ == "__main__":
    main()
