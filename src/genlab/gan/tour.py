"""The tour's DCGAN section (Foster ch. 4, Chollet 8.5): a short DCGAN on MNIST, samples over training, a latent
interpolation, and FID/KID on genlab's domain classifier (the feature network is named with the number)."""

from __future__ import annotations

import json

from ..core.tourkit import Figure, TourContext, TourSection


def _scores(path) -> dict[str, str]:
    ev = json.loads(path.read_text(encoding="utf-8"))
    on = (f"{ev['n_fake']:,} EMA samples vs {ev['reference']}; features: genlab's {ev['dataset']} domain classifier "
          f"(test accuracy {ev['classifier_test_accuracy']:.1%}), not Inception")
    out = {"FID": f"{ev['fid']:.1f}", "KID (raw, not x1000)": f"{ev['kid_mean']:.4f} ± {ev['kid_std']:.4f}",
           "measured on": on}
    if not ev.get("meaningful", True):
        out["caution"] = "not meaningful: " + "; ".join(ev.get("warnings", []))
    return out


def run(ctx: TourContext) -> list[Figure]:
    if ctx.toy:
        steps, every, fid_n, eval_n = 4, 2, 64, 64
    elif ctx.budget == "full":
        steps, every, fid_n, eval_n = 5000, 500, 2000, 10000
    else:
        steps, every, fid_n, eval_n = 600, 100, 1000, 2000
    run_dir = ctx.path("dcgan-mnist")
    cmd_train = ctx.genlab("gan", "train", "--dataset", "mnist", "--max-steps", steps, "--sample-every", every,
                           "--fid-every", steps // 2, "--fid-samples", fid_n, "--seed", ctx.seed, "--no-progress",
                           "--no-tensorboard", "--device", ctx.device, "--out", run_dir)
    cmd_eval = ctx.genlab("gan", "evaluate", run_dir, "--fid-samples", eval_n, "--seed", ctx.seed, "--no-progress",
                          "--device", ctx.device, "--output", ctx.path("eval.json"))
    scores = {**_scores(ctx.path("eval.json")), "measured by": cmd_eval}
    cmd_sample = ctx.genlab("gan", "sample", run_dir, "--n", "64", "--seed", ctx.seed, "--device", ctx.device,
                            "--output", ctx.path("samples.png"))
    figs = [Figure(ctx.path("samples.png"), "DCGAN samples",
                   f"64 images from the EMA generator after {steps} steps of genlab's default DCGAN (hinge loss, "
                   f"spectral-norm discriminator) on MNIST.", f"{cmd_train}\n{cmd_sample}", scores)]
    strip = run_dir / "figures" / "samples_over_training.png"
    if strip.is_file():
        figs.append(Figure(strip, "Samples over training",
                           f"The same fixed noise decoded every {every} steps, top (early) to bottom (late): noise "
                           f"becomes strokes, then digits.", cmd_train,
                           {"steps": f"{steps} (one row every {every})"}))
    interp = run_dir / "figures" / "interpolation.png"
    if interp.is_file():
        figs.append(Figure(interp, "Walking the latent space",
                           "Generator outputs along straight lines between random noise vectors: a smooth latent "
                           "space changes one digit into another without jumps.", cmd_train, {}))
    fid = run_dir / "figures" / "fid.png"
    if fid.is_file():
        figs.append(Figure(fid, "FID and KID during training",
                           f"Both measured on {fid_n:,} EMA samples at each evaluation, on the domain classifier's "
                           f"features (lower is better).", cmd_train,
                           {"FID at the end": scores["FID"], "measured on": scores["measured on"]}))
    return figs


def section() -> TourSection:
    return TourSection(
        key="gan", title="DCGAN: samples, training and the latent walk (Foster ch. 4)", run=run,
        estimate_s={"quick": 75, "full": 900},
        summary="A deep convolutional GAN trained briefly on MNIST. FID/KID compare the features of generated and "
                "test images; here the features come from genlab's MNIST classifier (Inception weights are not "
                "available offline), so the numbers are comparable only with other genlab runs on MNIST.")
