"""genlab's own error types.

Anything a user can cause (a missing file, a bad option, a corrupt checkpoint, a loss that went NaN) raises a
subclass of :class:`GenlabError` whose message says what went wrong *and what to do*. The CLI prints it as one line
on stderr and exits non-zero; a traceback means a bug in genlab.
"""

from __future__ import annotations


class GenlabError(Exception):
    """Base class of every error a user can cause. ``str(err)`` is a complete one-line message."""

    exit_code = 2


class ConfigError(GenlabError, ValueError):
    """An option is out of range or inconsistent (``--latent-dim 0``, negative epochs, ...)."""


class DataError(GenlabError):
    """Data is missing, unreadable, corrupt or of the wrong kind."""


class CheckpointError(GenlabError):
    """A checkpoint or saved model is missing, corrupt, or belongs to another model family."""


class NonFiniteLossError(GenlabError):
    """Training stopped because the loss became NaN or infinite; the last good checkpoint is kept."""

    exit_code = 3


def a_or_an(word: str) -> str:
    """ "a vae", "an ae", "an aae", "a gan": the article a message needs before a family or model name."""
    return f"{'an' if str(word)[:1].lower() in 'aeiou' else 'a'} {word}"
