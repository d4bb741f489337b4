"""``genlab`` command line: one subcommand group per model family.

Errors a user can cause are printed as one line on stderr with a non-zero exit code; tracebacks mean a genlab bug.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .core.errors import GenlabError


def build_parser() -> argparse.ArgumentParser:
    from .families import FAMILIES

    parser = argparse.ArgumentParser(prog="genlab", description="Train, sample and inspect generative models.")
    parser.add_argument("--version", action="version", version=f"genlab {__version__}")
    sub = parser.add_subparsers(dest="family", required=True, metavar="FAMILY")
    for _family, _models, cli_module in FAMILIES:
        if cli_module is not None:  # a family without commands (metrics) only registers models
            importlib.import_module(cli_module).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GenlabError as e:
        # Ctrl-C during training is not an error: a checkpoint was saved and the message says how to resume.
        kind = "stopped" if e.exit_code == 130 else "error"
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
