"""Naive Bayes (independent Bernoulli pixels) on binarised MNIST beside genlab's VAE, and on the synthetic Wrodl
population beside the autoregressive table model.

    flock /tmp/genlab-bench.lock .venv/bin/python benchmarks/naive_bayes_mnist.py          # < 1 minute

MNIST: fitted on one seeded binarisation of the 60,000 training images; exact test NLL on the seeded binarisation
of the 10,000 test images that genlab's VAE is evaluated on (genlab.metrics.binarize_images, seed 0). The VAE's
86.6 nats is an IWAE k=500 bound on the first 1,000 of those images (README), so the naive-Bayes number on the same
first 1,000 is printed too. Wrodl: 5,000 training / 2,000 test rows of the known joint; NLL, pairwise TV against
the TRUE pairwise marginals, and the share of 20,000 samples breaking the planted rule.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from common import write_results  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(REPO / "runs" / "bench" / "naive_bayes"))
    p.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "naive_bayes_mnist.json"))
    args = p.parse_args()
    import itertools

    from genlab.naivebayes import api, synth
    from genlab.naivebayes.models import AutoregressiveCategorical, NaiveBayes, NaiveBayesConfig

    t0 = time.time()
    mn = api.mnist(out=Path(args.out) / "mnist")
    print(f"MNIST naive Bayes: test NLL {mn['test_nll_nats']:.2f} nats/image (exact, 10,000 images), "
          f"{mn['test_nll_nats_first_1000']:.2f} on the first 1,000; genlab VAE {api.VAE_REFERENCE['nll']} "
          f"(IWAE k=500, first 1,000)")
    x, xt = synth.sample(5000, seed=0), synth.sample(2000, seed=1)
    cfg = NaiveBayesConfig(columns=synth.COLUMNS, categories={c: list(v) for c, v in synth.CATEGORIES.items()},
                           alpha=0.01)
    rows = {}
    for name, cls in (("naive Bayes", NaiveBayes), ("autoregressive tables", AutoregressiveCategorical)):
        m = cls(cfg).fit(x)
        tv = {f"{synth.COLUMNS[i]}|{synth.COLUMNS[j]}":
              float(0.5 * (m.pair_marginal(i, j) - synth.true_pair_marginal(i, j)).abs().sum())
              for i, j in itertools.combinations(range(5), 2)}
        rows[name] = {"test_nll_nats": float(-m.log_prob(xt).mean()), "pairwise_tv_max_vs_truth": max(tv.values()),
                      "pairwise_tv_mean_vs_truth": sum(tv.values()) / len(tv),
                      "rule_breaking": float(synth.breaks_rule(m.sample(20000, seed=2)).float().mean())}
    j = synth.joint()
    entropy = float(-(j[j > 0] * j[j > 0].log()).sum())
    print(f"\nWrodl (5,000 train / 2,000 test rows, alpha 0.01); true entropy {entropy:.3f} nats")
    print(f"{'':<24} test NLL  TV max  TV mean  rule broken")
    for name, r in rows.items():
        print(f"{name:<24} {r['test_nll_nats']:8.3f}  {r['pairwise_tv_max_vs_truth']:6.3f}  "
              f"{r['pairwise_tv_mean_vs_truth']:7.3f}  {100 * r['rule_breaking']:9.2f} %")
    print(f"independence predicts: TV {max(synth.independence_gap().values()):.3f} on hair_type|hair_colour, "
          f"rule broken {100 * synth.rule_break_probability_independent():.2f} %")
    write_results(args.results, {"benchmark": "naive_bayes_mnist", "mnist": mn, "wrodl": rows,
                                 "wrodl_true_entropy_nats": entropy,
                                 "independence_gap_tv": synth.independence_gap(),
                                 "rule_break_if_independent": synth.rule_break_probability_independent(),
                                 "seconds": time.time() - t0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
