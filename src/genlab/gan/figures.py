"""A GAN run's figures, from its run folder: D/G loss curves, the FID curve, the fixed-noise samples over training
as one strip, and a latent interpolation strip. Written to ``RUN/figures/``."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from ..core.io import atomic_write, ensure_dir
from ..core.tracking import read_metrics
from ..viz import save_image_grid

STRIP_COLUMNS = 8  # samples per row of the over-training strip (the first row of each fixed-noise grid)
GRID_PADDING = 2


def _save_figure(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    pairs = [(r["step"], r[key]) for r in rows if key in r and r[key] is not None]
    return [p[0] for p in pairs], [float(p[1]) for p in pairs]


def plot_losses(run_dir: Path, out: Path) -> Path | None:
    """Discriminator and generator losses against step (from metrics.jsonl)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir)
    curves = {name: _series(rows, f"train/{name}") for name in ("d_loss", "g_loss", "gp")}
    if not curves["d_loss"][0]:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, (steps, values) in curves.items():
        if steps:
            ax.plot(steps, values, label=name.replace("_", " "))
    ax.set_xlabel("step (discriminator updates)")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save_figure(fig, out)


def plot_fid(run_dir: Path, out: Path) -> Path | None:
    """FID and KID (domain-classifier features) against step, in two panels with a shared step axis (on twin axes two
    curves of two points each lie exactly on top of each other). KID is raw, as in eval.json (not x1000: on these
    features its values are tens, not Inception's 0.0x); its band is ± the std over subsets."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir)
    steps, fids = _series(rows, "eval/fid")
    if not steps:
        return None
    ks, kids = _series(rows, "eval/kid_mean")
    fig, axes = plt.subplots(2 if ks else 1, 1, figsize=(6, 5 if ks else 3.5), sharex=True, squeeze=False)
    ax = axes[0][0]
    ax.plot(steps, fids, "o-", label="FID")
    ax.set_ylabel("FID (genlab domain classifier)")
    ax.legend()
    ax.grid(alpha=0.3)
    if ks:
        kx = axes[1][0]
        kx.plot(ks, kids, "s-", color="tab:orange", label="KID (mean over subsets, band ± std)")
        std = dict(zip(*_series(rows, "eval/kid_std"), strict=True))
        if all(s in std for s in ks):
            kx.fill_between(ks, [k - std[s] for s, k in zip(ks, kids, strict=True)],
                            [k + std[s] for s, k in zip(ks, kids, strict=True)], color="tab:orange", alpha=0.2)
        kx.set_ylabel("KID (raw, not x1000)")
        kx.legend()
        kx.grid(alpha=0.3)
    axes[-1][0].set_xlabel("step (discriminator updates)")
    return _save_figure(fig, out)


def sample_strip(run_dir: Path, out: Path, *, image_size: int, max_rows: int = 12) -> Path | None:
    """The first row of each fixed-noise grid ``samples/step_*.png``, stacked top (early) to bottom (late)."""
    grids = sorted((int(m.group(1)), p) for p in (run_dir / "samples").glob("step_*.png")
                   if (m := re.fullmatch(r"step_(\d+)\.png", p.name)))
    if not grids:
        return None
    if len(grids) > max_rows:  # evenly spaced, always keeping the last
        idx = sorted({round(i * (len(grids) - 1) / (max_rows - 1)) for i in range(max_rows)})
        grids = [grids[i] for i in idx]
    cell = image_size + GRID_PADDING
    rows = []
    for _, path in grids:
        with Image.open(path) as im:
            width = min(im.width, STRIP_COLUMNS * cell + GRID_PADDING)
            rows.append(im.crop((0, 0, width, cell + GRID_PADDING)).convert("RGB"))
    label_w = 80
    strip = Image.new("RGB", (label_w + max(r.width for r in rows), sum(r.height for r in rows)), "white")
    from PIL import ImageDraw
    draw = ImageDraw.Draw(strip)
    y = 0
    for (step, _), row in zip(grids, rows, strict=True):
        strip.paste(row, (label_w, y))
        draw.text((4, y + row.height // 2 - 5), f"step {step}", fill="black")
        y += row.height
    ensure_dir(out.parent)
    with atomic_write(out) as tmp:
        strip.save(tmp, format="PNG")
    return out


def interpolation_strip(model, out: Path, *, steps: int = 10, rows: int = 4, seed: int = 0) -> Path:
    """Straight lines through latent space between pairs of noise vectors, one row each (EMA generator)."""
    return save_image_grid(model.interpolate(steps=steps, rows=rows, seed=seed).cpu(), out, nrow=steps)


def make_figures(run_dir: str | Path, model) -> dict[str, Path]:
    """All four figures of a run that exist (no FID curve without FID evaluations); returns name -> path."""
    run_dir = Path(run_dir)
    fig_dir = ensure_dir(run_dir / "figures")
    made = {
        "losses": plot_losses(run_dir, fig_dir / "losses.png"),
        "fid": plot_fid(run_dir, fig_dir / "fid.png"),
        "samples_over_training": sample_strip(run_dir, fig_dir / "samples_over_training.png",
                                              image_size=model.config.size),
        "interpolation": interpolation_strip(model, fig_dir / "interpolation.png"),
    }
    return {k: v for k, v in made.items() if v is not None}
