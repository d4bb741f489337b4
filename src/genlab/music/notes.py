"""Notes as two token streams (Foster ch. 7): a pitch token and a duration token per note, parsed with music21.

* pitch: ``"60"`` (a MIDI number, so enharmonic spellings agree with what MIDI keeps), ``"60.64.67"`` (a chord, low
  to high) or ``"rest"``; duration: the note's length in quarter notes as a fraction, ``"1"``, ``"1/2"``, ``"3/2"``,
  ``"1/3"``. Every tune starts with the token ``<s>`` in both streams; grace notes (no duration) are left out.
* Built-in data: ``essen`` (the Essen folk-song collection bundled with music21, 31 ABC files, split by tune) and
  ``chorale-soprano`` (the soprano lines of music21's Bach chorales, split by chorale); both parsed once, in parallel,
  and cached under ``$XDG_CACHE_HOME/genlab/music`` (``~/.cache/genlab/music``).
* The vocabulary is built from the data's train and valid splits and stored with the data and with every model; a
  model never silently scores tokens it does not know (:func:`check_vocabulary`).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, DataError
from ..core.extras import require
from ..core.io import write_json_atomic

START = "<s>"
REST = "rest"
CACHE_VERSION = 2
Token = tuple[str, str]
BUILTIN_NOTES = ("essen", "chorale-soprano")


def duration_token(quarter_length: float | Fraction) -> str:
    f = Fraction(quarter_length).limit_denominator(48)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def duration_value(token: str) -> float:
    return float(Fraction(token))


def pitch_midis(token: str) -> list[int]:
    return [] if token in (REST, START) else [int(p) for p in token.split(".")]


def element_token(el: Any) -> Token | None:
    """A music21 Note / Chord / Rest as a (pitch, duration) token; None for grace notes and unpitched percussion."""
    ql = float(el.quarterLength)
    if ql <= 0:
        return None
    if el.isRest:
        return (REST, duration_token(ql))
    if el.isChord:
        midis = sorted({int(p.midi) for p in getattr(el, "pitches", ())})
        if not midis:
            return None
        return (".".join(map(str, midis)), duration_token(ql))
    pitch = getattr(el, "pitch", None)
    if pitch is None:  # music21.note.Unpitched (percussion)
        return None
    return (str(int(pitch.midi)), duration_token(ql))


def stream_tokens(stream: Any) -> list[Token]:
    """The tokens of a music21 stream (a part, or a whole score flattened), in time order."""
    out = []
    try:  # a tied pair is one note (MIDI cannot tell; music21 splits long MIDI notes at bar lines into ties)
        flat = stream.flatten().stripTies()
    except Exception:  # noqa: BLE001 - a stream music21 cannot untie is read as it is
        flat = stream.flatten()
    for el in flat.notesAndRests:
        tok = element_token(el)
        if tok is not None:
            out.append(tok)
    # leading / trailing rests carry nothing to learn from
    while out and out[0][0] == REST:
        out.pop(0)
    while out and out[-1][0] == REST:
        out.pop()
    return out


def melody_part(score: Any) -> Any:
    """The part a monophonic model reads: the first part that has pitched notes (the soprano of a chorale)."""
    parts = list(getattr(score, "parts", []))
    for part in parts or [score]:
        if any(element_token(n) for n in part.flatten().notes):
            return part
    return parts[0] if parts else score


# ---- MIDI out ------------------------------------------------------------------------------------------------------

def tokens_to_notes(tokens: list[Token]) -> list[tuple[list[int], float, float]]:
    """(MIDI pitches, start, length) in quarter notes for each sounding token (rests advance time)."""
    t, out = 0.0, []
    for p, d in tokens:
        if p == START:
            continue
        length = duration_value(d) if d != START else 0.0
        if p != REST and length > 0:
            out.append((pitch_midis(p), t, length))
        t += length
    return out


def write_tokens_midi(tokens: list[Token], path: str | os.PathLike, *, tempo: float = 100.0, program: int = 0,
                      velocity: int = 90) -> Path:
    """A one-instrument MIDI file of the tokens (piano by default), written atomically."""
    from ..core.io import atomic_write

    pretty_midi = require("pretty_midi", extra="music", what="writing MIDI")
    sec = 60.0 / tempo
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    inst = pretty_midi.Instrument(program=program, name="melody")
    for midis, start, length in tokens_to_notes(tokens):
        for m in midis:
            if 0 <= m <= 127:
                inst.notes.append(pretty_midi.Note(velocity=velocity, pitch=m, start=start * sec,
                                                   end=(start + length) * sec))
    pm.instruments.append(inst)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        pm.write(str(tmp))
    return path


def tokens_to_roll(tokens: list[Token], *, steps_per_quarter: int = 4, lowest: int = 21, n_keys: int = 88):
    """A bool (T, n_keys) roll of the tokens for a picture (notes shorter than a step get one step)."""
    import numpy as np

    notes = tokens_to_notes(tokens)
    end = max((s + ln for _, s, ln in notes), default=1.0)
    roll = np.zeros((max(1, int(round(end * steps_per_quarter))), n_keys), dtype=bool)
    for midis, s, ln in notes:
        a = int(round(s * steps_per_quarter))
        b = max(a + 1, int(round((s + ln) * steps_per_quarter)) - 1)  # a gap before the next note shows repeats
        for m in midis:
            if lowest <= m < lowest + n_keys:
                roll[a:b, m - lowest] = True
    return roll


# ---- parsing files -------------------------------------------------------------------------------------------------

MUSIC_SUFFIXES = (".mid", ".midi", ".xml", ".musicxml", ".mxl", ".abc", ".krn")


def parse_score(path: str | os.PathLike) -> Any:
    """music21's parse of one file, or a one-line DataError naming it."""
    music21 = require("music21", extra="music", what="parsing MIDI / MusicXML")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist")
    if path.stat().st_size == 0:
        raise DataError(f"{path.name} is empty")
    try:
        return music21.converter.parse(str(path))
    except Exception as e:  # noqa: BLE001 - music21 raises many types on a bad file
        msg = " ".join(str(e).split())[:100] or type(e).__name__
        raise DataError(f"{path.name} could not be parsed as music ({type(e).__name__}: {msg})") from None


def file_tunes(path: str | os.PathLike, *, lowest: int = 21, n_keys: int = 88,
               steps_per_quarter: int = 1) -> list[dict[str, Any]]:
    """Every tune of a music file: ``{"name", "tokens", "roll", "parts"}`` (``roll``: JSB-style pitch lists on the
    ``steps_per_quarter`` grid, all parts). Raises a one-line DataError for a corrupt, empty or percussion-only file,
    or one whose notes all lie outside the 88 keys."""
    path = Path(path)
    parsed = parse_score(path)
    scores = list(parsed.scores) if hasattr(parsed, "scores") and parsed.isClassOrSubclass(("Opus",)) else [parsed]
    tunes = []
    for i, score in enumerate(scores):
        tokens = stream_tokens(melody_part(score))
        if not any(p != REST for p, _ in tokens):
            continue
        steps: dict[int, set[int]] = {}
        end = 0
        for el in score.flatten().notes:
            ql = float(el.quarterLength)
            if ql <= 0:
                continue
            midis = [int(p.midi) for p in getattr(el, "pitches", ()) if hasattr(p, "midi")]
            a = int(float(el.offset) * steps_per_quarter)
            b = max(a + 1, int(round((float(el.offset) + ql) * steps_per_quarter)))
            for m in midis:
                if lowest <= m < lowest + n_keys:
                    for t in range(a, b):
                        steps.setdefault(t, set()).add(m)
            end = max(end, b)
        if not steps:
            continue
        roll = [sorted(steps.get(t, ())) for t in range(end)]
        name = path.name if len(scores) == 1 else f"{path.name}#{i + 1}"
        tunes.append({"name": name, "tokens": [list(t) for t in tokens], "roll": roll,
                      "parts": len(list(getattr(score, "parts", []))) or 1})
    if not tunes:
        raise DataError(f"{path.name} has no pitched notes in MIDI {lowest}..{lowest + n_keys - 1} "
                        f"(empty, percussion only, or out of range)")
    return tunes


# ---- built-in note data sets ---------------------------------------------------------------------------------------

def cache_root() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "genlab" / "music"


def _essen_files() -> list[Path]:
    music21 = require("music21", extra="music", what="the Essen folk songs")
    folder = Path(music21.__file__).parent / "corpus" / "essenFolksong"
    files = sorted(folder.glob("*.abc"))
    if not files:
        raise DataError(f"music21's corpus has no Essen folk songs in {folder}")
    return files


def essen_file_tunes(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The tunes of one Essen ABC file, tokenised from music21's ABC tokens (``ABCHandler``: its pitches with key
    signature and accidentals applied, its durations), without building music21 streams (40x faster)."""
    music21 = require("music21", extra="music", what="the Essen folk songs")
    from music21 import abcFormat

    path = Path(path)
    handler = abcFormat.ABCHandler(abcVersion=(1, 3, 0))
    handler.process(path.read_text(encoding="latin-1"))
    tunes = []
    for ref, book in handler.splitByReferenceNumber().items():
        tokens: list[Token] = []
        tied = False  # the previous note's tie goes on into this one: one note (as stripTies makes it)
        for tok in book.tokens:
            if isinstance(tok, abcFormat.ABCNote) and not tok.inGrace and tok.quarterLength:
                if tok.isRest:
                    tokens.append((REST, duration_token(tok.quarterLength)))
                    tied = False
                elif isinstance(tok, abcFormat.ABCChord):
                    tied = False
                    continue
                else:
                    pitch = str(int(music21.pitch.Pitch(tok.pitchName).midi))
                    if tied and tokens and tokens[-1][0] == pitch:
                        total = Fraction(tokens[-1][1]) + Fraction(tok.quarterLength).limit_denominator(48)
                        tokens[-1] = (pitch, duration_token(total))
                    else:
                        tokens.append((pitch, duration_token(tok.quarterLength)))
                    tied = tok.tie in ("start", "continue")
        while tokens and tokens[-1][0] == REST:
            tokens.pop()
        while tokens and tokens[0][0] == REST:
            tokens.pop(0)
        if len(tokens) >= 4:
            tunes.append({"name": f"{path.stem}#{ref}", "tokens": [list(t) for t in tokens]})
    return tunes


def _chorale_files() -> list[Path]:
    music21 = require("music21", extra="music", what="the Bach chorales")
    folder = Path(music21.__file__).parent / "corpus" / "bach"
    rank = {".mxl": 0, ".xml": 1, ".krn": 2}
    best: dict[str, Path] = {}  # a chorale stored in two formats (bwv277.krn and .mxl) is used once
    for p in sorted(folder.glob("bwv*")):
        if p.suffix in rank and (p.stem not in best or rank[p.suffix] < rank[best[p.stem].suffix]):
            best[p.stem] = p
    files = sorted(best.values())
    if not files:
        raise DataError(f"music21's corpus has no Bach chorales in {folder}")
    return files


def chorale_soprano_tunes(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The soprano line of one chorale (its first part) as tokens; none if the file is not a 4-part chorale."""
    score = parse_score(path)
    parts = list(getattr(score, "parts", []))
    if len(parts) != 4:
        return []
    tokens = stream_tokens(parts[0])
    return [{"name": Path(path).name, "tokens": [list(t) for t in tokens]}] if len(tokens) >= 4 else []


def _parallel(fn, files: list[Path], *, workers: int | None, progress: bool, what: str) -> list[list[dict]]:
    from concurrent.futures import ProcessPoolExecutor

    from ..core.clikit import stderr

    workers = max(1, min(workers or os.cpu_count() or 1, 8, len(files)))
    results: list[list[dict]] = [[] for _ in files]
    if workers == 1:
        for i, f in enumerate(files):
            results[i] = fn(f)
            if progress and (i + 1) % max(1, len(files) // 10) == 0:
                stderr(f"{what}: parsed {i + 1}/{len(files)} files")
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for i, res in enumerate(pool.map(fn, files, chunksize=1)):
            results[i] = res
            if progress and (i + 1) % max(1, len(files) // 10) == 0:
                stderr(f"{what}: parsed {i + 1}/{len(files)} files")
    return results


def _split_by_tune(tunes: list[dict], *, val_fraction: float, seed: int) -> dict[str, list[dict]]:
    order = list(range(len(tunes)))
    random.Random(seed).shuffle(order)
    n_val = max(1, int(round(val_fraction * len(tunes))))
    val = set(order[:n_val])
    return {"train": [t for i, t in enumerate(tunes) if i not in val],
            "valid": [t for i, t in enumerate(tunes) if i in val]}


def build_vocab(splits: dict[str, list[dict]]) -> tuple[list[str], list[str]]:
    pitches, durations = set(), set()
    for tunes in splits.values():
        for t in tunes:
            for p, d in t["tokens"]:
                pitches.add(p)
                durations.add(d)

    def pkey(p: str):
        return (0, -1) if p == REST else (1, *pitch_midis(p))

    return ([START] + sorted(pitches, key=pkey),
            [START] + sorted(durations, key=lambda d: Fraction(d)))


def builtin_notes(name: str, *, workers: int | None = None, progress: bool = True) -> dict[str, Any]:
    """A built-in note data set (cached after the first parse): ``{"name", "tunes": {"train", "valid"},
    "pitch_vocab", "duration_vocab", "source"}``."""
    if name not in BUILTIN_NOTES:
        raise ConfigError(f"unknown built-in note data {name!r} (built-in: {', '.join(BUILTIN_NOTES)})")
    cache = cache_root() / f"{name}-v{CACHE_VERSION}.json"
    if cache.is_file():
        try:
            return json.loads(cache.read_text())
        except (OSError, json.JSONDecodeError):
            pass  # re-parse a damaged cache
    from ..core.clikit import stderr

    if name == "essen":
        files, fn, source = _essen_files(), essen_file_tunes, "music21 corpus essenFolksong (Essen folk songs, ABC)"
    else:
        files, fn, source = _chorale_files(), chorale_soprano_tunes, "music21 corpus bach (soprano of 4-part chorales)"
    if progress:
        stderr(f"parsing the built-in data set {name} ({len(files)} files, once; cached in {cache})")
    tunes = [t for res in _parallel(fn, files, workers=workers, progress=progress, what=name) for t in res]
    splits = _split_by_tune(tunes, val_fraction=0.1, seed=0)
    pv, dv = build_vocab(splits)
    data = {"format": "genlab-music-notes", "name": name, "source": source, "tunes": splits,
            "pitch_vocab": pv, "duration_vocab": dv, "split": "by tune, 10% valid, seed 0"}
    write_json_atomic(cache, data)
    return data


def load_notes(data: str | None, *, progress: bool = True) -> dict[str, Any]:
    """``--data`` for the note models: a built-in name or a DATA folder from ``genlab music prepare``."""
    name = data or "essen"
    if name in BUILTIN_NOTES:
        return builtin_notes(name, progress=progress)
    path = Path(name).expanduser()
    if path.is_dir():
        meta = path / "data.json"
        if not meta.is_file():
            raise DataError(f"{path} is not a DATA folder from `genlab music prepare` (no data.json)")
        try:
            d = json.loads(meta.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise DataError(f"{meta} is corrupt ({e}); run `genlab music prepare` again") from None
        if d.get("format") != "genlab-music-notes":
            raise DataError(f"{meta} is not genlab music data")
        return d
    if path.suffix.lower() == ".json" and path.is_file():
        raise ConfigError(f"--data {name}: the note models read a DATA folder from `genlab music prepare` or a "
                          f"built-in name ({', '.join(BUILTIN_NOTES)}); a JSB JSON file is for --model polyphonic")
    raise DataError(f"--data {name}: no such DATA folder (built-in: {', '.join(BUILTIN_NOTES)})")


def check_vocabulary(model_pitch: list[str], model_duration: list[str], tunes: list[dict], *, what: str) -> None:
    """Refuse data with tokens the model's vocabulary lacks (one line, with the count and examples)."""
    pv, dv = set(model_pitch), set(model_duration)
    bad_p, bad_d, n = set(), set(), 0
    for t in tunes:
        for p, d in t["tokens"]:
            n += 1
            if p not in pv:
                bad_p.add(p)
            if d not in dv:
                bad_d.add(d)
    if bad_p or bad_d:
        ex = ", ".join([f"pitch {p}" for p in sorted(bad_p)[:3]] + [f"duration {d}" for d in sorted(bad_d)[:3]])
        raise DataError(f"{what} has {len(bad_p)} pitch and {len(bad_d)} duration tokens outside the model's "
                        f"vocabulary ({ex}); train a new run on this data (the vocabulary is fixed by the run)")


@dataclass
class Encoded:
    pitch: list[int]
    duration: list[int]


def encode_tunes(tunes: list[dict], pitch_vocab: list[str], duration_vocab: list[str]) -> list[Encoded]:
    """Each tune as ids, ``<s>`` first."""
    pi = {p: i for i, p in enumerate(pitch_vocab)}
    di = {d: i for i, d in enumerate(duration_vocab)}
    return [Encoded([0] + [pi[p] for p, _ in t["tokens"]], [0] + [di[d] for _, d in t["tokens"]]) for t in tunes]


def parse_prompt(text: str, pitch_vocab: list[str], duration_vocab: list[str]) -> list[Token]:
    """``'67:1 67:1/2 rest:1 60.64:2'`` -> tokens; each must be in the model's vocabulary (one-line error if not)."""
    tokens = []
    for item in text.split():
        if ":" not in item:
            raise ConfigError(f"--prompt token {item!r} is not PITCH:DURATION (e.g. 67:1, rest:1/2, 60.64.67:2)")
        p, d = item.split(":", 1)
        try:
            d = duration_token(Fraction(d))
        except (ValueError, ZeroDivisionError):
            raise ConfigError(f"--prompt token {item!r}: {d!r} is not a duration in quarter notes") from None
        if p != REST:
            try:
                p = ".".join(str(m) for m in sorted(int(x) for x in p.split(".")))
            except ValueError:
                raise ConfigError(f"--prompt token {item!r}: {p!r} is not a MIDI pitch, chord or rest") from None
        if p not in pitch_vocab:
            raise ConfigError(f"--prompt pitch {p} is not in the model's vocabulary (it knows "
                              f"{len(pitch_vocab) - 1} pitches, e.g. {', '.join(pitch_vocab[1:6])})")
        if d not in duration_vocab:
            raise ConfigError(f"--prompt duration {d} is not in the model's vocabulary (it knows "
                              f"{', '.join(duration_vocab[1:12])})")
        tokens.append((p, d))
    if not tokens:
        raise ConfigError("--prompt is empty; give PITCH:DURATION tokens or leave it out")
    return tokens


def file_hash(path: Path) -> str:
    st = path.stat()
    return hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|v{CACHE_VERSION}".encode()).hexdigest()[:16]
