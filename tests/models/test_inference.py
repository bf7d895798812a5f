"""The model classes know what they are, and `inference_model` folds the input projection exactly."""
import keras
import numpy as np
import pytest

from tests.helpers import PADDED_IDS, TOLERANCE, VOCABULARY_SIZE, assert_batch_consistent, predict
from zoo import models

OTHER_IDS = np.array([[5, 6, 0, 0, 0, 0], [2, 3, 4, 5, 6, 7], [7, 0, 0, 0, 0, 0], [8, 9, 10, 0, 0, 0]],
                     dtype="int32")
KINDS = {"acceptor": models.Acceptor, "transducer": models.Transducer,
         "pair_encoder": models.PairEncoder, "language_model": models.LanguageModel}


def build(factory: str, bidirectional=False, layers=1, cell="lstm", implementation="fused", **extra):
    encoder = models.EncoderConfig(cell=cell, implementation=implementation, units=4, layers=layers,
                                   bidirectional=bidirectional, pooling=extra.pop("pooling", "final"))
    config_class = models.FACTORIES[factory][1]
    config = config_class(vocabulary_size=VOCABULARY_SIZE, embedding_dim=3, encoder=encoder, seed=3, **extra)
    return models.build(config)


def inputs_for(factory: str):
    if factory == "pair_encoder":
        return {"premise": PADDED_IDS, "hypothesis": OTHER_IDS}
    return PADDED_IDS


@pytest.mark.parametrize("factory", list(KINDS))
def test_each_factory_returns_its_registered_class_with_its_config(factory, tmp_path):
    model = build(factory, bidirectional=factory != "language_model")
    assert type(model) is KINDS[factory] and model.kind == factory
    assert model.config.encoder.units == 4 and model.fold_input_projection is False
    config = model.get_config()
    assert config["config"]["kind"] == type(model.config).__name__
    rebuilt = type(model).from_config(config)
    assert rebuilt.config == model.config and [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights]
    assert not [name for name in vars(model) if name.startswith("zoo_")]  # nothing patched on


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["forward", "bidirectional"])
@pytest.mark.parametrize("factory", list(KINDS))
def test_folded_model_predicts_what_the_trained_model_predicts(factory, bidirectional, layers):
    if factory == "language_model" and bidirectional:
        pytest.skip("a language model is unidirectional")
    model = build(factory, bidirectional, layers, dropout=0.2)
    # Trained-looking weights: the bias and the embedding matter to the folded table.
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in model.get_weights()])
    frozen = models.inference_model(model)
    assert frozen is not model and type(frozen) is type(model) and frozen.fold_input_projection
    assert "embedding" not in {layer.name for layer in frozen.layers}
    data = inputs_for(factory)
    np.testing.assert_allclose(predict(frozen, data), predict(model, data), atol=TOLERANCE)
    assert_batch_consistent(frozen, data, per_token=factory in ("transducer", "language_model"))


@pytest.mark.parametrize("pooling", ["final", "mean", "max"])
def test_folded_acceptor_equals_the_trained_one_for_every_pooling(pooling):
    model = build("acceptor", bidirectional=True, pooling=pooling)
    np.testing.assert_allclose(predict(models.inference_model(model), PADDED_IDS), predict(model, PADDED_IDS),
                               atol=TOLERANCE)


def test_folded_model_round_trips_in_safe_mode(tmp_path):
    frozen = models.inference_model(build("pair_encoder", bidirectional=True))
    frozen.save(tmp_path / "frozen.keras")
    loaded = keras.saving.load_model(tmp_path / "frozen.keras", safe_mode=True)
    assert type(loaded) is models.PairEncoder and loaded.fold_input_projection
    data = inputs_for("pair_encoder")
    np.testing.assert_allclose(predict(loaded, data), predict(frozen, data), atol=TOLERANCE)


@pytest.mark.parametrize("cell, implementation", [("gru", "auto"), ("lstm", "builtin"), ("lstm", "custom"),
                                                   ("elman", "custom")])
def test_models_that_cannot_fold_are_returned_as_they_are(cell, implementation):
    model = build("acceptor", cell=cell, implementation=implementation)
    foldable, reason = model.foldable
    assert not foldable and reason
    assert models.inference_model(model) is model


def test_a_char_feature_transducer_does_not_fold_and_says_why():
    config = models.TransducerConfig(
        vocabulary_size=VOCABULARY_SIZE, embedding_dim=3, encoder=models.EncoderConfig(units=4, implementation="fused"),
        char_features=models.CharFeaturesConfig(vocabulary_size=9, embedding_dim=3, filters=4))
    model = models.transducer(config)
    foldable, reason = model.foldable
    assert not foldable and "character" in reason
    assert models.inference_model(model) is model
    with pytest.raises(ValueError, match="character features"):
        models.Transducer(config, fold_input_projection=True)


def test_inference_model_refuses_what_is_not_a_zoo_model():
    inputs = keras.Input((None,), dtype="int32")
    plain = keras.Model(inputs, keras.layers.Embedding(5, 2)(inputs))
    with pytest.raises(TypeError, match="zoo model"):
        models.inference_model(plain)


def test_generate_reads_a_folded_language_model_the_same_way():
    model = build("language_model", layers=2)
    frozen = models.inference_model(model)
    assert models.generate(frozen, [3, 4], 6, temperature=0) == models.generate(model, [3, 4], 6, temperature=0)


def test_a_folded_unidirectional_layer_splits_large_batches_in_two_exactly():
    """Batches of 32 rows or more run as two half-batch loops (one per core); rows must not mix.
    Also traced with an unknown batch size (as a served graph is), which is split when it runs."""
    import tensorflow as tf

    model = build("acceptor", pooling="max")
    frozen = models.inference_model(model)
    assert frozen.encoder.recurrent_layers[0].batch_halves
    rng = np.random.default_rng(2)
    ids = np.tile(PADDED_IDS, (10, 1))[rng.permutation(40)]  # 40 rows of mixed lengths
    expected = predict(model, ids)
    np.testing.assert_allclose(predict(frozen, ids), expected, atol=TOLERANCE)
    served = tf.function(lambda batch: frozen(batch, training=False),
                         input_signature=[tf.TensorSpec([None, None], tf.int32)])
    np.testing.assert_allclose(served(ids).numpy(), expected, atol=TOLERANCE)
    np.testing.assert_allclose(served(ids[:1]).numpy(), expected[:1], atol=TOLERANCE)
    bidirectional = models.inference_model(build("acceptor", bidirectional=True))
    assert not bidirectional.encoder.recurrent_layers[0].forward_layer.batch_halves


@pytest.mark.parametrize("implementation", ["builtin", "custom", "fused"])
@pytest.mark.parametrize("factory", list(KINDS))
def test_every_factory_on_every_lstm_path_is_batch_consistent_and_round_trips(factory, implementation, tmp_path):
    model = build(factory, bidirectional=factory != "language_model", layers=2, implementation=implementation)
    data = inputs_for(factory)
    per_token = factory in ("transducer", "language_model")
    for candidate in (model, models.inference_model(model)):  # the frozen copy only where it folds
        assert_batch_consistent(candidate, data, per_token)
        candidate.save(tmp_path / "model.keras")
        loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
        assert type(loaded) is type(model) and loaded.config == model.config
        np.testing.assert_allclose(predict(loaded, data), predict(candidate, data), atol=TOLERANCE)
