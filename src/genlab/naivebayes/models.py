"""The naive-Bayes generator of Foster's chapter 1, and a tiny autoregressive categorical model beside it.

:class:`NaiveBayes` assumes the features independent: ``p(x) = prod_j p(x_j)``, each ``p(x_j = k)`` the smoothed
share ``(n_jk + alpha) / (N + alpha K_j)`` (additive / Laplace smoothing; alpha = 1 is Laplace's rule, alpha = 0 the
maximum-likelihood counts). Sampling draws each feature on its own. On binarised MNIST it is one Bernoulli per pixel.

:class:`AutoregressiveCategorical` drops the assumption: ``p(x) = prod_j p(x_j | x_1..x_{j-1})``, each conditional a
smoothed table of counts (the full joint, so only for a few features with few categories). It is the exact model
class naive Bayes approximates, so the gap between the two on planted dependencies is what independence costs.

Both keep their schema (column names, categories, bins) in the config and their counts in ``model.safetensors``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..core.config import cfg_field
from ..core.errors import ConfigError, DataError
from ..core.model import GenlabModel

MAX_JOINT = 2_000_000  # cells of the autoregressive model's joint count table


@dataclass
class NaiveBayesConfig:
    columns: tuple[str, ...] = cfg_field((), help="feature names", cli=False)
    categories: dict = cfg_field(help="column -> its categories (in order)", cli=False, default_factory=dict)
    bins: dict = cfg_field(help="numeric column -> bin edges (binned with --bins)", cli=False,
                           default_factory=dict)
    alpha: float = cfg_field(1.0, help="additive smoothing (1 = Laplace, 0 = raw counts)")

    def __post_init__(self) -> None:
        if isinstance(self.columns, list):
            self.columns = tuple(self.columns)
        if not (self.alpha >= 0 and math.isfinite(self.alpha)):
            raise ConfigError(f"--alpha must be >= 0 (got {self.alpha})")
        missing = [c for c in self.columns if c not in self.categories]
        if missing:
            raise ConfigError(f"no categories for column(s) {', '.join(missing)}")

    @property
    def sizes(self) -> list[int]:
        return [len(self.categories[c]) for c in self.columns]


class _CategoricalModel(GenlabModel):
    family = "naive-bayes"
    config_class = NaiveBayesConfig

    @property
    def columns(self) -> tuple[str, ...]:
        return self.config.columns

    def encode_rows(self, rows: list[list[str]], *, what: str = "data") -> torch.Tensor:
        """Category indices (N, F) of string rows; a category the model never saw is refused in one line."""
        from .data import apply_bins

        index = [{v: i for i, v in enumerate(self.config.categories[c])} for c in self.columns]
        out = torch.empty(len(rows), len(self.columns), dtype=torch.long)
        for r, row in enumerate(rows):
            for j, (c, value) in enumerate(zip(self.columns, row, strict=True)):
                if c in self.config.bins:
                    value = apply_bins(value, self.config.bins[c], column=c, row=r + 2, what=what)
                k = index[j].get(value)
                if k is None:
                    raise DataError(f"{what} row {r + 2}, column {c!r}: value {value!r} was not in the fitted data "
                                    f"(categories: {', '.join(self.config.categories[c][:8])}"
                                    f"{' ...' if len(self.config.categories[c]) > 8 else ''}); the model gives it "
                                    f"no probability: refit with data that has it, or drop those rows")
                out[r, j] = k
        return out

    def decode_rows(self, x: torch.Tensor) -> list[list[str]]:
        cats = [self.config.categories[c] for c in self.columns]
        return [[cats[j][int(k)] for j, k in enumerate(row)] for row in x]


class NaiveBayes(_CategoricalModel):
    """Independent categorical features, fitted by smoothed counts."""

    model_type = "naive-bayes"

    def __init__(self, config: NaiveBayesConfig) -> None:
        super().__init__(config)
        sizes = config.sizes
        self.kmax = max(sizes) if sizes else 1
        self.register_buffer("counts", torch.zeros(len(sizes), self.kmax, dtype=torch.float64))
        self.register_buffer("n_rows", torch.zeros((), dtype=torch.float64))
        valid = torch.zeros(len(sizes), self.kmax, dtype=torch.bool)
        for j, k in enumerate(sizes):
            valid[j, :k] = True
        self.register_buffer("valid", valid, persistent=False)

    def fit(self, x: torch.Tensor) -> "NaiveBayes":
        """Counts of each category of each feature in ``x`` (N, F) of category indices."""
        counts = torch.zeros_like(self.counts)
        for j in range(x.shape[1]):
            counts[j] = torch.bincount(x[:, j], minlength=self.kmax).to(torch.float64)[: self.kmax]
        self.counts.copy_(counts)
        self.n_rows.fill_(float(x.shape[0]))
        return self

    def probs(self) -> torch.Tensor:
        """(F, Kmax) smoothed probabilities ``(n_jk + alpha) / (N + alpha K_j)`` (zero past each feature's K_j)."""
        a = self.config.alpha
        sizes = torch.tensor(self.config.sizes, dtype=torch.float64)
        p = (self.counts + a) / (self.n_rows + a * sizes)[:, None]
        return torch.where(self.valid, p, torch.zeros_like(p))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) per row, in nats (-inf for a category of zero probability, possible only with alpha = 0)."""
        logp = torch.log(self.probs())
        return logp.gather(1, x.T).sum(dim=0) if x.numel() else torch.zeros(0, dtype=torch.float64)

    def sample(self, n: int, *, seed: int = 0) -> torch.Tensor:
        """``n`` rows (n, F) of category indices, each feature drawn on its own."""
        g = torch.Generator().manual_seed(seed)
        return torch.multinomial(self.probs().float(), n, replacement=True, generator=g).T.contiguous()

    def pair_marginal(self, i: int, j: int) -> torch.Tensor:
        """The model's exact joint of features i and j: the outer product of their marginals."""
        p = self.probs()
        return torch.outer(p[i, : self.config.sizes[i]], p[j, : self.config.sizes[j]])

    def marginal(self, j: int) -> torch.Tensor:
        return self.probs()[j, : self.config.sizes[j]]


class AutoregressiveCategorical(_CategoricalModel):
    """``p(x_1) p(x_2 | x_1) ... p(x_F | x_<F)``: smoothed conditional count tables (from the joint counts)."""

    model_type = "categorical-ar"

    def __init__(self, config: NaiveBayesConfig) -> None:
        super().__init__(config)
        cells = math.prod(config.sizes) if config.sizes else 1
        if cells > MAX_JOINT:
            raise ConfigError(f"the autoregressive table model needs {cells:,} cells for these columns (more than "
                              f"{MAX_JOINT:,}); use --model naive, or fewer columns / categories")
        self.register_buffer("joint", torch.zeros(cells, dtype=torch.float64))

    def fit(self, x: torch.Tensor) -> "AutoregressiveCategorical":
        self.joint.copy_(torch.bincount(self._flat(x), minlength=self.joint.numel()).to(torch.float64))
        return self

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        flat = torch.zeros(x.shape[0], dtype=torch.long)
        for j, k in enumerate(self.config.sizes):
            flat = flat * k + x[:, j]
        return flat

    def conditionals(self) -> list[torch.Tensor]:
        """``[p(x_1), p(x_2 | x_1), ...]``; the j-th has shape (K_1, ..., K_j): smoothed ``(c(x_<j, x_j) + alpha) /
        (c(x_<j) + alpha K_j)`` (uniform for a context with no counts and alpha = 0)."""
        a = self.config.alpha
        sizes = self.config.sizes
        joint = self.joint.view(*sizes)
        out = []
        for j in range(len(sizes)):
            c = joint.sum(dim=tuple(range(j + 1, len(sizes)))) if j + 1 < len(sizes) else joint
            den = c.sum(dim=-1, keepdim=True) + a * sizes[j]
            # a context never seen (possible only with alpha = 0): uniform over x_j, so the model stays a distribution
            out.append(torch.where(den > 0, (c + a) / den.clamp_min(1e-300), torch.full_like(c, 1.0 / sizes[j])))
        return out

    def joint_probs(self) -> torch.Tensor:
        """The model's full joint distribution (K_1, ..., K_F)."""
        p = None
        for c in self.conditionals():
            p = c if p is None else p.unsqueeze(-1) * c
        return p

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        total = torch.zeros(x.shape[0], dtype=torch.float64)
        for j, c in enumerate(self.conditionals()):
            total += torch.log(c[tuple(x[:, i] for i in range(j + 1))])
        return total

    def sample(self, n: int, *, seed: int = 0) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        x = torch.empty(n, len(self.config.sizes), dtype=torch.long)
        for j, c in enumerate(self.conditionals()):
            rows = c[tuple(x[:, i] for i in range(j))] if j else c.expand(n, -1)
            x[:, j] = torch.multinomial(rows.float(), 1, generator=g).squeeze(1)
        return x

    def pair_marginal(self, i: int, j: int) -> torch.Tensor:
        p = self.joint_probs()
        keep = (i, j)
        m = p.sum(dim=tuple(d for d in range(p.dim()) if d not in keep))
        return m if i < j else m.T

    def marginal(self, j: int) -> torch.Tensor:
        p = self.joint_probs()
        return p.sum(dim=tuple(d for d in range(p.dim()) if d != j))


MODELS = {"naive": NaiveBayes, "autoregressive": AutoregressiveCategorical}
