"""A task's data prepared once for a whole search: splits, vectorizer, GloVe matrix, batches.

The preparation mirrors the data half of each recipe's `run` (vocabulary from the whole training
split, GloVe rows for that vocabulary), so the tuned settings mean the same thing to `zoo train`.
Only the training examples may be subsampled (`train_fraction`), to make trials cheaper; the
vocabulary, the embedding matrix and the dev split stay whole.
"""
from __future__ import annotations

import collections
import dataclasses
import importlib
import random
from typing import Any

TASKS = ("sentiment", "pos", "snli", "char_lm")

# Per task: the factory's name, the tuner objective (a Keras log name and its direction) and the
# choices that depend on the task's size. Everything else in the space is shared (hypermodels.py).
TASK_SPACES: dict[str, dict[str, Any]] = {
    "sentiment": dict(factory="acceptor", objective=("val_accuracy", "max"),
                      units=(16, 32, 64, 128), batch_size=(16, 32, 64)),
    "pos": dict(factory="transducer", objective=("val_accuracy", "max"),
                units=(50, 100, 200), batch_size=(32, 64, 128)),
    "snli": dict(factory="pair_encoder", objective=("val_accuracy", "max"),
                 units=(64, 128, 256, 512), batch_size=(32, 64, 128)),
    "char_lm": dict(factory="language_model", objective=("val_loss", "min"),
                    units=(128, 256, 512), batch_size=(32, 64, 128)),
}


@dataclasses.dataclass
class PreparedTask:
    """What every trial of a search shares (built once, outside `HyperModel.build`)."""

    task: str
    module: Any                      # the recipe module (MODEL, TRAINING, DATASET, make_batches)
    dataset: str
    model_config: Any                # the recipe's MODEL with vocabulary size and classes filled in
    training: Any                    # the recipe's TRAINING
    data: Any                        # TaskData, training split possibly subsampled
    vectorizer: Any
    embedding_matrix: Any            # GloVe rows for the vocabulary (None for the character LM)
    train_fraction: float = 1.0

    def batches(self, training) -> dict:
        """Train (shuffled) and dev batches for these training settings (batch size, bucketing)."""
        return self.module.make_batches(self.data, self.vectorizer, training, self.model_config.seed)


def _subsample(data, fraction: float, seed: int):
    if fraction >= 1.0:
        return data
    if data.task == "language_model":
        # Documents are whole books: keep the first part of each.
        train = [document[: max(1, int(len(document) * fraction))] for document in data.train]
    else:
        count = max(1, int(round(len(data.train) * fraction)))
        train = random.Random(seed).sample(list(data.train), count)
    return dataclasses.replace(data, train=train)


def prepare(task: str, dataset: str | None = None, train_fraction: float = 1.0) -> PreparedTask:
    """Loads the task's data, builds its vectorizer and (for word tasks) its GloVe matrix."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    if not 0.0 < train_fraction <= 1.0:
        raise ValueError(f"--train-fraction must be in (0, 1], got {train_fraction}")
    import zoo.data
    from zoo.data.vectorize import (ZooVectorizer, build_char_vectorizer, build_word_vectorizer,
                                    count_word_tokens)

    module = importlib.import_module(f"recipes.{task}")
    model_config, training = module.MODEL, module.TRAINING
    dataset = dataset or module.DATASET
    data = zoo.data.load(dataset)
    max_tokens = training.max_vocabulary or None
    counts = None
    if task == "char_lm":
        vectorizer = ZooVectorizer(build_char_vectorizer(data.train, min_count=training.min_count))
    elif task == "pos":
        train_tokens = [tokens for tokens, _ in data.train]
        # The recipe's own vectorizer: with character ids when its model reads them.
        vectorizer, model_config = module.make_vectorizer(train_tokens, model_config, training)
        counts = collections.Counter(token.lower() for tokens in train_tokens for token in tokens)
    else:
        if task == "snli":
            texts = [text for premise, hypothesis, _ in data.train for text in (premise, hypothesis)]
        else:
            texts = [text for text, _ in data.train]
        vectorizer = ZooVectorizer(build_word_vectorizer(texts, max_tokens=max_tokens, min_count=training.min_count))
        counts = count_word_tokens(texts)
    vocabulary = vectorizer.get_vocabulary()
    updates = {"vocabulary_size": len(vocabulary)}
    if task != "char_lm":
        updates["num_classes"] = len(data.label_names)
    model_config = dataclasses.replace(model_config, **updates)

    matrix = None
    if counts is not None:
        # Computed once for the whole search; each trial in a GloVe mode gets the same matrix.
        from zoo import embeddings

        words, vectors = embeddings.load_glove()
        matrix, coverage = embeddings.build_embedding_matrix(
            vocabulary, words, vectors, seed=model_config.seed, token_counts=counts)
    return PreparedTask(task, module, dataset, model_config, training,
                        _subsample(data, train_fraction, model_config.seed), vectorizer, matrix, train_fraction)
