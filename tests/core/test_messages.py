"""Trial #20: messages name a family with the right article ("an ae model", "an aae run")."""

from __future__ import annotations

from pathlib import Path

from genlab.core.errors import a_or_an
from helpers import assert_one_line_error

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_runs"


def test_articles():
    assert [a_or_an(w) for w in ("vae", "ae", "aae", "gan", "text")] == ["a vae", "an ae", "an aae", "a gan",
                                                                          "a text"]


def test_loading_a_run_of_another_family_says_an_ae(cli, tmp_path):
    code, out, err = cli("vae", "sample", LEGACY / "ae", "--output", tmp_path / "x.png")
    assert_one_line_error(code, err, "an ae model")
    assert " a ae " not in err
