import numpy as np
import pytest

import keras

from tests.helpers import PADDED_IDS, TOLERANCE, lengths
from zoo.layers import MaskedPooling, SequenceEncoder, make_recurrent_layer

RNG = np.random.default_rng(3)
EMBEDDED = RNG.normal(size=PADDED_IDS.shape + (3,)).astype("float32")
MASK = PADDED_IDS != 0


def run(encoder, inputs=EMBEDDED, mask=MASK):
    sequence, pooled = encoder(inputs, mask=mask)
    return keras.ops.convert_to_numpy(sequence), keras.ops.convert_to_numpy(pooled)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_builtin_layers_meet_keras_cudnn_conditions(cell):
    """The conditions Keras checks before taking the cuDNN kernel (keras/src/backend/*/rnn.py)."""
    layer = make_recurrent_layer(cell, "builtin", units=4)
    assert type(layer) is {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    assert layer.activation is keras.activations.tanh
    assert layer.recurrent_activation is keras.activations.sigmoid
    assert layer.use_bias and not layer.unroll
    assert layer.recurrent_dropout == 0
    assert layer.use_cudnn == "auto"
    if cell == "gru":
        assert layer.reset_after
    assert make_recurrent_layer(cell, "builtin", units=4, use_cudnn=False).use_cudnn is False


def test_builtin_refuses_recurrent_dropout_and_gated_elman():
    with pytest.raises(ValueError, match="recurrent_dropout"):
        make_recurrent_layer("lstm", "builtin", units=4, recurrent_dropout=0.1)
    with pytest.raises(ValueError, match="gated_elman"):
        make_recurrent_layer("gated_elman", "builtin", units=4)


@pytest.mark.parametrize("cell, expected", [("lstm", "fused"), ("elman", "builtin"), ("gated_elman", "custom")])
def test_auto_says_which_path_it_took(cell, expected):
    # No GPU here. The fused LSTM kernel is TensorFlow's; other backends take Keras' LSTM.
    if cell == "lstm" and keras.backend.backend() != "tensorflow":
        expected = "builtin"
    assert SequenceEncoder(cell=cell, units=2).implementation_used == expected


def test_auto_takes_keras_cudnn_eligible_lstm_when_a_gpu_is_visible(monkeypatch):
    from zoo.layers import encoder

    monkeypatch.setattr(encoder, "_gpu_visible", lambda: True)
    gpu = SequenceEncoder(cell="lstm", units=2)
    assert gpu.implementation_used == "builtin" and gpu.code_path["cudnn_eligible"] is True


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_recurrence_by_lengths_equals_the_masked_recurrence(cell, bidirectional, layers):
    """The torch route to cuDNN (no mask, lengths instead), checked here on the masked path."""
    encoder = SequenceEncoder(cell=cell, implementation="builtin", units=4, layers=layers,
                              bidirectional=bidirectional)
    masked, _ = run(encoder)
    sequence, keep = EMBEDDED, MASK[..., None].astype("float32")
    for layer in encoder.recurrent_layers:
        sequence = encoder._recur_by_lengths(layer, sequence, lengths(PADDED_IDS), keep, training=False)
    by_lengths = keras.ops.convert_to_numpy(sequence)
    np.testing.assert_allclose(by_lengths[MASK], masked[MASK], atol=TOLERANCE)
    assert not by_lengths[~MASK].any()  # padded positions are zeros


def test_reverse_within_lengths_keeps_padding_in_place_and_is_its_own_inverse():
    from zoo.layers.masking import reverse_within_lengths

    values = np.arange(12, dtype="float32").reshape(2, 6, 1)
    reversed_ = keras.ops.convert_to_numpy(reverse_within_lengths(values, np.array([3, 6])))
    assert reversed_[..., 0].tolist() == [[2, 1, 0, 3, 4, 5], [11, 10, 9, 8, 7, 6]]
    again = keras.ops.convert_to_numpy(reverse_within_lengths(reversed_, np.array([3, 6])))
    np.testing.assert_array_equal(again, values)


def test_only_right_padded_masks_go_by_lengths():
    from zoo.layers.masking import is_right_padded

    assert is_right_padded(MASK)
    assert not is_right_padded(np.array([[False, True, True], [True, True, False]]))


def test_the_lengths_route_is_for_the_torch_backend_with_a_gpu(monkeypatch):
    from zoo.layers import encoder

    monkeypatch.setattr(encoder, "_gpu_visible", lambda: True)
    gpu = SequenceEncoder(cell="lstm", units=2)
    assert gpu.cudnn_by_lengths is (keras.backend.backend() == "torch")
    assert not SequenceEncoder(cell="lstm", units=2, use_cudnn=False).cudnn_by_lengths
    assert not SequenceEncoder(cell="gated_elman", units=2).cudnn_by_lengths


def test_fused_is_for_the_lstm_only():
    with pytest.raises(ValueError, match="implementation='fused' exists for cell='lstm' only"):
        SequenceEncoder(cell="gru", implementation="fused", units=2)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_builtin_and_custom_paths_agree_with_the_same_weights(cell):
    builtin = SequenceEncoder(cell=cell, implementation="builtin", units=4, layers=2, bidirectional=True)
    custom = SequenceEncoder(cell=cell, implementation="custom", units=4, layers=2, bidirectional=True)
    run(builtin), run(custom)
    custom.set_weights(builtin.get_weights())
    for ours, theirs in zip(run(custom), run(builtin)):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


def test_shapes_and_zero_padding():
    encoder = SequenceEncoder(cell="gru", units=5, bidirectional=True, layers=2)
    sequence, pooled = run(encoder)
    assert encoder.output_dim == 10
    assert sequence.shape == PADDED_IDS.shape + (10,)
    assert pooled.shape == (len(PADDED_IDS), 10)
    assert np.all(sequence[~MASK] == 0)


def test_final_pooling_is_forward_last_and_backward_first():
    encoder = SequenceEncoder(cell="lstm", units=4, bidirectional=True)
    sequence, pooled = run(encoder)
    for row, length in enumerate(lengths(PADDED_IDS)):
        np.testing.assert_allclose(pooled[row, :4], sequence[row, length - 1, :4], atol=TOLERANCE)
        np.testing.assert_allclose(pooled[row, 4:], sequence[row, 0, 4:], atol=TOLERANCE)
    # The same two vectors Keras reports as the final states of each direction.
    layer = keras.layers.Bidirectional(keras.layers.LSTM(4, return_state=True))
    layer(EMBEDDED, mask=MASK)
    layer.set_weights(encoder.get_weights())
    _, forward_h, _, backward_h, _ = (keras.ops.convert_to_numpy(o) for o in layer(EMBEDDED, mask=MASK))
    np.testing.assert_allclose(pooled, np.concatenate([forward_h, backward_h], -1), atol=TOLERANCE)


@pytest.mark.parametrize("cell, implementation", [
    ("elman", "builtin"), ("elman", "custom"), ("gated_elman", "hoisted"), ("lstm", "builtin"),
    ("lstm", "fused"), ("gru", "builtin"), ("gru", "custom")])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_final_pooling_from_the_final_states_equals_pooling_the_sequence(cell, implementation, bidirectional):
    """`final` pooling reads the last layer's final states; the same as pooling the sequence."""
    encoder = SequenceEncoder(cell=cell, implementation=implementation, units=4, layers=2,
                              bidirectional=bidirectional)
    assert encoder.pool_final_states
    sequence, pooled = run(encoder)
    pooled_sequence = MaskedPooling("final", bidirectional=bidirectional)(sequence, mask=MASK)
    np.testing.assert_allclose(pooled, keras.ops.convert_to_numpy(pooled_sequence), atol=TOLERANCE)


def test_mean_and_max_pool_over_real_tokens_only():
    values = RNG.normal(size=(4, 6, 3)).astype("float32") - 5.0  # all negative: zeros would win a max
    values[~MASK] = 100.0  # padding that must not count
    for mode, reduce in (("mean", np.mean), ("max", np.max)):
        pooled = keras.ops.convert_to_numpy(MaskedPooling(mode)(values, mask=MASK))
        for row, length in enumerate(lengths(PADDED_IDS)):
            np.testing.assert_allclose(pooled[row], reduce(values[row, :length], axis=0), rtol=1e-6)


def test_unknown_cell_and_pooling():
    with pytest.raises(ValueError, match="cell"):
        SequenceEncoder(cell="tree")
    with pytest.raises(ValueError, match="pooling"):
        MaskedPooling("median")


def test_config_round_trip():
    encoder = SequenceEncoder(cell="gated_elman", implementation="custom", units=3, layers=2, dropout=0.2,
                              recurrent_dropout=0.1, pooling="max")
    clone = SequenceEncoder.from_config(encoder.get_config())
    assert clone.get_config() == encoder.get_config()


@pytest.mark.parametrize("implementation", ["builtin", "custom", "fused"])
def test_initializer_reaches_the_input_kernels(implementation):
    """He-normal draws (std sqrt(2/fan_in)) differ in scale from Glorot-uniform ones, on every path."""
    import numpy as np

    from zoo.models import EncoderConfig

    def kernel_std(initializer):
        config = EncoderConfig(cell="lstm", implementation=implementation, units=64, initializer=initializer)
        encoder = SequenceEncoder(**config.layer_kwargs(), seed=0)
        encoder.build((None, None, 200))
        kernel = [w for w in encoder.weights if w.path.endswith("/kernel") and "recurrent" not in w.path][0]
        return float(np.std(kernel.numpy()))

    assert abs(kernel_std("he_normal") - (2 / 200) ** 0.5) < 0.01            # 0.100
    assert abs(kernel_std("glorot_uniform") - (2 / (200 + 256)) ** 0.5) < 0.01  # 0.066


def test_unknown_initializer_is_refused_by_name():
    from zoo.models import EncoderConfig

    with pytest.raises(ValueError, match="initializer"):
        EncoderConfig(initializer="zeros_please")
    with pytest.raises(ValueError, match="initializer"):
        SequenceEncoder(initializer="uniform")
