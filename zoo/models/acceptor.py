"""Acceptor: a sequence in, one label out (e.g. sentiment)."""
from __future__ import annotations

import keras

from zoo.models import components
from zoo.models.config import AcceptorConfig


def acceptor(config: AcceptorConfig, embedding_matrix=None) -> keras.Model:
    """Token ids (batch, time) -> class probabilities (batch, num_classes).

    Embedding -> `SequenceEncoder` -> pooled encoding (final state, mean or max over real tokens)
    -> [tanh layer] -> softmax.

    Examples:
        >>> model = zoo.models.acceptor(zoo.models.AcceptorConfig(vocabulary_size=5000))
    """
    if not isinstance(config, AcceptorConfig):
        raise TypeError(f"acceptor() takes an AcceptorConfig, got {type(config).__name__}")
    token_ids = components.token_input()
    embedding = components.make_embedding(config, embedding_matrix)
    encoder = components.make_encoder(config)
    _, pooled = components.embed_and_encode(token_ids, embedding, encoder, components.embedding_dropout(config)
    )
    features = pooled
    dropout = components.output_dropout(config)
    if config.hidden_units:
        features = keras.layers.Dense(config.hidden_units, activation="tanh", name="hidden")(features)
    if dropout is not None:
        features = dropout(features)
    probabilities = keras.layers.Dense(config.num_classes, activation="softmax", name="probabilities")(features)
    model = keras.Model(token_ids, probabilities, name="acceptor")
    return components.finish(model, config)
