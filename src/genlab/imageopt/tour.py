"""The tour's image-optimisation section (Chollet 8.2-8.3, Foster ch. 5): DeepDream octaves and Gatys style transfer
at two style weights. ImageNet weights are used when torchvision's cache holds them; otherwise the pictures come from
random weights, and every figure says so (they show what the method does, not what a trained network sees)."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.tourkit import Figure, TourContext, TourSection


def cached_weights(model: str) -> str:
    """ "imagenet" when torchvision's cache holds ``model``'s ImageNet file (nothing is downloaded), else "random"."""
    from ..features.specs import MODELS
    from ..features.weights import hub_checkpoint_path

    try:
        url = MODELS[model].weights_enum().url
    except Exception:  # noqa: BLE001 - an old torchvision without the enum: no cached weights either
        return "random"
    return "imagenet" if hub_checkpoint_path(url).is_file() else "random"


def photos(folder: Path) -> tuple[Path, Path, str]:
    """A content photo and a style image: scikit-image's sample photos when installed, else drawn here."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    content, style = folder / "content.png", folder / "style.png"
    try:
        import skimage.data as data

        Image.fromarray(data.chelsea()).save(content)
        Image.fromarray(data.immunohistochemistry()).save(style)
        return content, style, "scikit-image's sample photos (chelsea the cat; an immunohistochemistry slide as style)"
    except ImportError:
        import numpy as np

        rng = np.random.default_rng(0)
        img = Image.new("RGB", (300, 200), (200, 220, 240))
        d = ImageDraw.Draw(img)
        d.rectangle((0, 130, 300, 200), fill=(90, 140, 60))
        d.ellipse((200, 20, 260, 80), fill=(250, 210, 60))
        d.polygon([(40, 130), (100, 50), (160, 130)], fill=(120, 110, 100))
        img.save(content)
        st = Image.new("RGB", (200, 200), (30, 30, 80))
        d = ImageDraw.Draw(st)
        for _ in range(60):
            x, y, r = (int(v) for v in rng.integers(0, 200, 3) // (1, 1, 6))
            d.ellipse((x - r, y - r, x + r, y + r), outline=tuple(int(c) for c in rng.integers(80, 255, 3)), width=3)
        st.save(style)
        return content, style, "images drawn by genlab (scikit-image's sample photos are not installed)"


def _weights_label(meta_path: Path) -> str:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    w = meta.get("weights", {})
    return f"{meta.get('model')}, {w.get('description', w.get('name', '?'))}"


def style_grid(content: Path, style: Path, results: list[tuple[str, Path]], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from PIL import Image

    panels = [("content", content), ("style", style), *results]
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.2), dpi=100)
    for ax, (title, path) in zip(axes, panels):
        ax.imshow(Image.open(path).convert("RGB"))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def run(ctx: TourContext) -> list[Figure]:
    content, style, source = photos(ctx.path("inputs"))
    dream_w, style_w = cached_weights("inception_v3"), cached_weights("vgg19")
    if ctx.toy:
        dream = ["--size", "128", "--octaves", "1", "--steps-per-octave", "1"]
        gatys_size, evals = 64, 2
    elif ctx.budget == "full":
        dream = ["--size", "400", "--octaves", "3", "--steps-per-octave", "20"]
        gatys_size, evals = 256, 200
    else:
        dream = ["--size", "224", "--octaves", "3", "--steps-per-octave", "8"]
        gatys_size, evals = 128, 30
    cmd_dream = ctx.genlab("dream", "run", content, "--model", "inception_v3", "--weights", dream_w, *dream,
                           "--seed", ctx.seed, "--device", ctx.device, "--out", ctx.path("dream"))
    dmeta = json.loads(ctx.path("dream", "metadata.json").read_text(encoding="utf-8"))
    dweights = _weights_label(ctx.path("dream", "metadata.json"))
    dream_metrics = {"objective": f"{dmeta['losses'][0]:.4g} -> {dmeta['final_loss']:.4g} (mean activation of "
                                  f"{', '.join(dmeta['layers'])}, weighted; {len(dmeta['losses'])} steps)",
                     "input": source}
    figs = [Figure(ctx.path("dream", "octaves.png"), "DeepDream, octave by octave",
                   "Gradient ascent on the image to raise the activations of Inception's mixed layers, from the "
                   "smallest octave up, re-injecting lost detail at each scale."
                   + (" With random weights the patterns are texture noise, not eyes and dogs." if dream_w == "random"
                      else ""), cmd_dream, dream_metrics, weights=dweights),
            Figure(ctx.path("dream", "dream.png"), "The dream", "The final image at full size.", cmd_dream,
                   dream_metrics, weights=dweights)]
    results, cmds, finals = [], [], {}
    for sw in ("1e4", "1e6"):
        folder = ctx.path(f"style-{sw}")
        cmds.append(ctx.genlab("style", "run", content, style, "--weights", style_w, "--size", gatys_size,
                               "--evaluations", evals, "--style-weight", sw, "--seed", ctx.seed, "--device",
                               ctx.device, "--out", folder))
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        finals[sw] = meta["final"]
        results.append((f"style weight {sw}", folder / "result.png"))
    sweights = _weights_label(ctx.path("style-1e6", "metadata.json"))
    grid = style_grid(content, style, results, ctx.path("style_grid.png"))
    style_metrics = {f"style weight {sw}": f"total {f['loss']:.4g} = content {f['content']:.3g} + {sw} x style "
                                           f"{f['style']:.3g} + tv {f['tv']:.3g} (after {evals} L-BFGS evaluations, "
                                           f"{gatys_size} px, VGG19 Gram matrices)" for sw, f in finals.items()}
    figs.append(Figure(grid, "Style transfer: the style weight",
                       "Gatys et al.: the image is optimised to keep the content's deep features and take the style "
                       "image's Gram matrices; a larger style weight gives more texture and less content.",
                       "\n".join(cmds), {**style_metrics, "input": source}, weights=sweights))
    return figs


def section() -> TourSection:
    return TourSection(
        key="imageopt", title="DeepDream and style transfer (Chollet 8.2-8.3)", run=run,
        estimate_s={"quick": 90, "full": 600},
        summary="Image optimisation: the network is frozen and the pixels are trained. Which weights made each "
                "picture is written beside it: ImageNet from torchvision's cache when it is there, else random "
                "weights (this machine cannot download them; random-weight pictures show the method, not learned "
                "features).")
