"""The latent-space tools: each writes a PNG and returns its path. They work for any model with the latent protocol
of :mod:`genlab.latent.models` (``latent_dim``, ``encode_latent(x)``, ``decode_images(z)``, ``image_shape``,
``latent_prior``, ``latent_plane(dims, grid_size)``): the VAE, the autoencoder and the adversarial autoencoder.

    >>> from genlab import latent
    >>> latent.scatter("runs/vae/z2")                              # runs/vae/z2/plots/scatter.png
    >>> latent.interpolate("runs/vae/z2", "test:0", "test:1", frames=10)
    >>> latent.attribute("runs/vae/faces", label="Smiling", attributes="list_attr_celeba.txt", images="a.jpg")

``run_or_model`` is a run folder (its test set is the one it was trained on) or a model object (then pass
``data_config=`` where the tool needs test images, and ``out=``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..core.config import check_int
from ..core.errors import ConfigError
from ..core.io import atomic_write
from ..viz import save_image_grid
from .inputs import Source, folder_with_attributes, label_index, load_image_refs, note, parse_image_refs, resolve
from .ops import attribute_vector, lerp, plane_grid, slerp

METHODS = ("auto", "none", "pca", "tsne")


@torch.no_grad()
def encode_all(model: Any, images: torch.Tensor, *, batch_size: int = 1000) -> torch.Tensor:
    """Deterministic codes (N, D) of uint8 or float [0, 1] images (N, C, H, W), in batches, in eval mode."""
    model.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size]
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        out.append(model.encode_latent(x).float().cpu())
    return torch.cat(out) if out else torch.zeros(0, model.latent_dim)


def _check_count(name: str, value: int, minimum: int) -> None:
    check_int(name.replace("-", "_"), value, minimum)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_labelled_grid(images: torch.Tensor, path: str | Path, *, nrow: int, padding: int = 2,
                       row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
                       xlabel: str | None = None, ylabel: str | None = None, title: str | None = None,
                       max_ticks: int = 11) -> Path:
    """An image grid (as :func:`genlab.viz.save_image_grid`) drawn with labelled rows and columns: a PNG whose
    ``Description`` text records the labels (``rows: a | b; columns: ...``). Long label lists show every k-th."""
    from torchvision.utils import make_grid

    plt = _pyplot()
    grid = make_grid(images.detach().float().cpu().clamp(0, 1), nrow=nrow, padding=padding, pad_value=1.0)
    array = grid.permute(1, 2, 0).numpy()
    _, h, w = images.shape[1:]
    rows = -(-len(images) // nrow)
    scale = max(1, 64 // max(h, 1))  # small images (28 px) are shown at 2x so labels fit beside them
    height, width = array.shape[0] * scale, array.shape[1] * scale
    left = (110 if row_labels is not None else 20) + (25 if ylabel else 0)
    bottom = (45 if col_labels is not None else 10) + (20 if xlabel else 0)
    top = 35 if title else 10
    fig_w, fig_h = width + left + 20, height + bottom + top
    fig = plt.figure(figsize=(fig_w / 100, fig_h / 100), dpi=100)
    try:
        ax = fig.add_axes((left / fig_w, bottom / fig_h, width / fig_w, height / fig_h))
        ax.imshow(array if array.shape[2] == 3 else array[..., 0], cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")

        def ticks(labels, count, size):
            step = max(1, -(-count // max_ticks))
            idx = list(range(0, count, step))
            return [padding + i * (size + padding) + size / 2 - 0.5 for i in idx], [labels[i] for i in idx]

        if col_labels is not None:
            pos, lab = ticks(list(col_labels), min(nrow, len(images)), w)
            ax.set_xticks(pos, lab, fontsize=8, rotation=45 if max(map(len, lab)) > 4 else 0)
        else:
            ax.set_xticks([])
        if row_labels is not None:
            pos, lab = ticks(list(row_labels), rows, h)
            ax.set_yticks(pos, lab, fontsize=8)
        else:
            ax.set_yticks([])
        if xlabel:
            ax.set_xlabel(xlabel, fontsize=9)
        if ylabel:
            ax.set_ylabel(ylabel, fontsize=9)
        if title:
            ax.set_title(title, fontsize=9)
        description = "; ".join(part for part in (
            f"rows: {' | '.join(row_labels)}" if row_labels is not None else "",
            f"columns: {' | '.join(col_labels)}" if col_labels is not None else "") if part)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100, metadata={"Description": description, "Title": title or ""})
    finally:
        plt.close(fig)
    return path


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 100 else f"{v:.0f}"


# ---- scatter -------------------------------------------------------------------------------------------------------

def reduce_2d(codes: torch.Tensor, method: str = "auto", *, seed: int = 0) -> tuple[torch.Tensor, str]:
    """Codes (N, D) -> points (N, 2) and the axis name: as they are for D = 2 (``auto``/``none``), else PCA (``auto``,
    ``pca``) or t-SNE (``tsne``) from scikit-learn."""
    if method not in METHODS:
        raise ConfigError(f"--method must be one of {', '.join(METHODS)} (got {method!r})")
    d = codes.shape[1]
    if d < 2:
        raise ConfigError(f"scatter needs a latent of at least 2 dimensions, this model's is {d}-D; train with "
                          f"--latent-dim 2")
    if method == "none" or (method == "auto" and d == 2):
        if d != 2:
            raise ConfigError(f"--method none plots a 2-D latent as it is, this model's is {d}-D; use --method pca "
                              f"or --method tsne (or train with --latent-dim 2)")
        return codes, "z"
    x = codes.double().numpy()
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, len(x) // 4)))
        points = TSNE(2, init="pca", random_state=seed, perplexity=perplexity).fit_transform(x)
        return torch.from_numpy(points).float(), "t-SNE "
    from sklearn.decomposition import PCA

    return torch.from_numpy(PCA(2, random_state=seed).fit_transform(x)).float(), "PC"


def marker_size(n: int) -> float:
    """Scatter marker area (points^2) for ``n`` points: 3 for thousands, growing to 36 for a handful."""
    return float(min(36.0, max(3.0, 6000.0 / max(n, 1))))


def scatter(run_or_model: Any, *, out: str | Path | None = None, method: str = "auto", max_points: int = 5000,
            seed: int = 0, family: str | None = None, device: str = "auto", **data: Any) -> Path:
    """The test set's codes in 2-D (reduced by PCA / t-SNE when latent_dim > 2), coloured by label; 800x650 px."""
    plt = _pyplot()
    _check_count("max-points", max_points, 2)
    src = resolve(run_or_model, family=family, device=device, **data)
    test = src.test_data()
    n = min(max_points, len(test))
    idx = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    points, axis = reduce_2d(encode_all(src.model, test.images[idx]), method, seed=seed)
    labels = test.labels[idx] if test.labels is not None else None
    size, alpha = marker_size(n), (0.6 if n > 500 else 0.9)
    fig, ax = plt.subplots(figsize=(8, 6.5), dpi=100)
    try:
        if labels is None:
            ax.scatter(points[:, 0], points[:, 1], s=size, alpha=alpha)
        else:
            names = test.class_names or [str(i) for i in range(int(labels.max()) + 1)]
            cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
            for k, name in enumerate(names):
                sel = labels == k
                if sel.any():
                    ax.scatter(points[sel, 0], points[sel, 1], s=size, alpha=alpha, color=cmap(k % cmap.N),
                               label=name)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=max(1.0, 12 / size ** 0.5),
                      fontsize=8, frameon=False)
        what = f"{src.model.latent_dim}-D codes" + ("" if axis == "z" else f", {axis.strip()} to 2-D")
        ax.set(xlabel=f"{axis}1", ylabel=f"{axis}2", title=f"{src.model.family}: {n} test images ({what})")
        fig.subplots_adjust(left=0.09, right=0.78, bottom=0.09, top=0.93)
        path = src.out_path(out, "scatter.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)
    return path


# ---- manifold ------------------------------------------------------------------------------------------------------

def manifold_axes(model: Any, *, grid_size: int = 20,
                  dims: Sequence[int] | None = None) -> tuple[torch.Tensor, list[torch.Tensor], tuple[int, int]]:
    """(base code, [x values, y values], dims) of the manifold figure; see :func:`manifold_codes`."""
    d = model.latent_dim
    _check_count("grid-size", grid_size, 2)
    if dims is None:
        if d != 2:
            raise ConfigError(f"the manifold needs a 2-D latent, this model's is {d}-D: pick two dimensions with "
                              f"`genlab {model.family} manifold RUN_DIR --dims I J` (the rest held at the centre), "
                              f"or train with --latent-dim 2")
        dims = (0, 1)
    dims = tuple(dims)
    if len(dims) != 2 or dims[0] == dims[1] or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < d
                                                   for i in dims):
        raise ConfigError(f"--dims takes two different latent dimensions in 0..{d - 1} (got {' '.join(map(str, dims))})")
    base, axes = model.latent_plane(dims, grid_size)
    return base, axes, dims


def manifold_codes(model: Any, *, grid_size: int = 20, dims: Sequence[int] | None = None) -> torch.Tensor:
    """The (grid_size**2, latent_dim) codes of the manifold image: a grid over latent dims ``dims`` (default (0, 1)
    of a 2-D latent), the other dims at the model's centre (the prior mean 0, or an autoencoder's mean code).

    The axis values come from the model (``latent_plane``): standard-normal quantiles 0.05..0.95 under a N(0, I)
    prior (VAE, AAE); for an autoencoder the same quantiles of the Gaussian fitted to its training codes; for the
    AAE's mixture prior, +-(radius + 2 std). Rows go from high to low values of dims[1], columns low to high dims[0].
    """
    base, axes, dims = manifold_axes(model, grid_size=grid_size, dims=dims)
    z = base.repeat(grid_size * grid_size, 1)
    z[:, list(dims)] = plane_grid(axes[0], axes[1])
    return z


def manifold(run_or_model: Any, *, out: str | Path | None = None, grid_size: int = 20,
             dims: Sequence[int] | None = None, axes: bool = True, family: str | None = None,
             device: str = "auto") -> Path:
    """The decoded grid over a 2-D latent plane (see :func:`manifold_codes`), with the latent coordinates on the axes
    (``axes=False``: the bare grid, no padding, grid_size * H pixels)."""
    src = resolve(run_or_model, family=family, device=device)
    base, values, dims = manifold_axes(src.model, grid_size=grid_size, dims=dims)
    z = base.repeat(grid_size * grid_size, 1)
    z[:, list(dims)] = plane_grid(values[0], values[1])
    images = src.model.decode_images(z)
    name = f"manifold_{grid_size}x{grid_size}" + (f"_dims{dims[0]}-{dims[1]}" if dims != (0, 1) else "") + ".png"
    path = src.out_path(out, name)
    if not axes:
        return save_image_grid(images, path, nrow=grid_size, padding=0)
    return save_labelled_grid(images, path, nrow=grid_size, padding=0,
                              col_labels=[_fmt(float(v)) for v in values[0]],
                              row_labels=[_fmt(float(v)) for v in values[1].flip(0)],
                              xlabel=f"z{dims[0] + 1}", ylabel=f"z{dims[1] + 1}",
                              title=f"{src.model.family}: decoded latent plane (z{dims[0] + 1}, z{dims[1] + 1})")


# ---- interpolate / attribute / reconstruct -------------------------------------------------------------------------

def interpolate(run_or_model: Any, a: str, b: str, *, frames: int = 10, out: str | Path | None = None,
                family: str | None = None, device: str = "auto", **data: Any) -> Path:
    """Morph image ``a`` into ``b`` (``test:INDEX`` or files) through the latent space: a strip of two labelled rows,
    linear (top) and spherical (bottom), ``frames`` images each, endpoints the decoded codes of ``a`` and ``b``."""
    _check_count("frames", frames, 2)
    src = resolve(run_or_model, family=family, device=device, **data)
    za, zb = encode_all(src.model, load_image_refs(parse_image_refs([a, b]), src))
    z = torch.cat([lerp(za, zb, frames), slerp(za, zb, frames)])
    return save_labelled_grid(src.model.decode_images(z), src.out_path(out, "interpolate.png"), nrow=frames,
                              row_labels=["linear", "spherical"],
                              col_labels=[_fmt(t) for t in torch.linspace(0, 1, frames).tolist()],
                              xlabel=f"t: {a} (0) -> {b} (1)")


def parse_strengths(spec: str | Sequence[float]) -> list[float]:
    """``"-2,-1,0,1,2"``, ``["-2", "-1", "0"]``, ``["-1,0", "1"]`` or numbers -> a list of floats."""
    items = [spec] if isinstance(spec, str) else list(spec)
    try:
        values = [float(v) for item in items for v in str(item).split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--strengths takes numbers like -2 -1 0 1 2 (got {' '.join(map(str, items))})") from None
    if not values or not all(torch.isfinite(torch.tensor(values))):
        raise ConfigError(f"--strengths takes one or more finite numbers (got {' '.join(map(str, items))})")
    return values


def attribute(run_or_model: Any, *, label: str | int, images: str | Sequence[str] = "test:0,test:1,test:2,test:3",
              strengths: str | Sequence[float] = (-2, -1, 0, 1, 2), attributes: str | Path | None = None,
              image_folder: str | Path | None = None, max_images: int = 5000, out: str | Path | None = None,
              family: str | None = None, device: str = "auto", **data: Any) -> Path:
    """Add an attribute vector (mean code with ``label`` minus mean code without, :func:`attribute_vector`) at each
    strength to each image's code: a grid, one row per image, one column per strength.

    Labels are the test set's classes (Fashion-MNIST names, digits, folder classes); with ``attributes`` (CelebA's
    ``list_attr_celeba.txt`` or a CSV) they are that file's columns over the images of ``image_folder`` (default: the
    run's image folder)."""
    _check_count("max-images", max_images, 2)
    values = parse_strengths(strengths)
    src = resolve(run_or_model, family=family, device=device, **data)
    if attributes is not None:
        folder = image_folder or (src.data_config.dataset if src.data_config and not src.data_config.is_builtin
                                  else None)
        if folder is None:
            raise ConfigError("--attributes needs the image folder it describes: pass --image-folder DIR")
        pool, has = folder_with_attributes(folder, attributes, str(label), src.model.image_shape,
                                           max_images=max_images)
        what = f"attribute {label!r}"
    else:
        test = src.test_data()
        k = label_index(label, test.class_names or (None if test.labels is None else
                                                    [str(i) for i in range(int(test.labels.max()) + 1)]),
                        src.data_config.dataset)
        pool, has = test.images[:max_images], test.labels[:max_images] == k
        what = f"label {label!r}" + (f" ({test.class_names[k]})" if test.class_names else "")
    z = encode_all(src.model, load_image_refs(parse_image_refs(images), src))
    vector = attribute_vector(encode_all(src.model, pool), has, name=what)
    note(f"{what}: {int(has.sum())} of {len(has)} images have it; vector norm {float(vector.norm()):.3f}")
    s = torch.tensor(values)
    grid = (z[:, None, :] + s[None, :, None] * vector).reshape(-1, z.shape[1])  # (N * S, D), row = one image
    refs = parse_image_refs(images)
    return save_labelled_grid(src.model.decode_images(grid), src.out_path(out, "attribute.png"), nrow=len(values),
                              row_labels=[r if r.startswith("test:") else Path(r).name for r in refs],
                              col_labels=[f"{v:+g}" for v in values],
                              xlabel=f"strength (multiples of the {what} vector)")


def reconstruct(run_or_model: Any, *, n: int = 16, per_row: int = 16, out: str | Path | None = None,
                family: str | None = None, device: str = "auto", **data: Any) -> Path:
    """The first ``n`` test images over their reconstructions: row pairs of ``per_row`` (originals, then
    reconstructions), blank cells completing the last pair."""
    _check_count("n", n, 1)
    _check_count("per-row", per_row, 1)
    src = resolve(run_or_model, family=family, device=device, **data)
    test = src.test_data()
    x = test.images[: min(n, len(test))].float() / 255.0
    recon = src.model.decode_images(encode_all(src.model, x)).cpu()
    cols = min(per_row, len(x))
    pad = (-len(x)) % cols
    blank = torch.ones(pad, *x.shape[1:])
    x, recon = torch.cat([x, blank]), torch.cat([recon, blank])
    rows = [t for i in range(0, len(x), cols) for t in (x[i:i + cols], recon[i:i + cols])]
    return save_image_grid(torch.cat(rows), src.out_path(out, "reconstruct.png"), nrow=cols)


__all__ = ["Source", "attribute", "encode_all", "interpolate", "manifold", "manifold_axes", "manifold_codes",
           "marker_size", "reconstruct", "reduce_2d", "save_labelled_grid", "scatter", "parse_strengths"]
