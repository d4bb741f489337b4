"""The tour's music section (Foster ch. 7): Foster's note/duration LSTM with attention on Bach chorale melodies (a
folder parsed by `genlab music prepare`), its attention heat map and a sample as audio; the polyphonic RNN-NADE on the
JSB chorales with its frame NLL beside the baselines, a sample as a piano roll and as audio."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..core.tourkit import Figure, TourContext, TourSection


def _chorale_files(n: int) -> list[Path]:
    import music21

    folder = Path(music21.__file__).parent / "corpus" / "bach"
    return sorted(folder.glob("bwv*.mxl"))[:n]


def run(ctx: TourContext) -> list[Figure]:
    from .data import find_shared

    if ctx.toy:
        n_files, note_steps, poly_steps, tiny = 6, 3, 3, ["--hidden-size", "16", "--seq-len", "12"]
    elif ctx.budget == "full":
        n_files, note_steps, poly_steps, tiny = 200, 3000, 2000, []
    else:
        n_files, note_steps, poly_steps, tiny = 24, 60, 120, []
    engine = ["--sample-every", "0", "--no-progress", "--no-tensorboard", "--seed", ctx.seed, "--device", ctx.device,
              "--batch-size", "16"]
    chorales = ctx.path("chorales")
    chorales.mkdir(parents=True, exist_ok=True)
    for f in _chorale_files(n_files):
        shutil.copy(f, chorales / f.name)
    data = ctx.path("chorale-data")
    cmd_prepare = ctx.genlab("music", "prepare", chorales, "--out", data, "--no-progress")
    notes_run = ctx.path("notes")
    cmd_train = ctx.genlab("music", "train", "--model", "rnn-attention", "--data", data, "--max-steps", note_steps,
                           "--eval-every", max(1, note_steps // 3), *tiny, *engine, "--out", notes_run)
    samples = ctx.path("samples")
    cmd_sample = ctx.genlab("music", "sample", notes_run, "--output", samples / "melody.mid", "--length", 32,
                            "--prompt", "67:1 67:1 69:1 71:1", "--pitch-temperature", "0.8", "--seed", ctx.seed)
    cmd_eval = ctx.genlab("music", "evaluate", notes_run, "--n-samples", 2, "--output", ctx.path("notes_eval.json"))
    ev = json.loads(ctx.path("notes_eval.json").read_text())
    b = ev["baselines"]["bigram"]
    on = f"{ev['notes']} notes of {ev['tunes']} held-out chorale melodies (valid split of {n_files} chorales)"
    note_metrics = {"pitch / duration cross-entropy": f"{ev['pitch_ce']:.3f} / {ev['duration_ce']:.3f} nats per note "
                                                      f"(bigram baseline {b['pitch_ce']:.3f} / {b['duration_ce']:.3f})",
                    "measured on": on, "measured by": cmd_eval}
    figs = [Figure(samples / "melody_attention.png", "Note/duration LSTM: what each new note attended to",
                   f"Foster's heat map: rows are generated notes, columns the notes before them (the first four are "
                   f"the prompt); after {note_steps} steps on {n_files} chorale soprano lines.",
                   f"{cmd_prepare}\n{cmd_train}\n{cmd_sample}", note_metrics),
            Figure(samples / "melody.png", "Note/duration LSTM: the melody",
                   "The generated melody as a piano roll (a gap separates repeated notes).", cmd_sample, {})]
    if (samples / "melody.wav").is_file():
        figs.append(Figure(samples / "melody.wav", "Note/duration LSTM: the melody as audio",
                           "MIDI rendered with FluidSynth and a General MIDI soundfont when installed (else sine "
                           "waves).", cmd_sample, {}))
    poly_data = "jsb-quarter" if find_shared("jsb-chorales/jsb-chorales-quarter.json") and not ctx.toy else str(data)
    poly_run = ctx.path("poly")
    cmd_ptrain = ctx.genlab("music", "train", "--model", "polyphonic", "--data", poly_data, "--max-steps",
                            poly_steps, "--eval-every", max(1, poly_steps // 4), *tiny, *engine, "--out", poly_run)
    cmd_peval = ctx.genlab("music", "evaluate", poly_run, "--output", ctx.path("poly_eval.json"))
    pev = json.loads(ctx.path("poly_eval.json").read_text())
    cmd_psample = ctx.genlab("music", "sample", poly_run, "--output", samples / "chorale.mid", "--length", 32,
                             "--seed", ctx.seed)
    pb = pev.get("baselines", {})
    where = "JSB chorales" if poly_data == "jsb-quarter" else "the prepared chorales"
    poly_metrics = {"frame NLL": f"{pev['nll']:.3f} nats per step, summed over 88 keys (independent Bernoulli "
                                 f"{pb.get('independent_bernoulli', float('nan')):.3f}, per-key Markov "
                                 f"{pb.get('per_key_markov', float('nan')):.3f})",
                    "measured on": f"{where} [{pev['split']}]: {pev['pieces']} pieces, {pev['steps']} quarter-note "
                                   f"steps; published test-split figures (Chung et al. 2014: GRU 8.54) are another "
                                   f"split", "measured by": cmd_peval}
    figs.append(Figure(samples / "chorale.png", "Polyphonic RNN-NADE: 32 quarter notes of chorale texture",
                       f"A GRU over 88-key frames, each frame drawn key by key by a NADE; {poly_steps} steps on "
                       f"{where}.", f"{cmd_ptrain}\n{cmd_psample}", poly_metrics))
    if (samples / "chorale.wav").is_file():
        figs.append(Figure(samples / "chorale.wav", "Polyphonic RNN-NADE: the sample as audio",
                           "The same frames as MIDI (piano), rendered to WAV.", cmd_psample, {}))
    return figs


def section() -> TourSection:
    return TourSection(
        key="music", title="Music: a note/duration LSTM with attention and a polyphonic RNN-NADE (Foster ch. 7)",
        run=run, estimate_s={"quick": 60, "full": 1200}, requires=("music21", "pretty_midi"),
        summary="Foster's note/duration model reads a tune as two token streams (pitch, duration) through two LSTMs "
                "and an attention layer; the heat map shows which earlier notes it looked at. The polyphonic model "
                "predicts whole 88-key frames of Bach chorales, scored by the standard frame NLL.")
