"""BLEU / ROUGE-L on hand-made pairs with values worked out by hand; the labelled fallback when Java is missing."""

import math
import shutil

import pytest

from genlab.qgen import metrics

HYP, REF = "the cat sat on the mat", "the cat sat on a mat"
# clipped n-gram precisions 5/6, 3/5, 2/4, 1/3; equal lengths (no brevity penalty)
BLEU = [100 * (5 / 6), 100 * math.sqrt(5 / 6 * 3 / 5), 100 * (5 / 6 * 3 / 5 * 2 / 4) ** (1 / 3),
        100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25]


def test_coco_bleu_and_rouge_on_hand_pairs():
    s = metrics.coco_bleu_rouge([HYP], [[REF]])
    for n in range(4):
        assert math.isclose(s[f"bleu_{n + 1}"], BLEU[n], rel_tol=1e-6)
    assert math.isclose(s["rouge_l"], 100 * 5 / 6, rel_tol=1e-9)  # LCS 5 of 6 and 6: P = R = 5/6
    # short hypothesis: brevity penalty exp(1 - 6/3); ROUGE-L with beta 1.2: P 1, R 1/2
    s = metrics.coco_bleu_rouge(["the cat sat"], [["the cat sat on the mat"]])
    assert math.isclose(s["bleu_1"], 100 * math.exp(-1.0), rel_tol=1e-6)
    assert math.isclose(s["rouge_l"], 100 * (1 + 1.44) * 0.5 / (0.5 + 1.44), rel_tol=1e-9)


def test_multi_reference_takes_the_best_reference():
    s = metrics.coco_bleu_rouge([HYP], [["a dog ran", HYP]])
    assert s["bleu_4"] > 99.99 and s["rouge_l"] > 99.99


def test_fallback_when_java_is_missing_is_labelled(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on PATH
    assert not metrics.java_available()
    s = metrics.score([HYP], [[REF]])
    assert s["meteor"] is None and "Java is missing" in s["note"]
    assert "fallback" in s["implementation"]["bleu"] and "fallback" in s["protocol"]
    for n in range(4):
        assert math.isclose(s[f"bleu_{n + 1}"], BLEU[n], rel_tol=1e-6)  # sacrebleu agrees on this pair
    assert math.isclose(s["rouge_l"], 100 * 5 / 6, rel_tol=1e-9)
    short = metrics.score(["the cat sat"], [["the cat sat on the mat"]])
    assert math.isclose(short["rouge_l"], 100 * 2 / 3, rel_tol=1e-9)  # rouge-score's F1 (beta 1), not 1.2


def test_no_meteor_keeps_coco_bleu_and_rouge():
    s = metrics.score(["the cat sat"], [["the cat sat on the mat"]], meteor=False)
    assert s["meteor"] is None and "--no-meteor" in s["implementation"]["meteor"]
    assert math.isclose(s["rouge_l"], 100 * (1 + 1.44) * 0.5 / (0.5 + 1.44), rel_tol=1e-9)  # coco's beta 1.2
    assert "not computed" in metrics.format_scores(s)


def test_grouping_by_sentence():
    hyps, refs, order = metrics.group_by_sentence(["s1", "s2", "s1"], ["q", "r", "q"], ["a", "b", "c"])
    assert hyps == ["q", "r"] and refs == [["a", "c"], ["b"]] and order == ["s1", "s2"]


def test_baselines():
    b = metrics.baselines(["a b c d e f g h i j k l m n"])
    assert b["copy"] == ["a b c d e f g h i j k l m n"]
    assert b["template"] == ["what a b c d e f g h i j k l ?"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java for METEOR 1.5")
def test_coco_meteor_runs_through_java():
    _, (same, close, apart) = metrics.coco_meteor([HYP, HYP, "x y z"], [[HYP], [REF], [REF]], per_item=True)
    assert math.isclose(same, 100.0, rel_tol=1e-6)
    assert 30 < close < 60  # measured 45.88
    assert apart < 1
