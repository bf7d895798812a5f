"""Sentence-pair encoder: premise and hypothesis -> entails / neutral / contradicts."""
from __future__ import annotations

import keras

from zoo.layers import PairFeatures
from zoo.models import components
from zoo.models.config import PairEncoderConfig

PAIR_INPUTS = ("premise", "hypothesis")


def pair_encoder(config: PairEncoderConfig, embedding_matrix=None) -> keras.Model:
    """`{"premise": ids, "hypothesis": ids}` -> class probabilities (batch, num_classes).

    One shared embedding and encoder turn each sentence into a vector (u for the premise, v for the
    hypothesis); an MLP over `[u, v, |u - v|, u * v]` and a softmax classify the pair (Bowman et
    al. 2015; Mou et al. 2016).
    """
    if not isinstance(config, PairEncoderConfig):
        raise TypeError(f"pair_encoder() takes a PairEncoderConfig, got {type(config).__name__}")
    inputs = {name: components.token_input(name) for name in PAIR_INPUTS}
    embedding = components.make_embedding(config, embedding_matrix)
    encoder = components.make_encoder(config)
    dropout = components.embedding_dropout(config)
    u = components.embed_and_encode(inputs["premise"], embedding, encoder, dropout)[1]
    v = components.embed_and_encode(inputs["hypothesis"], embedding, encoder, dropout)[1]
    features = PairFeatures(name="pair_features")(u, v)
    output_dropout = components.output_dropout(config)
    for index in range(config.hidden_layers):
        if output_dropout is not None:
            features = output_dropout(features)
        features = keras.layers.Dense(config.hidden_units, activation="relu", name=f"hidden_{index}")(features)
    if output_dropout is not None:
        features = output_dropout(features)
    probabilities = keras.layers.Dense(config.num_classes, activation="softmax", name="probabilities")(features)
    model = keras.Model(inputs, probabilities, name="pair_encoder")
    return components.finish(model, config)
