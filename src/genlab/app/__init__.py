"""``genlab app``: a Gradio web app over every family (one tab per family, a Train tab, the tour's gallery).

Gradio is an optional extra (``pip install 'genlab[app]'``); nothing here imports it until the app is built. The tab
contract (``build_tab(gr, ctx)`` and :class:`AppContext`) is in :mod:`genlab.app.kit`.
"""

from __future__ import annotations

from .kit import AppContext, AppError, Job, JobQueue

__all__ = ["AppContext", "AppError", "Job", "JobQueue", "build_app", "launch"]


def build_app(*args, **kwargs):
    from .server import build_app as _build
    return _build(*args, **kwargs)


def launch(*args, **kwargs):
    from .server import launch as _launch
    return _launch(*args, **kwargs)
