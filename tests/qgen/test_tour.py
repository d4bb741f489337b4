"""The tour sections of qgen and naive-bayes run their real commands at toy size and return their figures."""

from genlab.core.tourkit import TourContext


def test_qgen_tour_section(tmp_path, monkeypatch):
    from genlab.qgen.tour import section

    monkeypatch.setenv("PATH", str(tmp_path))  # no Java: the labelled fallback metrics (and a fast test)
    sec = section()
    figs = sec.run(TourContext(out=tmp_path, budget="quick", toy=True))
    assert [f.path.name for f in figs] == ["attention.png", "scores.md"]
    assert all(f.path.exists() and f.command.startswith("genlab qgen") for f in figs)
    assert "BLEU-4" in figs[0].metrics and "copy baseline" in figs[0].metrics["BLEU-4"]


def test_naive_bayes_tour_section(tmp_path):
    from genlab.naivebayes.tour import section

    figs = section().run(TourContext(out=tmp_path, budget="quick", toy=True))
    assert [f.path.name for f in figs] == ["samples.png", "wrodl.md"]
    assert "nats/image" in figs[0].metrics["test NLL"] and "86.6" in figs[0].metrics["test NLL"]
    assert "| naive |" in figs[1].path.read_text()
