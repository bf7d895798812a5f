"""Natural language inference: (premise, hypothesis) -> 3 classes with a pair encoder (SNLI by default)."""
from __future__ import annotations

from zoo.models.config import PairEncoderConfig
from zoo.tasks.base import WordTask


class SNLITask(WordTask):
    """Sentence-pair classification: `(premise, hypothesis, label)` examples, one word vectorizer
    from both sides of the training pairs, GloVe rows for it, a pair encoder."""

    name = "snli"
    factory = "pair_encoder"
    config_class = PairEncoderConfig
    data_kind = "pair"
    search_space = {"units": (64, 128, 256, 512), "batch_size": (32, 64, 128)}
    dataset_function = "pair_dataset"

    @staticmethod
    def texts(examples) -> list[str]:
        return [text for premise, hypothesis, _ in examples for text in (premise, hypothesis)]
