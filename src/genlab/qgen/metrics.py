"""BLEU-1..4, METEOR and ROUGE-L the way the question-generation literature computes them.

Du, Shao & Cardie 2017 (and most later work) score with the coco-caption code (``pycocoevalcap``): BLEU with the
closest reference length, METEOR 1.5 (a Java jar: ``-l en -norm``) and ROUGE-L (LCS F-measure, beta 1.2), each x100.
Questions are grouped by their sentence: every distinct sentence gets ONE generated question, scored against ALL
the reference questions of that sentence (their ``qgevalcap/eval.py``). :func:`score` does exactly that.

When Java is missing, METEOR cannot run: then BLEU comes from ``sacrebleu`` (no re-tokenisation, multi-reference)
and ROUGE-L from ``rouge-score`` (best F1 over the references), METEOR is left out, and the result says so in its
``implementation`` and ``note`` fields. Those fallback numbers are not the literature's protocol (coco-caption BLEU
and sacrebleu differ in smoothing and length details; ROUGE-L beta 1 vs 1.2): they are labelled, never mixed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from typing import Any

from ..core.errors import ConfigError
from ..core.extras import require

COCO = {"bleu": "coco-caption BLEU (pycocoevalcap, closest reference length)",
        "meteor": "METEOR 1.5 (pycocoevalcap's jar, -l en -norm, Java)",
        "rouge_l": "coco-caption ROUGE-L (LCS F-measure, beta 1.2)"}
FALLBACK = {"bleu": "sacrebleu corpus BLEU (tokenize=none; fallback, not coco-caption)",
            "meteor": "not computed: Java is missing (METEOR 1.5 needs `java` on PATH)",
            "rouge_l": "rouge-score ROUGE-L F1, best over references (fallback, not coco-caption)"}


def java_available() -> bool:
    return shutil.which("java") is not None


def group_by_sentence(sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]
                      ) -> tuple[list[str], list[list[str]], list[str]]:
    """One hypothesis per distinct sentence (its first) with all of that sentence's references."""
    if not (len(sources) == len(hypotheses) == len(references)):
        raise ConfigError(f"{len(sources)} sentences, {len(hypotheses)} generated and {len(references)} reference "
                          f"questions: they must be as many")
    order: dict[str, int] = {}
    hyps: list[str] = []
    refs: list[list[str]] = []
    for s, h, r in zip(sources, hypotheses, references, strict=True):
        if s not in order:
            order[s] = len(hyps)
            hyps.append(h)
            refs.append([])
        refs[order[s]].append(r)
    return hyps, refs, list(order)


def score_many(systems: dict[str, Sequence[str]], references: Sequence[Sequence[str]], *,
               meteor: bool = True) -> dict[str, dict[str, Any]]:
    """:func:`score` of several systems against the same references, with one METEOR (Java) process for all."""
    if not (meteor and java_available()):
        return {name: score(h, references, meteor=meteor) for name, h in systems.items()}
    require("pycocoevalcap", extra="qgen", what="METEOR 1.5")
    from pycocoevalcap.meteor.meteor import Meteor

    m = Meteor()
    try:
        return {name: score(h, references, meteor=meteor, _meteor=m) for name, h in systems.items()}
    finally:
        del m


def score(hypotheses: Sequence[str], references: Sequence[Sequence[str]], *, meteor: bool = True,
          _meteor: Any = None) -> dict[str, Any]:
    """BLEU-1..4, METEOR and ROUGE-L (x100) of ``hypotheses[i]`` against the list ``references[i]``.

    Text is compared as given (lower-cased, space-separated tokens). Uses coco-caption's code with Java; without Java
    the labelled fallback described in the module docstring; ``meteor=False`` skips METEOR (coco-caption BLEU and
    ROUGE-L, no Java started)."""
    if len(hypotheses) != len(references):
        raise ConfigError(f"{len(hypotheses)} hypotheses but {len(references)} reference lists")
    if not hypotheses:
        raise ConfigError("nothing to score: no questions")
    hyps = [h if h.strip() else "<empty>" for h in hypotheses]  # coco's scorers need a token
    refs = [[r for r in rs] for rs in references]
    out: dict[str, Any] = {"items": len(hyps), "references": sum(len(r) for r in refs)}
    if meteor and java_available():
        out.update(_coco(hyps, refs, _meteor))
        out["implementation"] = dict(COCO)
        out["protocol"] = "coco-caption"
        return out
    if not meteor:  # asked to skip METEOR: coco-caption BLEU / ROUGE-L need no Java
        out.update(coco_bleu_rouge(hyps, refs))
        out["meteor"] = None
        out["implementation"] = {**COCO, "meteor": "not computed (--no-meteor)"}
        out["protocol"] = "coco-caption (METEOR skipped)"
        return out
    out.update(_fallback(hyps, refs))
    out["implementation"] = dict(FALLBACK)
    if meteor:
        out["note"] = ("Java is missing, so METEOR 1.5 was not computed; BLEU and ROUGE-L come from sacrebleu / "
                       "rouge-score (fallback, not the coco-caption protocol: do not compare them with published "
                       "numbers); install Java (e.g. apt-get install default-jre) for the literature's metrics")
    out["protocol"] = "fallback (sacrebleu + rouge-score)"
    return out


def coco_bleu_rouge(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> dict[str, float]:
    """coco-caption BLEU-1..4 and ROUGE-L (x100), no Java needed."""
    require("pycocoevalcap", extra="qgen", what="coco-caption BLEU / ROUGE-L")
    import contextlib
    import io

    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.rouge.rouge import Rouge

    gts = {i: list(r) for i, r in enumerate(refs)}
    res = {i: [h] for i, h in enumerate(hyps)}
    with contextlib.redirect_stdout(io.StringIO()):  # the coco scorers print their statistics
        bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
        rouge, _ = Rouge().compute_score(gts, res)
    return {"bleu_1": 100 * bleu[0], "bleu_2": 100 * bleu[1], "bleu_3": 100 * bleu[2], "bleu_4": 100 * bleu[3],
            "rouge_l": 100 * float(rouge)}


def coco_meteor(hyps: Sequence[str], refs: Sequence[Sequence[str]], *, per_item: bool = False,
                instance: Any = None):
    """METEOR 1.5 (x100) through pycocoevalcap's jar (starts ``java``, unless given a running ``instance``); with
    ``per_item`` also each item's score."""
    require("pycocoevalcap", extra="qgen", what="METEOR 1.5")
    from pycocoevalcap.meteor.meteor import Meteor

    gts = {i: list(r) for i, r in enumerate(refs)}
    res = {i: [h] for i, h in enumerate(hyps)}
    m = instance if instance is not None else Meteor()
    try:
        value, items = m.compute_score(gts, res)
    finally:
        if instance is None:
            del m
    return (100 * float(value), [100 * float(v) for v in items]) if per_item else 100 * float(value)


def _coco(hyps: list[str], refs: list[list[str]], instance: Any = None) -> dict[str, float]:
    out = coco_bleu_rouge(hyps, refs)
    out["meteor"] = coco_meteor(hyps, refs, instance=instance)
    return {k: out[k] for k in ("bleu_1", "bleu_2", "bleu_3", "bleu_4", "meteor", "rouge_l")}


class _SpaceTokenizer:
    def tokenize(self, text: str) -> list[str]:
        return text.split()


def _fallback(hyps: list[str], refs: list[list[str]]) -> dict[str, float | None]:
    require("sacrebleu", extra="qgen", what="fallback BLEU")
    require("rouge_score", extra="qgen", what="fallback ROUGE-L", package="rouge-score")
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU

    width = max(len(r) for r in refs)
    streams = [[r[k] if k < len(r) else "" for r in refs] for k in range(width)]
    out: dict[str, float | None] = {}
    for n in range(1, 5):
        out[f"bleu_{n}"] = float(BLEU(max_ngram_order=n, tokenize="none").corpus_score(hyps, streams).score)
    out["meteor"] = None
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_SpaceTokenizer())
    total = 0.0
    for h, rs in zip(hyps, refs, strict=True):
        total += max(scorer.score(r, h)["rougeL"].fmeasure for r in rs)
    out["rouge_l"] = float(100 * total / len(hyps))
    return out


def format_scores(s: dict[str, Any]) -> str:
    skipped = "skipped" in str(s.get("implementation", {}).get("meteor", "")) or \
        "--no-meteor" in str(s.get("implementation", {}).get("meteor", ""))
    meteor = ("not computed" if skipped else "n/a (no Java)") if s.get("meteor") is None else f"{s['meteor']:.2f}"
    return (f"BLEU-1 {s['bleu_1']:.2f}  BLEU-2 {s['bleu_2']:.2f}  BLEU-3 {s['bleu_3']:.2f}  BLEU-4 {s['bleu_4']:.2f}  "
            f"METEOR {meteor}  ROUGE-L {s['rouge_l']:.2f}")


def baselines(sentences: Sequence[str]) -> dict[str, list[str]]:
    """The two baselines the issue asks for: the sentence itself, and "what" + its first 12 words + "?"."""
    return {"copy": [s for s in sentences],
            "template": [" ".join(["what", *s.split()[:12], "?"]) for s in sentences]}




def sentence_bleu(hypothesis: str, references: Sequence[str]) -> float:
    """Smoothed sentence-level BLEU-4 (sacrebleu, effective order): only to rank examples from good to bad, never
    reported as the corpus score."""
    from sacrebleu.metrics import BLEU

    return float(BLEU(tokenize="none", effective_order=True).sentence_score(hypothesis, list(references)).score)
