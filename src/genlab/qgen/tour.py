"""The tour's question-generation section (Foster ch. 6): a short training run on the shared Du et al. split, its
attention heat map, and BLEU-4 / METEOR / ROUGE-L beside the copy and template baselines on held-out sentences."""

from __future__ import annotations

import json

from ..core.tourkit import Figure, TourContext, TourSection

TOY_PAIRS = [("the eiffel tower is in paris .", "where is the eiffel tower ?"),
             ("the nile flows through egypt .", "what river flows through egypt ?"),
             ("berlin is the capital of germany .", "what is the capital of germany ?"),
             ("water boils at 100 degrees .", "at what temperature does water boil ?")] * 4


def run(ctx: TourContext) -> list[Figure]:
    from .data import shared_data_dir

    shared = None if ctx.toy else shared_data_dir()
    if shared is not None:
        src, tgt, what = shared / "src-dev.txt", shared / "tgt-dev.txt", "the shared Du et al. 2017 dev split"
    else:
        src, tgt = ctx.path("src.txt"), ctx.path("tgt.txt")
        src.write_text("".join(s + "\n" for s, _ in TOY_PAIRS))
        tgt.write_text("".join(q + "\n" for _, q in TOY_PAIRS))
        what = "16 toy pairs (the shared question-generation data is not on this machine)"
    budget = {"quick": "40s", "full": "10m"}[ctx.budget]
    size = ["--emb-dim", "8", "--hidden", "8", "--max-steps", "3", "--batch-size", "4", "--min-freq", "1",
            "--val-fraction", "0.3"] if ctx.toy else ["--max-time", budget, "--epochs", "30"]
    run_dir = ctx.path("run")
    cmd_train = ctx.genlab("qgen", "train", "--src", src, "--tgt", tgt, *size, "--seed", ctx.seed, "--no-progress",
                           "--no-tensorboard", "--sample-every", "0", "--device", ctx.device, "--out", run_dir)
    limit = "2" if ctx.toy else ("100" if ctx.budget == "quick" else "700")
    cmd_eval = ctx.genlab("qgen", "evaluate", run_dir, "--beam", "1", "--limit", limit, "--device", ctx.device,
                          "--output", ctx.path("eval.json"))
    ev = json.loads(ctx.path("eval.json").read_text(encoding="utf-8"))
    sentence = ev["examples_good"][0]["sentence"] if ev["examples_good"] else "the eiffel tower is in paris ."
    cmd_att = ctx.genlab("qgen", "attention", run_dir, "--sentence", sentence, "--beam", "1", "--device", ctx.device,
                         "--output", ctx.path("attention.png"))

    def line(name: str, s: dict) -> str:
        meteor = "n/a (no Java)" if s.get("meteor") is None else f"{s['meteor']:.2f}"
        return f"| {name} | {s['bleu_4']:.2f} | {meteor} | {s['rouge_l']:.2f} |"

    on = f"first {ev['sentences']} held-out sentences of {what}, greedy, {ev['model']['protocol']} metrics"
    rows = ["| questions from | BLEU-4 | METEOR | ROUGE-L |", "|---|---|---|---|", line("the model", ev["model"])]
    rows += [line(n, s) for n, s in ev.get("baselines", {}).items()]
    examples = []
    for kind in ("examples_good", "examples_bad"):
        examples.append(f"\n**{'good' if kind == 'examples_good' else 'bad'} examples**\n")
        for e in ev[kind][:3]:
            examples.append(f"- sentence: {e['sentence']}\n  - generated: {e['generated']}\n"
                            f"  - reference: {' | '.join(e['references'])}")
    md = ctx.path("scores.md")
    md.write_text(f"Measured on the {on}.\n\n" + "\n".join(rows) + "\n" + "\n".join(examples) + "\n",
                  encoding="utf-8")
    metrics = {"BLEU-4": f"{ev['model']['bleu_4']:.2f} (copy baseline {ev['baselines']['copy']['bleu_4']:.2f}, "
                         f"template {ev['baselines']['template']['bleu_4']:.2f}; {on})", "measured by": cmd_eval}
    return [Figure(ctx.path("attention.png"), "Where the decoder looks",
                   f"Attention of the decoder over the source words (x) for each word it writes (y), after a {budget} "
                   f"training run on {what}: bright cells are the words it copies or paraphrases.",
                   f"{cmd_train}\n{cmd_att}", metrics),
            Figure(md, "Scores beside the copy and template baselines",
                   "BLEU-4, METEOR and ROUGE-L of the model's questions and of two baselines that need no model "
                   "(copy the sentence; 'what' + its first 12 words + '?'), with good and bad examples.",
                   cmd_eval, metrics)]


def section() -> TourSection:
    return TourSection(
        key="qgen", title="Question generation: encoder-decoder with attention and copying (Foster ch. 6)", run=run,
        estimate_s={"quick": 60, "full": 700},
        summary="A bidirectional GRU reads a sentence, an attention decoder writes a question about it, copying "
                "source words through a pointer-generator. A minute of CPU training is far from the 30-60 minutes "
                "the benchmark uses: the scores say how far, beside two baselines that need no model.")
