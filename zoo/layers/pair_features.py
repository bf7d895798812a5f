"""The sentence-pair features of Mou et al. (2016) / Conneau et al. (2017)."""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class PairFeatures(keras.layers.Layer):
    """`[u, v, |u - v|, u * v]` for two sentence encodings u and v of the same width."""

    def call(self, u, v):
        return ops.concatenate([u, v, ops.abs(u - v), u * v], axis=-1)

    def compute_output_shape(self, u_shape, v_shape=None):
        return (u_shape[0], 4 * u_shape[-1])
