"""The tour's MuseGAN section (Foster ch. 7, Dong et al. 2018): a short WGAN-GP run on every 2-bar window of the Bach
chorales, a sample as four piano rolls and as audio, the grid where one noise input changes and the others stay, and
the objective metrics and memorisation check beside the real valid windows."""

from __future__ import annotations

import json

from ..core.tourkit import Figure, TourContext, TourSection


def _metrics(path) -> dict[str, str]:
    ev = json.loads(path.read_text(encoding="utf-8"))
    gen, real, p = ev["generated"], ev["real_valid"], ev["protocol"]
    mem = ev["memorisation"]
    on = f"{p['samples']:,} generated windows vs {p['real_windows']:,} real JSB valid windows (2 bars, 16th grid)"

    def pair(key: str, sub: str = "mean") -> str:
        return f"{gen[key][sub]:.3f} (real {real[key][sub]:.3f})"

    return {"qualified-note rate (>= 2 steps)": pair("qualified_note_rate"),
            "used pitch classes per bar": pair("used_pitch_classes"),
            "empty-bar rate": pair("empty_bar_rate"),
            "tonal distance soprano-bass": f"{gen['tonal_distance']['soprano-bass']:.3f} (real "
                                           f"{real['tonal_distance']['soprano-bass']:.3f}; another chorale's bass "
                                           f"{real['tonal_distance_soprano_other_bass']:.3f})",
            "exact copies of a training window": f"{100 * mem['generated']['exact_copy_rate']:.1f}% of samples",
            "measured on": on}


def run(ctx: TourContext) -> list[Figure]:
    if ctx.toy:
        steps, widths, batch, n_eval = 4, ("4", "8", "4", "8"), "8", 40
    elif ctx.budget == "full":
        steps, widths, batch, n_eval = 3000, ("32", "256", "64", "512"), "64", 2000
    else:
        steps, widths, batch, n_eval = 100, ("16", "64", "16", "128"), "32", 500
    z, gw, dw, tw = widths
    run_dir = ctx.path("musegan")
    cmd_train = ctx.genlab("music", "train", "--model", "musegan", "--max-steps", steps, "--batch-size", batch,
                           "--musegan-z-dim", z, "--musegan-g-width", gw, "--musegan-d-width", dw,
                           "--musegan-temporal-width", tw, "--musegan-eval-samples", "64", "--sample-every", "0",
                           "--checkpoint-every", max(2, steps // 2), "--seed", ctx.seed, "--no-progress",
                           "--no-tensorboard", "--device", ctx.device, "--out", run_dir)
    cmd_eval = ctx.genlab("music", "evaluate", run_dir, "--n-samples", n_eval, "--seed", ctx.seed,
                          "--output", ctx.path("eval.json"))
    metrics = {**_metrics(ctx.path("eval.json")), "measured by": cmd_eval}
    samples = ctx.path("samples")
    cmd_sample = ctx.genlab("music", "sample", run_dir, "--n", "1", "--seed", ctx.seed, "--out", samples)
    stem = samples / f"musegan_{ctx.seed}_000"
    after = f"after {steps} critic steps ({steps // 5} generator steps)"
    figs = [Figure(stem.with_name(stem.name + "_tracks.png"), "MuseGAN: a 2-bar sample, one roll per voice",
                   f"Soprano, alto, tenor and bass of one generated window {after} of WGAN-GP on every 2-bar window "
                   f"of the JSB chorales. A short run makes short, flickering notes; the qualified-note rate "
                   f"measures that.", f"{cmd_train}\n{cmd_sample}", metrics)]
    wav = stem.with_suffix(".wav")
    if wav.is_file():
        figs.append(Figure(wav, "MuseGAN: the sample as audio",
                           "The same window as MIDI rendered to WAV (FluidSynth with a General MIDI soundfont when "
                           "installed, else sine waves), choir voices.", cmd_sample, {}))
    grid = samples / f"noise_grid_{ctx.seed}.png"
    if grid.is_file():
        figs.append(Figure(grid, "MuseGAN: one noise input at a time",
                           "Each row redraws one of the four noise inputs (chords, style, melody, groove) and keeps "
                           "the other three; column 0 is the base sample. Chords and style act on every track, "
                           "melody and groove on one track each.", cmd_sample, {}))
    mem = ctx.path("eval_memorisation.png")
    if mem.is_file():
        figs.append(Figure(mem, "MuseGAN: does it copy its training data?",
                           "Distance of each generated window to its nearest training window (Hamming distance of "
                           "the piano rolls over their note cells; 0 is a copy), beside the same for real held-out "
                           "windows.", cmd_eval, {"measured on": metrics["measured on"]}))
    return figs


def section() -> TourSection:
    return TourSection(
        key="musegan", title="MuseGAN: four-voice chorales from four noise inputs (Foster ch. 7)", run=run,
        estimate_s={"quick": 60, "full": 1500}, requires=("pretty_midi",),
        summary="MuseGAN (Dong et al. 2018) makes 2-bar, 4-track piano rolls from chords, style, melody and groove "
                "noise through a temporal network and one bar generator per track, trained with WGAN-GP on all "
                "3,176 two-bar windows of the Bach chorales. Its objective metrics are compared with the real "
                "valid windows' values, never read alone.")
