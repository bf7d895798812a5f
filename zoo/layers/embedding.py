"""A token embedding whose last rows keep their pretrained values (an open vocabulary).

The vocabulary of a GloVe model is the training split's words, then pretrained words the training
split lacks (`TrainingConfig.pretrained_words`). Those last rows are never seen in training, so
they must not move when the training words are fine-tuned: they stay where the pretrained space
put them, beside the words fine-tuning moved only a little. They are a weight of their own,
non-trainable, so no optimizer holds slots for them and no update (weight decay included) can
reach them.
"""
from __future__ import annotations

import numpy as np

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class PretrainedTailEmbedding(keras.layers.Layer):
    """Ids -> vectors, like `keras.layers.Embedding`, from two tables: `trained_embeddings` for
    ids below `input_dim - frozen_rows` (trainable with the layer) and `frozen_embeddings` for the
    last `frozen_rows` ids (never trainable).

    Args:
        input_dim: vocabulary size, both tables together.
        output_dim: vector width.
        frozen_rows: how many of the last ids read the frozen table (at least 1, and at most
            `input_dim - 2`: padding and OOV are always trained rows).
        embeddings_initializer: the starting values of both tables (the GloVe modes then set
            them with `set_matrix`).
    """

    def __init__(self, input_dim: int, output_dim: int, frozen_rows: int,
                 embeddings_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        if not 1 <= frozen_rows <= input_dim - 2:
            raise ValueError(f"PretrainedTailEmbedding: frozen_rows must be between 1 and input_dim - 2 "
                             f"({input_dim - 2}), got {frozen_rows}")
        self.input_dim, self.output_dim, self.frozen_rows = input_dim, output_dim, frozen_rows
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.trained_rows = input_dim - frozen_rows

    def build(self, input_shape=None):
        self.trained_embeddings = self.add_weight(
            shape=(self.trained_rows, self.output_dim), initializer=self.embeddings_initializer,
            name="trained_embeddings")
        self.frozen_embeddings = self.add_weight(
            shape=(self.frozen_rows, self.output_dim), initializer=self.embeddings_initializer,
            name="frozen_embeddings", trainable=False)
        self.built = True

    def call(self, token_ids):
        token_ids = ops.cast(token_ids, "int32")
        trained = ops.take(self.trained_embeddings, ops.minimum(token_ids, self.trained_rows - 1), axis=0)
        frozen = ops.take(self.frozen_embeddings, ops.maximum(token_ids - self.trained_rows, 0), axis=0)
        return ops.where(ops.expand_dims(token_ids < self.trained_rows, -1), trained, frozen)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    @property
    def embeddings(self):
        """The whole (input_dim, output_dim) matrix, trained rows first (read-only)."""
        return ops.concatenate([self.trained_embeddings, self.frozen_embeddings], axis=0)

    def set_matrix(self, matrix) -> None:
        """Sets both tables from one (input_dim, output_dim) matrix."""
        matrix = np.asarray(matrix, dtype="float32")
        if matrix.shape != (self.input_dim, self.output_dim):
            raise ValueError(f"{self.name}: the matrix has shape {matrix.shape}, the layer needs "
                             f"{(self.input_dim, self.output_dim)}")
        if not self.built:
            self.build()
        self.trained_embeddings.assign(matrix[: self.trained_rows])
        self.frozen_embeddings.assign(matrix[self.trained_rows:])

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim, frozen_rows=self.frozen_rows,
                      embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer))
        return config


__all__ = ["PretrainedTailEmbedding"]
