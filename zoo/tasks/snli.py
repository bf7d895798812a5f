"""Natural language inference: (premise, hypothesis) -> 3 classes with a pair encoder (SNLI by default)."""
from __future__ import annotations

import dataclasses

from zoo.models.config import PairEncoderConfig
from zoo.tasks.base import Task


class SNLITask(Task):
    """Sentence-pair classification: `(premise, hypothesis, label)` examples, one word vectorizer
    from both sides of the training pairs, GloVe rows for it, a pair encoder."""

    name = "snli"
    factory = "pair_encoder"
    config_class = PairEncoderConfig
    data_kind = "pair"
    search_space = {"units": (64, 128, 256, 512), "batch_size": (32, 64, 128)}

    @staticmethod
    def training_texts(data) -> list[str]:
        return [text for premise, hypothesis, _ in data.train for text in (premise, hypothesis)]

    def build_vectorizer(self, data, model_config, training):
        from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer

        vectorizer = ZooVectorizer(build_word_vectorizer(
            self.training_texts(data), max_tokens=training.max_vocabulary or None, min_count=training.min_count))
        return vectorizer, dataclasses.replace(
            model_config, vocabulary_size=len(vectorizer.get_vocabulary()), num_classes=len(data.label_names))

    def token_counts(self, data):
        from zoo.data.vectorize import count_word_tokens

        return count_word_tokens(self.training_texts(data))

    def make_dataset(self, examples, vectorizer, training, settings, shuffle, seed):
        from zoo.data.batching import pair_dataset

        return pair_dataset(examples, vectorizer, batch_size=training.batch_size, shuffle=shuffle, seed=seed,
                            padding="bucket" if training.bucketing else "fixed")
