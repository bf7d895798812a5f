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

On other backends, and with `unroll=True` or a stateful layer, it runs Keras' generic loop with the
same cell: always correct, never faster. Measured speed: `benchmarks/rnn_throughput.py`.
"""
from __future__ import annotations

import keras
from keras import ops

from zoo.cells import LSTMCell
from zoo.layers.fast_rnn import time_major_inputs


def fused_kernel_available() -> bool:
    """Whether `FusedLSTM` can run its fused TensorFlow kernels (the TensorFlow backend)."""
    return keras.backend.backend() == "tensorflow"


@keras.saving.register_keras_serializable(package="zoo")
class FusedLSTM(keras.layers.RNN):
    """`keras.layers.RNN(zoo.cells.LSTMCell(...))` with a fused whole-sequence kernel.

    Examples:
        >>> layer = FusedLSTM(zoo.cells.LSTMCell(64), return_sequences=True)
    """

    def __init__(self, cell, **kwargs):
        if type(cell) is not LSTMCell:
            raise ValueError(
                f"FusedLSTM runs zoo.cells.LSTMCell exactly, got {type(cell).__name__}; use "
                "keras.layers.RNN for other cells"
            )
        super().__init__(cell, **kwargs)
        # XLA-compile the loops: True, False, or "auto": only where the (time, batch) shape is
        # fixed when the graph is traced. XLA compiles once per shape (2-4 s each on a 2-core CPU),
        # which pays off for fixed-width batches (a character LM, a benchmark) but not for
        # bucketed ones, whose graphs Keras traces with unknown widths. Not a config field: a
        # runtime choice, the weights are the same. `zoo.export` turns it off while tracing.
        self.xla_loops = "auto"

    @property
    def runs_fused_kernel(self) -> bool:
        return fused_kernel_available() and not self.unroll and not self.stateful

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self.runs_fused_kernel:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        from zoo.layers import fused_lstm_tf

        cell = self.cell
        h0, c0 = initial_state
        recurrent_mask = None
        if training and cell.recurrent_dropout > 0:
            recurrent_mask = cell.get_recurrent_dropout_mask(h0)
        inputs, mask = time_major_inputs(cell, sequences, mask, training)
        if self.go_backwards:
            inputs = ops.flip(inputs, axis=0)
            mask = None if mask is None else ops.flip(mask, axis=0)
        xla = self.xla_loops
        if xla == "auto":
            xla = inputs.shape[0] is not None and inputs.shape[1] is not None
        dtype = inputs.dtype
        weights = [ops.cast(w, dtype) for w in (cell.kernel, cell.recurrent_kernel, cell.bias)]
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


__all__ = ["FusedLSTM", "fused_kernel_available"]
