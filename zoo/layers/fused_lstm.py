"""`FusedLSTM`: the zoo's fastest LSTM path on a CPU, with the weights of every other LSTM path.

`FusedLSTM` is `keras.layers.RNN` over `zoo.cells.LSTMCell`, so it has the same constructor,
config and weights (names, shapes, gate order) as `keras.layers.RNN(LSTMCell(...))` and as
Keras' own `keras.layers.LSTM`: a checkpoint runs on any path. On the TensorFlow backend it runs
the whole sequence in `zoo.layers.fused_lstm_tf`:
- training: a forward loop that keeps the gates, and a hand-written backward loop that does one
  small matrix product per step and the weight gradients as four large products after the loop;
- inference: a forward loop that keeps nothing. When the layer's inputs are the rows of an
  embedding picked by token ids (`link_input_embedding`; the factories link the first layer), it
  looks each token's input projection `x W + b` up in a cached table instead of multiplying: a
  third of an acceptor's inference FLOPs (`fused_lstm_tf.TokenProjections`).
A sequence of known length runs in time chunks, so that the large products of one chunk overlap
the loop of the next (`fused_lstm_tf.chunk_sizes`).
Masking (state carried through padded steps), `go_backwards`, `Bidirectional`, initial states,
input dropout and variational recurrent dropout behave as in `keras.layers.RNN`, and the results
equal it to float rounding (tests/layers/test_fused_lstm.py checks outputs and gradients to 1e-5).

On other backends, and with `unroll=True` or a stateful layer, it runs Keras' generic loop with the
same cell: always correct, never faster. Measured speed: `benchmarks/rnn_throughput.py`.
"""
from __future__ import annotations

import weakref

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
        # Look the input projection up per token id at inference, when the inputs are the rows of
        # a linked embedding (`link_input_embedding`). A runtime switch: `zoo.export` turns it off
        # while tracing (a served graph keeps no cache).
        self.fold_input_projection = True
        self._input_embedding = None  # weakref.ref to the keras.layers.Embedding, or None
        self._token_projections = None  # fused_lstm_tf.TokenProjections, or None
        self._call_token_ids = None  # the current call's token ids, read by inner_loop
        self._fold_reason = "no embedding linked"
        # Whether nothing else runs beside this layer's inference loop (not one direction of a
        # bidirectional layer, not an encoder called twice in one graph): the lookup path then
        # runs two half-batch loops at once. Set by `link_input_embedding`.
        self.alone_at_inference = False

    def link_input_embedding(self, embedding, alone: bool = False) -> str:
        """Declares that this layer's inputs are `embedding(token_ids)` (at inference: dropout
        off), so that calls given `token_ids` look each token's input projection up in a table
        instead of multiplying (`fused_lstm_tf.TokenProjections`). `None` unlinks. `alone`:
        nothing else runs beside this layer's loop (see `alone_at_inference`).

        Returns why it folds or does not (also in `input_projection`).
        """
        self.alone_at_inference = alone
        self._input_embedding, self._token_projections = None, None
        self._fold_reason = self._fold_refusal(embedding)
        if self._fold_reason is None:
            from zoo.layers import fused_lstm_tf

            self._input_embedding = weakref.ref(embedding)
            self._token_projections = fused_lstm_tf.TokenProjections(
                f"{self.name}_token_projections", embedding.input_dim, embedding.output_dim,
                self.cell.units, self.compute_dtype)
        return self.input_projection

    def _fold_refusal(self, embedding):
        if embedding is None:
            return "no embedding linked"
        if not self.runs_fused_kernel:
            return "the fused kernel does not run here"
        if type(embedding) is not keras.layers.Embedding or embedding.lora_enabled \
                or embedding.quantization_mode is not None:
            return f"{type(embedding).__name__} is not a plain keras.layers.Embedding"
        if not (embedding.built and self.built):
            return "not built"
        if embedding.output_dim != self.cell.kernel.shape[0]:
            return (f"the embedding's width {embedding.output_dim} is not this layer's input width "
                    f"{self.cell.kernel.shape[0]}")
        from zoo.layers import fused_lstm_tf

        size = fused_lstm_tf.TokenProjections.table_bytes(embedding.input_dim, self.cell.units)
        if size > fused_lstm_tf.TABLE_LIMIT_BYTES:
            return (f"the table would take {size / 2**20:.0f} MiB, over "
                    f"fused_lstm_tf.TABLE_LIMIT_BYTES")
        return None

    @property
    def input_projection(self) -> str:
        """How inference computes `x_t W + b`: looked up per token id, or multiplied (and why)."""
        if self._token_projections is not None:
            return ("looked up per token id at inference (a table of every token's projection, "
                    "made once it pays, remade after any weight change)")
        return f"multiplied ({self._fold_reason})"

    def call(self, sequences, initial_state=None, mask=None, training=False, token_ids=None):
        """As `keras.layers.RNN.call`; `token_ids` (batch, time): the ids whose rows of the linked
        embedding `sequences` are, so that inference can look the input projection up."""
        self._call_token_ids = token_ids
        try:
            return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        finally:
            self._call_token_ids = None

    @property
    def runs_fused_kernel(self) -> bool:
        return fused_kernel_available() and not self.unroll and not self.stateful

    def _folds(self, training) -> bool:
        """Whether this call looks its input projection up (see `link_input_embedding`)."""
        return (not training and self.fold_input_projection and self._call_token_ids is not None
                and self._token_projections is not None and self._input_embedding() is not None)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self.runs_fused_kernel:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        from zoo.layers import fused_lstm_tf

        cell = self.cell
        h0, c0 = initial_state
        recurrent_mask = None
        if training and cell.recurrent_dropout > 0:
            recurrent_mask = cell.get_recurrent_dropout_mask(h0)
        folds = self._folds(training)
        if folds:  # the token ids stand for the inputs (see link_input_embedding)
            inputs = ops.transpose(self._call_token_ids, (1, 0))
            mask = None if mask is None else ops.transpose(mask, (1, 0))
        else:
            inputs, mask = time_major_inputs(cell, sequences, mask, training)
        if self.go_backwards:
            inputs = ops.flip(inputs, axis=0)
            mask = None if mask is None else ops.flip(mask, axis=0)
        xla = self.xla_loops
        if xla == "auto":
            xla = inputs.shape[0] is not None and inputs.shape[1] is not None
        dtype = sequences.dtype
        weights = [ops.cast(w, dtype) for w in (cell.kernel, cell.recurrent_kernel, cell.bias)]
        if folds:
            kernel, recurrent_kernel, bias = weights
            outputs, h, c = fused_lstm_tf.lstm_sequence_folded(
                inputs, ops.cast(self._input_embedding().embeddings, dtype), kernel, recurrent_kernel,
                bias, h0, c0, self._token_projections, mask=mask,
                zero_output_for_mask=self.zero_output_for_mask,
                return_sequences=self.return_sequences, xla=xla,
                batch_halves=self.alone_at_inference)
        elif training:
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
