"""The long short-term memory step."""
from __future__ import annotations

import keras
from keras import ops

from zoo.cells.base import RecurrentCell


@keras.saving.register_keras_serializable(package="zoo")
class LSTMCell(RecurrentCell):
    """One step of the LSTM.

        i_t = sigmoid(W_i x_t + V_i h_{t-1} + b_i)      input gate
        f_t = sigmoid(W_f x_t + V_f h_{t-1} + b_f)      forget gate (b_f starts at 1)
        g_t = tanh(W_g x_t + V_g h_{t-1} + b_g)         candidate
        o_t = sigmoid(W_o x_t + V_o h_{t-1} + b_o)      output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    The output is `h_t`; the states are `[h_t, c_t]`. Weights and gate order (i, f, c=g, o) match
    `keras.layers.LSTMCell`: `kernel` (input_dim, 4*units), `recurrent_kernel` (units, 4*units),
    `bias` (4*units,), so weights copy across both ways. The forget-gate bias starts at
    `forget_bias` (1.0, Jozefowicz et al. 2015) on top of `bias_initializer`.

    References:
        Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural Computation 9(8).
        Gers, F. A., Schmidhuber, J. & Cummins, F. (2000). Learning to forget.
        Jozefowicz, R., Zaremba, W. & Sutskever, I. (2015). An empirical exploration of recurrent
        network architectures. ICML.
    """

    gate_count = 4

    def __init__(self, units, forget_bias: float = 1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.forget_bias = float(forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def build(self, input_shape):
        self.add_kernels(input_shape[-1])

        def bias_initializer(shape, dtype=None):
            base = self.bias_initializer((4 * self.units,), dtype=dtype)
            forget_offset = ops.concatenate(
                [
                    ops.zeros((self.units,), dtype=dtype),
                    ops.full((self.units,), self.forget_bias, dtype=dtype),
                    ops.zeros((2 * self.units,), dtype=dtype),
                ]
            )
            return base + forget_offset

        self.bias = self.add_weight(shape=(4 * self.units,), name="bias", initializer=bias_initializer)

    def call(self, inputs, states, training=None):
        h_previous, c_previous = states
        inputs, h_dropped = self.dropped_inputs(inputs, h_previous, training)
        z = ops.add(ops.matmul(inputs, self.kernel), self.bias) + ops.matmul(h_dropped, self.recurrent_kernel)
        z_i, z_f, z_g, z_o = ops.split(z, 4, axis=-1)
        i = ops.sigmoid(z_i)
        f = ops.sigmoid(z_f)
        g = ops.tanh(z_g)
        o = ops.sigmoid(z_o)
        c = f * c_previous + i * g
        h = o * ops.tanh(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "forget_bias": self.forget_bias}
