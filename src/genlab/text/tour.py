"""The tour's text section (Chollet 8.1, Foster ch. 6): a small character-level GPT on tiny Shakespeare, samples at
two temperatures (the seeds' table) and the validation bits per character."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core.tourkit import Figure, TourContext, TourSection


def find_corpus() -> Path | None:
    """tiny Shakespeare where genlab looks for its data ($GENLAB_DATA_DIR, ../shared/data, the cache), or None."""
    from ..data.mnist import _candidate_roots

    for root in _candidate_roots():
        path = root / "tinyshakespeare" / "input.txt"
        if path.is_file():
            return path
    return None


def stdlib_corpus(path: Path, max_bytes: int = 1_000_000) -> Path:
    """Fallback corpus when tiny Shakespeare is not on this machine: Python's own standard-library source."""
    import sysconfig

    root = Path(sysconfig.get_paths()["stdlib"])
    parts, size = [], 0
    for f in sorted(root.glob("*.py")):
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        parts.append(text)
        size += len(text.encode())
        if size >= max_bytes:
            break
    path.write_text("".join(parts)[:max_bytes], encoding="utf-8")
    return path


def run(ctx: TourContext) -> list[Figure]:
    corpus = find_corpus()
    if corpus is None:
        corpus, what, prompt = stdlib_corpus(ctx.path("python-stdlib.txt")), \
            f"Python {sys.version.split()[0]}'s standard-library source (tiny Shakespeare is not on this machine)", \
            "def "
    else:
        what, prompt = "tiny Shakespeare (1.1 MB)", "ROMEO:"
    if ctx.toy:  # tests: the first 20,000 characters are enough to run every command
        small = ctx.path("corpus-toy.txt")
        small.write_text(corpus.read_text(encoding="utf-8")[:20_000], encoding="utf-8")
        corpus = small
    steps = 5 if ctx.toy else (3000 if ctx.budget == "full" else 600)
    run_dir = ctx.path("gpt-char")
    size = ["--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--block-size", "16"] if ctx.toy else []
    cmd_train = ctx.genlab("text", "train", "--corpus", corpus, "--model", "gpt", *size, "--max-steps", steps,
                           "--seed", ctx.seed, "--no-progress", "--no-tensorboard", "--device", ctx.device,
                           "--out", run_dir)
    cmd_eval = ctx.genlab("text", "evaluate", run_dir, "--device", ctx.device, "--output", ctx.path("eval.json"))
    ev = json.loads(ctx.path("eval.json").read_text(encoding="utf-8"))
    metrics = {"validation bits/char": f"{ev['bits_per_char']:.3f} (the run's held-out validation split of {what}, "
                                       f"{ev['tokens']:,} characters)",
               "validation loss": f"{ev['loss']:.3f} nats/char", "measured by": cmd_eval}
    length = 60 if ctx.toy else 400
    cmd_sample = ctx.genlab("text", "sample", run_dir, "--prompt", prompt, "--temperature", "0.5", "1.0",
                            "--length", length, "--seed", ctx.seed, "--device", ctx.device,
                            "--output", ctx.path("temperatures.md"))
    return [Figure(ctx.path("temperatures.md"), "Samples at two temperatures",
                   f"A 4-layer character GPT after {steps} steps on {what}, continuing {prompt!r} with the same seed at "
                   f"temperature 0.5 (safe, repetitive) and 1.0 (the model's own distribution: more inventive, more "
                   f"misspelt) — the seeds' temperature table.", f"{cmd_train}\n{cmd_sample}", metrics)]


def section() -> TourSection:
    return TourSection(
        key="text", title="Text: a character-level GPT and the temperature of sampling (Chollet 8.1)", run=run,
        estimate_s={"quick": 40, "full": 200},
        summary="A small GPT reads a corpus one character at a time and learns to predict the next one; sampling "
                "with a temperature trades safety for surprise. Bits per character on held-out text is the number "
                "to compare (lower is better; guessing uniformly among tiny Shakespeare's 65 characters would score 6.02).")
