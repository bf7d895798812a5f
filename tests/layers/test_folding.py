"""`SequenceEncoder.folded`: the first input projection folded into a table at freeze time."""
import numpy as np
import pytest

import keras

from tests.helpers import PADDED_IDS, TOLERANCE, VOCABULARY_SIZE
from zoo.layers import SequenceEncoder

RNG = np.random.default_rng(9)
EMBEDDINGS = RNG.normal(size=(VOCABULARY_SIZE, 3)).astype("float32")
MASK = PADDED_IDS != 0

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="the fused LSTM kernel is TensorFlow's")


def _trained(**options):
    encoder = SequenceEncoder(cell="lstm", implementation="fused", units=4, **options)
    encoder.build((None, None, EMBEDDINGS.shape[1]))
    # Not the initial values: a bias that is not just the forget gate's ones, larger kernels.
    encoder.set_weights([w * 1.4 + RNG.normal(scale=0.3, size=w.shape) for w in encoder.get_weights()])
    return encoder


def _run(encoder, inputs, mask=MASK):
    return [keras.ops.convert_to_numpy(value) for value in encoder(inputs, mask=mask)]


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("pooling", ["final", "mean", "max"])
def test_the_folded_encoder_computes_what_the_encoder_computes(bidirectional, layers, pooling):
    encoder = _trained(bidirectional=bidirectional, layers=layers, pooling=pooling)
    assert encoder.input_projection_foldable[0]
    folded, table = encoder.folded(EMBEDDINGS)
    assert table.shape == (VOCABULARY_SIZE, 4 * encoder.output_dim) and table.dtype == np.float32
    assert folded.projected_inputs and folded.get_config() == {**encoder.get_config(), "projected_inputs": True}
    # The first layer holds its recurrent kernels only.
    assert len(folded.weights) == len(encoder.weights) - 2 * (2 if bidirectional else 1)
    expected = _run(encoder, EMBEDDINGS[PADDED_IDS])
    for ours, theirs in zip(_run(folded, table[PADDED_IDS]), expected):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


def test_the_folded_loops_without_xla_and_without_a_mask_agree():
    """As an exported graph runs them (`xla_loops=False`); and a batch without padding."""
    encoder = _trained(bidirectional=True, layers=2)
    folded, table = encoder.folded(EMBEDDINGS)
    expected = _run(encoder, EMBEDDINGS[PADDED_IDS])
    for layer in (folded.recurrent_layers[0].forward_layer, folded.recurrent_layers[0].backward_layer):
        layer.xla_loops = False
    for ours, theirs in zip(_run(folded, table[PADDED_IDS]), expected):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)
    full = PADDED_IDS[3:]
    for ours, theirs in zip(_run(folded, table[full], mask=None), _run(encoder, EMBEDDINGS[full], mask=None)):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


def test_gradients_at_inference_flow_through_the_folded_layer():
    """Taken in inference mode (as `zoo.analysis` does): those of the unfolded encoder, chained."""
    import tensorflow as tf

    encoder = _trained(bidirectional=True)
    folded, table = encoder.folded(EMBEDDINGS)

    def gradient(model, lookup):
        values = tf.constant(lookup)
        with tf.GradientTape() as tape:
            tape.watch(values)
            _, pooled = model(tf.gather(values, PADDED_IDS), mask=MASK, training=False)
            loss = tf.reduce_sum(pooled * np.linspace(-1, 1, pooled.shape[-1], dtype="float32"))
        return tf.convert_to_tensor(tape.gradient(loss, values)).numpy()

    d_table = gradient(folded, table)
    directions = [encoder.recurrent_layers[0].forward_layer, encoder.recurrent_layers[0].backward_layer]
    kernel = np.concatenate([keras.ops.convert_to_numpy(d.cell.kernel) for d in directions], axis=-1)
    np.testing.assert_allclose(d_table @ kernel.T, gradient(encoder, EMBEDDINGS), atol=TOLERANCE)


def test_where_it_does_not_fold_it_says_why():
    assert SequenceEncoder(cell="gru", units=3).input_projection_foldable[1].startswith("cell='gru'")
    builtin = SequenceEncoder(cell="lstm", implementation="builtin", units=3)
    builtin.build((None, None, 3))
    foldable, reason = builtin.input_projection_foldable
    assert not foldable and "implementation='builtin' runs LSTM" in reason
    with pytest.raises(ValueError, match="cannot fold this encoder's input projection: implementation"):
        builtin.folded(EMBEDDINGS)
    assert SequenceEncoder(cell="lstm", units=3).input_projection_foldable == (False, "not built: no weights to fold yet")
    with pytest.raises(ValueError, match=r"embeddings must be \(vocabulary, 3\)"):
        _trained().folded(EMBEDDINGS[:, :2])


def test_projected_inputs_is_refused_off_the_fused_kernel_and_in_training():
    with pytest.raises(ValueError, match="projected_inputs=True needs the fused LSTM kernel.*cell='gru'"):
        SequenceEncoder(cell="gru", units=3, projected_inputs=True)
    with pytest.raises(ValueError, match="projected_inputs=True needs the fused LSTM kernel.*'builtin'"):
        SequenceEncoder(cell="lstm", implementation="builtin", units=3, projected_inputs=True)
    folded, table = _trained().folded(EMBEDDINGS)
    with pytest.raises(ValueError, match="for inference"):
        folded(table[PADDED_IDS], mask=MASK, training=True)
    with pytest.raises(ValueError, match="must be 16 wide"):
        SequenceEncoder(cell="lstm", units=4, projected_inputs=True).build((None, None, 3))


def test_the_folded_encoder_saves_and_reloads(tmp_path):
    folded, table = _trained(layers=2).folded(EMBEDDINGS)
    inputs = keras.Input((None, table.shape[1]))
    mask = keras.Input((None,), dtype="bool")
    model = keras.Model([inputs, mask], folded(inputs, mask=mask))
    model.save(tmp_path / "folded.keras")
    loaded = keras.saving.load_model(tmp_path / "folded.keras", safe_mode=True)
    for ours, theirs in zip(loaded([table[PADDED_IDS], MASK]), model([table[PADDED_IDS], MASK])):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_the_projected_cell_steps_as_the_fused_kernel_runs_it(go_backwards):
    """`ProjectedLSTMCell` in Keras' own loop (its one step) and in `FusedLSTM` agree."""
    from zoo.layers import FusedLSTM, ProjectedLSTMCell

    projections = RNG.normal(size=PADDED_IDS.shape + (12,)).astype("float32")
    options = dict(return_sequences=True, return_state=True, go_backwards=go_backwards, zero_output_for_mask=True)
    reference = keras.layers.RNN(ProjectedLSTMCell(3), **options)
    fused = FusedLSTM(ProjectedLSTMCell(3), **options)
    reference(projections, mask=MASK)
    fused(projections, mask=MASK)
    fused.set_weights(reference.get_weights())
    for ours, theirs in zip(fused(projections, mask=MASK), reference(projections, mask=MASK)):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)
