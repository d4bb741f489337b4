"""The qgen and naive-bayes app tabs' handlers on toy runs (the gradio wiring is built by the app's own tests)."""

import pytest


def test_qgen_and_naive_bayes_handlers(tmp_path):
    from genlab.app.kit import AppContext, AppError
    from genlab.cli import main
    from genlab.naivebayes import api as nb
    from genlab.naivebayes.app_tab import draw
    from genlab.qgen.app_tab import ask

    runs = tmp_path / "runs"
    src, tgt = tmp_path / "s.txt", tmp_path / "t.txt"
    src.write_text("paris is in france .\nberlin is in germany .\nrome is in italy .\n" * 3)
    tgt.write_text("where is paris ?\nwhere is berlin ?\nwhere is rome ?\n" * 3)
    assert main(["qgen", "train", "--src", str(src), "--tgt", str(tgt), "--out", str(runs / "q"), "--max-steps", "2",
                 "--batch-size", "2", "--emb-dim", "8", "--hidden", "8", "--min-freq", "1", "--no-tensorboard",
                 "--no-progress", "--sample-every", "0", "--val-fraction", "0.3"]) == 0
    csv = tmp_path / "d.csv"
    csv.write_text("a,b\nx,y\nx,z\nw,y\n")
    nb.fit(csv, out=runs / "nb")
    ctx = AppContext(runs, start_jobs=False)
    question, image = ask(ctx, "q", "paris is in france .", "", 2)
    assert isinstance(question, str) and image.endswith(".png")
    table = draw(ctx, "nb", 5, 0)
    assert table[0] == ["a", "b"] and len(table) == 6
    with pytest.raises(AppError):
        ask(ctx, "q", "   ", "", 1)
    with pytest.raises(AppError):
        draw(ctx, "nb", 0, 0)
