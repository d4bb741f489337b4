"""The app's GAN tab: samples from a trained DCGAN (seed, n, EMA or trained generator) and latent interpolation."""

from __future__ import annotations

from typing import Any

TITLE = "GAN"
KEY = "gan"
PREFIXES = ("gan",)


def sample(ctx: Any, run: Any, n: Any, seed: Any, ema: bool) -> tuple[Any, str]:
    from ..app.kit import tensor_to_pil

    model = ctx.load_model(run, prefix=PREFIXES)
    n, seed = int(n), int(seed)
    images = model.sample(n, seed=seed, ema=bool(ema))
    which = "EMA generator" if ema else "trained generator"
    return tensor_to_pil(images, scale=2), f"{n} samples of {run} ({model.model_type}, {which}), seed {seed}"


def interpolate(ctx: Any, run: Any, seed: Any, steps: Any, rows: Any) -> tuple[Any, str]:
    from ..app.kit import tensor_to_pil

    model = ctx.load_model(run, prefix=PREFIXES)
    steps, rows = int(steps), int(rows)
    images = model.interpolate(steps=steps, rows=rows, seed=int(seed))
    return tensor_to_pil(images, nrow=steps, scale=2), (f"{rows} straight lines in z between pairs of noise vectors "
                                                        f"(seed {int(seed)}), {steps} images each")


def build_tab(gr: Any, ctx: Any) -> None:
    g = ctx.guard
    run = ctx.run_picker(gr, prefix=PREFIXES, label="GAN run", elem_id="gan-run")
    with gr.Tab("Sample"):
        with gr.Row():
            n = gr.Slider(1, 64, value=16, step=1, label="n", elem_id="gan-n")
            seed = gr.Number(value=0, precision=0, label="seed", elem_id="gan-seed")
            ema = gr.Checkbox(value=True, label="EMA generator", elem_id="gan-ema")
        btn = gr.Button("Sample", variant="primary", elem_id="gan-sample-btn")
        img = gr.Image(label="samples", type="pil", format="png", interactive=False, elem_id="gan-samples")
        note = gr.Markdown(elem_id="gan-sample-note")
        btn.click(g(sample, ctx), [run, n, seed, ema], [img, note], api_name="gan_sample")
    with gr.Tab("Interpolate"):
        with gr.Row():
            seed2 = gr.Number(value=0, precision=0, label="seed", elem_id="gan-interp-seed")
            steps = gr.Slider(2, 16, value=8, step=1, label="steps", elem_id="gan-steps")
            rows = gr.Slider(1, 8, value=4, step=1, label="rows", elem_id="gan-rows")
        btn2 = gr.Button("Interpolate", elem_id="gan-interp-btn")
        img2 = gr.Image(label="interpolation", type="pil", format="png", interactive=False, elem_id="gan-interp")
        note2 = gr.Markdown(elem_id="gan-interp-note")
        btn2.click(g(interpolate, ctx), [run, seed2, steps, rows], [img2, note2])
