"""The tour's ProGAN / StyleGAN section (Foster ch. 9): a short progressive run with its sample grid per resolution
phase, and a short StyleGAN-lite run with the style-mixing grid, the truncation trick and the per-layer noise figure.
Every number says what it was measured on (genlab's Fashion-MNIST domain classifier, never Inception)."""

from __future__ import annotations

import json

from ..core.tourkit import Figure, TourContext, TourSection


def _fid(path) -> dict[str, str]:
    ev = json.loads(path.read_text(encoding="utf-8"))
    out = {"FID": f"{ev['fid']:.1f}", "KID (raw)": f"{ev['kid_mean']:.3f} ± {ev['kid_std']:.3f}",
           "measured on": f"{ev['n_fake']:,} EMA samples vs {ev['reference']}; genlab's fashion-mnist domain "
                          f"classifier (test accuracy {ev['classifier_test_accuracy']:.1%}), not Inception"}
    if ev.get("truncation_psi") is not None:
        out["truncation"] = f"psi {ev['truncation_psi']:g}"
    if not ev.get("meaningful", True):
        out["caution"] = "not meaningful: " + "; ".join(ev.get("warnings", []))
    return out


def run(ctx: TourContext) -> list[Figure]:
    if getattr(ctx, "toy", False):
        pro_time, style_time, phase, eval_n, tiny = "2s", "2s", "64", 64, ["--g-channels", "2", "--d-channels", "2"]
    elif ctx.budget == "full":
        pro_time, style_time, phase, eval_n, tiny = "6m", "6m", "6000", 2000, []
    else:
        pro_time, style_time, phase, eval_n, tiny = "20s", "20s", "400", 300, []
    common = ["--dataset", "fashion-mnist", "--fid-samples", "0", "--sample-every", "0", "--seed", ctx.seed,
              "--no-progress", "--no-tensorboard", "--device", ctx.device, "--max-steps", "100000", *tiny]
    figs: list[Figure] = []

    pro = ctx.path("progan")
    cmd_pro = ctx.genlab("gan", "train", "--arch", "progan", "--fade-images", phase, "--stable-images", phase,
                         "--max-time", pro_time, *common, "--out", pro)
    phases = sorted((pro / "samples").glob("phase*.png"), key=lambda p: int(p.name[5:].split("_")[0]))
    for p in phases[-3:]:
        name = p.stem.split("_", 1)[1]
        figs.append(Figure(p, f"ProGAN at {name}",
                           f"Samples of the EMA generator at the end of the {name} phase (upsampled to 32 px): G and D "
                           f"grow from 4x4, each new resolution faded in as alpha rises with the images seen.",
                           cmd_pro, {"phase images": f"{phase} fade-in + {phase} stable per resolution"}))

    sty = ctx.path("stylegan")
    cmd_sty = ctx.genlab("gan", "train", "--arch", "stylegan", "--max-time", style_time, *common, "--out", sty)
    cmd_mix = ctx.genlab("gan", "mix", sty, "--device", ctx.device, "--out", ctx.path("mix"))
    for group in ("coarse", "middle", "fine"):
        path = ctx.path("mix", f"mix_{group}.png")
        if path.is_file():
            figs.append(Figure(path, f"Style mixing: {group} styles from B",
                               f"Top row: source A; left column: source B; each cell is A with B's {group} styles "
                               f"(coarse 4-8 px layers, middle 16 px, fine 32 px).", f"{cmd_sty}\n{cmd_mix}", {}))
    metrics = {}
    for psi in ("0.5", "1"):
        cmd = ctx.genlab("gan", "evaluate", sty, "--truncation", psi, "--fid-samples", eval_n, "--no-progress",
                         "--device", ctx.device, "--output", ctx.path(f"eval_psi{psi}.json"))
        metrics[psi] = (_fid(ctx.path(f"eval_psi{psi}.json")), cmd)
    cmd_s = ctx.genlab("gan", "sample", sty, "--truncation", "0.5", "--n", "32", "--device", ctx.device,
                       "--output", ctx.path("truncated.png"))
    figs.append(Figure(ctx.path("truncated.png"), "Truncation trick (psi 0.5)",
                       "Samples with w pulled halfway to the mean w: more typical, less varied. psi 0 would give the "
                       "mean w's image for every seed.", f"{cmd_sty}\n{cmd_s}\n{metrics['0.5'][1]}",
                       {**{f"{k} (psi 0.5)": v for k, v in metrics["0.5"][0].items() if k != "truncation"},
                        "FID (psi 1)": metrics["1"][0]["FID"]}))
    cmd_n = ctx.genlab("gan", "noise", sty, "--device", ctx.device, "--out", ctx.path("noise"))
    figs.append(Figure(ctx.path("noise", "noise_layers.png"), "Per-layer noise",
                       "Per seed: noise in all layers, no noise, noise in the fine layers only, in the coarse "
                       "layers only: noise adds stochastic detail, the styles carry the content.",
                       f"{cmd_sty}\n{cmd_n}", {}))
    figs.append(Figure(ctx.path("noise", "noise_realisations.png"), "Noise realisations",
                       "Per seed: three draws of the noise inputs for the same w, and the per-pixel standard "
                       "deviation over 32 draws (bright = where noise changes the image).", f"{cmd_sty}\n{cmd_n}",
                       {}))
    return figs


def section() -> TourSection:
    return TourSection(
        key="progan-stylegan", title="ProGAN and StyleGAN ideas: growing, styles, mixing, truncation (Foster ch. 9)",
        run=run, estimate_s={"quick": 75, "full": 900},
        summary="A progressively grown GAN (4x4 to 32x32, each resolution faded in) and a style-based generator "
                "(mapping network, StyleGAN2 modulated convolutions, per-layer noise, style mixing) trained briefly "
                "on Fashion-MNIST. Their FID/KID use genlab's Fashion-MNIST classifier, not Inception: comparable "
                "only with other genlab runs scored the same way.")
