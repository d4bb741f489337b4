"""Fit, sample and evaluate the naive-Bayes generator (and the autoregressive table model), on CSVs and MNIST.

    >>> from genlab import naivebayes as nb
    >>> nb.fit("wrodl.csv", out="runs/nb/wrodl")                 # counts + additive smoothing (alpha 1)
    >>> nb.sample("runs/nb/wrodl", n=10)                          # rows of strings, feature by feature
    >>> nb.evaluate("runs/nb/wrodl", data="wrodl_test.csv")["nll_nats_per_row"]
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path
from typing import Any

import torch

from ..core.errors import ConfigError, DataError
from ..core.io import write_json_atomic
from ..core.model import load
from . import synth
from .data import prepare, read_csv, write_csv
from .models import MODELS, AutoregressiveCategorical, NaiveBayes, NaiveBayesConfig

FAMILY = "naive-bayes"
VAE_REFERENCE = {"nll": 86.60, "protocol": "genlab VAE MLP 512-512 z=50, IWAE k=500 bound on the first 1,000 test "
                                          "images of the seeded binarisation (README, VAE on MNIST, epoch 60)"}


def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ConfigError(f"--alpha must be >= 0 (got {alpha})")


def fit(data: str | Path, *, out: str | Path, alpha: float = 1.0, model: str = "naive", bins: int | None = None,
        as_categories: bool = False) -> dict[str, Any]:
    """Fit on a CSV of categorical columns; writes ``out/config.json`` + ``model.safetensors`` + ``fit.json``."""
    from ..core.clikit import check_output_dir

    _check_alpha(alpha)
    if model not in MODELS:
        raise ConfigError(f"--model must be one of {', '.join(MODELS)} (got {model!r})")
    out = check_output_dir(out)
    header, raw = read_csv(data)
    rows, edges = prepare(header, raw, bins=bins, as_categories=as_categories, source=str(data))
    categories = {h: sorted({r[j] for r in rows}) for j, h in enumerate(header)}
    cfg = NaiveBayesConfig(columns=tuple(header), categories=categories, bins=edges, alpha=float(alpha))
    m = MODELS[model](cfg)
    x = m.encode_rows(raw, what=str(data))  # numeric columns binned by the model's own edges
    m.fit(x)
    nll = float(-m.log_prob(x).mean())
    m.save_pretrained(out)
    info = {"data": str(Path(data).resolve()), "rows": len(rows), "columns": list(header), "model": m.model_type,
            "alpha": alpha, "categories": {h: len(v) for h, v in categories.items()},
            "binned": {h: len(e) + 1 for h, e in edges.items()}, "train_nll_nats_per_row": nll,
            "parameters": sum(len(v) - 1 for v in categories.values()) if model == "naive" else
            math.prod(len(v) for v in categories.values()) - 1}
    write_json_atomic(out / "fit.json", info)
    return info


def _load(run: str | Path | NaiveBayes | AutoregressiveCategorical):
    if isinstance(run, (NaiveBayes, AutoregressiveCategorical)):
        return run
    return load(run, family=FAMILY)


def sample(run, n: int = 10, *, seed: int = 0, output: str | Path | None = None) -> list[list[str]]:
    """``n`` rows drawn from the model (each feature on its own for naive Bayes); written as CSV to ``output``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"--n must be an integer >= 1 (got {n!r})")
    m = _load(run)
    rows = m.decode_rows(m.sample(n, seed=seed))
    if output is not None:
        write_csv(Path(output), list(m.columns), rows)
    return rows


def pairwise_tv(m, x: torch.Tensor) -> dict[str, float]:
    """Total-variation distance between the model's exact pairwise marginals and the empirical ones of ``x``."""
    sizes = m.config.sizes
    out = {}
    for i, j in itertools.combinations(range(len(sizes)), 2):
        emp = torch.zeros(sizes[i], sizes[j], dtype=torch.float64)
        emp.index_put_((x[:, i], x[:, j]), torch.ones(x.shape[0], dtype=torch.float64), accumulate=True)
        emp /= x.shape[0]
        out[f"{m.columns[i]}|{m.columns[j]}"] = float(0.5 * (m.pair_marginal(i, j) - emp).abs().sum())
    return out


def evaluate(run, *, data: str | Path, output: str | Path | None = None, samples: int = 10000,
             seed: int = 0) -> dict[str, Any]:
    """Held-out NLL (nats per row, exact), pairwise-marginal TV against the data, and (on the synthetic Wrodl
    columns) the share of ``samples`` model draws breaking the planted rule."""
    m = _load(run)
    header, rows = read_csv(data)
    if tuple(header) != tuple(m.columns):
        raise DataError(f"{data} has columns {', '.join(header)} but the model was fitted on "
                        f"{', '.join(m.columns)}; use a CSV with the same columns in the same order")
    x = m.encode_rows(rows, what=str(data))
    logp = m.log_prob(x)
    result: dict[str, Any] = {
        "data": str(data), "rows": len(rows), "model": m.model_type, "alpha": m.config.alpha,
        "nll_nats_per_row": float(-logp.mean()), "nll_nats_total": float(-logp.sum()),
        "nll_note": "exact: -log p(row) under the fitted model, averaged over the rows of the file"}
    tv = pairwise_tv(m, x)
    result["pairwise_tv"] = tv
    result["pairwise_tv_max"] = max(tv.values()) if tv else 0.0
    result["pairwise_tv_mean"] = sum(tv.values()) / max(1, len(tv))
    result["pairwise_tv_note"] = (f"0.5 * sum |p_model(a, b) - p_data(a, b)| per pair of columns; p_data from the "
                                  f"{len(rows)} rows of the file (sampling noise alone gives ~sqrt(cells/rows))")
    if synth.is_wrodl(m.columns):
        draws = m.sample(samples, seed=seed)
        result["rule_breaking"] = float(synth.breaks_rule_rows(m.decode_rows(draws)).float().mean())
        result["rule_breaking_data"] = float(synth.breaks_rule_rows(rows).float().mean())
        result["rule_note"] = (f"share of {samples} model samples with bald != (hair_colour none); the synthetic "
                               f"data's planted rule")
    if output is not None:
        write_json_atomic(Path(output), result)
    return result


def make_synthetic(out: str | Path, *, n_train: int = 5000, n_test: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Write ``train.csv`` / ``test.csv`` of the synthetic Wrodl population and ``truth.json`` (what is known)."""
    from ..core.clikit import check_output_dir

    for name, v in (("--n", n_train), ("--n-test", n_test)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{name} must be an integer >= 1 (got {v!r})")
    out = check_output_dir(out)
    write_csv(out / "train.csv", list(synth.COLUMNS), synth.rows(synth.sample(n_train, seed=seed)))
    write_csv(out / "test.csv", list(synth.COLUMNS), synth.rows(synth.sample(n_test, seed=seed + 1)))
    truth = {"columns": list(synth.COLUMNS), "rule": "hair_type bald <=> hair_colour none",
             "independence_gap_tv": synth.independence_gap(),
             "rule_break_probability_if_independent": synth.rule_break_probability_independent(),
             "true_entropy_nats": float(-(synth.joint()[synth.joint() > 0] *
                                          synth.joint()[synth.joint() > 0].log()).sum())}
    write_json_atomic(out / "truth.json", truth)
    return {"train": str(out / "train.csv"), "test": str(out / "test.csv"), "truth": truth}


def mnist(*, out: str | Path, data_dir: str | None = None, alpha: float = 1.0, seed: int = 0, n_samples: int = 64,
          dataset: str = "mnist") -> dict[str, Any]:
    """Naive Bayes on binarised MNIST pixels: one Bernoulli per pixel, fitted on one seeded binarisation of the
    training images; exact test NLL (nats per image) on the seeded binarisation of the test set the VAE is scored
    on (``genlab.metrics.binarize_images``, seed ``seed``), and a sample grid."""
    from ..core.clikit import check_output_dir
    from ..data.mnist import load_mnist
    from ..metrics import binarize_images
    from ..viz import save_image_grid

    _check_alpha(alpha)
    out = check_output_dir(out)
    t0 = time.time()
    train_images, _ = load_mnist(dataset, "train", data_dir)
    test_images, _ = load_mnist(dataset, "test", data_dir)
    xtr = binarize_images(train_images, seed=seed).view(len(train_images), -1).long()
    xte = binarize_images(test_images, seed=seed).view(len(test_images), -1).long()
    cols = tuple(f"p{i}" for i in range(xtr.shape[1]))
    cfg = NaiveBayesConfig(columns=cols, categories={c: ["0", "1"] for c in cols}, alpha=float(alpha))
    m = NaiveBayes(cfg).fit(xtr)
    nll = -m.log_prob(xte)
    draws = m.sample(n_samples, seed=seed).float().view(n_samples, 1, 28, 28)
    grid = save_image_grid(draws, out / "samples.png", nrow=8)
    mean = m.probs()[:, 1].float().view(1, 1, 28, 28)
    save_image_grid(mean, out / "pixel_means.png", nrow=1)
    m.save_pretrained(out)
    first = min(1000, len(nll))
    result = {
        "dataset": dataset, "train_images": len(xtr), "test_images": len(xte), "alpha": alpha,
        "test_nll_nats": float(nll.mean()), "test_nll_nats_first_1000": float(nll[:first].mean()),
        "test_nll_std_error": float(nll.std() / math.sqrt(len(nll))),
        "protocol": f"exact -log p(x) of independent Bernoulli pixels; test set binarised once with "
                    f"genlab.metrics.binarize_images(seed={seed}) (the VAE's evaluation binarisation); training "
                    f"set binarised once (seed {seed})",
        "vae_reference": VAE_REFERENCE,
        "comparison": "same binary test images; the VAE's number is an IWAE upper bound on -log p(x) (first 1,000 "
                      "images), naive Bayes's is exact: compare with test_nll_nats_first_1000",
        "samples": str(grid), "pixel_means": str(out / "pixel_means.png"), "seconds": time.time() - t0}
    write_json_atomic(out / "eval.json", result)
    return result
