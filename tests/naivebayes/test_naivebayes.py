"""Naive Bayes: counts, smoothing and exact NLL on a toy table; the planted-dependency check; every bad input."""

import math

import pytest
import torch

from helpers import assert_one_line_error

from genlab.naivebayes import synth
from genlab.naivebayes.api import fit, pairwise_tv
from genlab.naivebayes.models import AutoregressiveCategorical, NaiveBayes, NaiveBayesConfig

TOY = "hair,colour\nlong,red\nlong,blue\nshort,red\nlong,red\n"


def _toy(tmp_path, text=TOY, name="toy.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_counts_smoothing_and_exact_nll_by_hand(tmp_path, cli):
    code, out, err = cli("naive-bayes", "fit", _toy(tmp_path), "--out", tmp_path / "run", "--alpha", "1")
    assert code == 0, err
    from genlab.core.model import load

    m = load(tmp_path / "run")
    # hair: long 3, short 1 of 4 -> (3+1)/(4+2) = 2/3, (1+1)/6 = 1/3; colour (sorted blue, red): 1, 3 -> 1/3, 2/3
    assert torch.allclose(m.probs().float(), torch.tensor([[2 / 3, 1 / 3], [1 / 3, 2 / 3]]))
    test = _toy(tmp_path, "hair,colour\nshort,blue\nlong,red\n", "test.csv")
    code, out, err = cli("naive-bayes", "evaluate", tmp_path / "run", "--data", test)
    assert code == 0, err
    expected = -(math.log(1 / 3 * 1 / 3) + math.log(2 / 3 * 2 / 3)) / 2
    assert f"NLL {expected:.4f} nats per row" in out
    m0 = NaiveBayes(NaiveBayesConfig(columns=m.columns, categories=m.config.categories, alpha=0.0))
    m0.fit(m.encode_rows([["long", "red"], ["long", "blue"], ["short", "red"], ["long", "red"]]))
    assert torch.allclose(m0.probs().float(), torch.tensor([[0.75, 0.25], [0.25, 0.75]]))  # raw counts


def test_sample_draws_each_feature_from_its_marginal(tmp_path, cli):
    fit(_toy(tmp_path), out=tmp_path / "run", alpha=0.0)
    code, out, err = cli("naive-bayes", "sample", tmp_path / "run", "--n", "4000", "--output", tmp_path / "s.csv")
    assert code == 0, err
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "hair,colour" and len(lines) == 4001
    share_long = sum(line.startswith("long,") for line in lines[1:]) / 4000
    assert abs(share_long - 0.75) < 0.03


def test_planted_dependencies_naive_bayes_misses_them_autoregressive_closes_the_gap():
    x = synth.sample(40000, seed=3)
    cfg = NaiveBayesConfig(columns=synth.COLUMNS, categories={c: list(v) for c, v in synth.CATEGORIES.items()},
                           alpha=0.0)
    nb = NaiveBayes(cfg).fit(x)
    # the marginals are recovered exactly: they ARE the empirical shares
    for j in range(len(synth.COLUMNS)):
        emp = torch.bincount(x[:, j], minlength=cfg.sizes[j]).double() / len(x)
        assert torch.allclose(nb.marginal(j), emp)
    # against the TRUE pairwise marginals, naive Bayes misses each pair by the known independence gap
    gap = synth.independence_gap()
    for (i, j), key in zip([(3, 4), (1, 2), (0, 3)], ["hair_type|hair_colour", "clothing_type|clothing_colour",
                                                      "accessories|hair_type"]):
        tv = float(0.5 * (nb.pair_marginal(i, j) - synth.true_pair_marginal(i, j)).abs().sum())
        assert abs(tv - gap[key]) < 0.02, (key, tv, gap[key])
    assert gap["hair_type|hair_colour"] > 0.3 and gap["accessories|clothing_type"] < 1e-12
    ar = AutoregressiveCategorical(cfg).fit(x)
    for i, j in [(3, 4), (1, 2), (0, 3)]:
        tv = float(0.5 * (ar.pair_marginal(i, j) - synth.true_pair_marginal(i, j)).abs().sum())
        assert tv < 0.02
    # the planted rule: naive Bayes breaks it as often as independence predicts, the table model never
    nb_break = float(synth.breaks_rule(nb.sample(20000, seed=1)).float().mean())
    assert abs(nb_break - synth.rule_break_probability_independent()) < 0.02
    assert float(synth.breaks_rule(ar.sample(20000, seed=1)).float().mean()) == 0.0
    assert float(synth.breaks_rule(x).float().mean()) == 0.0
    assert float(-ar.log_prob(x).mean()) < float(-nb.log_prob(x).mean()) - 0.3
    assert max(pairwise_tv(ar, x).values()) < max(pairwise_tv(nb, x).values())


def test_synth_fit_evaluate_cli_reports_rule_breaking(tmp_path, cli):
    code, out, err = cli("naive-bayes", "synth", "--out", tmp_path / "w", "--n", "3000", "--n-test", "500")
    assert code == 0, err
    for model in ("naive", "autoregressive"):
        code, out, err = cli("naive-bayes", "fit", tmp_path / "w" / "train.csv", "--out", tmp_path / model,
                             "--model", model, "--alpha", "0.01")
        assert code == 0, err
        code, out, err = cli("naive-bayes", "evaluate", tmp_path / model, "--data", tmp_path / "w" / "test.csv",
                             "--samples", "4000")
        assert code == 0, err
        share = float(out.split("broken by ")[1].split(" %")[0])
        assert (share > 25) if model == "naive" else (share < 1.5), out


def test_numeric_columns_refused_or_binned(tmp_path, cli):
    p = _toy(tmp_path, "age,colour\n" + "".join(f"{i},{'red' if i % 2 else 'blue'}\n" for i in range(20)))
    code, out, err = cli("naive-bayes", "fit", p, "--out", tmp_path / "r1")
    assert_one_line_error(code, err, "'age'", "--bins N")
    code, out, err = cli("naive-bayes", "fit", p, "--out", tmp_path / "r2", "--bins", "4")
    assert code == 0 and "age 4" in out, err
    code, out, err = cli("naive-bayes", "evaluate", tmp_path / "r2", "--data", p)
    assert code == 0, err


@pytest.mark.parametrize("text,needle", [
    ("only\na\nb\n", "one column"),
    ("a,b\n", "no rows"),
    ("a,b\nx,\ny,z\n", "missing a value"),
    ("", "empty"),
    ("a,b\nx,y,z\n", "3 values"),
])
def test_bad_csv_is_one_line(tmp_path, cli, text, needle):
    code, out, err = cli("naive-bayes", "fit", _toy(tmp_path, text), "--out", tmp_path / "run")
    assert_one_line_error(code, err, needle)


def test_bad_evaluation_inputs_are_one_line(tmp_path, cli):
    fit(_toy(tmp_path), out=tmp_path / "run")
    unseen = _toy(tmp_path, "hair,colour\nbald,red\n", "u.csv")
    code, out, err = cli("naive-bayes", "evaluate", tmp_path / "run", "--data", unseen)
    assert_one_line_error(code, err, "'bald'", "not in the fitted data")
    other = _toy(tmp_path, "colour,hair\nred,long\n", "o.csv")
    code, out, err = cli("naive-bayes", "evaluate", tmp_path / "run", "--data", other)
    assert_one_line_error(code, err, "same columns")
    code, out, err = cli("naive-bayes", "sample", tmp_path / "run", "--n", "0")
    assert_one_line_error(code, err, "--n")
    code, out, err = cli("naive-bayes", "fit", tmp_path / "nope.csv", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "does not exist")
    code, out, err = cli("naive-bayes", "fit", _toy(tmp_path), "--out", tmp_path / "r", "--alpha", "-1")
    assert_one_line_error(code, err, "--alpha")


def test_mnist_bernoulli_pixels(tmp_path, cli, tiny_mnist):
    code, out, err = cli("naive-bayes", "mnist", "--data-dir", tiny_mnist, "--out", tmp_path / "m")
    assert code == 0, err
    import json

    r = json.loads((tmp_path / "m" / "eval.json").read_text())
    assert (tmp_path / "m" / "samples.png").exists() and r["test_images"] == 128
    # 784 independent pixels: between 0 and 784 * log 2 nats, and the blobs make most pixels predictable
    assert 10 < r["test_nll_nats"] < 784 * math.log(2)
    assert "86.6" in out and "IWAE" in out
