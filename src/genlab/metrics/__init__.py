"""Sample-quality and likelihood metrics. Depends on core, data and features, never on a model family.

    >>> from genlab.metrics import fid_reference, generation_scores
    >>> ref = fid_reference(ImageDataConfig("mnist"), test.images)        # classifier trained once, then cached
    >>> generation_scores(lambda n, seed: model.sample(n, seed=seed), ref, n=10_000)   # {"fid", "kid_mean", ...}

FID/KID run on genlab's domain classifier (:mod:`genlab.features.domain`, re-exported here), against the whole test
split or a seeded random subset; IWAE estimates -log p(x) of latent-variable models.
"""

from __future__ import annotations

from ..features.domain import (
    CLASSIFIER_VERSION,
    ClassifierConfig,
    DomainClassifier,
    classifier_cache_dir,
    classifier_cache_key,
    compute_features,
    default_cache_root,
    evaluate_accuracy,
    get_domain_classifier,
    train_domain_classifier,
)
from .fid import feature_statistics, fid, frechet_distance, kid, mmd2_unbiased, polynomial_kernel, trace_sqrt_product
from .likelihood import binarize_images, iwae_bound, iwae_log_likelihood
from .quality import (
    MIN_REFERENCE_IMAGES,
    RECOMMENDED_ACCURACY,
    RECOMMENDED_REFERENCE_IMAGES,
    RECOMMENDED_SAMPLES,
    FIDReference,
    describe,
    fid_kid,
    fid_reference,
    generation_scores,
    reference_images,
    sample_fid_kid,
    warn,
)

__all__ = [
    "CLASSIFIER_VERSION", "ClassifierConfig", "DomainClassifier", "FIDReference", "MIN_REFERENCE_IMAGES",
    "RECOMMENDED_ACCURACY", "RECOMMENDED_REFERENCE_IMAGES", "RECOMMENDED_SAMPLES", "binarize_images",
    "classifier_cache_dir", "classifier_cache_key", "compute_features", "default_cache_root", "describe",
    "evaluate_accuracy", "feature_statistics", "fid", "fid_kid", "fid_reference", "frechet_distance",
    "generation_scores", "get_domain_classifier", "iwae_bound", "iwae_log_likelihood", "kid", "mmd2_unbiased",
    "polynomial_kernel", "reference_images", "sample_fid_kid", "trace_sqrt_product", "train_domain_classifier",
    "warn",
]
