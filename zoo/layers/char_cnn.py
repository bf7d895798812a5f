"""Character-level word features: a char-CNN with max pooling over each word's real characters.

    e_{w,j} = CharEmbedding(c_{w,j})                 (0 for padding characters)
    h_{w,j} = tanh(W [e_{w,j-k'} ; ... ; e_{w,j+k'}] + b)   (Conv1D, "same" padding)
    f_w     = max_j h_{w,j} over the real characters j of word w   (0 for a word of no characters)

Ma & Hovy (2016), End-to-end Sequence Labeling via Bi-directional LSTM-CNNs-CRF (ACL).

Padding characters (id 0) are embedded as zeros, exactly like the convolution's own zero padding,
so a word's features do not depend on how wide the batch's character axis is: a padded batch
gives each word what it gets alone.
"""
from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class CharCNN(keras.layers.Layer):
    """Char ids (batch, time, chars) -> word features (batch, time, filters).

    Char id 0 is padding (right of each word's characters); a word of padding only (a padded
    time step, or a token with no characters) gets a zero vector. Words are cut to their first
    `max_word_chars` characters.

    Args:
        vocabulary_size: int, number of character ids (padding 0 and OOV 1 included).
        embedding_dim: int, width of the character embeddings.
        filters: int, convolution filters (the output width).
        kernel_size: int, characters per convolution window.
        max_word_chars: int or None, characters read per word (None: all).
        seed: int or None, seed of the initialisers.

    Examples:
        >>> layer = zoo.layers.char_cnn.CharCNN(vocabulary_size=10, embedding_dim=4, filters=3)
        >>> layer(np.array([[[2, 3, 0], [0, 0, 0]]])).shape
        (1, 2, 3)
    """

    def __init__(self, vocabulary_size: int, embedding_dim: int, filters: int,
                 kernel_size: int = 3, max_word_chars: int | None = None, seed: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.max_word_chars = None if max_word_chars is None else int(max_word_chars)
        self.seed = seed
        # Uniform in [-sqrt(3/d), sqrt(3/d)], as Ma & Hovy initialise character embeddings.
        scale = math.sqrt(3.0 / self.embedding_dim)
        self.embedding = keras.layers.Embedding(
            self.vocabulary_size, self.embedding_dim, name="char_embedding",
            embeddings_initializer=keras.initializers.RandomUniform(-scale, scale, seed=seed))
        self.convolution = keras.layers.Conv1D(
            self.filters, self.kernel_size, padding="same", activation="tanh",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed), name="char_convolution")

    def build(self, input_shape):
        _check_rank(input_shape)
        self.embedding.build((None, None))
        self.convolution.build((None, None, self.embedding_dim))
        self.built = True

    def call(self, char_ids, token_ids=None):
        """`token_ids` (batch, time), if given, is only checked against the char ids' shape."""
        _check_rank(char_ids.shape)
        if token_ids is not None:
            _check_aligned(char_ids.shape, token_ids.shape)
        char_ids = ops.cast(char_ids, "int32")
        if self.max_word_chars is not None:
            char_ids = char_ids[:, :, : self.max_word_chars]
        shape = ops.shape(char_ids)
        words = ops.reshape(char_ids, (-1, shape[2]))              # (batch * time, chars)
        real = ops.not_equal(words, 0)
        embedded = self.embedding(words) * ops.cast(real, self.compute_dtype)[:, :, None]
        features = self.convolution(embedded)                       # (batch * time, chars, filters)
        very_negative = ops.cast(-1e9 if self.compute_dtype != "float16" else -6e4, features.dtype)
        pooled = ops.max(ops.where(real[:, :, None], features, very_negative), axis=1)
        has_chars = ops.any(real, axis=1)
        pooled = ops.where(has_chars[:, None], pooled, ops.zeros_like(pooled))
        return ops.reshape(pooled, (shape[0], shape[1], self.filters))

    def compute_output_shape(self, char_ids_shape, token_ids_shape=None):
        _check_rank(char_ids_shape)
        return (char_ids_shape[0], char_ids_shape[1], self.filters)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim, "filters": self.filters,
                "kernel_size": self.kernel_size, "max_word_chars": self.max_word_chars,
                "seed": self.seed}


def _check_rank(shape) -> None:
    if len(shape) != 3:
        raise ValueError(
            f"char ids must have shape (batch, time, chars) (one row of character ids per token, "
            f"0 = padding), got shape {tuple(shape)}")


def _check_aligned(char_shape, token_shape) -> None:
    """Batch and time of the char ids must be those of the token ids (where both are known)."""
    for axis, what in ((0, "batch"), (1, "time")):
        chars, tokens = char_shape[axis], token_shape[axis]
        if chars is not None and tokens is not None and chars != tokens:
            raise ValueError(
                f"char ids of shape {tuple(char_shape)} do not match token ids of shape "
                f"{tuple(token_shape)}: the {what} axes differ ({chars} != {tokens}); char ids "
                f"need one row of characters per token")
