"""Note tokens: the round trip music21 stream -> tokens -> MIDI -> tokens on real chorales, the Essen fast path, the
vocabulary checks and prompts."""

from __future__ import annotations

import pytest

music21 = pytest.importorskip("music21")

from genlab.core.errors import ConfigError, DataError  # noqa: E402
from genlab.music import notes  # noqa: E402


@pytest.mark.parametrize("bwv", ["bwv26.6", "bwv1.6"])
def test_token_round_trip_through_midi_on_a_real_chorale(tmp_path, bwv):
    score = music21.corpus.parse(bwv)
    tokens = notes.stream_tokens(score.parts[0])  # the soprano line
    assert len(tokens) > 30 and all(p == "rest" or p.isdigit() for p, _ in tokens)
    mid = notes.write_tokens_midi(tokens, tmp_path / "s.mid")
    back = [tuple(t) for t in notes.file_tunes(mid)[0]["tokens"]]
    assert back == tokens


def test_essen_fast_tokens_agree_with_music21_streams():
    from music21 import abcFormat

    path = notes._essen_files()[0]
    fast = notes.essen_file_tunes(path)
    handler = abcFormat.ABCHandler(abcVersion=(1, 3, 0))
    handler.process(path.read_text(encoding="latin-1"))
    books = list(handler.splitByReferenceNumber().values())[:5]
    same = 0
    for tune, book in zip(fast[:5], books):
        slow = notes.stream_tokens(abcFormat.translate.abcToStreamScore(book))
        same += [tuple(t) for t in tune["tokens"]] == slow
    assert same >= 4  # the rest differ where music21's streams expand repeat endings


def test_vocabulary_mismatch_and_prompts_are_one_line_errors():
    pv, dv = ["<s>", "rest", "60", "62"], ["<s>", "1/2", "1"]
    with pytest.raises(DataError, match="outside the model's vocabulary"):
        notes.check_vocabulary(pv, dv, [{"tokens": [["61", "1"]]}], what="new data")
    assert notes.parse_prompt("60:1 62:0.5 rest:1/2", pv, dv) == [("60", "1"), ("62", "1/2"), ("rest", "1/2")]
    for bad, match in (("61:1", "not in the model's vocabulary"), ("60:3", "duration 3"), ("60", "PITCH:DURATION"),
                       ("C4:1", "not a MIDI pitch"), ("60:x", "not a duration")):
        with pytest.raises(ConfigError, match=match):
            notes.parse_prompt(bad, pv, dv)


def test_duration_tokens():
    assert [notes.duration_token(x) for x in (1, 0.5, 1.5, 1 / 3, 4)] == ["1", "1/2", "3/2", "1/3", "4"]
    assert notes.duration_value("3/2") == 1.5
