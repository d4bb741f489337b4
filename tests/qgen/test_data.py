"""Reading pairs, the sentence split, the vocabulary and the extended (copy) vocabulary."""

import pytest

from genlab.core.errors import ConfigError
from genlab.qgen.data import (SPECIALS, Pair, Vocab, answer_tags, build_vocab, read_embeddings, split_by_sentence,
                              tokenize)


def test_tokenize_keeps_pretokenised_text_and_splits_typed_punctuation():
    assert tokenize("levi 's stadium -lrb- afc -rrb- .") == ["levi", "'s", "stadium", "-lrb-", "afc", "-rrb-", "."]
    assert tokenize('Where is "Denver"?') == ["where", "is", '"', "denver", '"', "?"]


def test_split_by_sentence_never_puts_a_sentence_on_both_sides():
    pairs = [Pair([f"s{i % 7}"], [f"q{i}"]) for i in range(40)]
    train, val = split_by_sentence(pairs, 0.3, seed=1)
    assert {p.src[0] for p in train}.isdisjoint({p.src[0] for p in val})
    assert len(train) + len(val) == 40 and val
    assert split_by_sentence(pairs, 0.3, seed=1) == (train, val)


def test_vocab_and_extended_ids():
    v = Vocab(build_vocab([Pair("a b a c".split(), "what a ?".split())], max_vocab=7, min_freq=1))
    assert v.words[:4] == list(SPECIALS) and v.words[4] == "a" and len(v) == 7
    ext, oovs = v.extended("a zorb b zorb".split())
    assert oovs == ["zorb"] and ext[1] == ext[3] == len(v)
    assert v.target_extended(["zorb", "nope"], oovs) == [len(v), 1]


def test_answer_tags():
    assert answer_tags("the river nile flows".split(), "river nile".split()) == [0, 1, 2, 0]


def test_embeddings_file(tmp_path):
    v = Vocab([*SPECIALS, "paris"])
    f = tmp_path / "v.txt"
    f.write_text("paris 1 2\nrome 3 4\n")
    vec, found = read_embeddings(f, v, 2)
    assert found == 1 and vec[4].tolist() == [1.0, 2.0]
    with pytest.raises(ConfigError, match="2-dimensional"):
        read_embeddings(f, v, 3)
