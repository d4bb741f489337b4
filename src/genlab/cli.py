"""``genlab`` command line: one subcommand group per model family (the table in :mod:`genlab.families`).

Errors a user can cause are printed as one line on stderr with a non-zero exit code; tracebacks mean a genlab bug.
Only the family being run is imported, so ``genlab --version`` and ``genlab -h`` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .core.errors import GenlabError


class GenlabArgumentParser(argparse.ArgumentParser):
    """argparse with genlab's error contract: a usage error is ONE line (what is wrong, and where -h is)."""

    def error(self, message: str):  # type: ignore[override]
        command = self.prog.removeprefix("genlab").strip()
        where = f"genlab {command} -h" if command else "genlab -h"
        msg = f"{command}: {message}" if command else message
        if _is_main_rank():
            print(f"genlab: error: {msg} (see {where})", file=sys.stderr)
        raise SystemExit(2)


def _is_main_rank() -> bool:
    return os.environ.get("RANK", "0") in ("", "0")


def _wanted_family(argv: list[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the family it names gets its real sub-commands (the rest are listed)."""
    from .families import FAMILIES

    parser = GenlabArgumentParser(prog="genlab", description="Train, sample and inspect generative models.")
    parser.add_argument("--version", action="version", version=f"genlab {__version__}")
    sub = parser.add_subparsers(dest="family", required=True, metavar="FAMILY")
    wanted = _wanted_family(argv) if argv is not None else None
    for fam in FAMILIES:
        if fam.cli is None:
            continue
        if argv is None or fam.name == wanted:
            module, _, function = fam.cli.partition(":")
            getattr(importlib.import_module(module), function)(sub)
        else:
            sub.add_parser(fam.name, help=fam.help, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # -h / --version (0) or a one-line usage error (2)
        return int(e.code or 0)
    try:
        return int(args.func(args) or 0)
    except GenlabError as e:
        # Ctrl-C / SIGTERM during training is not an error: a checkpoint was saved and the message says how to resume.
        kind = "stopped" if e.exit_code in (130, 143) else "error"
        if _is_main_rank():  # under torchrun every rank raises the same error: say it once
            print(f"genlab: {kind}: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("genlab: aborted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `genlab ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        from .core.distributed import shutdown_distributed
        shutdown_distributed()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
