"""Train, generate and evaluate question generators: the functions behind ``genlab qgen ...``.

    >>> from genlab import qgen
    >>> result = qgen.train(out="runs/qgen/du")                     # the shared Du et al. split, 10% held out
    >>> qgen.generate(result.run_dir, ["the eiffel tower is in paris ."], beam=5)[0]["question"]
    >>> qgen.evaluate(result.run_dir)["model"]["bleu_4"]             # on the run's own validation sentences
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..core.config import from_dict, to_dict
from ..core.device import resolve_device, seed_everything
from ..core.engine import RUN_CONFIG, TrainConfig, Trainer, TrainResult
from ..core.errors import ConfigError, DataError
from ..core.io import read_json, write_bytes_atomic, write_json_atomic
from ..core.model import load
from ..core.runs import resumed_configs
from .data import (UNK_ID, Encoded, Pair, PairDataset, QGenDataConfig, Vocab, build_vocab, collate,
                   encode_pair, find_span, read_embeddings, read_pairs, resolve_files, split_by_sentence, tokenize,
                   truncation_counts)
from .decode import Hypothesis, beam_search, greedy
from .metrics import baselines, group_by_sentence, score_many
from .models import QGen, QGenConfig

FAMILY = "qgen"
# The recipe benchmarks/qgen_du.py runs (Adam 2e-3, short warm-up, cosine decay, clip 5); not tuned by a sweep.
DEFAULT_TRAIN = dict(epochs=15, batch_size=64, lr=2e-3, optimizer="adam", lr_schedule="cosine", warmup_steps=100,
                     min_lr_ratio=0.05, grad_clip=5.0, log_every=50, eval_every=500, sample_every=1000,
                     checkpoint_every=500)


def default_train_config(**overrides: Any) -> TrainConfig:
    return TrainConfig(**{**DEFAULT_TRAIN, **overrides})


def say_err(msg: str) -> None:
    from ..core.clikit import stderr
    stderr(msg)


def load_split(data_config: QGenDataConfig) -> tuple[list[Pair], list[Pair]]:
    """(training part, validation part) of the configured pairs, split by sentence."""
    d = resolve_files(data_config)
    pairs = read_pairs(d.src, d.tgt, pairs=d.pairs)
    return split_by_sentence(pairs, d.val_fraction, d.split_seed)


def encode_all(vocab: Vocab, pairs: Sequence[Pair], cfg: QGenConfig) -> list[Encoded]:
    return [encode_pair(vocab, p.src, p.tgt, p.answer, max_src_len=cfg.max_src_len, max_tgt_len=cfg.max_tgt_len)
            for p in pairs]


def train(model_config: QGenConfig | None = None, data_config: QGenDataConfig | None = None,
          train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
          overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train a question generator; the vocabulary (of the training part) is saved in the model's config."""
    if resume:
        model_config, data_config, train_config = resumed_configs(
            out, family=FAMILY, data_class=QGenDataConfig, overrides=dict(overrides or {}),
            model_config=model_config, data_config=data_config, train_config=train_config)
    data_config = resolve_files(data_config or QGenDataConfig())
    train_config = train_config or default_train_config()
    model_config = model_config or QGenConfig()
    train_pairs, val_pairs = load_split(data_config)
    answers_given = train_pairs[0].answer is not None
    if not resume:
        vocab_words = build_vocab(train_pairs, max_vocab=data_config.max_vocab, min_freq=data_config.min_freq)
        model_config = from_dict(QGenConfig, {**to_dict(model_config), "vocab": tuple(vocab_words),
                                              "answer_tags": answers_given})
    vocab = Vocab(model_config.vocab)
    n_src, n_tgt = truncation_counts(train_pairs, model_config.max_src_len, model_config.max_tgt_len)
    if n_src or n_tgt:
        say_err(f"note: truncated {n_src} training sentence(s) to --max-src-len {model_config.max_src_len} and "
                f"{n_tgt} question(s) to --max-tgt-len {model_config.max_tgt_len} tokens")
    train_items = encode_all(vocab, train_pairs, model_config)
    val_items = encode_all(vocab, val_pairs, model_config)
    seed_everything(train_config.seed)
    model = QGen(model_config)
    emb_found = None
    if data_config.embeddings and not resume:
        vectors, emb_found = read_embeddings(data_config.embeddings, vocab, model_config.emb_dim)
        with torch.no_grad():
            rows = vectors.abs().sum(dim=1) > 0
            model.embed.weight[rows] = vectors[rows]
        say_err(f"embeddings: {emb_found} of {len(vocab)} vocabulary words initialised from {data_config.embeddings}")
    run_dir = Path(out) if out is not None else Path("runs") / FAMILY / f"qgen-{time.strftime('%Y%m%d-%H%M%S')}"
    oov_share = _oov_share(vocab, train_pairs)
    run_config = {"family": FAMILY, "model_type": QGen.model_type, "data": to_dict(data_config),
                  "train_pairs": len(train_pairs), "val_pairs": len(val_pairs),
                  "train_sentences": len({" ".join(p.src) for p in train_pairs}),
                  "val_sentences": len({" ".join(p.src) for p in val_pairs}), "vocab_size": len(vocab),
                  "question_oov_share": oov_share, "embeddings_found": emb_found}

    def eval_fn(m: QGen) -> dict[str, float]:
        return {"val_loss": teacher_forced_loss(m, val_items)} if val_items else {}

    def sample_fn(m: QGen, stem: Path) -> None:
        firsts = {" ".join(p.src): p for p in val_pairs or train_pairs}
        shown = list(firsts)[:8]
        answers = [" ".join(firsts[x].answer) for x in shown] if answers_given else None
        res = generate(m, shown, answers, beam=1, quiet=True)
        text = "\n".join(f"S: {s}\n" + (f"A: {a}\n" if a else "") + f"Q: {r['question']}\n"
                          for s, a, r in zip(shown, answers or [None] * len(shown), res, strict=True))
        write_bytes_atomic(stem.with_suffix(".txt"), text.encode("utf-8"))

    trainer = Trainer(model, PairDataset(train_items), train_config, run_dir, run_config=run_config,
                      eval_fn=eval_fn, sample_fn=sample_fn)
    return trainer.fit(resume=resume)


def _oov_share(vocab: Vocab, pairs: Sequence[Pair]) -> float:
    words = [w for p in pairs for w in p.tgt]
    return sum(w not in vocab.stoi for w in words) / max(1, len(words))


@torch.no_grad()
def teacher_forced_loss(model: QGen, items: Sequence[Encoded], batch_size: int = 128) -> float:
    """Mean NLL per question token (``</s>`` included) of ``items``, in nats, teacher-forced, eval mode."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(items), batch_size):
        batch = [t.to(model.device) if isinstance(t, torch.Tensor) else t for t in collate(items[i:i + batch_size])]
        n = sum(len(e.tgt_ext) + 1 for e in items[i:i + batch_size])
        total += float(model(*batch)["loss"]) * n
        count += n
    model.train(was)
    return total / max(1, count)


def _load(model_or_run: QGen | str | Path, device: str) -> tuple[QGen, Path | None]:
    if isinstance(model_or_run, QGen):
        return model_or_run, None
    if isinstance(model_or_run, torch.nn.Module):
        raise ConfigError(f"{type(model_or_run).__name__} is not a question generator")
    model = load(model_or_run, device=resolve_device(device), family=FAMILY)
    assert isinstance(model, QGen)
    return model, Path(model_or_run)


def check_beam(beam: Any) -> int:
    if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
        raise ConfigError(f"--beam must be an integer >= 1 (got {beam!r}); 1 is greedy decoding")
    return beam


def _words(model: QGen, h: Hypothesis, src: Sequence[str], oovs: Sequence[str], unk: str) -> list[str]:
    vocab = model.config.vocab
    out = []
    for k, i in enumerate(h.ids):
        if i == UNK_ID and unk == "replace" and k < len(h.attention) and len(src):
            out.append(src[int(h.attention[k].argmax())])  # Luong et al. 2015's unknown-word replacement
        else:
            out.append(vocab[i] if i < len(vocab) else oovs[i - len(vocab)])
    return out


@torch.no_grad()
def generate(model_or_run: QGen | str | Path, sentences: Sequence[str], answers: Sequence[str | None] | None = None,
             *, beam: int = 5, alpha: float = 1.0, unk: str = "replace", device: str = "auto",
             max_len: int | None = None, batch_size: int = 64, quiet: bool = False) -> list[dict[str, Any]]:
    """A question for each sentence: ``{"question", "source" (tokens), "attention" (T x S list), "log_prob",
    "truncated"}``. ``beam=1`` decodes greedily (batched); ``answers`` are needed by a model trained with answers
    (and refused by one trained without)."""
    beam = check_beam(beam)
    if unk not in ("replace", "keep"):
        raise ConfigError(f"--unk must be replace or keep (got {unk!r})")
    model, _ = _load(model_or_run, device)
    was = model.training
    model.eval()
    cfg = model.config
    vocab = Vocab(cfg.vocab)
    if answers is not None and len(answers) != len(sentences):
        raise ConfigError(f"{len(sentences)} sentences but {len(answers)} answers")
    if answers is not None and any(a is not None for a in answers) and not cfg.answer_tags:
        raise ConfigError("this model was trained without answers; drop --answer (or train on a pairs file with an "
                          "answer column)")
    if cfg.answer_tags and (answers is None or any(a is None for a in answers)):
        raise ConfigError("this model was trained with answers; pass --answer TEXT (a span of the sentence)")
    items, toks, truncated = [], [], 0
    for i, s in enumerate(sentences):
        t = tokenize(s)
        if not t:
            raise DataError(f"sentence {i + 1} is empty; give a sentence to ask about")
        a = tokenize(answers[i]) if answers is not None and answers[i] is not None else None
        if a is not None and find_span(t, a) is None:
            raise DataError(f"the answer {answers[i]!r} is not in sentence {i + 1}; the answer must be a span of it")
        if len(t) > cfg.max_src_len:
            truncated += 1
        items.append(encode_pair(vocab, t, None, a, max_src_len=cfg.max_src_len, max_tgt_len=cfg.max_tgt_len))
        toks.append(t[: cfg.max_src_len])
    if truncated and not quiet:
        say_err(f"note: {truncated} sentence(s) longer than {cfg.max_src_len} tokens were truncated (the model's "
                f"--max-src-len)")
    limit = max_len or cfg.max_tgt_len
    hyps: list[Hypothesis] = []
    dev = model.device
    if beam == 1:
        for i in range(0, len(items), batch_size):
            chunk = items[i:i + batch_size]
            src, src_ext, tags, lens = (x.to(dev) for x in collate(chunk))
            hyps += greedy(model, src, src_ext, tags, lens, max(len(e.oovs) for e in chunk), limit)
    else:
        for e in items:
            src, src_ext, tags, lens = (x.to(dev) for x in collate([e]))
            hyps.append(beam_search(model, src, src_ext, tags, lens, len(e.oovs), limit, beam=beam, alpha=alpha))
    model.train(was)
    out = []
    for h, e, t, s in zip(hyps, items, toks, sentences, strict=True):
        words = _words(model, h, t, e.oovs, unk)
        out.append({"sentence": s, "question": " ".join(words), "tokens": words, "source": t,
                    "attention": [row.tolist() for row in h.attention], "log_prob": h.log_prob,
                    "truncated": len(tokenize(s)) > cfg.max_src_len})
    return out


def _saved_data(run: Path | None) -> QGenDataConfig | None:
    if run is None or not (run / RUN_CONFIG).exists():
        return None
    try:
        return from_dict(QGenDataConfig, read_json(run / RUN_CONFIG, what="run config")["data"])
    except (KeyError, ConfigError):
        return None


def evaluate(model_or_run: QGen | str | Path, *, src: str | Path | None = None, tgt: str | Path | None = None,
             pairs: str | Path | None = None, beam: int = 5, alpha: float = 1.0, limit: int | None = None,
             with_baselines: bool = True, meteor: bool = True, out: str | Path | None = None,
             output: str | Path | None = None, device: str = "auto", examples: int = 10) -> dict[str, Any]:
    """BLEU-1..4, METEOR, ROUGE-L of the model's questions (and of the copy and template baselines) on a file pair
    (``src`` + ``tgt``, or ``pairs``), else on the run's own validation sentences. Grouped by sentence as Du et al.
    score (one question per distinct sentence, all its questions as references). Writes ``eval.json`` (plus
    ``predictions.txt`` beside it) to ``output`` / ``out`` / the run folder."""
    from ..core.clikit import check_output_dir, check_output_file

    beam = check_beam(beam)
    if output is not None and out is not None:
        raise ConfigError("give --out DIR or --output FILE, not both")
    model, run = _load(model_or_run, device)
    path = (check_output_file(output, suffixes=(".json",)) if output is not None else
            check_output_dir(out) / "eval.json" if out is not None else
            run / "eval.json" if run is not None else None)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"--limit must be an integer >= 1 (got {limit!r})")
    if src is not None or tgt is not None or pairs is not None:
        data = read_pairs(src, tgt, pairs=pairs)
        source = f"{pairs}" if pairs is not None else f"{src} + {tgt}"
    else:
        saved = _saved_data(run)
        if saved is None:
            raise ConfigError("--data SRC TGT (or --pairs FILE) is required: this model folder does not say what it "
                              "was trained on")
        data = load_split(saved)[1]
        if not data:
            raise DataError("the run has no validation part (--val-fraction 0); pass --data SRC TGT")
        source = f"validation part of {saved.pairs or saved.src} (val-fraction {saved.val_fraction}, split-seed " \
                 f"{saved.split_seed}, by sentence)"
    sentences = list(dict.fromkeys(" ".join(p.src) for p in data))
    if limit is not None:
        keep = set(sentences[:limit])
        data = [p for p in data if " ".join(p.src) in keep]
        sentences = sentences[:limit]
    first = {}
    for p in data:
        first.setdefault(" ".join(p.src), p)
    answers = [" ".join(first[s].answer) if first[s].answer else None for s in sentences] \
        if model.config.answer_tags else None
    if model.config.answer_tags and any(a is None for a in answers):
        raise DataError("this model was trained with answers; evaluate it on a pairs file with an answer column")
    gen = generate(model, sentences, answers, beam=beam, alpha=alpha, quiet=True)
    questions = {s: g["question"] for s, g in zip(sentences, gen, strict=True)}
    srcs = [" ".join(p.src) for p in data]
    refs_flat = [" ".join(p.tgt) for p in data]
    hyps, refs, order = group_by_sentence(srcs, [questions[s] for s in srcs], refs_flat)
    result: dict[str, Any] = {
        "data": source, "sentences": len(order), "questions": len(data), "beam": beam, "length_alpha": alpha,
        "protocol": "one generated question per distinct sentence, scored against all of its reference questions "
                    "(Du et al. 2017's grouping); lower-cased tokens",
    }
    systems = {"model": hyps, **(baselines(order) if with_baselines else {})}
    scored = score_many(systems, refs, meteor=meteor)
    result["model"] = scored.pop("model")
    if with_baselines:
        result["baselines"] = scored
        result["baseline_note"] = ("copy: the sentence itself as the question; template: 'what' + the sentence's "
                                   "first 12 words + '?'. METEOR rewards copying, so read all three metrics")
    from .metrics import sentence_bleu
    per = [(sentence_bleu(h, r), s, h, r) for h, r, s in zip(hyps, refs, order, strict=True)]
    per.sort(key=lambda x: -x[0])
    pick = lambda rows: [{"sentence": s, "generated": h, "references": r, "bleu_4_sentence": round(b, 2)}  # noqa
                         for b, s, h, r in rows]
    result["examples_good"] = pick(per[:examples])
    result["examples_bad"] = pick(per[-examples:][::-1]) if len(per) > examples else []
    if path is not None:
        write_json_atomic(path, result)
        pred = path.with_name(path.stem + "_predictions.txt" if path.name != "eval.json" else "predictions.txt")
        write_bytes_atomic(pred, "".join(f"{s}\t{questions[s]}\n" for s in sentences).encode("utf-8"))
        result["written_to"] = str(path)
        result["predictions"] = str(pred)
    return result


def attention_figure(model_or_run: QGen | str | Path, sentence: str, *, answer: str | None = None, beam: int = 5,
                     output: str | Path, device: str = "auto") -> dict[str, Any]:
    """A heat map of the decoder's attention (generated words x source words) for one sentence, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = generate(model_or_run, [sentence], [answer] if answer is not None else None, beam=beam,
                   device=device)[0]
    att = torch.tensor(res["attention"])  # (T, S): one row per written word and the </s> step
    rows = [*res["tokens"], "</s>"][: att.shape[0]]
    src = res["source"]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(src) + 1.5), max(2.5, 0.35 * len(rows) + 1.2)))
    ax.imshow(att.numpy(), cmap="viridis", aspect="auto", vmin=0.0, vmax=float(att.max()))
    ax.set_xticks(range(len(src)))
    ax.set_xticklabels(src, rotation=70, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=8)
    ax.set_xlabel("source sentence")
    ax.set_ylabel("generated question")
    ax.set_title(f"attention ({'beam ' + str(beam) if beam > 1 else 'greedy'})", fontsize=9)
    fig.tight_layout()
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    write_bytes_atomic(Path(output), buf.getvalue())
    res["figure"] = str(output)
    return res


__all__ = ["DEFAULT_TRAIN", "default_train_config", "train", "generate", "evaluate", "attention_figure",
           "teacher_forced_loss", "load_split"]
