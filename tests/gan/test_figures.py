"""Trial #17: figures/fid.png has a legend, KID's unit is stated (raw, as in eval.json), FID and KID never overlap."""

from __future__ import annotations

from genlab.core.tracking import MetricsLogger
from genlab.gan import figures


def test_fid_figure_has_separate_labelled_panels_with_legends(tmp_path, monkeypatch):
    logger = MetricsLogger(tmp_path, tensorboard=False)
    for step, fid, kid in ((100, 300.0, 40.0), (200, 200.0, 30.0)):
        logger.log(step, {"eval/fid": fid, "eval/kid_mean": kid, "eval/kid_std": 2.0})
    logger.close()
    seen = {}

    def capture(fig, path):
        seen["fig"] = fig
        return path

    monkeypatch.setattr(figures, "_save_figure", capture)
    assert figures.plot_fid(tmp_path, tmp_path / "fid.png") == tmp_path / "fid.png"
    axes = seen["fig"].axes
    assert len(axes) == 2  # one panel each: two lines with 2 points on twin axes lay exactly on top of each other
    fid_ax, kid_ax = axes
    assert fid_ax.get_legend() is not None and kid_ax.get_legend() is not None
    assert "FID" in fid_ax.get_ylabel() and "raw" in kid_ax.get_ylabel() and "x1000" in kid_ax.get_ylabel()
    assert [t.get_text() for t in fid_ax.get_legend().get_texts()] == ["FID"]
    assert "KID" in kid_ax.get_legend().get_texts()[0].get_text()
    assert list(kid_ax.lines[0].get_ydata()) == [40.0, 30.0]  # the stored values, unscaled
