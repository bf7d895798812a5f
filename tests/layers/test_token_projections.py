"""Inference that looks each token's input projection up (FusedLSTM + TokenProjections) equals
multiplying it, never uses a table made from other weights, and is not part of the model."""
import numpy as np
import pytest

import keras

from tests.helpers import PADDED_IDS, TOLERANCE, VOCABULARY_SIZE, predict
from zoo import models
from zoo.layers import fused_lstm_tf
from zoo.models.components import link_input_embeddings

LOOKED_UP = "looked up per token id"
OTHER_IDS = np.array([[5, 9, 0, 0], [2, 3, 4, 0], [7, 0, 0, 0], [8, 6, 10, 11]], dtype="int32")


# 32 rows, 192 tokens: enough for a lookup to pay for comparing the weights of a 12 x 3 embedding
# and an LSTM of 5 units (`TokenProjections.least_tokens`: 93), and a batch that a layer alone
# runs as two half-batch loops (`fused_lstm_tf.MIN_HALVES_BATCH`).
# Shuffled, so that the two halves differ.
IDS = np.tile(PADDED_IDS, (8, 1))[np.random.default_rng(3).permutation(32)]


def _config(factory="acceptor", bidirectional=False, layers=1, implementation="fused",
            vocabulary_size=VOCABULARY_SIZE, units=5):
    encoder = models.EncoderConfig(cell="lstm", implementation=implementation, units=units,
                                   layers=layers, bidirectional=bidirectional)
    return models.FACTORIES[factory][1](vocabulary_size=vocabulary_size, embedding_dim=3,
                                        encoder=encoder)


def _inputs(factory):
    if factory == "pair_encoder":
        return {"premise": IDS, "hypothesis": np.tile(np.pad(OTHER_IDS, [(0, 0), (0, 2)]), (8, 1))[::-1]}
    return IDS


def _directions(model):
    return model.get_layer("encoder")._first_fused_directions()


def _projections(model):
    return [direction._token_projections for direction in _directions(model)]


def _multiplying_twin(model, factory_config):
    """The same model and weights, its first layer multiplying its input projection."""
    twin = models.build(factory_config)
    twin.set_weights(model.get_weights())
    for direction in _directions(twin):
        direction.fold_input_projection = False
    return twin


def _perturbed(model, scale=0.7):
    rng = np.random.default_rng(5)
    model.set_weights([w * 1.3 + rng.normal(scale=scale, size=w.shape) for w in model.get_weights()])


@pytest.mark.parametrize("factory, bidirectional, layers", [
    ("acceptor", False, 1), ("acceptor", True, 2), ("transducer", True, 1),
    ("language_model", False, 2), ("pair_encoder", False, 1), ("pair_encoder", True, 1),
])
def test_looking_up_equals_multiplying(factory, bidirectional, layers):
    config = _config(factory, bidirectional, layers)
    model = models.build(config)
    _perturbed(model)
    assert LOOKED_UP in model.get_layer("encoder").code_path["input_projection"]
    twin = _multiplying_twin(model, config)
    inputs = _inputs(factory)
    for _ in range(2):  # the table is made at the first call (192 tokens >= 12 ids), then read
        np.testing.assert_allclose(predict(model, inputs), predict(twin, inputs), atol=TOLERANCE)
    assert all(bool(p.table_made.numpy()) for p in _projections(model))
    # Two half-batch loops where the layer runs alone; one loop per direction and per call else.
    alone = not bidirectional and factory != "pair_encoder"
    assert [d.alone_at_inference for d in _directions(model)] == [alone] * (1 + bidirectional)
    # Compiled (Keras' predict), XLA loops and all.
    np.testing.assert_allclose(model.predict(inputs, verbose=0), twin.predict(inputs, verbose=0),
                               atol=TOLERANCE)


def test_the_table_waits_until_it_pays_and_a_changed_weight_is_always_seen():
    config = _config(vocabulary_size=1000, units=64)
    model = models.build(config)
    twin = _multiplying_twin(model, config)
    (projections,) = _projections(model)
    least = projections.least_tokens()
    assert least == -(-48 * (1000 * 3 + 3 * 256 + 256) // (3 * 256)) == 252
    batch = np.random.default_rng(2).integers(1, 1000, size=(8, 32)).astype("int32")  # 256 tokens
    small = batch[:1, :20]

    # The table (1000 ids) costs four such calls; until then they multiply.
    for call in range(1, 5):
        np.testing.assert_allclose(predict(model, batch), predict(twin, batch), atol=TOLERANCE)
        assert int(projections.tokens_seen.numpy()) == 256 * call
        assert bool(projections.table_made.numpy()) == (call == 4)
    # A call too small to pay for the comparison multiplies and is not counted.
    np.testing.assert_allclose(predict(model, small), predict(twin, small), atol=TOLERANCE)
    assert int(projections.tokens_seen.numpy()) == 4 * 256

    # Any change to E, W or b, made any way, sends the next call back to multiplying.
    embeddings = model.get_layer("embedding").embeddings
    kernel = _directions(model)[0].cell.kernel
    bias = _directions(model)[0].cell.bias
    changes = [
        lambda: embeddings.assign(embeddings.numpy() + np.eye(*embeddings.shape, dtype="float32")),
        lambda: kernel.assign(-kernel.numpy()),
        lambda: bias.assign(bias.numpy() + 1e-7 * np.arange(bias.shape[0], dtype="float32")),
        lambda: _perturbed(model),
    ]
    for change in changes:
        for _ in range(4):  # a table made from the weights before the change
            predict(model, batch)
        assert bool(projections.table_made.numpy())
        change()
        twin.set_weights(model.get_weights())
        np.testing.assert_allclose(predict(model, batch), predict(twin, batch), atol=TOLERANCE)
        assert not bool(projections.table_made.numpy())
        assert int(projections.tokens_seen.numpy()) == 256


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_training_then_predicting_uses_the_trained_weights(tmp_path):
    config = _config(bidirectional=True)
    model = models.build(config)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    targets = np.tile([0, 1, 1, 0], 8)
    before = model.predict(IDS, verbose=0)
    model.fit(IDS, targets, epochs=3, verbose=0)
    after = model.predict(IDS, verbose=0)
    assert np.abs(after - before).max() > 1e-3  # the weights did change
    np.testing.assert_allclose(after, _multiplying_twin(model, config).predict(IDS, verbose=0),
                               atol=TOLERANCE)

    # Weights loaded from a file replace the ones the table was made from.
    other = models.build(config)
    _perturbed(other)
    other.save_weights(tmp_path / "other.weights.h5")
    model.load_weights(tmp_path / "other.weights.h5")
    np.testing.assert_allclose(model.predict(IDS, verbose=0), predict(other, IDS),
                               atol=TOLERANCE)


def test_gradients_at_inference_are_those_of_multiplying():
    import tensorflow as tf

    config = _config(bidirectional=True)
    model = models.build(config)
    _perturbed(model)
    twin = _multiplying_twin(model, config)
    predict(model, IDS)  # the table is made: the next call reads it

    def gradients(m):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(m(IDS, training=False) * np.arange(1, 3, dtype="float32"))
        return [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, m.trainable_weights)]

    ours, theirs = gradients(model), gradients(twin)
    assert len(ours) == len(model.trainable_weights)
    for weight, mine, reference in zip(model.trainable_weights, ours, theirs):
        assert np.abs(reference).max() > 0, weight.path
        np.testing.assert_allclose(mine, reference, atol=TOLERANCE, err_msg=weight.path)


def test_the_cache_is_not_part_of_the_model(tmp_path):
    config = _config(bidirectional=True)
    model = models.build(config)
    _perturbed(model)
    predict(model, IDS)
    unlinked = keras.models.clone_model(model)  # rebuilt from the config: no link, no cache
    assert LOOKED_UP not in unlinked.get_layer("encoder").code_path["input_projection"]
    assert len(model.weights) == len(unlinked.weights)
    assert not any("token_projections" in w.path for w in model.weights)

    model.save(tmp_path / "model.keras")
    import zoo

    loaded = zoo.load(tmp_path / "model.keras")  # zoo.load links again, from the graph
    assert LOOKED_UP in loaded.get_layer("encoder").code_path["input_projection"]
    np.testing.assert_allclose(predict(loaded, IDS), predict(model, IDS), atol=TOLERANCE)
    assert link_input_embeddings(loaded) == {"encoder": loaded.get_layer("encoder").code_path["input_projection"]}


def test_where_it_does_not_fold_it_says_why(monkeypatch):
    with_chars = models.TransducerConfig(
        vocabulary_size=VOCABULARY_SIZE, embedding_dim=3,
        encoder=models.EncoderConfig(cell="lstm", implementation="fused", units=5),
        char_features=models.CharFeaturesConfig(vocabulary_size=20, embedding_dim=2, filters=3))
    chars = models.build(with_chars)
    assert link_input_embeddings(chars) == {}  # its encoder reads words and characters
    assert chars.get_layer("encoder").code_path["input_projection"].startswith("multiplied (no embedding")

    builtin = models.build(_config(implementation="builtin"))
    assert "input_projection" not in builtin.get_layer("encoder").code_path

    monkeypatch.setattr(fused_lstm_tf, "TABLE_LIMIT_BYTES", 100)
    model = models.build(_config())
    path = model.get_layer("encoder").code_path["input_projection"]
    assert path.startswith("multiplied (the table would take") and "TABLE_LIMIT_BYTES" in path
    np.testing.assert_allclose(predict(model, IDS), predict(model, IDS))


def test_an_id_outside_the_vocabulary_is_refused_on_both_paths():
    import tensorflow as tf

    model = models.build(_config())
    bad = IDS.copy()
    bad[1, 2] = VOCABULARY_SIZE + 3
    predict(model, IDS)  # the table exists
    for _ in range(2):
        with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
            predict(model, bad)
        model.get_layer("encoder").recurrent_layers[0].fold_input_projection = False


def test_a_model_compiled_whole_by_xla_looks_up_too():
    config = _config(bidirectional=True)
    model = models.build(config)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  jit_compile=True)
    targets = np.tile([0, 1, 1, 0], 8)
    for _ in range(2):  # each round: a training step, then predictions from the new weights
        model.train_on_batch(IDS, targets)
        twin = _multiplying_twin(model, config)
        for _ in range(2):
            np.testing.assert_allclose(model.predict_on_batch(IDS), predict(twin, IDS),
                                       atol=TOLERANCE)
    assert all(bool(p.table_made.numpy()) for p in _projections(model))


def test_the_table_has_the_compute_dtype():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        config = _config()
        model = models.build(config)
        twin = _multiplying_twin(model, config)
        for _ in range(2):
            np.testing.assert_allclose(predict(model, IDS), predict(twin, IDS), atol=1e-2)
        (projections,) = _projections(model)
        assert projections.table.dtype.name == "bfloat16" and bool(projections.table_made.numpy())
    finally:
        keras.mixed_precision.set_global_policy("float32")
