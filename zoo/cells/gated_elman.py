"""The Elman step with a forget gate on the previous state."""
from __future__ import annotations

import keras
from keras import initializers, ops

from zoo.cells.base import RecurrentCell


@keras.saving.register_keras_serializable(package="zoo")
class GatedElmanCell(RecurrentCell):
    """One step of the forget-gated Elman network.

        f_t = sigmoid(W_xf x_t + W_hf h_{t-1} + b_f)
        h_t = h_{t-1} * f_t + tanh(W x_t + b)

    With `f_t = 1` the state is a running sum of a function of the inputs, so the gradient reaches
    the first input undiminished; the gate learns how much of the past to forget. The output is
    `h_t`.

    Weights: `kernel` (input_dim, 2*units) = [W_xf | W], `recurrent_kernel` (units, units) = W_hf,
    `bias` (2*units,) = [b_f | b]. `forget_bias` is the initial value of b_f (1.0, as for the LSTM,
    so the cell starts by remembering).

    References:
        Elman, J. L. (1990). Finding structure in time. Cognitive Science 14(2), 179-211.
        Gers, F. A., Schmidhuber, J. & Cummins, F. (2000). Learning to forget: continual prediction
        with LSTM. Neural Computation 12(10), 2451-2471.

    Args:
        forget_bias: float, initial value of the forget gate's bias b_f.
        (others as `zoo.cells.RecurrentCell`.)
    """

    gate_count = 2

    def __init__(self, units, forget_bias: float = 1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.forget_bias = float(forget_bias)

    def build(self, input_shape):
        self.add_kernels(input_shape[-1], recurrent_blocks=1)

        def bias_initializer(shape, dtype=None):
            forget = ops.full((self.units,), self.forget_bias, dtype=dtype)
            candidate = self.bias_initializer((self.units,), dtype=dtype)
            return ops.concatenate([forget, candidate])

        self.bias = self.add_weight(shape=(2 * self.units,), name="bias", initializer=bias_initializer)

    def call(self, inputs, states, training=None):
        h_previous = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h_dropped = self.dropped_inputs(inputs, h_previous, training)
        projected = ops.add(ops.matmul(inputs, self.kernel), self.bias)
        forget_input, candidate_input = ops.split(projected, 2, axis=-1)
        forget = ops.sigmoid(forget_input + ops.matmul(h_dropped, self.recurrent_kernel))
        h = h_previous * forget + ops.tanh(candidate_input)
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "forget_bias": self.forget_bias}
