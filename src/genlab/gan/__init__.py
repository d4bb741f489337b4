"""GANs (DCGAN, WGAN, WGAN-GP, hinge/spectral-norm SAGAN-style; ProGAN and StyleGAN-lite with --arch) on MNIST,
Fashion-MNIST or an image folder."""

from .losses import (
    OBJECTIVES,
    add_instance_noise,
    clip_weights_,
    gradient_penalty,
    hinge_d_loss,
    hinge_g_loss,
    ns_d_loss,
    ns_g_loss,
    wgan_d_loss,
    wgan_g_loss,
)
from .models import GAN, Discriminator, GANConfig, Generator, SelfAttention
from .progressive import ProGAN, ProGANConfig
from .stylegan import StyleGAN, StyleGANConfig
from .monitor import divergence_warning, feature_diversity, mode_collapse_warning
from .api import DEFAULT_TRAIN, default_train_config, evaluate, mix, noise_figure, sample, train
from .trainer import GANTrainer, GANTrainOptions

__all__ = ["GAN", "GANConfig", "ProGAN", "ProGANConfig", "StyleGAN", "StyleGANConfig", "mix", "noise_figure", "Generator", "Discriminator", "SelfAttention", "GANTrainer", "GANTrainOptions",
           "train", "sample", "evaluate", "default_train_config", "DEFAULT_TRAIN", "OBJECTIVES", "ns_d_loss",
           "ns_g_loss", "wgan_d_loss", "wgan_g_loss", "hinge_d_loss", "hinge_g_loss", "gradient_penalty",
           "clip_weights_", "add_instance_noise", "feature_diversity", "mode_collapse_warning", "divergence_warning"]
