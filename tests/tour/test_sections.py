"""The tour sections of the four existing families, run for real at toy size (slow): each returns figures that
exist, with the command that made them and numbers that say what they were measured on."""

from __future__ import annotations

import importlib

import pytest

from genlab.core.tourkit import TourContext

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("spec, words", [
    ("genlab.latent.tour:section", ["test -ELBO", "mnist test split"]),
    ("genlab.gan.tour:section", ["FID", "KID", "domain classifier", "not Inception"]),
    ("genlab.text.tour:section", ["validation bits/char", "validation split"]),
    ("genlab.imageopt.tour:section", ["style weight 1e6", "objective"]),
])
def test_section_runs_at_toy_size(spec, words, tmp_path, tiny_mnist, monkeypatch):
    from genlab.cli import main

    monkeypatch.setenv("GENLAB_DATA_DIR", str(tiny_mnist))
    module, _, fn = spec.partition(":")
    section = getattr(importlib.import_module(module), fn)()
    out = tmp_path / section.key
    out.mkdir()
    ctx = TourContext(out=out, budget="quick", toy=True, cli_main=main, log=lambda s: None)
    figures = section.run(ctx)
    assert figures
    for fig in figures:
        assert fig.path.is_file() and fig.path.stat().st_size > 100, fig.path
        assert fig.path.resolve().is_relative_to(out.resolve())
        assert fig.command.startswith("genlab ") and fig.title and fig.caption
    text = " ".join(f"{k} {v}" for fig in figures for k, v in fig.metrics.items())
    for word in words:
        assert word in text, (word, text)
    assert len(ctx.commands) >= 3
    if section.key == "imageopt":  # every picture says which weights made it; random ones say NOT pretrained
        from genlab.imageopt.tour import cached_weights

        for f, model in zip(figures, ("inception_v3", "inception_v3", "vgg19")):
            assert f.weights and ("NOT pretrained" in f.weights) == (cached_weights(model) == "random"), f.weights
    if section.key == "text":
        assert figures[0].kind == "text" and "temperature 0.5" in figures[0].path.read_text()
