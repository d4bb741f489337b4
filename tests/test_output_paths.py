"""Issue 12 item 7: every subcommand of every family that writes something checks its output path BEFORE the work,
and a bad one is one line (unwritable, an existing file as --out, a file-like --out, a folder as --output).
The image-optimisation commands are covered command by command in tests/dream/test_imageopt_hardening.py; this test
covers the rest with runs saved by genlab 0.1 (tests/fixtures/legacy_runs) and the tiny synthetic data."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import assert_one_line_error

LEGACY = Path(__file__).resolve().parent / "fixtures" / "legacy_runs"


def _commands(tiny_mnist, corpus):
    data = ["--data-dir", tiny_mnist]
    small = ["--max-steps", "1", "--batch-size", "16", "--no-tensorboard", "--no-progress"]
    cmds = {}
    for fam, run in (("vae", "vae-mlp"), ("ae", "ae"), ("aae", "aae")):
        r = LEGACY / run
        cmds |= {
            f"{fam} train": [fam, "train", "--dataset", "mnist", *data, "--hidden-dims", "8", *small],
            f"{fam} sample": [fam, "sample", r, "--n", "4"],
            f"{fam} evaluate": [fam, "evaluate", r, "--dataset", "mnist", *data, "--no-progress"],
            f"{fam} scatter": [fam, "scatter", r, "--dataset", "mnist", *data],
            f"{fam} manifold": [fam, "manifold", r, "--grid-size", "3"],
            f"{fam} interpolate": [fam, "interpolate", r, "test:0", "test:1", "--dataset", "mnist", *data],
            f"{fam} attribute": [fam, "attribute", r, "--label", "1", "--dataset", "mnist", *data],
            f"{fam} reconstruct": [fam, "reconstruct", r, "--n", "4", "--dataset", "mnist", *data],
        }
    cmds |= {
        "gan train": ["gan", "train", "--dataset", "mnist", *data, "--g-channels", "4", "--d-channels", "4",
                      "--fid-samples", "0", *small],
        "gan sample": ["gan", "sample", LEGACY / "gan", "--n", "4"],
        "gan evaluate": ["gan", "evaluate", LEGACY / "gan", "--dataset", "mnist", *data, "--fid-samples", "64",
                         "--no-progress"],
        "text train": ["text", "train", "--corpus", corpus, "--hidden-size", "8", "--block-size", "8", *small],
        "text sample": ["text", "sample", LEGACY / "text-gpt", "--length", "5", "--prompt", "to"],
        "text evaluate": ["text", "evaluate", LEGACY / "text-lstm", "--corpus", corpus],
    }
    return cmds


SINGLE_OUTPUT = {"sample", "evaluate", "scatter", "manifold", "interpolate", "attribute", "reconstruct"}


def test_every_subcommand_checks_its_output_first(cli, tiny_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # a domain classifier would have to be trained
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question. " * 20, encoding="utf-8")
    existing = tmp_path / "a_file"
    existing.write_text("not a folder")
    failures = []
    for name, argv in _commands(tiny_mnist, corpus).items():
        verb = name.split()[1]
        suffix = ".json" if verb == "evaluate" else ".txt" if name == "text sample" else ".png"
        cases = [(["--out", "/proc/genlab-out"], "cannot write --out /proc/genlab-out"),
                 (["--out", str(existing)], "exists and is not a folder"),
                 (["--out", str(tmp_path / f"x{suffix}")], "--out is a folder")]
        if verb in SINGLE_OUTPUT:
            cases += [(["--output", f"/proc/genlab-out/x{suffix}"], "cannot write --output"),
                      (["--output", str(tmp_path)], "is a folder; give a file name"),
                      (["--output", str(existing / f"x{suffix}")], "is a file, not a folder")]
        for bad, needle in cases:
            code, out, err = cli(*argv, *bad)
            lines = [ln for ln in err.strip().splitlines() if ln.strip()]
            if code == 0 or len(lines) != 1 or needle not in lines[0] or "Traceback" in err:
                failures.append(f"{name} {' '.join(bad)}: rc {code}, stderr {err.strip()[-300:]!r}")
    assert not (tmp_path / "cache").exists(), "a classifier was trained before the output path was checked"
    assert not (tmp_path / "runs").exists(), "a run was started before the output path was checked"
    assert not failures, "\n".join(failures)


def test_the_one_line_contract_helper_still_sees_one_line(cli, tmp_path):
    code, out, err = cli("vae", "sample", LEGACY / "vae-mlp", "--out", tmp_path / "s.png")
    assert_one_line_error(code, err, "use --output")
