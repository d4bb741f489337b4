"""The app's image-optimisation tab: DeepDream and Gatys style transfer on uploaded images. The page says which
weights made each picture (ImageNet only from torchvision's cache; otherwise random weights, marked NOT pretrained)."""

from __future__ import annotations

import json
from typing import Any

TITLE = "DeepDream / style"
KEY = "imageopt"
MAX_SIDE = 512  # the largest result side the app computes (CPU minutes grow with the square of it)
FILE_CHOICE = "a state_dict file (upload)"


def weight_choices() -> list[str]:
    from .tour import cached_weights

    out = ["random", FILE_CHOICE]
    if cached_weights("inception_v3") == "imagenet" or cached_weights("vgg19") == "imagenet":
        out.insert(0, "imagenet")
    return out


def _tensor(ctx: Any, file: Any, what: str, side: int) -> Any:
    """The upload, checked by the image loader, resized so its longer side is ``side`` px, as (1, 3, H, W)."""
    from PIL import Image

    from ..data.images import image_to_tensor

    img = ctx.load_upload(file, mode="RGB", what=what)
    scale = side / max(img.size)
    if scale != 1:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.Resampling.LANCZOS)
    return image_to_tensor(img).unsqueeze(0)


def _weights_note(out_dir: Any) -> str:
    meta = json.loads((out_dir / "metadata.json").read_text(encoding="utf-8"))
    w = meta.get("weights", {})
    return f"{meta.get('model')}, weights: {w.get('description', w.get('name', '?'))}"


def _check_weights(weights: str, model: str, ctx: Any = None, file: Any = None) -> str:
    from ..app.kit import AppError
    from .tour import cached_weights

    if weights == FILE_CHOICE:
        if file is None:
            raise AppError("upload a state_dict file (.safetensors or .pth) for the weights first")
        return str(ctx.upload_path(file, what="weights file", suffixes=(".safetensors", ".pth", ".pt")))
    if weights not in ("random", "imagenet"):
        raise AppError(f"weights must be random or imagenet, got {weights!r}")
    if weights == "imagenet" and cached_weights(model) != "imagenet":
        raise AppError(f"ImageNet weights for {model} are not in torchvision's cache on this machine; use random "
                       f"(or run `genlab dream run ... --weights imagenet` once where it can download them)")
    return weights


def _side(size: Any) -> int:
    from ..app.kit import AppError

    size = int(size)
    if not 64 <= size <= MAX_SIDE:
        raise AppError(f"size must be between 64 and {MAX_SIDE} pixels, got {size}")
    return size


def dream(ctx: Any, file: Any, weights: str, size: Any, octaves: Any, steps: Any, seed: Any,
          progress: Any = None, weights_file: Any = None) -> tuple[str, str]:
    from .dream import DreamConfig, deepdream

    x = _tensor(ctx, file, "image", _side(size))
    cfg = DreamConfig(model="inception_v3", weights=_check_weights(weights, "inception_v3", ctx, weights_file), size=_side(size),
                      octaves=int(octaves), steps_per_octave=int(steps), seed=int(seed), device=ctx.device)
    if progress is not None:
        progress(0.05, desc=f"dreaming: {int(octaves)} octaves x {int(steps)} steps")
    out = ctx.new_output("", "dream")
    result = deepdream(x, cfg, out=out, progress=False)
    if progress is not None:
        progress(1.0, desc="done")
    return str(result.path), (f"{_weights_note(out)}; objective {result.losses[0]:.4g} -> {result.losses[-1]:.4g} "
                              f"in {len(result.losses)} steps, {result.seconds:.1f} s")


def style(ctx: Any, content: Any, style_file: Any, weights: str, size: Any, evaluations: Any, style_weight: Any,
          seed: Any, progress: Any = None) -> tuple[str, str]:
    from ..app.kit import AppError
    from .gatys import StyleConfig, style_transfer

    c = _tensor(ctx, content, "content image", _side(size))
    s = _tensor(ctx, style_file, "style image", _side(size))
    evals = int(evaluations)
    if not 1 <= evals <= 500:
        raise AppError(f"evaluations must be between 1 and 500, got {evals}")
    cfg = StyleConfig(weights=_check_weights(weights, "vgg19"), size=_side(size), evaluations=evals,
                      style_weight=float(style_weight), seed=int(seed), device=ctx.device)
    if progress is not None:
        progress(0.05, desc=f"style transfer: {evals} L-BFGS evaluations")
    out = ctx.new_output("", "style")
    result = style_transfer(c, [s], cfg, out=out, progress=False)
    if progress is not None:
        progress(1.0, desc="done")
    return str(result.path), (f"{_weights_note(out)}; loss {result.losses[0]:.4g} -> {result.final_loss:.4g} after "
                              f"{len(result.losses)} evaluations, {result.seconds:.1f} s")


def build_tab(gr: Any, ctx: Any) -> None:
    choices = weight_choices()
    style_choices = [c for c in choices if c != FILE_CHOICE]
    gr.Markdown("Weights: " + ("ImageNet weights are in torchvision's cache." if "imagenet" in choices else
                               "**no ImageNet weights on this machine: random weights only** — the pictures show "
                               "what the method does, not what a trained network sees."))

    def dream_h(file, weights, wfile, size, octaves, steps, seed, progress=gr.Progress()):
        return dream(ctx, file, weights, size, octaves, steps, seed, progress, wfile)

    def style_h(content, style_file, weights, size, evaluations, style_weight, seed, progress=gr.Progress()):
        return style(ctx, content, style_file, weights, size, evaluations, style_weight, seed, progress)

    with gr.Tab("DeepDream"):
        up = gr.File(label="image", file_types=["image"], elem_id="imageopt-dream-upload")
        with gr.Row():
            w = gr.Dropdown(choices, value=choices[0], label="weights", elem_id="imageopt-dream-weights")
            wfile = gr.File(label="weights file (inception_v3 state_dict)", file_types=[".safetensors", ".pth"],
                            elem_id="imageopt-weights-file")
            size = gr.Slider(64, MAX_SIDE, value=160, step=16, label="size (longer side)",
                             elem_id="imageopt-dream-size")
            octaves = gr.Slider(1, 5, value=2, step=1, label="octaves", elem_id="imageopt-octaves")
            steps = gr.Slider(1, 40, value=5, step=1, label="steps per octave", elem_id="imageopt-steps")
            seed = gr.Number(value=0, precision=0, label="seed", elem_id="imageopt-dream-seed")
        btn = gr.Button("Dream", variant="primary", elem_id="imageopt-dream-btn")
        out = gr.Image(label="dream", type="filepath", interactive=False, elem_id="imageopt-dream")
        note = gr.Markdown(elem_id="imageopt-dream-note")
        btn.click(ctx.guard(dream_h), [up, w, wfile, size, octaves, steps, seed], [out, note],
                  api_name="imageopt_dream")
    with gr.Tab("Style transfer"):
        with gr.Row():
            content = gr.File(label="content image", file_types=["image"], elem_id="imageopt-content")
            style_up = gr.File(label="style image", file_types=["image"], elem_id="imageopt-style")
        with gr.Row():
            w2 = gr.Dropdown(style_choices, value=style_choices[0], label="weights", elem_id="imageopt-style-weights")
            size2 = gr.Slider(64, MAX_SIDE, value=128, step=16, label="size", elem_id="imageopt-style-size")
            evals = gr.Slider(1, 500, value=20, step=1, label="L-BFGS evaluations", elem_id="imageopt-evals")
            sw = gr.Number(value=1e6, label="style weight", elem_id="imageopt-style-weight")
            seed2 = gr.Number(value=0, precision=0, label="seed", elem_id="imageopt-style-seed")
        btn2 = gr.Button("Transfer", variant="primary", elem_id="imageopt-style-btn")
        out2 = gr.Image(label="result", type="filepath", interactive=False, elem_id="imageopt-result")
        note2 = gr.Markdown(elem_id="imageopt-style-note")
        btn2.click(ctx.guard(style_h), [content, style_up, w2, size2, evals, sw, seed2], [out2, note2])
