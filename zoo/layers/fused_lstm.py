"""`FusedLSTM`: the zoo's fastest LSTM path on a CPU, with the weights of every other LSTM path.

`FusedLSTM` is `keras.layers.RNN` over `zoo.cells.LSTMCell`, so it has the same constructor,
config and weights (names, shapes, gate order) as `keras.layers.RNN(LSTMCell(...))` and as
Keras' own `keras.layers.LSTM`: a checkpoint runs on any path. On the TensorFlow backend it runs
the whole sequence in `zoo.layers.fused_lstm_tf`:
- training: a forward loop that keeps the gates, and a hand-written backward loop that does one
  small matrix product per step and the weight gradients as four large products after the loop;
- inference: a forward loop that keeps nothing.
A sequence of known length runs in time chunks, so that the large products of one chunk overlap
the loop of the next (`fused_lstm_tf.chunk_sizes`).
Masking (state carried through padded steps), `go_backwards`, `Bidirectional`, initial states,
input dropout and variational recurrent dropout behave as in `keras.layers.RNN`, and the results
equal it to float rounding (tests/layers/test_fused_lstm.py checks outputs and gradients to 1e-5).

Over `ProjectedLSTMCell` (inference only), the layer's inputs are already the input projections
`x W + b`: see `ProjectedLSTMCell`. `zoo.layers.SequenceEncoder.folded` makes such a layer.

On other backends, and with `unroll=True` or a stateful layer, it runs Keras' generic loop with the
same cell: always correct, never faster. Measured speed: `benchmarks/rnn_throughput.py`.
"""
from __future__ import annotations

import keras
from keras import ops

from zoo.cells import LSTMCell


def fused_kernel_available() -> bool:
    """Whether `FusedLSTM` can run its fused TensorFlow kernels (the TensorFlow backend)."""
    return keras.backend.backend() == "tensorflow"


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


@keras.saving.register_keras_serializable(package="zoo")
class ProjectedLSTMCell(LSTMCell):
    """`zoo.cells.LSTMCell` whose step input is already its input projection `x_t W + b`.

        z_t = p_t + V h_{t-1}        (p_t = W x_t + b, computed beforehand: a frozen table)

    then the LSTM's gates as in `LSTMCell`. It holds the recurrent kernel `V` only. The inputs
    are (batch, time, 4 units), or (batch, time, 8 units) for both directions of a bidirectional
    layer side by side, `[forward | backward]`: a layer that runs forwards reads the first half, one
    that runs backwards (`go_backwards`) the second. Inference only: no input dropout.
    """

    def build(self, input_shape):
        width = input_shape[-1]
        if width not in (4 * self.units, 8 * self.units):
            raise ValueError(
                f"ProjectedLSTMCell({self.units}) takes input projections of width {4 * self.units} "
                f"(or {8 * self.units}, both directions), got width {width}")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 4 * self.units), name="recurrent_kernel",
            initializer=self.recurrent_initializer)

    def columns(self, width: int, go_backwards: bool) -> tuple[int, int]:
        """Where this direction's projections lie on the last axis of inputs `width` wide."""
        start = 4 * self.units if go_backwards and width == 8 * self.units else 0
        return start, start + 4 * self.units

    def call(self, inputs, states, training=None):
        """One step from (batch, 4 units) projections (the fused kernel reads them itself)."""
        h_previous, c_previous = states
        z_i, z_f, z_g, z_o = ops.split(inputs + ops.matmul(h_previous, self.recurrent_kernel), 4, axis=-1)
        c = ops.sigmoid(z_f) * c_previous + ops.sigmoid(z_i) * ops.tanh(z_g)
        h = ops.sigmoid(z_o) * ops.tanh(c)
        return h, [h, c]


@keras.saving.register_keras_serializable(package="zoo")
class FusedLSTM(keras.layers.RNN):
    """`keras.layers.RNN(zoo.cells.LSTMCell(...))` with a fused whole-sequence kernel.

    Over a `ProjectedLSTMCell`, the inputs are the input projections (inference only, TensorFlow
    backend only).

    Examples:
        >>> layer = FusedLSTM(zoo.cells.LSTMCell(64), return_sequences=True)
    """

    def __init__(self, cell, batch_halves: bool = False, **kwargs):
        if type(cell) not in (LSTMCell, ProjectedLSTMCell):
            raise ValueError(
                f"FusedLSTM runs zoo.cells.LSTMCell exactly, got {type(cell).__name__}; use "
                "keras.layers.RNN for other cells"
            )
        super().__init__(cell, **kwargs)
        if self.projected_inputs and not self.runs_fused_kernel:
            raise ValueError(
                "FusedLSTM over ProjectedLSTMCell (inputs already projected) needs the fused "
                f"kernel: the TensorFlow backend (this is {keras.backend.backend()!r}), no unroll, "
                "not stateful")
        # XLA-compile the loops: True, False, or "auto": only where the (time, batch) shape is
        # fixed when the graph is traced. XLA compiles once per shape (seconds each on a small
        # CPU), which pays off for fixed-width batches (a character LM, a benchmark) but not for
        # bucketed ones, whose graphs Keras traces with unknown widths. Not a config field: a
        # runtime choice, the weights are the same. A served graph, traced for any shape, runs
        # its loops without XLA.
        self.xla_loops = "auto"
        # Inputs already projected, and nothing runs beside this layer's loop (it is not one
        # direction of a bidirectional layer): run two half-batch loops at once, one per core
        # (`fused_lstm_tf.lstm_sequence_projected`).
        self.batch_halves = bool(batch_halves)

    def get_config(self):
        return {**super().get_config(), "batch_halves": self.batch_halves}

    @property
    def projected_inputs(self) -> bool:
        """Whether the inputs are already `x W + b` (over a `ProjectedLSTMCell`)."""
        return type(self.cell) is ProjectedLSTMCell

    @property
    def runs_fused_kernel(self) -> bool:
        return fused_kernel_available() and not self.unroll and not self.stateful

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self.runs_fused_kernel:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        from zoo.layers import fused_lstm_tf

        cell = self.cell
        h0, c0 = initial_state
        xla = self.xla_loops
        if xla == "auto":
            xla = sequences.shape[0] is not None and sequences.shape[1] is not None
        dtype = sequences.dtype
        recurrent_kernel = ops.cast(cell.recurrent_kernel, dtype)
        if self.projected_inputs:
            if training:
                raise ValueError(
                    f"{self.name}: inputs already projected (ProjectedLSTMCell) are for inference; "
                    "train the model whose first layer multiplies (SequenceEncoder without "
                    "projected_inputs)")
            # Batch-major as they come (a lookup's rows): the loop reads step t in place.
            outputs, h, c = fused_lstm_tf.lstm_sequence_projected(
                sequences, h0, c0, recurrent_kernel, mask=mask,
                columns=cell.columns(sequences.shape[-1], self.go_backwards),
                reverse=self.go_backwards, zero_output_for_mask=self.zero_output_for_mask,
                return_sequences=self.return_sequences, xla=xla, batch_halves=self.batch_halves)
            return outputs[-1], ops.transpose(outputs, (1, 0, 2)), [h, c]
        recurrent_mask = None
        if training and cell.recurrent_dropout > 0:
            recurrent_mask = cell.get_recurrent_dropout_mask(h0)
        inputs, mask = time_major_inputs(cell, sequences, mask, training)
        if self.go_backwards:
            inputs = ops.flip(inputs, axis=0)
            mask = None if mask is None else ops.flip(mask, axis=0)
        weights = [ops.cast(cell.kernel, dtype), recurrent_kernel, ops.cast(cell.bias, dtype)]
        if training:
            outputs, h, c = fused_lstm_tf.lstm_sequence(
                inputs, h0, c0, *weights, mask=mask, recurrent_mask=recurrent_mask,
                zero_output_for_mask=self.zero_output_for_mask, xla=xla)
        else:
            outputs, h, c = fused_lstm_tf.lstm_sequence_inference(
                inputs, h0, c0, *weights, mask=mask, zero_output_for_mask=self.zero_output_for_mask,
                return_sequences=self.return_sequences, xla=xla)
        # As Keras' loop: outputs in processing order (reversed for go_backwards), the last
        # output is the last step's output (inference without sequences returns only that one).
        return outputs[-1], ops.transpose(outputs, (1, 0, 2)), [h, c]


__all__ = ["FusedLSTM", "ProjectedLSTMCell", "fused_kernel_available", "time_major_inputs"]
