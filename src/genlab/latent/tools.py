"""The latent-space tools: each writes a PNG and returns its path. They work for any model with the latent protocol
(``latent_dim``, ``encode_latent(x)``, ``decode_images(z)``, ``image_shape``, ``sample(n, seed=)``): the VAE, the
autoencoder and the adversarial autoencoder.

    >>> from genlab import latent
    >>> latent.scatter("runs/vae/z2")                              # runs/vae/z2/plots/scatter.png
    >>> latent.interpolate("runs/vae/z2", "test:0", "test:1", steps=10)
    >>> latent.attribute("runs/vae/faces", label="Smiling", attributes="list_attr_celeba.txt", images="a.jpg")

``run_or_model`` is a run folder (its test set is the one it was trained on) or a model object (then pass
``data_config=`` where the tool needs test images, and ``out=``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..core.errors import ConfigError
from ..core.io import atomic_write
from ..viz import save_image_grid
from .inputs import Source, folder_with_attributes, label_index, load_image_refs, note, parse_image_refs, resolve
from .ops import attribute_vector, lerp, normal_quantiles, plane_grid, slerp

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


def _prior(model: Any) -> str | None:
    """"normal" for models trained towards N(0, I) (VAE, AAE with a normal prior), else None."""
    return getattr(model, "latent_prior", "normal" if getattr(model, "family", None) == "vae" else None)


def _check_count(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"--{name} must be a whole number >= {minimum} (got {value})")


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


def scatter(run_or_model: Any, *, out: str | Path | None = None, method: str = "auto", max_points: int = 5000,
            seed: int = 0, family: str | None = None, device: str = "cpu", **data: Any) -> Path:
    """The test set's codes in 2-D (reduced by PCA / t-SNE when latent_dim > 2), coloured by label; 800x650 px."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _check_count("max-points", max_points, 2)
    src = resolve(run_or_model, family=family, device=device, **data)
    test = src.test_data()
    n = min(max_points, len(test))
    idx = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    points, axis = reduce_2d(encode_all(src.model, test.images[idx]), method, seed=seed)
    labels = test.labels[idx] if test.labels is not None else None
    fig, ax = plt.subplots(figsize=(8, 6.5), dpi=100)
    try:
        if labels is None:
            ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.6)
        else:
            names = test.class_names or [str(i) for i in range(int(labels.max()) + 1)]
            cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
            for k, name in enumerate(names):
                sel = labels == k
                if sel.any():
                    ax.scatter(points[sel, 0], points[sel, 1], s=3, alpha=0.6, color=cmap(k % cmap.N), label=name)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=4, fontsize=8, frameon=False)
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

def manifold_codes(model: Any, *, grid_size: int = 20, dims: Sequence[int] | None = None) -> torch.Tensor:
    """The (grid_size**2, latent_dim) codes of the manifold image: a grid over latent dims ``dims`` (default (0, 1)
    of a 2-D latent), the other dims at the prior mean (0) or, for an autoencoder, at its mean code.

    Axis values: standard-normal quantiles 0.05..0.95 under a N(0, I) prior (VAE, AAE); for an autoencoder the same
    quantiles of the Gaussian fitted to its training codes; for the AAE's mixture prior, +-(radius + 2 std).
    """
    d = model.latent_dim
    _check_count("grid-size", grid_size, 2)
    if dims is None:
        if d != 2:
            raise ConfigError(f"the manifold needs a 2-D latent, this model's is {d}-D: pick two dimensions with "
                              f"--dims I J (the rest held at 0), or train with --latent-dim 2")
        dims = (0, 1)
    dims = tuple(dims)
    if len(dims) != 2 or dims[0] == dims[1] or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < d
                                                   for i in dims):
        raise ConfigError(f"--dims takes two different latent dimensions in 0..{d - 1} (got {' '.join(map(str, dims))})")
    q = normal_quantiles(grid_size)
    prior = _prior(model)
    base = torch.zeros(d)
    if prior == "normal":
        axes = [q, q]
    elif hasattr(model, "code_mean"):
        if int(model.code_count) == 0:
            raise ConfigError("this autoencoder has no fitted code distribution; use a finished run")
        base = model.code_mean.float().cpu()
        std = model.code_cov.float().cpu().diagonal().clamp_min(0).sqrt()
        axes = [base[i] + std[i] * q for i in dims]
    elif getattr(getattr(model, "config", None), "prior", None) == "mixture":
        r = model.config.mixture_radius + 2 * model.config.mixture_std
        axes = [torch.linspace(-r, r, grid_size)] * 2
    else:
        raise ConfigError(f"no known latent range for a {model.family} model")
    z = base.repeat(grid_size * grid_size, 1)
    z[:, list(dims)] = plane_grid(axes[0], axes[1])
    return z


def manifold(run_or_model: Any, *, out: str | Path | None = None, grid_size: int = 20,
             dims: Sequence[int] | None = None, family: str | None = None, device: str = "cpu") -> Path:
    """The decoded grid over a 2-D latent plane (see :func:`manifold_codes`), no padding: grid_size * H pixels."""
    src = resolve(run_or_model, family=family, device=device)
    z = manifold_codes(src.model, grid_size=grid_size, dims=dims)
    images = src.model.decode_images(z)
    name = f"manifold_{grid_size}x{grid_size}" + (f"_dims{dims[0]}-{dims[1]}" if dims else "") + ".png"
    return save_image_grid(images, src.out_path(out, name), nrow=grid_size, padding=0)


# ---- interpolate / attribute / reconstruct -------------------------------------------------------------------------

def interpolate(run_or_model: Any, a: str, b: str, *, steps: int = 10, out: str | Path | None = None,
                family: str | None = None, device: str = "cpu", **data: Any) -> Path:
    """Morph image ``a`` into ``b`` (``test:INDEX`` or files) through the latent space: a strip of two rows, linear
    (top) and spherical (bottom), ``steps`` images each, endpoints the decoded codes of ``a`` and ``b``."""
    _check_count("steps", steps, 2)
    src = resolve(run_or_model, family=family, device=device, **data)
    za, zb = encode_all(src.model, load_image_refs(parse_image_refs([a, b]), src))
    z = torch.cat([lerp(za, zb, steps), slerp(za, zb, steps)])
    return save_image_grid(src.model.decode_images(z), src.out_path(out, "interpolate.png"), nrow=steps)


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
              family: str | None = None, device: str = "cpu", **data: Any) -> Path:
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
    return save_image_grid(src.model.decode_images(grid), src.out_path(out, "attribute.png"), nrow=len(values))


def reconstruct(run_or_model: Any, *, n: int = 16, per_row: int = 16, out: str | Path | None = None,
                family: str | None = None, device: str = "cpu", **data: Any) -> Path:
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


__all__ = ["Source", "attribute", "encode_all", "interpolate", "manifold", "manifold_codes", "reconstruct",
           "reduce_2d", "scatter", "parse_strengths"]
