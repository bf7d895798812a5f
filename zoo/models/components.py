"""Pieces every model class wires the same way: token input, embedding, encoder, dropout."""
from __future__ import annotations

import numpy as np

import keras

from zoo.embeddings import make_embedding_layer
from zoo.layers import PaddingMask, PretrainedTailEmbedding, SequenceEncoder
from zoo.models.config import ModelConfig


def token_input(name: str = "token_ids") -> keras.KerasTensor:
    """Token ids (batch, time): int32, 0 is padding, padding on the right."""
    return keras.Input(shape=(None,), dtype="int32", name=name)


def make_embedding(config: ModelConfig) -> keras.layers.Layer:
    """The token embedding: uniform(-0.05, 0.05) to start with, frozen for `glove_frozen`; with
    `pretrained_rows`, a `PretrainedTailEmbedding` whose last rows never train.

    The GloVe modes get their matrix from the factory (`set_embedding_matrix`), after the model is
    built: it becomes the layer's weights (saved with them), never part of the config.
    """
    if config.pretrained_rows:
        embedding = PretrainedTailEmbedding(
            config.vocabulary_size, config.embedding_dim, config.pretrained_rows, name="embedding",
            embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=config.seed))
    else:
        embedding = make_embedding_layer("learned", config.vocabulary_size, config.embedding_dim, seed=config.seed)
    embedding.trainable = config.embedding_mode != "glove_frozen"
    return embedding


def input_projection_table(config: ModelConfig) -> keras.layers.Embedding:
    """The folded arrangement's table: each token's first-layer input projection `E W + b`
    (both directions side by side when bidirectional), looked up by id. Filled by
    `zoo.models.inference_model`."""
    width = 4 * config.encoder.output_dim  # four LSTM gates per unit and direction
    return keras.layers.Embedding(config.vocabulary_size, width, mask_zero=False, name="input_projection",
                                  trainable=False)


def set_embedding_matrix(model: keras.Model, config: ModelConfig, embedding_matrix) -> keras.Model:
    """Puts the pretrained matrix into the model's embedding (required for the GloVe modes)."""
    expected = (config.vocabulary_size, config.embedding_dim)
    if config.embedding_mode != "learned" and embedding_matrix is None:
        raise ValueError(
            f"embedding_mode={config.embedding_mode!r} needs an embedding_matrix of shape {expected}; "
            f"see zoo.embeddings.build_embedding_matrix")
    if embedding_matrix is None:
        return model
    if np.shape(embedding_matrix) != expected:
        raise ValueError(f"embedding_matrix has shape {np.shape(embedding_matrix)}, the config needs {expected}")
    embedding = model.get_layer("embedding")
    if isinstance(embedding, PretrainedTailEmbedding):
        embedding.set_matrix(embedding_matrix)
    else:
        embedding.embeddings.assign(np.asarray(embedding_matrix, dtype="float32"))
    return model


def make_encoder(config: ModelConfig, fold_input_projection: bool = False) -> SequenceEncoder:
    return SequenceEncoder(**config.encoder.layer_kwargs(), seed=config.seed,
                           projected_inputs=fold_input_projection, name="encoder")


class TokenFeatures:
    """Token ids -> the encoder's per-token inputs, and the padding mask; one instance per model,
    so that every sentence of a pair model shares its layers.

    Trained arrangement: embedding, then dropout. Folded arrangement (inference only, where
    dropout is the identity): the table of first-layer input projections.
    """

    def __init__(self, config: ModelConfig, fold_input_projection: bool = False):
        if fold_input_projection:
            self.lookup, self.dropout = input_projection_table(config), None
        else:
            self.lookup, self.dropout = make_embedding(config), embedding_dropout(config)

    def __call__(self, token_ids):
        features = self.lookup(token_ids)
        if self.dropout is not None:
            features = self.dropout(features)
        return features, padding_mask(token_ids)


def padding_mask(token_ids):
    """(batch, time) booleans, True on real tokens (ids other than padding)."""
    return PaddingMask(name=f"{token_ids.name}_mask")(token_ids)


def embedding_dropout(config: ModelConfig):
    return keras.layers.Dropout(config.dropout, seed=config.seed, name="embedding_dropout") if config.dropout else None


def output_dropout(config: ModelConfig):
    return keras.layers.Dropout(config.dropout, seed=config.seed, name="output_dropout") if config.dropout else None


__all__ = ["TokenFeatures", "make_embedding", "make_encoder", "output_dropout",
           "set_embedding_matrix", "token_input"]
