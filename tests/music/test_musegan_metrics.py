"""MuseGAN's objective metrics on hand-made rolls with known values (Dong et al. 2018; Harte et al. 2006)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genlab.music.musegan_metrics import (empty_bar_rate, memorisation_summary, nearest_training_window,
                                          note_lengths, objective_metrics, qualified_note_rate, tonal_centroids,
                                          tonal_distance, used_pitch_classes)
from helpers import SHARED_DATA

R = -1  # a rest


def _full(pitch: int, steps: int = 32) -> list[int]:
    return [pitch] * steps


def test_empty_bar_rate_counts_bars_without_a_note_per_track():
    soprano = [R] * 16 + [72] * 16            # bar 1 empty
    alto = [R] * 15 + [67] + [R] * 16         # one note in bar 1, bar 2 empty
    voices = np.array([[soprano, alto, _full(60), _full(48)]])
    assert empty_bar_rate(voices).tolist() == [0.5, 0.5, 0.0, 0.0]


def test_used_pitch_classes_counts_pitch_classes_not_pitches():
    # bar 1: C4 C5 E4 (2 classes), bar 2: only D4 (1 class); a rest bar is left out of the mean
    soprano = [60] * 6 + [72] * 5 + [64] * 5 + [62] * 16
    alto = [R] * 16 + [62] * 8 + [63] * 4 + [R] * 4  # bar 1 empty, bar 2: D, D# -> 2
    voices = np.array([[soprano, alto, _full(60), _full(48)]])
    upc = used_pitch_classes(voices)
    assert upc[0] == pytest.approx(1.5)
    assert upc[1] == pytest.approx(2.0)
    assert upc[2] == upc[3] == 1.0


def test_note_lengths_and_qualified_note_rate():
    voice = [60, 60, 62, 64, 64, 64, R, 65] + [R] * 24
    assert note_lengths(np.array(voice)) == [2, 1, 3, 1]
    voices = np.array([[voice, _full(60), [R] * 32, [48, 50] * 16]])
    qn = qualified_note_rate(voices, min_steps=2)
    assert qn[0] == pytest.approx(0.5)  # 2 of 4 notes are >= 2 steps
    assert qn[1] == 1.0                 # one 32-step note
    assert math.isnan(qn[2])            # no notes
    assert qn[3] == 0.0                 # 32 one-step notes


def test_tonal_distance_of_c_and_g_by_hand():
    # C (pitch class 0) -> (sin 0, cos 0, sin 0, cos 0, 0.5 sin 0, 0.5 cos 0) = (0, 1, 0, 1, 0, 0.5)
    # G (7) -> (sin 49pi/6, cos 49pi/6, sin 21pi/2, cos 21pi/2, 0.5 sin 14pi/3, 0.5 cos 14pi/3)
    #        = (0.5, 0.8660, 1, 0, 0.4330, -0.25)
    # distance^2 = 0.25 + 0.1340^2 + 1 + 1 + 0.4330^2 + 0.75^2 = 3.01795 -> 1.737225
    c = np.array([[60] * 32])
    g = np.array([[67] * 32])
    centroids, played = tonal_centroids(c)
    assert centroids.shape == (1, 8, 6) and played.all()
    np.testing.assert_allclose(centroids[0, 0], [0, 1, 0, 1, 0, 0.5], atol=1e-12)
    assert tonal_distance(c, g) == pytest.approx(1.737225, abs=1e-6)
    assert tonal_distance(c, c + 12) == pytest.approx(0.0, abs=1e-12)  # octaves: the same pitch class


def test_tonal_distance_averages_only_beats_where_both_voices_play():
    a = np.array([[60] * 32])
    b = np.array([[67] * 4 + [60] * 4 + [R] * 24])  # beat 1: G vs C, beat 2: C vs C, the rest: b silent
    assert tonal_distance(a, b) == pytest.approx(1.737225 / 2, abs=1e-6)
    assert math.isnan(tonal_distance(a, np.array([[R] * 32])))


def test_nearest_training_window_hamming_by_hand():
    rng = np.random.default_rng(0)
    train = rng.integers(50, 70, size=(5, 4, 32))
    query = train[[3, 1]].copy()
    query[1, 2, 7] = train[1, 2, 7] + 1   # one cell moved by a semitone: 2 cells differ in the binary roll
    query[1, 0, 0] = R                     # one note removed: 1 more cell
    near = nearest_training_window(query, train)
    assert near["index"].tolist() == [3, 1]
    assert near["hamming"].tolist() == [0, 3]
    # note cells: 128 in the training window, 127 in the query
    assert near["normalised"][1] == pytest.approx(3 / 255)
    summary = memorisation_summary(near)
    assert summary["exact_copy_rate"] == 0.5 and summary["near_copy_rate"] == 1.0


def test_objective_metrics_report_every_track_and_pair():
    voices = np.array([[_full(72), _full(67), _full(64), _full(48)]])
    m = objective_metrics(voices)
    assert m["windows"] == 1
    assert m["empty_bar_rate"]["mean"] == 0.0
    assert m["used_pitch_classes"]["soprano"] == 1.0
    assert set(m["tonal_distance"]) == {"soprano-alto", "soprano-tenor", "soprano-bass", "alto-tenor", "alto-bass",
                                        "tenor-bass"}
    assert m["tonal_distance"]["soprano-bass"] == pytest.approx(0.0)  # C5 and C3


@pytest.mark.skipif(not (SHARED_DATA / "jsb-chorales" / "Jsb16thSeparated.json").exists(),
                    reason="needs ../shared/data/jsb-chorales")
def test_real_chorales_tonal_distance_matches_the_issue():
    """Real soprano-bass TD 1.45, 1.83 when the bass comes from another chorale (the issue's numbers)."""
    from genlab.music.musegan_data import read_chorales, split_windows, windows

    chorales, _ = read_chorales(SHARED_DATA / "jsb-chorales" / "Jsb16thSeparated.json")
    valid = split_windows(chorales, "valid")
    assert valid.shape == (1058, 4, 32)
    assert tonal_distance(valid[:, 0], valid[:, 3]) == pytest.approx(1.457, abs=0.005)
    ids = np.concatenate([[i] * len(windows(c)) for i, c in enumerate(chorales["valid"])])
    perm = np.random.default_rng(0).permutation(len(valid))
    other = ids[perm] != ids
    assert tonal_distance(valid[other, 0], valid[perm][other, 3]) == pytest.approx(1.839, abs=0.03)
