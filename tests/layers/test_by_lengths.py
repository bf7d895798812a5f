"""Keras' LSTM/GRU by lengths (the torch route to cuDNN), checked here on the CPU: the route's
logic is `keras.ops` and runs on any backend in eager mode (tests/layers/test_gpu_paths.py runs
it on a GPU with torch)."""
import numpy as np
import pytest

import keras

from tests.helpers import PADDED_IDS, TOLERANCE
from zoo.layers import GRUByLengths, LSTMByLengths, MaskedPooling, SequenceEncoder, recurrent
from zoo.layers.masking import is_right_padded, reverse_within_lengths

RNG = np.random.default_rng(5)
INPUTS = RNG.normal(size=PADDED_IDS.shape + (3,)).astype("float32")
MASK = PADDED_IDS != 0


def _numpy(values):
    return [keras.ops.convert_to_numpy(value) for value in values]


def _run(encoder):
    return _numpy(encoder(INPUTS, mask=MASK))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers, pooling", [(1, "final"), (2, "final"), (2, "mean")])
def test_an_encoder_by_lengths_equals_the_masked_encoder(monkeypatch, cell, bidirectional, layers, pooling):
    options = dict(cell=cell, implementation="builtin", units=4, layers=layers,
                   bidirectional=bidirectional, pooling=pooling)
    masked = SequenceEncoder(**options)
    monkeypatch.setattr(recurrent, "_backend", lambda: "torch")
    monkeypatch.setattr(recurrent, "_gpu_visible", lambda: True)
    by_lengths = SequenceEncoder(**options)
    assert "padding" in by_lengths.code_path
    assert by_lengths.path_summary == f"Keras {cell.upper()} (cuDNN eligible, GPU visible, padding by lengths)"
    expected = _run(masked)
    by_lengths.build(INPUTS.shape)
    by_lengths.set_weights(masked.get_weights())
    ours = _run(by_lengths)
    for value, reference in zip(ours, expected):
        np.testing.assert_allclose(value, reference, atol=TOLERANCE)
    pooled = MaskedPooling(pooling, bidirectional=bidirectional)(ours[0], mask=MASK)
    np.testing.assert_allclose(ours[1], keras.ops.convert_to_numpy(pooled), atol=TOLERANCE)


def test_without_a_right_padded_mask_it_is_keras_masked_call():
    left_padded = MASK[:, ::-1].copy()
    reference = keras.layers.LSTM(3, return_sequences=True, return_state=True, zero_output_for_mask=True)
    layer = LSTMByLengths(3, return_sequences=True, return_state=True, zero_output_for_mask=True)
    reference(INPUTS, mask=left_padded)
    layer(INPUTS, mask=left_padded)
    layer.set_weights(reference.get_weights())
    for ours, theirs in zip(_numpy(layer(INPUTS, mask=left_padded)), _numpy(reference(INPUTS, mask=left_padded))):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)  # c included: the masked path


def test_a_row_without_real_steps_keeps_its_initial_state():
    mask = MASK.copy()
    mask[2] = False
    initial = [RNG.normal(size=(len(mask), 3)).astype("float32")]
    reference = keras.layers.GRU(3, return_sequences=True, return_state=True, zero_output_for_mask=True)
    layer = GRUByLengths(3, return_sequences=True, return_state=True, zero_output_for_mask=True)
    reference(INPUTS, mask=mask, initial_state=initial)
    layer(INPUTS, mask=mask, initial_state=initial)
    layer.set_weights(reference.get_weights())
    for ours, theirs in zip(_numpy(layer(INPUTS, mask=mask, initial_state=initial)),
                            _numpy(reference(INPUTS, mask=mask, initial_state=initial))):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


def test_reverse_within_lengths_keeps_padding_in_place_and_is_its_own_inverse():
    values = np.arange(12, dtype="float32").reshape(2, 6, 1)
    reversed_ = keras.ops.convert_to_numpy(reverse_within_lengths(values, np.array([3, 6])))
    assert reversed_[..., 0].tolist() == [[2, 1, 0, 3, 4, 5], [11, 10, 9, 8, 7, 6]]
    again = keras.ops.convert_to_numpy(reverse_within_lengths(reversed_, np.array([3, 6])))
    np.testing.assert_array_equal(again, values)


def test_only_right_padded_masks_go_by_lengths():
    assert is_right_padded(MASK)
    assert not is_right_padded(np.array([[False, True, True], [True, True, False]]))
