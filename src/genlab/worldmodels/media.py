"""Figures and videos of the chapter: rollout frames with actions and rewards, VAE reconstructions, one frame's
mu / log sigma^2, the MDN-RNN's decoded next-frame predictions, the CMA-ES score curve, the controller playing (real
frame | reconstruction | actions) and decoded dreams. GIFs through Pillow; ``.mp4`` through imageio-ffmpeg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..core.errors import ConfigError
from ..core.io import atomic_write

SCALE = 3  # 64 px frames shown at 192 px
VIDEO_SUFFIXES = (".gif", ".mp4")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_fig(fig, path: Path) -> Path:
    path = Path(path)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return path


def save_video(frames: list[np.ndarray], path: str | Path, *, fps: int = 20) -> Path:
    """(H, W, 3) uint8 frames as a GIF (Pillow) or an MP4 (imageio-ffmpeg), atomically."""
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ConfigError(f"a video is written as .gif or .mp4, not {path.suffix or 'a name without a suffix'}")
    if path.suffix.lower() == ".mp4":
        from ..core.extras import require

        imageio = require("imageio.v2", extra="worldmodels", what="MP4 videos", package="imageio imageio-ffmpeg")
        import os

        pad = [np.pad(f, ((0, (-f.shape[0]) % 16), (0, (-f.shape[1]) % 16), (0, 0))) for f in frames]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mp4")  # ffmpeg picks the container from the suffix
        try:
            imageio.mimwrite(tmp, pad, format="FFMPEG", fps=fps, codec="libx264", quality=7, macro_block_size=16)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path
    images = [Image.fromarray(f) for f in frames]
    with atomic_write(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path


def _big(frame: np.ndarray) -> Image.Image:
    return Image.fromarray(frame).resize((64 * SCALE, 64 * SCALE), Image.NEAREST)


def action_panel(action: np.ndarray, reward: float | None = None, total: float | None = None,
                 width: int = 64 * SCALE) -> Image.Image:
    """Bars for steer (centred), gas and brake, plus the reward so far."""
    img = Image.new("RGB", (width, 64 * SCALE), (255, 255, 255))
    d = ImageDraw.Draw(img)
    names = ("steer", "gas", "brake")
    for i, (name, v) in enumerate(zip(names, action, strict=True)):
        y = 20 + 45 * i
        d.text((6, y), f"{name} {v:+.2f}", fill=(0, 0, 0))
        x0, x1 = 6, width - 6
        d.rectangle([x0, y + 14, x1, y + 28], outline=(120, 120, 120))
        if name == "steer":
            mid = (x0 + x1) / 2
            d.rectangle([min(mid, mid + v * (x1 - mid)), y + 14, max(mid, mid + v * (x1 - mid)), y + 28],
                        fill=(60, 90, 200))
        else:
            d.rectangle([x0, y + 14, x0 + float(v) * (x1 - x0), y + 28], fill=(60, 160, 60) if name == "gas"
                        else (200, 60, 60))
    if total is not None:
        d.text((6, 160), f"return {total:.1f}" + (f"  r {reward:+.2f}" if reward is not None else ""), fill=(0, 0, 0))
    return img


def hstack(images: list[Image.Image], gap: int = 4) -> np.ndarray:
    w = sum(i.width for i in images) + gap * (len(images) - 1)
    h = max(i.height for i in images)
    out = Image.new("RGB", (w, h), (255, 255, 255))
    x = 0
    for im in images:
        out.paste(im, (x, 0))
        x += im.width + gap
    return np.asarray(out)


@torch.no_grad()
def reconstruct_frames(vae, frames: np.ndarray, batch: int = 256) -> np.ndarray:
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
    out = [vae.reconstruct(x[i:i + batch]) for i in range(0, len(x), batch)]
    return (torch.cat(out).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


@torch.no_grad()
def decode_z(vae, z: torch.Tensor) -> np.ndarray:
    return (vae.decode_images(z.float()).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def play_video(episode, vae, path: str | Path, *, every: int = 1, fps: int = 20) -> Path:
    """Real frame | VAE reconstruction | the controller's actions, for every ``every``-th step of a recorded episode."""
    recon = reconstruct_frames(vae, episode.frames)
    frames, total = [], 0.0
    for t in range(len(episode.frames)):
        total += float(episode.rewards[t])
        if t % every == 0:
            frames.append(hstack([_big(episode.frames[t]), _big(recon[t]),
                                  action_panel(episode.actions[t], float(episode.rewards[t]), total)]))
    return save_video(frames, path, fps=fps)


def rollout_figure(shard: dict[str, np.ndarray], path: str | Path, *, n: int = 8) -> Path:
    """Frames of a random rollout with their actions and rewards (the chapter's first figure)."""
    plt = _plt()
    t = np.linspace(0, len(shard["frames"]) - 1, n).astype(int)
    fig, axes = plt.subplots(1, n, figsize=(2 * n, 2.6))
    for ax, i in zip(np.atleast_1d(axes), t, strict=True):
        ax.imshow(shard["frames"][i])
        a = shard["actions"][i]
        ax.set_title(f"t={i}\nsteer {a[0]:+.2f} gas {a[1]:.2f}\nbrake {a[2]:.2f} r {shard['rewards'][i]:+.2f}",
                     fontsize=7)
        ax.axis("off")
    fig.suptitle(f"random rollout, track seed {int(shard['seed'])} (64x64 frames, dashboard cropped)", fontsize=9)
    return _save_fig(fig, path)


def latent_figure(mu: np.ndarray, logvar: np.ndarray, frame: np.ndarray, path: str | Path) -> Path:
    """mu and log sigma^2 of one frame's 32 dimensions (the chapter's figure of the VAE's code)."""
    plt = _plt()
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(10, 3), gridspec_kw={"width_ratios": [1, 4]})
    a0.imshow(frame)
    a0.axis("off")
    a0.set_title("frame")
    k = np.arange(len(mu))
    a1.bar(k - 0.2, mu, width=0.4, label="mu")
    a1.bar(k + 0.2, logvar, width=0.4, label="log sigma^2")
    a1.axhline(0, color="black", lw=0.5)
    a1.set_xlabel("latent dimension")
    a1.legend(fontsize=8)
    a1.set_title("q(z | frame): dimensions with log sigma^2 near 0 are unused (posterior = prior)")
    return _save_fig(fig, path)


@torch.no_grad()
def save_rnn_predictions(rnn, vae, window: tuple[torch.Tensor, ...], path: str | Path, *, n: int = 8) -> Path:
    """Real frames (decoded mu, top), the MDN-RNN's next-z prediction at tau -> 0 decoded (bottom), teacher-forced."""
    from ..viz import save_image_grid
    from .losses import mdn_sample

    mu, logvar, actions, prev, rewards, dones = (t[None] for t in window)
    out, _ = rnn.lstm(rnn.inputs(mu[:, :-1], actions, prev))
    logit_pi, m, log_sigma, _, _ = rnn.heads(out)
    pred = mdn_sample(logit_pi, m, log_sigma, 0.0, uniform=torch.zeros(()), normal=torch.zeros(()))[0]  # (L, D)
    steps = torch.linspace(0, pred.shape[0] - 1, n).long()
    real = vae.decode_images(mu[0, 1:][steps])
    predicted = vae.decode_images(pred[steps])
    return save_image_grid(torch.cat([real.cpu(), predicted.cpu()]), path, nrow=n)


def save_score_curve(history: list[dict[str, Any]], path: str | Path, *, title: str) -> Path:
    """Best / mean / worst score of every CMA-ES generation."""
    plt = _plt()
    g = [h["generation"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(g, [h["best"] for h in history], label="best")
    ax.plot(g, [h["mean"] for h in history], label="mean")
    ax.plot(g, [h["worst"] for h in history], label="worst")
    ax.set_xlabel("generation")
    ax.set_ylabel("score")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return _save_fig(fig, path)


def dream_vs_real_figure(real: np.ndarray, dream: np.ndarray, path: str | Path, *, n: int = 8) -> Path:
    """Top: real frames of an episode; bottom: the dream from the same first frame under the same actions."""
    plt = _plt()
    t = np.linspace(0, min(len(real), len(dream)) - 1, n).astype(int)
    fig, axes = plt.subplots(2, n, figsize=(2 * n, 4.3))
    for j, i in enumerate(t):
        for row, src, name in ((0, real, "real"), (1, dream, "dream")):
            axes[row, j].imshow(src[i])
            axes[row, j].axis("off")
            axes[row, j].set_title(f"{name} t={i}", fontsize=8)
    fig.suptitle("real episode (top) vs the MDN-RNN's dream from the same first frame, same actions (bottom)",
                 fontsize=9)
    return _save_fig(fig, path)
