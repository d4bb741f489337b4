"""Train, sample and evaluate MuseGAN: the functions behind ``genlab music train|sample|evaluate`` for
``--model musegan``.

    >>> from genlab.music.musegan_api import train, sample, evaluate
    >>> result = train(MuseGANConfig(), out="runs/music/musegan")          # the JSB chorales, all 2-bar windows
    >>> sample("runs/music/musegan", n=4, out="samples/")                   # MIDI + WAV + PNG each, the noise grid
    >>> evaluate("runs/music/musegan", n_samples=2000)                      # EB, UPC, QN, TD, memorisation vs valid
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.config import cfg_field, check_int, from_dict, to_dict
from ..core.engine import RUN_CONFIG, TrainConfig, TrainResult
from ..core.errors import CheckpointError, ConfigError, DataError
from ..core.io import read_json, write_json_atomic
from ..core.model import load
from .musegan import NOISE_KINDS, MuseGAN, MuseGANConfig
from .musegan_data import WindowDataset, read_chorales, split_windows
from .musegan_metrics import (memorisation_summary, nearest_training_window, objective_metrics, tonal_distance)
from .musegan_trainer import MuseGANTrainer, MuseGANTrainOptions

FAMILY = "music"
# Foster ch. 7's recipe: Adam 1e-3, betas (0.5, 0.9), batch 64, 5 critic steps per generator step (the options).
DEFAULT_TRAIN: dict[str, Any] = dict(max_steps=3000, batch_size=64, lr=1e-3, adam_beta1=0.5, adam_beta2=0.9,
                                     log_every=50, eval_every=500, sample_every=1000, checkpoint_every=500)


@dataclass
class MuseGANDataConfig:
    data: str | None = cfg_field(None, help="Jsb16thSeparated-format JSON, or a folder / file of MusicXML or MIDI "
                                            "(default: ../shared/data/jsb-chorales/Jsb16thSeparated.json)")
    parts: tuple[int, ...] = cfg_field((), help="MusicXML/MIDI: the four parts (1-based, top to bottom) to use as "
                                                "soprano, alto, tenor, bass (default: files with exactly 4 parts)")
    windows: str = cfg_field("all", help="training windows: all (every 2-bar window, hop 1 bar) or first (the first "
                                         "window of each chorale, Foster's 229 examples)")

    def __post_init__(self) -> None:
        if self.windows not in ("all", "first"):
            raise ConfigError(f"--musegan-windows must be all or first (got {self.windows!r})")
        if self.parts:
            if len(self.parts) != 4 or len(set(self.parts)) != 4:
                raise ConfigError(f"--musegan-parts needs four different part numbers (got "
                                  f"{' '.join(map(str, self.parts))})")
            for p in self.parts:
                check_int("musegan_parts", p, 1)

    @property
    def part_indices(self) -> tuple[int, ...] | None:
        return tuple(p - 1 for p in self.parts) if self.parts else None


_CACHE: dict[tuple, tuple[dict, Path]] = {}


def _read_cached(data: str | None, parts: tuple[int, ...] | None) -> tuple[dict, Path]:
    """read_chorales, once per (file, size, modification time, parts): evaluate reads a split and the train split
    of the same file."""
    from .musegan_data import default_data_path

    p = default_data_path() if data is None else Path(data)
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns, parts) if p.is_file() else None
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    out = read_chorales(data, parts=parts)
    if key is not None:
        _CACHE.clear()  # one file at a time: the cache never grows
        _CACHE[key] = out
    return out


def load_windows(data: MuseGANDataConfig, cfg: MuseGANConfig, split: str, *, training: bool = False
                 ) -> tuple[np.ndarray, Path]:
    """The windows of ``split``; ``training``: as the model is trained on (``data.windows`` may keep only the first
    of each chorale), otherwise every window."""
    chorales, path = _read_cached(data.data, data.part_indices)
    return split_windows(chorales, split, n_bars=cfg.n_bars, steps_per_bar=cfg.steps_per_bar,
                         lowest_pitch=cfg.lowest_pitch, n_pitches=cfg.n_pitches, where=str(path),
                         first_only=training and data.windows == "first"), path


def _eval_fn(n: int, valid: np.ndarray | None):
    def fn(model: MuseGAN) -> dict[str, float]:
        if n <= 0:
            return {}
        voices = model.sample(n, seed=12345).numpy()
        m = objective_metrics(voices, model.config.steps_per_bar)
        out = {"empty_bar_rate": m["empty_bar_rate"]["mean"],
               "qualified_note_rate": m["qualified_note_rate"]["mean"] or 0.0,
               "used_pitch_classes": m["used_pitch_classes"]["mean"] or 0.0,
               "td_soprano_bass": m["tonal_distance"].get("soprano-bass", float("nan"))}
        return out
    return fn


def _sample_fn(model: MuseGAN, stem: Path) -> None:
    from .musegan_figures import tracks_figure

    voices = model.sample(1, seed=0).numpy()[0]
    tracks_figure(voices, stem.with_suffix(".png"), steps_per_bar=model.config.steps_per_bar,
                  title=f"MuseGAN sample at {stem.name}")


def train(model_config: MuseGANConfig | None = None, data_config: MuseGANDataConfig | None = None,
          train_config: TrainConfig | None = None, options: MuseGANTrainOptions | None = None, *,
          out: str | os.PathLike | None = None, resume: bool = False,
          overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train MuseGAN with WGAN-GP on every 2-bar window (hop 1 bar) of the chorales' train split."""
    from ..core.runs import resumed_configs

    if resume:
        if out is None:
            raise ConfigError("--resume needs --out RUN_DIR (the run to continue)")
        saved = read_json(Path(out) / RUN_CONFIG, what="run config") if (Path(out) / RUN_CONFIG).exists() else {}
        saved_opts = saved.get("musegan") or {}
        overrides = dict(overrides or {})
        model_config, data_config, train_config = resumed_configs(
            out, family=FAMILY, data_class=MuseGANDataConfig, overrides=overrides, extra_saved=saved_opts)
        try:
            options = from_dict(MuseGANTrainOptions, {**saved_opts, **{k: v for k, v in overrides.items()
                                                                       if k in saved_opts}})
        except ConfigError as e:
            raise CheckpointError(f"{Path(out) / RUN_CONFIG}: {e}") from None
    model_config = model_config or MuseGANConfig()
    data_config = data_config or MuseGANDataConfig()
    train_config = train_config or TrainConfig(**DEFAULT_TRAIN)
    options = options or MuseGANTrainOptions()
    if out is None:
        out = Path("runs") / FAMILY / f"musegan-{time.strftime('%Y%m%d-%H%M%S')}"
    train_w, path = load_windows(data_config, model_config, "train", training=True)
    dataset = WindowDataset(train_w, model_config)
    from ..core.device import seed_everything

    seed_everything(train_config.seed)  # the initial weights follow --seed, whatever ran before in this process
    model = MuseGAN(model_config)
    run_config = {"model": to_dict(model_config), "musegan": to_dict(options),
                  "data": {**to_dict(data_config)},
                  "data_info": {"path": str(path), "train_windows": int(len(train_w)),
                                "window": "2 bars x 16 sixteenth steps, " +
                                          ("hop 1 bar" if data_config.windows == "all" else
                                           "the first of each chorale")}}
    trainer = MuseGANTrainer(model, dataset, train_config, out, options=options, run_config=run_config,
                             eval_fn=_eval_fn(options.eval_samples, None), sample_fn=_sample_fn)
    return trainer.fit(resume=resume)


def _load(run: str | os.PathLike | MuseGAN, device: str = "cpu") -> MuseGAN:
    if isinstance(run, MuseGAN):
        return run
    model = load(run, device=device, family=FAMILY)
    if not isinstance(model, MuseGAN):
        raise CheckpointError(f"{run} holds a {model.model_type} model, not MuseGAN")
    return model


def _run_data(run: str | os.PathLike) -> MuseGANDataConfig:
    path = Path(run) / RUN_CONFIG
    if not path.exists():
        return MuseGANDataConfig()
    saved = read_json(path, what="run config")
    try:
        return from_dict(MuseGANDataConfig, saved.get("data") or {})
    except ConfigError as e:
        raise CheckpointError(f"{path}: {e}") from None


def vary_one(base: dict[str, torch.Tensor], fresh: dict[str, torch.Tensor], kind: str) -> dict[str, torch.Tensor]:
    """Noise for ``len(fresh[kind])`` windows: ``base`` (one window's noise) repeated, with only ``kind`` taken from
    ``fresh``: the chapter's "change one input, keep the others" experiment."""
    if kind not in NOISE_KINDS:
        raise ConfigError(f"unknown noise input {kind!r}; one of {', '.join(NOISE_KINDS)}")
    n = len(fresh[kind])
    z = {k: v[:1].repeat(n, *([1] * (v.dim() - 1))) for k, v in base.items()}
    z[kind] = fresh[kind]
    return z


def noise_grid(model: MuseGAN, *, seed: int = 0, columns: int = 4, temperature: float = 1.0
               ) -> dict[str, list[np.ndarray]]:
    """{kind: [base window, then ``columns`` windows where only ``kind``'s noise is redrawn]} (voices arrays)."""
    from .musegan import to_voices

    base = model.noise(1, seed=seed, temperature=temperature)
    fresh = model.noise(columns, seed=seed + 1, temperature=temperature)
    grid: dict[str, list[np.ndarray]] = {}
    model.eval()
    with torch.no_grad():
        base_v = to_voices(model.generate(base), model.config.lowest_pitch)[0].cpu().numpy()
        for kind in NOISE_KINDS:
            voices = to_voices(model.generate(vary_one(base, fresh, kind)), model.config.lowest_pitch)
            grid[kind] = [base_v] + list(voices.cpu().numpy())
    return grid


def sample(run: str | os.PathLike | MuseGAN, n: int = 4, *, seed: int = 0, temperature: float = 1.0,
           out: str | os.PathLike | None = None, wav: bool = True, soundfont: str | None = None,
           tempo: float = 100.0, grid: bool = True, device: str = "cpu") -> dict[str, Any]:
    """``n`` 2-bar samples: NAME.mid, NAME.wav, NAME.png (+ NAME_tracks.png, one roll per track) each, and the noise
    grid (noise_grid.png, one noise input changed per row). Returns the paths and how the WAVs were made."""
    from .musegan_figures import noise_grid_figure, tracks_figure, voices_to_tracks
    from .render import write_outputs

    check_int("n", n, 1)
    if not temperature > 0:
        raise ConfigError(f"--temperature must be > 0 (got {temperature}); for MuseGAN it scales the noise inputs")
    model = _load(run, device)
    cfg = model.config
    folder = Path(out) if out is not None else (Path(run) / "samples" if not isinstance(run, MuseGAN) else None)
    if folder is None:
        raise ConfigError("give out= (a folder) when sampling a model object")
    voices = model.sample(n, seed=seed, temperature=temperature).numpy()
    written: list[dict[str, str]] = []
    for i, v in enumerate(voices):
        stem = folder / f"musegan_{seed}_{i:03d}"
        paths = write_outputs(voices_to_tracks(v, n_pitches=cfg.n_pitches, lowest_pitch=cfg.lowest_pitch), stem,
                              fs_steps_per_quarter=cfg.steps_per_bar // 4, lowest_pitch=cfg.lowest_pitch,
                              tempo=tempo, title=f"MuseGAN sample {i} (seed {seed}, temperature {temperature:g})",
                              steps_per_bar=cfg.steps_per_bar, wav=wav, soundfont=soundfont)
        paths["tracks_png"] = str(tracks_figure(v, stem.with_name(stem.name + "_tracks.png"),
                                                steps_per_bar=cfg.steps_per_bar,
                                                title=f"MuseGAN sample {i}: one piano roll per track"))
        written.append(paths)
    result: dict[str, Any] = {"folder": str(folder), "samples": written,
                              "voices": voices.tolist()}
    if grid:
        g = noise_grid(model, seed=seed, temperature=temperature)
        result["noise_grid"] = str(noise_grid_figure(g, folder / f"noise_grid_{seed}.png",
                                                     steps_per_bar=cfg.steps_per_bar))
    write_json_atomic(folder / f"musegan_{seed}.json", {"seed": seed, "temperature": temperature,
                                                       "format": "voices: [sample][track][step] MIDI pitch, -1 = rest "
                                                                 "(16th-note steps; tracks soprano, alto, tenor, bass)",
                                                       "voices": voices.tolist()})
    hows = sorted({p.get("wav_how", "") for p in written if p.get("wav_how")})
    result["wav_how"] = hows
    return result


def evaluate(run: str | os.PathLike | MuseGAN, *, data: str | None = None, split: str = "valid",
             n_samples: int = 2000, seed: int = 0, output: str | os.PathLike | None = None,
             memorisation_figure: str | os.PathLike | None = None, device: str = "cpu",
             train_data: MuseGANDataConfig | None = None) -> dict[str, Any]:
    """MuseGAN's objective metrics (Dong et al. 2018) of ``n_samples`` generated windows beside the same metrics of
    the real windows of ``split`` of ``data`` (default: the run's data), and memorisation: each generated window's
    nearest training window (the run's training split) vs each real ``split`` window's."""
    check_int("n_samples", n_samples, 1)
    model = _load(run, device)
    cfg = model.config
    run_data = train_data or (_run_data(run) if not isinstance(run, MuseGAN) else MuseGANDataConfig())
    eval_data = MuseGANDataConfig(data=data, parts=run_data.parts) if data is not None else run_data
    real, real_path = load_windows(eval_data, cfg, split)
    train_w, train_path = load_windows(run_data, cfg, "train", training=True)  # the windows it was trained on
    warnings = []
    if n_samples < 500:
        warnings.append(f"warning: {n_samples} samples is few for these averages (the benchmark uses 2,000); "
                        f"differences under a few percent are noise")
    if len(real) < 200:
        warnings.append(f"warning: the {split} split has only {len(real)} windows; its metrics are noisy")
    voices = model.sample(n_samples, seed=seed).numpy()
    gen = objective_metrics(voices, cfg.steps_per_bar)
    ref = objective_metrics(real, cfg.steps_per_bar)
    # TD of soprano and a bass from another window: the value of voices that do not fit each other
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(real))
    perm = np.where(perm == np.arange(len(real)), np.roll(perm, 1), perm)
    ref["tonal_distance_soprano_other_bass"] = tonal_distance(real[:, 0], real[perm, 3], max(1, cfg.steps_per_bar // 4))
    same = real_path.resolve() == train_path.resolve() and split == "train"
    near_gen = nearest_training_window(voices, train_w)
    near_real = nearest_training_window(real, train_w) if not same else None
    mem = {"generated": memorisation_summary(near_gen),
           f"real_{split}": memorisation_summary(near_real) if near_real is not None else None,
           "training_windows": int(len(train_w)),
           "measure": "Hamming distance of binary 4x32x84 piano rolls to the nearest training window, divided by the "
                      "note cells of both (0 = exact copy); near copy: < 0.1"}
    if same:
        warnings.append("note: the evaluated split is the training split; its memorisation reference is left out")
    result = {"model": "MuseGAN", "step": None, "generated": gen, f"real_{split}": ref, "memorisation": mem,
              "protocol": {"samples": n_samples, "seed": seed, "real_split": split, "real_data": str(real_path),
                           "real_windows": int(len(real)), "training_data": str(train_path),
                           "window": f"{cfg.n_bars} bars x {cfg.steps_per_bar} steps (16th notes), hop 1 bar",
                           "note": "a note is a run of one pitch in one voice; qualified note: >= 2 steps; TD per "
                                   "beat (4 steps), Harte et al. 2006 tonal centroids"},
              "warnings": warnings}
    if memorisation_figure is not None:
        from .musegan_figures import memorisation_figure as fig

        best = int(np.argmin(near_gen["normalised"]))
        result["memorisation_figure"] = str(fig(
            near_gen["normalised"], near_real["normalised"] if near_real is not None else np.zeros(0),
            memorisation_figure, pair=(voices[best], train_w[near_gen["index"][best]]),
            what=f"{n_samples} samples vs {len(real)} real {split} windows; {len(train_w)} training windows"))
    if not isinstance(run, MuseGAN):
        from ..core.model import resolve_model_dir

        meta = resolve_model_dir(run)
        result["step"] = _step_of(meta)
    if output is not None:
        write_json_atomic(output, result)
    result["lines"] = summary_lines(result, split)
    return result


def _step_of(model_dir: Path) -> int | None:
    try:
        from safetensors import safe_open

        with safe_open(str(model_dir / "model.safetensors"), "pt") as f:
            step = (f.metadata() or {}).get("step")
        return int(step) if step is not None else None
    except Exception:  # noqa: BLE001 - the step is informative only
        return None


def summary_lines(result: dict[str, Any], split: str) -> list[str]:
    gen, ref = result["generated"], result[f"real_{split}"]
    p = result["protocol"]

    def f(x: Any) -> str:
        return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.3f}"

    lines = [f"MuseGAN metrics: {p['samples']} generated windows vs {p['real_windows']} real {split} windows "
             f"({Path(p['real_data']).name})",
             f"{'metric':<34}{'generated':>10}{'real':>10}",
             f"{'empty-bar rate (mean of tracks)':<34}{f(gen['empty_bar_rate']['mean']):>10}"
             f"{f(ref['empty_bar_rate']['mean']):>10}",
             f"{'used pitch classes per bar':<34}{f(gen['used_pitch_classes']['mean']):>10}"
             f"{f(ref['used_pitch_classes']['mean']):>10}",
             f"{'qualified-note rate (>= 2 steps)':<34}{f(gen['qualified_note_rate']['mean']):>10}"
             f"{f(ref['qualified_note_rate']['mean']):>10}",
             f"{'tonal distance soprano-bass':<34}{f(gen['tonal_distance']['soprano-bass']):>10}"
             f"{f(ref['tonal_distance']['soprano-bass']):>10}"
             f"   (real soprano vs another window's bass: {f(ref['tonal_distance_soprano_other_bass'])})"]
    mem = result["memorisation"]
    g, r = mem["generated"], mem.get(f"real_{split}")
    lines.append(f"memorisation (nearest of {mem['training_windows']} training windows): exact copies "
                 f"{100 * g['exact_copy_rate']:.1f}% / near copies {100 * g['near_copy_rate']:.1f}% of samples"
                 + (f" (real {split} windows: {100 * r['exact_copy_rate']:.1f}% / {100 * r['near_copy_rate']:.1f}%)"
                    if r else "")
                 + f"; median distance {g['median_normalised_distance']:.3f}"
                 + (f" (real: {r['median_normalised_distance']:.3f})" if r else ""))
    return lines
