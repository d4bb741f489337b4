"""GAN networks: every size / channel count / option builds and has the right shapes; EMA; save and load."""

from __future__ import annotations

import pytest
import torch

import genlab
from genlab.core.errors import ConfigError
from genlab.gan.models import GAN, GANConfig, SelfAttention
from genlab.gan.trainer import GANTrainOptions, to_data_size, to_model_range
from helpers import one_line

TINY = dict(g_channels=8, d_channels=8, latent_dim=16)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("extra", [{}, {"attention": True, "conditional": True, "num_classes": 3},
                                   {"loss": "wgan-gp", "spectral_norm": False}, {"loss": "ns", "spectral_norm": False}])
def test_shapes(size, channels, extra):
    torch.manual_seed(0)
    gan = GAN(GANConfig(size=size, image_channels=channels, **TINY, **extra))
    images = gan.sample(5, seed=0)
    assert images.shape == (5, channels, size, size)
    assert float(images.std(dim=0).mean()) > 1e-5  # different noise, different images (even untrained)
    labels = torch.tensor([0, 1, 2, 0, 1]) if extra.get("conditional") else None
    assert gan.discriminate(images * 2 - 1, labels).shape == (5,)
    assert gan.interpolate(steps=4, rows=2).shape == (8, channels, size, size)


def test_d_norm_resolution_and_attention_placement():
    assert GANConfig(spectral_norm=True).resolved_d_norm == "none"
    assert GANConfig(spectral_norm=False, loss="wgan-gp").resolved_d_norm == "layer"
    assert GANConfig(spectral_norm=False, loss="ns").resolved_d_norm == "batch"
    gan = GAN(GANConfig(size=32, attention=True, **TINY))
    assert sum(isinstance(m, SelfAttention) for m in gan.generator.modules()) == 1
    assert sum(isinstance(m, SelfAttention) for m in gan.discriminator.modules()) == 1
    # SAGAN's gamma starts at 0: the block is the identity until trained.
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(SelfAttention(8)(x), x)


@pytest.mark.parametrize("bad,words", [
    (dict(size=48), ["--size 48 is not supported", "28, 32, 64"]),
    (dict(loss="lsgan"), ["--loss must be one of"]),
    (dict(latent_dim=0), ["--latent-dim"]),
    (dict(num_classes=-1), ["num_classes"]),
    (dict(loss="wgan-gp", spectral_norm=False, d_norm="batch"), ["batch norm"]),
    (dict(image_channels=2), ["1 or 3 channels"]),
])
def test_bad_model_config(bad, words):
    with pytest.raises(ConfigError) as err:
        GANConfig(**bad)
    one_line(err, *words)


@pytest.mark.parametrize("bad,words", [
    (dict(n_critic=0), ["--n-critic must be a whole number >= 1"]),
    (dict(gp_weight=-1.0), ["--gp-weight", "must be >= 0"]),
    (dict(r1_gamma=-0.5), ["--r1-gamma"]),
    (dict(r1_every=0), ["--r1-every must be an integer >= 1"]),
    (dict(clip_value=0.0), ["--clip-value"]),
    (dict(label_smoothing=0.7), ["--label-smoothing must be in [0, 0.5)"]),
    (dict(ema_decay=1.0), ["--ema-decay"]),
    (dict(fid_samples=1), ["--fid-samples"]),
])
def test_bad_train_options(bad, words):
    with pytest.raises(ConfigError) as err:
        GANTrainOptions(**bad)
    one_line(err, *words)


def test_conditional_gan_needs_classes():
    with pytest.raises(ConfigError, match="num_classes >= 2"):
        GAN(GANConfig(conditional=True, **TINY))


def test_option_resolution():
    assert GANTrainOptions().resolved(GANConfig(loss="wgan")).n_critic == 5
    assert GANTrainOptions().resolved(GANConfig(loss="hinge")).n_critic == 1
    assert GANTrainOptions(n_critic=2).resolved(GANConfig(loss="wgan-gp", spectral_norm=False)).n_critic == 2
    with pytest.raises(ConfigError, match="--loss ns"):
        GANTrainOptions(label_smoothing=0.1).resolved(GANConfig(loss="hinge"))


def test_ema_update_and_sampling_determinism():
    torch.manual_seed(0)
    gan = GAN(GANConfig(**TINY))
    with torch.no_grad():
        for p in gan.generator.parameters():
            p.add_(0.05 * torch.randn_like(p))
    before = [p.clone() for p in gan.generator_ema.parameters()]
    gan.update_ema(0.75)
    for b, e, g in zip(before, gan.generator_ema.parameters(), gan.generator.parameters(), strict=True):
        torch.testing.assert_close(e, 0.75 * b + 0.25 * g)
    assert not any(p.requires_grad for p in gan.generator_ema.parameters())
    gan.train()
    assert not gan.generator_ema.training  # the EMA generator always runs in inference mode
    torch.testing.assert_close(gan.sample(4, seed=3), gan.sample(4, seed=3))
    assert not torch.equal(gan.sample(4, seed=3), gan.sample(4, seed=4))
    assert not torch.equal(gan.sample(4, seed=3, ema=False), gan.sample(4, seed=3))
    with pytest.raises(ConfigError, match="--n must be"):
        gan.sample(0)


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    gan = GAN(GANConfig(size=32, image_channels=3, attention=True, **TINY))
    gan.save_pretrained(tmp_path / "m")
    again = genlab.load(tmp_path / "m", family="gan")
    assert isinstance(again, GAN) and again.config == gan.config
    torch.testing.assert_close(again.sample(3, seed=1), gan.eval().sample(3, seed=1))


def test_resizing_between_data_and_model():
    x = torch.rand(2, 1, 28, 28)
    padded = to_model_range(x, 32)
    assert padded.shape == (2, 1, 32, 32) and float(padded.min()) >= -1 and float(padded.max()) <= 1
    assert float(padded[..., :2, :].max()) == -1.0  # black border: the MNIST background
    torch.testing.assert_close(to_data_size((padded + 1) / 2, 28), x)
    up = to_model_range(x, 64)
    assert up.shape == (2, 1, 64, 64)
    assert to_data_size((up + 1) / 2, 28).shape == (2, 1, 28, 28)


def _bn_input_stats(net, batches):
    """Per-BatchNorm (mean, unbiased var) of the net's own pre-BN activations in train mode, averaged over the
    batches (what torch's cumulative BN averaging, momentum=None, computes)."""
    import copy

    probe = copy.deepcopy(net).train()
    seen: dict[str, list] = {}
    hooks = [m.register_forward_pre_hook(lambda m, args, name=name: seen.setdefault(name, []).append(args[0]))
             for name, m in probe.named_modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for z, y in batches:
            probe(z, y)
    for h in hooks:
        h.remove()
    return {name: (torch.stack([x.mean(dim=(0, 2, 3)) for x in xs]).mean(0),
                   torch.stack([x.transpose(0, 1).flatten(1).var(dim=1) for x in xs]).mean(0))
            for name, xs in seen.items()}


@pytest.mark.parametrize("extra", [{}, {"conditional": True, "num_classes": 3, "size": 32}])
def test_ema_batchnorm_statistics_are_those_of_the_ema_weights(extra):
    torch.manual_seed(0)
    gan = GAN(GANConfig(**TINY, **extra))
    with torch.no_grad():  # the trained G drifts far from the EMA copy, and its running stats are junk
        for p in gan.generator.parameters():
            p.add_(0.5 * torch.randn_like(p))
        for m in gan.generator.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.fill_(3.0)
                m.running_var.fill_(7.0)
    gan.update_ema(0.5)
    batches = list(gan.ema_batchnorm_batches(batches=3, batch_size=50))
    expected = _bn_input_stats(gan.generator_ema, batches)
    rng_before = torch.random.get_rng_state()
    gan.refresh_ema_batchnorm(batches=3, batch_size=50)
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # the training RNG stream is untouched
    assert not gan.generator_ema.training
    bns = dict(gan.generator_ema.named_modules())
    assert expected
    for name, (mean, var) in expected.items():
        torch.testing.assert_close(bns[name].running_mean, mean, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(bns[name].running_var, var, rtol=1e-4, atol=1e-5)
        assert not torch.allclose(bns[name].running_mean, torch.full_like(mean, 3.0))  # not copied from G
        assert bns[name].momentum == 0.1  # the module's own setting is restored


def test_sampling_and_saving_use_refreshed_ema_statistics(tmp_path):
    torch.manual_seed(0)
    gan = GAN(GANConfig(**TINY))
    with torch.no_grad():
        for p in gan.generator.parameters():
            p.add_(0.5 * torch.randn_like(p))
    gan.update_ema(0.5)  # the EMA's BN statistics are stale now
    first = gan.sample(4, seed=1)
    bn = gan.generator_ema.stem[0]
    fresh = bn.running_mean.clone()
    gan.refresh_ema_batchnorm()
    torch.testing.assert_close(bn.running_mean, fresh)  # sample() had already refreshed them
    torch.testing.assert_close(gan.sample(4, seed=1), first)
    gan.update_ema(0.5)
    gan.save_pretrained(tmp_path / "m")  # saving refreshes too: the file holds the EMA weights' own statistics
    saved = genlab.load(tmp_path / "m", family="gan").generator_ema.stem[0].running_mean
    gan.refresh_ema_batchnorm()
    torch.testing.assert_close(saved, bn.running_mean)
    assert not torch.allclose(saved, gan.generator.stem[0].running_mean)
