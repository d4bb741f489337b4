"""The tour's gallery: one self-contained ``index.html`` (inline CSS, no script, no network) beside the figures.

Every link is relative (``<key>/<file>``), so the folder can be zipped, copied or opened from disk. Per figure: the
picture (or audio / video player), its title and caption, the exact command, the measured number and what it was
measured on, and for image optimisation the weights that made it (random weights get a warning badge).
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from urllib.parse import quote

from ..core.io import write_bytes_atomic
from .runner import read_sections

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#fafafa;color:#222}
header{background:#1f2937;color:#fff;padding:1.2em 2em}header h1{margin:0 0 .3em}header p{margin:.2em 0;color:#d1d5db}
main{padding:1em 2em;max-width:1400px}nav a{margin-right:1em}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;margin:1.5em 0;padding:1em 1.5em}
section h2{margin-top:.2em}.status{font-size:.8em;padding:.15em .6em;border-radius:1em;margin-left:.6em;
vertical-align:middle}.done{background:#d1fae5;color:#065f46}.failed{background:#fee2e2;color:#991b1b}
.skipped,.pending{background:#fef3c7;color:#92400e}.figs{display:flex;flex-wrap:wrap;gap:1.2em}
figure{margin:0;flex:1 1 380px;max-width:640px;border:1px solid #eee;border-radius:6px;padding:.8em;background:#fcfcfc}
figure img,figure video{max-width:100%;height:auto;image-rendering:pixelated;border:1px solid #ddd}
figure audio{width:100%}figcaption h3{margin:.5em 0 .2em;font-size:1.05em}
pre{background:#f3f4f6;padding:.5em;white-space:pre-wrap;word-break:break-all;font-size:.85em;border-radius:4px}
table.m{border-collapse:collapse;font-size:.9em}table.m td{border-top:1px solid #eee;padding:.2em .5em;
vertical-align:top}.w{display:inline-block;font-size:.85em;padding:.1em .5em;border-radius:4px;background:#e0e7ff}
.w.random{background:#fee2e2;color:#991b1b;font-weight:bold}.reason{color:#991b1b}details{margin-top:.6em}
.meta{color:#6b7280;font-size:.85em}pre.text{max-height:28em;overflow:auto;white-space:pre-wrap;word-break:normal}
"""


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text))


def _href(key: str, rel: str) -> str:
    return quote(f"{key}/{rel}")


MAX_TEXT_CHARS = 20_000


def _media(key: str, fig: dict, tour_dir: Path | None = None) -> str:
    src = _href(key, fig["path"])
    kind = fig.get("kind", "image")
    if kind == "text":
        try:
            text = (Path(tour_dir or ".") / key / fig["path"]).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = "(the text file is missing)"
        cut = f"\n... (cut; the whole text: {fig['path']})" if len(text) > MAX_TEXT_CHARS else ""
        return f'<pre class="text">{_e(text[:MAX_TEXT_CHARS] + cut)}</pre><p><a href="{src}">{_e(fig["path"])}</a></p>'
    if kind == "audio":
        return f'<audio controls preload="auto" src="{src}"></audio>'
    if kind == "video":
        return f'<video controls muted loop preload="auto" src="{src}"></video>'
    return f'<a href="{src}"><img src="{src}" alt="{_e(fig.get("title"))}" loading="eager"></a>'


def _weights(w: str | None) -> str:
    if not w:
        return ""
    random = "random" in w.lower() or "not pretrained" in w.lower()
    label = f"weights: {w}" + (" — NOT pretrained: the pictures show the method, not what a trained net sees"
                               if random and "not pretrained" not in w.lower() else "")
    return f'<p><span class="w{" random" if random else ""}">{_e(label)}</span></p>'


def _figure(key: str, fig: dict, tour_dir: Path) -> str:
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in (fig.get("metrics") or {}).items())
    metrics = f'<table class="m">{rows}</table>' if rows else '<p class="meta">no number for this figure</p>'
    return (f'<figure>{_media(key, fig, tour_dir)}<figcaption><h3>{_e(fig.get("title"))}</h3>'
            f'<p>{_e(fig.get("caption"))}</p>{_weights(fig.get("weights"))}{metrics}'
            f'<pre><code>{_e(fig.get("command"))}</code></pre></figcaption></figure>')


def _section(sec: dict, tour_dir: Path) -> str:
    key, status = sec.get("key", "?"), sec.get("status", "pending")
    secs = sec.get("seconds")
    took = f" in {secs:.0f} s" if isinstance(secs, (int, float)) and status == "done" else ""
    head = (f'<section id="{_e(key)}"><h2>{_e(sec.get("title", key))}<span class="status {_e(status)}">'
            f'{_e(status)}{_e(took)}</span></h2>')
    body = []
    if sec.get("summary"):
        body.append(f"<p>{_e(sec['summary'])}</p>")
    if status == "done":
        body.append('<div class="figs">' + "".join(_figure(key, f, tour_dir) for f in sec.get("figures", [])) + "</div>")
    elif status == "failed":
        body.append(f'<p class="reason">This section failed: {_e(sec.get("reason"))} '
                    f'(details: <a href="{_href(key, "log.txt")}">log.txt</a>)</p>')
    elif status == "skipped":
        body.append(f'<p class="reason">Skipped: {_e(sec.get("reason"))}</p>')
    else:
        body.append('<p class="meta">Not run yet (the tour was stopped before it, or is still running).</p>')
    if sec.get("commands"):
        body.append("<details><summary>every command this section ran, with its seconds</summary><pre>"
                    + _e("\n".join(sec["commands"])) + "</pre></details>")
    return head + "".join(body) + "</section>"


def render(tour_dir: Path) -> str:
    from .. import __version__

    sections = read_sections(tour_dir)
    budget = next((s.get("budget") for s in sections if s.get("budget")), "?")
    done = sum(s.get("status") == "done" for s in sections)
    nav = "".join(f'<a href="#{_e(s.get("key"))}">{_e(s.get("key"))}</a>' for s in sections)
    total = sum(float(s.get("seconds") or 0) for s in sections)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>genlab tour</title><style>{CSS}</style></head><body><header><h1>genlab tour</h1>"
            f"<p>{done} of {len(sections)} sections done, budget <b>{_e(budget)}</b>, {total:.0f} s of section time; "
            f"genlab {_e(__version__)}; written {_e(time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))}.</p>"
            "<p>Every figure shows the exact command that made it and the number measured with it (and what it was "
            "measured on). Quick-budget models are small and briefly trained: the figures show what each method "
            "does, not its best result.</p></header>"
            f"<main><nav>{nav}</nav>{''.join(_section(s, tour_dir) for s in sections)}</main></body></html>\n")


def write_gallery(tour_dir: str | Path) -> Path:
    tour_dir = Path(tour_dir)
    path = tour_dir / "index.html"
    write_bytes_atomic(path, render(tour_dir).encode("utf-8"))
    return path
