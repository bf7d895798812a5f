"""FusedLSTM (hand-written whole-sequence gradient) agrees with keras.layers.RNN(LSTMCell)."""
import numpy as np
import pytest

import keras

from tests.helpers import PADDED_IDS, predict
from zoo import models
from zoo.cells import GRUCell, LSTMCell
from zoo.layers.fused_lstm import FusedLSTM

AGREEMENT = 1e-5
RNG = np.random.default_rng(11)
INPUTS = RNG.normal(size=PADDED_IDS.shape + (3,)).astype("float32")
MASK = PADDED_IDS != 0


def _pair(**options):
    cell_options = {"seed": 3, **options.pop("cell", {})}
    reference = keras.layers.RNN(LSTMCell(6, **cell_options), **options)
    fused = FusedLSTM(LSTMCell(6, **cell_options), **options)
    reference(INPUTS, mask=MASK)
    fused(INPUTS, mask=MASK)
    # Not the initial values, and large enough that the gates saturate differently per unit.
    fused.set_weights([w * 1.5 + RNG.normal(scale=0.3, size=w.shape) for w in reference.get_weights()])
    reference.set_weights(fused.get_weights())
    return reference, fused


def _run(layer, mask, training, initial_state=None):
    """Outputs and the gradients of a loss that touches every output (and the final states)."""
    import tensorflow as tf

    x = tf.constant(INPUTS)
    state = None if initial_state is None else [tf.constant(s) for s in initial_state]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        if state is not None:
            tape.watch(state)
        result = layer(x, mask=mask, training=training, initial_state=state)
        flat = list(result) if isinstance(result, (list, tuple)) else [result]
        loss = sum(tf.reduce_sum(o * np.linspace(-1, 1, o.shape[-1], dtype="float32")) +
                   tf.reduce_sum(o * o) for o in flat)
    sources = [x] + layer.trainable_weights + (state or [])
    return [o.numpy() for o in flat] + [g.numpy() for g in tape.gradient(loss, sources)]


def _assert_agree(reference, fused, **kwargs):
    for ours, theirs in zip(_run(fused, **kwargs), _run(reference, **kwargs)):
        np.testing.assert_allclose(ours, theirs, atol=AGREEMENT, rtol=AGREEMENT)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [True, False])
def test_outputs_and_gradients_agree(training, go_backwards, masked):
    reference, fused = _pair(return_sequences=True, go_backwards=go_backwards)
    _assert_agree(reference, fused, mask=MASK if masked else None, training=training)


@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_states_last_output_and_zero_output_for_mask_agree(training, zero_output_for_mask):
    reference, fused = _pair(return_sequences=True, return_state=True, zero_output_for_mask=zero_output_for_mask)
    initial = [RNG.normal(size=(len(INPUTS), 6)).astype("float32") for _ in range(2)]
    _assert_agree(reference, fused, mask=MASK, training=training, initial_state=initial)


@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_last_output_only_agrees(training, zero_output_for_mask):
    reference, fused = _pair(return_sequences=False, zero_output_for_mask=zero_output_for_mask)
    _assert_agree(reference, fused, mask=MASK, training=training)


def test_bidirectional_agrees():
    reference, fused = (keras.layers.Bidirectional(layer) for layer in _pair(return_sequences=True))
    reference(INPUTS, mask=MASK)
    fused(INPUTS, mask=MASK)
    fused.set_weights(reference.get_weights())
    _assert_agree(reference, fused, mask=MASK, training=True)


def test_input_and_recurrent_dropout_use_the_cells_masks():
    """With the same seeds both layers draw the same variational masks, so training agrees."""
    reference, fused = _pair(return_sequences=True, cell={"dropout": 0.3, "recurrent_dropout": 0.4})
    _assert_agree(reference, fused, mask=MASK, training=True)


def test_refuses_other_cells():
    with pytest.raises(ValueError, match="FusedLSTM runs zoo.cells.LSTMCell"):
        FusedLSTM(GRUCell(3))
    with pytest.raises(ValueError, match="FusedLSTM runs zoo.cells.LSTMCell"):
        FusedLSTM(keras.layers.LSTMCell(3))


def test_model_checkpoints_run_on_every_lstm_path(tmp_path):
    """Weights saved from Keras' LSTM (builtin) load into the fused path and predict the same;
    the fused model survives a safe-mode save/load and trains (loss goes down)."""
    def build(implementation):
        encoder = models.EncoderConfig(cell="lstm", implementation=implementation, units=5, bidirectional=True)
        return models.acceptor(models.AcceptorConfig(vocabulary_size=20, embedding_dim=3, encoder=encoder))

    reference, fused = build("builtin"), build("fused")
    assert fused.get_layer("encoder").code_path["layer"] == "FusedLSTM(LSTMCell)"
    reference.save_weights(tmp_path / "builtin.weights.h5")
    fused.load_weights(tmp_path / "builtin.weights.h5")
    np.testing.assert_allclose(predict(fused, PADDED_IDS), predict(reference, PADDED_IDS), atol=AGREEMENT)
    fused.save(tmp_path / "fused.keras")
    loaded = keras.saving.load_model(tmp_path / "fused.keras", safe_mode=True)
    np.testing.assert_allclose(predict(loaded, PADDED_IDS), predict(fused, PADDED_IDS), atol=AGREEMENT)
    loaded.compile("adam", "sparse_categorical_crossentropy")
    labels = np.arange(len(PADDED_IDS)) % 2
    losses = loaded.fit(PADDED_IDS, labels, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("training", [True, False])
def test_loops_without_xla_agree(training):
    """The loops run by TensorFlow itself (as in an exported SavedModel) give the same results."""
    reference, fused = _pair(return_sequences=True, go_backwards=True)
    fused.xla_loops = False
    _assert_agree(reference, fused, mask=MASK, training=training)


def test_chunk_sizes():
    from zoo.layers.fused_lstm_tf import CHUNK_STEPS, MAX_CHUNKS, chunk_sizes

    assert chunk_sizes(None) == [None]
    assert chunk_sizes(2 * CHUNK_STEPS - 1) == [2 * CHUNK_STEPS - 1]
    assert chunk_sizes(5 * CHUNK_STEPS) == [CHUNK_STEPS] * 5
    sizes = chunk_sizes(5 * CHUNK_STEPS + 3)
    assert sum(sizes) == 5 * CHUNK_STEPS + 3 and len(set(sizes)) == 2 and sizes == sorted(sizes, reverse=True)
    assert len(chunk_sizes(100 * CHUNK_STEPS)) == MAX_CHUNKS


FIRST_CHUNK_UNPADDED = MASK.copy()
FIRST_CHUNK_UNPADDED[:, :2] = True


@pytest.mark.parametrize("mask", [MASK, FIRST_CHUNK_UNPADDED], ids=["padded", "first-chunk-unpadded"])
@pytest.mark.parametrize("xla", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_sequence_in_time_chunks_agrees(monkeypatch, training, xla, mask):
    """Cut into time chunks of 2, 3 and 1 steps (the state and its gradient handed from chunk to
    chunk), the results are those of Keras' loop: outputs, states, and every gradient."""
    from zoo.layers import fused_lstm_tf

    assert INPUTS.shape[1] == 6
    monkeypatch.setattr(fused_lstm_tf, "chunk_sizes", lambda steps: [2, 3, 1])
    reference, fused = _pair(return_sequences=True, return_state=True, go_backwards=True,
                             cell={"recurrent_dropout": 0.3})
    fused.xla_loops = xla
    initial = [RNG.normal(size=(len(INPUTS), 6)).astype("float32") for _ in range(2)]
    _assert_agree(reference, fused, mask=mask, training=training, initial_state=initial)


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_padding_before_the_first_real_step_outputs_zeros_as_keras(training, return_sequences):
    """Left padding with a non-zero initial state: Keras outputs zeros until a row's first real step
    (and a row with none at all has a zero last output), while the state carries the initial one."""
    left_padded = MASK[:, ::-1].copy()
    left_padded[2] = False  # a row without any real step
    reference, fused = _pair(return_sequences=return_sequences, return_state=True)
    initial = [RNG.normal(size=(len(INPUTS), 6)).astype("float32") for _ in range(2)]
    _assert_agree(reference, fused, mask=left_padded, training=training, initial_state=initial)
