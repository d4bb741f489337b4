"""Gaussian likelihood, binarisation, KL warm-up and the IWAE estimate of log p(x)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from genlab.core.engine import TrainConfig
from genlab.core.errors import ConfigError
from genlab.core.tracking import read_metrics
from genlab.data.datasets import ImageDataConfig
from genlab.metrics import binarize_images, iwae_log_likelihood
from genlab.vae import VAEConfig, build_vae
from genlab.vae import train as train_vae
from genlab.latent.losses import gaussian_nll, kl_divergence, log_normal
from genlab.metrics.likelihood import iwae_bound
from helpers import assert_one_line_error

FAST = ["--batch-size", "32", "--log-every", "2", "--no-progress", "--no-tensorboard", "--device", "cpu"]


def test_gaussian_nll_known_values():
    x = torch.rand(2, 1, 3, 3)
    # mean == target, sigma = 1: only the normaliser, 0.5 log(2 pi) per pixel.
    torch.testing.assert_close(gaussian_nll(x, x, torch.zeros(1)), torch.full((2,), 9 * 0.5 * math.log(2 * math.pi)))
    # off by 0.5 everywhere with sigma = 0.5 (log sigma = log 0.5): 0.5 * 1 + log 0.5 + 0.5 log 2pi per pixel.
    per_pixel = 0.5 + math.log(0.5) + 0.5 * math.log(2 * math.pi)
    torch.testing.assert_close(gaussian_nll(x + 0.5, x, torch.tensor([math.log(0.5)])),
                               torch.full((2,), 9 * per_pixel))
    ref = -torch.distributions.Normal(x + 0.1, 0.3).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(gaussian_nll(x + 0.1, x, torch.tensor([math.log(0.3)])), ref)


def test_log_normal_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    z, mu, logvar = (torch.randn(4, 5, generator=g) for _ in range(3))
    ref = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    torch.testing.assert_close(log_normal(z, mu, logvar), ref)
    torch.testing.assert_close(log_normal(z), torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1))


def test_iwae_bound_known_values():
    # Equal weights: the bound is that weight; k = 1 is the weight itself; logsumexp stays finite for huge values.
    torch.testing.assert_close(iwae_bound(torch.full((3, 7), -2.0)), torch.full((3,), -2.0, dtype=torch.float64))
    lw = torch.tensor([[0.0, math.log(3.0)]])
    torch.testing.assert_close(iwae_bound(lw), torch.tensor([math.log(2.0)], dtype=torch.float64))
    assert torch.isfinite(iwae_bound(torch.tensor([[-1e4, -1e4 + 1.0]]))).all()


def test_binarize_images_is_seeded_and_binary():
    images = torch.randint(0, 256, (10, 1, 4, 4), dtype=torch.uint8)
    a, b = binarize_images(images, seed=3), binarize_images(images, seed=3)
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(a, binarize_images(images, seed=4))
    assert torch.equal(binarize_images(torch.zeros(2, 1, 2, 2)), torch.zeros(2, 1, 2, 2))


def test_iwae_bound_above_elbo_and_rising_with_k():
    """On a (random, so badly matched) tiny VAE: IWAE_1 ~ ELBO < IWAE_10 < IWAE_100 <= ... (Burda et al., thm 1)."""
    torch.manual_seed(0)
    model = build_vae(VAEConfig(latent_dim=4, hidden_dims=(32,), binarize=True))
    x = binarize_images(torch.rand(64, 1, 28, 28), seed=0)
    model.eval()
    with torch.no_grad():
        mu, logvar = model.encode(x)
        # The ELBO with the analytic KL, its reconstruction term averaged over many draws of z.
        rec = torch.stack([model.reconstruction_nll(model.decode(mu + (0.5 * logvar).exp() * torch.randn_like(mu)), x)
                           for _ in range(200)]).mean(0)
        elbo = -(rec + kl_divergence(mu, logvar)).mean().item()
    est = {k: -iwae_log_likelihood(model, x, k=k, progress=False, seed=1)["nll"] for k in (1, 10, 100)}
    assert est[1] == pytest.approx(elbo, abs=0.5)
    assert est[1] < est[10] < est[100]
    assert est[100] - est[1] > 0.5  # a clear gap on a mismatched posterior


def test_log_importance_weights_exact_for_matched_posterior():
    """If q(z|x) equals the prior and p(x|z) ignores z, every log weight is exactly log p(x)."""
    torch.manual_seed(0)
    model = build_vae(VAEConfig(latent_dim=3, hidden_dims=(8,)))
    with torch.no_grad():
        model.encoder[-1].weight.zero_(); model.encoder[-1].bias.zero_()      # mu = 0, logvar = 0: q = prior
        model.decoder[-2].weight.zero_(); model.decoder[-2].bias.fill_(0.7)   # logits constant: p(x|z) = p(x)
    x = binarize_images(torch.rand(5, 1, 28, 28), seed=0)
    lw = model.log_importance_weights(x, 17)
    expected = -model.reconstruction_nll(torch.full((5, 1, 28, 28), 0.7), x)
    torch.testing.assert_close(lw, expected[:, None].expand(5, 17), atol=1e-4, rtol=0)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_likelihoods_train_with_falling_loss(likelihood, tiny_mnist, tmp_path):
    result = train_vae(VAEConfig(latent_dim=4, hidden_dims=(64,), likelihood=likelihood,
                                       binarize=likelihood == "bernoulli", kl_warmup_steps=20),
                             ImageDataConfig("mnist", data_dir=str(tiny_mnist)),
                             TrainConfig(max_steps=40, batch_size=32, log_every=5, progress=False, tensorboard=False,
                                         device="cpu", lr=3e-3), out=tmp_path / "run")
    rows = [r for r in read_metrics(result.run_dir) if "train/loss" in r]
    assert rows[-1]["train/loss"] < rows[0]["train/loss"]
    weights = [r["train/kl_weight"] for r in rows]
    assert weights[0] < 0.3 and weights[-1] == pytest.approx(1.0) and weights == sorted(weights)  # the ramp
    model = __import__("genlab").load(result.run_dir)
    assert model.config.likelihood == likelihood
    if likelihood == "gaussian":
        assert model.log_sigma.item() < 0.0  # learned: pixels are predicted better than sigma = 1


def test_binarize_needs_bernoulli():
    with pytest.raises(ConfigError, match="--binarize"):
        VAEConfig(likelihood="gaussian", binarize=True)
    with pytest.raises(ConfigError, match="kl_warmup|kl-warmup"):
        VAEConfig(kl_warmup_steps=-1)


def test_cli_evaluate_iwae_and_bad_options(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    code, _, err = cli("vae", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--out", out, *FAST,
                       "--max-steps", "10", "--binarize", "--hidden-dims", "32", "--latent-dim", "3")
    assert code == 0, err
    code, stdout, err = cli("vae", "evaluate", out, "--data-dir", tiny_mnist, "--iwae-k", "20", "--iwae-images", "16")
    assert code == 0, err
    assert "IWAE estimate" in stdout and "(binarised)" in stdout
    r = json.loads((out / "eval.json").read_text())
    assert r["binarized"] and r["iwae"]["k"] == 20 and r["iwae"]["num_images"] == 16
    assert r["iwae"]["nll"] < r["iwae"]["single_sample_nelbo"]
    for bad, needle in ((["--iwae-k", "-1"], "--iwae-k"), (["--iwae-k", "5", "--iwae-images", "0"], "--iwae-images")):
        code, _, err = cli("vae", "evaluate", out, "--data-dir", tiny_mnist, *bad)
        assert_one_line_error(code, err, needle)
    code, _, err = cli("vae", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--out", tmp_path / "r2",
                       *FAST, "--binarize", "--likelihood", "gaussian")
    assert_one_line_error(code, err, "--binarize")
