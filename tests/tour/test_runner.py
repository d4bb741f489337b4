"""The tour runner and gallery with fake sections (fast): resume, failed / skipped / broken sections shown,
Ctrl-C stops the tour, the page is self-contained, and `genlab tour` errors are one line."""

from __future__ import annotations

import html
import json
import re
import sys
import types

import pytest

from helpers import assert_one_line_error

from genlab.core.tourkit import CommandInterrupted, Figure, TourContext, TourSection

CALLS: list[str] = []


def _png(path, size=8):
    from PIL import Image

    Image.new("RGB", (size, size), (10, 200, 30)).save(path)
    return path


def _good(ctx: TourContext):
    CALLS.append("good")
    assert ctx.budget in ("quick", "full") and ctx.out.is_dir()
    img = _png(ctx.path("a b.png"))  # a space in the name: the page must link it escaped
    ctx.path("t.md").write_text("<b>not html</b>\n")
    return [Figure(img, "Pic <1>", "caption & more", "genlab x --y 'z'", {"score": "0.5 (on 3 fakes)"},
                   weights="random (seed 0) — NOT pretrained"),
            Figure(ctx.path("t.md"), "Text", "words", "genlab x text", {})]


def _bad(ctx):
    CALLS.append("bad")
    raise RuntimeError("it broke\nover two lines")


def _stopped(ctx):
    CALLS.append("stopped")
    raise CommandInterrupted("`genlab x train` was stopped by Ctrl-C", 130)


def _nofig(ctx):
    return []


@pytest.fixture()
def fake(monkeypatch):
    CALLS.clear()
    m = types.ModuleType("fake_tour_sections_fast")
    m.good = lambda: TourSection("good", "Good section", _good, {"quick": 2, "full": 20}, summary="sum")
    m.bad = lambda: TourSection("bad", "Bad section", _bad, {"quick": 1})
    m.missing = lambda: TourSection("missing", "Needs a package", _good, {"quick": 1},
                                    requires=("no_such_module_genlab",))
    m.stopped = lambda: TourSection("stopped", "Stopped", _stopped, {"quick": 1})
    m.nofig = lambda: TourSection("nofig", "No figures", _nofig, {"quick": 1})
    m.notasection = lambda: 42
    monkeypatch.setitem(sys.modules, m.__name__, m)
    return m.__name__


def test_sections_run_fail_skip_and_resume(fake, tmp_path):
    from genlab.tour.runner import run_tour

    specs = [f"{fake}:good", f"{fake}:bad", f"{fake}:missing", f"{fake}:nofig", f"{fake}:notasection",
             "no.such.module:section"]
    lines: list[str] = []
    r = run_tour(tmp_path / "t", specs=specs, log=lines.append)
    status = {s["key"]: s["status"] for s in r.sections}
    assert status == {"good": "done", "bad": "failed", "missing": "skipped", "nofig": "failed",
                      "fake_tour_sections_fast": "failed", "no-such-module": "failed"}
    assert CALLS == ["good", "bad"]
    assert any("ETA" in line and "section 1/6" in line for line in lines)
    rec = json.loads((tmp_path / "t" / "good" / "section.json").read_text())
    assert rec["figures"][0]["path"] == "a b.png" and rec["figures"][1]["kind"] == "text"
    assert "it broke over two lines" in json.loads((tmp_path / "t" / "bad" / "section.json").read_text())["reason"]
    assert "Traceback" in (tmp_path / "t" / "bad" / "log.txt").read_text()

    # resumed: the finished section is reused, the failed one is run again
    CALLS.clear()
    r2 = run_tour(tmp_path / "t", specs=specs, log=lines.append)
    assert CALLS == ["bad"]
    assert next(s for s in r2.sections if s["key"] == "good").get("reused") is True
    # a figure deleted: the section is not done any more
    (tmp_path / "t" / "good" / "a b.png").unlink()
    CALLS.clear()
    run_tour(tmp_path / "t", specs=[f"{fake}:good"], log=lines.append)
    assert CALLS == ["good"]
    # another budget is another result
    CALLS.clear()
    run_tour(tmp_path / "t", specs=[f"{fake}:good"], budget="full", log=lines.append)
    assert CALLS == ["good"]
    # --redo runs it even though it is finished
    CALLS.clear()
    run_tour(tmp_path / "t", specs=[f"{fake}:good"], budget="full", redo=["good"], log=lines.append)
    assert CALLS == ["good"]


def test_gallery_is_self_contained_and_says_what_happened(fake, tmp_path):
    from genlab.tour.runner import run_tour

    r = run_tour(tmp_path / "t", specs=[f"{fake}:good", f"{fake}:bad", f"{fake}:missing"], log=lambda s: None)
    page = r.index.read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    srcs = re.findall(r'src="([^"]+)"', page)
    assert srcs == ["good/a%20b.png"]
    assert (tmp_path / "t" / "good" / "a b.png").is_file()
    assert "Pic &lt;1&gt;" in page and "caption &amp; more" in page
    assert html.escape("genlab x --y 'z'") in page and "0.5 (on 3 fakes)" in page
    assert "&lt;b&gt;not html&lt;/b&gt;" in page  # text figures are shown as text, escaped
    assert "NOT pretrained" in page and 'class="w random"' in page
    assert "This section failed: it broke over two lines" in page and 'href="bad/log.txt"' in page
    assert "Skipped: needs no_such_module_genlab" in page
    assert "1 of 3 sections done" in page


def test_ctrl_c_in_a_section_stops_the_tour_and_keeps_what_is_done(fake, tmp_path):
    from genlab.core.signals import Interrupted
    from genlab.tour.runner import run_tour

    specs = [f"{fake}:good", f"{fake}:stopped", f"{fake}:bad"]
    with pytest.raises(Interrupted) as err:
        run_tour(tmp_path / "t", specs=specs, log=lambda s: None)
    assert err.value.exit_code == 130 and "run the same command again" in str(err.value)
    assert CALLS == ["good", "stopped"]  # the section after it did not start
    assert not (tmp_path / "t" / "stopped" / "section.json").exists()
    assert "Not run yet" in (tmp_path / "t" / "index.html").read_text()


def test_tour_cli_errors_are_one_line(cli, tmp_path, fake, monkeypatch):
    code, out, err = cli("tour", "--budget", "huge")
    assert_one_line_error(code, err, "--budget", "invalid choice")
    (tmp_path / "file.txt").write_text("x")
    code, out, err = cli("tour", "--out", tmp_path / "file.txt")
    assert_one_line_error(code, err, "--out")
    code, out, err = cli("tour", "--out", tmp_path / "t", "--only", "nosuch")
    assert_one_line_error(code, err, "no tour section 'nosuch'")


def test_tour_cli_strict_and_list(cli, tmp_path, fake, monkeypatch):
    import genlab.families as families

    monkeypatch.setattr(families, "TOUR", (f"{fake}:good", f"{fake}:missing"))
    code, out, err = cli("tour", "--list")
    assert code == 0 and "good" in out and "quick ~2 s" in out
    code, out, err = cli("tour", "--out", tmp_path / "t")
    assert code == 0 and "gallery:" in out and "index.html" in out
    code, out, err = cli("tour", "--out", tmp_path / "t", "--strict")
    assert_one_line_error(code, err, "--strict", "missing")


def test_every_tour_line_of_the_families_loads_as_a_section():
    from genlab.tour.runner import load_entries

    entries = load_entries()
    assert entries, "families.TOUR is empty"
    for e in entries:
        assert e.section is not None, f"{e.spec}: {e.error}"
        assert e.section.estimate_s.get("quick", 0) > 0
    assert len({e.key for e in entries}) == len(entries)


def test_only_runs_some_sections_and_the_page_keeps_the_others(fake, tmp_path):
    from genlab.tour.runner import read_sections, run_tour

    specs = [f"{fake}:good", f"{fake}:bad"]
    run_tour(tmp_path / "t", specs=specs, only=["good"], log=lambda s: None)
    assert [(s["key"], s["status"]) for s in read_sections(tmp_path / "t")] == [("good", "done"), ("bad", "pending")]
    CALLS.clear()
    run_tour(tmp_path / "t", specs=specs, only=["bad"], log=lambda s: None)
    assert CALLS == ["bad"]
    assert [(s["key"], s["status"]) for s in read_sections(tmp_path / "t")] == [("good", "done"), ("bad", "failed")]
