"""Padding masks and masked pooling: how the zoo keeps padded positions out of every result.

Token ids are int32 with 0 as padding, always on the right. The zoo computes the mask from the ids
and passes it explicitly to each recurrent layer rather than relying on Keras' implicit mask
propagation (which Keras is phasing out for RNN and Bidirectional).
"""
from __future__ import annotations

import keras
from keras import ops

POOLINGS = ("final", "mean", "max")


@keras.saving.register_keras_serializable(package="zoo")
class PaddingMask(keras.layers.Layer):
    """Boolean mask `token_ids != 0`, shape (batch, time)."""

    def call(self, token_ids):
        return ops.not_equal(token_ids, 0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, token_ids):
        return keras.KerasTensor(token_ids.shape, dtype="bool")


@keras.saving.register_keras_serializable(package="zoo")
class MaskedPooling(keras.layers.Layer):
    """Pools per-token encodings (batch, time, features) into one vector per sequence.

    Only real tokens (mask True) count. Modes:
      - `final`: the state after the last real token. For a bidirectional encoder whose output is
        `[forward | backward]`, the forward half is taken at the last real token and the backward
        half at the first token (where the backward pass ends), i.e. the concatenation of both
        directions' final states, as in the lecture.
      - `mean`: average over real tokens.
      - `max`: element-wise maximum over real tokens.

    Args:
        mode: one of "final", "mean", "max".
        bidirectional: bool, whether the features are `[forward | backward]` halves.
    """

    def __init__(self, mode: str = "final", bidirectional: bool = False, **kwargs):
        if mode not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {mode!r}")
        super().__init__(**kwargs)
        # Accepts the recurrent layer's propagated mask quietly; the explicit `mask` argument is
        # what counts, and nothing is propagated further (the result has no time axis).
        self.supports_masking = True
        self.mode = mode
        self.bidirectional = bool(bidirectional)

    def call(self, sequences, mask):
        mask = ops.cast(mask, sequences.dtype)
        lengths = ops.sum(mask, axis=1)  # (batch,)
        if self.mode == "mean":
            total = ops.sum(sequences * mask[:, :, None], axis=1)
            return total / ops.maximum(lengths, 1.0)[:, None]
        if self.mode == "max":
            very_negative = ops.cast(-1e9, sequences.dtype)
            masked = ops.where(mask[:, :, None] > 0, sequences, very_negative)
            return ops.max(masked, axis=1)
        forward_final = at_last_real_step(sequences, lengths)
        if not self.bidirectional:
            return forward_final
        half = sequences.shape[-1] // 2
        return ops.concatenate([forward_final[:, :half], sequences[:, 0, half:]], axis=-1)

    def compute_mask(self, sequences, mask=None):
        return None

    def compute_output_shape(self, sequences_shape, mask_shape=None):
        return (sequences_shape[0], sequences_shape[-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "bidirectional": self.bidirectional}


def at_last_real_step(sequences, lengths):
    """Each row's value at its last real step, `sequences[b, lengths[b] - 1]` (batch, features);
    zeros for a row without real steps.

    A masked sum rather than a gather: the same value (adding zeros is exact), and its gradient
    is element-wise, where a gather's costs a transpose and a scatter of the whole sequence
    (measured: see benchmarks/RESULTS.md).
    """
    last = ops.cast(lengths, "int32") - 1
    is_last = ops.arange(ops.shape(sequences)[1], dtype="int32")[None, :] == last[:, None]
    return ops.sum(ops.where(is_last[:, :, None], sequences, ops.zeros_like(sequences)), axis=1)


def padding_lengths(mask):
    """Real tokens per row of a (batch, time) padding mask, as int32 (batch,)."""
    return ops.sum(ops.cast(mask, "int32"), axis=1)


def is_right_padded(mask, lengths=None) -> bool:
    """Whether every row of a concrete (batch, time) mask is real tokens, then padding only.

    Needs concrete values (eager execution): it returns a Python bool. `lengths`: the mask's
    `padding_lengths`, when the caller has them already.
    """
    lengths = padding_lengths(mask) if lengths is None else lengths
    positions = ops.arange(ops.shape(mask)[1], dtype="int32")
    right_padded = ops.less(ops.expand_dims(positions, 0), ops.expand_dims(lengths, 1))
    return bool(ops.all(ops.equal(ops.cast(mask, "bool"), right_padded)))


def reverse_within_lengths(sequence, lengths):
    """Reverses each row's first `lengths[b]` steps of (batch, time, dim), leaving padding in place.

    Its own inverse. Running a forward recurrence over it is running the masked recurrence
    backwards, as `tf.reverse_sequence` lets cuDNN do.
    """
    positions = ops.expand_dims(ops.arange(ops.shape(sequence)[1], dtype="int32"), 0)
    lengths = ops.expand_dims(ops.cast(lengths, "int32"), 1)
    source = ops.where(positions < lengths, lengths - 1 - positions, positions)
    return ops.take_along_axis(sequence, ops.expand_dims(source, -1), axis=1)
