"""Toy sizes for the qgen README commands (merged into tests/test_readme.py's TOY table), and the small synthetic
sentence-question files they name (the shared split and a held-back test pair)."""

from __future__ import annotations

from pathlib import Path

ENGINE = ["--max-steps", "3", "--no-tensorboard", "--no-progress", "--log-every", "1", "--sample-every", "0",
          "--checkpoint-every", "2"]

TOY = {
    ("qgen", "train"): ENGINE + ["--batch-size", "4", "--emb-dim", "8", "--hidden", "8", "--min-freq", "1",
                                 "--val-fraction", "0.3"],
    ("qgen", "generate"): ["--beam", "1"],
    ("qgen", "evaluate"): ["--beam", "1", "--limit", "2", "--no-baselines", "--no-meteor"],
    ("qgen", "attention"): ["--beam", "1"],
}

PAIRS = [("the eiffel tower is in paris .", "where is the eiffel tower ?"),
         ("the nile flows through egypt .", "what river flows through egypt ?"),
         ("berlin is the capital of germany .", "what is the capital of germany ?"),
         ("water boils at 100 degrees .", "at what temperature does water boil ?")] * 3


def materials(root: Path) -> dict[str, str]:
    q = root / "qgen"
    q.mkdir(parents=True, exist_ok=True)
    (q / "src.txt").write_text("".join(s + "\n" for s, _ in PAIRS))
    (q / "tgt.txt").write_text("".join(t + "\n" for _, t in PAIRS))
    return {"../shared/data/question-generation/src-dev.txt": str(q / "src.txt"),
            "../shared/data/question-generation/tgt-dev.txt": str(q / "tgt.txt"),
            "src-test.txt": str(q / "src.txt"), "tgt-test.txt": str(q / "tgt.txt")}
