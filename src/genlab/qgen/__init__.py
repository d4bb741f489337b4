"""Question generation (Foster, *Generative Deep Learning*, ch. 6), made sound: a bidirectional GRU encoder, an
attention decoder (Bahdanau or Luong), pointer-generator copying, answer tagging, beam search, and the metrics of the
literature (coco-caption BLEU, METEOR 1.5, ROUGE-L) beside the copy and template baselines.

    >>> from genlab import qgen
    >>> result = qgen.train(out="runs/qgen/du")
    >>> qgen.generate(result.run_dir, ["the eiffel tower is in paris ."], beam=5)[0]["question"]
"""

from .api import DEFAULT_TRAIN, attention_figure, default_train_config, evaluate, generate, train
from .data import QGenDataConfig
from .models import QGen, QGenConfig

__all__ = ["DEFAULT_TRAIN", "QGen", "QGenConfig", "QGenDataConfig", "attention_figure", "default_train_config",
           "evaluate", "generate", "train"]
