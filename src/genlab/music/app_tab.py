"""The app's music tab: compose with a note model (rnn-attention / gpt: prompt, length, a temperature per head, the
attention heat map) or the polyphonic RNN (piano roll), hear it, download the MIDI."""

from __future__ import annotations

from typing import Any

TITLE = "Music"
KEY = "music"
PREFIXES = ("music-rnn-attention", "music-gpt", "music-polyphonic")


def compose(ctx: Any, run: Any, seed: Any, pitch_t: Any, duration_t: Any, length: Any,
            prompt: Any) -> tuple[str, str | None, str, str, str]:
    """(piano-roll PNG, attention PNG or None, WAV, MIDI, note) of one sample."""
    from ..core.errors import ConfigError
    from .api import sample
    from .cli import run_model_type

    folder = ctx.resolve_run(run, prefix=PREFIXES)
    length = int(length)
    if not 1 <= length <= 1000:
        raise ConfigError(f"length must be 1..1000 (got {length})")
    out = ctx.new_output(".mid", "music")
    poly = run_model_type(folder) == "music-polyphonic"
    r = sample(folder, n=1, seed=int(seed), temperature=float(pitch_t),
               pitch_temperature=None if poly else float(pitch_t),
               duration_temperature=None if poly else float(duration_t), length=length,
               prompt=(str(prompt).strip() or None) if prompt else None, out=out)
    f = r["files"][0]
    note = "; ".join(r["lines"][:1] + [n.removeprefix("note: ") for n in r.get("notes", [])])
    return f["png"], f.get("attention"), f.get("wav"), f["midi"], note


def build_tab(gr: Any, ctx: Any) -> None:
    g = ctx.guard
    run = ctx.run_picker(gr, prefix=PREFIXES, label="music run (rnn-attention, gpt or polyphonic)",
                         elem_id="music-run")
    with gr.Row():
        seed = gr.Number(value=0, precision=0, label="seed", elem_id="music-seed")
        pitch_t = gr.Slider(0.1, 2.0, value=1.0, step=0.05, label="pitch temperature (polyphonic: the frames')",
                            elem_id="music-pitch-t")
        duration_t = gr.Slider(0.1, 2.0, value=1.0, step=0.05, label="duration temperature (note models)",
                               elem_id="music-duration-t")
        length = gr.Number(value=48, precision=0, label="length (notes, or frames for polyphonic)",
                           elem_id="music-length")
    prompt = gr.Textbox(label="prompt (note models): PITCH:DURATION tokens, e.g. 67:1 67:1/2 69:1/2",
                        elem_id="music-prompt")
    btn = gr.Button("Compose", variant="primary", elem_id="music-compose-btn")
    with gr.Row():
        roll = gr.Image(label="piano roll", type="filepath", interactive=False, elem_id="music-roll")
        attention = gr.Image(label="attention heat map (rnn-attention)", type="filepath", interactive=False,
                             elem_id="music-attention")
    audio = gr.Audio(label="audio", type="filepath", interactive=False, elem_id="music-audio")
    midi = gr.File(label="MIDI", interactive=False, elem_id="music-midi")
    note = gr.Markdown(elem_id="music-note")
    btn.click(g(compose, ctx), [run, seed, pitch_t, duration_t, length, prompt], [roll, attention, audio, midi, note])
