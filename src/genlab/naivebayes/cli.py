"""``genlab naive-bayes fit | sample | evaluate | synth | mnist``: the generative model of Foster's chapter 1."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core import clikit


def _api():
    from . import api
    return api


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    sub = clikit.family_parser(subparsers, "naive-bayes", help="the naive-Bayes generator of categorical data "
                                                               "(Foster ch. 1)")
    f = sub.add_parser("fit", help="fit on a CSV of categorical columns (counts + additive smoothing)")
    f.add_argument("data", metavar="DATA.csv", help="a CSV with a header line; each column a categorical feature")
    f.add_argument("--out", required=True, metavar="DIR", help="run folder for the fitted model")
    f.add_argument("--alpha", type=float, default=1.0, help="additive smoothing (1 = Laplace, 0 = counts) "
                                                            "(default: 1.0)")
    f.add_argument("--model", choices=("naive", "autoregressive"), default="naive",
                   help="naive: independent features; autoregressive: p(x1) p(x2|x1) ... from count tables "
                        "(default: naive)")
    f.add_argument("--bins", type=int, help="bin numeric columns into N equal-count bins (else they are refused)")
    f.add_argument("--as-categories", action="store_true", help="treat numbers as category labels")
    f.set_defaults(func=_fit)

    s = sub.add_parser("sample", help="draw rows from a fitted model")
    clikit.add_run_argument(s)
    s.add_argument("--n", type=int, default=10, help="rows to draw (default: 10)")
    s.add_argument("--seed", type=int, default=0)
    clikit.add_output_arguments(s, default="RUN_DIR", what="samples.csv")
    s.set_defaults(func=_sample)

    e = sub.add_parser("evaluate", help="held-out NLL (nats per row), pairwise TV, planted-rule breaking")
    clikit.add_run_argument(e)
    e.add_argument("--data", required=True, metavar="DATA.csv", help="held-out CSV with the same columns")
    e.add_argument("--samples", type=int, default=10000, help="model draws for the rule-breaking share")
    clikit.add_output_arguments(e, default="RUN_DIR", what="eval.json")
    e.set_defaults(func=_evaluate)

    y = sub.add_parser("synth", help="write the synthetic Wrodl population (known joint, planted dependencies)")
    y.add_argument("--out", required=True, metavar="DIR", help="folder for train.csv, test.csv, truth.json")
    y.add_argument("--n", type=int, default=5000, help="training rows (default: 5000)")
    y.add_argument("--n-test", type=int, default=2000, help="test rows (default: 2000)")
    y.add_argument("--seed", type=int, default=0)
    y.set_defaults(func=_synth)

    m = sub.add_parser("mnist", help="one Bernoulli per pixel on binarised MNIST: sample grid and test NLL")
    m.add_argument("--out", required=True, metavar="DIR", help="folder for the model, samples.png and eval.json")
    m.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST IDX files (default: found / "
                                                     "downloaded as for genlab vae)")
    m.add_argument("--dataset", choices=("mnist", "fashion-mnist"), default="mnist")
    m.add_argument("--alpha", type=float, default=1.0, help="additive smoothing (default: 1.0)")
    m.add_argument("--seed", type=int, default=0, help="binarisation seed (default: 0, as the VAE's evaluation)")
    m.set_defaults(func=_mnist)


def _fit(args) -> int:
    r = _api().fit(args.data, out=args.out, alpha=args.alpha, model=args.model, bins=args.bins,
                   as_categories=args.as_categories)
    cats = ", ".join(f"{c} {k}" for c, k in r["categories"].items())
    clikit.say(f"fitted {r['model']} (alpha {r['alpha']:g}) on {r['rows']} rows of {args.data}: {cats} categories; "
               f"{r['parameters']} free parameters",
               f"training NLL {r['train_nll_nats_per_row']:.4f} nats per row")
    clikit.print_written(args.out, "model")
    return 0


def _sample(args) -> int:
    path = clikit.resolve_output(args, default_dir=Path(args.run), filename="samples.csv", suffixes=(".csv",))
    rows = _api().sample(args.run, args.n, seed=args.seed, output=path)
    from genlab.core.model import load
    cols = load(args.run).columns
    clikit.say(",".join(cols), *[",".join(r) for r in rows[:20]])
    if len(rows) > 20:
        clikit.say(f"... {len(rows) - 20} more rows")
    clikit.print_written(path, "samples")
    return 0


def _evaluate(args) -> int:
    path = clikit.resolve_output(args, default_dir=Path(args.run), filename="eval.json", suffixes=(".json",))
    r = _api().evaluate(args.run, data=args.data, output=path, samples=args.samples)
    clikit.say(f"{r['data']} ({r['rows']} rows): NLL {r['nll_nats_per_row']:.4f} nats per row (exact, {r['model']})",
               f"pairwise-marginal TV vs the data: max {r['pairwise_tv_max']:.4f}, mean {r['pairwise_tv_mean']:.4f} "
               f"over {len(r['pairwise_tv'])} pairs")
    if "rule_breaking" in r:
        clikit.say(f"planted rule (bald <=> no hair colour) broken by {100 * r['rule_breaking']:.2f} % of "
                   f"{args.samples} samples (data: {100 * r['rule_breaking_data']:.2f} %)")
    clikit.print_written(path, "evaluation")
    return 0


def _synth(args) -> int:
    r = _api().make_synthetic(args.out, n_train=args.n, n_test=args.n_test, seed=args.seed)
    gap = r["truth"]["independence_gap_tv"]
    worst = max(gap, key=gap.get)
    clikit.say(f"synthetic Wrodl population: {args.n} training and {args.n_test} test rows; planted rule "
               f"{r['truth']['rule']}",
               f"an independent-feature model with the true marginals misses {worst} by TV {gap[worst]:.4f} and "
               f"breaks the rule with probability {r['truth']['rule_break_probability_if_independent']:.4f}")
    clikit.print_written(r["train"], "train")
    clikit.print_written(r["test"], "test")
    return 0


def _mnist(args) -> int:
    r = _api().mnist(out=args.out, data_dir=args.data_dir, alpha=args.alpha, seed=args.seed, dataset=args.dataset)
    ref = r["vae_reference"]
    clikit.say(f"naive Bayes (independent Bernoulli pixels) on binarised {r['dataset']}: test NLL "
               f"{r['test_nll_nats']:.2f} nats/image (exact, all {r['test_images']} test images; "
               f"{r['test_nll_nats_first_1000']:.2f} on the first 1,000)",
               f"beside genlab's VAE: {ref['nll']:.1f} nats ({ref['protocol']})")
    clikit.print_written(r["samples"], "samples")
    clikit.print_written(Path(args.out) / "eval.json", "evaluation")
    return 0
