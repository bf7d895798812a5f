"""The gated recurrent unit step, in Keras' reset-after form."""
from __future__ import annotations

import keras
from keras import ops

from zoo.cells.base import RecurrentCell


@keras.saving.register_keras_serializable(package="zoo")
class GRUCell(RecurrentCell):
    """One step of the GRU, reset gate applied after the recurrent product (cuDNN's form).

        z_t = sigmoid(W_z x_t + b_z + V_z h_{t-1} + c_z)               update gate
        r_t = sigmoid(W_r x_t + b_r + V_r h_{t-1} + c_r)               reset gate
        g_t = tanh(W_h x_t + b_h + r_t * (V_h h_{t-1} + c_h))          candidate
        h_t = z_t * h_{t-1} + (1 - z_t) * g_t

    The output is `h_t`. Weights and gate order (z, r, h) match `keras.layers.GRUCell` with
    `reset_after=True`: `kernel` (input_dim, 3*units), `recurrent_kernel` (units, 3*units) and
    `bias` (2, 3*units) whose row 0 holds the input biases b and row 1 the recurrent biases c.

    References:
        Cho, K. et al. (2014). Learning phrase representations using RNN encoder-decoder for
        statistical machine translation. EMNLP.
        Chung, J. et al. (2014). Empirical evaluation of gated recurrent neural networks on
        sequence modeling. arXiv:1412.3555.
    """

    gate_count = 3

    def build(self, input_shape):
        self.add_kernels(input_shape[-1])
        self.bias = self.add_weight(
            shape=(2, 3 * self.units), name="bias", initializer=self.bias_initializer
        )

    def call(self, inputs, states, training=None):
        h_previous = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h_dropped = self.dropped_inputs(inputs, h_previous, training)
        # convert first: Keras' jax `unstack` hands the Variable itself to `lax.index_in_dim`,
        # which recent jax refuses ("Triggering __jax_array__() ... no longer supported").
        input_bias, recurrent_bias = ops.unstack(ops.convert_to_tensor(self.bias), 2, axis=0)
        x_z, x_r, x_h = ops.split(ops.add(ops.matmul(inputs, self.kernel), input_bias), 3, axis=-1)
        h_z, h_r, h_h = ops.split(
            ops.add(ops.matmul(h_dropped, self.recurrent_kernel), recurrent_bias), 3, axis=-1
        )
        z = ops.sigmoid(x_z + h_z)
        r = ops.sigmoid(x_r + h_r)
        g = ops.tanh(x_h + r * h_h)
        h = z * h_previous + (1.0 - z) * g
        return h, [h]
