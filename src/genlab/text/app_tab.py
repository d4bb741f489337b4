"""The app's text tab: continue a prompt with a trained LSTM/GRU/GPT, streamed into the page as it is generated."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

TITLE = "Text"
KEY = "text"
PREFIXES = ("text",)
MAX_LENGTH = 5000


def stream(ctx: Any, run: Any, prompt: str, temperature: float, length: Any, seed: Any,
           top_p: float) -> Iterator[str]:
    """Yield the growing text (prompt + continuation), about every few tokens."""
    from ..app.kit import AppError
    from ..text.generate import generate
    from ..text.sampling import check_sampling_options

    model = ctx.load_model(run, prefix=PREFIXES)
    length = int(length)
    if not 1 <= length <= MAX_LENGTH:
        raise AppError(f"length must be between 1 and {MAX_LENGTH} tokens, got {length}")
    top_p = float(top_p) if top_p is not None and float(top_p) < 1.0 else None
    check_sampling_options(temperature=[float(temperature)], top_k=None, top_p=top_p, length=length, n=1)
    pieces: queue.Queue = queue.Queue()
    done = object()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            generate(model, prompt or "", n=1, length=length, temperature=float(temperature), top_p=top_p,
                     seed=int(seed), stream=pieces.put)
        except BaseException as e:  # noqa: BLE001 - re-raised in the request's thread
            errors.append(e)
        finally:
            pieces.put(done)

    threading.Thread(target=work, daemon=True).start()
    text = prompt or ""
    while True:
        item = pieces.get()
        if item is done:
            break
        text += item
        while not pieces.empty():
            nxt = pieces.get()
            if nxt is done:
                pieces.put(done)
                break
            text += nxt
        yield text
    if errors:
        raise errors[0]
    yield text


def build_tab(gr: Any, ctx: Any) -> None:
    run = ctx.run_picker(gr, prefix=PREFIXES, label="text run", elem_id="text-run")
    with gr.Row():
        prompt = gr.Textbox(value="ROMEO:", label="prompt", elem_id="text-prompt")
        temperature = gr.Slider(0, 2, value=0.8, step=0.05, label="temperature (0 = greedy)",
                                elem_id="text-temperature")
    with gr.Row():
        length = gr.Number(value=300, precision=0, label="length (tokens)", elem_id="text-length")
        seed = gr.Number(value=0, precision=0, label="seed", elem_id="text-seed")
        top_p = gr.Slider(0.05, 1.0, value=1.0, step=0.05, label="top-p (1 = off)", elem_id="text-top-p")
    btn = gr.Button("Generate", variant="primary", elem_id="text-generate-btn")
    out = gr.Textbox(label="text (streams as it is generated)", lines=12, interactive=False,
                     elem_id="text-output")
    btn.click(ctx.guard(stream, ctx), [run, prompt, temperature, length, seed, top_p], out,
              api_name="text_generate")
