"""Text generation: char/word LSTM and GRU language models and a small GPT, with every sampling strategy.

    >>> from genlab import text
    >>> result = text.train(data_config=text.TextConfig(corpus="input.txt", model="gpt"), out="runs/text/gpt")
    >>> text.sample(result.run_dir, n=2, prompt="ROMEO:", length=300, temperature=0.8)
    >>> text.evaluate(result.run_dir, corpus="other.txt", unknown="map")["unknown_share"]
"""

from .generate import generate, generate_ids, generate_ids_reencoding
from .gpt import GPT, GPTConfig, KVCache
from .model import GRULanguageModel, LSTMLanguageModel, RNNConfig, TextModel
from .train import (DEFAULT_TRAIN, UNKNOWN_WARN_SHARE, TextConfig, default_train_config, evaluate, evaluate_ids,
                    format_samples, sample, temperature_table, train)

__all__ = ["GPT", "GPTConfig", "KVCache", "GRULanguageModel", "LSTMLanguageModel", "RNNConfig", "TextModel",
           "TextConfig", "DEFAULT_TRAIN", "UNKNOWN_WARN_SHARE", "default_train_config", "train", "sample", "evaluate",
           "evaluate_ids", "format_samples", "generate", "generate_ids", "generate_ids_reencoding",
           "temperature_table"]
