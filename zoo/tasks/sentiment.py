"""Sentiment: sentence -> label with an acceptor (the UCI sentiment sentences by default)."""
from __future__ import annotations

import dataclasses

from zoo.models.config import AcceptorConfig
from zoo.tasks.base import Task


class SentimentTask(Task):
    """Sentence classification: `(text, label)` examples, a word vectorizer from the training
    texts (lowercased, punctuation split off), GloVe rows for it, an acceptor.

    Example:
        `zoo.tasks.get("sentiment").prepare(AcceptorConfig(), TrainingConfig(), dataset="uci_sentiment")`
    """

    name = "sentiment"
    factory = "acceptor"
    config_class = AcceptorConfig
    data_kind = "classification"
    search_space = {"units": (16, 32, 64, 128), "batch_size": (16, 32, 64)}

    @staticmethod
    def training_texts(data) -> list[str]:
        return [text for text, _ in data.train]

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
        from zoo.data.batching import classification_dataset

        return classification_dataset(examples, vectorizer, batch_size=training.batch_size, shuffle=shuffle,
                                      seed=seed, padding="bucket" if training.bucketing else "fixed")
