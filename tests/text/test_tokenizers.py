"""Tests of genlab.text.tokenizers: char and word tokenizers, their round trips and errors."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import SHARED_DATA, one_line

from genlab.core.errors import ConfigError, DataError
from genlab.text.tokenizers import (
    TOKENIZERS,
    UNK,
    CharTokenizer,
    WordTokenizer,
    fit_tokenizer,
    tokenizer_from_dict,
)

SHAKESPEARE = SHARED_DATA / "tinyshakespeare" / "input.txt"
UNICODE_TEXT = "Crème brûlée, naïve café!\n日本語のテキスト 🙂🚀\nΩmega — ok.\n"


def roundtrip_json(tok):
    return tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))


# ---------------------------------------------------------------- char


def test_char_roundtrip_unicode() -> None:
    tok = CharTokenizer.fit(UNICODE_TEXT)
    ids = tok.encode(UNICODE_TEXT)
    assert len(ids) == len(UNICODE_TEXT)
    assert tok.decode(ids) == UNICODE_TEXT
    assert tok.decode(torch.tensor(ids)) == UNICODE_TEXT  # 1-D tensor too
    assert tok.vocab_size == len(set(UNICODE_TEXT))
    assert "🙂" in tok.vocab and "\n" in tok.vocab and "語" in tok.vocab


def test_char_vocab_sorted_and_deterministic() -> None:
    tok = CharTokenizer.fit("banana\n")
    assert tok.vocab == ["\n", "a", "b", "n"]
    assert tok.encode("nab\n") == [3, 1, 2, 0]
    assert CharTokenizer.fit("ananab\n").vocab == tok.vocab  # order of the text does not matter
    assert tok.to_dict() == {"kind": "char", "vocab": ["\n", "a", "b", "n"]}


def test_char_oov_error_lists_characters() -> None:
    tok = CharTokenizer.fit("abc")
    with pytest.raises(DataError) as err:
        tok.encode("aΩbéΩ")
    msg = one_line(err, "prompt contains 2 characters the model never saw: 'Ω', 'é'", "vocabulary has 3", "remove")
    assert msg == "prompt contains 2 characters the model never saw: 'Ω', 'é' (its vocabulary has 3 characters); " \
                  "remove them"
    with pytest.raises(DataError) as err:
        tok.encode("x\n", what="text file t.txt")
    one_line(err, "text file t.txt contains 2 characters", "'x', '\\n'")


def test_char_oov_error_lists_at_most_ten() -> None:
    tok = CharTokenizer.fit("a")
    with pytest.raises(DataError) as err:
        tok.encode("0123456789XYZ")
    msg = one_line(err, "13 characters", "'9'", "and 3 more")
    assert "'X'" not in msg


def test_char_decode_out_of_range_id() -> None:
    tok = CharTokenizer.fit("abc")
    for bad in ([3], [-1]):
        with pytest.raises(DataError) as err:
            tok.decode(bad)
        one_line(err, f"token id {bad[0]}", "0..2")


def test_char_json_roundtrip() -> None:
    tok = CharTokenizer.fit(UNICODE_TEXT)
    back = roundtrip_json(tok)
    assert isinstance(back, CharTokenizer) and back == tok
    assert back.encode(UNICODE_TEXT) == tok.encode(UNICODE_TEXT)


def test_char_fit_empty() -> None:
    with pytest.raises(DataError) as err:
        CharTokenizer.fit("")
    one_line(err, "empty")


@pytest.mark.skipif(not SHAKESPEARE.is_file(), reason="shared tinyshakespeare not present")
def test_tinyshakespeare_65_chars_roundtrip() -> None:
    from genlab.data.text import read_text

    text = read_text(SHAKESPEARE)
    tok = CharTokenizer.fit(text)
    assert tok.vocab_size == 65
    assert tok.vocab[:3] == ["\n", " ", "!"] and tok.vocab[-1] == "z"
    ids = tok.encode(text)
    assert len(ids) == len(text) == 1115394
    assert tok.decode(ids) == text


# ---------------------------------------------------------------- word


def test_word_tokenisation_exact() -> None:
    tok = WordTokenizer.fit("x")
    assert tok.tokenize("Hello, world!\nIt's  fine.") == ["hello", ",", "world", "!", "\n", "it's", "fine", "."]
    assert WordTokenizer([UNK], lowercase=False).tokenize("Hi\tYou_2") == ["Hi", "You", "_", "2"]
    # Unicode letters are word characters; curly apostrophes join too; newlines are tokens each.
    tokens = tok.tokenize("Señor Ñandú don’t\n\nΩmega.")
    assert tokens == ["señor", "ñandú", "don’t", "\n", "\n", "ωmega", "."]


def test_word_fit_vocab_order() -> None:
    text = "b a c. a b a\n"
    tok = WordTokenizer.fit(text)
    # <unk>, then by count (a:3, b:2), ties (c, ., \n: 1 each) in code-point order.
    assert tok.vocab == [UNK, "a", "b", "\n", ".", "c"]
    assert tok.encode("a b z") == [1, 2, 0]
    assert WordTokenizer.fit("a b c. b a a\n").vocab == tok.vocab


def test_word_roundtrip_normalises() -> None:
    text = "The cat sat on the mat.  It was happy!\nThe End (really), she said: \"Fine?\""
    tok = WordTokenizer.fit(text)
    assert tok.decode(tok.encode(text)) == \
        "the cat sat on the mat. it was happy!\nthe end (really), she said: \"fine?\""
    plain = "It's late, isn't it?\nYes; go home."
    tok = WordTokenizer.fit(plain)
    assert tok.decode(tok.encode(plain)) == plain.lower()
    assert tok.decode(torch.tensor(tok.encode(plain))) == plain.lower()


def test_word_unknown_and_count() -> None:
    tok = WordTokenizer.fit("the cat sat on the mat")
    ids = tok.encode("The dog sat on the rug!")
    assert ids == [tok.stoi["the"], 0, tok.stoi["sat"], tok.stoi["on"], tok.stoi["the"], 0, 0]
    assert tok.count_unknown("The dog sat on the rug!") == 3
    assert tok.decode(ids) == "the <unk> sat on the <unk> <unk>"
    assert tok.count_unknown("the cat") == 0


def test_word_lowercase_off() -> None:
    tok = WordTokenizer.fit("The the THE", lowercase=False)
    assert tok.vocab == [UNK, "THE", "The", "the"]
    assert tok.encode("the The x") == [3, 2, 0]


def test_word_max_vocab_and_min_freq() -> None:
    text = "a a a a b b b c c d"
    assert WordTokenizer.fit(text, max_vocab=3).vocab == [UNK, "a", "b"]  # max_vocab counts <unk>
    assert WordTokenizer.fit(text, min_freq=2).vocab == [UNK, "a", "b", "c"]
    assert WordTokenizer.fit(text, min_freq=3, max_vocab=100).vocab == [UNK, "a", "b"]
    assert WordTokenizer.fit(text, max_vocab=2, min_freq=1).encode("b a") == [0, 1]


def test_word_fit_errors() -> None:
    with pytest.raises(ConfigError) as err:
        WordTokenizer.fit("a b", max_vocab=1)
    one_line(err, "--max-vocab", ">= 2", "got 1")
    with pytest.raises(ConfigError) as err:
        WordTokenizer.fit("a b", min_freq=0)
    one_line(err, "--min-freq", ">= 1", "got 0")
    with pytest.raises(DataError) as err:
        WordTokenizer.fit("a b", min_freq=5)
    one_line(err, "no word occurs 5 times", "--min-freq")
    with pytest.raises(DataError) as err:
        WordTokenizer.fit("  \n"[:2])
    one_line(err, "without words")


def test_word_json_roundtrip() -> None:
    tok = WordTokenizer.fit("Hello, world!\nIt's  fine.", lowercase=False)
    back = roundtrip_json(tok)
    assert isinstance(back, WordTokenizer) and back == tok and back.lowercase is False
    assert back.to_dict() == {"kind": "word", "vocab": tok.vocab, "lowercase": False}
    assert back.encode("Hello there\n") == tok.encode("Hello there\n") == [tok.stoi["Hello"], 0, tok.stoi["\n"]]


# ---------------------------------------------------------------- registry


def test_fit_tokenizer_and_registry() -> None:
    assert set(TOKENIZERS) == {"char", "word", "bpe"}  # bpe: issue 17 (tests/text/test_bpe.py)
    assert fit_tokenizer("char", "ba") == CharTokenizer(["a", "b"])
    assert fit_tokenizer("word", "b a a", max_vocab=2) == WordTokenizer([UNK, "a"])
    assert fit_tokenizer("char", "ba", max_vocab=None, min_freq=None).vocab == ["a", "b"]  # unset options ignored


def test_fit_tokenizer_errors() -> None:
    with pytest.raises(ConfigError) as err:
        fit_tokenizer("sentencepiece", "text")
    one_line(err, "unknown tokenizer 'sentencepiece'", "char, word, bpe")
    with pytest.raises(ConfigError) as err:
        fit_tokenizer("char", "text", max_vocab=100)
    one_line(err, "--max-vocab does not apply to the char tokenizer", "--tokenizer word")


def test_tokenizer_from_dict_errors() -> None:
    with pytest.raises(ConfigError) as err:
        tokenizer_from_dict({"kind": "sentencepiece", "vocab": ["a"]})
    one_line(err, "unknown tokenizer 'sentencepiece'", "char, word")
    with pytest.raises(DataError) as err:
        tokenizer_from_dict({"kind": "char"})
    one_line(err, "no 'vocab'")
    with pytest.raises(DataError) as err:
        tokenizer_from_dict({"kind": "char", "vocab": ["a", "a"]})
    one_line(err, "'a' twice")
    with pytest.raises(DataError) as err:
        tokenizer_from_dict({"kind": "char", "vocab": ["ab"]})
    one_line(err, "not one character")
    with pytest.raises(DataError) as err:
        tokenizer_from_dict({"kind": "word", "vocab": ["a", UNK]})
    one_line(err, "must start with '<unk>'")


# ---------------------------------------------------------------- unseen characters / words: refuse, map or skip


def test_char_unknown_map_and_skip() -> None:
    tok = CharTokenizer.fit("ab c")
    assert tok.replacement == " "  # a space when the vocabulary has one
    assert tok.encode("aΩbé", unknown="map") == [tok.stoi["a"], tok.stoi[" "], tok.stoi["b"], tok.stoi[" "]]
    assert tok.encode("aΩbé", unknown="skip") == [tok.stoi["a"], tok.stoi["b"]]
    assert tok.count_unknown("aΩbéΩ") == 3 and tok.count_unknown("abc") == 0
    assert CharTokenizer.fit("xy").replacement == "x"  # otherwise the first character of the vocabulary
    with pytest.raises(DataError) as err:
        tok.encode("aΩ", what="corpus o.txt", hint="pass --unknown map or --unknown skip")
    one_line(err, "corpus o.txt contains 1 character the model never saw: 'Ω'", "pass --unknown map")
    with pytest.raises(ConfigError) as err:
        tok.encode("a", unknown="drop")
    one_line(err, "--unknown", "refuse, map, skip")


def test_word_unknown_modes() -> None:
    tok = WordTokenizer.fit("the cat sat")
    assert tok.encode("the dog sat") == [tok.stoi["the"], 0, tok.stoi["sat"]]  # map (<unk>) by default
    assert tok.encode("the dog sat", unknown="skip") == [tok.stoi["the"], tok.stoi["sat"]]
    with pytest.raises(DataError) as err:
        tok.encode("the dog sat", what="corpus o.txt", unknown="refuse")
    one_line(err, "corpus o.txt contains 1 word the model never saw: 'dog'")
