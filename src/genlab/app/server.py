"""Build and launch the app: one tab per line of ``genlab.families.APP_TABS``, then Train and Gallery."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from ..core.extras import available, require
from .kit import AppContext, AppError

ALL_INTERFACES = ("0.0.0.0", "::", "")


def _gradio() -> Any:
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no request leaves the machine
    os.environ.setdefault("GRADIO_TELEMETRY_ENABLED", "False")
    return require("gradio", extra="app", what="genlab app")


def theme(gr: Any) -> Any:
    """Gradio's default look with system fonts (its default theme fetches fonts from Google: no network here)."""
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
                             font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])


def tab_modules(tabs: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(module, function) of every family tab, then the app's own Train and Gallery tabs."""
    from ..families import APP_TABS

    entries = list(APP_TABS if tabs is None else tabs)
    entries += ["genlab.app.train_tab:build_tab", "genlab.app.gallery_tab:build_tab"]
    return [tuple(e.split(":", 1)) for e in dict.fromkeys(entries)]  # type: ignore[misc]


def build_app(ctx: AppContext, *, tabs: tuple[str, ...] | None = None) -> Any:
    """The gr.Blocks of the app. A tab whose module fails to import or whose optional package is missing is shown
    with the reason (never silently dropped)."""
    gr = _gradio()
    with gr.Blocks(title="genlab", analytics_enabled=False) as demo:
        gr.Markdown(f"# genlab\nRuns under `{ctx.runs_dir}` (the app reads nothing outside it). "
                    "Every output says which run and seed made it.")
        with gr.Tabs():
            for module_name, function in tab_modules(tabs):
                try:
                    module = importlib.import_module(module_name)
                except Exception as e:  # noqa: BLE001 - a broken tab must not take the app down
                    with gr.Tab(module_name.split(".")[1]):
                        gr.Markdown(f"This tab could not be loaded: `{type(e).__name__}: {e}`")
                    continue
                title = getattr(module, "TITLE", module_name.split(".")[1])
                missing = [m for m in getattr(module, "REQUIRES", ()) if not available(m)]
                with gr.Tab(title, elem_id=f"tab-{getattr(module, 'KEY', module_name.split('.')[1])}"):
                    if missing:
                        gr.Markdown(f"This tab needs {', '.join(missing)}: `pip install 'genlab[...]'` "
                                    f"(see the README's extras).")
                        continue
                    getattr(module, function)(gr, ctx)
    return demo


def launch(runs_dir: str | Path = "runs", *, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           device: str = "cpu", block: bool = True, quiet: bool = False, tour_dir: str | Path | None = None,
           max_upload_mb: float = 50, check: bool = False) -> tuple[Any, AppContext, str]:
    """Start the app; returns (blocks, context, local URL). ``block=False`` returns at once (tests, benchmarks);
    ``check=True`` fetches the page once, says how long the start took, and stops the app."""
    import time

    t0 = time.perf_counter()
    runs = Path(runs_dir)
    if runs.exists() and not runs.is_dir():
        raise AppError(f"--runs-dir {runs} is a file, not a folder; point it at the folder of your runs")
    gr = _gradio()
    try:
        runs.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AppError(f"cannot create --runs-dir {runs} ({e.strerror or e})") from None
    ctx = AppContext(runs, max_upload_bytes=int(max_upload_mb * 1024 * 1024), device=device)
    ctx.tour_dir = Path(tour_dir).resolve() if tour_dir else ctx.runs_dir / "tour"  # type: ignore[attr-defined]
    demo = build_app(ctx)
    if host in ALL_INTERFACES:
        print(f"genlab app: listening on ALL network interfaces ({host or '0.0.0.0'}:{port}): anyone who can reach "
              f"this machine can use the app and read the runs under {ctx.runs_dir}", file=sys.stderr, flush=True)
    elif host not in ("127.0.0.1", "localhost", "::1"):
        print(f"genlab app: listening on {host}:{port}, not only on this machine", file=sys.stderr, flush=True)
    if share:
        print("genlab app: --share asks Gradio for a public share link (through gradio.live)", file=sys.stderr,
              flush=True)
    if port == 0:
        import socket

        with socket.socket() as sock:
            sock.bind((host if host not in ALL_INTERFACES else "0.0.0.0", 0))
            port = sock.getsockname()[1]
    demo.queue(default_concurrency_limit=2)
    try:
        _, local_url, _ = demo.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=True,
                                      quiet=True, show_error=True, ssr_mode=False, footer_links=[],
                                      max_file_size=ctx.max_upload_bytes, theme=theme(gr),
                                      allowed_paths=[str(ctx.work_dir), str(ctx.tour_dir)], pwa=False, mcp_server=False,
                                      enable_monitoring=False)
    except OSError as e:
        ctx.close()
        raise AppError(f"cannot listen on {host}:{port} ({e}); choose another --port") from None
    if check:
        import urllib.request

        try:
            with urllib.request.urlopen(local_url, timeout=60) as r:
                status = r.status
        finally:
            ctx.close()
            demo.close()
        print(f"genlab app: {local_url} answered HTTP {status} {time.perf_counter() - t0:.1f} s after the start "
              f"({len(tab_modules())} tabs, runs from {ctx.runs_dir}); stopped (--check)", flush=True)
        return demo, ctx, local_url
    if not quiet:
        print(f"genlab app: {local_url} (runs from {ctx.runs_dir}; Ctrl-C stops)", flush=True)
    if block:
        try:
            demo.block_thread()
        except KeyboardInterrupt:
            pass
        finally:
            ctx.close()
            demo.close()
    return demo, ctx, local_url
