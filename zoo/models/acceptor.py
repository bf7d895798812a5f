"""Acceptor: a sequence in, one label out (e.g. sentiment)."""
from __future__ import annotations

import keras

from zoo.models import components
from zoo.models.base import ZooModel
from zoo.models.config import AcceptorConfig


@keras.saving.register_keras_serializable(package="zoo")
class Acceptor(ZooModel):
    """Token ids (batch, time) -> class probabilities (batch, num_classes).

    Embedding -> `SequenceEncoder` -> pooled encoding (final state, mean or max over real tokens)
    -> [tanh layer] -> softmax.
    """

    kind = "acceptor"
    config_class = AcceptorConfig

    @classmethod
    def graph(cls, config: AcceptorConfig, fold_input_projection: bool):
        token_ids = components.token_input()
        features, mask = components.TokenFeatures(config, fold_input_projection)(token_ids)
        _, pooled = components.make_encoder(config, fold_input_projection)(features, mask=mask)
        if config.hidden_units:
            pooled = keras.layers.Dense(config.hidden_units, activation="tanh", name="hidden")(pooled)
        dropout = components.output_dropout(config)
        if dropout is not None:
            pooled = dropout(pooled)
        probabilities = keras.layers.Dense(config.num_classes, activation="softmax", name="probabilities")(pooled)
        return token_ids, probabilities


def acceptor(config: AcceptorConfig, embedding_matrix=None) -> Acceptor:
    """An `Acceptor` for `config`, its embedding set to `embedding_matrix` (the GloVe modes).

    Examples:
        >>> model = zoo.models.acceptor(zoo.models.AcceptorConfig(vocabulary_size=5000))
    """
    if not isinstance(config, AcceptorConfig):
        raise TypeError(f"acceptor() takes an AcceptorConfig, got {type(config).__name__}")
    return components.set_embedding_matrix(Acceptor(config), config, embedding_matrix)
