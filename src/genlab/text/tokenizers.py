"""Tokenizers of the text-generation family: characters and words, fitted on the training corpus.

* :class:`CharTokenizer` - one token per Unicode character, the vocabulary is the sorted set of the corpus's
  characters (Chollet, *Deep Learning with Python*, char-LSTM; Karpathy's char-rnn / nanoGPT ``shakespeare_char``).
* :class:`WordTokenizer` - words, punctuation marks and newlines as tokens, most frequent first, with ``<unk>`` at
  id 0 for everything else (the word models of Chollet's *Deep Learning with Python* and Foster's *Generative Deep
  Learning*, which use Keras' tokenisation: lower-cased text, punctuation split off).

* :class:`BPETokenizer` - byte-level byte-pair encoding (Sennrich et al. 2016; GPT-2's byte-level variant), trained
  on the corpus by Hugging Face ``tokenizers`` (``--tokenizer bpe --vocab-size N``). Every text encodes (no unknown
  tokens) and decodes back exactly; the trained tokenizer's JSON is saved inside the model config.

Both tokenizers save to a JSON-able dict (:meth:`to_dict`) and come back with :func:`tokenizer_from_dict`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch

from genlab.core.errors import ConfigError, DataError

__all__ = [
    "TOKENIZERS",
    "UNK",
    "UNKNOWN_MODES",
    "CharTokenizer",
    "WordTokenizer",
    "BPETokenizer",
    "fit_tokenizer",
    "tokenizer_from_dict",
]

UNK = "<unk>"
_MAX_LISTED = 10  # unknown characters named in an error message; more would not fit on one line


def _ids_list(ids: Sequence[int] | torch.Tensor, vocab_size: int) -> list[int]:
    """``ids`` (a list of ints or a 0-/1-D integer tensor) as a list, each checked to lie in ``0..vocab_size-1``."""
    if isinstance(ids, torch.Tensor):
        if ids.ndim > 1:
            raise ValueError(f"decode takes a 1-D tensor of token ids, got shape {tuple(ids.shape)}")
        ids = ids.reshape(-1).tolist()
    else:
        ids = [int(i) for i in ids]
    if ids and (min(ids) < 0 or max(ids) >= vocab_size):
        bad = min(ids) if min(ids) < 0 else max(ids)
        # A negative id would silently index from the end of the vocabulary, so check instead of catching IndexError.
        raise DataError(
            f"token id {bad} is outside the vocabulary (ids 0..{vocab_size - 1}); the model and its tokenizer do not "
            f"match: use the tokenizer saved with the model"
        )
    return ids


def _check_vocab(vocab: Any, kind: str) -> list[str]:
    if isinstance(vocab, str) or not isinstance(vocab, Iterable):
        raise DataError(f"{kind} tokenizer vocabulary must be a list of strings, got {type(vocab).__name__}; "
                        f"use a tokenizer saved by genlab")
    vocab = list(vocab)
    if not vocab or not all(isinstance(t, str) and t for t in vocab):
        raise DataError(f"{kind} tokenizer vocabulary must be a non-empty list of non-empty strings; "
                        f"use a tokenizer saved by genlab")
    if len(set(vocab)) != len(vocab):
        dup = next(t for t, c in Counter(vocab).items() if c > 1)
        raise DataError(f"{kind} tokenizer vocabulary lists {dup!r} twice; use a tokenizer saved by genlab")
    return vocab


class CharTokenizer:
    """One token per character; ids index the sorted set of the characters seen when fitting."""

    kind = "char"

    def __init__(self, vocab: Sequence[str]) -> None:
        vocab = _check_vocab(vocab, self.kind)
        if any(len(c) != 1 for c in vocab):
            bad = next(c for c in vocab if len(c) != 1)
            raise DataError(f"char tokenizer vocabulary holds {bad!r}, which is not one character; "
                            f"use a tokenizer saved by genlab")
        self.vocab: list[str] = vocab
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(vocab)}

    @classmethod
    def fit(cls, text: str) -> CharTokenizer:
        """The tokenizer of ``text``: its distinct characters, sorted by code point (deterministic)."""
        if not text:
            raise DataError("cannot fit a tokenizer on an empty text; use a file that holds text")
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def replacement(self) -> str:
        """What ``encode(..., unknown="map")`` puts for a character the model never saw: a space when the vocabulary
        has one, else its first character (a character model has no ``<unk>`` token)."""
        return " " if " " in self.stoi else self.vocab[0]

    def encode(self, text: str, *, what: str = "prompt", unknown: str = "refuse",
               hint: str = "remove them") -> list[int]:
        """Token ids of ``text``. A character not in the vocabulary raises :class:`DataError` naming them
        (``unknown="refuse"``; ``hint`` ends that message), becomes :attr:`replacement` (``"map"``) or is dropped
        (``"skip"``). ``what`` names the text in the message ("prompt", "text file x.txt", ...).
        """
        _check_unknown_mode(unknown)
        stoi = self.stoi
        if not set(text) <= stoi.keys():
            if unknown == "map":
                rep = stoi[self.replacement]
                return [stoi.get(c, rep) for c in text]
            if unknown == "skip":
                return [stoi[c] for c in text if c in stoi]
            unknown_chars = list(dict.fromkeys(c for c in text if c not in stoi))  # in order of first appearance
            listed = ", ".join(repr(c) for c in unknown_chars[:_MAX_LISTED])
            more = f" and {len(unknown_chars) - _MAX_LISTED} more" if len(unknown_chars) > _MAX_LISTED else ""
            noun = "character" if len(unknown_chars) == 1 else "characters"
            raise DataError(
                f"{what} contains {len(unknown_chars)} {noun} the model never saw: {listed}{more} "
                f"(its vocabulary has {self.vocab_size} characters); {hint}"
            )
        return [stoi[c] for c in text]

    def count_unknown(self, text: str) -> int:
        """How many characters of ``text`` are not in the vocabulary."""
        stoi = self.stoi
        return sum(c not in stoi for c in text)

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The text of ``ids`` (a list of ints or a 1-D tensor); exact inverse of :meth:`encode`."""
        vocab = self.vocab
        return "".join(vocab[i] for i in _ids_list(ids, self.vocab_size))

    def decoder(self) -> Callable[[Sequence[int] | torch.Tensor], str]:
        """An incremental :meth:`decode`: call it with successive pieces of one sequence; it returns the text each
        piece adds (the pieces joined equal ``decode`` of the whole), at a cost proportional to the piece."""
        return self.decode  # characters do not depend on their neighbours

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocab": list(self.vocab)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.vocab == other.vocab

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


# A word is a run of letters/digits of any script ([^\W_]: \w without the underscore), optionally with one
# apostrophe suffix of letters ("it's", "o'er", "don’t"); every other non-space character is its own token
# (punctuation, symbols, "_"), and "\n" is kept as a token so that line structure survives. Other whitespace only
# separates tokens. This is the seeds' ASCII pattern \n|[A-Za-z0-9]+(?:'[A-Za-z]+)?|[^\sA-Za-z0-9] made Unicode-aware.
_WORD_RE = re.compile(r"\n|[^\W_]+(?:['’][^\W\d_]+)?|[^\s\w]|_")

# decode(): no space before closing marks, none after opening ones, none around "\n". Straight double quotes
# alternate: odd ones open, even ones close. A lone ' is treated as closing, right for apostrophes ("dogs '").
_NO_SPACE_BEFORE = frozenset(".,;:!?)]}'”’»…%")
_NO_SPACE_AFTER = frozenset("([{“‘«")


class WordTokenizer:
    """Words, punctuation and newlines as tokens; ``<unk>`` (id 0) stands for every word not in the vocabulary."""

    kind = "word"

    def __init__(self, vocab: Sequence[str], *, lowercase: bool = True) -> None:
        vocab = _check_vocab(vocab, self.kind)
        if vocab[0] != UNK:
            raise DataError(f"word tokenizer vocabulary must start with {UNK!r} (id 0), got {vocab[0]!r}; "
                            f"use a tokenizer saved by genlab")
        self.vocab: list[str] = vocab
        self.lowercase = bool(lowercase)
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(vocab)}

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` (lower-cased first if the tokenizer is), before mapping to ids."""
        if self.lowercase:
            text = text.lower()
        return _WORD_RE.findall(text)

    @classmethod
    def fit(
        cls, text: str, *, max_vocab: int = 20000, min_freq: int = 1, lowercase: bool = True
    ) -> WordTokenizer:
        """The tokenizer of ``text``: ``<unk>`` then the tokens seen at least ``min_freq`` times, most frequent
        first, ties in alphabetical (code point) order, at most ``max_vocab`` entries in all (``<unk>`` included).
        """
        if isinstance(max_vocab, bool) or not isinstance(max_vocab, int) or max_vocab < 2:
            raise ConfigError(f"--max-vocab must be an integer >= 2 (got {max_vocab!r}); it counts {UNK} too")
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ConfigError(f"--min-freq must be an integer >= 1 (got {min_freq!r})")
        counts = Counter(cls([UNK], lowercase=lowercase).tokenize(text))
        if not counts:
            raise DataError("cannot fit a word tokenizer on a text without words; use a file that holds text")
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        if not kept:
            top = max(counts.values())
            raise DataError(f"no word occurs {min_freq} times (the most frequent occurs {top} times); "
                            f"use a smaller --min-freq or a longer text")
        return cls([UNK, *kept[: max_vocab - 1]], lowercase=lowercase)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str, *, what: str = "prompt", unknown: str = "map",
               hint: str = "pass --unknown map to score them as <unk>") -> list[int]:
        """Token ids of ``text``. Unknown tokens become ``<unk>`` (id 0, ``unknown="map"``, the default: the model
        was trained with ``<unk>`` for its rare words), are dropped (``"skip"``) or raise :class:`DataError`
        (``"refuse"``, naming ``what`` and ending with ``hint``). See :meth:`count_unknown`.
        """
        _check_unknown_mode(unknown)
        stoi = self.stoi
        tokens = self.tokenize(text)
        if unknown == "skip":
            return [stoi[t] for t in tokens if t in stoi]
        if unknown == "refuse" and not all(t in stoi for t in tokens):
            words = list(dict.fromkeys(t for t in tokens if t not in stoi))
            listed = ", ".join(repr(w) for w in words[:_MAX_LISTED])
            more = f" and {len(words) - _MAX_LISTED} more" if len(words) > _MAX_LISTED else ""
            noun = "word" if len(words) == 1 else "words"
            raise DataError(f"{what} contains {len(words)} {noun} the model never saw: {listed}{more} "
                            f"(its vocabulary has {self.vocab_size} tokens); {hint}")
        return [stoi.get(t, 0) for t in tokens]

    def count_unknown(self, text: str) -> int:
        """How many tokens of ``text`` are not in the vocabulary (so :meth:`encode` maps them to ``<unk>``)."""
        stoi = self.stoi
        return sum(t not in stoi for t in self.tokenize(text))

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The tokens of ``ids`` joined by single spaces, except: no space before closing punctuation
        (``.,;:!?)]}'`` ...), none after opening brackets (``([{`` ...), none around ``"\\n"``, and straight double
        quotes hug their text (odd ones open, even ones close).

        So ``decode(encode(t))`` is ``t`` lower-cased with whitespace normalised, wherever ``t`` follows those rules.
        """
        return self.decoder()(ids)

    def decoder(self) -> Callable[[Sequence[int] | torch.Tensor], str]:
        """An incremental :meth:`decode`: call it with successive pieces of one sequence; it returns the text each
        piece adds (the pieces joined equal ``decode`` of the whole), at a cost proportional to the piece. The
        spacing rules need only the previous token and whether a quote or bracket is open, which it carries."""
        vocab = self.vocab
        prev = "\n"  # as if after a newline: no leading space
        after_opening = False
        quote_open = False

        def feed(ids: Sequence[int] | torch.Tensor) -> str:
            nonlocal prev, after_opening, quote_open
            parts: list[str] = []
            for i in _ids_list(ids, self.vocab_size):
                tok = vocab[i]
                closing = tok in _NO_SPACE_BEFORE or (tok == '"' and quote_open)
                if not (tok == "\n" or prev == "\n" or closing or after_opening):
                    parts.append(" ")
                parts.append(tok)
                if tok == '"':
                    quote_open = not quote_open
                    after_opening = quote_open
                else:
                    after_opening = tok in _NO_SPACE_AFTER
                prev = tok
            return "".join(parts)

        return feed

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocab": list(self.vocab), "lowercase": self.lowercase}

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, WordTokenizer) and self.vocab == other.vocab
                and self.lowercase == other.lowercase)

    def __repr__(self) -> str:
        return f"WordTokenizer(vocab_size={self.vocab_size}, lowercase={self.lowercase})"


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map of the 256 byte values to printable characters (what byte-level BPE tokens are
    spelled in)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs), strict=True))


class BPETokenizer:
    """Byte-level BPE trained by Hugging Face ``tokenizers``; ids index its vocabulary. Exact round trip:
    ``decode(encode(t)) == t`` for every string."""

    kind = "bpe"

    def __init__(self, spec: str) -> None:
        from genlab.core.extras import require

        tk = require("tokenizers", extra="qgen", what="the BPE tokenizer")
        if not isinstance(spec, str):
            raise DataError("a saved BPE tokenizer must be its JSON text; use a tokenizer saved by genlab")
        try:
            self._tok = tk.Tokenizer.from_str(spec)
        except Exception as e:  # the library raises its own Exception type for bad JSON
            raise DataError(f"the saved BPE tokenizer does not load ({str(e).splitlines()[0][:120]}); "
                            f"use a tokenizer saved by genlab") from None
        self.spec = spec
        vocab = self._tok.get_vocab()
        self.vocab: list[str] = [""] * len(vocab)
        for t, i in vocab.items():
            self.vocab[i] = t
        byte_of = {c: b for b, c in _bytes_to_unicode().items()}
        self._bytes: list[bytes] = [bytes(byte_of[c] for c in t) for t in self.vocab]
        self.stoi: dict[str, int] = {}
        for i, b in enumerate(self._bytes):  # the text of each token that is whole UTF-8 ("\n" -> its id)
            try:
                self.stoi.setdefault(b.decode("utf-8"), i)
            except UnicodeDecodeError:
                pass

    @classmethod
    def fit(cls, text: str, *, vocab_size: int = 1000) -> BPETokenizer:
        """Train byte-level BPE on ``text`` up to ``vocab_size`` tokens (the 256 byte tokens included)."""
        from genlab.core.extras import require

        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 257:
            raise ConfigError(f"--vocab-size must be an integer >= 257 for byte-level BPE (256 byte tokens + merges; "
                              f"got {vocab_size!r})")
        if not text:
            raise DataError("cannot fit a tokenizer on an empty text; use a file that holds text")
        tk = require("tokenizers", extra="qgen", what="the BPE tokenizer")
        tok = tk.Tokenizer(tk.models.BPE())
        tok.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = tk.decoders.ByteLevel()
        trainer = tk.trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                         initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator([text], trainer=trainer, length=len(text))
        return cls(tok.to_str())

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str, *, what: str = "prompt", unknown: str = "refuse", hint: str = "") -> list[int]:
        """Token ids of ``text``; byte-level BPE has no unknown tokens, so ``unknown`` never matters."""
        _check_unknown_mode(unknown)
        return self._tok.encode(text).ids if text else []

    def count_unknown(self, text: str) -> int:
        return 0

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The text of ``ids``: their bytes joined and read as UTF-8 (a cut multi-byte character shows as U+FFFD)."""
        return b"".join(self._bytes[i] for i in _ids_list(ids, self.vocab_size)).decode("utf-8", errors="replace")

    def decoder(self) -> Callable[[Sequence[int] | torch.Tensor], str]:
        """An incremental :meth:`decode`: bytes of a character split over two pieces wait for the rest."""
        import codecs

        dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
        return lambda ids: dec.decode(b"".join(self._bytes[i] for i in _ids_list(ids, self.vocab_size)))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "spec": self.spec}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BPETokenizer) and self.spec == other.spec

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"


Tokenizer = CharTokenizer | WordTokenizer | BPETokenizer

UNKNOWN_MODES = ("refuse", "map", "skip")


def _check_unknown_mode(mode: Any) -> None:
    if mode not in UNKNOWN_MODES:
        raise ConfigError(f"--unknown must be one of {', '.join(UNKNOWN_MODES)} (got {mode!r})")

TOKENIZERS: dict[str, type[CharTokenizer | WordTokenizer | BPETokenizer]] = {
    "char": CharTokenizer, "word": WordTokenizer, "bpe": BPETokenizer}


# The keyword options of each tokenizer's fit().
_FIT_OPTIONS: dict[str, frozenset[str]] = {
    "char": frozenset(),
    "word": frozenset({"max_vocab", "min_freq", "lowercase"}),
    "bpe": frozenset({"vocab_size"}),
}


def _kind(kind: Any) -> str:
    if not isinstance(kind, str) or kind not in TOKENIZERS:
        raise ConfigError(f"unknown tokenizer {kind!r}; valid tokenizers: {', '.join(TOKENIZERS)}")
    return kind


def tokenizer_from_dict(d: Mapping[str, Any]) -> CharTokenizer | WordTokenizer | BPETokenizer:
    """Rebuild a tokenizer from :meth:`to_dict`'s output (e.g. after a JSON round trip)."""
    if not isinstance(d, Mapping):
        raise DataError(f"a saved tokenizer must be a dict, got {type(d).__name__}; use a tokenizer saved by genlab")
    kind = _kind(d.get("kind"))
    if kind == "bpe":
        if "spec" not in d:
            raise DataError("saved bpe tokenizer has no 'spec'; use a tokenizer saved by genlab")
        return BPETokenizer(d["spec"])
    if "vocab" not in d:
        raise DataError(f"saved {kind} tokenizer has no 'vocab'; use a tokenizer saved by genlab")
    if kind == "char":
        return CharTokenizer(d["vocab"])
    return WordTokenizer(d["vocab"], lowercase=bool(d.get("lowercase", True)))


def fit_tokenizer(kind: str, text: str, **kw: Any) -> CharTokenizer | WordTokenizer | BPETokenizer:
    """Fit the tokenizer named ``kind`` ("char", "word" or "bpe") on ``text``; ``kw`` go to its ``fit``.

    Options set to ``None`` are ignored, so a caller may pass every option of every tokenizer; a set option that
    the chosen tokenizer does not take (``max_vocab`` for "char") raises :class:`ConfigError`.
    """
    cls = TOKENIZERS[_kind(kind)]
    kw = {k: v for k, v in kw.items() if v is not None}
    extra = sorted(set(kw) - _FIT_OPTIONS[kind])
    if extra:
        flags = ", ".join("--" + k.replace("_", "-") for k in extra)
        other = [k for k, opts in _FIT_OPTIONS.items() if k != kind and set(extra) <= opts]
        instead = f" or use --tokenizer {other[0]}" if other else ""
        raise ConfigError(f"{flags} {'does' if len(extra) == 1 else 'do'} not apply to the {kind} tokenizer; "
                          f"drop {'it' if len(extra) == 1 else 'them'}{instead}")
    return cls.fit(text, **kw)
