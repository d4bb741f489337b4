"""``genlab app [--runs-dir runs] [--host 127.0.0.1] [--port 7860] [--share]``."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("app", help="a web app over every family (Gradio; pip install 'genlab[app]')",
                              description="A Gradio web app: one tab per family (sample, latent explorer, GAN "
                                          "interpolation, DeepDream/style on uploads), a Train tab and the tour's "
                                          "gallery. Binds 127.0.0.1 unless --host says otherwise.")
    p.add_argument("--runs-dir", default="runs", help="the only folder the app reads runs from (default: runs)")
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to listen on (default: 127.0.0.1, this machine only; 0.0.0.0: all, said loudly)")
    p.add_argument("--port", type=int, default=7860, help="port (default: 7860; 0 = any free port)")
    p.add_argument("--share", action="store_true", help="ask Gradio for a public share link (off by default)")
    p.add_argument("--tour-dir", default=None, help="the tour folder the Gallery tab shows (default: RUNS_DIR/tour)")
    p.add_argument("--max-upload-mb", type=float, default=50, help="largest upload accepted (default: 50)")
    p.add_argument("--check", action="store_true",
                   help="start the app, check that its page answers, say how long that took, and exit (CI)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from .server import launch

    if not 0 <= args.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535 (or 0 for any free port), got {args.port}")
    if args.max_upload_mb <= 0:
        raise ConfigError(f"--max-upload-mb must be positive, got {args.max_upload_mb}")
    launch(args.runs_dir, host=args.host, port=args.port, share=args.share, tour_dir=args.tour_dir,
           max_upload_mb=args.max_upload_mb, check=args.check)
    return 0
