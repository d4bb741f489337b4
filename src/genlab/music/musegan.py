"""MuseGAN (Dong, Hsiao, Yang & Yang 2018, "MuseGAN: Multi-track Sequential Generative Adversarial Networks for
Symbolic Music Generation and Accompaniment"), as Foster's "Generative Deep Learning" ch. 7 builds it for Bach
chorales: four tracks (soprano, alto, tenor, bass) x 2 bars x 16 sixteenth-note steps x 84 pitches.

The generator takes four noise inputs:

* ``chords`` (B, z): shared by every track, varies over the bars (through the temporal network);
* ``style``  (B, z): shared by every track and every bar;
* ``melody`` (B, tracks, z): one per track, varies over the bars (one temporal network per track);
* ``groove`` (B, tracks, z): one per track, the same in every bar.

For each bar and track, ``[chords_t, style, melody_k,t, groove_k]`` (4z numbers) goes through that track's bar
generator (a dense layer, then transposed convolutions 1 -> 16 steps and 1 -> 7 -> 84 pitches, tanh). The critic is
Foster's 3-D convolutional network over (bars, steps, pitches) with the tracks as channels; it is trained with the
WGAN-GP objective (see ``musegan_trainer``). Tensors are laid out (B, tracks, bars, steps, pitches), values in
[-1, 1] as in Foster's code (-1 = off, +1 = on).

    >>> gan = MuseGAN(MuseGANConfig())
    >>> rolls = gan.generate(gan.noise(8, seed=0))    # (8, 4, 2, 16, 84) in [-1, 1]
    >>> voices = to_voices(rolls)                       # (8, 4, 32) MIDI pitch per step, -1 = rest
"""

from __future__ import annotations

import torch
from torch import nn

from ..core.errors import ConfigError
from ..core.model import GenlabModel
from .musegan_config import NOISE_KINDS, TRACK_NAMES, MuseGANConfig  # noqa: F401 (the config lives without torch)


class TemporalNetwork(nn.Module):
    """z (B, z) -> (B, bars, z): Foster's two transposed convolutions over time, with batch norm and ReLU."""

    def __init__(self, z_dim: int, n_bars: int, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose1d(z_dim, width, kernel_size=2), nn.BatchNorm1d(width), nn.ReLU(),
            nn.ConvTranspose1d(width, z_dim, kernel_size=n_bars - 1), nn.BatchNorm1d(z_dim), nn.ReLU())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.unsqueeze(-1)).transpose(1, 2)  # (B, z, bars) -> (B, bars, z)


class BarGenerator(nn.Module):
    """(B, 4z) -> one bar of one track (B, 16 steps, 84 pitches): dense -> (2 steps, 1 pitch) -> transposed
    convolutions doubling the steps 2 -> 4 -> 8 -> 16, then the pitches 1 -> 7 -> 84, tanh (Foster ch. 7)."""

    def __init__(self, in_dim: int, width: int) -> None:
        super().__init__()
        self.width = width
        self.fc = nn.Sequential(nn.Linear(in_dim, 2 * width), nn.BatchNorm1d(2 * width), nn.ReLU())

        def up(cin: int, cout: int, kernel: tuple[int, int]) -> list[nn.Module]:
            return [nn.ConvTranspose2d(cin, cout, kernel, stride=kernel), nn.BatchNorm2d(cout), nn.ReLU()]

        w = width
        self.convs = nn.Sequential(
            *up(w, w, (2, 1)), *up(w, w // 2, (2, 1)), *up(w // 2, w // 4, (2, 1)), *up(w // 4, w // 4, (1, 7)),
            nn.ConvTranspose2d(w // 4, 1, (1, 12), stride=(1, 12)), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x).view(x.shape[0], self.width, 2, 1)  # (B, C, steps=2, pitches=1)
        return self.convs(h).squeeze(1)  # (B, 16, 84)


class Generator(nn.Module):
    def __init__(self, cfg: MuseGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.chords_temporal = TemporalNetwork(cfg.z_dim, cfg.n_bars, cfg.temporal_width)
        self.melody_temporal = nn.ModuleList(TemporalNetwork(cfg.z_dim, cfg.n_bars, cfg.temporal_width)
                                             for _ in range(cfg.n_tracks))
        self.bar_generators = nn.ModuleList(BarGenerator(4 * cfg.z_dim, cfg.g_width) for _ in range(cfg.n_tracks))

    def forward(self, chords: torch.Tensor, style: torch.Tensor, melody: torch.Tensor,
                groove: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        b = chords.shape[0]
        chords_t = self.chords_temporal(chords)  # (B, bars, z)
        tracks = []
        for k in range(cfg.n_tracks):
            melody_t = self.melody_temporal[k](melody[:, k])  # (B, bars, z)
            z = torch.cat([chords_t, style.unsqueeze(1).expand(-1, cfg.n_bars, -1), melody_t,
                           groove[:, k].unsqueeze(1).expand(-1, cfg.n_bars, -1)], dim=-1)  # (B, bars, 4z)
            # all bars of one track through its bar generator as one batch (batch norm sees every bar)
            bars = self.bar_generators[k](z.reshape(b * cfg.n_bars, -1))  # (B*bars, steps, pitches)
            tracks.append(bars.view(b, cfg.n_bars, cfg.steps_per_bar, cfg.n_pitches))
        return torch.stack(tracks, dim=1)  # (B, tracks, bars, steps, pitches)


class Critic(nn.Module):
    """Foster's MuseGAN critic: 3-D convolutions over (bars, steps, pitches), tracks as input channels, leaky ReLU,
    no normalisation (the gradient penalty is per example), then dense -> one score."""

    def __init__(self, cfg: MuseGANConfig) -> None:
        super().__init__()
        w = cfg.d_width
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731

        def conv(cin: int, cout: int, kernel, stride, padding=0) -> list[nn.Module]:
            return [nn.Conv3d(cin, cout, kernel, stride=stride, padding=padding), act()]

        self.convs = nn.Sequential(
            *conv(cfg.n_tracks, w, (2, 1, 1), (1, 1, 1)),            # bars: n -> n-1
            *conv(w, w, (cfg.n_bars - 1, 1, 1), (1, 1, 1)),          # bars: -> 1
            *conv(w, w, (1, 1, 12), (1, 1, 12)),                      # pitches: 84 -> 7 (octaves)
            *conv(w, w, (1, 1, 7), (1, 1, 7)),                        # pitches: 7 -> 1
            *conv(w, w, (1, 2, 1), (1, 2, 1)),                        # steps: 16 -> 8
            *conv(w, w, (1, 2, 1), (1, 2, 1)),                        # steps: 8 -> 4
            *conv(w, 2 * w, (1, 4, 1), (1, 2, 1), padding=(0, 1, 0)),  # steps: 4 -> 2
            *conv(2 * w, 4 * w, (1, 3, 1), (1, 2, 1), padding=(0, 1, 0)))  # steps: 2 -> 1
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * w, 8 * w), act(), nn.Linear(8 * w, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.convs(x)).squeeze(-1)  # (B,)


class MuseGAN(GenlabModel):
    """Generator + critic, saved together (config.json + model.safetensors)."""

    model_type = "music-musegan"
    family = "music"
    config_class = MuseGANConfig

    def __init__(self, config: MuseGANConfig) -> None:
        super().__init__(config)
        self.generator = Generator(config)
        self.critic = Critic(config)

    def noise(self, n: int, *, seed: int | None = None, temperature: float = 1.0,
              generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The four noise inputs for ``n`` examples, N(0, temperature²), from ``seed`` (or ``generator``)."""
        if not temperature > 0:
            raise ConfigError(f"--temperature must be > 0 (got {temperature}); it scales the noise inputs")
        cfg = self.config
        g = generator if generator is not None else torch.Generator().manual_seed(0 if seed is None else seed)
        z = {"chords": torch.randn(n, cfg.z_dim, generator=g), "style": torch.randn(n, cfg.z_dim, generator=g),
             "melody": torch.randn(n, cfg.n_tracks, cfg.z_dim, generator=g),
             "groove": torch.randn(n, cfg.n_tracks, cfg.z_dim, generator=g)}
        return {k: (v * temperature).to(self.device) for k, v in z.items()}

    def generate(self, noise: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, tracks, bars, steps, pitches) in [-1, 1] from the four noise inputs."""
        return self.generator(noise["chords"], noise["style"], noise["melody"], noise["groove"])

    @torch.no_grad()
    def sample(self, n: int, *, seed: int = 0, temperature: float = 1.0, batch_size: int = 256) -> torch.Tensor:
        """``n`` generated examples as voices: (n, tracks, bars * steps) MIDI pitches, -1 for a rest."""
        was = self.training
        self.eval()
        try:
            g = torch.Generator().manual_seed(seed)
            out = []
            for start in range(0, n, batch_size):
                z = self.noise(min(batch_size, n - start), generator=g, temperature=temperature)
                out.append(to_voices(self.generate(z), self.config.lowest_pitch).cpu())
            return torch.cat(out) if out else torch.zeros(0, self.config.n_tracks,
                                                           self.config.n_bars * self.config.steps_per_bar,
                                                           dtype=torch.long)
        finally:
            self.train(was)

    def forward(self, roll: torch.Tensor) -> torch.Tensor:  # pragma: no cover - the trainer calls the parts
        return self.critic(roll)


def to_voices(rolls: torch.Tensor, lowest_pitch: int = 0) -> torch.Tensor:
    """Generator output (B, tracks, bars, steps, pitches) -> (B, tracks, bars*steps) MIDI pitches, -1 = rest.

    Each track is one voice (one note at a time, as in the chorales): the step's pitch is the row with the largest
    value, and the step is a rest when no row is above 0 (the middle of the tanh range between off = -1 and on = +1).
    """
    b, t, n_bars, steps, _ = rolls.shape
    flat = rolls.reshape(b, t, n_bars * steps, -1)
    best, idx = flat.max(dim=-1)
    return torch.where(best > 0, idx + lowest_pitch, torch.full_like(idx, -1))


def to_roll(voices: torch.Tensor, cfg: MuseGANConfig) -> torch.Tensor:
    """(B, tracks, bars*steps) MIDI pitches (-1 = rest) -> (B, tracks, bars, steps, pitches) in {-1, +1}."""
    b, t, length = voices.shape
    if length != cfg.n_bars * cfg.steps_per_bar or t != cfg.n_tracks:
        raise ValueError(f"voices of shape {tuple(voices.shape)} do not fit {cfg.shape}")
    rows = voices - cfg.lowest_pitch
    on = voices >= 0
    roll = torch.full((b, t, length, cfg.n_pitches), -1.0)
    roll.scatter_(-1, rows.clamp(0, cfg.n_pitches - 1).unsqueeze(-1), torch.where(on, 1.0, -1.0).unsqueeze(-1))
    return roll.view(b, t, cfg.n_bars, cfg.steps_per_bar, cfg.n_pitches)
