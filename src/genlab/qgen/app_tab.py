"""The app's question-generation tab: type a sentence (and an answer for an answer-aware model), get a question and
the decoder's attention heat map."""

from __future__ import annotations

from typing import Any

TITLE = "Questions"
KEY = "qgen"
PREFIXES = ("qgen",)


def ask(ctx: Any, run: Any, sentence: str, answer: str, beam: Any) -> tuple[str, str]:
    """(the question, the path of the attention heat map)."""
    import tempfile
    from pathlib import Path

    from ..app.kit import AppError
    from .api import attention_figure

    if not (sentence or "").strip():
        raise AppError("type a sentence to ask about")
    beam = int(beam)
    if not 1 <= beam <= 20:
        raise AppError(f"beam must be between 1 and 20, got {beam}")
    model = ctx.load_model(run, prefix=PREFIXES)
    out = Path(tempfile.mkdtemp(prefix="genlab-qgen-")) / "attention.png"
    res = attention_figure(model, sentence, answer=(answer or "").strip() or None, beam=beam, output=out)
    return res["question"], str(out)


def build_tab(gr: Any, ctx: Any) -> None:
    run = ctx.run_picker(gr, prefix=PREFIXES, label="qgen run", elem_id="qgen-run")
    sentence = gr.Textbox(value="the eiffel tower was built in 1889 for the world 's fair in paris .",
                          label="sentence", elem_id="qgen-sentence")
    with gr.Row():
        answer = gr.Textbox(value="", label="answer (only for a model trained with answers)", elem_id="qgen-answer")
        beam = gr.Number(value=5, precision=0, label="beam width (1 = greedy)", elem_id="qgen-beam")
    btn = gr.Button("Ask", variant="primary", elem_id="qgen-ask-btn")
    question = gr.Textbox(label="question", interactive=False, elem_id="qgen-question")
    heat = gr.Image(label="attention (generated words x source words)", elem_id="qgen-attention")
    btn.click(ctx.guard(ask, ctx), [run, sentence, answer, beam], [question, heat], api_name="qgen_ask")
