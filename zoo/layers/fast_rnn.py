"""A faster loop for the zoo's cells: the input projection `x W + b` hoisted out of the time loop.

`keras.layers.RNN` calls the cell once per step, so each step multiplies its own small
(batch, input_dim) slice by the input kernel. `HoistedRNN` is `keras.layers.RNN` with the same cell
and therefore the same weights (names, shapes, layout: a checkpoint runs on either layer), but it
computes `x W + b` for all steps in one large matrix product before the loop; each step then only
multiplies the previous state by the recurrent kernel. Gates are taken apart with `split` (one
concat in the gradient), not slices (each slice's gradient pads back to full width).

Measured (benchmarks/RESULTS.md) on a loaded 2-core CPU at batch 64, length 100, input 128,
hidden 256, this is NOT faster than `keras.layers.RNN` (about 0.85-0.9x of it in training): the
hoisted product moves a (time, batch, gates*units) tensor through the loop's TensorArrays both
ways, which costs what the smaller per-step products saved. It is kept as an opt-in path
(`implementation="hoisted"`), exact and tested, not chosen by "auto".

Everything else is Keras' own loop (`keras.src.backend.rnn`): masking, `go_backwards`,
`Bidirectional`, stacking, input and recurrent dropout, saving, all backends. Results equal
`keras.layers.RNN(cell)` up to float rounding (tests/layers/test_fast_rnn.py checks 1e-5).
"""
from __future__ import annotations

import keras
from keras import ops
from keras.src import backend, tree

from zoo.cells import ElmanCell, GatedElmanCell, GRUCell, LSTMCell


def _project(cell, inputs):
    """`x W + input bias` for a whole sequence (batch, time, gate_count * units)."""
    # One 2-D product (batch*time, input_dim) @ (input_dim, gates*units): a 3-D @ 2-D matmul
    # becomes a broadcast batched product in TensorFlow, whose kernel gradient is a sum of
    # per-example products.
    # `ops.add` with the bias, before reshaping: TensorFlow fuses it with the product (BiasAdd).
    shape = ops.shape(inputs)
    flat = ops.reshape(inputs, (-1, shape[-1]))
    bias = ops.convert_to_tensor(cell.bias)[0] if isinstance(cell, GRUCell) else cell.bias
    return ops.reshape(ops.add(ops.matmul(flat, cell.kernel), bias), (shape[0], shape[1], -1))


def time_major_inputs(cell, sequences, mask, training):
    """The layer's inputs with the cell's input dropout applied, and its mask, both time-major.

    Input dropout uses the same per-sequence mask the cell would apply at every step (prepared by
    `RNN.call` from the first step, as for Keras' own loop). Transposing the narrow inputs, not
    the wide projections, since the loops run time-major in any case.
    """
    inputs = sequences
    if training and cell.dropout > 0:
        inputs = inputs * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
    return ops.transpose(inputs, (1, 0, 2)), None if mask is None else ops.transpose(mask, (1, 0))


def _recurrent_state(cell, h_previous, training):
    if training and cell.recurrent_dropout > 0:
        return h_previous * cell.get_recurrent_dropout_mask(h_previous)
    return h_previous


def _elman_step(cell, projected, states, training):
    h_previous = states[0]
    h_dropped = _recurrent_state(cell, h_previous, training)
    h = ops.tanh(projected + ops.matmul(h_dropped, cell.recurrent_kernel))
    return h, [h]


def _gated_elman_step(cell, projected, states, training):
    h_previous = states[0]
    h_dropped = _recurrent_state(cell, h_previous, training)
    forget_input, candidate_input = ops.split(projected, 2, axis=-1)
    forget = ops.sigmoid(forget_input + ops.matmul(h_dropped, cell.recurrent_kernel))
    h = h_previous * forget + ops.tanh(candidate_input)
    return h, [h]


def _lstm_step(cell, projected, states, training):
    h_previous, c_previous = states
    h_dropped = _recurrent_state(cell, h_previous, training)
    z = projected + ops.matmul(h_dropped, cell.recurrent_kernel)
    # Keras' gate order i, f, g, o. `split` (its gradient is one concat), not slices (whose
    # gradients pad each slice back to full width).
    z_i, z_f, z_g, z_o = ops.split(z, 4, axis=-1)
    c = ops.sigmoid(z_f) * c_previous + ops.sigmoid(z_i) * ops.tanh(z_g)
    h = ops.sigmoid(z_o) * ops.tanh(c)
    return h, [h, c]


def _gru_step(cell, projected, states, training):
    h_previous = states[0]
    h_dropped = _recurrent_state(cell, h_previous, training)
    recurrent_bias = ops.convert_to_tensor(cell.bias)[1]
    h_projected = ops.add(ops.matmul(h_dropped, cell.recurrent_kernel), recurrent_bias)
    x_z, x_r, x_h = ops.split(projected, 3, axis=-1)
    h_z, h_r, h_h = ops.split(h_projected, 3, axis=-1)
    z = ops.sigmoid(x_z + h_z)
    r = ops.sigmoid(x_r + h_r)
    g = ops.tanh(x_h + r * h_h)
    h = z * h_previous + (1.0 - z) * g
    return h, [h]


STEPS = {
    ElmanCell: _elman_step,
    GatedElmanCell: _gated_elman_step,
    LSTMCell: _lstm_step,
    GRUCell: _gru_step,
}


def supports(cell) -> bool:
    """Whether `HoistedRNN` knows this cell's step (the zoo's four cells, exactly)."""
    return type(cell) in STEPS


@keras.saving.register_keras_serializable(package="zoo")
class HoistedRNN(keras.layers.RNN):
    """`keras.layers.RNN` over a zoo cell, with `x W + b` computed for all steps before the loop.

    Same constructor, config and weights as `keras.layers.RNN(cell, ...)`; the cell must be one of
    `zoo.cells` (exactly; a subclass may change `call`, so it is refused).

    Examples:
        >>> layer = HoistedRNN(zoo.cells.LSTMCell(64), return_sequences=True)
    """

    def __init__(self, cell, **kwargs):
        if not supports(cell):
            raise ValueError(
                f"HoistedRNN runs the zoo's cells {sorted(c.__name__ for c in STEPS)}, got "
                f"{type(cell).__name__}; use keras.layers.RNN for other cells"
            )
        super().__init__(cell, **kwargs)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        inputs, mask = time_major_inputs(cell, sequences, mask, training)
        projected = _project(cell, inputs)
        step_function = STEPS[type(cell)]

        def step(projected_t, states):
            output, new_states = step_function(cell, projected_t, states, training)
            return output, new_states

        if not tree.is_nested(initial_state):
            initial_state = [initial_state]
        last_output, outputs, states = backend.rnn(
            step,
            projected,
            initial_state,
            go_backwards=self.go_backwards,
            mask=mask,
            unroll=self.unroll,
            input_length=sequences.shape[1],
            time_major=True,
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )
        if self.return_sequences:
            outputs = ops.transpose(outputs, (1, 0, 2))
        return last_output, outputs, states


__all__ = ["HoistedRNN", "supports"]
