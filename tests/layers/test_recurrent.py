"""Every choice of `make_recurrent_layer` is a layer with one contract and the same numbers."""
import numpy as np
import pytest

import keras

from tests.helpers import PADDED_IDS, TOLERANCE, lengths
from zoo.layers import GRUByLengths, LSTMByLengths, make_recurrent_layer, recurrent

RNG = np.random.default_rng(7)
INPUTS = RNG.normal(size=PADDED_IDS.shape + (3,)).astype("float32")
MASK = PADDED_IDS != 0

# (cell, implementation) pairs; "by_lengths" is Keras' layer as chosen on torch with a GPU.
CHOICES = [("elman", "builtin"), ("elman", "custom"), ("lstm", "builtin"), ("lstm", "custom"),
           ("lstm", "fused"), ("lstm", "by_lengths"), ("gru", "builtin"), ("gru", "custom"),
           ("gru", "by_lengths")]


def _layer(cell, implementation, **options):
    if implementation == "by_lengths":  # as make_recurrent_layer gives it on torch with a GPU
        layer_class = {"lstm": LSTMByLengths, "gru": GRUByLengths}[cell]
        return layer_class(4, return_sequences=True, zero_output_for_mask=True, **options)
    return make_recurrent_layer(cell, implementation, units=4, **options)


def _numbers(result):
    return [keras.ops.convert_to_numpy(value) for value in (result if isinstance(result, (list, tuple)) else [result])]


@pytest.mark.parametrize("cell, implementation", CHOICES)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_every_choice_gives_the_same_outputs_and_final_h(cell, implementation, go_backwards):
    """Same weights, padded batch: the same outputs everywhere (zeros at padding) and the same
    final h (each row's output at its last real step); the LSTM's c too, where it is offered."""
    reference_implementation = "custom" if cell == "gated_elman" else "builtin"
    reference = make_recurrent_layer(cell, reference_implementation, units=4, return_state=True,
                                     go_backwards=go_backwards)
    layer = _layer(cell, implementation, return_state=True, go_backwards=go_backwards)
    reference(INPUTS, mask=MASK)
    layer(INPUTS, mask=MASK)
    assert [w.path.split("/", 1)[1] for w in layer.weights] == \
        [w.path.split("/", 1)[1] for w in reference.weights]  # the same paths under the layer
    weights = [w * 1.3 + RNG.normal(scale=0.2, size=w.shape) for w in reference.get_weights()]
    reference.set_weights(weights)
    layer.set_weights(weights)
    expected, ours = _numbers(reference(INPUTS, mask=MASK)), _numbers(layer(INPUTS, mask=MASK))
    assert len(ours) == len(expected)
    np.testing.assert_allclose(ours[0], expected[0], atol=TOLERANCE)
    assert not ours[0][~MASK[:, ::-1] if go_backwards else ~MASK].any()  # zeros at padding
    np.testing.assert_allclose(ours[1], expected[1], atol=TOLERANCE)  # final h
    outputs_in_place = ours[0][:, ::-1] if go_backwards else ours[0]
    last = 0 if go_backwards else lengths(PADDED_IDS) - 1
    np.testing.assert_allclose(ours[1], outputs_in_place[np.arange(len(MASK)), last], atol=TOLERANCE)
    if cell == "lstm":
        if implementation == "by_lengths":
            assert np.isnan(ours[2]).all()  # ran over the padding: not offered
        else:
            np.testing.assert_allclose(ours[2], expected[2], atol=TOLERANCE)


def test_gated_elman_has_one_path_and_its_cell_names_its_weights():
    layer = make_recurrent_layer("gated_elman", "auto", units=3)
    layer(INPUTS, mask=MASK)
    assert type(layer) is keras.layers.RNN
    assert [w.path.split("/", 1)[1] for w in layer.weights] == [
        "gated_elman_cell/kernel", "gated_elman_cell/recurrent_kernel", "gated_elman_cell/bias"]


def test_keras_layers_are_chosen_by_lengths_only_on_torch_with_a_gpu(monkeypatch):
    assert type(make_recurrent_layer("lstm", "builtin", units=2)) is keras.layers.LSTM
    monkeypatch.setattr(recurrent, "_backend", lambda: "torch")
    assert type(make_recurrent_layer("lstm", "builtin", units=2)) is keras.layers.LSTM  # no GPU
    monkeypatch.setattr(recurrent, "_gpu_visible", lambda: True)
    assert type(make_recurrent_layer("lstm", "builtin", units=2)) is LSTMByLengths
    assert type(make_recurrent_layer("gru", "builtin", units=2)) is GRUByLengths
    assert type(make_recurrent_layer("gru", "builtin", units=2, use_cudnn=False)) is keras.layers.GRU
    assert type(make_recurrent_layer("elman", "builtin", units=2)) is keras.layers.SimpleRNN


def test_unknown_implementation_and_projected_inputs_off_the_fused_path():
    with pytest.raises(ValueError, match="implementation must be one of"):
        make_recurrent_layer("lstm", "hoisted", units=2)
    with pytest.raises(ValueError, match="projected_inputs needs implementation='fused'"):
        make_recurrent_layer("lstm", "builtin", units=2, projected_inputs=True)
