"""The contract between the tour (``genlab tour``) and the families that show themselves in it.

Each family that wants a gallery section writes ``src/genlab/<family>/tour.py`` with a function that returns a
:class:`TourSection`, and lists it in ``genlab.families.TOUR`` (gallery order). The tour runner (``genlab.tour``)
calls ``section.run(ctx)`` with a :class:`TourContext` whose ``out`` is the section's own folder; the section runs real
genlab commands through ``ctx.genlab(...)`` (so the command shown beside each figure is exactly the one that made it)
and returns the :class:`Figure` list for the gallery. A finished section is reused by a resumed tour.

This module is in ``core`` so families can import it without importing the tour (layering: core <- families <- tour).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Budget = Literal["quick", "full"]


class CommandInterrupted(KeyboardInterrupt):
    """A command of a section was stopped by Ctrl-C or SIGTERM: the tour stops; a rerun redoes this section."""

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Figure:
    path: Path  # a file under the section's folder: .png/.jpg/.gif (image), .mp4/.webm (video), .wav/.mp3 (audio),
    #             .txt/.md (text, shown as preformatted text)
    title: str  # e.g. "VAE latent plane"
    caption: str  # two lines on what it shows (plain text)
    command: str  # the exact command that made it, as a user would paste it (ctx.genlab returns it)
    metrics: dict[str, str] = field(default_factory=dict)  # {"test -ELBO": "103.2 nats (MNIST test, 10,000 images)"}
    weights: str | None = None  # which weights made it, for image optimisation: "random", "ImageNet (torchvision cache)"

    @property
    def kind(self) -> str:
        suffix = Path(self.path).suffix.lower()
        if suffix in (".wav", ".mp3", ".ogg", ".flac"):
            return "audio"
        if suffix in (".mp4", ".webm"):
            return "video"
        if suffix in (".txt", ".md"):
            return "text"  # shown as preformatted text in the gallery (generated text, a table of samples)
        return "image"


@dataclass
class TourSection:
    key: str  # folder name under the tour folder and the resume key, e.g. "cyclegan"
    title: str  # e.g. "CycleGAN: unpaired translation (Foster ch. 5)"
    run: Callable[["TourContext"], list[Figure]]
    estimate_s: dict[str, float]  # {"quick": 40, "full": 900}: wall-clock on 2 CPU cores, for the ETA
    requires: tuple[str, ...] = ()  # importable modules it needs (optional extras); missing -> skipped, said in the page
    summary: str = ""  # one paragraph for the top of the section


@dataclass
class TourContext:
    out: Path  # this section's folder (created by the runner)
    budget: Budget = "quick"
    device: str = "cpu"
    seed: int = 0
    commands: list[str] = field(default_factory=list)  # every command run, in order, with its seconds
    log: Callable[[str], None] = print  # progress notes for the terminal (the commands' own output goes to log.txt)
    cli_main: Callable[[list[str]], int] | None = None  # genlab.cli.main (set by the tour runner)
    toy: bool = False  # tests only: the smallest run that exercises every command (its numbers mean nothing)

    def genlab(self, *argv: object) -> str:
        """Run ``genlab ARGV...`` in this process (exactly what the CLI does) and return the command as a string.

        Raises :class:`RuntimeError` with the command when it exits non-zero, so a broken section says which step failed.
        """
        main = self.cli_main
        if main is None:  # the tour runner passes genlab.cli.main; core itself never imports the CLI layer
            import importlib
            main = importlib.import_module("genlab.cli").main
        args = [str(a) for a in argv]
        command = "genlab " + shlex.join(args)
        start = time.perf_counter()
        code = main(args)
        self.commands.append(f"{command}  # {time.perf_counter() - start:.1f} s")
        if code in (130, 143):  # Ctrl-C / SIGTERM: the whole tour stops (and resumes later), not just this section
            raise CommandInterrupted(f"`{command}` was stopped by {'Ctrl-C' if code == 130 else 'SIGTERM'}", code)
        if code != 0:
            raise RuntimeError(f"`{command}` exited with {code}")
        return command

    def path(self, *parts: str) -> Path:
        """A path inside the section folder (for --out / --output arguments)."""
        return self.out.joinpath(*parts)
