"""The tour's naive-Bayes section (Foster ch. 1): independent Bernoulli pixels on binarised MNIST (noise, and a test
NLL beside the VAE's), and the planted-dependency population where naive Bayes breaks the rule it cannot see."""

from __future__ import annotations

import json

from ..core.tourkit import Figure, TourContext, TourSection


def run(ctx: TourContext) -> list[Figure]:
    figs = []
    data_dir = []
    if ctx.toy:  # tests: a few random 28x28 images in the MNIST file format (the numbers mean nothing)
        data_dir = ["--data-dir", _toy_mnist(ctx.path("toy-mnist"))]
    cmd_mnist = ctx.genlab("naive-bayes", "mnist", *data_dir, "--seed", ctx.seed, "--out", ctx.path("mnist"))
    ev = json.loads(ctx.path("mnist", "eval.json").read_text(encoding="utf-8"))
    figs.append(Figure(ctx.path("mnist", "samples.png"), "Naive Bayes on MNIST pixels",
                       "64 samples of a model that draws each of the 784 pixels on its own from its training "
                       "frequency: the independence assumption gives noise around an average digit (chapter 1's point).",
                       cmd_mnist,
                       {"test NLL": f"{ev['test_nll_nats']:.2f} nats/image (exact; {ev['test_images']:,} test images, "
                                    f"seeded binarisation seed {ctx.seed}); genlab's VAE: 86.6 (IWAE k=500 bound, "
                                    f"first 1,000 images)"}))
    n = "300" if ctx.toy else "5000"
    cmd_synth = ctx.genlab("naive-bayes", "synth", "--n", n, "--n-test", "1000", "--seed", ctx.seed, "--out",
                           ctx.path("wrodl"))
    rows, cmds = [], [cmd_synth]
    for model in ("naive", "autoregressive"):
        cmds.append(ctx.genlab("naive-bayes", "fit", ctx.path("wrodl", "train.csv"), "--model", model, "--alpha",
                               "0.01", "--out", ctx.path(model)))
        cmds.append(ctx.genlab("naive-bayes", "evaluate", ctx.path(model), "--data", ctx.path("wrodl", "test.csv"),
                               "--output", ctx.path(model, "eval.json")))
        r = json.loads(ctx.path(model, "eval.json").read_text(encoding="utf-8"))
        rows.append((model, r))
    md = ctx.path("wrodl.md")
    lines = ["| model | held-out NLL (nats/row) | pairwise TV max | samples breaking the rule |", "|---|---|---|---|"]
    lines += [f"| {m} | {r['nll_nats_per_row']:.3f} | {r['pairwise_tv_max']:.3f} | {100 * r['rule_breaking']:.2f} % |"
              for m, r in rows]
    md.write_text(f"Synthetic Wrodl population ({n} training rows, 1,000 held-out rows); planted rule: bald <=> no "
                  f"hair colour (broken by 0 % of the data).\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    nb = rows[0][1]
    figs.append(Figure(md, "What independence costs",
                       "Naive Bayes recovers every single feature's shares but not how features go together: it "
                       "breaks the planted rule in about a third of its samples; the autoregressive table model "
                       "p(x1) p(x2|x1) ... keeps it.", "\n".join(cmds),
                       {"rule broken": f"{100 * nb['rule_breaking']:.1f} % of 10,000 naive-Bayes samples vs "
                                       f"{100 * rows[1][1]['rule_breaking']:.2f} % autoregressive"}))
    return figs


def _toy_mnist(folder):
    import gzip
    import struct

    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 64), ("t10k", 32)):
        for kind, arr in (("images-idx3", rng.integers(0, 256, (n, 28, 28))), ("labels-idx1", rng.integers(0, 10, n))):
            head = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
            with gzip.open(folder / f"{prefix}-{kind}-ubyte.gz", "wb") as f:
                f.write(head + arr.astype(np.uint8).tobytes())
    return folder


def section() -> TourSection:
    return TourSection(
        key="naive-bayes", title="Naive Bayes: the first generative model, and why it fails (Foster ch. 1)", run=run,
        estimate_s={"quick": 30, "full": 30},
        summary="Count how often each value of each feature occurs, smooth, and sample feature by feature. It gets "
                "every marginal right and every dependency wrong: noise for pixels, broken rules for Wrodls.")
