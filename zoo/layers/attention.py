"""Attention: soft alignment between two sentences and ESIM's enhancement of the aligned pairs (Chen
et al. 2017), and a decoder's attention over its source (Luong et al. 2015; Bahdanau et al. 2015)."""
from __future__ import annotations

import keras
from keras import ops


def masked_softmax(scores, mask):
    """Softmax over the last axis of `scores`, counting only positions where `mask` is True.

    Masked positions get exactly zero weight, and a row whose mask is all False is all zeros
    (not NaN, not uniform). `mask` broadcasts against `scores`.
    """
    mask = ops.broadcast_to(ops.cast(mask, "bool"), ops.shape(scores))
    # The row's largest real score (its smallest score where none is real): finite in any dtype.
    lowest = ops.min(scores, axis=-1, keepdims=True)
    row_max = ops.stop_gradient(ops.max(ops.where(mask, scores, lowest), axis=-1, keepdims=True))
    # Only real positions are shifted and exponentiated, so every value stays finite (no -inf,
    # no NaN in a row of padding), and the masked ones are exactly 0 whatever their score.
    exponentials = ops.where(mask, ops.exp(ops.where(mask, scores - row_max, 0.0)), 0.0)
    total = ops.sum(exponentials, axis=-1, keepdims=True)
    return exponentials / ops.where(total > 0, total, ops.ones_like(total))


@keras.saving.register_keras_serializable(package="zoo")
class SoftAlignment(keras.layers.Layer):
    """Aligns two encoded sentences with each other by dot-product attention (ESIM's step 2).

    For per-token encodings `a` (batch, len_a, dim) and `b` (batch, len_b, dim):

        e_ij = a_i . b_j
        ã_i  = sum_j softmax_j(e_ij) b_j     (over the real tokens j of b)
        b̃_j  = sum_i softmax_i(e_ij) a_i     (over the real tokens i of a)

    Masking: a padded position gives and receives exactly zero attention weight. Each real row's
    weights sum to 1 over the other sentence's real tokens; the rows of padded positions are all
    zeros, so are their `ã` / `b̃`. Adding padding to either sentence changes no real row.

    Calling it returns `(ã, b̃)`, or `(ã, b̃, weights_a, weights_b)` with `return_attention=True`.
    `attention_weights(a, b, a_mask, b_mask)` gives the two weight matrices alone (for pictures
    of what a trained model aligns), without building another model.

    Args:
        return_attention: bool, also return the weights: `weights_a` (batch, len_a, len_b), row i
            the distribution of a_i over b's tokens, and `weights_b` (batch, len_b, len_a), row j
            the distribution of b_j over a's tokens.

    Examples:
        >>> alignment = zoo.layers.SoftAlignment()
        >>> a_aligned, b_aligned = alignment(a, b, a_mask=a_mask, b_mask=b_mask)
        >>> weights_a, weights_b = alignment.attention_weights(a, b, a_mask, b_mask)

    References:
        Chen, Zhu, Ling, Wei, Jiang & Inkpen (2017), Enhanced LSTM for Natural Language Inference.
    """

    def __init__(self, return_attention: bool = False, **kwargs):
        super().__init__(**kwargs)
        # The explicit `a_mask` / `b_mask` count; a mask Keras propagates is accepted quietly and
        # not passed on (the zoo passes masks explicitly).
        self.supports_masking = True
        self.return_attention = bool(return_attention)

    def attention_weights(self, a, b, a_mask=None, b_mask=None):
        """`(weights_a, weights_b)`: (batch, len_a, len_b) softmax over j, (batch, len_b, len_a)
        softmax over i, zero wherever either position is padding. Masks None: all tokens real."""
        a_mask = self._mask_or_ones(a, a_mask)
        b_mask = self._mask_or_ones(b, b_mask)
        scores = ops.matmul(a, ops.transpose(b, (0, 2, 1)))  # (batch, len_a, len_b)
        pairs = ops.logical_and(a_mask[:, :, None], b_mask[:, None, :])
        weights_a = masked_softmax(scores, pairs)
        weights_b = masked_softmax(ops.transpose(scores, (0, 2, 1)), ops.transpose(pairs, (0, 2, 1)))
        return weights_a, weights_b

    @staticmethod
    def _mask_or_ones(sequence, mask):
        if mask is None:
            return ops.ones(ops.shape(sequence)[:2], dtype="bool")
        return ops.cast(mask, "bool")

    def call(self, a, b, a_mask=None, b_mask=None):
        weights_a, weights_b = self.attention_weights(a, b, a_mask, b_mask)
        a_aligned = ops.matmul(weights_a, b)
        b_aligned = ops.matmul(weights_b, a)
        if self.return_attention:
            return a_aligned, b_aligned, weights_a, weights_b
        return a_aligned, b_aligned

    def compute_mask(self, a, b=None, a_mask=None, b_mask=None, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "return_attention": self.return_attention}


@keras.saving.register_keras_serializable(package="zoo")
class AlignmentEnhancement(keras.layers.Layer):
    """ESIM's enhancement of local inference: `[a, ã, a - ã, a * ã]` on the last axis.

    Zero where `a` and `ã` are zero (the padded positions, after `SoftAlignment`).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # accepts a propagated mask quietly and passes none on

    def compute_mask(self, sequence, aligned=None, mask=None):
        return None

    def call(self, sequence, aligned):
        return ops.concatenate([sequence, aligned, sequence - aligned, sequence * aligned], axis=-1)

    def compute_output_shape(self, sequence_shape, aligned_shape=None):
        return tuple(sequence_shape[:-1]) + (4 * sequence_shape[-1],)


@keras.saving.register_keras_serializable(package="zoo")
class DecoderAttention(keras.layers.Layer):
    """Each decoder state attends over the encoder's per-token outputs (the source's real tokens).

    For queries `s` (batch, len_t, query_dim), keys `h` (batch, len_s, key_dim) and the source mask:

        dot:      score_tj = s_t . h_j                          (Luong et al. 2015; equal widths)
        general:  score_tj = s_t W h_j                          (Luong et al. 2015)
        additive: score_tj = v . tanh(W s_t + U h_j)            (Bahdanau et al. 2015)
        alpha_tj = softmax_j(score_tj)   over the real source tokens j
        c_t      = sum_j alpha_tj h_j

    A padded source position receives exactly zero weight (`masked_softmax`), so padding the
    source changes nothing; each query is scored on its own, so padding the target changes no real
    row either. Calling it returns `(context, weights)`: (batch, len_t, key_dim) and
    (batch, len_t, len_s).

    Args:
        score: "dot", "general" or "additive".
        units: "additive" only: the width of `v` (and of `W s`, `U h`).
        seed: seed of the kernels' initialiser.
    """

    SCORES = ("dot", "general", "additive")

    def __init__(self, score: str = "general", units: int = 0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if score not in self.SCORES:
            raise ValueError(f"DecoderAttention.score must be one of {self.SCORES}, got {score!r}")
        if score == "additive" and (isinstance(units, bool) or not isinstance(units, int) or units <= 0):
            raise ValueError(f"DecoderAttention.units must be a positive integer with score='additive', got {units!r}")
        self.score, self.units, self.seed = score, int(units), seed
        self.supports_masking = True  # the source mask is passed explicitly; none is propagated

    def build(self, queries_shape, keys_shape=None, key_mask_shape=None):
        query_dim, key_dim = int(queries_shape[-1]), int(keys_shape[-1])
        initializer = keras.initializers.GlorotUniform(seed=self.seed)
        if self.score == "dot" and query_dim != key_dim:
            raise ValueError(f"DecoderAttention(score='dot') needs queries as wide as keys, got {query_dim} "
                             f"and {key_dim}; use score='general'")
        if self.score == "general":
            self.kernel = self.add_weight(name="kernel", shape=(query_dim, key_dim), initializer=initializer)
        if self.score == "additive":
            self.query_kernel = self.add_weight(name="query_kernel", shape=(query_dim, self.units),
                                                initializer=initializer)
            self.key_kernel = self.add_weight(name="key_kernel", shape=(key_dim, self.units), initializer=initializer)
            self.scale = self.add_weight(name="scale", shape=(self.units,), initializer=initializer)
        self.built = True

    def scores(self, queries, keys):
        """(batch, len_t, len_s) scores, before the softmax."""
        if self.score == "additive":
            hidden = ops.tanh(ops.expand_dims(ops.matmul(queries, self.query_kernel), 2)
                              + ops.expand_dims(ops.matmul(keys, self.key_kernel), 1))
            return ops.sum(hidden * self.scale, axis=-1)
        if self.score == "general":
            queries = ops.matmul(queries, self.kernel)
        return ops.matmul(queries, ops.transpose(keys, (0, 2, 1)))

    def call(self, queries, keys, key_mask=None):
        scores = self.scores(queries, keys)
        if key_mask is None:
            key_mask = ops.ones(ops.shape(keys)[:2], dtype="bool")
        weights = masked_softmax(scores, ops.expand_dims(ops.cast(key_mask, "bool"), 1))
        return ops.matmul(weights, keys), weights

    def compute_mask(self, queries, keys=None, key_mask=None, mask=None):
        return None

    def compute_output_shape(self, queries_shape, keys_shape=None, key_mask_shape=None):
        return (tuple(queries_shape[:-1]) + (keys_shape[-1],), tuple(queries_shape[:-1]) + (keys_shape[1],))

    def get_config(self):
        return {**super().get_config(), "score": self.score, "units": self.units, "seed": self.seed}


__all__ = ["AlignmentEnhancement", "DecoderAttention", "SoftAlignment", "masked_softmax"]
