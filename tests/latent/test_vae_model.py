"""VAE maths on hand-computed numbers, model shapes/ranges, determinism and save/load."""

from __future__ import annotations

import math

import pytest
import torch

import genlab
from genlab.core.errors import ConfigError
from genlab.vae import ConvVAE, MLPVAE, VAEConfig, bernoulli_nll, build_vae, kl_divergence, negative_elbo


def test_kl_divergence_known_values():
    mu = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, 0.0], [0.0, 0.0], [math.log(2.0), 0.0]])
    # KL(N(mu, s^2) || N(0,1)) = 0.5 * (s^2 + mu^2 - 1 - log s^2), summed over dims.
    expected = torch.tensor([0.0, 0.5, 0.5 * (2.0 - 1.0 - math.log(2.0))])
    torch.testing.assert_close(kl_divergence(mu, logvar), expected)


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 7, generator=g), torch.randn(5, 7, generator=g)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(kl_divergence(mu, logvar), torch.distributions.kl_divergence(q, p).sum(-1))


def test_bernoulli_nll_known_values():
    logits = torch.zeros(2, 1, 2, 2)
    target = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]], [[[0.5, 0.5], [0.5, 0.5]]]])
    # sigmoid(0) = 0.5: each pixel costs log 2 whatever its target.
    torch.testing.assert_close(bernoulli_nll(logits, target), torch.full((2,), 4 * math.log(2.0)))
    big = torch.full((1, 1, 1, 1), 20.0)
    assert bernoulli_nll(big, torch.ones(1, 1, 1, 1)).item() == pytest.approx(math.log1p(math.exp(-20.0)), rel=1e-3)


def test_negative_elbo_terms_and_beta():
    logits, x = torch.zeros(3, 1, 2, 2), torch.ones(3, 1, 2, 2)
    mu, logvar = torch.ones(3, 4), torch.zeros(3, 4)
    t = negative_elbo(logits, x, mu, logvar, beta=4.0)
    torch.testing.assert_close(t["kl"], torch.full((3,), 2.0))
    torch.testing.assert_close(t["nelbo"], t["recon"] + 2.0)
    torch.testing.assert_close(t["loss"], t["recon"] + 8.0)


@pytest.mark.parametrize("arch,channels,size,extra", [
    ("mlp", 1, 28, {}), ("conv", 1, 28, {}), ("conv", 3, 32, {}), ("conv", 3, 64, {"conv_channels": (16, 32, 32, 64)}),
    ("mlp", 3, 32, {"hidden_dims": (64,)})])
def test_forward_and_sample_shapes(arch, channels, size, extra):
    torch.manual_seed(0)
    model = build_vae(VAEConfig(arch=arch, latent_dim=3, image_channels=channels, image_size=size, **extra))
    assert isinstance(model, {"mlp": MLPVAE, "conv": ConvVAE}[arch])
    x = torch.rand(4, channels, size, size)
    out = model(x)
    assert set(out) == {"loss", "recon", "kl", "nelbo"} and all(v.ndim == 0 for v in out.values())
    assert out["recon"] > 0 and out["kl"] >= 0
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (4, 3)
    assert model.decode(mu).shape == (4, channels, size, size)
    samples = model.sample(5, seed=1)
    assert samples.shape == (5, channels, size, size)
    # Samples are the decoded means of the seeded prior draws z ~ N(0, I): recompute them by hand.
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(samples, torch.sigmoid(model.decode(z)), rtol=0, atol=1e-6)
    assert torch.equal(samples, model.sample(5, seed=1))
    assert not torch.equal(samples, model.sample(5, seed=2))


def test_wrong_image_shape_is_a_clear_error():
    model = build_vae(VAEConfig())
    with pytest.raises(ConfigError, match=r"takes images shaped \(1, 28, 28\)"):
        model(torch.rand(2, 3, 28, 28))


@pytest.mark.parametrize("bad,match", [
    (dict(latent_dim=0), "--latent-dim"), (dict(latent_dim=-3), "--latent-dim"), (dict(beta=-1.0), "--beta"),
    (dict(hidden_dims=()), "--hidden-dims"), (dict(hidden_dims=(0,)), "--hidden-dims"), (dict(arch="gru"), "--arch"),
    (dict(arch="conv", image_size=30), "divisible by 4"), (dict(image_channels=2), "1 or 3 channels")])
def test_bad_model_config(bad, match):
    with pytest.raises(ConfigError, match=match):
        VAEConfig(**bad)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_save_pretrained_and_load_round_trip(tmp_path, arch):
    torch.manual_seed(0)
    model = build_vae(VAEConfig(arch=arch, latent_dim=4)).eval()
    model.save_pretrained(tmp_path / "m")
    loaded = genlab.load(tmp_path / "m")
    assert type(loaded) is type(model) and loaded.config == model.config
    assert not loaded.training
    z = torch.randn(3, 4)
    torch.testing.assert_close(loaded.decode(z), model.decode(z), rtol=0, atol=0)
    assert torch.equal(loaded.sample(4, seed=7), model.sample(4, seed=7))
