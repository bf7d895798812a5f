"""TensorFlow kernels of `zoo.layers.FusedLSTM`: a whole-sequence LSTM with a hand-written gradient.

TensorFlow only (it uses `tf.while_loop` and `tf.custom_gradient`); `zoo.layers.fused_lstm` calls
it on the TensorFlow backend and falls back to Keras' generic loop elsewhere.

Why it is faster than differentiating the step loop automatically (measured in
`benchmarks/rnn_throughput.py`, see `benchmarks/RESULTS.md`):
- Forward: `x W + b` for all steps is one large matrix product before the loop; each step then
  multiplies only `h_{t-1} V` (V: the recurrent kernel).
- Backward: each step does the one product on the critical path, `dz_t V^T`, and a few element-wise
  operations whose gate derivatives (sigmoid'(.), tanh'(.), the products with c_{t-1}, g, i, ...)
  were computed for all steps at once, vectorised, before the loop. The weight gradients
  `dV = H_prev^T dZ`, `dW = X^T dZ`, `db = sum dZ` and `dX = dZ W^T` are four large products after
  the loop instead of 3 small products and an accumulation per step.

Notation (Keras' gate order i, f, g, o; `m_t` is 1 on real tokens and 0 on padding):
    z_t = x_t W + h_{t-1} V + b;  i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g)
    c_t = m_t (f c_{t-1} + i g) + (1 - m_t) c_{t-1}
    h_t = m_t (o tanh(c_t)) + (1 - m_t) h_{t-1}
so a padded step carries the state through unchanged, as `keras.layers.RNN` does.
"""
from __future__ import annotations

import tensorflow as tf


def _zeros_before(first, rest):
    """`[first, rest[0], ..., rest[T-2]]`: the value each step started from (time-major)."""
    return tf.concat([first[tf.newaxis], rest[:-1]], axis=0)


def lstm_sequence(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias, mask=None,
                  recurrent_mask=None, zero_output_for_mask=False):
    """Runs the LSTM over a time-major sequence, differentiable with the hand-written gradient.

    Args:
        inputs: (time, batch, input_dim).
        initial_h, initial_c: (batch, units).
        kernel: (input_dim, 4 units); recurrent_kernel: (units, 4 units); bias: (4 units,).
        mask: `None` or (time, batch) booleans, True on real steps.
        recurrent_mask: `None` or (batch, units): variational dropout on `h_{t-1}` (the same mask
            at every step, as the zoo's cells apply it).
        zero_output_for_mask: padded steps output zeros instead of the carried state.

    Returns:
        `(outputs, h, c)`: outputs (time, batch, units), the final carried states (batch, units).
    """
    dtype = inputs.dtype
    step_mask = None if mask is None else tf.cast(mask, dtype)[:, :, tf.newaxis]  # (T, B, 1)

    @tf.custom_gradient
    def run(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias):
        steps, batch = tf.shape(inputs)[0], tf.shape(inputs)[1]
        input_dim, units = tf.shape(inputs)[2], tf.shape(recurrent_kernel)[0]
        flat_inputs = tf.reshape(inputs, [-1, input_dim])
        projected = tf.reshape(tf.matmul(flat_inputs, kernel) + bias, [steps, batch, 4 * units])
        projected_steps = tf.TensorArray(dtype, size=steps).unstack(projected)
        # Read by the forward and the backward loop alike.
        masks = None if step_mask is None else tf.TensorArray(
            dtype, size=steps, clear_after_read=False).unstack(step_mask)

        def step(t, h, c, gates_out, c_out, h_out):
            h_in = h if recurrent_mask is None else h * recurrent_mask
            z = projected_steps.read(t) + tf.matmul(h_in, recurrent_kernel)
            z_i, z_f, z_g, z_o = tf.split(z, 4, axis=1)
            i, f, o, g = tf.sigmoid(z_i), tf.sigmoid(z_f), tf.sigmoid(z_o), tf.tanh(z_g)
            c_new = f * c + i * g
            h_new = o * tf.tanh(c_new)
            if masks is not None:
                m = masks.read(t)
                c_new = c + m * (c_new - c)
                h_new = h + m * (h_new - h)
            return (t + 1, h_new, c_new, gates_out.write(t, tf.concat([i, f, g, o], axis=1)),
                    c_out.write(t, c_new), h_out.write(t, h_new))

        arrays = [tf.TensorArray(dtype, size=steps) for _ in range(3)]
        _, h, c, gates_out, c_out, h_out = tf.while_loop(
            lambda t, *_: t < steps, step, (0, initial_h, initial_c, *arrays))
        gates, cs, hs = gates_out.stack(), c_out.stack(), h_out.stack()
        outputs = hs if not (zero_output_for_mask and step_mask is not None) else hs * step_mask

        def gradient(d_outputs, d_h, d_c):
            # Everything that does not depend on the incoming gradient, for all steps at once.
            i, f, g, o = tf.split(gates, 4, axis=2)
            tanh_c = tf.tanh(cs)
            c_before = _zeros_before(initial_c, cs)
            h_before = _zeros_before(initial_h, hs)
            d_c_from_h = o * (1.0 - tanh_c * tanh_c)            # dc_t / dh_t
            d_z_o = tanh_c * o * (1.0 - o)                       # dz_o / dh_t
            if step_mask is not None:
                d_c_from_h *= step_mask
                d_z_o *= step_mask
                if zero_output_for_mask:
                    d_outputs = d_outputs * step_mask
            # dz = [dc, dc, dc, dh] * local: the local derivative of each gate's pre-activation.
            local = tf.concat([g * i * (1.0 - i), c_before * f * (1.0 - f), i * (1.0 - g * g), d_z_o], axis=2)
            read = lambda values: tf.TensorArray(dtype, size=steps).unstack(values)  # noqa: E731
            d_out_steps, d_c_h_steps, local_steps, forget_steps = (
                read(d_outputs), read(d_c_from_h), read(local), read(f))
            recurrent_t = tf.transpose(recurrent_kernel)

            def back(t, dh, dc, dz_out):
                dh = dh + d_out_steps.read(t)
                if masks is None:
                    dc_new = dc + dh * d_c_h_steps.read(t)
                else:
                    m = masks.read(t)
                    dc_new = m * dc + dh * d_c_h_steps.read(t)
                dz = tf.concat([dc_new, dc_new, dc_new, dh], axis=1) * local_steps.read(t)
                dh_before = tf.matmul(dz, recurrent_t)
                if recurrent_mask is not None:
                    dh_before *= recurrent_mask
                dc_before = dc_new * forget_steps.read(t)
                if masks is not None:
                    dh_before += (1.0 - m) * dh
                    dc_before += (1.0 - m) * dc
                return t - 1, dh_before, dc_before, dz_out.write(t, dz)

            _, d_h0, d_c0, dz_out = tf.while_loop(
                lambda t, *_: t >= 0, back, (steps - 1, d_h, d_c, tf.TensorArray(dtype, size=steps)))
            dz = tf.reshape(dz_out.stack(), [-1, 4 * units])
            if recurrent_mask is not None:
                h_before = h_before * recurrent_mask
            d_recurrent = tf.matmul(tf.reshape(h_before, [-1, units]), dz, transpose_a=True)
            d_kernel = tf.matmul(flat_inputs, dz, transpose_a=True)
            d_bias = tf.reduce_sum(dz, axis=0)
            d_inputs = tf.reshape(tf.matmul(dz, kernel, transpose_b=True), [steps, batch, input_dim])
            return d_inputs, d_h0, d_c0, d_kernel, d_recurrent, d_bias

        return (outputs, h, c), gradient

    # Plain tensors in: a custom gradient over variables would need their gradient by name.
    return run(*(tf.convert_to_tensor(value) for value in
                 (inputs, initial_h, initial_c, kernel, recurrent_kernel, bias)))


def lstm_sequence_inference(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias, mask=None,
                            zero_output_for_mask=False, return_sequences=True):
    """The forward pass of `lstm_sequence` alone: nothing stored for a backward pass.

    Differentiable by TensorFlow's own loop gradient (slower, but correct), so gradients taken in
    inference mode (e.g. `zoo.analysis`) still work. Same arguments and results as
    `lstm_sequence`, except that `outputs` is `None` unless `return_sequences`.
    """
    dtype = inputs.dtype
    steps, batch = tf.shape(inputs)[0], tf.shape(inputs)[1]
    units = tf.shape(recurrent_kernel)[0]
    projected = tf.reshape(tf.matmul(tf.reshape(inputs, [-1, tf.shape(inputs)[2]]), kernel) + bias,
                           [steps, batch, 4 * units])
    projected_steps = tf.TensorArray(dtype, size=steps).unstack(projected)
    masks = None if mask is None else tf.TensorArray(dtype, size=steps).unstack(
        tf.cast(mask, dtype)[:, :, tf.newaxis])

    def step(t, h, c, h_out):
        z = projected_steps.read(t) + tf.matmul(h, recurrent_kernel)
        z_i, z_f, z_g, z_o = tf.split(z, 4, axis=1)
        c_new = tf.sigmoid(z_f) * c + tf.sigmoid(z_i) * tf.tanh(z_g)
        h_new = tf.sigmoid(z_o) * tf.tanh(c_new)
        output = h_new
        if masks is not None:
            m = masks.read(t)
            c_new = c + m * (c_new - c)
            h_new = h + m * (h_new - h)
            output = output * m if zero_output_for_mask else h_new
        if return_sequences:
            h_out = h_out.write(t, output)
        return t + 1, h_new, c_new, h_out

    _, h, c, h_out = tf.while_loop(
        lambda t, *_: t < steps, step,
        (0, initial_h, initial_c, tf.TensorArray(dtype, size=steps if return_sequences else 0)))
    return (h_out.stack() if return_sequences else None), h, c
