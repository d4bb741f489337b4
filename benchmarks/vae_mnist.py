"""VAE on MNIST: genlab's default config vs the pytorch/examples reference, side by side on this machine.

Reference (pytorch/examples ``vae/main.py`` style): MLP 784-400-20, ReLU, Adam 1e-3, batch 128, BCE-sum + KL,
10 epochs, torchvision ``datasets.MNIST`` + ``ToTensor`` through a shuffling DataLoader. Its published figure is
about 105.6 nats test -ELBO after 10 epochs.

Both are scored by the same function (test -ELBO in nats per image, one z sample per image, seeded) on the same
10,000 test images. Prints a table and writes JSON (default benchmarks/results/vae_mnist.json).

    python benchmarks/vae_mnist.py                   # full run (~5-10 minutes on 2 cores)
    python benchmarks/vae_mnist.py --ref-epochs 1 --genlab-epochs 1   # smoke run
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import genlab
from genlab.core.engine import TrainConfig
from genlab.data.datasets import ImageDataConfig, load_image_dataset
from genlab.data.mnist import find_dataset_dir
from genlab.vae import DEFAULT_TRAIN, VAEConfig, evaluate_model, train

from common import write_results  # benchmarks/common.py


class ReferenceVAE(nn.Module):
    """pytorch/examples' VAE, verbatim in structure."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def reference_loss(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def torchvision_root(tmp: Path) -> Path:
    """torchvision's MNIST wants the uncompressed IDX files in ROOT/MNIST/raw: make them from genlab's copy."""
    src = find_dataset_dir("mnist")
    raw = tmp / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        gz, plain = src / f"{name}.gz", src / name
        if gz.exists():
            with gzip.open(gz, "rb") as fin, open(raw / name, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        else:
            shutil.copy(plain, raw / name)
    return tmp


def run_reference(epochs: int, seed: int, root: Path) -> tuple[nn.Module, float]:
    from torchvision import datasets, transforms

    torch.manual_seed(seed)
    train_loader = torch.utils.data.DataLoader(
        datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor()),
        batch_size=128, shuffle=True)
    model = ReferenceVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        for data, _ in train_loader:
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = reference_loss(recon, data, mu, logvar)
            loss.backward()
            optimizer.step()
        print(f"  reference epoch {epoch}/{epochs}: {time.time() - start:.1f}s", file=sys.stderr, flush=True)
    return model, time.time() - start


@torch.no_grad()
def score(encode_decode, test_images: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Test -ELBO per image (nats) for any model given as x -> (bernoulli logits, mu, logvar)."""
    torch.manual_seed(seed)
    recon_sum = kl_sum = 0.0
    for x in test_images.split(1000):
        logits, mu, logvar = encode_decode(x)
        recon_sum += float(genlab.vae.bernoulli_nll(logits, x).sum())
        kl_sum += float(genlab.vae.kl_divergence(mu, logvar).sum())
    n = test_images.shape[0]
    return {"nelbo": (recon_sum + kl_sum) / n, "recon": recon_sum / n, "kl": kl_sum / n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref-epochs", type=int, default=10)
    ap.add_argument("--genlab-epochs", type=int, default=None, help="default: genlab's own default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/vae_mnist.json")
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()

    test = load_image_dataset(ImageDataConfig("mnist"), "test")
    test_images = test.images.float() / 255.0
    rows = []

    if not args.skip_reference:
        with tempfile.TemporaryDirectory() as tmp:
            root = torchvision_root(Path(tmp))
            print("training the pytorch/examples reference ...", file=sys.stderr)
            ref, ref_seconds = run_reference(args.ref_epochs, args.seed, root)
        ref.eval()

        def ref_fn(x):
            mu, logvar = ref.encode(x.view(-1, 784))
            z = ref.reparameterize(mu, logvar)
            h = F.relu(ref.fc3(z))
            return ref.fc4(h).view_as(x), mu, logvar  # logits of the same Bernoulli

        rows.append({"name": f"reference 784-400-20, Adam 1e-3, {args.ref_epochs} epochs",
                     "seconds": ref_seconds, **score(ref_fn, test_images, args.seed)})

    print("training genlab's default VAE ...", file=sys.stderr)
    overrides = {"progress": False, "tensorboard": False, "sample_every": 0, "seed": args.seed}
    if args.genlab_epochs is not None:
        overrides["epochs"] = args.genlab_epochs
    train_cfg = TrainConfig(**{**DEFAULT_TRAIN, **overrides})
    model_cfg = VAEConfig()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        result = train(model_cfg, ImageDataConfig("mnist"), train_cfg, out=Path(tmp) / "run")
        seconds = time.time() - t0  # includes data loading, checkpoints and the final evaluation
        model = genlab.load(result.run_dir)

    def genlab_fn(x):
        mu, logvar = model.encode(x)
        return model.decode(genlab.vae.reparameterize(mu, logvar)), mu, logvar

    desc = (f"genlab default: MLP {'-'.join(map(str, model_cfg.hidden_dims))} z{model_cfg.latent_dim}, "
            f"{train_cfg.epochs} epochs, lr {train_cfg.lr} {train_cfg.lr_schedule}")
    rows.append({"name": desc, "seconds": seconds, **score(genlab_fn, test_images, args.seed),
                 "genlab_own_eval": evaluate_model(model, test, seed=args.seed)["nelbo"]})

    print()
    print(f"| {'run':<62} | {'test -ELBO (nats)':>17} | {'recon':>7} | {'KL':>6} | {'wall-clock (s)':>14} |")
    print(f"|{'-' * 64}|{'-' * 19}|{'-' * 9}|{'-' * 8}|{'-' * 16}|")
    for r in rows:
        print(f"| {r['name']:<62} | {r['nelbo']:>17.2f} | {r['recon']:>7.2f} | {r['kl']:>6.2f} | {r['seconds']:>14.1f} |")
    summary = {"rows": rows}
    if len(rows) == 2:
        ratio = rows[1]["seconds"] / rows[0]["seconds"]
        summary["time_ratio_genlab_over_reference"] = ratio
        summary["goal_met"] = rows[1]["nelbo"] <= 100.0 and ratio <= 1.0
        print(f"\nwall-clock ratio genlab/reference: {ratio:.2f}; "
              f"goal (<= 100 nats in no more time): {'met' if summary['goal_met'] else 'NOT met'}")
    write_results(args.out, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
