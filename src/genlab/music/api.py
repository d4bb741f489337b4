"""Train, sample and evaluate the music models (rnn-attention, gpt, polyphonic): the functions behind
``genlab music train|sample|evaluate`` (MuseGAN has its own, in musegan_cli.py).

    >>> from genlab import music
    >>> r = music.train(music.MusicDataConfig(model="polyphonic"), out="runs/music/jsb")
    >>> music.evaluate(r.run_dir, data="jsb-test.json", split="test")["nll"]

Every run keeps the model with the lowest validation loss in ``RUN/best`` (Foster's code watched the training loss
and overfitted); ``sample`` and ``evaluate`` use it when it is there, else the newest checkpoint.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..core.config import from_dict, to_dict
from ..core.device import seed_everything
from ..core.engine import RUN_CONFIG, TrainConfig, Trainer, TrainResult
from ..core.errors import CheckpointError, ConfigError, DataError
from ..core.io import read_json, write_json_atomic
from ..core.model import CONFIG_NAME, WEIGHTS_NAME, load, resolve_model_dir
from ..core.runs import resumed_configs
from .config import MusicDataConfig, NoteRNNConfig, PolyConfig, check_temperature
from .data import load_jsb, pad_batch, resolve_roll_data, RollWindows
from .defaults import train_defaults
from .models import MusicGPT, NoteRNN, PolyRNN
from .notes import (check_vocabulary, encode_tunes, load_notes, parse_prompt, tokens_to_roll,
                    write_tokens_midi, START)

FAMILY = "music"
BEST = "best"
MODEL_TYPE_OF = {"rnn-attention": "music-rnn-attention", "gpt": "music-gpt", "polyphonic": "music-polyphonic"}
GPT_DEFAULTS = dict(hidden_size=128, num_layers=4, dropout=0.1, seq_len=64)


def default_train_config(model: str, **overrides: Any) -> TrainConfig:
    return TrainConfig(**{**train_defaults(model), **overrides})


# ---- data sets for the engine ----------------------------------------------------------------------------------------

class NoteWindows(Dataset):
    """Windows of ``seq_len`` notes (input) and the next note at each position (target), from the training tunes
    laid end to end (each tune starts with ``<s>``); windows start every ``seq_len`` notes."""

    def __init__(self, encoded, seq_len: int) -> None:
        self.p = torch.tensor([i for e in encoded for i in e.pitch], dtype=torch.long)
        self.d = torch.tensor([i for e in encoded for i in e.duration], dtype=torch.long)
        self.seq_len = seq_len
        self.n = max(0, (len(self.p) - 1) // seq_len)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        s, L = i * self.seq_len, self.seq_len
        return self.p[s:s + L], self.d[s:s + L], self.p[s + 1:s + L + 1], self.d[s + 1:s + L + 1]


def interleave(e, n_pitch: int) -> list[int]:
    """One tune's ids as the GPT's stream p_0 d_0 p_1 d_1 ... (durations offset by the pitch vocabulary size)."""
    out = []
    for p, d in zip(e.pitch, e.duration, strict=True):
        out += [p, n_pitch + d]
    return out


class GPTBlocks(Dataset):
    """Non-overlapping blocks of ``block`` tokens of the interleaved stream of the training tunes, and their targets."""

    def __init__(self, encoded, block: int, n_pitch: int) -> None:
        self.ids = torch.tensor([i for e in encoded for i in interleave(e, n_pitch)], dtype=torch.long)
        self.block = block
        self.n = max(0, (len(self.ids) - 1) // block)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        s = i * self.block
        return self.ids[s:s + self.block], self.ids[s + 1:s + self.block + 1]


# ---- evaluation ----------------------------------------------------------------------------------------------------

@torch.no_grad()
def frame_nll(model: PolyRNN, rolls: list[np.ndarray], *, batch_size: int = 16) -> dict[str, float]:
    """Frame NLL of whole pieces (each from a zero state): nats per step summed over the keys, mean over every step."""
    was = model.training
    model.eval()
    total, steps = 0.0, 0
    order = sorted(range(len(rolls)), key=lambda i: len(rolls[i]))
    for s in range(0, len(order), batch_size):
        frames, mask = pad_batch([rolls[i] for i in order[s:s + batch_size]])
        nll = model.frame_nll(frames.to(model.device)).cpu()
        total += float((nll * mask).sum())
        steps += int(mask.sum())
    model.train(was)
    return {"nll": total / steps, "steps": steps, "pieces": len(rolls)}


def _chunks(n: int, L: int):
    return [(s, min(s + L, n)) for s in range(0, n, L)]


@torch.no_grad()
def note_cross_entropy(model: NoteRNN | MusicGPT, encoded) -> dict[str, float]:
    """Pitch and duration cross-entropy (nats per note) of every note of every tune (the ``<s>`` start excluded),
    each tune scored from its start in windows of the model's training length (the context restarts per window)."""
    was = model.training
    model.eval()
    tp = td = 0.0
    n = 0
    if isinstance(model, NoteRNN):
        L = model.config.seq_len
        by_len: dict[int, list[tuple[torch.Tensor, ...]]] = {}
        for e in encoded:
            p, d = torch.tensor(e.pitch), torch.tensor(e.duration)
            for a, b in _chunks(len(p) - 1, L):
                by_len.setdefault(b - a, []).append((p[a:b], d[a:b], p[a + 1:b + 1], d[a + 1:b + 1]))
        for items in by_len.values():  # windows of one length go through the network as one batch
            for s in range(0, len(items), 256):
                xp, xd, yp, yd = (torch.stack(t).to(model.device) for t in zip(*items[s:s + 256], strict=True))
                lp, ld, _ = model.logits(xp, xd)
                tp += float(F.cross_entropy(lp.float().flatten(0, 1), yp.flatten(), reduction="sum"))
                td += float(F.cross_entropy(ld.float().flatten(0, 1), yd.flatten(), reduction="sum"))
                n += yp.numel()
    else:
        P = len(model.pitch_vocab)
        L = model.config.block_size
        for e in encoded:
            ids = torch.tensor(interleave(e, P))
            for a, b in _chunks(len(ids) - 1, L):
                logits, _ = model.logits(ids[None, a:b].to(model.device))
                logits = logits[0].float()
                tgt = ids[a + 1:b + 1].to(model.device)
                pos = torch.arange(a + 1, b + 1, device=tgt.device)
                keep = pos >= 2  # position 1 is <s>'s duration token: not a note
                is_pitch = (pos % 2 == 0) & keep
                is_dur = (pos % 2 == 1) & keep
                # each head is a softmax over its own vocabulary (as the RNN's two heads are)
                lp = logits[is_pitch][:, :P]
                ld = logits[is_dur][:, P:]
                tp += float(F.cross_entropy(lp, tgt[is_pitch], reduction="sum"))
                td += float(F.cross_entropy(ld, tgt[is_dur] - P, reduction="sum"))
                n += int(is_pitch.sum())
    model.train(was)
    return {"pitch_ce": tp / n, "duration_ce": td / n, "loss": (tp + td) / n, "notes": n}


def _best_tracker(run_dir: Path, metric: str):
    """An eval hook wrapper that saves the model to RUN/best whenever ``metric`` reaches a new minimum."""
    path = run_dir / BEST / "best.json"
    state = {"loss": math.inf, "step": -1}
    if path.is_file():
        try:
            state = read_json(path, what="best model record")
        except Exception:  # noqa: BLE001 - a damaged record only loses the comparison
            pass
    return state, path


# ---- train ---------------------------------------------------------------------------------------------------------

def _resolve_options(model: str, options: dict[str, Any]) -> dict[str, Any]:
    """Shared/own options of one model -> the fields of its config."""
    opts = dict(options or {})
    if model == "gpt":
        g = {**GPT_DEFAULTS, **{k: v for k, v in opts.items() if v is not None and k in GPT_DEFAULTS}}
        return {"n_embd": g["hidden_size"], "n_layer": g["num_layers"], "dropout": g["dropout"],
                "block_size": 2 * g["seq_len"], "n_head": opts.get("n_head", 4)}
    return {k: v for k, v in opts.items() if v is not None}


def _saved_data_model(out: str | Path | None) -> str:
    if out is None:
        raise ConfigError("--resume needs --out RUN_DIR (the run to continue)")
    path = Path(out) / RUN_CONFIG
    if not path.is_file():
        raise CheckpointError(f"cannot resume {out}: no {RUN_CONFIG} (not a music run)")
    try:
        return read_json(path, what="run config")["data"]["model"]
    except (KeyError, TypeError):
        raise CheckpointError(f"{path} is not a music run config") from None


def _check_resume_vocabulary(out, model: str, ov: dict[str, Any]) -> None:
    from ..core.checkpoint import resumable_checkpoint
    from ..core.model import read_model_config

    cfg = read_model_config(resumable_checkpoint(out))["config"]
    tok = cfg.get("tokenizer") if model == "gpt" else cfg
    notes = load_notes(ov["data"])
    for split in ("train", "valid"):
        check_vocabulary(list(tok["pitch_vocab"]), list(tok["duration_vocab"]), notes["tunes"].get(split, []),
                         what=f"--data {notes.get('name')} ({split})")


def train(data_config: MusicDataConfig | None = None, model_options: dict[str, Any] | None = None,
          train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
          overrides: dict[str, Any] | None = None, progress: bool = True) -> TrainResult:
    """Train ``data_config.model`` (rnn-attention, gpt or polyphonic) into the run folder ``out``.

    ``model_options`` are the shared options (hidden_size, num_layers, dropout, seq_len) and the model's own (see
    config.py). ``resume=True`` continues the run in ``out`` (``overrides``: the options typed, training and data
    options may change; the model and its vocabulary may not).
    """
    if resume:
        model = _saved_data_model(out)
        ov = dict(overrides or {})
        if model == "gpt":  # the shared options are GPTConfig fields under other names
            names = {"hidden_size": "n_embd", "num_layers": "n_layer", "dropout": "dropout", "seq_len": "block_size"}
            for k, field in names.items():
                if k in ov:
                    ov[field] = ov.pop(k) * (2 if k == "seq_len" else 1)
        if "data" in ov and model in ("rnn-attention", "gpt"):  # refuse new data before anything is said
            _check_resume_vocabulary(out, model, ov)
        model_cfg, data_config, train_config = resumed_configs(out, family=FAMILY, data_class=MusicDataConfig,
                                                               overrides=ov)
    else:
        data_config = data_config or MusicDataConfig()
        if data_config.model == "musegan":
            raise ConfigError("--model musegan is trained by `genlab music train --model musegan` (musegan_cli)")
        train_config = train_config or default_train_config(data_config.model)
        model_cfg = None
    kind = data_config.model
    if kind == "polyphonic":
        return _train_poly(data_config, model_options or {}, train_config, model_cfg, out, resume)
    return _train_notes(data_config, model_options or {}, train_config, model_cfg, out, resume, progress)


def _run_dir(out, data_config: MusicDataConfig, name: str) -> Path:
    if out is not None:
        return Path(out)
    return Path("runs") / FAMILY / f"{Path(name).stem}-{data_config.model}-{time.strftime('%Y%m%d-%H%M%S')}"


def _fit(trainer: Trainer, run_dir: Path, evaluate_fn, metric: str, resume: bool) -> TrainResult:
    """Run the trainer; every evaluation may save RUN/best (lowest ``metric``)."""
    state, path = _best_tracker(run_dir, metric)

    def eval_fn(m):
        r = evaluate_fn(m)
        if r[metric] < state["loss"]:
            state.update(loss=float(r[metric]), step=int(trainer.step), metric=metric)
            m.save_pretrained(run_dir / BEST, metadata={"step": str(trainer.step)})
            write_json_atomic(path, dict(state))
        r["best_" + metric] = state["loss"]
        return r

    trainer.eval_fn = eval_fn
    result = trainer.fit(resume=resume)
    result.best = dict(state) if state["step"] >= 0 else None  # type: ignore[attr-defined]
    if result.best is not None:
        result.best["loss"] = state["loss"]
    return result


def _train_poly(data_config, options, train_config, model_cfg, out, resume) -> TrainResult:
    path, spq, name = resolve_roll_data(data_config.data)
    rolls = load_jsb(path, splits=("train", "valid"))
    if model_cfg is None:
        model_cfg = from_dict(PolyConfig, {**_resolve_options("polyphonic", options), "steps_per_quarter": spq})
    elif model_cfg.steps_per_quarter != spq:
        raise ConfigError(f"--data {name} is on a grid of {spq} steps per quarter; the run was trained on "
                          f"{model_cfg.steps_per_quarter}; start a new run for this data")
    run_dir = _run_dir(out, data_config, name)
    seed_everything(train_config.seed)  # the same seed, the same initial weights
    model = PolyRNN(model_cfg)
    data = RollWindows(rolls["train"], model_cfg.seq_len, transpose=data_config.transpose)
    run_config = {"family": FAMILY, "model_type": model.model_type, "data": to_dict(data_config),
                  "data_file": str(path), "steps_per_quarter": spq,
                  "train_pieces": len(rolls["train"]), "valid_pieces": len(rolls["valid"]),
                  "train_steps": int(sum(len(r) for r in rolls["train"])),
                  "valid_steps": int(sum(len(r) for r in rolls["valid"]))}

    def sample_fn(m: PolyRNN, stem: Path) -> None:
        from .render import plot_roll, write_midi
        roll = m.sample(1, 16 * spq, seed=train_config.seed)[0].cpu().numpy() > 0.5
        write_midi({"piano": roll}, stem.with_suffix(".mid"), fs_steps_per_quarter=spq,
                   lowest_pitch=model_cfg.lowest_pitch)
        plot_roll({"piano": roll}, stem.with_suffix(".png"), lowest_pitch=model_cfg.lowest_pitch,
                  steps_per_bar=4 * spq, title=f"{m.model_type} sample")

    trainer = Trainer(model, data, train_config, run_dir, run_config=run_config, sample_fn=sample_fn)
    return _fit(trainer, run_dir, lambda m: frame_nll(m, rolls["valid"]), "nll", resume)


def _note_splits(data_config, notes) -> dict[str, list[dict]]:
    tunes = notes["tunes"]
    train_t, valid_t = tunes["train"], tunes["valid"]
    if data_config.max_tunes:
        train_t = train_t[:data_config.max_tunes]
        valid_t = valid_t[:max(2, data_config.max_tunes // 9)]
    if not train_t or not valid_t:
        raise DataError(f"{notes.get('name')}: needs tunes in both train and valid (has {len(train_t)} and "
                        f"{len(valid_t)}); prepare more files")
    return {"train": train_t, "valid": valid_t}


def _train_notes(data_config, options, train_config, model_cfg, out, resume, progress) -> TrainResult:
    from ..text import GPTConfig

    notes = load_notes(data_config.data, progress=progress)
    splits = _note_splits(data_config, notes)
    pv, dv = notes["pitch_vocab"], notes["duration_vocab"]
    gpt = data_config.model == "gpt"
    if model_cfg is None:
        fields = _resolve_options(data_config.model, options)
        if gpt:
            tok = {"kind": "music-notes", "pitch_vocab": pv, "duration_vocab": dv}
            model_cfg = from_dict(GPTConfig, {**fields, "vocab_size": len(pv) + len(dv), "tokenizer": tok})
        else:
            model_cfg = from_dict(NoteRNNConfig, {**fields, "pitch_vocab": tuple(pv), "duration_vocab": tuple(dv)})
    else:
        mp = list(model_cfg.tokenizer["pitch_vocab"]) if gpt else list(model_cfg.pitch_vocab)
        md = list(model_cfg.tokenizer["duration_vocab"]) if gpt else list(model_cfg.duration_vocab)
        for split, tunes in splits.items():
            check_vocabulary(mp, md, tunes, what=f"--data {notes.get('name')} ({split})")
        pv, dv = mp, md
    seed_everything(train_config.seed)  # the same seed, the same initial weights
    model = MusicGPT(model_cfg) if gpt else NoteRNN(model_cfg)
    enc_train = encode_tunes(splits["train"], pv, dv)
    enc_valid = encode_tunes(splits["valid"], pv, dv)
    if gpt:
        data = GPTBlocks(enc_train, model_cfg.block_size, len(pv))
    else:
        data = NoteWindows(enc_train, model_cfg.seq_len)
    run_dir = _run_dir(out, data_config, notes.get("name", "notes"))
    run_config = {"family": FAMILY, "model_type": model.model_type, "data": to_dict(data_config),
                  "data_name": notes.get("name"), "data_source": notes.get("source"),
                  "train_tunes": len(splits["train"]), "valid_tunes": len(splits["valid"]),
                  "train_notes": sum(len(t["tokens"]) for t in splits["train"]),
                  "valid_notes": sum(len(t["tokens"]) for t in splits["valid"])}

    def sample_fn(m, stem: Path) -> None:
        tokens, _ = generate_notes(m, length=48, seed=train_config.seed)
        write_tokens_midi(tokens, stem.with_suffix(".mid"))
        stem.with_suffix(".txt").write_text(" ".join(f"{p}:{d}" for p, d in tokens) + "\n")

    trainer = Trainer(model, data, train_config, run_dir, run_config=run_config, sample_fn=sample_fn)
    return _fit(trainer, run_dir, lambda m: note_cross_entropy(m, enc_valid), "loss", resume)


# ---- generation ----------------------------------------------------------------------------------------------------

def _draw(logits: torch.Tensor, temperature: float, g: torch.Generator) -> int:
    probs = torch.softmax(logits.float().cpu() / temperature, dim=-1)
    return int(torch.multinomial(probs, 1, generator=g).item())


class _GPTStream:
    """Next-token logits of a growing stream through the GPT's key/value cache (one position per token); when the
    context is full the cache is rebuilt from the last ``block_size - 1`` tokens."""

    def __init__(self, model: MusicGPT, ids: list[int]) -> None:
        self.model, self.ids, self.cache = model, list(ids), None

    def next(self, token: int) -> torch.Tensor:
        self.ids.append(token)
        m, L = self.model, self.model.config.block_size
        if self.cache is None or self.cache.length >= L:
            logits, self.cache = m.prime(torch.tensor(self.ids[-(L - 1):], device=m.device)[None])
        else:
            logits, self.cache = m.step(torch.tensor([token], device=m.device), self.cache)
        return logits[0].float()


@torch.no_grad()
def generate_notes(model: NoteRNN | MusicGPT, *, length: int = 64, prompt: list[tuple[str, str]] | None = None,
                   pitch_temperature: float = 1.0, duration_temperature: float = 1.0,
                   seed: int = 0) -> tuple[list[tuple[str, str]], np.ndarray | None]:
    """``prompt`` + ``length`` new notes; for the attention model also the heat map (length, prompt + length): row
    i is the attention over the notes before generated note i (each row sums to 1; zero outside its window)."""
    check_temperature("pitch-temperature", pitch_temperature)
    check_temperature("duration-temperature", duration_temperature)
    was = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    if isinstance(model, MusicGPT):
        pv, dv = model.pitch_vocab, model.duration_vocab
    else:
        pv, dv = list(model.config.pitch_vocab), list(model.config.duration_vocab)
    pi = {p: i for i, p in enumerate(pv)}
    di = {d: i for i, d in enumerate(dv)}
    P = len(pv)
    pitches = [0] + [pi[p] for p, _ in (prompt or [])]
    durs = [0] + [di[d] for _, d in (prompt or [])]
    n_prompt = len(pitches)
    # columns: <s>, the prompt's notes, the generated notes (the last one is never attended to)
    heat = np.zeros((length, n_prompt + length)) if isinstance(model, NoteRNN) and model.score is not None \
        else None
    dev = model.device
    if isinstance(model, NoteRNN):
        state = past = None
        for j in range(n_prompt - 1):  # run the prompt through the network, one note at a time
            _, _, _, state, past = model.step(torch.tensor([pitches[j]], device=dev),
                                              torch.tensor([durs[j]], device=dev), state, past)
    else:
        stream = _GPTStream(model, interleave(type("E", (), {"pitch": pitches, "duration": durs})(), P)[:-1])
    for i in range(length):
        if isinstance(model, NoteRNN):
            lp, ld, alpha, state, past = model.step(torch.tensor([pitches[-1]], device=dev),
                                                    torch.tensor([durs[-1]], device=dev), state, past)
            lp, ld = lp[0].clone(), ld[0].clone()
            if heat is not None:
                row = alpha[0].cpu().numpy()  # over the last seq_len notes, <s> included while it is in reach
                start = len(pitches) - len(row)
                heat[i, start:start + len(row)] = row
            lp[0] = ld[0] = -math.inf  # never sample <s>
            pitch = _draw(lp, pitch_temperature, g)
        else:
            lp = stream.next(durs[-1] + P if i or n_prompt > 1 else P)[:P].clone()
            lp[0] = -math.inf
            pitch = _draw(lp, pitch_temperature, g)
            ld = stream.next(pitch)[P:].clone()
            ld[0] = -math.inf
        pitches.append(pitch)
        durs.append(_draw(ld, duration_temperature, g))
    model.train(was)
    tokens = [(pv[p], dv[d]) for p, d in zip(pitches[1:], durs[1:], strict=True)]
    return tokens, heat


@torch.no_grad()
def generate_many(model: NoteRNN | MusicGPT, n: int, *, length: int = 64, temperature: float = 1.0,
                  seed: int = 0) -> list[list[tuple[str, str]]]:
    """``n`` tunes of ``length`` notes from ``<s>``, drawn as one batch (for sample-based metrics)."""
    check_temperature("temperature", temperature)
    was = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    gpt = isinstance(model, MusicGPT)
    pv, dv = (model.pitch_vocab, model.duration_vocab) if gpt else \
        (list(model.config.pitch_vocab), list(model.config.duration_vocab))
    P = len(pv)
    dev = model.device
    pitches = torch.zeros(n, 1, dtype=torch.long)
    durs = torch.zeros(n, 1, dtype=torch.long)
    state = past = None

    def draw(logits: torch.Tensor) -> torch.Tensor:
        logits = logits.float().cpu().clone()
        logits[:, 0] = -math.inf  # never <s>
        return torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=g)

    for _ in range(length):
        if gpt:
            ids = torch.stack([pitches, durs + P], dim=2).flatten(1)
            lp = model.logits(ids[:, -(model.config.block_size - 1):].to(dev))[0][:, -1, :P]
            p = draw(lp)
            ids = torch.cat([ids, p], dim=1)[:, -model.config.block_size:]
            ld = model.logits(ids.to(dev))[0][:, -1, P:]
        else:
            lp, ld, _, state, past = model.step(pitches[:, -1].to(dev), durs[:, -1].to(dev), state, past)
            p = draw(lp)
        pitches = torch.cat([pitches, p], dim=1)
        durs = torch.cat([durs, draw(ld)], dim=1)
    model.train(was)
    return [[(pv[a], dv[b]) for a, b in zip(pr[1:].tolist(), dr[1:].tolist(), strict=True)]
            for pr, dr in zip(pitches, durs, strict=True)]


def plot_attention(heat: np.ndarray, tokens: list[tuple[str, str]], n_prompt: int, path: Path, *,
                   title: str = "") -> Path:
    """Foster's figure: which earlier notes (columns) the model attended to when choosing each new note (rows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..core.io import atomic_write

    rows, cols = heat.shape
    fig, ax = plt.subplots(figsize=(min(18, 2 + cols * 0.22), min(14, 1.5 + rows * 0.2)))
    im = ax.imshow(heat, aspect="auto", cmap="viridis", origin="upper")
    labels = [START] + [p for p, _ in tokens]
    ax.set_xticks(range(cols), labels[:cols], rotation=90, fontsize=6)
    ax.set_yticks(range(rows), labels[1 + n_prompt:1 + n_prompt + rows], fontsize=6)
    ax.set_xlabel("earlier notes (MIDI pitch)" + (f"; the first {n_prompt} are the prompt" if n_prompt else ""))
    ax.set_ylabel("generated note")
    if n_prompt:
        ax.axvline(n_prompt + 0.5, color="white", lw=0.8)
    fig.colorbar(im, ax=ax, label="attention weight")
    ax.set_title(title or "attention over the input notes")
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path


# ---- loading runs --------------------------------------------------------------------------------------------------

def model_dir(run: str | Path) -> Path:
    """The folder a run is sampled/evaluated from: RUN/best when it holds a model, else the newest checkpoint."""
    run = Path(run)
    best = run / BEST
    if (best / CONFIG_NAME).is_file() and (best / WEIGHTS_NAME).is_file():
        return best
    return resolve_model_dir(run)


def load_music_model(run: str | Path, device: str = "cpu"):
    from ..core.device import resolve_device

    folder = model_dir(run)
    model = load(folder, device=resolve_device(device), family=FAMILY)
    if not isinstance(model, (NoteRNN, MusicGPT, PolyRNN)):
        raise CheckpointError(f"{run} holds a {model.model_type} model, not one of rnn-attention/gpt/polyphonic")
    return model, folder


def _run_config(run: str | Path) -> dict[str, Any]:
    path = Path(run) / RUN_CONFIG
    if not path.is_file():
        return {}
    try:
        return read_json(path, what="run config")
    except Exception:  # noqa: BLE001
        return {}


# ---- sample --------------------------------------------------------------------------------------------------------

def sample(run: str | Path, n: int = 1, *, seed: int = 0, temperature: float = 1.0,
           pitch_temperature: float | None = None, duration_temperature: float | None = None,
           length: int | None = None, prompt: str | None = None, prompt_notes: int = 16, tempo: float = 100.0,
           wav: bool = True, soundfont: str | None = None, out: str | Path | None = None,
           device: str = "cpu") -> dict[str, Any]:
    """``n`` samples of a run as MIDI + WAV + piano-roll PNG (+ tokens and the attention heat map for the note
    models). ``out`` is the first sample's .mid path (the others get _2, _3 ...), default RUN/samples/sample.mid."""
    from .render import plot_roll, render_wav, write_midi

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"--n must be an integer >= 1 (got {n})")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 1):
        raise ConfigError(f"--length must be an integer >= 1 (got {length})")
    pt = temperature if pitch_temperature is None else pitch_temperature
    dt = temperature if duration_temperature is None else duration_temperature
    check_temperature("temperature" if pitch_temperature is None else "pitch-temperature", pt)
    check_temperature("temperature" if duration_temperature is None else "duration-temperature", dt)
    if soundfont is not None and not Path(soundfont).is_file():
        raise ConfigError(f"--soundfont {soundfont} does not exist; give an .sf2 file or leave it out (the "
                          f"system's General MIDI soundfont is used, else a sine rendering)")
    model, folder = load_music_model(run, device)
    out = Path(out) if out is not None else Path(run) / "samples" / "sample.mid"
    out.parent.mkdir(parents=True, exist_ok=True)
    stems = [out.with_suffix("") if i == 0 else out.with_name(f"{out.stem}_{i + 1}") for i in range(n)]
    lines, notes, files = [], [], []
    hows = set()
    if isinstance(model, PolyRNN):
        if prompt:
            raise ConfigError("--prompt is for the note models (rnn-attention, gpt), not polyphonic")
        if pitch_temperature is not None or duration_temperature is not None:
            raise ConfigError("--pitch-temperature / --duration-temperature are for the note models; the polyphonic "
                              "model has one --temperature")
        spq = model.config.steps_per_quarter
        length = length or 32 * spq
        t0 = time.perf_counter()
        rolls = model.sample(n, length, temperature=temperature, seed=seed).cpu().numpy() > 0.5
        secs = time.perf_counter() - t0
        for i, stem in enumerate(stems):
            tracks = {"piano": rolls[i]}
            mid = write_midi(tracks, stem.with_suffix(".mid"), fs_steps_per_quarter=spq,
                             lowest_pitch=model.config.lowest_pitch, tempo=tempo, programs={"piano": 19})
            png = plot_roll(tracks, stem.with_suffix(".png"), lowest_pitch=model.config.lowest_pitch,
                            steps_per_bar=4 * spq, title=f"{model.model_type} ({model.config.output_layer}) sample "
                                                         f"{i + 1}, T={temperature}, seed {seed}")
            entry = {"midi": str(mid), "png": str(png), "keys_per_step": float(rolls[i].sum(1).mean())}
            if wav:
                w, how = render_wav(mid, stem.with_suffix(".wav"), soundfont=soundfont)
                entry["wav"] = str(w)
                hows.add(how)
            files.append(entry)
        lines.append(f"{n} sample(s) of {length} frames ({length / spq:.0f} quarter notes) in {secs:.2f}s; "
                     f"mean keys per step {np.mean([f['keys_per_step'] for f in files]):.2f}")
    else:
        pv = model.pitch_vocab if isinstance(model, MusicGPT) else list(model.config.pitch_vocab)
        dv = model.duration_vocab if isinstance(model, MusicGPT) else list(model.config.duration_vocab)
        prompt_tokens = _prompt_tokens(prompt, prompt_notes, pv, dv) if prompt else []
        length = length or 64
        total_t = 0.0
        for i, stem in enumerate(stems):
            t0 = time.perf_counter()
            tokens, heat = generate_notes(model, length=length, prompt=prompt_tokens, pitch_temperature=pt,
                                          duration_temperature=dt, seed=seed + i)
            total_t += time.perf_counter() - t0
            mid = write_tokens_midi(tokens, stem.with_suffix(".mid"), tempo=tempo)
            roll = tokens_to_roll(tokens, steps_per_quarter=4)
            png = plot_roll({"melody": roll}, stem.with_suffix(".png"), lowest_pitch=21, steps_per_bar=16,
                            title=f"{model.model_type} sample {i + 1}: pitch T={pt}, duration T={dt}, seed {seed + i}")
            txt = stem.with_suffix(".txt")
            txt.write_text(" ".join(f"{p}:{d}" for p, d in tokens) + "\n")
            entry = {"midi": str(mid), "png": str(png), "tokens": str(txt)}
            if heat is not None:
                entry["attention"] = str(plot_attention(heat, tokens, len(prompt_tokens),
                                                        stem.with_name(stem.name + "_attention.png"),
                                                        title=f"attention, sample {i + 1}"))
            if wav:
                w, how = render_wav(mid, stem.with_suffix(".wav"), soundfont=soundfont)
                entry["wav"] = str(w)
                hows.add(how)
            files.append(entry)
        lines.append(f"{n} sample(s) of {length} notes"
                     + (f" after a {len(prompt_tokens)}-note prompt" if prompt_tokens else "")
                     + f" in {total_t:.2f}s ({n * length / max(total_t, 1e-9):.0f} notes/s)")
    for f in files:
        lines.append("  " + "  ".join(f"{k}: {v}" for k, v in f.items() if k in ("midi", "wav", "png", "attention")))
    for how in sorted(hows):
        if how.startswith("fluidsynth"):
            lines.append(f"WAV rendered with {how}")
        else:
            notes.append(f"note: WAV rendered as {how}; the MIDI files are complete")
    write_json_atomic(stems[0].parent / f"{out.stem}_samples.json",
                      {"model": str(folder), "model_type": model.model_type, "seed": seed, "files": files,
                       "temperature": {"pitch": pt, "duration": dt} if not isinstance(model, PolyRNN)
                       else temperature, "wav": sorted(hows)})
    return {"lines": lines, "notes": notes, "files": files, "folder": str(out.parent)}


def _prompt_tokens(prompt: str, prompt_notes: int, pv: list[str], dv: list[str]) -> list[tuple[str, str]]:
    from .notes import MUSIC_SUFFIXES, file_tunes

    p = Path(prompt)
    if p.suffix.lower() in MUSIC_SUFFIXES:
        if not p.is_file():
            raise DataError(f"--prompt {prompt}: no such file")
        tokens = [tuple(t) for t in file_tunes(p)[0]["tokens"]][:prompt_notes]
        return parse_prompt(" ".join(f"{a}:{b}" for a, b in tokens), pv, dv)
    return parse_prompt(prompt, pv, dv)


# ---- evaluate ------------------------------------------------------------------------------------------------------

def evaluate(run: str | Path, *, data: str | None = None, split: str = "valid", n_samples: int | None = None,
             seed: int = 0, output: str | Path | None = None, device: str = "cpu") -> dict[str, Any]:
    """Polyphonic: frame NLL (nats per step, summed over the 88 keys, mean over every step of the split) beside the
    independent-Bernoulli and per-key Markov baselines fitted on the run's training split. Note models: pitch and
    duration cross-entropy (nats per note) beside unigram/bigram/trigram baselines (Witten-Bell) fitted on the run's
    training tunes, and the memorisation check (longest run of notes a sample copies from one training tune)."""
    model, folder = load_music_model(run, device)
    rc = _run_config(run)
    saved = rc.get("data", {})
    result: dict[str, Any]
    if isinstance(model, PolyRNN):
        result = _evaluate_poly(model, rc, saved, data, split)
    else:
        result = _evaluate_notes(model, saved, data, split, n_samples if n_samples is not None else 8, seed)
    result.update(model=str(folder), model_type=model.model_type)
    if output is not None:
        write_json_atomic(output, {k: v for k, v in result.items() if k != "lines"})
        result["written_to"] = str(output)
    return result


def _evaluate_poly(model: PolyRNN, rc, saved, data, split) -> dict[str, Any]:
    from .losses import independent_bernoulli_fit, independent_bernoulli_nll, markov_fit, markov_nll

    train_path = rc.get("data_file")
    if data is None:
        if not train_path:
            raise ConfigError("this model folder does not say what it was trained on; pass --data FILE --split NAME")
        eval_path, spq = Path(train_path), int(rc.get("steps_per_quarter", 1))
    else:
        eval_path, spq, _ = resolve_roll_data(data)
    if spq != model.config.steps_per_quarter:
        raise ConfigError(f"--data {eval_path.name} is on a grid of {spq} steps per quarter, the model on "
                          f"{model.config.steps_per_quarter}; NLLs on different grids are not comparable")
    rolls = load_jsb(eval_path, splits=(split,))[split]
    r = frame_nll(model, rolls)
    result = {"data": str(eval_path), "split": split, "nll": r["nll"], "steps": r["steps"], "pieces": r["pieces"],
              "units": "nats per time step, summed over the 88 keys, mean over all steps of the split",
              "grid_steps_per_quarter": spq, "output_layer": model.config.output_layer}
    lines = [f"{eval_path.name} [{split}]: frame NLL {r['nll']:.3f} nats per step ({r['pieces']} pieces, "
             f"{r['steps']} steps; {model.config.cell.upper()} + {model.config.output_layer})"]
    if train_path and Path(train_path).is_file():
        train_rolls = load_jsb(train_path, splits=("train",))["train"]
        p = independent_bernoulli_fit(train_rolls)
        trans, first = markov_fit(train_rolls)
        result["baselines"] = {"independent_bernoulli": independent_bernoulli_nll(p, rolls),
                               "per_key_markov": markov_nll(trans, first, rolls),
                               "fitted_on": f"{Path(train_path).name} [train], add-0.5 smoothing"}
        b = result["baselines"]
        lines.append(f"  baselines on the same steps: independent Bernoulli {b['independent_bernoulli']:.3f}, "
                     f"per-key Markov {b['per_key_markov']:.3f}")
    if spq == 1:
        lines.append("  published (test split, not this one unless --split test): Chung et al. 2014 GRU 8.54, "
                     "LSTM 8.67" if split != "test" else "  published on test: Chung et al. 2014 GRU 8.54, LSTM 8.67")
    result["lines"] = lines
    return result


def _evaluate_notes(model, saved, data, split, n_samples, seed) -> dict[str, Any]:
    from .losses import WittenBellNGram, longest_copied_ngram

    saved_cfg = from_dict(MusicDataConfig, saved) if saved else MusicDataConfig(model="rnn-attention")
    train_notes = load_notes(saved_cfg.data, progress=False)
    train_tunes = _note_splits(saved_cfg, train_notes)["train"]
    if data is None:
        eval_notes, name = train_notes, train_notes.get("name")
        tunes = _note_splits(saved_cfg, train_notes)[split] if split in ("train", "valid") else None
    else:
        eval_notes = load_notes(data, progress=False)
        name = eval_notes.get("name", data)
        tunes = eval_notes["tunes"].get(split)
    if tunes is None:
        have = ", ".join(eval_notes["tunes"])
        raise DataError(f"{name} has no split {split!r} (it has {have})")
    pv = model.pitch_vocab if isinstance(model, MusicGPT) else list(model.config.pitch_vocab)
    dv = model.duration_vocab if isinstance(model, MusicGPT) else list(model.config.duration_vocab)
    check_vocabulary(pv, dv, tunes, what=f"{name} [{split}]")
    ce = note_cross_entropy(model, encode_tunes(tunes, pv, dv))
    pitch_seqs = [[p for p, _ in t["tokens"]] for t in train_tunes]
    dur_seqs = [[d for _, d in t["tokens"]] for t in train_tunes]
    baselines = {}
    for n, label in ((1, "unigram"), (2, "bigram"), (3, "trigram")):
        bp = WittenBellNGram(n, pv[1:], start=START).fit(pitch_seqs).cross_entropy(
            [[p for p, _ in t["tokens"]] for t in tunes])[0]
        bd = WittenBellNGram(n, dv[1:], start=START).fit(dur_seqs).cross_entropy(
            [[d for _, d in t["tokens"]] for t in tunes])[0]
        baselines[label] = {"pitch_ce": bp, "duration_ce": bd}
    # memorisation: the longest run of notes a sample copies from one training tune, next to the same figure for
    # real held-out tunes of the same length (what an honest composer "copies" by chance in this style)
    train_seqs = [[tuple(x) for x in t["tokens"]] for t in train_tunes]
    copies = [longest_copied_ngram(tokens, train_seqs)[0]
              for tokens in (generate_many(model, n_samples, length=64, seed=seed) if n_samples else [])]
    real = [longest_copied_ngram([tuple(x) for x in t["tokens"][:64]], train_seqs)[0]
            for t in tunes[:max(n_samples, 1) * 4] if len(t["tokens"]) >= 16]
    result = {"data": name, "split": split, "notes": ce["notes"], "tunes": len(tunes),
              "pitch_ce": ce["pitch_ce"], "duration_ce": ce["duration_ce"], "loss": ce["loss"],
              "units": "nats per note (each head's own softmax); every note of every tune, from its start",
              "baselines": baselines, "baselines_fitted_on": f"{len(train_tunes)} training tunes, Witten-Bell",
              "memorisation": {"samples": n_samples, "sample_notes": 64,
                               "longest_copied_notes": copies,
                               "real_tunes_longest_copied_notes": real,
                               "what": "longest run of consecutive (pitch, duration) notes found in one training "
                                       "tune; the real held-out tunes (first 64 notes) give the chance level"}}
    b = baselines
    lines = [f"{name} [{split}]: pitch {ce['pitch_ce']:.3f}, duration {ce['duration_ce']:.3f} nats per note "
             f"({ce['notes']} notes, {len(tunes)} tunes)",
             f"  n-gram baselines on the same notes (pitch / duration): unigram {b['unigram']['pitch_ce']:.3f} / "
             f"{b['unigram']['duration_ce']:.3f}, bigram {b['bigram']['pitch_ce']:.3f} / "
             f"{b['bigram']['duration_ce']:.3f}, trigram {b['trigram']['pitch_ce']:.3f} / "
             f"{b['trigram']['duration_ce']:.3f}"]
    if copies:
        lines.append(f"  memorisation: {n_samples} samples of 64 notes copy at most {max(copies)} consecutive notes "
                     f"from a training tune (median {int(np.median(copies))}); real held-out tunes: median "
                     f"{int(np.median(real)) if real else 'n/a'}")
    result["lines"] = lines
    return result
