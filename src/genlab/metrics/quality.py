"""Sample quality of any image model: FID and KID on genlab's domain classifier, with ONE rule for the real images.

The reference is the whole test split, or a seeded random subset of it (never "the first n": MNIST's test set is
ordered, and its first 5,000 are the cleaner writers — FID 17 against 2.9 for random subsets). Every score says what
it was measured on (feature network, its test accuracy, how many real and generated images, which subset), and says
when it cannot mean much: too few reference images, too few samples, or a classifier near chance.

    >>> ref = fid_reference(ImageDataConfig("mnist"), test.images)          # all 10,000 test images
    >>> scores = generation_scores(lambda n, seed: vae.sample(n, seed=seed), ref, n=10_000, seed=0)
    >>> scores["fid"], scores["reference"], scores["meaningful"], scores["warnings"]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from ..core.errors import DataError
from ..features.domain import DomainClassifier, compute_features, get_domain_classifier
from .fid import fid, kid

if TYPE_CHECKING:
    from ..data.datasets import ImageDataConfig

# Below these, FID/KID are refused: the numbers are noise that looks like a result (6 reference images and a
# classifier at chance gave "FID 0.18" in the new-user trial).
MIN_REFERENCE_IMAGES = 50
# Below these, the score is computed but marked not meaningful, with a warning on stderr and in the JSON.
RECOMMENDED_REFERENCE_IMAGES = 2000
RECOMMENDED_SAMPLES = 2000
RECOMMENDED_ACCURACY = 0.80
FEATURES = "genlab domain classifier (penultimate layer, 128-D)"


@dataclass
class FIDReference:
    """The real side of FID/KID: the classifier, its test accuracy and the reference images' features."""

    classifier: DomainClassifier
    accuracy: float
    features: torch.Tensor  # (N, D)
    data_side: int  # the images' height = width, so samples of another size can be resized to it
    description: str  # "all 10000 test images" / "5000 of 10000 test images (seeded random subset, seed 0)"
    num_classes: int
    warnings: list[str] = field(default_factory=list)

    @property
    def n_real(self) -> int:
        return int(self.features.shape[0])


def reference_images(images: torch.Tensor, *, max_images: int | None = None, seed: int = 0) -> tuple[torch.Tensor, str]:
    """The reference rule: all of ``images``, or ``max_images`` of them drawn at random with ``seed``."""
    n = len(images)
    if max_images is None or max_images >= n:
        return images, f"all {n} test images"
    idx = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:max_images].sort().values
    return images[idx], f"{max_images} of {n} test images (seeded random subset, seed {seed})"


def fid_reference(data_config: ImageDataConfig, test_images: torch.Tensor, *, max_images: int | None = None,
                  seed: int = 0, device: str = "cpu", progress: bool = False) -> FIDReference:
    """The cached domain classifier for ``data_config`` (trained once) and the features of the reference images.

    Raises :class:`DataError` when a score could not mean anything (fewer than ``MIN_REFERENCE_IMAGES`` reference
    images, or a classifier no better than 1.5x chance); warns (``ref.warnings``, stderr) below the recommended sizes.
    """
    images, description = reference_images(test_images, max_images=max_images, seed=seed)
    if len(images) < MIN_REFERENCE_IMAGES:
        raise DataError(f"FID/KID need at least {MIN_REFERENCE_IMAGES} reference images; {data_config.dataset} has "
                        f"{len(images)} in its test split (a folder holds out --holdout of its images), so a score "
                        f"would mean nothing")
    classifier, accuracy = get_domain_classifier(data_config, device=device, progress=progress)
    num_classes = int(classifier.config.num_classes)
    chance = 1.0 / max(num_classes, 1)
    if accuracy <= 1.5 * chance:
        raise DataError(f"the domain classifier for {data_config.dataset} reaches {accuracy:.1%} test accuracy "
                        f"(chance: {chance:.1%}, {num_classes} classes); its features cannot measure sample "
                        f"quality, so FID/KID are refused (more labelled images per class would help)")
    warnings = []
    if len(images) < RECOMMENDED_REFERENCE_IMAGES:
        warnings.append(f"only {len(images)} reference images (recommended >= {RECOMMENDED_REFERENCE_IMAGES}): "
                        f"FID is biased and noisy, compare only runs scored on this same reference")
    if accuracy < RECOMMENDED_ACCURACY:
        warnings.append(f"the domain classifier reaches only {accuracy:.1%} test accuracy (recommended >= "
                        f"{RECOMMENDED_ACCURACY:.0%}): its features see little of what makes these images differ")
    features = compute_features(classifier, images.to(classifier.device))
    return FIDReference(classifier, accuracy, features, int(test_images.shape[-1]), description, num_classes,
                        warnings)


def _to_side(images: torch.Tensor, side: int) -> torch.Tensor:
    if images.shape[-1] == side:
        return images
    return F.interpolate(images, size=(side, side), mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


def generation_scores(sample: Callable[[int, int], torch.Tensor], ref: FIDReference, *, n: int, seed: int = 0,
                      kid_subsets: int = 100, batch_size: int = 1000, progress: bool = False,
                      return_features: bool = False) -> dict[str, Any]:
    """FID and KID (mean, std) of ``n`` samples (``sample(count, seed)`` -> images in [0, 1]) against ``ref``.

    Samples are drawn in batches of ``batch_size`` (seeds ``seed``, ``seed + 1`` ...) so memory stays flat; with
    ``progress`` a line per batch goes to stderr. The result says what was measured and whether it can mean much.
    """
    if n < 2:
        raise DataError(f"FID/KID need at least 2 samples (got {n})")
    feats = []
    done = 0
    for i, start in enumerate(range(0, n, batch_size)):
        count = min(batch_size, n - start)
        fake = _to_side(sample(count, seed + i).float().cpu(), ref.data_side)
        feats.append(compute_features(ref.classifier, fake.to(ref.classifier.device)))
        done += count
        if progress:
            print(f"FID/KID: {done}/{n} samples embedded", file=sys.stderr, flush=True)
    fake_features = torch.cat(feats)
    kid_mean, kid_std = kid(ref.features, fake_features, num_subsets=kid_subsets,
                            subset_size=min(1000, n, ref.n_real), generator=torch.Generator().manual_seed(seed))
    warnings = list(ref.warnings)
    if n < RECOMMENDED_SAMPLES:
        warnings.append(f"only {n} samples (recommended >= {RECOMMENDED_SAMPLES}): FID is biased upward for small "
                        f"sample counts, compare only at equal counts")
    out: dict[str, Any] = {
        "fid": fid(ref.features, fake_features), "kid_mean": kid_mean, "kid_std": kid_std,
        "kid_scale": "raw (not x1000)", "n_fake": n, "n_real": ref.n_real, "reference": ref.description,
        "features": FEATURES, "classifier_test_accuracy": ref.accuracy, "meaningful": not warnings,
        "warnings": warnings}
    if return_features:
        out["_fake_features"] = fake_features
    return out


def describe(scores: dict[str, Any]) -> str:
    """One line saying what a score was measured on: "10000 samples vs all 10000 test images; genlab domain ..."."""
    return (f"{scores['n_fake']} samples vs {scores['reference']}; {FEATURES.split(' (')[0]}, test accuracy "
            f"{scores['classifier_test_accuracy']:.2%}")


def warn(scores: dict[str, Any]) -> None:
    """Print a score's warnings on stderr, loudly (once per score)."""
    for w in scores.get("warnings", []):
        print(f"warning: FID/KID not meaningful: {w}", file=sys.stderr, flush=True)


def fid_kid(model: DomainClassifier, real_images: torch.Tensor, fake_images: torch.Tensor, *, kid_subsets: int = 100,
            kid_subset_size: int = 1000, seed: int = 0) -> dict[str, float]:
    """FID and KID between two given image sets on ``model``'s features; KID subsets are drawn with ``seed``."""
    real = compute_features(model, real_images)
    fake = compute_features(model, fake_images)
    kid_mean, kid_std = kid(real, fake, num_subsets=kid_subsets, subset_size=min(kid_subset_size, len(real), len(fake)),
                            generator=torch.Generator().manual_seed(seed))
    return {"fid": fid(real, fake), "kid_mean": kid_mean, "kid_std": kid_std,
            "n_real": int(real.shape[0]), "n_fake": int(fake.shape[0])}


def sample_fid_kid(model: Any, test: Any, data_config: ImageDataConfig, *, n: int, seed: int = 0,
                   device: str = "cpu", max_reference: int | None = None, progress: bool = True) -> dict[str, Any]:
    """FID/KID of ``n`` samples of a generative model (``model.sample(count, seed=)``) against the test images (all
    of them, or ``max_reference`` drawn at random), on genlab's domain classifier for ``data_config``."""
    ref = fid_reference(data_config, test.images, max_images=max_reference, seed=seed, device=device,
                        progress=progress)
    scores = generation_scores(lambda count, s: model.sample(count, seed=s), ref, n=n, seed=seed, progress=progress)
    warn(scores)
    return scores
