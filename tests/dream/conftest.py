"""Fixtures of the image-optimisation tests live in tests/features/imageopt.py (shared by features, dream, style)."""

from features.imageopt import _one_thread, photos  # noqa: F401
