import numpy as np
import pytest

import keras

from tests.helpers import PADDED_IDS, TOLERANCE, lengths, predict
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
    from zoo.layers import recurrent

    monkeypatch.setattr(recurrent, "_gpu_visible", lambda: True)
    gpu = SequenceEncoder(cell="lstm", units=2)
    assert gpu.implementation_used == "builtin" and gpu.code_path["cudnn_eligible"] is True
    by_lengths = ", padding by lengths" if keras.backend.backend() == "torch" else ""
    assert gpu.path_summary == f"Keras LSTM (cuDNN eligible, GPU visible{by_lengths})"


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fused kernel is TensorFlow's")
def test_code_path_and_its_summary_say_what_runs_and_why():
    fused = SequenceEncoder(cell="lstm", units=2)  # no GPU here: the fused kernel
    path = fused.code_path
    assert path["implementation"] == "fused" and path["loop"] == "fused sequence kernel"
    assert path["xla_loops"].startswith("XLA when the (time, batch) shape is fixed")
    assert path["cudnn_eligible"] is False and "padding" not in path and "input_projection" not in path
    assert fused.path_summary == "fused LSTM, XLA loops when shapes are fixed"
    assert path["chosen"].startswith("auto: an LSTM on TensorFlow with no GPU visible")
    fused.recurrent_layers[0].xla_loops = False
    assert fused.code_path["xla_loops"] == "no XLA" and fused.path_summary == "fused LSTM, loops without XLA"
    builtin = SequenceEncoder(cell="lstm", implementation="builtin", units=2)
    assert builtin.code_path["cudnn_eligible"] is True
    assert builtin.path_summary == "Keras LSTM (cuDNN eligible, no GPU)"
    assert builtin.code_path["chosen"] == "asked for ('builtin')"
    no_cudnn = SequenceEncoder(cell="gru", implementation="builtin", units=2, use_cudnn=False)
    assert no_cudnn.code_path["cudnn_eligible"] is False
    assert no_cudnn.path_summary == "Keras GRU (no cuDNN, no GPU)"
    custom = SequenceEncoder(cell="gated_elman", units=2)
    assert custom.code_path["layer"] == "RNN(GatedElmanCell)" and not custom.code_path["cudnn_eligible"]
    assert custom.path_summary == "zoo GatedElmanCell in Keras' RNN loop"
    assert custom.code_path["chosen"] == "auto: Keras has no such layer"
    folded = SequenceEncoder(cell="lstm", units=2, projected_inputs=True)
    assert folded.code_path["input_projection"].startswith("folded")
    assert folded.path_summary == "fused LSTM, XLA loops when shapes are fixed, inputs already projected"


def test_fused_is_for_the_lstm_only():
    from zoo.models import EncoderConfig

    # One check for the layer and its config: the same words, each naming its owner.
    for owner, make in (("SequenceEncoder", SequenceEncoder), ("EncoderConfig", EncoderConfig)):
        with pytest.raises(ValueError, match=rf"^{owner}\.implementation must be .* for cell='gru' "
                                             r"\(the fused kernel is an LSTM's\), got 'fused'"):
            make(cell="gru", implementation="fused", units=2)


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
    ("elman", "builtin"), ("elman", "custom"), ("gated_elman", "custom"), ("lstm", "builtin"),
    ("lstm", "custom"), ("lstm", "fused"), ("gru", "builtin"), ("gru", "custom")])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_pooled_equals_pooling_the_sequence_on_every_path(cell, implementation, bidirectional):
    """`final` pooling reads the last layer's final states: the same as pooling the sequence."""
    for pooling in ("final", "max"):
        encoder = SequenceEncoder(cell=cell, implementation=implementation, units=4, layers=2,
                                  bidirectional=bidirectional, pooling=pooling)
        assert encoder.pool_final_states is (pooling == "final")
        sequence, pooled = run(encoder)
        assert not sequence[~MASK].any()  # zeros at padding, on every path
        pooled_sequence = MaskedPooling(pooling, bidirectional=bidirectional)(sequence, mask=MASK)
        np.testing.assert_allclose(pooled, keras.ops.convert_to_numpy(pooled_sequence), atol=TOLERANCE)


@pytest.mark.parametrize("cell, implementations", [
    ("lstm", ("builtin", "custom", "fused")), ("gru", ("builtin", "custom")), ("elman", ("builtin", "custom"))])
def test_a_checkpoint_runs_on_every_path(tmp_path, cell, implementations):
    """Weights saved on one path load on every other (same weight paths) and predict the same."""
    from zoo import models

    def build(implementation):
        encoder = models.EncoderConfig(cell=cell, implementation=implementation, units=5, bidirectional=True,
                                       layers=2)
        return models.acceptor(models.AcceptorConfig(vocabulary_size=20, embedding_dim=3, encoder=encoder))

    reference, *others = [build(implementation) for implementation in implementations]
    reference.save_weights(tmp_path / "reference.weights.h5")
    expected = predict(reference, PADDED_IDS)
    for model in others:
        assert [w.path for w in model.weights] == [w.path for w in reference.weights]
        model.load_weights(tmp_path / "reference.weights.h5")
        np.testing.assert_allclose(predict(model, PADDED_IDS), expected, atol=TOLERANCE)


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


@pytest.mark.parametrize("implementation", ["builtin", "custom", "fused"])
def test_a_deep_bidirectional_encoder_loads_even_when_freed_ids_are_reused(tmp_path, monkeypatch, implementation):
    """Keras shares objects by id() while a model loads; collecting garbage before each layer is
    made lets a freed template's id come back (as it did by chance in a full test run)."""
    import gc

    from zoo.layers import encoder as encoder_module

    inputs = keras.Input((None, 3))
    encoder = SequenceEncoder(cell="lstm", implementation=implementation, units=4, layers=3,
                              bidirectional=True, pooling="max")
    model = keras.Model(inputs, encoder(inputs)[1])  # the pooled vector
    model.save(tmp_path / "deep.keras")
    make = encoder_module.make_recurrent_layer
    monkeypatch.setattr(encoder_module, "make_recurrent_layer", lambda *a, **k: (gc.collect(), make(*a, **k))[1])
    data = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    for _ in range(10):
        loaded = keras.saving.load_model(tmp_path / "deep.keras")
        layers = loaded.layers[1].recurrent_layers
        assert [layer.backward_layer.go_backwards for layer in layers] == [True] * 3
        assert len({id(layer.forward_layer) for layer in layers}) == 3
        np.testing.assert_allclose(predict(loaded, data), predict(model, data), atol=TOLERANCE)
    assert len(loaded.weights) == len(model.weights)
