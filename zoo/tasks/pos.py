"""Part-of-speech tagging: token -> tag with a transducer (the tagged Brown corpus by default)."""
from __future__ import annotations

import collections
import dataclasses

from zoo.models.config import TransducerConfig
from zoo.tasks.base import Task


class POSTask(Task):
    """Sequence tagging: `(tokens, tags)` examples, a token vectorizer from the training tokens
    (word ids lowercased, as GloVe 6B is; character ids with their case when the model reads
    them), GloVe rows for the words, a transducer; the loss and accuracy count real tokens only."""

    name = "pos"
    factory = "transducer"
    config_class = TransducerConfig
    data_kind = "tagging"
    search_space = {"units": (50, 100, 200), "batch_size": (32, 64, 128)}

    def build_vectorizer(self, data, model_config, training):
        from zoo.data.vectorize import build_token_vectorizer

        chars = model_config.char_features
        vectorizer = build_token_vectorizer(
            [tokens for tokens, _ in data.train], max_tokens=training.max_vocabulary or None,
            min_count=training.min_count, max_word_chars=chars.max_word_chars if chars.enabled else 0)
        if chars.enabled:
            chars = dataclasses.replace(chars, vocabulary_size=len(vectorizer.get_char_vocabulary()))
        return vectorizer, dataclasses.replace(
            model_config, vocabulary_size=vectorizer.vocabulary_size(), char_features=chars,
            num_classes=len(data.label_names))

    def token_counts(self, data, split="train"):
        return collections.Counter(token.lower() for tokens, _ in getattr(data, split) for token in tokens)

    def make_dataset(self, examples, vectorizer, training, settings, shuffle, seed):
        from zoo.data.batching import tagging_dataset

        return tagging_dataset(examples, vectorizer, batch_size=training.batch_size, shuffle=shuffle, seed=seed,
                               padding="bucket" if training.bucketing else "fixed")

    def after_evaluation(self, prepared, model, metrics):
        from zoo.tasks.reports import unseen_word_accuracy

        super().after_evaluation(prepared, model, metrics)
        config = prepared.model_config
        metrics["test"].update(unseen_word_accuracy(model, prepared.batches(splits=("test",))["test"],
                                                    config.vocabulary_size, config.pretrained_rows))
