"""The tour's CycleGAN section (Foster ch. 5): a short CycleGAN between grey MNIST digits and MNIST-M-style digits on
photo patches, Foster's original | translated | reconstructed figure, and what a judge can check: label
preservation of F(B) by a frozen MNIST classifier beside the untranslated (source-only) and real-digit (ceiling)
baselines, and the steganography check."""

from __future__ import annotations

import json

from ..core.tourkit import Figure, TourContext, TourSection


def run(ctx: TourContext) -> list[Figure]:
    if ctx.toy:
        budget, width, n = ["--max-steps", "2"], "4", 50
    elif ctx.budget == "full":
        budget, width, n = ["--max-time", "15m"], "32", 2000
    else:
        budget, width, n = ["--max-time", "30s"], "16", 500
    run_dir = ctx.path("digits")
    cmd_train = ctx.genlab("cyclegan", "train", "--domain-a", "mnist", "--domain-b", "mnist-photo", "--generator",
                           "unet", "--ngf", width, "--ndf", width, "--batch-size", "4", *budget, "--decay-start", "1",
                           "--eval-samples", "0", "--sample-every", "0", "--seed", ctx.seed, "--no-progress",
                           "--no-tensorboard", "--device", ctx.device, "--out", run_dir)
    cmd_eval = ctx.genlab("cyclegan", "evaluate", run_dir, "--n", n, "--seed", ctx.seed, "--device", ctx.device,
                          "--output", ctx.path("eval.json"))
    cmd_sample = ctx.genlab("cyclegan", "sample", run_dir, "--n", "8", "--seed", ctx.seed, "--device", ctx.device,
                            "--output", ctx.path("cycle.png"))
    ev = json.loads(ctx.path("eval.json").read_text(encoding="utf-8"))
    lp, st = ev["label_preservation"], ev["steganography"]
    b2a, a2b = lp["b2a"], lp["a2b"]
    metrics = {
        "label preservation B->A": f"{b2a['accuracy']:.1%} (source-only {b2a['source_only']:.1%}, ceiling "
                                   f"{b2a['ceiling']:.1%})",
        "label preservation A->B": f"{a2b['accuracy']:.1%} (source-only {a2b['source_only']:.1%}, ceiling "
                                   f"{a2b['ceiling']:.1%})",
        "measured on": f"{b2a['n']} mnist-photo / {a2b['n']} mnist test digits; B->A judged by genlab's frozen MNIST "
                       f"classifier, A->B by a domain-B judge trained once on mnist-photo labels",
        "steganography": f"cycle L1 {st['a2b']['cycle_l1']:.3f} clean, {st['a2b']['cycle_l1_noisy']:.3f} with noise "
                         f"std {st['a2b']['noise_std']:g} on G(x)",
        "measured by": cmd_eval}
    if ev["step"] is not None:
        metrics["steps"] = str(ev["step"])
    return [Figure(ctx.path("cycle.png"), "CycleGAN: digits <-> digits on photos",
                   "Columns: A | G(A) | F(G(A)) | B | F(B) | G(F(B)) on test digits. G paints a digit onto a photo "
                   "texture, F takes it off; the cycle brings each image back.", f"{cmd_train}\n{cmd_sample}",
                   metrics)]


def section() -> TourSection:
    return TourSection(
        key="cyclegan", title="CycleGAN: unpaired translation (Foster ch. 5)", run=run,
        estimate_s={"quick": 60, "full": 1000}, requires=("skimage",),
        summary="Two generators learn to translate between grey MNIST digits and MNIST-M-style digits on photo "
                "patches without ever seeing a pair (the two domains are disjoint halves of MNIST). A frozen digit "
                "classifier checks whether a translation keeps the digit: the analogue of the paper's FCN score. "
                "The first run trains the domain-B judge once (cached), which adds about half a minute.")
