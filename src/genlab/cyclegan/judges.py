"""What a judge can check on ``mnist <-> mnist-photo``: label preservation (the analogue of the paper's FCN score),
FID/KID on the domain features, and the steganography check of Chu et al. 2017.

Two frozen judges, both trained before (and independently of) any CycleGAN run:

* judge A: genlab's cached MNIST domain classifier (:func:`genlab.features.domain.get_domain_classifier`, trained on
  MNIST train only, 28x28 grey). Domain-A images are MNIST digits zero-padded to 32 px, so the centre 28x28 crop is
  exactly the classifier's input; RGB images are turned grey by luminance first.
* judge B: the same small CNN trained here on domain-B train images and their digit labels (32x32 RGB, 2 epochs),
  cached beside the pair in ``~/.cache/genlab/cyclegan/judges``.

Label preservation of a direction = the judge of the *target* domain's accuracy on translated test images, with the
source images' labels. Baselines: the same judge on the untranslated source images (source-only) and on real
target test images (the ceiling).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from ..core.errors import CheckpointError
from ..data.tensor import TensorImageDataset
from ..features.domain import ClassifierConfig, DomainClassifier, compute_features, evaluate_accuracy
from .data import UnpairedDataConfig, cache_root, to_channels

JUDGE_VERSION = 1
JUDGE_EPOCHS = 2
FEATURES_A = "genlab's MNIST domain classifier (penultimate layer, 128-D; trained on MNIST train, 28x28 grey)"
FEATURES_B = "genlab's domain-B judge (penultimate layer, 128-D; trained on mnist-photo train labels, 32x32 RGB)"


def for_judge_a(images: torch.Tensor) -> torch.Tensor:
    """(N, C, 32, 32) in [0, 1] -> (N, 1, 28, 28): luminance, centre crop (undoing MNIST's 2-px padding)."""
    x = to_channels(images.float(), 1)
    s = x.shape[-1]
    if s != 28:
        o = (s - 28) // 2
        x = x[..., o:o + 28, o:o + 28] if s > 28 else torch.nn.functional.interpolate(x, size=(28, 28))
    return x.clamp(0, 1)


def for_judge_b(images: torch.Tensor) -> torch.Tensor:
    """(N, C, 32, 32) in [0, 1] -> (N, 3, 32, 32): grey repeated to RGB."""
    return to_channels(images.float(), 3).clamp(0, 1)


def judge_a(cfg: UnpairedDataConfig, *, device: str = "cpu") -> tuple[DomainClassifier, float]:
    from ..data.datasets import ImageDataConfig
    from ..features.domain import get_domain_classifier

    return get_domain_classifier(ImageDataConfig("mnist", data_dir=cfg.data_dir), device=device)


def _train_judge_b(train: TensorImageDataset, test: TensorImageDataset, out: Path, *, seed: int,
                   device: str) -> tuple[DomainClassifier, float]:
    from ..core.device import seed_everything
    from ..core.engine import TrainConfig, Trainer
    from ..core.io import write_json_atomic

    seed_everything(seed)
    model = DomainClassifier(ClassifierConfig(image_channels=3, image_size=32, num_classes=10))
    tc = TrainConfig(epochs=JUDGE_EPOCHS, batch_size=min(128, len(train)), lr=1e-3, optimizer="adam", seed=seed,
                     device=device, progress=False, tensorboard=False, sample_every=0, eval_every=0,
                     checkpoint_every=10 ** 9, keep_checkpoints=1, log_every=50)
    Trainer(model, train, tc, out, run_config={"family": "metrics", "judge": "cyclegan domain B"}).fit()
    accuracy = evaluate_accuracy(model, test)
    write_json_atomic(out / "accuracy.json", {"accuracy": accuracy, "num_test_images": len(test),
                                              "epochs": JUDGE_EPOCHS, "seed": seed, "judge_version": JUDGE_VERSION})
    return model.eval(), accuracy


_LOADED: dict[str, tuple[DomainClassifier, float]] = {}


def judge_b(cfg: UnpairedDataConfig, train: TensorImageDataset, test: TensorImageDataset, *, device: str = "cpu",
            cache: str | os.PathLike | None = None) -> tuple[DomainClassifier, float]:
    """The domain-B judge for the built-in pair of ``cfg`` (trained once, then loaded from the cache)."""
    from ..core.io import read_json
    from ..core.model import load
    from ..data.mnist import find_dataset_dir
    from .data import _pair_key

    root = (Path(cache) if cache is not None else cache_root()) / "judges"
    key = _pair_key(find_dataset_dir("mnist", cfg.data_dir, download=False), cfg.pair_seed)
    folder = root / f"mnist-photo-{key}-v{JUDGE_VERSION}"
    train, test = TensorImageDataset(to_channels(train.images, 3), train.labels), \
        TensorImageDataset(to_channels(test.images, 3), test.labels)
    if str(folder) in _LOADED:
        return _LOADED[str(folder)]
    if not (folder / "accuracy.json").is_file() or not (folder / "model.safetensors").is_file():
        root.mkdir(parents=True, exist_ok=True)
        print(f"training the domain-B judge once ({len(train)} labelled mnist-photo images, {JUDGE_EPOCHS} epochs); "
              f"cached in {folder}", file=sys.stderr, flush=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=root))
        try:
            model, accuracy = _train_judge_b(train, test, tmp, seed=0, device=device)
            shutil.rmtree(tmp / "checkpoints", ignore_errors=True)
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _LOADED[str(folder)] = (model, accuracy)
        return model, accuracy
    try:
        model = load(folder, device=device)
        accuracy = float(read_json(folder / "accuracy.json", what="judge accuracy")["accuracy"])
    except (CheckpointError, KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"cached judge {folder} is unreadable ({e}); delete that folder to retrain it") from None
    _LOADED[str(folder)] = (model, accuracy)
    return model, accuracy


def accuracy_of(judge: DomainClassifier, images: torch.Tensor, labels: torch.Tensor, *, batch_size: int = 500) -> float:
    correct = 0
    for i in range(0, len(images), batch_size):
        pred = judge.predict(images[i:i + batch_size])
        correct += int((pred.cpu() == labels[i:i + batch_size]).sum())
    return correct / max(len(images), 1)


def fid_kid_on(judge: DomainClassifier, real: torch.Tensor, fake: torch.Tensor, *, seed: int = 0) -> dict[str, Any]:
    from ..metrics.fid import fid, kid

    fr, ff = compute_features(judge, real), compute_features(judge, fake)
    # subsets of half the images (at most 1,000), so they differ and the std says something
    size = max(2, min(1000, len(fr) // 2, len(ff) // 2))
    kid_mean, kid_std = kid(fr, ff, num_subsets=50, subset_size=size, generator=torch.Generator().manual_seed(seed))
    return {"fid": fid(fr, ff), "kid_mean": kid_mean, "kid_std": kid_std, "kid_subset_size": size, "n_real": len(fr),
            "n_fake": len(ff)}


@torch.no_grad()
def steganography(model, images: torch.Tensor, direction: str, *, noise: float, seed: int = 0) -> dict[str, float]:
    """Chu et al. 2017: cycle error ``|F(G(x)) - x|`` (mean L1, [0, 1] pixels) with and without Gaussian noise of
    std ``noise`` (in [0, 1] pixel units) added to G(x) before F. A CycleGAN that hides the source in a faint
    high-frequency signal reconstructs well from G(x) but much worse from G(x) + noise."""
    back = "b2a" if direction == "a2b" else "a2b"
    fake = model.translate(images, direction)
    rec = model.translate(fake, back)
    eps = torch.randn(fake.shape, generator=torch.Generator().manual_seed(seed)) * noise
    rec_noisy = model.translate((fake + eps).clamp(0, 1), back)
    clean = float((rec - images).abs().mean())
    noisy = float((rec_noisy - images).abs().mean())
    return {"cycle_l1": clean, "cycle_l1_noisy": noisy, "ratio": noisy / max(clean, 1e-12), "noise_std": noise,
            "noise_l1": float(eps.abs().mean()), "n": len(images)}
