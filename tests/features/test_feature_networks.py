"""Feature networks: layer aliases, truncation, weight loading (random / FILE / imagenet cache / offline)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from features.imageopt import random_image, torchvision_state_dict
from genlab.core.errors import CheckpointError, ConfigError
from genlab.features import layer_names, load_feature_network
from genlab.features.weights import hub_checkpoint_path, sha256_of


@pytest.mark.parametrize("model, alias, name", [
    ("vgg19", "block5_conv2", "features.31"), ("vgg19", "block1_conv1", "features.1"),
    ("vgg19", "block3_pool", "features.18"), ("vgg16", "block5_conv3", "features.29"),
    ("inception_v3", "mixed2", "Mixed_5d"), ("inception_v3", "mixed4", "Mixed_6b"),
    ("inception_v3", "mixed10", "Mixed_7c"), ("googlenet", "mixed4c", "inception4c"),
    ("vgg19", "logits", "classifier.6"),
])
def test_keras_aliases_resolve(model, alias, name):
    rows = {n: a for n, a, _ in layer_names(model)}
    assert alias in rows[name]


def test_vgg_conv_alias_is_the_relu_after_the_conv():
    """Keras' block5_conv2 includes its ReLU, so the alias must point at the ReLU output (never negative)."""
    net = load_feature_network("vgg19", weights="random", layers=["block5_conv2"])
    i = net.index("block5_conv2")
    assert isinstance(net.body[i], nn.ReLU) and isinstance(net.body[i - 1], nn.Conv2d)
    assert net.body[i - 1].out_channels == 512
    feats = net(net.normalize(random_image(32)), ["block5_conv2", "features.30"])
    assert feats["block5_conv2"].min() >= 0 and feats["features.30"].min() < 0  # the ReLU is not in-place
    assert len(net.names) == i + 1  # truncated right after the deepest used layer


def test_unknown_layer_lists_valid_names():
    net = load_feature_network("vgg16", weights="random", layers=["block1_conv2"])
    with pytest.raises(ConfigError, match="unknown layer 'mixed4' for vgg16; valid: .*block1_conv1"):
        net.resolve("mixed4")


def test_unknown_model():
    with pytest.raises(ConfigError, match="unknown feature network 'resnet50'; use one of vgg16, vgg19"):
        load_feature_network("resnet50", weights="random")


def test_random_weights_are_seeded_and_marked():
    a = load_feature_network("vgg16", weights="random", layers=["block1_conv2"], seed=1)
    b = load_feature_network("vgg16", weights="random", layers=["block1_conv2"], seed=1)
    c = load_feature_network("vgg16", weights="random", layers=["block1_conv2"], seed=2)
    x = random_image(16)
    fa, fb, fc = (n(n.normalize(x), ["block1_conv2"])["block1_conv2"] for n in (a, b, c))
    assert torch.equal(fa, fb) and not torch.equal(fa, fc)
    assert a.weights_info.pretrained is False
    assert "NOT pretrained" in a.weights_info.describe()


def test_input_normalisation():
    vgg = load_feature_network("vgg16", weights="random", layers=["block1_conv1"])
    inc = load_feature_network("googlenet", weights="random", layers=["conv1"])
    ones = torch.ones(1, 3, 2, 2)
    assert torch.allclose(vgg.normalize(ones)[0, :, 0, 0], torch.tensor([(1 - 0.485) / 0.229, (1 - 0.456) / 0.224,
                                                                         (1 - 0.406) / 0.225]))
    assert torch.equal(inc.normalize(ones), ones) and torch.equal(inc.normalize(ones * 0), -ones)
    assert torch.allclose(vgg.denormalize(vgg.normalize(ones * 0.3)), ones * 0.3)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_state_dict_file_round_trips(tmp_path, suffix, capsys):
    src = load_feature_network("vgg16", weights="random", layers=["block2_conv2"], seed=7)
    path = tmp_path / f"vgg16_part{suffix}"
    state = torchvision_state_dict(src)
    if suffix == ".pth":
        torch.save(state, path)
    else:
        from safetensors.torch import save_file
        save_file(state, str(path))
    loaded = load_feature_network("vgg16", weights=str(path), layers=["block2_conv2"])
    x = random_image(24)
    assert torch.equal(src(src.normalize(x), ["block2_conv2"])["block2_conv2"],
                       loaded(loaded.normalize(x), ["block2_conv2"])["block2_conv2"])
    assert loaded.weights_info.sha256 == sha256_of(path) and loaded.weights_info.pretrained


def test_weights_file_of_the_wrong_architecture(tmp_path):
    g = load_feature_network("googlenet", weights="random", layers=["conv2"])
    path = tmp_path / "googlenet.pth"
    torch.save(torchvision_state_dict(g), path)
    with pytest.raises(CheckpointError, match="does not fit vgg19: .*unexpected keys"):
        load_feature_network("vgg19", weights=str(path), layers=["block1_conv1"])


def test_weights_file_of_the_wrong_shape(tmp_path):
    state = torchvision_state_dict(load_feature_network("vgg16", weights="random", layers=["block1_conv2"]))
    state["features.0.weight"] = torch.zeros(32, 3, 3, 3)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="does not fit vgg16 .*size mismatch for features.0.weight"):
        load_feature_network("vgg16", weights=str(path), layers=["block1_conv2"])


def test_weights_file_lacking_needed_layers(tmp_path):
    state = torchvision_state_dict(load_feature_network("vgg16", weights="random", layers=["block1_conv1"]))
    path = tmp_path / "short.pth"
    torch.save(state, path)
    load_feature_network("vgg16", weights=str(path), layers=["block1_conv1"])  # enough for this layer
    with pytest.raises(CheckpointError, match="lacks 2 weights the network needs"):
        load_feature_network("vgg16", weights=str(path), layers=["block1_conv2"])


def test_corrupt_and_missing_weights_files(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="is not a readable state_dict file"):
        load_feature_network("vgg16", weights=str(bad), layers=["block1_conv1"])
    bad_st = tmp_path / "bad.safetensors"
    bad_st.write_bytes(b"\x00" * 20)
    with pytest.raises(CheckpointError, match="is not a readable safetensors file"):
        load_feature_network("vgg16", weights=str(bad_st), layers=["block1_conv1"])
    with pytest.raises(CheckpointError, match="does not exist"):
        load_feature_network("vgg16", weights=str(tmp_path / "nope.pth"), layers=["block1_conv1"])


def test_imagenet_offline_says_which_file_goes_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("GENLAB_OFFLINE", "1")
    expected = tmp_path / "torch" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    with pytest.raises(CheckpointError) as err:
        load_feature_network("vgg19", weights="imagenet", layers=["block1_conv1"])
    msg = str(err.value)
    assert "\n" not in msg and "put vgg19-dcbb9e9d.pth (from https://download.pytorch.org/models/" in msg
    assert str(expected) in msg


def test_imagenet_weights_come_from_torchvisions_hub_cache(tmp_path, monkeypatch):
    """The real loading path (file name from torchvision's weight enum, hub cache folder), exercised with a
    stand-in file: genlab reads whatever is cached there and records its sha256."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    from torchvision.models import VGG16_Weights

    path = hub_checkpoint_path(VGG16_Weights.IMAGENET1K_V1.url)
    assert path == tmp_path / "torch" / "hub" / "checkpoints" / "vgg16-397923af.pth"
    path.parent.mkdir(parents=True)
    src = load_feature_network("vgg16", weights="random", layers=["block1_conv2"], seed=3)
    torch.save(torchvision_state_dict(src), path)
    net = load_feature_network("vgg16", weights="imagenet", layers=["block1_conv2"])
    assert net.weights_info.source == "imagenet" and net.weights_info.sha256 == sha256_of(path)
    assert "VGG16_Weights.IMAGENET1K_V1" in net.weights_info.name
    x = random_image(16)
    assert torch.equal(net(x, ["block1_conv2"])["block1_conv2"], src(x, ["block1_conv2"])["block1_conv2"])


def test_genlab_classifier_is_a_feature_network(tmp_path):
    from genlab.features.domain import ClassifierConfig, DomainClassifier

    torch.manual_seed(0)
    DomainClassifier(ClassifierConfig()).save_pretrained(tmp_path / "clf")
    net = load_feature_network(str(tmp_path / "clf"), weights="genlab")
    assert net.in_channels == 1 and net.resolve("logits") == "head.1" and net.resolve("conv2") == "body.5"
    out = net(net.normalize(torch.rand(2, 1, 28, 28)), ["conv2", "logits"])
    assert out["conv2"].shape == (2, 64, 7, 7) and out["logits"].shape == (2, 10)


def test_strides_and_shapes_without_weights():
    net = load_feature_network("inception_v3", weights="random", layers=["mixed5"])
    assert net.strides(["mixed2", "mixed5"]) == {"mixed2": 8, "mixed5": 16}
    rows = {n: s for n, _, s in layer_names("inception_v3")}
    assert rows["Mixed_6b"] == (768, 17, 17) and rows["fc"] == (1000,)


def test_features_list_cli(cli):
    code, out, err = cli("features", "list", "--model", "vgg19")
    assert code == 0, err
    assert "features.31" in out and "block5_conv2" in out and "512x14x14" in out
    code, out, _ = cli("features", "list", "--model", "inception_v3")
    assert "Mixed_6b" in out and "mixed4" in out


def test_batchnorm_folding_keeps_the_layer_outputs():
    net = load_feature_network("googlenet", weights="random", layers=["mixed3b"], seed=0)
    g = torch.Generator().manual_seed(0)
    for m in net.modules():  # non-trivial frozen statistics, as trained weights have
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
    folded = net.fold_batchnorm()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())  # the original is left alone
    x = net.normalize(random_image(48))
    a, b = net(x, ["mixed3a", "mixed3b"]), folded(x, ["mixed3a", "mixed3b"])
    for k in a:
        assert torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-5 * a[k].abs().max())
    vgg = load_feature_network("vgg16", weights="random", layers=["block1_conv1"])
    assert vgg.fold_batchnorm() is vgg  # nothing to fold
