"""``genlab music prepare|train|sample|evaluate``, built from core/clikit.py.

MuseGAN lives in ``musegan_cli.py`` (imported lazily, only when it is needed), which provides
``add_train_options(parser)``, ``run_train(args)``, ``run_sample(args, run_dir)`` and ``run_evaluate(args, run_dir)``,
and optionally ``add_sample_options(parser)`` / ``add_evaluate_options(parser)``. ``run_train`` gets the parsed
``train`` arguments: flags the user did not type are absent (argparse.SUPPRESS), so read them with
``getattr(args, name, None)`` or ``clikit.given_options(args, TrainConfig)``; ``args.model == "musegan"``.
A run whose ``config.json`` says ``"model_type": "music-musegan..."`` is sampled and evaluated by it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core import clikit
from ..core.config import from_dict
from ..core.errors import ConfigError, GenlabError

MUSEGAN_PREFIX = "music-musegan"


class MuseGANMissing(GenlabError):
    """The MuseGAN part of the music family is not installed in this checkout."""


def _musegan(what: str):
    import importlib

    name = f"{__package__}.musegan_cli"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            raise MuseGANMissing(f"{what} needs {name}, which this genlab does not have") from None
        raise


def _musegan_if_present():
    try:
        return _musegan("musegan")
    except MuseGANMissing:
        return None


def _train_fn():
    from .api import train
    return train


_GROUP_OF_MODEL = {"rnn-attention": "rnn", "gpt": "gpt", "polyphonic": "poly", "musegan": None}


def _own(given: dict[str, dict[str, Any]], group: str) -> dict[str, Any]:
    """What the user typed for one model's own group (the shared options are typed once, in their group)."""
    from dataclasses import fields

    from .config import MusicGPTOptions, NoteRNNConfig, PolyConfig, SharedModelOptions

    cls = {"rnn": NoteRNNConfig, "poly": PolyConfig, "gpt": MusicGPTOptions}[group]
    shared = {f.name for f in fields(SharedModelOptions)}
    flags = {f.name for f in fields(cls) if f.metadata.get("cli", True)} - shared
    return {k: v for k, v in given[group].items() if k in flags}


def _build(given: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from .config import MusicDataConfig

    data = from_dict(MusicDataConfig, given["data_config"])
    typed = given["data_config"]
    if "transpose" in typed and data.model != "polyphonic":
        raise ConfigError(f"--transpose does not apply to --model {data.model} (it augments the polyphonic model)")
    if "max_tunes" in typed and data.model not in ("rnn-attention", "gpt"):
        raise ConfigError(f"--max-tunes does not apply to --model {data.model} (it limits the note models' tunes)")
    mine = _GROUP_OF_MODEL[data.model]
    for group in ("rnn", "poly", "gpt"):
        if group != mine:
            stray = sorted(_own(given, group))
            if stray:
                flags = ", ".join("--" + k.replace("_", "-") for k in stray)
                raise ConfigError(f"{flags} do(es) not apply to --model {data.model}")
    options = {**(_own(given, mine) if mine else {}), **given["shared"]}
    return {"data_config": data, "model_options": options}


def _summary(result: Any) -> list[str]:
    ev = result.eval_metrics or {}
    lines = []
    if "eval/nll" in ev:
        lines.append(f"validation frame NLL {ev['eval/nll']:.3f} nats per step (sum over 88 keys)")
    if "eval/pitch_ce" in ev:
        lines.append(f"validation cross-entropy: pitch {ev['eval/pitch_ce']:.3f}, duration "
                     f"{ev['eval/duration_ce']:.3f} nats per note")
    best = getattr(result, "best", None)
    if best:
        lines.append(f"best validation loss {best['loss']:.4f} at step {best['step']} (saved in RUN/best)")
    return lines


def _outputs(run_dir: Path) -> dict[str, str]:
    return {"best":   clikit.show_path(run_dir / "best"),
            "sample": f"genlab music sample {clikit.show_path(run_dir)} --out DIR"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..core.engine import TrainConfig
    from .config import MusicDataConfig, MusicGPTOptions, NoteRNNConfig, PolyConfig, SharedModelOptions
    from .defaults import train_defaults

    sub = clikit.family_parser(
        subparsers, "music", help="music: note/duration LSTM with attention, GPT, polyphonic chorales, MuseGAN",
        description="Compose music (Foster ch. 7): a note/duration LSTM with attention and a GPT over note tokens, an "
                    "RNN over 88-key chorale frames, MuseGAN. Every sample is MIDI + WAV + a piano-roll PNG.")

    p = sub.add_parser("prepare", help="parse a folder of MIDI / MusicXML files once into a DATA folder",
                       description="Parse every MIDI / MusicXML / ABC file under DIR (in parallel, cached) into note "
                                   "tokens and piano rolls, split by file into train/valid, and store the vocabulary. "
                                   "Unreadable files are skipped and named.")
    p.add_argument("dir", metavar="DIR", help="folder of .mid/.midi/.xml/.musicxml/.mxl/.abc/.krn files")
    p.add_argument("--out", metavar="DATA", required=True, help="the DATA folder to write (pass it to train --data)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="share of files held out as valid (default: 0.1)")
    p.add_argument("--workers", type=int, default=None, help="parallel parser processes (default: CPU count, max 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/valid split of the files (default: 0)")
    clikit.add_progress_argument(p)
    p.set_defaults(func=_prepare)

    shared = tuple(f for f in SharedModelOptions.__dataclass_fields__)
    t = clikit.add_train_command(
        sub, family="music", train=_train_fn, build=_build, summary=_summary, outputs=_outputs,
        help="train a music model (--model rnn-attention|gpt|polyphonic|musegan)",
        description="Train a music model; each --model has a built-in data set, so --data may be left out. The model "
                    "with the lowest validation loss is kept in RUN/best (sample and evaluate use it).",
        groups=[clikit.Options("data_config", MusicDataConfig, "data"),
                clikit.Options("shared", SharedModelOptions, "model (every --model; none = that model's default)"),
                clikit.Options("rnn", NoteRNNConfig, "rnn-attention model", exclude=shared),
                clikit.Options("gpt", MusicGPTOptions, "gpt model"),
                clikit.Options("poly", PolyConfig, "polyphonic model", exclude=shared)],
        train_defaults=lambda configs: train_defaults(configs["data_config"].model))
    from .defaults import DEFAULT_TRAIN, PER_MODEL

    for action in t._actions:  # the engine's defaults shown in -h are replaced by this family's, per model
        if action.dest in DEFAULT_TRAIN and action.help:
            base = action.help.rsplit(" (default: ", 1)[0]
            if action.dest == "sample_every":
                base = "write a sample (MIDI + PNG) every N steps (0 = only at the end)"
            per = {m: PER_MODEL[m][action.dest] for m in PER_MODEL if action.dest in PER_MODEL[m]}
            shown = f"{DEFAULT_TRAIN[action.dest]}" + "".join(f"; {m}: {v}" for m, v in per.items())
            action.help = f"{base} (default: {shown})"
    musegan = _musegan_if_present()
    if musegan is not None:
        musegan.add_train_options(t)
    plain_train = t.get_default("func")

    def train(args: argparse.Namespace) -> int:
        if getattr(args, "model", None) == "musegan":
            return _musegan("--model musegan").run_train(args)
        return plain_train(args)

    t.set_defaults(func=train)

    s = sub.add_parser("sample", help="compose: MIDI + WAV + piano-roll PNG per sample",
                       description="Sample a trained run. Each sample is NAME.mid, NAME.wav (FluidSynth, or a sine "
                                   "rendering when it is missing) and NAME.png; the note models also write the "
                                   "attention heat map and the tokens.")
    clikit.add_run_argument(s)
    clikit.add_output_arguments(s, default="RUN_DIR/samples", what="the samples")
    s.add_argument("--n", type=int, default=1, help="number of samples (default: 1)")
    s.add_argument("--seed", type=int, default=0, help="(default: 0)")
    s.add_argument("--temperature", type=float, default=1.0, metavar="T",
                   help="sampling temperature of every head (default: 1.0)")
    s.add_argument("--pitch-temperature", type=float, metavar="T", help="note models: pitch head (default: --temperature)")
    s.add_argument("--duration-temperature", type=float, metavar="T",
                   help="note models: duration head (default: --temperature)")
    s.add_argument("--length", type=int, default=None,
                   help="notes (note models) or frames (polyphonic) to generate (default: 64 notes / 32 frames)")
    s.add_argument("--prompt", default=None, metavar="NOTES",
                   help="note models: the first notes, as PITCH:DURATION tokens separated by spaces, e.g. "
                        "'67:1 67:0.5 69:0.5' (MIDI pitch or rest, quarter notes); or a MIDI/MusicXML file whose first "
                        "notes are used")
    s.add_argument("--prompt-notes", type=int, default=16, help="notes of a --prompt file to use (default: 16)")
    s.add_argument("--tempo", type=float, default=100.0, help="quarter notes per minute in the MIDI (default: 100)")
    s.add_argument("--wav", action=argparse.BooleanOptionalAction, default=True, help="also render WAV (default: yes)")
    s.add_argument("--soundfont", metavar="SF2", help="General MIDI soundfont for FluidSynth (default: the system's)")
    clikit.add_device_argument(s, default="cpu")
    if musegan is not None and hasattr(musegan, "add_sample_options"):
        musegan.add_sample_options(s)
    s.set_defaults(func=_sample)

    e = sub.add_parser("evaluate", help="frame NLL (polyphonic), token cross-entropy vs n-grams (note models), "
                                        "MuseGAN's metrics",
                       description="Evaluate a run on the valid split of its data, or on --data FILE (any JSB JSON "
                                   "file, e.g. a held-back test split) --split NAME.")
    clikit.add_run_argument(e)
    e.add_argument("--data", metavar="FILE|DATA", help="data to score (default: the run's own data)")
    e.add_argument("--split", default="valid", help="split of --data (valid, test, train ...) (default: valid)")
    e.add_argument("--n-samples", type=int, default=None, help="samples drawn for sample-based metrics "
                                                               "(memorisation; MuseGAN) (default: per model)")
    e.add_argument("--seed", type=int, default=0, help="(default: 0)")
    clikit.add_output_arguments(e, default="RUN_DIR", what="the JSON result (eval.json)")
    clikit.add_device_argument(e, default="cpu")
    if musegan is not None and hasattr(musegan, "add_evaluate_options"):
        musegan.add_evaluate_options(e)
    e.set_defaults(func=_evaluate)


def run_model_type(run: str | Path) -> str:
    """The ``model_type`` of a run folder or saved-model folder (its config.json, else its newest checkpoint's)."""
    from ..core.model import read_model_config, resolve_model_dir

    return str(read_model_config(resolve_model_dir(run))["model_type"])


def _prepare(args: argparse.Namespace) -> int:
    from .prepare import prepare

    clikit.check_output_dir(args.out)
    info = prepare(args.dir, args.out, val_fraction=args.val_fraction, workers=args.workers, seed=args.seed,
                   progress=args.progress)
    clikit.say(f"parsed {info['files_ok']} of {info['files']} files ({info['files_skipped']} skipped"
               + (f": {', '.join(info['skipped_names'][:5])}{' ...' if info['files_skipped'] > 5 else ''}"
                  if info['files_skipped'] else "") + ")",
               f"{info['notes']} notes, vocabulary {info['pitch_vocab']} pitches x {info['duration_vocab']} "
               f"durations; train {info['train_tunes']} / valid {info['valid_tunes']} tunes")
    clikit.print_written(args.out, "data")
    return 0


def _sample(args: argparse.Namespace) -> int:
    model_type = run_model_type(args.run)
    if model_type.startswith(MUSEGAN_PREFIX):
        return _musegan(f"sampling a {model_type} run").run_sample(args, Path(args.run))
    from .api import sample

    out = clikit.resolve_output(args, default_dir=Path(args.run) / "samples", filename="sample.mid",
                                suffixes=(".mid", ".midi"))
    result = sample(args.run, n=args.n, seed=args.seed, temperature=args.temperature,
                    pitch_temperature=args.pitch_temperature, duration_temperature=args.duration_temperature,
                    length=args.length, prompt=args.prompt, prompt_notes=args.prompt_notes, tempo=args.tempo,
                    wav=args.wav, soundfont=args.soundfont, out=out, device=args.device)
    for line in result["lines"]:
        clikit.say(line)
    for note in result.get("notes", []):
        clikit.stderr(note)
    clikit.print_written(result["folder"], "samples")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    model_type = run_model_type(args.run)
    if model_type.startswith(MUSEGAN_PREFIX):
        return _musegan(f"evaluating a {model_type} run").run_evaluate(args, Path(args.run))
    from .api import evaluate

    path = clikit.resolve_output(args, default_dir=Path(args.run), filename="eval.json", suffixes=(".json",))
    result = evaluate(args.run, data=args.data, split=args.split, n_samples=args.n_samples, seed=args.seed,
                      output=path, device=args.device)
    for line in result["lines"]:
        clikit.say(line)
    for w in result.get("warnings", []):
        clikit.stderr(w)
    clikit.print_written(path)
    return 0
