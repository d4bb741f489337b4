"""docs/ADDING_A_FAMILY.md, executed: a family written in a fresh folder becomes `genlab toy train|sample` and
`genlab.load`-able by adding its rows to the one table, with no other shared file touched."""

from __future__ import annotations

import sys
import textwrap

import pytest

MODELS = '''
from dataclasses import dataclass
import torch
from torch import nn
from genlab.core.config import cfg_field, check_int
from genlab.core.model import GenlabModel

@dataclass
class ToyImageConfig:
    size: int = cfg_field(8, help="image side")
    def __post_init__(self):
        check_int("size", self.size, 2)

class ToyImageModel(GenlabModel):
    """Learns the mean training image; samples are the mean plus seeded noise."""
    model_type = "toy-image"
    family = "toy"
    config_class = ToyImageConfig
    def __init__(self, config):
        super().__init__(config)
        self.mean = nn.Parameter(torch.zeros(1, 1, config.size, config.size))
    def forward(self, x, labels=None):
        return {"loss": (x - self.mean).pow(2).mean()}
    def sample(self, n, *, seed=0):
        g = torch.Generator().manual_seed(seed)
        noise = 0.05 * torch.randn(n, 1, self.config.size, self.config.size, generator=g)
        return (self.mean.detach().cpu() + noise).clamp(0, 1)
'''

API = '''
from pathlib import Path
from genlab.core.engine import TrainConfig, Trainer
from genlab.core.model import load
from genlab.core.runs import resumed_configs
from genlab.data.datasets import ImageDataConfig, load_image_dataset
from genlab.viz import save_image_grid
from .models import ToyImageConfig, ToyImageModel

def train(model_config=None, data_config=None, train_config=None, *, out, resume=False, overrides=None):
    if resume:
        model_config, data_config, train_config = resumed_configs(
            out, family="toy", data_class=ImageDataConfig, overrides=overrides or {})
    model_config, data_config = model_config or ToyImageConfig(), data_config or ImageDataConfig()
    data = load_image_dataset(data_config, "train")
    model = ToyImageModel(ToyImageConfig(size=data.image_shape[-1]))
    run_config = {"family": "toy", "model_type": model.model_type, "model": {"size": model.config.size},
                  "data": {k: getattr(data_config, k) for k in data_config.__dataclass_fields__}}
    return Trainer(model, data, train_config or TrainConfig(), out, run_config=run_config).fit(resume=resume)

def sample(model_or_run, n=16, *, seed=0, out):
    model = load(model_or_run) if isinstance(model_or_run, (str, Path)) else model_or_run
    return save_image_grid(model.sample(n, seed=seed), out)
'''

CLI = '''
from genlab.core import clikit
from genlab.data.datasets import ImageDataConfig

def _api():
    from . import api
    return api

def add_parser(subparsers):
    from .models import ToyImageConfig
    sub = clikit.family_parser(subparsers, "toy", help="a toy family")
    clikit.add_train_command(sub, family="toy", train=lambda: _api().train, groups=[
        clikit.Options("data_config", ImageDataConfig, "data"), clikit.Options("model_config", ToyImageConfig, "model")],
        summary=lambda r: [f"final loss {r.metrics['train/loss']:.4f}"])
    s = sub.add_parser("sample", help="write samples")
    clikit.add_run_argument(s)
    s.add_argument("--n", type=int, default=16)
    clikit.add_output_arguments(s, default="RUN_DIR/samples")
    s.set_defaults(func=_sample)

def _sample(args):
    from pathlib import Path
    path = clikit.resolve_output(args, default_dir=Path(args.run) / "samples", filename="toy.png", suffixes=(".png",))
    clikit.print_written(_api().sample(args.run, args.n, out=path), "samples")
'''


@pytest.fixture()
def toy_family(tmp_path, monkeypatch):
    pkg = tmp_path / "ext" / "toyfam"
    pkg.mkdir(parents=True)
    for name, text in {"__init__.py": "", "models.py": MODELS, "api.py": API, "cli.py": CLI}.items():
        (pkg / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path / "ext"))
    # The one shared edit: the family's rows in genlab/families.py (here patched in, as the doc's step 2 writes them).
    import genlab.families as families
    from genlab.core import registry

    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, families.Family(
        "toy", "toyfam", "toyfam.cli:add_parser", "a toy family")))
    monkeypatch.setitem(registry._MODEL_TABLE, "toy-image", "toyfam.models:ToyImageModel")
    yield
    for mod in [m for m in sys.modules if m.startswith("toyfam")]:
        del sys.modules[mod]
    registry.MODEL_REGISTRY.pop("toy-image", None)


def test_a_new_family_is_one_folder_and_one_table_row(toy_family, cli, tiny_mnist, tmp_path):
    import genlab

    run = tmp_path / "runs" / "toy"
    code, out, err = cli("toy", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--max-steps", "6",
                         "--batch-size", "32", "--no-tensorboard", "--no-progress", "--out", run)
    assert code == 0, err
    assert "trained 6 steps" in out and "final loss" in out and f"run folder: {run}" in out
    code, out, err = cli("toy", "sample", run, "--n", "4", "--output", tmp_path / "s.png")
    assert code == 0, err
    assert (tmp_path / "s.png").stat().st_size > 0
    model = genlab.load(run)  # through the lazy table row
    assert type(model).__name__ == "ToyImageModel" and model.sample(2, seed=0).shape == (2, 1, 28, 28)
    # the kit's shared contracts come for free: --out is a folder, usage errors are one line
    code, out, err = cli("toy", "sample", run, "--out", tmp_path / "x.png")
    assert code != 0 and "--out is a folder" in err and len(err.strip().splitlines()) == 1
    code, out, err = cli("toy", "train", "--size", "x")
    assert code == 2 and len(err.strip().splitlines()) == 1
    # resume with a longer budget continues the same run
    code, out, err = cli("toy", "train", "--out", run, "--resume", "--max-steps", "8", "--no-progress")
    assert code == 0, err
    assert "trained 2 steps this run" in out or "trained 8 steps" in out
