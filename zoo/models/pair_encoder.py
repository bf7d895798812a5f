"""Sentence-pair encoder: premise and hypothesis -> entails / neutral / contradicts."""
from __future__ import annotations

import keras

from zoo.conventions import PAIR_INPUTS
from zoo.layers import PairFeatures
from zoo.models import components
from zoo.models.base import ZooModel
from zoo.models.config import PairEncoderConfig


@keras.saving.register_keras_serializable(package="zoo")
class PairEncoder(ZooModel):
    """`{"premise": ids, "hypothesis": ids}` -> class probabilities (batch, num_classes).

    One shared embedding and encoder turn each sentence into a vector (u for the premise, v for the
    hypothesis); an MLP over `[u, v, |u - v|, u * v]` and a softmax classify the pair (Bowman et
    al. 2015; Mou et al. 2016).
    """

    kind = "pair_encoder"
    config_class = PairEncoderConfig

    @classmethod
    def graph(cls, config: PairEncoderConfig, fold_input_projection: bool):
        inputs = {name: components.token_input(name) for name in PAIR_INPUTS}
        token_features = components.TokenFeatures(config, fold_input_projection)
        encoder = components.make_encoder(config, fold_input_projection)
        pooled = []
        for name in PAIR_INPUTS:
            features, mask = token_features(inputs[name])
            pooled.append(encoder(features, mask=mask)[1])
        u, v = pooled
        features = PairFeatures(name="pair_features")(u, v)
        dropout = components.output_dropout(config)
        for index in range(config.hidden_layers):
            if dropout is not None:
                features = dropout(features)
            features = keras.layers.Dense(config.hidden_units, activation="relu", name=f"hidden_{index}")(features)
        if dropout is not None:
            features = dropout(features)
        probabilities = keras.layers.Dense(config.num_classes, activation="softmax", name="probabilities")(features)
        return inputs, probabilities


def pair_encoder(config: PairEncoderConfig, embedding_matrix=None) -> PairEncoder:
    """A `PairEncoder` for `config`, its embedding set to `embedding_matrix` (the GloVe modes)."""
    if not isinstance(config, PairEncoderConfig):
        raise TypeError(f"pair_encoder() takes a PairEncoderConfig, got {type(config).__name__}")
    return components.set_embedding_matrix(PairEncoder(config), config, embedding_matrix)
