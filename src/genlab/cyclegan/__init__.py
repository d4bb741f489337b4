"""CycleGAN: unpaired image-to-image translation (Zhu et al. 2017; Foster, Generative Deep Learning, ch. 5).

    >>> from genlab import cyclegan
    >>> cyclegan.train(cyclegan.CycleGANConfig(generator="unet"), cyclegan.UnpairedDataConfig(), out="runs/cg")
    >>> cyclegan.evaluate("runs/cg")["label_preservation"]["b2a"]["accuracy"]
"""

from .api import evaluate, sample, train, translate
from .data import UnpairedDataConfig, build_mnist_photo_pair, load_domains, load_mnist_photo_pair
from .models import CycleGAN, CycleGANConfig, PatchDiscriminator, ResnetGenerator, UNetGenerator
from .pool import ImagePool
from .trainer import CycleGANOptions, CycleGANTrainer

__all__ = ["CycleGAN", "CycleGANConfig", "CycleGANOptions", "CycleGANTrainer", "ImagePool", "PatchDiscriminator",
           "ResnetGenerator", "UNetGenerator", "UnpairedDataConfig", "build_mnist_photo_pair", "evaluate",
           "load_domains", "load_mnist_photo_pair", "sample", "train", "translate"]
