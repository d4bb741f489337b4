"""Fréchet distance (FID) and kernel inception distance (KID) between two sets of feature vectors.

The features come from any fixed network; genlab uses a small classifier trained on the same dataset
(:mod:`genlab.features.domain`) because Inception weights are not available everywhere. Numbers computed on those
features are comparable between runs that use the same classifier, not with published Inception FIDs.

    >>> fid(real_features, fake_features)               # 0 for identical distributions
    >>> kid(real_features, fake_features, generator=g)  # (mean, std) over random subsets

Everything is computed in float64 (covariances of a few hundred dimensions lose digits in float32).
"""

from __future__ import annotations

import torch

from ..core.errors import ConfigError


def _check_features(features: torch.Tensor, what: str = "features") -> torch.Tensor:
    if not isinstance(features, torch.Tensor) or features.ndim != 2:
        got = tuple(features.shape) if isinstance(features, torch.Tensor) else type(features).__name__
        raise ConfigError(f"{what} must be a 2-D tensor (N samples, D features), got {got}")
    if features.shape[0] < 2:
        raise ConfigError(f"{what} needs at least 2 samples to estimate statistics (got {features.shape[0]})")
    features = features.detach().to(device="cpu", dtype=torch.float64)
    if not bool(torch.isfinite(features).all()):
        raise ConfigError(f"{what} contain NaN or Inf values")
    return features


def feature_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` (divided by N - 1) of ``(N, D)`` features, in float64."""
    x = _check_features(features)
    mu = x.mean(dim=0)
    centred = x - mu
    sigma = centred.T @ centred / (x.shape[0] - 1)
    return mu, sigma


def _psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix (eigenvalues clamped at 0 against round-off)."""
    vals, vecs = torch.linalg.eigh(matrix)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


def trace_sqrt_product(sigma1: torch.Tensor, sigma2: torch.Tensor) -> float:
    """Tr((S1 S2)^{1/2}) for covariance matrices S1, S2, in float64.

    S1 S2 is not symmetric, but it has the same eigenvalues as the symmetric PSD matrix M = S1^{1/2} S2 S1^{1/2}
    (eigenvalues of AB equal those of BA, with A = S1^{1/2}, B = S1^{1/2} S2), so the trace is the sum of the square
    roots of M's eigenvalues. ``torch.linalg.eigh`` on M returns real eigenvalues from a backward-stable symmetric
    solver, whereas a general ``eig`` of S1 S2 returns complex values with spurious imaginary parts and loses accuracy
    when the covariances are (near-)singular, which features after a ReLU often are (dead units, N < D). Tiny negative
    eigenvalues from round-off are clamped at 0. (The reference FID code uses scipy's ``sqrtm``; this form agrees with it to
    about 1e-7 relative and stays stable for singular covariances, without calling scipy.)
    """
    s1 = sigma1.to(torch.float64)
    s2 = sigma2.to(torch.float64)
    root1 = _psd_sqrt(0.5 * (s1 + s1.T))
    m = root1 @ s2 @ root1
    vals = torch.linalg.eigvalsh(0.5 * (m + m.T))
    return float(vals.clamp(min=0).sqrt().sum())


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor) -> float:
    """Fréchet distance between N(mu1, S1) and N(mu2, S2): ||mu1 - mu2||² + Tr(S1 + S2 - 2 (S1 S2)^{1/2}).

    The squared 2-Wasserstein distance between the two Gaussians, used as FID by Heusel et al. 2017, "GANs Trained
    by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium". The matrix square root's trace comes from
    :func:`trace_sqrt_product` (symmetric form, see there). The true value is >= 0; round-off below 0 returns 0.
    """
    mu1, mu2 = mu1.to(torch.float64).cpu(), mu2.to(torch.float64).cpu()
    sigma1, sigma2 = sigma1.to(torch.float64).cpu(), sigma2.to(torch.float64).cpu()
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ConfigError(f"frechet_distance needs two means of shape (D,) and covariances (D, D); got "
                          f"{tuple(mu1.shape)}, {tuple(sigma1.shape)}, {tuple(mu2.shape)}, {tuple(sigma2.shape)}")
    diff = mu1 - mu2
    value = float(diff @ diff) + float(torch.trace(sigma1) + torch.trace(sigma2)) \
        - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return max(value, 0.0)


def fid(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two sets of features (Heusel et al. 2017)."""
    a, b = _check_features(features_a, "features_a"), _check_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ConfigError(f"the two feature sets differ in dimension ({a.shape[1]} vs {b.shape[1]})")
    return frechet_distance(*feature_statistics(a), *feature_statistics(b))


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """k(x, y) = (x·y / d + 1)^3, the KID kernel (Bińkowski et al. 2018); all pairs, ``(N, M)``."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD² estimate with the cubic polynomial kernel (Bińkowski et al. 2018, "Demystifying MMD GANs").

    mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(x_i, y_j). It can be negative when the
    two samples come from the same distribution.
    """
    m, n = x.shape[0], y.shape[0]
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    xx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    yy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return float(xx + yy - 2.0 * kxy.mean())


def kid(features_a: torch.Tensor, features_b: torch.Tensor, *, num_subsets: int = 100, subset_size: int = 1000,
        generator: torch.Generator | None = None) -> tuple[float, float]:
    """Kernel inception distance: mean and std of the unbiased MMD² over ``num_subsets`` random subsets.

    Bińkowski et al. 2018, "Demystifying MMD GANs": each subset draws ``subset_size`` rows from each set without
    replacement (clipped to the smaller set's size); the kernel is (x·y / d + 1)^3. The std is the spread over
    subsets (population std, as torch-fidelity and clean-fid report it), 0 for one subset. ``generator`` makes the
    subsets reproducible; without one the global torch RNG draws them.
    """
    a, b = _check_features(features_a, "features_a"), _check_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ConfigError(f"the two feature sets differ in dimension ({a.shape[1]} vs {b.shape[1]})")
    if isinstance(num_subsets, bool) or not isinstance(num_subsets, int) or num_subsets < 1:
        raise ConfigError(f"KID num_subsets must be a whole number >= 1 (got {num_subsets})")
    if isinstance(subset_size, bool) or not isinstance(subset_size, int) or subset_size < 2:
        raise ConfigError(f"KID subset_size must be a whole number >= 2 (got {subset_size})")
    m = min(subset_size, a.shape[0], b.shape[0])
    values = []
    for _ in range(num_subsets):
        ia = torch.randperm(a.shape[0], generator=generator)[:m]
        ib = torch.randperm(b.shape[0], generator=generator)[:m]
        values.append(mmd2_unbiased(a[ia], b[ib]))
    t = torch.tensor(values, dtype=torch.float64)
    return float(t.mean()), float(t.std(correction=0))
