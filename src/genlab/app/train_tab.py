"""The Train tab: a small training run in the background (one ``python -m genlab ... train`` subprocess at a time,
queued), with its status, the log's tail and a live loss plot read from the run's metrics.jsonl. Cancel sends SIGINT:
the engine finishes the step and saves a checkpoint, so ``--resume`` continues the run."""

from __future__ import annotations

import re
import shlex
from typing import Any

from .kit import AppContext, AppError

TITLE = "Train"
KEY = "train"

# family -> (the data flag, its default value in the page)
RECIPES: dict[str, tuple[str, str]] = {
    "vae": ("--dataset", "mnist"),
    "ae": ("--dataset", "mnist"),
    "aae": ("--dataset", "mnist"),
    "gan": ("--dataset", "mnist"),
    "text": ("--corpus", "../shared/data/tinyshakespeare/input.txt"),
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_REFUSED_FLAGS = ("--out", "--config")


def job_argv(ctx: AppContext, family: str, data: str, max_steps: Any, name: str, extra: str,
             resume: bool) -> tuple[list[str], Any]:
    """The genlab arguments and run folder of a Train request (checked: the run goes under RUNS_DIR/app/)."""
    if family not in RECIPES:
        raise AppError(f"the Train tab trains {', '.join(RECIPES)}, not {family!r}")
    name = (name or "").strip()
    if not _NAME.match(name) or name in (".", ".."):
        raise AppError("the run name must be letters, digits, '_', '-' or '.' (up to 64, not starting with '.')")
    try:
        steps = int(max_steps)
    except (TypeError, ValueError):
        raise AppError(f"max steps must be a whole number, got {max_steps!r}") from None
    if not 1 <= steps <= 1_000_000:
        raise AppError(f"max steps must be between 1 and 1,000,000, got {steps}")
    try:
        extra_args = shlex.split(extra or "")
    except ValueError as e:
        raise AppError(f"extra flags: {e}") from None
    for a in extra_args:
        if a.split("=", 1)[0] in _REFUSED_FLAGS:
            raise AppError(f"extra flags may not contain {a.split('=', 1)[0]}: the run folder is "
                           f"RUNS_DIR/app/<run name>")
    run_dir = ctx.runs_dir / "app" / name
    exists = (run_dir / "train_config.json").exists() or (run_dir / "checkpoints").exists()
    if resume:
        if not exists:
            raise AppError(f"there is no run app/{name} to resume; untick resume to start it")
        argv = [family, "train", "--out", str(run_dir), "--resume", "--max-steps", str(steps), *extra_args]
    else:
        if exists:
            raise AppError(f"run app/{name} exists; pick another name or tick 'resume'")
        flag, _ = RECIPES[family]
        if not (data or "").strip():
            raise AppError(f"give the {flag} value")
        argv = [family, "train", flag, data.strip(), "--max-steps", str(steps), "--out", str(run_dir),
                "--no-progress", *extra_args]
    return argv, run_dir


def loss_plot(job: Any, path: Any) -> Any:
    """PNG of every train/* loss curve so far (matplotlib, Agg), or None before the first logged step."""
    rows = job.metrics()
    keys = sorted({k for r in rows for k in r if k.startswith("train/") and isinstance(r[k], (int, float))})
    if not rows or not keys:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    for k in keys[:6]:
        pts = [(r["step"], r[k]) for r in rows if k in r and "step" in r]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o" if len(pts) < 20 else None, label=k)
    ax.set_xlabel("step")
    ax.set_ylabel("value (as logged)")
    ax.set_title(f"job {job.id}: {job.run_dir.name} ({len(rows)} log rows)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def build_tab(gr: Any, ctx: AppContext) -> None:
    gr.Markdown("Starts `genlab FAMILY train` in the background (one job at a time, the others wait). Cancel sends "
                "Ctrl-C: the run saves a checkpoint, and ticking *resume* continues it. Runs go to "
                f"`{ctx.runs_dir / 'app'}`.")
    with gr.Row():
        family = gr.Dropdown(list(RECIPES), value="vae", label="family", elem_id="train-family")
        data = gr.Textbox(value=RECIPES["vae"][1], label="data (--dataset, or --corpus for text)",
                          elem_id="train-data")
        steps = gr.Number(value=200, precision=0, label="max steps", elem_id="train-steps")
    with gr.Row():
        name = gr.Textbox(value="vae-1", label="run name (RUNS_DIR/app/NAME)", elem_id="train-name")
        extra = gr.Textbox(value="", label="extra flags (e.g. --latent-dim 2 --batch-size 64)",
                           elem_id="train-extra")
        resume = gr.Checkbox(value=False, label="resume", elem_id="train-resume")
    with gr.Row():
        start = gr.Button("Start training", variant="primary", elem_id="train-start")
        cancel = gr.Button("Cancel (saves a checkpoint)", variant="stop", elem_id="train-cancel")
    status = gr.Markdown("no job yet", elem_id="train-status")
    plot = gr.Image(label="loss (metrics.jsonl)", type="filepath", elem_id="train-plot", interactive=False)
    log = gr.Textbox(label="log (last lines)", lines=8, max_lines=8, elem_id="train-log", interactive=False)
    job_id = gr.State(None)
    cache: dict[tuple[int, int], str] = {}

    def on_family(f: str) -> tuple[Any, Any]:
        return gr.update(value=RECIPES.get(f, ("", ""))[1]), gr.update(value=f"{f}-1")

    family.change(on_family, family, [data, name])

    def on_start(f, d, s, n, e, r):
        if ctx.jobs is None:
            raise AppError("this app was started without a job queue")
        argv, run_dir = job_argv(ctx, f, d, s, n, e, bool(r))
        job = ctx.jobs.submit(argv, run_dir)
        return job.id, job.describe()

    start.click(ctx.guard(on_start), [family, data, steps, name, extra, resume], [job_id, status])

    def on_cancel(jid):
        if ctx.jobs is None or jid is None:
            raise AppError("no job to cancel")
        return ctx.jobs.cancel(int(jid)).describe()

    cancel.click(ctx.guard(on_cancel), job_id, status)

    def on_tick(jid):
        if ctx.jobs is None or jid is None:
            return gr.update(), gr.update(), gr.update()
        job = ctx.jobs.get(int(jid))
        rows = len(job.metrics())
        key = (job.id, rows)
        if key not in cache and rows:
            cache[key] = loss_plot(job, ctx.new_output(".png", f"loss-job{job.id}"))
        waiting = [j.id for j in ctx.jobs.jobs() if j.state == "queued"]
        text = job.describe() + (f"  \nwaiting: jobs {', '.join(map(str, waiting))}" if waiting else "")
        last = next((r for r in reversed(job.metrics()) if "step" in r), None)
        if last is not None:
            text += f"  \nlast logged step {last['step']}" + "".join(
                f", {k} {v:.4g}" for k, v in last.items() if k.startswith("train/") and isinstance(v, float))
        return text, cache.get(key, gr.update()), job.log_tail()

    timer = gr.Timer(1.0)
    timer.tick(ctx.guard(on_tick), job_id, [status, plot, log])
