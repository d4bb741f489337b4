"""``genlab tour --out runs/tour [--budget quick|full] [--only KEY ...] [--redo KEY ...] [--strict]``."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tour", help="run every family's short recipe and write one HTML gallery (runs/tour/index.html)",
        description="Run every family's tour section (real genlab commands on built-in data) and write a "
                    "self-contained gallery: each figure with its caption, the exact command and the number "
                    "measured with it. Resumable: finished sections are reused (delete a section's folder or pass "
                    "--redo KEY to run it again). A failed or skipped section is shown as such in the page; the "
                    "exit code is 0 unless --strict.")
    p.add_argument("--out", metavar="DIR", default="runs/tour", help="the tour folder (default: runs/tour)")
    p.add_argument("--budget", choices=("quick", "full"), default="quick",
                   help="quick: about a minute per section on 2 CPU cores; full: the longer recipes "
                        "(default: quick)")
    p.add_argument("--only", nargs="+", metavar="KEY", help="run only these sections (their keys: --list)")
    p.add_argument("--redo", nargs="+", metavar="KEY", default=[], help="run these sections again even if finished")
    p.add_argument("--list", action="store_true", help="list the sections with their estimated seconds and exit")
    p.add_argument("--strict", action="store_true", help="exit 1 when any section failed or was skipped")
    p.add_argument("--device", default="cpu", help="device for the sections' commands (default: cpu)")
    p.add_argument("--seed", type=int, default=0, help="seed for every command (default: 0)")
    p.add_argument("--toy", action="store_true", help=argparse.SUPPRESS)  # tests: the smallest runs, meaningless numbers
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..core.clikit import check_output_dir, show_path
    from .runner import load_entries, run_tour

    if args.list:
        for e in load_entries():
            est = e.section.estimate_s if e.section else {}
            state = f"quick ~{est.get('quick', '?')} s, full ~{est.get('full', '?')} s" if e.section else \
                f"cannot be loaded: {e.error}"
            print(f"{e.key:<16} {e.title}  ({state})")
        return 0
    out = check_output_dir(args.out)
    result = run_tour(out, budget=args.budget, only=args.only, redo=args.redo, device=args.device, seed=args.seed,
                      toy=args.toy)
    print(f"gallery: {show_path(result.index.resolve())}")
    if args.strict and (result.failed or result.skipped):
        bad = [s["key"] for s in result.failed + result.skipped]
        print(f"genlab: error: tour --strict: sections not done: {', '.join(bad)}", file=__import__("sys").stderr)
        return 1
    return 0
