"""``--arch dcgan|progan|stylegan``: which generator/discriminator pair a GAN run trains, and the options of each.

The DCGAN options stay in :class:`~genlab.gan.models.GANConfig` (unchanged, the default); ``--arch progan`` builds a
:class:`~genlab.gan.progressive.ProGANConfig` and ``--arch stylegan`` a :class:`~genlab.gan.stylegan.StyleGANConfig`
from the shared flags typed (``--size``, ``--latent-dim``, ``--g-channels``, ``--d-channels``, ``--loss``) and the
options below. A flag that means nothing for the chosen architecture is refused rather than ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

from ..core.config import cfg_field, check_choice, from_dict
from ..core.errors import ConfigError

ARCHS = ("dcgan", "progan", "stylegan")
SHARED = ("size", "latent_dim", "g_channels", "d_channels", "loss")  # GANConfig flags the new archs take too
PROGAN_ONLY = ("fade_images", "stable_images")
STYLEGAN_ONLY = ("w_dim", "mapping_layers", "mixing_prob", "w_avg_beta")
BOTH = ("drift", "mbstd_group")

# genlab's recipes for the new archs (applied under what the user types): Adam 1e-3, betas (0, 0.99), one critic
# step per G step (ProGAN's, Karras et al. 2018, appendix A.1; StyleGAN keeps them), whatever the loss.
ARCH_TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "progan": dict(lr=1e-3, adam_beta1=0.0, adam_beta2=0.99),
    "stylegan": dict(lr=1e-3, adam_beta1=0.0, adam_beta2=0.99),
}


@dataclass
class ArchOptions:
    """The ``--arch`` flag and the options of the ProGAN / StyleGAN architectures (typed ones only are used)."""

    arch: Literal["dcgan", "progan", "stylegan"] = cfg_field(
        "dcgan", help="dcgan (DCGAN, the default), progan (progressive growing, Karras et al. 2018) or stylegan "
                      "(StyleGAN-lite: mapping net, StyleGAN2 modulated/demodulated convs, noise, mixing; "
                      "Karras et al. 2019/2020); progan/stylegan default to --size 32 (64 for a folder), "
                      "--latent-dim 128, --loss wgan-gp, one critic step, Adam 1e-3 betas (0, 0.99)")
    fade_images: int = cfg_field(20000, help="progan: images over which each new resolution fades in")
    stable_images: int = cfg_field(20000, help="progan: images trained at each resolution after its fade-in")
    w_dim: int = cfg_field(128, help="stylegan: size of w")
    mapping_layers: int = cfg_field(4, help="stylegan: layers of the mapping MLP (the paper: 8)")
    mixing_prob: float = cfg_field(0.9, help="stylegan: probability of style-mixing regularisation per batch")
    w_avg_beta: float = cfg_field(0.995, help="stylegan: decay of the running mean of w (truncation centre)")
    drift: float = cfg_field(0.001, help="progan/stylegan: drift penalty eps_drift * E[D(x)^2] on the critic")
    mbstd_group: int = cfg_field(4, help="progan/stylegan: minibatch-stddev group size")

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ARCHS)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_model_config(arch: str, model_typed: dict[str, Any], arch_typed: dict[str, Any], *,
                       folder: bool) -> Any:
    """The model config of a new run with ``--arch arch`` from the typed GANConfig and ArchOptions fields."""
    from .models import GANConfig

    check_choice("arch", arch, ARCHS)
    arch_typed = {k: v for k, v in arch_typed.items() if k != "arch"}
    if arch == "dcgan":
        if arch_typed:
            names = ", ".join(_flag(k) for k in arch_typed)
            raise ConfigError(f"{names} {'is' if len(arch_typed) == 1 else 'are'} for --arch progan/stylegan, "
                              f"not the DCGAN (add --arch progan or --arch stylegan)")
        return from_dict(GANConfig, model_typed)
    from .progressive import ProGANConfig
    from .stylegan import StyleGANConfig

    cls = ProGANConfig if arch == "progan" else StyleGANConfig
    other = set(STYLEGAN_ONLY if arch == "progan" else PROGAN_ONLY)
    bad = [k for k in model_typed if k not in SHARED] + [k for k in arch_typed if k in other]
    if bad:
        raise ConfigError(f"{', '.join(_flag(k) for k in bad)}: not an option of --arch {arch} (its options: "
                          f"{', '.join(_flag(f.name) for f in fields(cls) if f.metadata.get('cli', True))})")
    values = {**{k: model_typed[k] for k in SHARED if k in model_typed}, **arch_typed}
    if "size" not in values:
        values["size"] = 64 if folder else 32
    return from_dict(cls, values)


def arch_of(model_config: Any) -> str:
    return getattr(model_config, "arch", "dcgan")
