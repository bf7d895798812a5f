"""What every zoo cell shares: Keras' cell contract, initialisers, dropout and serialization.

A cell computes ONE step, `call(x_t, states) -> (output, new_states)`; `keras.layers.RNN` runs the
loop, and with it come masking, `go_backwards`, stacking, `Bidirectional` and saving.
"""
from __future__ import annotations

import numbers

import keras
from keras import initializers, ops

# Keras' RNN layer resets and caches per-sequence dropout masks only for cells that are instances
# of this mixin (an `isinstance` check in `keras.layers.RNN`), so our cells must inherit from it.
# It is not exported under the public `keras.*` namespace, hence the `keras.src` import.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from zoo.validation import check_rate


class RecurrentCell(keras.layers.Layer, DropoutRNNCell):
    """Base class: holds units, initialisers and variational dropout for one-step cells.

    Subclasses set `gate_count` (how many `units`-wide blocks the fused kernels hold) and implement
    `build` and `call`. Dropout is variational (Gal & Ghahramani 2016): one mask per sequence, reused
    at every step, as in Keras' own cells.

    Args:
        units: int, width of the hidden state.
        kernel_initializer: initializer of the input kernel `W` (Glorot-uniform by default).
        recurrent_initializer: initializer of the recurrent kernel `V` (orthogonal by default).
        bias_initializer: initializer of the biases (zeros by default).
        dropout: float in [0, 1), dropout on the step input `x_t`.
        recurrent_dropout: float in [0, 1), dropout on the previous state `h_{t-1}`.
        seed: int or None, seed of the dropout masks.
    """

    gate_count = 1

    def __init__(
        self,
        units: int,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        if not isinstance(units, numbers.Integral) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer, got {units!r}")
        super().__init__(**kwargs)
        self.units = int(units)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.dropout = check_rate(type(self).__name__, "dropout", dropout)
        self.recurrent_dropout = check_rate(type(self).__name__, "recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def add_kernels(self, input_dim: int, recurrent_blocks: int | None = None):
        """Creates `kernel` (input_dim, k*units) and `recurrent_kernel` (units, r*units)."""
        recurrent_blocks = self.gate_count if recurrent_blocks is None else recurrent_blocks
        self.kernel = self.add_weight(
            shape=(input_dim, self.gate_count * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, recurrent_blocks * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
        )

    def dropped_inputs(self, inputs, previous_state, training):
        """Applies this sequence's dropout masks to `x_t` and `h_{t-1}` while training."""
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            previous_state = previous_state * self.get_recurrent_dropout_mask(previous_state)
        return inputs, previous_state

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config
