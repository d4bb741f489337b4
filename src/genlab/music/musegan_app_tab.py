"""The app's MuseGAN tab: compose a 2-bar four-voice window (piano roll per track, audio, MIDI to download) and the
noise grid (one of chords / style / melody / groove redrawn, the other three kept)."""

from __future__ import annotations

from typing import Any

TITLE = "MuseGAN"
KEY = "musegan"
PREFIXES = ("music-musegan",)


def _model(ctx: Any, run: Any):
    return ctx.load_model(run, prefix=PREFIXES)


def compose(ctx: Any, run: Any, seed: Any, temperature: Any) -> tuple[str, str, str, str]:
    """(per-track PNG, WAV, MIDI, note) of one sample."""
    from ..core.errors import ConfigError
    from .musegan_figures import tracks_figure, voices_to_tracks
    from .render import render_wav, write_midi

    temperature = float(temperature)
    if not temperature > 0:
        raise ConfigError(f"temperature must be > 0 (got {temperature}); it scales the noise inputs")
    model = _model(ctx, run)
    cfg = model.config
    seed = int(seed)
    voices = model.sample(1, seed=seed, temperature=temperature).numpy()[0]
    png = tracks_figure(voices, ctx.new_output(".png", "musegan-tracks"), steps_per_bar=cfg.steps_per_bar,
                        title=f"MuseGAN sample, seed {seed}, temperature {temperature:g}")
    midi = write_midi(voices_to_tracks(voices, n_pitches=cfg.n_pitches, lowest_pitch=cfg.lowest_pitch),
                      ctx.new_output(".mid", "musegan"), fs_steps_per_quarter=cfg.steps_per_bar // 4,
                      lowest_pitch=cfg.lowest_pitch)
    wav, how = render_wav(midi, midi.with_suffix(".wav"))
    return str(png), str(wav), str(midi), f"one 2-bar window of {run} (seed {seed}); audio: {how}"


def grid(ctx: Any, run: Any, seed: Any) -> tuple[str, str]:
    from .musegan_api import noise_grid
    from .musegan_figures import noise_grid_figure

    model = _model(ctx, run)
    g = noise_grid(model, seed=int(seed))
    path = noise_grid_figure(g, ctx.new_output(".png", "musegan-grid"), steps_per_bar=model.config.steps_per_bar)
    return str(path), ("each row redraws one noise input and keeps the other three; column 0 is the same base "
                       f"sample in every row (seed {int(seed)})")


def build_tab(gr: Any, ctx: Any) -> None:
    g = ctx.guard
    run = ctx.run_picker(gr, prefix=PREFIXES, label="MuseGAN run", elem_id="musegan-run")
    with gr.Tab("Compose"):
        with gr.Row():
            seed = gr.Number(value=0, precision=0, label="seed", elem_id="musegan-seed")
            temp = gr.Slider(0.1, 2.0, value=1.0, step=0.1, label="temperature (noise scale)", elem_id="musegan-temp")
        btn = gr.Button("Compose", variant="primary", elem_id="musegan-compose-btn")
        img = gr.Image(label="one piano roll per voice", type="filepath", interactive=False, elem_id="musegan-roll")
        audio = gr.Audio(label="audio", type="filepath", interactive=False, elem_id="musegan-audio")
        midi = gr.File(label="MIDI", interactive=False, elem_id="musegan-midi")
        note = gr.Markdown(elem_id="musegan-note")
        btn.click(g(compose, ctx), [run, seed, temp], [img, audio, midi, note])
    with gr.Tab("Noise grid"):
        seed2 = gr.Number(value=0, precision=0, label="seed", elem_id="musegan-grid-seed")
        btn2 = gr.Button("Draw the grid", elem_id="musegan-grid-btn")
        img2 = gr.Image(label="noise grid", type="filepath", interactive=False, elem_id="musegan-grid")
        note2 = gr.Markdown(elem_id="musegan-grid-note")
        btn2.click(g(grid, ctx), [run, seed2], [img2, note2])
