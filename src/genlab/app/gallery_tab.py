"""The Gallery tab: the tour's figures (``genlab tour``), with caption, command and measured number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .kit import AppContext

TITLE = "Tour gallery"
KEY = "gallery"


def gallery_items(tour_dir: Path) -> tuple[list[tuple[str, str]], str]:
    """(image path, caption) of every image figure of the finished sections, and Markdown for everything."""
    from ..tour.runner import read_sections

    items: list[tuple[str, str]] = []
    lines: list[str] = []
    sections = read_sections(tour_dir)
    if not sections:
        return [], f"No tour in `{tour_dir}` yet: run `genlab tour --out {tour_dir}` (or `make demo`)."
    for sec in sections:
        lines.append(f"### {sec.get('title', sec.get('key'))} — {sec.get('status')}")
        if sec.get("status") != "done":
            lines.append(f"{sec.get('reason', '')}")
            continue
        for fig in sec.get("figures", []):
            path = tour_dir / sec["key"] / fig["path"]
            metric = "; ".join(f"{k}: {v}" for k, v in fig.get("metrics", {}).items())
            weights = f" — weights: {fig['weights']}" if fig.get("weights") else ""
            if fig.get("kind", "image") == "image" and path.is_file():
                items.append((str(path), f"{fig['title']}{weights}" + (f" — {metric}" if metric else "")))
            lines.append(f"- **{fig['title']}**{weights}: {fig.get('caption', '')}" +
                         (f" *{metric}*" if metric else "") + f"  \n  `{fig.get('command', '')}`")
    return items, "\n".join(lines)


def build_tab(gr: Any, ctx: AppContext) -> None:
    tour_dir = Path(getattr(ctx, "tour_dir", ctx.runs_dir / "tour"))
    gr.Markdown(f"The tour's figures from `{tour_dir}` (the full page: `{tour_dir / 'index.html'}`).")
    refresh = gr.Button("Load / refresh the gallery", elem_id="gallery-refresh")
    gallery = gr.Gallery(label="figures", columns=3, height="auto", elem_id="gallery-images")
    notes = gr.Markdown(elem_id="gallery-notes")

    def load():
        items, text = gallery_items(tour_dir)
        return items, text

    refresh.click(ctx.guard(load), None, [gallery, notes])
