"""Transducer: one label per token (e.g. part-of-speech tagging)."""
from __future__ import annotations

import keras

from zoo.models import components
from zoo.models.config import TransducerConfig


def _per_token_head(config, token_ids, embedding, encoder, classes: int, name: str) -> keras.Model:
    sequence, _ = components.embed_and_encode(token_ids, embedding, encoder, components.embedding_dropout(config)
    )
    dropout = components.output_dropout(config)
    if dropout is not None:
        sequence = dropout(sequence)
    probabilities = keras.layers.Dense(classes, activation="softmax", name="probabilities")(sequence)
    return keras.Model(token_ids, probabilities, name=name)


def transducer(config: TransducerConfig, embedding_matrix=None) -> keras.Model:
    """Token ids (batch, time) -> per-token class probabilities (batch, time, num_classes).

    Padded positions get probabilities too; their loss and accuracy must be excluded explicitly:
    pass `zoo.training.token_weights(ids)` (1 for real tokens, 0 for padding) as sample weights,
    as `zoo.data.batching` does, and compile with `zoo.training.compile_defaults`, which counts
    accuracy as a weighted metric.
    """
    if not isinstance(config, TransducerConfig):
        raise TypeError(f"transducer() takes a TransducerConfig, got {type(config).__name__}")
    token_ids = components.token_input()
    embedding = components.make_embedding(config, embedding_matrix)
    model = _per_token_head(
        config, token_ids, embedding, components.make_encoder(config), config.num_classes, "transducer"
    )
    return components.finish(model, config)
