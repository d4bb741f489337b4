"""The naive-Bayes generator (Foster, *Generative Deep Learning*, ch. 1): categorical features assumed independent,
fitted by counts with additive smoothing, sampled feature by feature; on binarised MNIST one Bernoulli per pixel.
A tiny autoregressive categorical model and a synthetic population with planted dependencies measure what the
independence assumption costs.

    >>> from genlab import naivebayes as nb
    >>> nb.make_synthetic("data/wrodl")                       # train.csv, test.csv, truth.json
    >>> nb.fit("data/wrodl/train.csv", out="runs/nb/wrodl")
    >>> nb.evaluate("runs/nb/wrodl", data="data/wrodl/test.csv")["rule_breaking"]
"""

from . import synth
from .api import evaluate, fit, make_synthetic, mnist, pairwise_tv, sample
from .models import AutoregressiveCategorical, NaiveBayes, NaiveBayesConfig

__all__ = ["AutoregressiveCategorical", "NaiveBayes", "NaiveBayesConfig", "evaluate", "fit", "make_synthetic",
           "mnist", "pairwise_tv", "sample", "synth"]
