"""Sentence-question pairs for question generation: reading, checking, the vocabulary, the sentence split, tensors.

Files: ``--src FILE --tgt FILE`` (line i of one is the sentence, line i of the other its question: the format of
Du, Shao and Cardie 2017's ``src-*.txt`` / ``tgt-*.txt``) or ``--pairs FILE`` of ``sentence<TAB>question[<TAB>answer]``
lines (the third column, an answer span of the sentence, turns on answer tagging). Text is lower-cased and split
into words and punctuation (already-tokenised files such as Du et al.'s stay as they are).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..core.config import cfg_field, check_int
from ..core.errors import ConfigError, DataError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
# answer tags (BIO): outside, begin, inside; 0 is also padding (masked anyway)
TAG_O, TAG_B, TAG_I = 0, 1, 2

SHARED_SPLIT = "question-generation"
_EDGE_PUNCT = ".,?!;:\"()[]{}"


def tokenize(text: str) -> list[str]:
    """Lower-case, split on whitespace, split punctuation off the ends of words (``denver?`` -> ``denver ?``).

    Pre-tokenised text (``levi 's stadium -lrb- afc -rrb-``) is unchanged, so the shared data and typed sentences
    are tokenised alike."""
    out: list[str] = []
    for word in text.lower().split():
        head: list[str] = []
        tail: list[str] = []
        while len(word) > 1 and word[0] in _EDGE_PUNCT:
            head.append(word[0])
            word = word[1:]
        while len(word) > 1 and word[-1] in _EDGE_PUNCT:
            tail.append(word[-1])
            word = word[:-1]
        out += head + [word] + tail[::-1]
    return out


@dataclass
class Pair:
    src: list[str]
    tgt: list[str]
    answer: list[str] | None = None
    line: int = 0  # 1-based line number in the input, for messages


def shared_data_dir() -> Path | None:
    """``../shared/data/question-generation`` seen from the repository (or the working folder), if present."""
    here = Path(__file__).resolve()
    for root in (Path.cwd(), *here.parents):
        cand = root.parent / "shared" / "data" / SHARED_SPLIT
        if cand.is_dir():
            return cand
        cand = root / "shared" / "data" / SHARED_SPLIT
        if cand.is_dir():
            return cand
    return None


def _read_lines(path: str | Path, what: str) -> list[str]:
    from ..data.text import read_text  # missing, folder, binary, empty and non-UTF-8 files: one line each

    text = read_text(Path(path).expanduser())
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    if not lines:
        raise DataError(f"{what} {path} is empty; it needs one {what.split()[0]} per line")
    return [line.rstrip("\r") for line in lines]


def read_pairs(src: str | Path | None = None, tgt: str | Path | None = None, *, pairs: str | Path | None = None,
               require_questions: bool = True) -> list[Pair]:
    """Read and check the pairs: equal line counts, no empty line, answers found in their sentences."""
    if pairs is not None and (src is not None or tgt is not None):
        raise ConfigError("give --pairs FILE or --src FILE --tgt FILE, not both")
    out: list[Pair] = []
    if pairs is not None:
        for i, line in enumerate(_read_lines(pairs, "pairs file"), start=1):
            cols = line.split("\t")
            if len(cols) not in (2, 3):
                raise DataError(f"{pairs} line {i} has {len(cols)} tab-separated columns; each line is "
                                f"sentence<TAB>question or sentence<TAB>question<TAB>answer")
            out.append(_pair(cols[0], cols[1], cols[2] if len(cols) == 3 else None, i, str(pairs)))
        if len({p.answer is None for p in out}) > 1:
            first = next(p for p in out if (p.answer is None) != (out[0].answer is None))
            raise DataError(f"{pairs} line {first.line}: some lines have an answer column and some do not; give "
                            f"an answer on every line or on none")
        return out
    if src is None or tgt is None:
        raise ConfigError("give both --src FILE (sentences) and --tgt FILE (questions), or --pairs FILE")
    s_lines = _read_lines(src, "sentence file")
    t_lines = _read_lines(tgt, "question file")
    if len(s_lines) != len(t_lines):
        raise DataError(f"the sentence file {src} has {len(s_lines)} lines but the question file {tgt} has "
                        f"{len(t_lines)}; line i of one must be the sentence of line i of the other")
    return [_pair(s, t, None, i, f"{src} / {tgt}") for i, (s, t) in enumerate(zip(s_lines, t_lines), start=1)]


def _pair(sentence: str, question: str, answer: str | None, line: int, where: str) -> Pair:
    s, q = tokenize(sentence), tokenize(question)
    if not s:
        raise DataError(f"{where} line {line}: the sentence is empty; remove the line or fill it in")
    if not q:
        raise DataError(f"{where} line {line}: the question is empty; remove the line or fill it in")
    a = None
    if answer is not None:
        a = tokenize(answer)
        if not a:
            raise DataError(f"{where} line {line}: the answer column is empty; give the answer span")
        if find_span(s, a) is None:
            raise DataError(f"{where} line {line}: the answer {answer.strip()!r} is not in its sentence; the "
                            f"answer must be a span of the sentence")
    return Pair(s, q, a, line)


def find_span(tokens: Sequence[str], answer: Sequence[str]) -> tuple[int, int] | None:
    """(start, end) of the first occurrence of ``answer`` in ``tokens``, else None."""
    n = len(answer)
    for i in range(len(tokens) - n + 1):
        if list(tokens[i:i + n]) == list(answer):
            return i, i + n
    return None


def answer_tags(tokens: Sequence[str], answer: Sequence[str] | None) -> list[int]:
    """BIO tags of the answer span (all O without an answer)."""
    tags = [TAG_O] * len(tokens)
    span = find_span(tokens, answer) if answer else None
    if span is not None:
        tags[span[0]] = TAG_B
        for j in range(span[0] + 1, span[1]):
            tags[j] = TAG_I
    return tags


def split_by_sentence(pairs: Sequence[Pair], val_fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Train / validation parts with no sentence on both sides: whole sentences (with all their questions) are
    drawn for validation, seeded."""
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"--val-fraction must be in [0, 1) (got {val_fraction})")
    sentences = list(dict.fromkeys(" ".join(p.src) for p in pairs))
    rng = random.Random(seed)
    rng.shuffle(sentences)
    n_val = int(round(val_fraction * len(sentences)))
    if val_fraction > 0 and n_val == 0:
        n_val = 1
    if n_val >= len(sentences):
        raise DataError(f"{len(sentences)} distinct sentences cannot be split into a training and a validation part "
                        f"of fraction {val_fraction}; add data or lower --val-fraction")
    val = set(sentences[:n_val])
    return [p for p in pairs if " ".join(p.src) not in val], [p for p in pairs if " ".join(p.src) in val]


def build_vocab(pairs: Sequence[Pair], *, max_vocab: int, min_freq: int) -> list[str]:
    """The specials, then words of the training sentences and questions seen ``min_freq`` times, most frequent
    first (ties alphabetical), ``max_vocab`` entries in all."""
    counts = Counter(w for p in pairs for w in (*p.src, *p.tgt))
    words = sorted((w for w, c in counts.items() if c >= min_freq and w not in SPECIALS),
                   key=lambda w: (-counts[w], w))
    return [*SPECIALS, *words[: max(0, max_vocab - len(SPECIALS))]]


@dataclass
class QGenDataConfig:
    src: str | None = cfg_field(None, help="sentences, one per line (default: the shared Du et al. dev split)",
                                metavar="FILE")
    tgt: str | None = cfg_field(None, help="questions, line i for sentence i", metavar="FILE")
    pairs: str | None = cfg_field(None, help="instead of --src/--tgt: sentence<TAB>question[<TAB>answer] lines",
                                  metavar="FILE")
    val_fraction: float = cfg_field(0.1, help="fraction of distinct sentences held out for validation")
    split_seed: int = cfg_field(0, help="seed of the sentence split")
    max_vocab: int = cfg_field(6000, help="vocabulary size (words of the training part, specials included)")
    min_freq: int = cfg_field(2, help="keep words seen at least this often in the training part")
    embeddings: str | None = cfg_field(None, help="initialise the word embeddings from word vectors in the "
                                                  "word2vec/GloVe text format (dimension must equal --emb-dim)",
                                       metavar="FILE")

    def __post_init__(self) -> None:
        check_int("max_vocab", self.max_vocab, len(SPECIALS) + 1)
        check_int("min_freq", self.min_freq, 1)
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"--val-fraction must be in [0, 1) (got {self.val_fraction})")
        if (self.src is None) != (self.tgt is None):
            raise ConfigError("give both --src FILE and --tgt FILE (or --pairs FILE, or neither for the shared split)")
        if self.pairs is not None and self.src is not None:
            raise ConfigError("give --pairs FILE or --src FILE --tgt FILE, not both")


def resolve_files(cfg: QGenDataConfig) -> QGenDataConfig:
    """The shared split's files when none are given (as absolute paths, so the run works from anywhere)."""
    import dataclasses
    import os

    if cfg.pairs is None and cfg.src is None:
        shared = shared_data_dir()
        ab = (lambda p: None if p is None else os.path.abspath(os.path.expanduser(p)))
        if shared is None:
            raise DataError("no --src/--tgt given and ../shared/data/question-generation is not here; pass "
                            "--src FILE --tgt FILE (or --pairs FILE)")
        return dataclasses.replace(cfg, src=str(shared / "src-dev.txt"), tgt=str(shared / "tgt-dev.txt"),
                                   embeddings=ab(cfg.embeddings))
    ab = (lambda p: None if p is None else os.path.abspath(os.path.expanduser(p)))
    return dataclasses.replace(cfg, src=ab(cfg.src), tgt=ab(cfg.tgt), pairs=ab(cfg.pairs),
                               embeddings=ab(cfg.embeddings))


class Vocab:
    """Word <-> id with the specials first; source words outside it get temporary ids (the extended vocabulary of
    See et al. 2017's pointer-generator)."""

    def __init__(self, words: Sequence[str]) -> None:
        if tuple(words[: len(SPECIALS)]) != SPECIALS:
            raise DataError("a question-generation vocabulary must start with <pad> <unk> <s> </s>")
        self.words = list(words)
        self.stoi = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def ids(self, tokens: Sequence[str]) -> list[int]:
        return [self.stoi.get(t, UNK_ID) for t in tokens]

    def extended(self, src: Sequence[str]) -> tuple[list[int], list[str]]:
        """Source ids in the extended vocabulary and the list of its OOV words (id len(vocab)+k is oovs[k])."""
        oovs: list[str] = []
        ids = []
        for t in src:
            i = self.stoi.get(t)
            if i is None:
                if t not in oovs:
                    oovs.append(t)
                i = len(self.words) + oovs.index(t)
            ids.append(i)
        return ids, oovs

    def target_extended(self, tgt: Sequence[str], oovs: Sequence[str]) -> list[int]:
        out = []
        for t in tgt:
            i = self.stoi.get(t)
            if i is None:
                i = len(self.words) + oovs.index(t) if t in oovs else UNK_ID
            out.append(i)
        return out

    def word(self, i: int, oovs: Sequence[str]) -> str:
        return self.words[i] if i < len(self.words) else oovs[i - len(self.words)]


@dataclass
class Encoded:
    src: list[int]  # in-vocabulary ids (<unk> for OOV): the encoder's input
    src_ext: list[int]  # extended ids: where copy attention lands
    tags: list[int]
    oovs: list[str]
    tgt_ext: list[int] | None  # question ids (extended), no <s>/</s>
    tgt: list[int] | None = None  # question ids in the vocabulary (<unk> for OOV): the decoder's inputs


def encode_pair(vocab: Vocab, src: Sequence[str], tgt: Sequence[str] | None, answer: Sequence[str] | None, *,
                max_src_len: int, max_tgt_len: int) -> Encoded:
    tags = answer_tags(src, answer)
    src, tags = list(src)[:max_src_len], tags[:max_src_len]
    ext, oovs = vocab.extended(src)
    if tgt is None:
        return Encoded(vocab.ids(src), ext, tags, oovs, None)
    tgt = list(tgt)[:max_tgt_len]
    return Encoded(vocab.ids(src), ext, tags, oovs, vocab.target_extended(tgt, oovs), vocab.ids(tgt))


class PairDataset(torch.utils.data.Dataset):
    """Encoded pairs; ``collate_fn`` pads a batch into the tensors ``QGen.forward`` takes."""

    def __init__(self, items: Sequence[Encoded]) -> None:
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Encoded:
        return self.items[i]

    @staticmethod
    def collate_fn(batch: Sequence[Encoded]) -> tuple[torch.Tensor, ...]:
        return collate(batch)


def collate(batch: Sequence[Encoded]) -> tuple[torch.Tensor, ...]:
    """(src, src_ext, tags, src_len, tgt_in, tgt_out, n_oov): padded with 0; ``tgt_in`` starts with <s> (ids in
    the vocabulary), ``tgt_out`` ends with </s> (extended ids)."""
    B = len(batch)
    S = max(len(e.src) for e in batch)
    src = torch.zeros(B, S, dtype=torch.long)
    src_ext = torch.zeros(B, S, dtype=torch.long)
    tags = torch.zeros(B, S, dtype=torch.long)
    lens = torch.tensor([len(e.src) for e in batch], dtype=torch.long)
    for b, e in enumerate(batch):
        n = len(e.src)
        src[b, :n] = torch.tensor(e.src)
        src_ext[b, :n] = torch.tensor(e.src_ext)
        tags[b, :n] = torch.tensor(e.tags)
    n_oov = torch.tensor(max(len(e.oovs) for e in batch), dtype=torch.long)
    if batch[0].tgt_ext is None:
        return src, src_ext, tags, lens
    T = max(len(e.tgt_ext) for e in batch) + 1
    tgt_in = torch.zeros(B, T, dtype=torch.long)
    tgt_out = torch.zeros(B, T, dtype=torch.long)
    for b, e in enumerate(batch):
        t = e.tgt_ext
        tgt_in[b, 0] = BOS_ID
        if t:
            tgt_in[b, 1:len(t) + 1] = torch.tensor(e.tgt)
            tgt_out[b, :len(t)] = torch.tensor(t)
        tgt_out[b, len(t)] = EOS_ID
    return src, src_ext, tags, lens, tgt_in, tgt_out, n_oov


def truncation_counts(pairs: Sequence[Pair], max_src_len: int, max_tgt_len: int) -> tuple[int, int]:
    return (sum(len(p.src) > max_src_len for p in pairs), sum(len(p.tgt) > max_tgt_len for p in pairs))


def read_embeddings(path: str | Path, vocab: Vocab, dim: int) -> tuple[torch.Tensor, int]:
    """Word vectors in the word2vec / GloVe text format (``word v1 ... vd`` lines, an optional ``N D`` header) for
    the words of ``vocab``: (vectors (len(vocab), dim) with zeros for missing words, how many were found).
    A vector of another dimension than ``dim`` is refused in one line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"--embeddings {path} does not exist or is not a file")
    out = torch.zeros(len(vocab), dim)
    found = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, start=1):
            parts = line.rstrip().split(" ")
            if n == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                if int(parts[1]) != dim:
                    raise ConfigError(f"--embeddings {path} holds {parts[1]}-dimensional vectors but the model's "
                                      f"--emb-dim is {dim}; pass --emb-dim {parts[1]}")
                continue
            if len(parts) < 2:
                continue
            if len(parts) - 1 != dim:
                raise ConfigError(f"--embeddings {path} line {n} has a {len(parts) - 1}-dimensional vector but the "
                                  f"model's --emb-dim is {dim}; pass --emb-dim {len(parts) - 1}")
            i = vocab.stoi.get(parts[0])
            if i is None or i < len(SPECIALS):
                continue
            try:
                out[i] = torch.tensor([float(x) for x in parts[1:]])
            except ValueError:
                raise DataError(f"--embeddings {path} line {n} is not 'word v1 ... v{dim}' numbers") from None
            found += 1
    if found == 0:
        raise DataError(f"--embeddings {path}: none of its words is in the vocabulary; is it a word-vector file "
                        f"in the word2vec/GloVe text format?")
    return out, found
