"""CMA-ES (Hansen & Ostermeier 2001; Hansen 2016, "The CMA Evolution Strategy: A Tutorial") through the ``cma``
package, with a state that is saved as plain arrays and rebuilt exactly.

    >>> es = CMAES(num_params=867, popsize=64, sigma0=0.1, seed=0)
    >>> for g in range(100):
    ...     X = es.ask()                       # (P, n) candidates
    ...     es.tell(scores(X))                 # higher is better (cma minimises -score)
    >>> state = es.state()                     # {"scores": (G, P), "mean": (n,), "sigma": (1,), ...}: arrays only
    >>> es2 = CMAES.from_state(state, num_params=867, popsize=64, sigma0=0.1, seed=0)   # same mean, C, sigma, RNG

Why replay: ``cma``'s state is a large object graph (and pickling it is what checkpoints must never do, since
unpickling executes code). The search is a deterministic function of (options, seed, the scores told), because every
``ask`` draws its normals from a RandomState re-seeded with (seed, generation). So the state saved is the score matrix
of every generation; loading replays the asks and tells (about 50 ms a generation at n = 867) and checks the final mean
and sigma against the saved ones bit for bit.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import CheckpointError, ConfigError
from ..core.extras import require


class CMAES:
    def __init__(self, num_params: int, *, popsize: int, sigma0: float = 0.1, seed: int = 0,
                 x0: np.ndarray | None = None, diagonal: bool = False) -> None:
        if isinstance(popsize, bool) or not isinstance(popsize, int) or popsize < 2:
            raise ConfigError(f"--population must be >= 2 (got {popsize}): CMA-ES needs several candidates")
        if not sigma0 > 0:
            raise ConfigError(f"--sigma must be > 0 (got {sigma0})")
        cma = require("cma", extra="worldmodels", what="CMA-ES")
        self.num_params, self.popsize, self.sigma0, self.seed, self.diagonal = num_params, popsize, sigma0, seed, diagonal
        self.x0 = np.zeros(num_params) if x0 is None else np.asarray(x0, dtype=np.float64).reshape(-1)
        if self.x0.size != num_params:
            raise ConfigError(f"the initial point has {self.x0.size} values, the search has {num_params} parameters")
        self._rng = np.random.RandomState(seed % 2**32)
        opts = {"popsize": popsize, "seed": seed % 2**32 + 1, "verbose": -9, "randn": self._randn,
                "CMA_diagonal": bool(diagonal), "tolfun": 0, "tolflatfitness": 10**9, "tolx": 0,
                "tolstagnation": 10**9, "maxiter": 10**9}
        self.es = cma.CMAEvolutionStrategy(self.x0, sigma0, opts)
        self.scores: list[np.ndarray] = []
        self._asked: np.ndarray | None = None
        self.last_population: np.ndarray | None = None

    def _randn(self, *shape: int) -> np.ndarray:
        return self._rng.standard_normal(shape)

    @property
    def generation(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(self.es.mean, dtype=np.float64)

    @property
    def sigma(self) -> float:
        return float(self.es.sigma)

    def ask(self) -> np.ndarray:
        """The generation's candidates (P, n); the same seed and history give the same candidates."""
        self._rng.seed((self.seed * 1_000_003 + self.generation) % 2**32)
        self._asked = np.asarray(self.es.ask(), dtype=np.float64)
        self.last_population = self._asked
        return self._asked

    def tell(self, scores) -> None:
        """Scores of the asked candidates (higher is better)."""
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if self._asked is None or scores.size != len(self._asked):
            raise ValueError("tell() needs one score per candidate of the last ask()")
        if not np.all(np.isfinite(scores)):
            raise ConfigError("a candidate's score is not finite; the search cannot rank it")
        self.es.tell(list(self._asked), list(-scores))
        self.scores.append(scores)
        self._asked = None

    def state(self) -> dict[str, np.ndarray]:
        """Arrays that rebuild this search exactly (with the same constructor arguments)."""
        scores = np.stack(self.scores) if self.scores else np.zeros((0, self.popsize))
        return {"scores": scores, "mean": self.mean, "sigma": np.array([self.sigma]), "x0": self.x0,
                "C": np.asarray(self.es.sm.C if hasattr(self.es.sm, "C") else np.zeros(0), dtype=np.float64)}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], *, num_params: int, popsize: int, sigma0: float, seed: int,
                   diagonal: bool = False) -> "CMAES":
        """Replay the saved scores; refuses (one line) a state that does not reproduce its saved mean and sigma."""
        scores = np.asarray(state["scores"], dtype=np.float64)
        if scores.ndim != 2 or (len(scores) and scores.shape[1] != popsize):
            raise CheckpointError(f"the saved CMA-ES scores are shaped {scores.shape}, not (generations, {popsize})")
        es = cls(num_params, popsize=popsize, sigma0=sigma0, seed=seed, x0=state.get("x0"), diagonal=diagonal)
        for row in scores:
            es.ask()
            es.tell(row)
        if len(scores) and not (np.array_equal(es.mean, np.asarray(state["mean"], dtype=np.float64))
                                and es.sigma == float(np.asarray(state["sigma"]).reshape(-1)[0])):
            raise CheckpointError("the saved CMA-ES state does not replay to its saved mean/sigma (another cma "
                                  "version?); start a new search")
        return es


__all__ = ["CMAES"]
