"""The command-line kit every family's ``cli.py`` is built from: the ``train`` verb (config dataclasses as argument
groups, ``--out``/``--resume``, the run summary), and the shared pieces of ``sample`` / ``evaluate`` / tools
(``RUN_DIR``, ``--device``, ``--out DIR`` / ``--output FILE``, ``--[no-]progress``).

One meaning per flag, in every family:

* ``--out`` is always a **folder** (a run folder for ``train``, the folder outputs go into otherwise). A name that
  looks like a file (``x.png``) is refused with a hint to use ``--output``.
* ``--output FILE`` names the one file a single-output command writes (a PNG, a JSON, a text file).
* ``--epochs`` / ``--max-steps``: the one the user types wins; if both are typed, ``--max-steps`` wins. A family's
  default ``max_steps`` is dropped when the user types ``--epochs``.

A family's CLI then reads (see docs/ADDING_A_FAMILY.md)::

    def add_parser(subparsers):
        sub = clikit.family_parser(subparsers, "vae", help="...")
        clikit.add_train_command(sub, family="vae", train=_api().train, groups=[
            clikit.Options("data_config", ImageDataConfig, "data"), clikit.Options("model_config", VAEConfig, "model")],
            train_defaults=DEFAULT_TRAIN, summary=_summary)
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import add_dataclass_arguments, from_dict, given_options
from .errors import ConfigError

FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".json", ".txt", ".md", ".csv", ".pdf", ".svg")


def is_main_process() -> bool:
    """False on the non-zero ranks of a ``torchrun`` job: only rank 0 prints summaries."""
    return os.environ.get("RANK", "0") in ("", "0")


def say(*lines: str) -> None:
    """Print result lines on stdout (rank 0 only)."""
    if is_main_process():
        for line in lines:
            print(line, flush=True)


def show_path(path: str | os.PathLike) -> str:
    """A path as a user can paste it back into a shell (quoted when it holds spaces or other specials)."""
    return shlex.quote(str(path))


# ---- parsers -------------------------------------------------------------------------------------------------------

def family_parser(subparsers: argparse._SubParsersAction, name: str, *, help: str,
                  description: str | None = None) -> argparse._SubParsersAction:
    """``genlab NAME COMMAND ...``: returns the action to add the family's commands to."""
    p = subparsers.add_parser(name, help=help, description=description or help)
    return p.add_subparsers(dest="command", required=True, metavar="COMMAND")


def add_run_argument(p: argparse.ArgumentParser, *, help: str = "a run folder or saved-model folder") -> None:
    p.add_argument("run", metavar="RUN_DIR", help=help)


def add_device_argument(p: argparse.ArgumentParser, *, default: str = "auto") -> None:
    p.add_argument("--device", default=default,
                   help=f"auto|cpu|cuda|mps (auto: CUDA, then MPS, then CPU) (default: {default})")


def add_progress_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="show progress (a bar on a terminal, a line now and then otherwise) (default: yes)")


def add_output_arguments(p: argparse.ArgumentParser, *, default: str, what: str = "the output") -> None:
    """``--out DIR`` (folder for the output, default ``default``) and ``--output FILE`` (exact file)."""
    p.add_argument("--out", metavar="DIR", help=f"folder to write {what} into (default: {default})")
    p.add_argument("--output", metavar="FILE", help=f"write {what} to exactly this file instead")


# ---- output paths: checked BEFORE the work, so a bad path never costs a result ------------------------------------

def check_output_dir(path: str | os.PathLike, *, flag: str = "--out") -> Path:
    """A folder that can be created and written; refuses file-like names and existing files (one-line errors)."""
    path = Path(path)
    if path.suffix.lower() in FILE_SUFFIXES and not path.is_dir():
        raise ConfigError(f"{flag} is a folder, and {str(path)!r} looks like a file name; "
                          f"use --output {path} to write one file, or give {flag} a folder")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path} exists and is not a folder; choose another {flag}")
    _check_creatable_dir(path, flag)
    return path


def check_output_file(path: str | os.PathLike, *, flag: str = "--output",
                      suffixes: Sequence[str] | None = None) -> Path:
    """A file path whose folder can be created and written; refuses an existing folder (one-line errors)."""
    path = Path(path)
    if str(path).endswith(os.sep) or path.is_dir():
        raise ConfigError(f"{flag} {path} is a folder; give a file name (or use --out {path} for a folder)")
    if suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(f"{flag} {path}: the file name must end in {' or '.join(suffixes)}")
    _check_creatable_dir(path.parent if str(path.parent) else Path("."), flag, of=path)
    return path


def _check_creatable_dir(folder: Path, flag: str, *, of: Path | None = None) -> None:
    """Create ``folder`` (the output has to go there anyway) and write a probe file in it: the only honest test
    (``os.access`` says yes to root on /proc)."""
    import tempfile

    what = f"{flag} {of if of is not None else folder}"
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ConfigError(f"cannot write {what}: {existing} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".genlab-probe-"):
            pass
    except OSError as e:
        raise ConfigError(f"cannot write {what}: {e.strerror or e}; choose another {flag}") from None


def resolve_output(args: argparse.Namespace, *, default_dir: str | os.PathLike, filename: str,
                   suffixes: Sequence[str] | None = None) -> Path:
    """Where a single-output command writes: ``--output FILE``, else ``--out DIR``/filename, else default_dir/filename.

    Checked before any work is done. Commands without ``--output`` / ``--out`` just get the default.
    """
    output = getattr(args, "output", None)
    out = getattr(args, "out", None)
    if output and out:
        raise ConfigError("give --out DIR or --output FILE, not both")
    if output:
        return check_output_file(output, suffixes=suffixes)
    folder = check_output_dir(out) if out else Path(default_dir)
    return folder / filename


# ---- the train verb ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Options:
    """A config dataclass shown as one argument group of ``train`` and passed to the family's ``train()`` as
    ``param=`` (``model_config``, ``data_config``, ``options`` ...). ``defaults`` are the family's own defaults
    (shown by ``-h`` and applied under what the user types); ``exclude`` hides fields from the command line."""

    param: str
    cls: type
    title: str
    defaults: dict[str, Any] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()


def add_train_command(sub: argparse._SubParsersAction, *, family: str, train: Callable[[], Callable[..., Any]],
                      groups: Sequence[Options], train_defaults: dict[str, Any] | Callable[[dict], dict] | None = None,
                      train_exclude: tuple[str, ...] = (), description: str | None = None,
                      out_help: str | None = None, help: str | None = None,
                      build: Callable[[dict[str, dict[str, Any]]], dict[str, Any]] | None = None,
                      summary: Callable[[Any], Iterable[str]] | None = None,
                      outputs: Callable[[Path], dict[str, str]] | None = None) -> argparse.ArgumentParser:
    """Add ``genlab FAMILY train``.

    ``train`` returns the family's ``train`` function (a thunk, so the family's model code loads only when the
    command runs); it is called as ``train(**configs, train_config=TrainConfig, out=...)`` for a new run and as
    ``train(out=..., resume=True, overrides={field: value typed})`` for ``--resume``. ``build(given)`` may replace
    the default ``from_dict(group.cls, {**group.defaults, **typed})`` (``given`` maps each group's ``param`` to the
    fields the user typed) and returns ``{param: config}``. ``train_defaults`` may be a function of those configs
    (a GAN's loss picks its optimiser defaults). ``summary(result)`` gives the family's result lines (losses, FID ...);
    ``outputs(run_dir)`` the extra ``name: path`` lines of the run summary.
    """
    from .engine import TrainConfig

    shown_defaults = train_defaults if isinstance(train_defaults, dict) else {}
    t = sub.add_parser("train", help=help or f"train a {family} model",
                       description=(description or f"Train a {family} model.") +
                       " Writes a run folder (config, metrics.jsonl, tensorboard/, samples/, checkpoints/).")
    for g in groups:
        add_dataclass_arguments(t.add_argument_group(g.title), g.cls, defaults=g.defaults, exclude=g.exclude)
    add_dataclass_arguments(t.add_argument_group("training (whichever of --epochs / --max-steps you type wins; "
                                                 "both typed: --max-steps)"),
                            TrainConfig, defaults=shown_defaults, exclude=train_exclude)
    t.add_argument("--out", metavar="DIR", help=out_help or f"run folder (default: runs/{family}/<name>-<time>)")
    t.add_argument("--config", metavar="FILE", help="read options from a .toml or .json file (keys are the flag "
                                                    "names with _ or -, flat or under [data]/[model]/[training] "
                                                    "tables); flags typed on the command line win")
    t.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its newest checkpoint (changed training options are "
                        "applied and recorded; model options cannot change)")

    def run(args: argparse.Namespace) -> int:
        if args.out is not None:
            check_output_dir(args.out)
        given = {g.param: given_options(args, g.cls) for g in groups}
        given_train = given_options(args, TrainConfig)
        if args.config:
            from_file = read_config_file(args.config, [g.cls for g in groups] + [TrainConfig])
            given = {g.param: {**{k: v for k, v in from_file.items() if k in _fields(g.cls)}, **given[g.param]}
                     for g in groups}
            given_train = {**{k: v for k, v in from_file.items() if k in _fields(TrainConfig)}, **given_train}
        fn = train()
        if args.resume:
            overrides: dict[str, Any] = {}
            for d in (*given.values(), given_train):
                overrides.update(d)
            result = fn(out=args.out, resume=True, overrides=overrides)
        else:
            configs = build(given) if build is not None else {
                g.param: from_dict(g.cls, {**g.defaults, **given[g.param]}) for g in groups}
            defaults = dict(train_defaults(configs) if callable(train_defaults) else (train_defaults or {}))
            result = fn(**configs, train_config=from_dict(TrainConfig, train_config_fields(defaults, given_train)),
                        out=args.out)
        lines = list(summary(result)) if summary is not None else []
        print_run_summary(result, lines, extra=outputs(Path(result.run_dir)) if outputs else None)
        return 0

    t.set_defaults(func=run)
    return t


def _fields(cls: type) -> set[str]:
    import dataclasses

    return {f.name for f in dataclasses.fields(cls)}


def read_config_file(path: str | os.PathLike, classes: Sequence[type]) -> dict[str, Any]:
    """Options from a TOML or JSON file, flat or in tables (``[model]``, ``[training]`` ...), as field -> value.

    Parsed, never executed. Unknown keys are a one-line error naming the valid ones.
    """
    import json
    import tomllib

    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read --config {path} ({e.strerror or e})") from None
    try:
        data = tomllib.loads(text.decode("utf-8")) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"--config {path} is not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'} "
                          f"({' '.join(str(e).split())})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path} must hold a table/object of options")
    flat: dict[str, Any] = {}
    for key, value in data.items():
        items = value.items() if isinstance(value, dict) else [(key, value)]
        for k, v in items:
            flat[str(k).replace("-", "_")] = tuple(v) if isinstance(v, list) else v
    valid = set().union(*(_fields(c) for c in classes))
    unknown = sorted(set(flat) - valid)
    if unknown:
        raise ConfigError(f"--config {path}: unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}")
    return flat


def train_config_fields(defaults: dict[str, Any], typed: dict[str, Any]) -> dict[str, Any]:
    """The engine fields of a new run: the family's defaults under what the user typed, where a typed ``--epochs``
    beats a default ``max_steps`` (and a typed ``--max-steps`` beats everything)."""
    merged = dict(defaults)
    if "epochs" in typed and "max_steps" not in typed:
        merged.pop("max_steps", None)
    return {**merged, **typed}


def print_run_summary(result: Any, lines: Iterable[str] = (), *, extra: dict[str, str] | None = None) -> None:
    """The end of every ``train``: steps (this invocation and in all), the family's lines, and where things are."""
    start = int(getattr(result, "start_step", 0) or 0)
    done = result.step - start
    if start:
        head = f"trained {done} steps this run (step {start} -> {result.step}) in {result.seconds:.1f}s"
    else:
        head = f"trained {result.step} steps in {result.seconds:.1f}s"
    run = Path(result.run_dir)
    reason = getattr(result, "stop_reason", "finished")
    if reason == "max_time":
        head += f"; stopped at the --max-time budget (continue with --out {show_path(run)} --resume)"
    elif reason == "nothing_to_train":
        head = f"nothing trained: the run is already at step {result.step}, its target (raise --max-steps or " \
               f"--epochs with --resume to train longer)"
    out = [head, *lines, f"run folder: {show_path(run)}",
           f"  model:    {show_path(run / 'model.safetensors')} (+ config.json)"]
    entries = {"samples": show_path(run / "samples"), **{k: show_path(v) if isinstance(v, Path) else v
                                                         for k, v in (extra or {}).items()}}
    for name, value in entries.items():
        out.append(f"  {name + ':':<9} {value}")
    out.append(f"  metrics:  {show_path(run / 'metrics.jsonl')}  "
               f"(tensorboard --logdir {show_path(run / 'tensorboard')})")
    say(*out)


def print_written(path: str | os.PathLike, what: str | None = None) -> None:
    """The last line of a sample/evaluate/tool command: where its output went."""
    say(f"{what}: {show_path(path)}" if what else f"written to {show_path(path)}")


def stderr(msg: str) -> None:
    """A note or warning for the user (rank 0 only), on stderr so stdout stays the result."""
    if is_main_process():
        print(msg, file=sys.stderr, flush=True)
