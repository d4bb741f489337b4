"""Moved: the domain classifier is a feature network, :mod:`genlab.features.domain`; the scores are in
:mod:`genlab.metrics.quality`. This name stays so that code written against genlab 0.1 keeps importing."""

from ..features.domain import *  # noqa: F401,F403
from ..features.domain import DomainClassifier, compute_features, get_domain_classifier  # noqa: F401
from .quality import fid_kid, sample_fid_kid  # noqa: F401
