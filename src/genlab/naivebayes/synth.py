"""A synthetic "Wrodl" population (Foster ch. 1) with a KNOWN joint distribution and planted dependencies.

Five categorical features, drawn from a small Bayesian network:

* ``hair_type``: bald / short / long / bun
* ``hair_colour`` given hair_type: ``none`` exactly when bald (the planted RULE: bald <=> no hair colour), else
  black / brown / blonde / red
* ``clothing_type``: tshirt / hoodie / dress / overalls
* ``clothing_colour`` given clothing_type: overalls are blue or grey only (a second dependency), others any colour
* ``accessories`` given hair_type: bald Wrodls wear hats far more often

Because the joint is known, every pairwise marginal is exact (:func:`true_pair_marginal`); naive Bayes recovers
each single marginal but replaces each pair by the product of its marginals, missing the planted dependencies by the
total-variation distance :func:`independence_gap`; it also breaks the rule in a computable share of samples
(:func:`rule_break_probability_independent`).
"""

from __future__ import annotations

import itertools

import torch

COLUMNS = ("accessories", "clothing_type", "clothing_colour", "hair_type", "hair_colour")
CATEGORIES = {
    "accessories": ("none", "earrings", "sunglasses", "hat"),
    "clothing_type": ("tshirt", "hoodie", "dress", "overalls"),
    "clothing_colour": ("red", "blue", "white", "grey"),
    "hair_type": ("bald", "short", "long", "bun"),
    "hair_colour": ("none", "black", "brown", "blonde", "red"),
}
P_HAIR_TYPE = (0.2, 0.35, 0.3, 0.15)
P_HAIR_COLOUR = {0: (1.0, 0, 0, 0, 0), 1: (0, 0.4, 0.35, 0.15, 0.1), 2: (0, 0.3, 0.3, 0.3, 0.1),
                 3: (0, 0.25, 0.25, 0.25, 0.25)}
P_CLOTHING_TYPE = (0.4, 0.25, 0.2, 0.15)
P_CLOTHING_COLOUR = {0: (0.3, 0.3, 0.25, 0.15), 1: (0.2, 0.3, 0.2, 0.3), 2: (0.4, 0.2, 0.3, 0.1),
                     3: (0.0, 0.8, 0.0, 0.2)}
P_ACCESSORIES = {0: (0.2, 0.1, 0.2, 0.5), 1: (0.4, 0.2, 0.3, 0.1), 2: (0.3, 0.4, 0.2, 0.1), 3: (0.3, 0.4, 0.2, 0.1)}


def joint() -> torch.Tensor:
    """The exact joint distribution, shape (4, 4, 4, 4, 5) in :data:`COLUMNS` order (sums to 1)."""
    p = torch.zeros(4, 4, 4, 4, 5, dtype=torch.float64)
    for a, ct, cc, ht, hc in itertools.product(range(4), range(4), range(4), range(4), range(5)):
        p[a, ct, cc, ht, hc] = (P_HAIR_TYPE[ht] * P_HAIR_COLOUR[ht][hc] * P_CLOTHING_TYPE[ct]
                                * P_CLOTHING_COLOUR[ct][cc] * P_ACCESSORIES[ht][a])
    return p


def sample(n: int, *, seed: int = 0) -> torch.Tensor:
    """``n`` rows (n, 5) of category indices drawn from :func:`joint` (seeded)."""
    p = joint().flatten()
    g = torch.Generator().manual_seed(seed)
    flat = torch.multinomial(p.float(), n, replacement=True, generator=g)
    out = torch.empty(n, len(COLUMNS), dtype=torch.long)
    for j, k in reversed(list(enumerate(joint().shape))):
        out[:, j] = flat % k
        flat = flat // k
    return out


def rows(x: torch.Tensor) -> list[list[str]]:
    return [[CATEGORIES[c][int(k)] for c, k in zip(COLUMNS, r, strict=True)] for r in x]


def true_pair_marginal(i: int, j: int) -> torch.Tensor:
    p = joint()
    m = p.sum(dim=tuple(d for d in range(p.dim()) if d not in (i, j)))
    return m if i < j else m.T


def true_marginal(j: int) -> torch.Tensor:
    p = joint()
    return p.sum(dim=tuple(d for d in range(p.dim()) if d != j))


def independence_gap() -> dict[str, float]:
    """TV distance between each true pairwise marginal and the product of its marginals: what a model with the
    true marginals but independent features misses, per pair (``"a|b"``)."""
    out = {}
    for i, j in itertools.combinations(range(len(COLUMNS)), 2):
        prod = torch.outer(true_marginal(i), true_marginal(j))
        out[f"{COLUMNS[i]}|{COLUMNS[j]}"] = float(0.5 * (true_pair_marginal(i, j) - prod).abs().sum())
    return out


def breaks_rule(x: torch.Tensor) -> torch.Tensor:
    """True where a row breaks the planted rule bald <=> hair_colour none (index rows in COLUMNS order)."""
    return (x[:, COLUMNS.index("hair_type")] == 0) != (x[:, COLUMNS.index("hair_colour")] == 0)


def rule_break_probability_independent() -> float:
    """P(rule broken) when hair_type and hair_colour are drawn independently from their true marginals."""
    pb = P_HAIR_TYPE[0]
    pn = float(true_marginal(COLUMNS.index("hair_colour"))[0])
    return pb * (1 - pn) + (1 - pb) * pn


def is_wrodl(columns) -> bool:
    return tuple(columns) == COLUMNS


def breaks_rule_rows(rows: list[list[str]]) -> torch.Tensor:
    """:func:`breaks_rule` on rows of strings in :data:`COLUMNS` order (any model's category order)."""
    ht, hc = COLUMNS.index("hair_type"), COLUMNS.index("hair_colour")
    return torch.tensor([(r[ht] == "bald") != (r[hc] == "none") for r in rows], dtype=torch.bool)
