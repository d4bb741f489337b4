"""The tour's VAE section (Foster ch. 3): a 2-D latent VAE on MNIST, its decoded latent plane, the test set in that
plane, samples, and the test -ELBO."""

from __future__ import annotations

import json

from ..core.tourkit import Figure, TourContext, TourSection


def _elbo(path) -> tuple[dict[str, str], dict]:
    ev = json.loads(path.read_text(encoding="utf-8"))
    where = f"{ev['dataset']} {ev['split']} split, {ev['num_images']:,} images"
    return ({"test -ELBO": f"{ev['nelbo']:.2f} nats/image ({where})",
             "reconstruction + KL": f"{ev['recon']:.2f} + {ev['kl']:.2f} nats/image"}, ev)


def run(ctx: TourContext) -> list[Figure]:
    train = ["--epochs", "10"] if ctx.budget == "full" else ["--epochs", "2"]
    if ctx.toy:
        train = ["--max-steps", "20"]
    run_dir = ctx.path("vae-2d")
    cmd_train = ctx.genlab("vae", "train", "--dataset", "mnist", "--latent-dim", "2", *train, "--seed", ctx.seed,
                           "--no-progress", "--no-tensorboard", "--device", ctx.device, "--out", run_dir)
    cmd_eval = ctx.genlab("vae", "evaluate", run_dir, "--no-progress", "--device", ctx.device,
                          "--output", ctx.path("eval.json"))
    elbo, ev = _elbo(ctx.path("eval.json"))
    elbo["measured by"] = cmd_eval
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line][-1:]
    trained = f"{steps[0]} steps" if steps else "the run"
    cmd_manifold = ctx.genlab("vae", "manifold", run_dir, "--grid-size", "20", "--device", ctx.device,
                              "--output", ctx.path("manifold.png"))
    cmd_scatter = ctx.genlab("vae", "scatter", run_dir, "--device", ctx.device, "--output", ctx.path("scatter.png"))
    cmd_sample = ctx.genlab("vae", "sample", run_dir, "--n", "64", "--seed", ctx.seed, "--device", ctx.device,
                            "--output", ctx.path("samples.png"))
    return [
        Figure(ctx.path("manifold.png"), "VAE latent plane, decoded",
               "A 20 x 20 grid of points of the 2-D latent space, each decoded to an image: nearby codes decode to "
               "similar digits, and every digit class owns a region of the plane.",
               f"{cmd_train}\n{cmd_manifold}", elbo),
        Figure(ctx.path("scatter.png"), "The test set in the latent plane",
               "MNIST test images encoded to their 2-D mean codes, coloured by their true digit (the labels were never "
               "used in training): the classes form clusters around the prior's centre.",
               cmd_scatter, {"points": f"{min(5000, ev['num_images']):,} of the {ev['num_images']:,} test images"}),
        Figure(ctx.path("samples.png"), "Samples from the prior",
               f"64 images decoded from z ~ N(0, I) after {trained}: a 2-D latent keeps only the coarse shape, "
               f"hence blurry digits (a 32-D VAE samples sharper ones).",
               cmd_sample, {"test -ELBO": elbo["test -ELBO"]}),
    ]


def section() -> TourSection:
    return TourSection(
        key="vae", title="VAE: a 2-D latent space you can look at (Foster ch. 3)", run=run,
        estimate_s={"quick": 45, "full": 240},
        summary="A variational autoencoder with a 2-dimensional latent space on MNIST: small enough to draw the whole "
                "latent space and see how the encoder arranges the digits in it.")
