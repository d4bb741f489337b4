"""Text generation: char/word LSTM and GRU language models and a small GPT, with every sampling strategy."""

from .generate import generate, generate_ids, generate_ids_reencoding
from .gpt import GPT, GPTConfig, KVCache
from .model import GRULanguageModel, LSTMLanguageModel, RNNConfig, TextModel
from .train import DEFAULT_TRAIN, TextConfig, default_train_config, evaluate, evaluate_ids, temperature_table, train

__all__ = ["GPT", "GPTConfig", "KVCache", "GRULanguageModel", "LSTMLanguageModel", "RNNConfig", "TextModel",
           "TextConfig", "DEFAULT_TRAIN", "default_train_config", "train", "evaluate", "evaluate_ids", "generate",
           "generate_ids", "generate_ids_reencoding", "temperature_table"]
