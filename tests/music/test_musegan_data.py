"""MuseGAN's data: every 2-bar window with a hop of 1 bar, the Jsb16thSeparated reader and its bad inputs, MusicXML
folders (four parts; more are skipped unless chosen)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genlab.core.errors import DataError
from genlab.music.musegan_data import read_chorales, read_score_folder, read_separated_json, split_windows, windows
from helpers import SHARED_DATA, one_line


def toy_chorales(n: int, steps: int = 64, seed: int = 0) -> list[list[list[int]]]:
    """Four voices in quarter notes (4 sixteenth steps), random walks in SATB ranges."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        base = np.array([72, 67, 60, 48]) + rng.integers(-2, 3, size=4)
        beats = np.cumsum(rng.integers(-2, 3, size=(steps // 4, 4)), axis=0) + base
        out.append(np.repeat(beats, 4, axis=0).tolist())
    return out


def write_toy_json(path, n_train: int = 8, n_valid: int = 3, steps: int = 64):
    path.write_text(json.dumps({"train": toy_chorales(n_train, steps, 0), "valid": toy_chorales(n_valid, steps, 1)}))
    return path


def test_windows_every_bar_two_bars_long():
    chorale = np.arange(80 * 4).reshape(80, 4)
    w = windows(chorale)
    assert w.shape == (4, 4, 32)  # starts 0, 16, 32, 48 (80 - 32 = 48)
    assert w[1, 0, 0] == chorale[16, 0] and w[3, 3, 31] == chorale[79, 3]
    assert windows(chorale[:31]).shape == (0, 4, 32)


def test_first_window_starts_where_all_four_voices_sound():
    from genlab.music.musegan_data import first_window

    chorale = np.arange(80 * 4).reshape(80, 4)
    chorale[:3, 1] = -1  # the alto enters at step 3
    w = first_window(chorale)
    assert w.shape == (1, 4, 32) and w[0, 0, 0] == chorale[3, 0] and w[0, 3, 31] == chorale[34, 3]
    assert first_window(chorale[:34]).shape == (0, 4, 32)  # 31 steps after the entry: too short


def test_a_prepare_data_folder_is_refused_with_the_reason(tmp_path):
    (tmp_path / "data.json").write_text("{}")
    (tmp_path / "rolls.json").write_text("{}")
    with pytest.raises(DataError) as err:
        read_chorales(tmp_path)
    one_line(err, "genlab music prepare", "four voices", "MusicXML/MIDI")


def test_read_and_split(tmp_path):
    chorales, path = read_chorales(write_toy_json(tmp_path / "toy.json"))
    assert sorted(chorales) == ["train", "valid"]
    w = split_windows(chorales, "train")
    assert w.shape == (8 * 3, 4, 32)
    with pytest.raises(DataError) as err:
        split_windows(chorales, "test", where="toy.json")
    one_line(err, "no 'test' split", "valid")


def test_windows_with_notes_outside_the_rows_are_dropped(tmp_path, capsys):
    data = {"train": [[[72, 67, 60, 48]] * 32, [[100, 67, 60, 48]] * 32]}
    chorales = read_separated_json(_write(tmp_path / "x.json", data))
    assert split_windows(chorales, "train").shape == (1, 4, 32)
    assert "1 of 2 train windows have notes outside MIDI 0..83" in capsys.readouterr().err
    with pytest.raises(DataError) as err:
        split_windows(read_separated_json(_write(tmp_path / "y.json", {"train": [[[100, 67, 60, 48]] * 32]})),
                      "train")
    one_line(err, "no window", "0..83")


def _write(path, obj):
    path.write_text(json.dumps(obj) if not isinstance(obj, str) else obj)
    return path


@pytest.mark.parametrize("content, words", [
    ("{not json", ("not valid JSON",)),
    ([1, 2, 3], ("Jsb16thSeparated format",)),
    ({"train": [[[60, 55, 50]] * 40]}, ("exactly four pitches", "40x3")),
    ({"train": [[[60, 55, 50, 200]] * 40]}, ("MIDI pitches",)),
    ({"train": [[[60, 55, 50, 40.5]] * 40]}, ("MIDI pitches",)),
])
def test_bad_json_is_one_line(tmp_path, content, words):
    with pytest.raises(DataError) as err:
        read_separated_json(_write(tmp_path / "bad.json", content))
    one_line(err, *words)


def test_all_silent_split_is_refused(tmp_path):
    chorales = read_separated_json(_write(tmp_path / "s.json", {"train": [[[-1, -1, -1, -1]] * 32]}))
    with pytest.raises(DataError) as err:
        split_windows(chorales, "train")
    one_line(err, "holds no notes")


def _score(n_parts: int, path):
    music21 = pytest.importorskip("music21")
    score = music21.stream.Score()
    for k in range(n_parts):
        part = music21.stream.Part()
        for i in range(8):
            part.append(music21.note.Note(72 - 5 * k + (i % 3), quarterLength=1.0))
        score.insert(0, part)
    score.write("musicxml", fp=str(path))
    return path


def test_musicxml_folder_four_parts_read_more_skipped_or_chosen(tmp_path, capsys):
    folder = tmp_path / "scores"
    folder.mkdir()
    _score(4, folder / "four.musicxml")
    _score(5, folder / "five.musicxml")
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00garbage")
    chorales = read_score_folder(folder, valid_fraction=0.0)
    err = capsys.readouterr().err
    assert "five.musicxml has 5 parts" in err and "--musegan-parts" in err and "broken.mid" in err
    assert len(chorales["train"]) == 1
    c = chorales["train"][0]
    assert c.shape == (32, 4)  # 8 quarter notes = 32 sixteenth steps
    assert c[0].tolist() == [72, 67, 62, 57] and c[4, 0] == 73
    # choosing parts 1 2 3 5: the five-part file is read (its 5th part is the bass); the four-part file has no
    # part 5 and is skipped, by name
    picked = read_score_folder(folder, parts=(0, 1, 2, 4), valid_fraction=0.0)
    assert len(picked["train"]) == 1 and picked["train"][0][0].tolist() == [72, 67, 62, 52]
    assert "four.musicxml has 4 parts; --musegan-parts 1 2 3 5 names a part it does not have" in \
        capsys.readouterr().err


def test_folder_without_usable_music_is_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(DataError) as err:
        read_score_folder(empty)
    one_line(err, "no music files")
    only5 = tmp_path / "only5"
    only5.mkdir()
    _score(5, only5 / "five.musicxml")
    with pytest.raises(DataError) as err:
        read_score_folder(only5)
    one_line(err, "none of the 1 music files")


@pytest.mark.skipif(not (SHARED_DATA / "jsb-chorales" / "Jsb16thSeparated.json").exists(),
                    reason="needs ../shared/data/jsb-chorales")
def test_the_default_data_has_every_window():
    chorales, path = read_chorales(None)
    assert path.name == "Jsb16thSeparated.json"
    assert len(chorales["train"]) == 229
    train = split_windows(chorales, "train")
    # all 2-bar windows with a hop of one bar: 3,176 (Foster takes 229, the first of each chorale)
    assert train.shape == (3176, 4, 32)
    assert split_windows(chorales, "train", first_only=True).shape == (229, 4, 32)
