"""Pieces every factory wires the same way: token input, embedding, encoder."""
from __future__ import annotations

import numpy as np

import keras

from zoo.embeddings import make_embedding_layer
from zoo.layers import PaddingMask, SequenceEncoder
from zoo.models.config import ModelConfig


def token_input(name: str = "token_ids") -> keras.KerasTensor:
    """Token ids (batch, time): int32, 0 is padding, padding on the right."""
    return keras.Input(shape=(None,), dtype="int32", name=name)


def make_embedding(config: ModelConfig, embedding_matrix=None) -> keras.layers.Embedding:
    """The token embedding in the config's mode (see `zoo.embeddings.make_embedding_layer`).

    `learned`: random initialisation, trained. `glove_frozen`: `embedding_matrix` as is, not
    trained. `glove_finetuned`: `embedding_matrix` as the initial value, trained. The matrix
    becomes the layer's weights (saved with them), not an initializer copied into the config.
    """
    expected = (config.vocabulary_size, config.embedding_dim)
    if config.embedding_mode != "learned" and embedding_matrix is None:
        raise ValueError(
            f"embedding_mode={config.embedding_mode!r} needs an embedding_matrix of shape {expected}; "
            f"see zoo.embeddings.build_embedding_matrix"
        )
    if embedding_matrix is not None and np.shape(embedding_matrix) != expected:
        raise ValueError(f"embedding_matrix has shape {np.shape(embedding_matrix)}, the config needs {expected}")
    source = config.vocabulary_size if config.embedding_mode == "learned" else embedding_matrix
    return make_embedding_layer(config.embedding_mode, source, config.embedding_dim, seed=config.seed)


def make_encoder(config: ModelConfig, name: str = "encoder") -> SequenceEncoder:
    return SequenceEncoder(**config.encoder.layer_kwargs(), seed=config.seed, name=name)


def embed_and_encode(token_ids, embedding, encoder, embedding_dropout):
    """ids -> (per-token encodings, pooled encoding), padding masked explicitly."""
    return encode(token_ids, embedding(token_ids), encoder, embedding_dropout)


def encode(token_ids, embedded, encoder, embedding_dropout):
    """Per-token vectors (batch, time, features) -> (per-token encodings, pooled encoding).

    The padding mask comes from `token_ids` (0 = padding), whatever `embedded` holds.
    """
    mask = PaddingMask(name=f"{token_ids.name}_mask")(token_ids)
    if embedding_dropout is not None:
        embedded = embedding_dropout(embedded)
    return encoder(embedded, mask=mask)


def embedding_dropout(config: ModelConfig):
    return keras.layers.Dropout(config.dropout, seed=config.seed, name="embedding_dropout") if config.dropout else None


def output_dropout(config: ModelConfig):
    return keras.layers.Dropout(config.dropout, seed=config.seed, name="output_dropout") if config.dropout else None


def finish(model: keras.Model, config: ModelConfig) -> keras.Model:
    # The config travels with the model object; recipes also save it as JSON beside the weights.
    model.zoo_config = config
    return model
