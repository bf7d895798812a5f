"""Sentiment: sentence -> label with an acceptor (the UCI sentiment sentences by default)."""
from __future__ import annotations

from zoo.models.config import AcceptorConfig
from zoo.tasks.base import WordTask


class SentimentTask(WordTask):
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
    dataset_function = "classification_dataset"

    @staticmethod
    def texts(examples) -> list[str]:
        return [text for text, _ in examples]
