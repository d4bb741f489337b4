"""Sample-quality metrics: FID and KID on the features of a small classifier genlab trains on the same dataset.

    >>> from genlab.metrics import get_domain_classifier, fid_kid
    >>> classifier, accuracy = get_domain_classifier(ImageDataConfig("mnist"))  # trained once, then cached
    >>> fid_kid(classifier, real_images, generated_images)                     # {"fid", "kid_mean", "kid_std", ...}
"""

from __future__ import annotations

from .classifier import (
    CLASSIFIER_VERSION,
    ClassifierConfig,
    DomainClassifier,
    classifier_cache_dir,
    classifier_cache_key,
    compute_features,
    default_cache_root,
    evaluate_accuracy,
    fid_kid,
    get_domain_classifier,
    sample_fid_kid,
    train_domain_classifier,
)
from .fid import feature_statistics, fid, frechet_distance, kid, mmd2_unbiased, polynomial_kernel, trace_sqrt_product
from .likelihood import binarize_images, iwae_log_likelihood

__all__ = [
    "CLASSIFIER_VERSION",
    "ClassifierConfig",
    "DomainClassifier",
    "binarize_images",
    "iwae_log_likelihood",
    "classifier_cache_dir",
    "classifier_cache_key",
    "compute_features",
    "default_cache_root",
    "evaluate_accuracy",
    "feature_statistics",
    "fid",
    "fid_kid",
    "frechet_distance",
    "get_domain_classifier",
    "kid",
    "mmd2_unbiased",
    "polynomial_kernel",
    "sample_fid_kid",
    "trace_sqrt_product",
    "train_domain_classifier",
]
