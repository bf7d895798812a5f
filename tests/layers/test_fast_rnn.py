"""HoistedRNN (input projection out of the loop) agrees with keras.layers.RNN on the same weights."""
import numpy as np
import pytest

import keras

from tests.helpers import PADDED_IDS, predict
from zoo import models
from zoo.cells import CELLS
from zoo.layers import SequenceEncoder
from zoo.layers.fast_rnn import HoistedRNN

AGREEMENT = 1e-5
RNG = np.random.default_rng(5)
INPUTS = RNG.normal(size=PADDED_IDS.shape + (3,)).astype("float32")
MASK = PADDED_IDS != 0


def _pair(cell, **options):
    reference = keras.layers.RNN(CELLS[cell](6), return_sequences=True, **options)
    hoisted = HoistedRNN(CELLS[cell](6), return_sequences=True, **options)
    reference(INPUTS, mask=MASK)
    hoisted(INPUTS, mask=MASK)
    hoisted.set_weights([w * 0.9 + 0.05 for w in reference.get_weights()])  # not the init values
    reference.set_weights(hoisted.get_weights())
    return reference, hoisted


@pytest.mark.parametrize("cell, go_backwards", [(cell, False) for cell in CELLS] + [("lstm", True)])
def test_outputs_and_gradients_agree(cell, go_backwards):
    import tensorflow as tf

    reference, hoisted = _pair(cell, go_backwards=go_backwards)
    assert [w.path.split("/")[-1] for w in hoisted.weights] == [
        w.path.split("/")[-1] for w in reference.weights
    ]
    results = []
    for layer in (reference, hoisted):
        x = tf.constant(INPUTS)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = layer(x, mask=MASK)
            loss = tf.reduce_sum(out * np.linspace(-1, 1, out.shape[-1], dtype="float32"))
        grads = tape.gradient(loss, [x] + layer.trainable_weights)
        results.append([out.numpy()] + [g.numpy() for g in grads])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, atol=AGREEMENT, rtol=AGREEMENT)


def test_refuses_other_cells():
    with pytest.raises(ValueError, match="HoistedRNN"):
        HoistedRNN(keras.layers.LSTMCell(3))


def test_encoder_and_model_agree_across_paths_and_checkpoints(tmp_path, cell="lstm"):
    """A model saved on one path loads into the hoisted path and predicts the same (1e-5)."""
    def build(implementation):
        encoder = models.EncoderConfig(cell=cell, implementation=implementation, units=5,
                                       bidirectional=True)
        return models.acceptor(models.AcceptorConfig(vocabulary_size=20, embedding_dim=3,
                                                     encoder=encoder))

    reference = build("custom")
    hoisted = build("hoisted")
    weights_file = tmp_path / "reference.weights.h5"
    reference.save_weights(weights_file)
    hoisted.load_weights(weights_file)
    np.testing.assert_allclose(predict(hoisted, PADDED_IDS), predict(reference, PADDED_IDS),
                               atol=AGREEMENT)
    saved = tmp_path / "hoisted.keras"
    hoisted.save(saved)
    loaded = keras.saving.load_model(saved)
    assert loaded.get_layer("encoder").implementation_used == "hoisted"
    np.testing.assert_allclose(predict(loaded, PADDED_IDS), predict(hoisted, PADDED_IDS),
                               atol=AGREEMENT)


def test_code_path_says_which_loop_runs():
    fused = SequenceEncoder(cell="lstm", units=2).code_path  # no GPU here: the fused kernel
    assert fused["implementation"] == "fused" and fused["loop"] == "fused sequence kernel"
    assert fused["xla_loops"].startswith("XLA when the (time, batch) shape is fixed")
    assert fused["cudnn_eligible"] is False
    builtin = SequenceEncoder(cell="lstm", implementation="builtin", units=2)
    assert builtin.code_path["cudnn_eligible"] is True
    assert SequenceEncoder(cell="lstm", implementation="builtin", units=2, use_cudnn=False
                           ).code_path["cudnn_eligible"] is False
    hoisted = SequenceEncoder(cell="gru", implementation="hoisted", units=2).code_path
    assert hoisted["layer"] == "HoistedRNN(GRUCell)" and not hoisted["cudnn_eligible"]
    assert SequenceEncoder(cell="gated_elman", units=2).code_path["layer"] == "RNN(GatedElmanCell)"


def test_jit_compile_choice_is_forced_by_the_config_and_visible(monkeypatch):
    from zoo import training
    from zoo.training import TrainingConfig, choose_jit_compile

    def model(implementation, cell="lstm"):
        encoder = models.EncoderConfig(cell=cell, implementation=implementation, units=3)
        return models.acceptor(models.AcceptorConfig(vocabulary_size=20, embedding_dim=3, encoder=encoder))

    builtin = model("builtin")
    # Measured slower on this CPU (benchmarks/RESULTS.md): "auto" keeps XLA off everywhere on CPU.
    assert choose_jit_compile(builtin, "auto", fixed_width=True)[0] is False
    monkeypatch.setattr(training, "CPU_XLA_MEASURED_FASTER", True)  # the rule, were it faster
    assert choose_jit_compile(builtin, "auto", fixed_width=True)[0] is True
    assert choose_jit_compile(builtin, "auto", fixed_width=False)[0] is False  # bucketed widths
    assert choose_jit_compile(model("custom"), "auto", fixed_width=True)[0] is False
    assert choose_jit_compile(model("auto", "elman"), "auto", fixed_width=True)[0] is False
    assert choose_jit_compile(model("custom"), "on")[0] is True
    assert choose_jit_compile(builtin, "off", fixed_width=True)[0] is False
    TrainingConfig(bucketing=False, jit_compile="off").compile(builtin)
    assert builtin.jit_compile is False and builtin.zoo_jit_compile == (False, "forced off")
    TrainingConfig(bucketing=False).compile(builtin)
    assert builtin.jit_compile is True
    assert "builtin LSTM (cuDNN eligible, no GPU)" in builtin.zoo_training_path
    assert builtin.zoo_training_path.endswith("XLA on [auto: on (CPU, builtin LSTM/GRU, fixed batch width)]")
    monkeypatch.undo()
    TrainingConfig(bucketing=False).compile(builtin)
    assert builtin.jit_compile is False and "XLA off [auto: off (XLA measured slower" in builtin.zoo_training_path
    TrainingConfig(jit_compile="on").compile(builtin)
    assert builtin.jit_compile is True
    with pytest.raises(ValueError, match="jit_compile"):
        TrainingConfig(jit_compile="yes")


@pytest.mark.slow  # the XLA compilation takes ~10 s alone, over a minute on a loaded machine
def test_xla_training_step_agrees_with_the_reference_path():
    """One SGD step (lr 1, so weights move by the gradient) with XLA and without: same weights."""
    import tensorflow as tf

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("compares the CPU paths")
    from zoo.training import compile_defaults

    def build():
        encoder = models.EncoderConfig(cell="lstm", implementation="builtin", units=4)
        return models.acceptor(models.AcceptorConfig(vocabulary_size=20, embedding_dim=3, encoder=encoder))

    labels = np.array([0, 1, 1, 0])
    reference, xla = build(), build()
    xla.set_weights(reference.get_weights())
    compile_defaults(reference, learning_rate=1.0, optimizer="sgd", jit_compile="off")
    compile_defaults(xla, learning_rate=1.0, optimizer="sgd", jit_compile="on")
    assert xla.jit_compile is True and reference.jit_compile is False
    losses = [model.train_on_batch(PADDED_IDS, labels) for model in (reference, xla)]
    np.testing.assert_allclose(losses[1], losses[0], atol=AGREEMENT)
    for ours, theirs in zip(xla.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=AGREEMENT)
    np.testing.assert_allclose(xla.predict_on_batch(PADDED_IDS), reference.predict_on_batch(PADDED_IDS),
                               atol=AGREEMENT)
