"""Keras' LSTM and GRU that give a right-padded batch to cuDNN without a mask.

On the torch backend Keras' LSTM and GRU take cuDNN only when called without a mask; a masked
call runs the generic loop, many times slower on a GPU (see benchmarks/RESULTS.md, torch). For a
right-padded batch the masked result can be had without the mask:
- forwards, the recurrence is causal: its outputs at real steps never see the padding after them;
- backwards (`go_backwards`), each row is first reversed within its length
  (`masking.reverse_within_lengths`), so that the layer reads the real steps in reverse and the
  padding last; its outputs are put back in place and then given in Keras' order for
  `go_backwards` (processing order, which `keras.layers.Bidirectional` flips back).
Padded steps output zeros (as `zero_output_for_mask=True` gives them). The final `h`
(`return_state`) is each row's output at its last real step, exact; the carried LSTM `c`, which
ran on over the padding, is not offered: it comes back as NaN, never as a silently wrong value.

Subclasses of `keras.layers.LSTM` / `GRU`: the same config, weights and weight paths, so a
checkpoint moves between this and every other path. Any other call (no mask, a mask that is not
right-padded, `return_sequences=False`, a traced call such as under `torch.compile`) is Keras'
own masked call, unchanged.
"""
from __future__ import annotations

import keras
from keras import ops

from zoo.layers.masking import at_last_real_step, is_right_padded, padding_lengths, reverse_within_lengths


def _concrete(mask) -> bool:
    """Whether this call sees the mask's values (eager, not traced), as `is_right_padded` needs."""
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        device = getattr(getattr(mask, "device", None), "type", None)
        return not torch.compiler.is_compiling() and device != "meta"
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.executing_eagerly()
    return False


class ByLengths:
    """The call of `LSTMByLengths` and `GRUByLengths` (see the module docstring)."""

    def _right_padded_lengths(self, mask):
        """The rows' lengths when this call can run without its mask, else None."""
        if mask is None or not self.return_sequences or not _concrete(mask):
            return None
        lengths = padding_lengths(mask)
        return lengths if is_right_padded(mask, lengths) else None

    def call(self, sequences, initial_state=None, mask=None, training=False):
        lengths = self._right_padded_lengths(mask)
        if lengths is None:
            return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        if self.go_backwards:
            # The layer flips its input; flipping first makes it read each row reversed within
            # its length, the padding last.
            sequences = ops.flip(reverse_within_lengths(sequences, lengths), axis=1)
        result = super().call(sequences, initial_state=initial_state, mask=None, training=training)
        ran, *states = result if self.return_state else [result]
        keep = ops.cast(ops.expand_dims(mask, -1), ran.dtype)
        if self.go_backwards:  # in place, zeros at padding, then in Keras' (processing) order
            outputs = ops.flip(reverse_within_lengths(ran, lengths) * keep, axis=1)
        else:
            outputs = ran * keep
        if not self.return_state:
            return outputs
        # Either way, row b's last real step is step lengths[b] - 1 of the run.
        final_h = at_last_real_step(ran, lengths)
        if initial_state is not None:  # a row without real steps keeps its initial state
            final_h = ops.where((lengths > 0)[:, None], final_h, initial_state[0])
        # The LSTM's carried c ran on over the padding: not offered (NaN), never silently wrong.
        rest = [ops.full_like(state, float("nan")) for state in states[1:]]
        return (outputs, final_h, *rest)


@keras.saving.register_keras_serializable(package="zoo")
class LSTMByLengths(ByLengths, keras.layers.LSTM):
    """`keras.layers.LSTM` that gives right-padded batches to cuDNN without a mask (see the module
    docstring); `return_state` gives `[outputs, h, NaN]` on that route."""


@keras.saving.register_keras_serializable(package="zoo")
class GRUByLengths(ByLengths, keras.layers.GRU):
    """`keras.layers.GRU` that gives right-padded batches to cuDNN without a mask (see the module
    docstring)."""


# The cell kinds that have such a layer.
BY_LENGTHS_LAYERS = {"lstm": LSTMByLengths, "gru": GRUByLengths}

__all__ = ["BY_LENGTHS_LAYERS", "GRUByLengths", "LSTMByLengths"]
