"""MuseGAN's option dataclasses, without torch (the command line's help is built from them before any model code
is imported). The model is in ``musegan``, the training loop in ``musegan_trainer``."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import cfg_field, check_int
from ..core.errors import ConfigError

NOISE_KINDS = ("chords", "style", "melody", "groove")
TRACK_NAMES = ("soprano", "alto", "tenor", "bass")


@dataclass
class MuseGANConfig:
    z_dim: int = cfg_field(32, help="size of each noise input (chords, style, and per track melody, groove)")
    n_tracks: int = cfg_field(4, help="tracks (voices): 4 for SATB chorales", cli=False)
    n_bars: int = cfg_field(2, help="bars per example", cli=False)
    steps_per_bar: int = cfg_field(16, help="time steps per bar (16th notes in 4/4)", cli=False)
    n_pitches: int = cfg_field(84, help="pitch rows of the piano roll (MIDI pitch lowest_pitch .. +n_pitches-1)",
                               cli=False)
    lowest_pitch: int = cfg_field(0, help="MIDI pitch of pitch row 0 (Foster: 0, so rows are MIDI 0..83)", cli=False)
    g_width: int = cfg_field(512, help="width of the bar generators (Foster: 512; dense layer 2x this)")
    d_width: int = cfg_field(128, help="width of the critic's convolutions (Foster: 128; dense layer 8x this)")
    temporal_width: int = cfg_field(1024, help="width of the temporal networks' hidden layer (Foster: 1024)")

    def __post_init__(self) -> None:
        for name in ("z_dim", "n_tracks", "g_width", "d_width", "temporal_width"):
            check_int(name, getattr(self, name), 1)
        check_int("n_bars", self.n_bars, 2)
        check_int("lowest_pitch", self.lowest_pitch, 0)
        if self.steps_per_bar != 16:
            raise ConfigError(f"the bar generator makes 16 steps per bar (got steps_per_bar={self.steps_per_bar})")
        if self.n_pitches != 84:
            raise ConfigError(f"the bar generator makes 84 pitch rows (got n_pitches={self.n_pitches})")
        if self.lowest_pitch + self.n_pitches > 128:
            raise ConfigError(f"lowest_pitch {self.lowest_pitch} + 84 rows goes above MIDI pitch 127")
        if self.g_width % 4:
            raise ConfigError(f"--g-width must be a multiple of 4 (got {self.g_width})")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(tracks, bars, steps, pitches) of one example."""
        return (self.n_tracks, self.n_bars, self.steps_per_bar, self.n_pitches)


@dataclass
class MuseGANTrainOptions:
    critic_steps: int = cfg_field(5, help="critic updates per generator update (WGAN-GP: 5)")
    gp_weight: float = cfg_field(10.0, help="gradient-penalty weight lambda (Gulrajani et al. 2017: 10)")
    eval_samples: int = cfg_field(256, help="generated windows for the objective metrics logged at --eval-every "
                                            "(0 = off)")

    def __post_init__(self) -> None:
        check_int("critic_steps", self.critic_steps, 1)
        if isinstance(self.gp_weight, bool) or not isinstance(self.gp_weight, (int, float)) or not self.gp_weight >= 0:
            raise ConfigError(f"--gp-weight must be >= 0 (got {self.gp_weight})")
        check_int("eval_samples", self.eval_samples, 0)
