"""A faster loop for the zoo's cells: the input projection `x W + b` hoisted out of the time loop.

`keras.layers.RNN` calls the cell once per step, so each step multiplies its own small
(batch, input_dim) slice by the input kernel. `HoistedRNN` is `keras.layers.RNN` with the same cell
and therefore the same weights (names, shapes, layout: a checkpoint runs on either layer), but it
computes `x W + b` for all steps in one large matrix product before the loop; each step then only
multiplies the previous state by the recurrent kernel. The gate arithmetic is fused where it is
exact (one sigmoid over the adjacent gates of the LSTM, one over z and r of the GRU).

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
    projected = ops.matmul(inputs, cell.kernel)
    if isinstance(cell, GRUCell):
        return projected + ops.convert_to_tensor(cell.bias)[0]
    return projected + cell.bias


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
    units = cell.units
    forget = ops.sigmoid(projected[:, :units] + ops.matmul(h_dropped, cell.recurrent_kernel))
    h = h_previous * forget + ops.tanh(projected[:, units:])
    return h, [h]


def _lstm_step(cell, projected, states, training):
    h_previous, c_previous = states
    h_dropped = _recurrent_state(cell, h_previous, training)
    units = cell.units
    z = projected + ops.matmul(h_dropped, cell.recurrent_kernel)
    # Keras' gate order i, f, g, o: one sigmoid for the adjacent i and f.
    input_forget = ops.sigmoid(z[:, : 2 * units])
    g = ops.tanh(z[:, 2 * units : 3 * units])
    o = ops.sigmoid(z[:, 3 * units :])
    c = input_forget[:, units:] * c_previous + input_forget[:, :units] * g
    h = o * ops.tanh(c)
    return h, [h, c]


def _gru_step(cell, projected, states, training):
    h_previous = states[0]
    h_dropped = _recurrent_state(cell, h_previous, training)
    units = cell.units
    recurrent_bias = ops.convert_to_tensor(cell.bias)[1]
    h_projected = ops.matmul(h_dropped, cell.recurrent_kernel) + recurrent_bias
    # Gate order z, r, h: one sigmoid for z and r.
    update_reset = ops.sigmoid(projected[:, : 2 * units] + h_projected[:, : 2 * units])
    z, r = update_reset[:, :units], update_reset[:, units:]
    g = ops.tanh(projected[:, 2 * units :] + r * h_projected[:, 2 * units :])
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
        inputs = sequences
        if training and cell.dropout > 0:
            # The same per-sequence mask the cell would apply at every step (prepared by
            # RNN.call from the first step, as for the reference loop).
            inputs = inputs * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        projected = _project(cell, inputs)
        step_function = STEPS[type(cell)]

        def step(projected_t, states):
            output, new_states = step_function(cell, projected_t, states, training)
            return output, new_states

        if not tree.is_nested(initial_state):
            initial_state = [initial_state]
        return backend.rnn(
            step,
            projected,
            initial_state,
            go_backwards=self.go_backwards,
            mask=mask,
            unroll=self.unroll,
            input_length=sequences.shape[1],
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )


__all__ = ["HoistedRNN", "supports"]
