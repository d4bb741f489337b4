"""The app's naive-Bayes tab: draw rows from a fitted model (naive or autoregressive) as a table."""

from __future__ import annotations

from typing import Any

TITLE = "Naive Bayes"
KEY = "naive-bayes"
PREFIXES = ("naive-bayes", "categorical-ar")
MAX_ROWS = 1000


def draw(ctx: Any, run: Any, n: Any, seed: Any) -> list[list[str]]:
    from ..app.kit import AppError

    n = int(n)
    if not 1 <= n <= MAX_ROWS:
        raise AppError(f"rows must be between 1 and {MAX_ROWS}, got {n}")
    model = ctx.load_model(run, prefix=PREFIXES)
    return [list(model.columns), *model.decode_rows(model.sample(n, seed=int(seed)))]


def build_tab(gr: Any, ctx: Any) -> None:
    run = ctx.run_picker(gr, prefix=PREFIXES, label="naive-bayes run", elem_id="nb-run")
    with gr.Row():
        n = gr.Number(value=10, precision=0, label="rows", elem_id="nb-n")
        seed = gr.Number(value=0, precision=0, label="seed", elem_id="nb-seed")
    btn = gr.Button("Sample", variant="primary", elem_id="nb-sample-btn")
    table = gr.Dataframe(label="samples (first row: the columns)", interactive=False, elem_id="nb-table")
    btn.click(ctx.guard(draw, ctx), [run, n, seed], table, api_name="nb_sample")
