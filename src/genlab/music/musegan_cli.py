"""``genlab music train|sample|evaluate`` for ``--model musegan`` (the music CLI, ``genlab.music.cli``, calls these).

* :func:`add_train_options` adds MuseGAN's argument group to ``genlab music train``;
* :func:`run_train` trains (``--data`` / ``--out`` / ``--resume`` and the engine's flags come from the music parser);
* :func:`run_sample`, :func:`run_evaluate` serve a run whose model type is ``music-musegan``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from ..core import clikit
from ..core.config import from_dict, given_options
from ..core.errors import ConfigError

# command-line flag dest -> (config, field)
_MODEL_FLAGS = {"musegan_z_dim": "z_dim", "musegan_g_width": "g_width", "musegan_d_width": "d_width",
                "musegan_temporal_width": "temporal_width"}
_OPTION_FLAGS = {"critic_steps": "critic_steps", "gp_weight": "gp_weight", "musegan_eval_samples": "eval_samples"}
_DATA_FLAGS = {"musegan_parts": "parts", "musegan_windows": "windows"}


def add_train_options(parser: argparse.ArgumentParser) -> None:
    from .musegan_config import MuseGANConfig, MuseGANTrainOptions  # no torch: building the parser stays light

    g = parser.add_argument_group("musegan model (--model musegan; Foster ch. 7 / Dong et al. 2018, WGAN-GP; engine "
                                  "defaults: --max-steps 3000 critic steps, --batch-size 64, --lr 1e-3, "
                                  "--adam-beta1 0.5, --adam-beta2 0.9)")
    defaults = {f.name: f for f in dataclasses.fields(MuseGANConfig)}
    for dest, name in _MODEL_FLAGS.items():
        f = defaults[name]
        g.add_argument("--" + dest.replace("_", "-"), dest=dest, type=int, default=argparse.SUPPRESS,
                       help=f"{f.metadata['help']} (default: {f.default})")
    opts = {f.name: f for f in dataclasses.fields(MuseGANTrainOptions)}
    for dest, name in _OPTION_FLAGS.items():
        f = opts[name]
        g.add_argument("--" + dest.replace("_", "-"), dest=dest, type=type(f.default), default=argparse.SUPPRESS,
                       help=f"{f.metadata['help']} (default: {f.default})")
    g.add_argument("--musegan-parts", dest="musegan_parts", type=int, nargs=4, metavar="N", default=argparse.SUPPRESS,
                   help="MusicXML/MIDI --data: the four parts (1-based, top to bottom) to use as soprano, alto, tenor, "
                        "bass; without it a file that does not have exactly 4 parts is skipped (and named)")
    g.add_argument("--musegan-windows", dest="musegan_windows", choices=("all", "first"), default=argparse.SUPPRESS,
                   help="training windows: all 2-bar windows with a hop of 1 bar, or only the first of each chorale "
                        "(Foster's 229 examples, which invites memorisation) (default: all)")


def _stray_flags(args: argparse.Namespace) -> list[str]:
    """Options of the other music models that the user typed with --model musegan."""
    try:
        from . import config as music_config
    except ImportError:  # pragma: no cover - part of the same package
        return []
    names: set[str] = set()
    for cls_name in ("SharedModelOptions", "NoteRNNConfig", "PolyConfig", "MusicGPTOptions"):
        cls = getattr(music_config, cls_name, None)
        if cls is not None:
            names |= {f.name for f in dataclasses.fields(cls) if f.metadata.get("cli", True)}
    names |= {"max_tunes", "transpose"}
    return sorted(n for n in names if n in vars(args))


def _typed(args: argparse.Namespace, flags: dict[str, str]) -> dict[str, Any]:
    out = {}
    for dest, name in flags.items():
        if dest in vars(args):
            value = getattr(args, dest)
            out[name] = tuple(value) if isinstance(value, list) else value
    return out


def run_train(args: argparse.Namespace) -> int:
    from ..core.engine import TrainConfig
    from .musegan import MuseGANConfig
    from .musegan_api import DEFAULT_TRAIN, MuseGANDataConfig, train
    from .musegan_trainer import MuseGANTrainOptions

    stray = _stray_flags(args)
    if stray:
        raise ConfigError(f"{', '.join('--' + s.replace('_', '-') for s in stray)} do(es) not apply to --model "
                          f"musegan (its options are the --musegan-*, --critic-steps and --gp-weight flags)")
    out = getattr(args, "out", None)
    if out is not None:
        clikit.check_output_dir(out)
    model = _typed(args, _MODEL_FLAGS)
    options = _typed(args, _OPTION_FLAGS)
    data = _typed(args, _DATA_FLAGS)
    if "data" in vars(args) and args.data is not None:
        data["data"] = args.data
    typed_train = given_options(args, TrainConfig)
    if getattr(args, "config", None):
        from_file = clikit.read_config_file(args.config, [MuseGANConfig, MuseGANTrainOptions, MuseGANDataConfig,
                                                          TrainConfig])
        pick = lambda cls, typed: {**{k: v for k, v in from_file.items()  # noqa: E731
                                      if k in {f.name for f in dataclasses.fields(cls)}}, **typed}
        model, options, data = pick(MuseGANConfig, model), pick(MuseGANTrainOptions, options), \
            pick(MuseGANDataConfig, data)
        typed_train = pick(TrainConfig, typed_train)
    if getattr(args, "resume", False):
        overrides = {**model, **options, **data, **typed_train}
        result = train(out=out, resume=True, overrides=overrides)
    else:
        result = train(from_dict(MuseGANConfig, model), from_dict(MuseGANDataConfig, data),
                       from_dict(TrainConfig, clikit.train_config_fields(DEFAULT_TRAIN, typed_train)),
                       from_dict(MuseGANTrainOptions, options), out=out)
    lines = []
    ev = result.eval_metrics or {}
    if "eval/qualified_note_rate" in ev:
        lines.append(f"on {getattr(args, 'musegan_eval_samples', None) or 'the --musegan-eval-samples'} generated "
                     f"windows: qualified-note rate {ev['eval/qualified_note_rate']:.3f}, empty-bar rate "
                     f"{ev['eval/empty_bar_rate']:.3f}, pitch classes per bar {ev['eval/used_pitch_classes']:.2f}, "
                     f"tonal distance soprano-bass {ev['eval/td_soprano_bass']:.3f} (real JSB valid: 0.976, 0.000, "
                     f"3.21, 1.457; `genlab music evaluate RUN` for the full comparison)")
    if "train/wasserstein" in result.metrics:
        lines.append(f"critic's Wasserstein estimate {result.metrics['train/wasserstein']:.3f} (last log window)")
    run = Path(result.run_dir)
    clikit.print_run_summary(result, lines, extra={
        "sample": f"genlab music sample {clikit.show_path(run)} --out DIR",
        "evaluate": f"genlab music evaluate {clikit.show_path(run)}"})
    return 0


def _refuse(args: argparse.Namespace, names: dict[str, str]) -> None:
    given = [flag for dest, flag in names.items() if getattr(args, dest, None) is not None]
    if given:
        raise ConfigError(f"{', '.join(given)} do(es) not apply to a MuseGAN run (it makes 2-bar windows from noise)")


def run_sample(args: argparse.Namespace, run_dir: Path) -> int:
    from .musegan_api import sample

    _refuse(args, {"prompt": "--prompt", "length": "--length", "pitch_temperature": "--pitch-temperature",
                   "duration_temperature": "--duration-temperature"})
    if getattr(args, "output", None):
        raise ConfigError("MuseGAN writes several files per sample (MIDI, WAV, PNG) and the noise grid; give "
                          "--out DIR, not --output FILE")
    n = getattr(args, "n", 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"--n must be a whole number >= 1 (got {n})")
    temperature = getattr(args, "temperature", 1.0)
    if not temperature > 0:
        raise ConfigError(f"--temperature must be > 0 (got {temperature}); for MuseGAN it scales the noise inputs")
    tempo = getattr(args, "tempo", 100.0)
    if not tempo > 0:
        raise ConfigError(f"--tempo must be > 0 (got {tempo})")
    soundfont = getattr(args, "soundfont", None)
    if soundfont is not None and not Path(soundfont).is_file():  # checked before any sample is written
        raise ConfigError(f"--soundfont {soundfont} does not exist; give an .sf2 file or leave it out (the system's "
                          f"General MIDI soundfont, else sine waves)")
    folder = clikit.check_output_dir(args.out) if getattr(args, "out", None) else Path(run_dir) / "samples"
    result = sample(run_dir, n=n, seed=getattr(args, "seed", 0), temperature=temperature, out=folder,
                    wav=getattr(args, "wav", True), soundfont=soundfont, tempo=tempo,
                    device=getattr(args, "device", "cpu"))
    for s in result["samples"]:
        clikit.say("  ".join(s[k] for k in ("midi", "wav", "png", "tracks_png") if k in s))
    if "noise_grid" in result:
        clikit.say(f"noise grid (one of chords / style / melody / groove redrawn per row): {result['noise_grid']}")
    for how in result.get("wav_how", []):
        if not how.startswith("fluidsynth"):
            clikit.stderr(f"note: WAV rendered with {how}; the MIDI files are unaffected")
    clikit.print_written(result["folder"], "samples")
    return 0


def run_evaluate(args: argparse.Namespace, run_dir: Path) -> int:
    from .musegan_api import evaluate

    path = clikit.resolve_output(args, default_dir=Path(run_dir), filename="eval.json", suffixes=(".json",))
    n = getattr(args, "n_samples", None)
    n = 2000 if n is None else n
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"--n-samples must be a whole number >= 1 (got {n})")
    result = evaluate(run_dir, data=getattr(args, "data", None), split=getattr(args, "split", "valid"), n_samples=n,
                      seed=getattr(args, "seed", 0), output=path,
                      memorisation_figure=path.with_name(path.stem + "_memorisation.png"),
                      device=getattr(args, "device", "cpu"))
    for line in result["lines"]:
        clikit.say(line)
    for w in result.get("warnings", []):
        clikit.stderr(w)
    clikit.say(f"memorisation figure: {clikit.show_path(result['memorisation_figure'])}")
    clikit.print_written(path)
    return 0
