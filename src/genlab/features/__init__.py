"""Feature networks with named layer access: torchvision VGG16/VGG19/GoogLeNet/InceptionV3 and genlab's own
small classifiers, shared by DeepDream, filter/class visualisation and style transfer.

    >>> net = load_feature_network("vgg19", weights="random", layers=["block5_conv2"])
    >>> feats = net(net.normalize(images), ["block5_conv2"])      # {"block5_conv2": (B, 512, h, w)}
"""

from .loading import layer_names, load_feature_network
from .network import FeatureNetwork, parse_layer_weights
from .specs import MODELS
from .weights import WeightsInfo

__all__ = ["MODELS", "FeatureNetwork", "WeightsInfo", "layer_names", "load_feature_network", "parse_layer_weights"]
