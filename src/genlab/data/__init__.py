"""Data loading for genlab: IDX/MNIST files, image folders and text corpora, all with one-line DataErrors."""

from genlab.data.idx import read_idx
from genlab.data.images import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    ImageFolderDataset,
    image_to_tensor,
    list_images,
    load_image,
    resize_center_crop,
)
from genlab.data.mnist import (
    DATASET_NAMES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    TensorImageDataset,
    find_dataset_dir,
    load_mnist,
    mnist_dataset,
)
from genlab.data.text import ENCODING_ERRORS, read_text

__all__ = [
    "DATASET_NAMES",
    "DEFAULT_MAX_PIXELS",
    "ENCODING_ERRORS",
    "FASHION_MNIST_CLASSES",
    "IMAGE_EXTENSIONS",
    "MNIST_CLASSES",
    "ImageFolderDataset",
    "TensorImageDataset",
    "find_dataset_dir",
    "image_to_tensor",
    "list_images",
    "load_image",
    "load_mnist",
    "mnist_dataset",
    "read_idx",
    "read_text",
    "resize_center_crop",
]

from genlab.data.datasets import ImageDataConfig, load_image_dataset  # noqa: E402

__all__ += ["ImageDataConfig", "load_image_dataset"]
