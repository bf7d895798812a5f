"""Pieces every factory wires the same way: token input, embedding, encoder."""
from __future__ import annotations

import numpy as np

import keras

from zoo.layers import PaddingMask, SequenceEncoder
from zoo.models.config import ModelConfig


def token_input(name: str = "token_ids") -> keras.KerasTensor:
    """Token ids (batch, time): int32, 0 is padding, padding on the right."""
    return keras.Input(shape=(None,), dtype="int32", name=name)


def make_embedding(config: ModelConfig, embedding_matrix=None) -> keras.layers.Embedding:
    """The token embedding in the config's mode.

    `learned`: random initialisation, trained. `glove_frozen`: `embedding_matrix` as is, not
    trained. `glove_finetuned`: `embedding_matrix` as the initial value, trained. The matrix is
    assigned after the layer is built (see `assign_embedding_matrix`) rather than passed as a
    `Constant` initializer, which would copy the whole matrix into the saved config.
    """
    if config.embedding_mode != "learned" and embedding_matrix is None:
        raise ValueError(
            f"embedding_mode={config.embedding_mode!r} needs an embedding_matrix "
            f"(shape ({config.vocabulary_size}, {config.embedding_dim})); see zoo.embeddings"
        )
    return keras.layers.Embedding(
        config.vocabulary_size,
        config.embedding_dim,
        embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=config.seed),
        trainable=config.embedding_mode != "glove_frozen",
        name="embedding",
    )


def assign_embedding_matrix(layer: keras.layers.Embedding, config: ModelConfig, matrix) -> None:
    if matrix is None:
        return
    matrix = np.asarray(matrix, dtype="float32")
    expected = (config.vocabulary_size, config.embedding_dim)
    if matrix.shape != expected:
        raise ValueError(f"embedding_matrix has shape {matrix.shape}, the config needs {expected}")
    layer.embeddings.assign(matrix)


def make_encoder(config: ModelConfig, name: str = "encoder") -> SequenceEncoder:
    return SequenceEncoder(**config.encoder.layer_kwargs(), seed=config.seed, name=name)


def embed_and_encode(config: ModelConfig, token_ids, embedding, encoder, embedding_dropout):
    """ids -> (per-token encodings, pooled encoding), padding masked explicitly."""
    mask = PaddingMask(name=f"{token_ids.name}_mask" if hasattr(token_ids, "name") else None)(token_ids)
    embedded = embedding(token_ids)
    if embedding_dropout is not None:
        embedded = embedding_dropout(embedded)
    return encoder(embedded, mask=mask)


def embedding_dropout(config: ModelConfig):
    return keras.layers.Dropout(config.dropout, seed=config.seed, name="embedding_dropout") if config.dropout else None


def output_dropout(config: ModelConfig):
    return keras.layers.Dropout(config.dropout, seed=config.seed, name="output_dropout") if config.dropout else None


def finish(model: keras.Model, config: ModelConfig, embedding, embedding_matrix) -> keras.Model:
    assign_embedding_matrix(embedding, config, embedding_matrix)
    # The config travels with the model object; recipes also save it as JSON beside the weights.
    model.zoo_config = config
    return model
