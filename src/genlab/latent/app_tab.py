"""The app's latent-model tab (VAE / AE / AAE): samples, a latent explorer (two chosen dimensions as sliders),
interpolation between two uploaded images, and an attribute vector at a chosen strength."""

from __future__ import annotations

from typing import Any

TITLE = "VAE / AE / AAE"
KEY = "latent"
PREFIXES = ("vae", "ae", "aae")


def _model(ctx: Any, run: Any) -> Any:
    return ctx.load_model(run, prefix=PREFIXES)


def sample(ctx: Any, run: Any, n: Any, seed: Any) -> tuple[Any, str]:
    from ..app.kit import tensor_to_pil

    model = _model(ctx, run)
    n, seed = int(n), int(seed)
    images = model.sample(n, seed=seed)
    return tensor_to_pil(images, scale=2), f"{n} samples from the prior of {run} ({model.model_type}), seed {seed}"


def explore(ctx: Any, run: Any, dim_i: Any, dim_j: Any, zi: float, zj: float) -> tuple[Any, str]:
    import torch

    from ..app.kit import AppError, tensor_to_pil

    model = _model(ctx, run)
    d = model.config.latent_dim
    i, j = int(dim_i), int(dim_j)
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise AppError(f"pick two different dimensions between 0 and {d - 1} (this model's latent has {d})")
    z = torch.zeros(1, d)
    z[0, i], z[0, j] = float(zi), float(zj)
    img = model.decode_images(z)
    return tensor_to_pil(img, padding=0, scale=8), (f"z[{i}] = {float(zi):+.2f}, z[{j}] = {float(zj):+.2f}, the other "
                                                    f"{d - 2} dimensions at 0")


def _as_input(ctx: Any, model: Any, file: Any, what: str) -> Any:
    from ..data.images import image_to_tensor, resize_center_crop

    c, size, _ = model.image_shape
    img = ctx.load_upload(file, mode="L" if c == 1 else "RGB", what=what)
    return image_to_tensor(resize_center_crop(img, size)).unsqueeze(0)


def interpolate(ctx: Any, run: Any, a: Any, b: Any, frames: Any) -> tuple[Any, str]:
    import torch

    from ..app.kit import tensor_to_pil

    model = _model(ctx, run)
    x = torch.cat([_as_input(ctx, model, a, "first image"), _as_input(ctx, model, b, "second image")])
    za, zb = model.encode_latent(x)
    frames = int(frames)
    t = torch.linspace(0, 1, frames).unsqueeze(1)
    z = za.unsqueeze(0) * (1 - t) + zb.unsqueeze(0) * t
    images = torch.cat([x[:1], model.decode_images(z), x[1:]])
    return tensor_to_pil(images, nrow=frames + 2, scale=3), (f"left: image A as the model sees it, then {frames} "
                                                              f"decoded codes on the line from A's code to B's, "
                                                              f"right: image B")


def attribute(ctx: Any, run: Any, label: str, strength: float) -> tuple[str, str]:
    from ..latent.tools import attribute as attribute_tool

    run_dir = ctx.resolve_run(run, prefix=PREFIXES)
    s = float(strength)
    out = ctx.new_output(".png", "attribute")
    path = attribute_tool(str(run_dir), label=str(label).strip(), images="test:0,test:1,test:2",
                          strengths=[-s, 0.0, s], out=out, device="cpu")
    return str(path), (f"three test images, their codes moved by -{s:g}, 0 and +{s:g} times the {label!r} vector "
                       f"(mean code of test images with the label minus without)")


def build_tab(gr: Any, ctx: Any) -> None:
    g = ctx.guard
    run = ctx.run_picker(gr, prefix=PREFIXES, label="latent-model run", elem_id="latent-run")
    with gr.Tab("Sample"):
        with gr.Row():
            n = gr.Slider(1, 64, value=16, step=1, label="n", elem_id="latent-n")
            seed = gr.Number(value=0, precision=0, label="seed", elem_id="latent-seed")
        btn = gr.Button("Sample", variant="primary", elem_id="latent-sample-btn")
        img = gr.Image(label="samples", type="pil", format="png", interactive=False, elem_id="latent-samples")
        note = gr.Markdown(elem_id="latent-sample-note")
        btn.click(g(sample, ctx), [run, n, seed], [img, note], api_name="latent_sample")
    with gr.Tab("Latent explorer"):
        with gr.Row():
            di = gr.Number(value=0, precision=0, label="dimension i", elem_id="latent-dim-i")
            dj = gr.Number(value=1, precision=0, label="dimension j", elem_id="latent-dim-j")
        zi = gr.Slider(-3, 3, value=0, step=0.05, label="z[i]", elem_id="latent-zi")
        zj = gr.Slider(-3, 3, value=0, step=0.05, label="z[j]", elem_id="latent-zj")
        btn2 = gr.Button("Decode", elem_id="latent-explore-btn")
        out2 = gr.Image(label="decoded", type="pil", format="png", interactive=False, elem_id="latent-decoded")
        note2 = gr.Markdown(elem_id="latent-explore-note")
        for ev in (zi.release, zj.release, btn2.click):
            ev(g(explore, ctx), [run, di, dj, zi, zj], [out2, note2])
    with gr.Tab("Interpolate two images"):
        with gr.Row():
            a = gr.File(label="image A", file_types=["image"], elem_id="latent-upload-a")
            b = gr.File(label="image B", file_types=["image"], elem_id="latent-upload-b")
        frames = gr.Slider(2, 16, value=8, step=1, label="frames", elem_id="latent-frames")
        btn3 = gr.Button("Interpolate", elem_id="latent-interp-btn")
        out3 = gr.Image(label="A -> B", type="pil", format="png", interactive=False, elem_id="latent-interp")
        note3 = gr.Markdown(elem_id="latent-interp-note")
        btn3.click(g(interpolate, ctx), [run, a, b, frames], [out3, note3])
    with gr.Tab("Attribute vector"):
        with gr.Row():
            label = gr.Textbox(value="3", label="label (a test-set class: a digit, 'Sneaker' ...)",
                               elem_id="latent-label")
            strength = gr.Slider(0, 4, value=2, step=0.25, label="strength", elem_id="latent-strength")
        btn4 = gr.Button("Apply", elem_id="latent-attr-btn")
        out4 = gr.Image(label="-s | 0 | +s", type="filepath", interactive=False, elem_id="latent-attr")
        note4 = gr.Markdown(elem_id="latent-attr-note")
        btn4.click(g(attribute, ctx), [run, label, strength], [out4, note4])
