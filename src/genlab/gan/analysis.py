"""StyleGAN-paper measurements on genlab's domain features (never Inception, never LPIPS), each saying what it ran on.

- :func:`truncation_sweep`: FID/KID and a diversity measure (mean pairwise feature distance, as a ratio to the real
  test images') against ψ: truncation trades variety for typicality (Karras et al. 2019, appendix B; BigGAN).
- :func:`path_length`: a perceptual-path-length analogue (Karras et al. 2019, section 4.1): E[d(g(lerp(t)),
  g(lerp(t + ε))) / ε²] over random pairs, with d the squared distance of the domain classifier's features instead of
  LPIPS, slerp in z, lerp in w. Its numbers are **not comparable to the paper's** (other features, images and scale);
  only its z-vs-w ratio on one model means something (the paper: 665 in z vs 233 in w, FFHQ).
- :func:`mixing_class_survival`: does the coarse-style donor's class (by the domain classifier) survive style mixing?
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F

from ..core.errors import ConfigError
from .monitor import feature_diversity

NOT_COMPARABLE = ("domain-classifier features (squared distance) in place of LPIPS, genlab images: not comparable "
                  "to the paper's perceptual path length; compare z vs w on one model only")


def _to_side(images: torch.Tensor, side: int) -> torch.Tensor:
    if images.shape[-1] == side:
        return images
    return F.interpolate(images, size=(side, side), mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of the directions of the rows of ``a`` and ``b`` (as the paper's PPL in z), with the
    length interpolated linearly: a generator that normalises z (pixel norm: ProGAN, StyleGAN) sees the paper's
    slerp, and one that does not (DCGAN) keeps inputs of the norm it was trained on."""
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    length = torch.lerp(na, nb, t)
    a = a / na
    b = b / nb
    d = (a * b).sum(dim=-1, keepdim=True).clamp(-1.0, 1.0)
    p = t * torch.acos(d)
    c = b - d * a
    c = c / c.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    out = a * torch.cos(p) + c * torch.sin(p)
    return out / out.norm(dim=-1, keepdim=True) * length


@torch.no_grad()
def path_length(model: Any, classifier: Any, *, space: str = "z", n: int = 1000, eps: float = 1e-4, seed: int = 0,
                batch_size: int = 200) -> dict[str, Any]:
    """The path-length analogue in ``space`` ("z" for any GAN, "w" for a StyleGAN) over ``n`` random pairs: the mean
    of d(G(p(t)), G(p(t + ε))) / ε² after dropping values below the 1st and above the 99th percentile (as the paper),
    with d the squared Euclidean distance of the domain classifier's features of the images (resized to its side).
    Computed in float64 on copies of the EMA generator and the classifier, so ε = 1e-4 is not lost to rounding."""
    from .stylegan import StyleGAN

    if space not in ("z", "w"):
        raise ConfigError(f"path length is measured in z or w (got {space!r})")
    if space == "w" and not isinstance(model, StyleGAN):
        raise ConfigError("path length in w needs a StyleGAN (a DCGAN or ProGAN has no w)")
    gen = copy.deepcopy(model.generator_ema).double().eval()
    clf = copy.deepcopy(classifier).double().eval()
    side = clf.config.image_size
    rng = torch.Generator().manual_seed(seed)
    dev = model.device
    values = []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        z0 = torch.randn(b, model.latent_dim, generator=rng, dtype=torch.float64)
        z1 = torch.randn(b, model.latent_dim, generator=rng, dtype=torch.float64)
        t = torch.rand(b, 1, generator=rng, dtype=torch.float64)
        if space == "z":
            za, zb = slerp(z0, z1, t), slerp(z0, z1, t + eps)
            if isinstance(model, StyleGAN):
                imgs = [gen.synthesize(gen.broadcast(gen.mapping(z.to(dev))), noise_mode="const") for z in (za, zb)]
            else:
                imgs = [gen(z.to(dev)) for z in (za, zb)]
        else:
            w0, w1 = gen.mapping(z0.to(dev)), gen.mapping(z1.to(dev))
            t = t.to(dev)
            imgs = [gen.synthesize(gen.broadcast(torch.lerp(w0, w1, tt)), noise_mode="const") for tt in (t, t + eps)]
        feats = []
        for x in imgs:
            x = model.to_full_size(x) if hasattr(model, "to_full_size") else x
            feats.append(clf.features(_to_side(((x + 1) / 2).clamp(0, 1), side).to(clf.device)))
        values.append(((feats[0] - feats[1]).pow(2).sum(dim=1) / eps ** 2).cpu())
    v = torch.cat(values)
    lo, hi = torch.quantile(v, 0.01), torch.quantile(v, 0.99)
    kept = v[(v >= lo) & (v <= hi)]
    return {"space": space, "path_length": float(kept.mean()), "n_pairs": n, "epsilon": eps,
            "distance": "squared L2 of genlab domain-classifier features", "outliers": "1st/99th percentile dropped",
            "note": NOT_COMPARABLE}


@torch.no_grad()
def truncation_sweep(model: Any, ref: Any, *, psis=(0.0, 0.25, 0.5, 0.75, 1.0), n: int = 2000,
                     seed: int = 0) -> list[dict[str, Any]]:
    """FID/KID (domain features) and diversity at each ψ for a StyleGAN; diversity is the mean pairwise feature
    distance of 500 samples over that of 500 real test images (1 = as varied as the data, 0 = one image)."""
    from ..metrics import generation_scores
    from .stylegan import StyleGAN

    if not isinstance(model, StyleGAN):
        raise ConfigError("the truncation sweep needs a StyleGAN (truncation in w)")
    real_div = feature_diversity(ref.features[:500])
    rows = []
    for psi in psis:
        model.check_truncation(psi)
        scores = generation_scores(lambda count, s, p=psi: model.sample(count, seed=s, truncation=p), ref, n=n,
                                   seed=seed, kid_subsets=20, return_features=True)
        fake = scores.pop("_fake_features")
        rows.append({"psi": psi, "fid": scores["fid"], "kid_mean": scores["kid_mean"], "kid_std": scores["kid_std"],
                     "diversity_ratio": feature_diversity(fake[:500]) / max(real_div, 1e-12), "n_fake": n,
                     "reference": scores["reference"], "features": scores["features"]})
    return rows


@torch.no_grad()
def mixing_class_survival(model: Any, classifier: Any, *, n: int = 500, seed: int = 0) -> dict[str, Any]:
    """For ``n`` random pairs (A, B), A's styles with one layer group copied from B: how often the mixed image's
    class (domain classifier) is B's, and how often A's, over the pairs whose A and B the classifier puts in different
    classes. The paper's claim: coarse styles carry the high-level attributes (here: the class), fine ones do not."""
    from .stylegan import StyleGAN

    if not isinstance(model, StyleGAN):
        raise ConfigError("the style-mixing test needs a StyleGAN")
    side = classifier.config.image_size
    za = model.noise(n, seed=seed)
    zb = model.noise(n, seed=seed + 1)

    def classes(images: torch.Tensor) -> torch.Tensor:
        return classifier.predict(_to_side(images, side)).cpu()

    ca = classes(model.decode_images(za))
    cb = classes(model.decode_images(zb))
    differ = ca != cb
    out: dict[str, Any] = {"pairs": n, "pairs_with_different_classes": int(differ.sum()),
                           "chance": 1.0 / classifier.config.num_classes, "classifier": "genlab domain classifier"}
    for name, layers in model.layer_groups().items():
        if not len(layers):
            continue
        cm = classes(model.mix(za, zb, layers))
        k = max(int(differ.sum()), 1)
        out[name] = {"layers": f"{layers.start}-{layers.stop - 1}",
                     "donor_b_class_kept": float((cm == cb)[differ].sum()) / k,
                     "a_class_kept": float((cm == ca)[differ].sum()) / k}
    return out
