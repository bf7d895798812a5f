"""The Elman network's recurrent step (simple RNN)."""
from __future__ import annotations

import keras
from keras import ops

from zoo.cells.base import RecurrentCell


@keras.saving.register_keras_serializable(package="zoo")
class ElmanCell(RecurrentCell):
    """One step of the Elman (simple) recurrent network.

        h_t = tanh(W x_t + V h_{t-1} + b_h)

    The output is `h_t`. The lecture's separate output layer `y_t = tanh(U h_t + b_y)` belongs to
    the model's head, not the cell. Weights match `keras.layers.SimpleRNNCell`: `kernel` = W
    (input_dim, units), `recurrent_kernel` = V (units, units), `bias` = b_h (units,), so weights
    copy across both ways.

    References:
        Elman, J. L. (1990). Finding structure in time. Cognitive Science 14(2), 179-211.

    Examples:
        >>> layer = keras.layers.RNN(zoo.cells.ElmanCell(8), return_sequences=True)
    """

    def build(self, input_shape):
        self.add_kernels(input_shape[-1])
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer=self.bias_initializer)

    def call(self, inputs, states, training=None):
        h_previous = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h_dropped = self.dropped_inputs(inputs, h_previous, training)
        h = ops.tanh(
            ops.add(ops.matmul(inputs, self.kernel), self.bias) + ops.matmul(h_dropped, self.recurrent_kernel)
        )
        return h, [h]
