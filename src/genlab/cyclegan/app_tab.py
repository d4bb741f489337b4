"""The app's CycleGAN tab: translate an uploaded image with G (A -> B) or F (B -> A) of a trained run, with its
reconstruction through the other generator (original | translated | reconstructed)."""

from __future__ import annotations

from typing import Any

TITLE = "CycleGAN"
KEY = "cyclegan"
PREFIXES = ("cyclegan",)


def translate(ctx: Any, run: Any, file: Any, direction: str) -> tuple[Any, str]:
    import torch

    from ..app.kit import tensor_to_pil
    from ..data.images import image_to_tensor, resize_center_crop
    from .api import run_data_config
    from .data import to_channels

    model = ctx.load_model(run, prefix=PREFIXES)
    g = model.generator_for(direction)  # noqa: F841 - refuses anything but a2b / b2a
    src = "a" if direction == "a2b" else "b"
    channels = model.channels(src)
    img = ctx.load_upload(file, mode="L" if channels == 1 else "RGB")
    cfg = run_data_config(ctx.resolve_run(run, prefix=PREFIXES))
    side = cfg.load_size if cfg is not None else model.config.image_size
    x = image_to_tensor(resize_center_crop(img, side))[None]
    y = model.translate(x, direction)
    back = model.translate(y, "b2a" if direction == "a2b" else "a2b")
    row = torch.cat([to_channels(t, 3) for t in (x, y, back)])
    return tensor_to_pil(row, nrow=3, scale=4), (f"{direction} with {'G' if direction == 'a2b' else 'F'} of {run} "
                                                 f"at {side}x{side}: original | translated | reconstructed")


def build_tab(gr: Any, ctx: Any) -> None:
    g = ctx.guard
    run = ctx.run_picker(gr, prefix=PREFIXES, label="CycleGAN run", elem_id="cyclegan-run")
    with gr.Row():
        upload = gr.File(label="image", file_types=["image"], elem_id="cyclegan-upload")
        direction = gr.Radio(["a2b", "b2a"], value="a2b", label="direction", elem_id="cyclegan-direction")
    btn = gr.Button("Translate", variant="primary", elem_id="cyclegan-translate-btn")
    img = gr.Image(label="original | translated | reconstructed", type="pil", format="png", interactive=False,
                   elem_id="cyclegan-result")
    note = gr.Markdown(elem_id="cyclegan-note")
    btn.click(g(translate, ctx), [run, upload, direction], [img, note], api_name="cyclegan_translate")
