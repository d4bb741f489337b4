"""Shapes of every generator and discriminator at 32/64/128 px, grey and RGB; configs; save and load."""

from __future__ import annotations

import pytest
import torch

from genlab.core.errors import ConfigError
from genlab.cyclegan.models import CycleGAN, CycleGANConfig, PatchDiscriminator, patch_layers


@pytest.mark.parametrize("generator", ["unet", "resnet"])
@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("channels", [(1, 3), (3, 3)])
def test_shapes(generator, size, channels):
    ca, cb = channels
    model = CycleGAN(CycleGANConfig(image_size=size, channels_a=ca, channels_b=cb, generator=generator, ngf=4,
                                    ndf=4))
    a = torch.rand(1, ca, size, size) * 2 - 1
    b = torch.rand(1, cb, size, size) * 2 - 1
    fake_b, fake_a = model.g_ab(a), model.g_ba(b)
    assert fake_b.shape == b.shape and fake_a.shape == a.shape
    assert fake_b.abs().max() <= 1  # tanh
    side = size // 2 ** 3 - 2  # three stride-2 layers, then two 4x4 stride-1 convs
    assert model.d_a(a).shape == (1, 1, side, side) and model.d_b(b).shape == (1, 1, side, side)


def test_patchgan_depth_adapts_to_small_images():
    assert patch_layers(256) == patch_layers(32) == 3  # the 70x70 PatchGAN
    assert patch_layers(16) == 2 and patch_layers(8) == 1
    d = PatchDiscriminator(3, 4, patch_layers(16))
    assert d(torch.zeros(1, 3, 16, 16)).shape == (1, 1, 2, 2)
    assert CycleGANConfig(image_size=16, ngf=4, ndf=4).discriminator_layers == 2


def test_resnet_nine_blocks_and_default_widths():
    nine = CycleGAN(CycleGANConfig(image_size=32, resnet_blocks=9, ngf=4, ndf=4))
    six = CycleGAN(CycleGANConfig(image_size=32, resnet_blocks=6, ngf=4, ndf=4))
    assert nine.num_parameters() > six.num_parameters()
    assert CycleGANConfig().generator_width == 64 and CycleGANConfig(generator="unet").generator_width == 32


def test_config_errors():
    with pytest.raises(ConfigError, match="multiple of 16"):
        CycleGANConfig(image_size=40, generator="unet")
    with pytest.raises(ConfigError, match="too small for the U-Net"):
        CycleGANConfig(image_size=16, generator="unet")
    with pytest.raises(ConfigError, match="resnet-blocks"):
        CycleGANConfig(resnet_blocks=7)
    with pytest.raises(ConfigError, match="too deep"):
        CycleGANConfig(image_size=16, d_layers=3)


def test_save_and_load_round_trip(tmp_path):
    import genlab

    torch.manual_seed(0)
    model = CycleGAN(CycleGANConfig(image_size=32, generator="unet", ngf=4, ndf=4))
    model.save_pretrained(tmp_path / "m")
    again = genlab.load(tmp_path / "m")
    assert isinstance(again, CycleGAN) and again.config == model.config
    x = torch.rand(2, 1, 32, 32)
    y = again.translate(x, "a2b")
    assert y.shape == (2, 3, 32, 32) and 0 <= float(y.min()) and float(y.max()) <= 1
    assert torch.equal(model.translate(x, "a2b"), y)
    with pytest.raises(ConfigError, match="1 channel"):
        again.translate(torch.rand(1, 3, 32, 32), "a2b")


def test_tour_section_at_toy_size(tmp_path, tiny_mnist, monkeypatch):
    from genlab.cli import main
    from genlab.core.tourkit import TourContext
    from genlab.cyclegan.tour import section

    monkeypatch.setenv("GENLAB_DATA_DIR", str(tiny_mnist))
    s = section()
    ctx = TourContext(out=tmp_path, budget="quick", toy=True, cli_main=main, log=lambda _: None)
    (fig,) = s.run(ctx)
    assert fig.path.is_file() and fig.command.startswith("genlab cyclegan train")
    assert "source-only" in fig.metrics["label preservation B->A"] and "frozen MNIST" in fig.metrics["measured on"]
    assert len(ctx.commands) == 3
