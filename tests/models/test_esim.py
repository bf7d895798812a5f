"""The pair encoder's ESIM interaction (Chen et al. 2017): masking, saving, learning, folding, serving."""
import dataclasses

import keras
import numpy as np
import pytest

from tests.helpers import (
    PADDED_IDS,
    TOLERANCE,
    VOCABULARY_SIZE,
    assert_batch_consistent,
    assert_every_weight_learns,
    assert_save_load_round_trip,
    predict,
)
from zoo import models
from zoo.models.config import with_overrides

OTHER_IDS = np.array([[5, 6, 0, 0, 0, 0], [2, 3, 4, 5, 6, 7], [7, 0, 0, 0, 0, 0], [8, 9, 10, 0, 0, 0]],
                     dtype="int32")
PAIRS = {"premise": PADDED_IDS, "hypothesis": OTHER_IDS}
TARGETS = np.array([0, 1, 2, 1])
ESIM_LAYERS = {"encoder", "alignment", "enhancement", "projection", "composition_encoder", "mean_pooling",
               "max_pooling", "pooled_features"}


def esim_config(cell="lstm", implementation="fused", bidirectional=True, layers=1, **extra):
    encoder = models.EncoderConfig(cell=cell, implementation=implementation, units=extra.pop("units", 4),
                                   layers=layers, bidirectional=bidirectional)
    return models.PairEncoderConfig(vocabulary_size=VOCABULARY_SIZE, embedding_dim=3, encoder=encoder,
                                    hidden_units=4, interaction="esim", seed=3, **extra)


def randomized(model, seed=1):
    """Trained-looking weights: the biases and the embedding matter (to the fold, and to masking)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def test_the_config_takes_the_interaction_and_checks_it():
    config = esim_config(units=3)
    assert config.projection_units == 0 and config.projection_width == 3  # the encoder's units
    assert dataclasses.replace(config, projection_units=5).projection_width == 5
    assert models.PairEncoderConfig.from_json(config.to_json()) == config
    assert models.PairEncoderConfig().interaction == "none"
    with pytest.raises(ValueError, match=r"PairEncoderConfig\.interaction must be one of \('none', 'esim'\)"):
        models.PairEncoderConfig(interaction="cross")
    with pytest.raises(ValueError, match=r"PairEncoderConfig\.projection_units"):
        models.PairEncoderConfig(interaction="esim", projection_units=-2)
    with pytest.raises(ValueError, match="interaction"):
        with_overrides(models.PairEncoderConfig(), ["interaction=attention"])
    overridden = with_overrides(models.PairEncoderConfig(), ["interaction=esim", "projection_units=7"])
    assert (overridden.interaction, overridden.projection_width) == ("esim", 7)


def test_the_esim_graph_names_its_layers_and_the_siamese_graph_is_unchanged():
    model = models.pair_encoder(esim_config(projection_units=5))
    names = {layer.name for layer in model.layers}
    assert ESIM_LAYERS <= names and "pair_features" not in names
    assert model.get_layer("projection").kernel.shape == (4 * 8, 5)  # [a, ã, a-ã, a*ã] of 2 x 4 units
    assert model.get_layer("composition_encoder").output_dim == 8 and model.encoder.name == "encoder"
    siamese = models.pair_encoder(dataclasses.replace(esim_config(), interaction="none"))
    assert [layer.name for layer in siamese.layers] == [
        "premise", "hypothesis", "embedding", "premise_mask", "hypothesis_mask", "encoder", "pair_features",
        "hidden_0", "probabilities"]
    assert siamese.get_layer("hidden_0").activation is keras.activations.relu
    assert model.get_layer("hidden_0").activation is keras.activations.tanh


@pytest.mark.parametrize("bidirectional", [False, True], ids=["forward", "bidirectional"])
@pytest.mark.parametrize("cell, implementation", [("lstm", "fused"), ("lstm", "builtin"), ("gru", "auto")])
def test_a_padded_batch_predicts_what_each_pair_predicts_alone(cell, implementation, bidirectional):
    model = randomized(models.pair_encoder(esim_config(cell, implementation, bidirectional)))
    assert_batch_consistent(model, PAIRS, per_token=False)


def test_the_esim_model_round_trips_in_safe_mode(tmp_path):
    model = randomized(models.pair_encoder(esim_config(layers=2, dropout=0.1)))
    loaded = assert_save_load_round_trip(model, PAIRS, tmp_path)
    assert type(loaded) is models.PairEncoder and loaded.config == model.config
    assert ESIM_LAYERS <= {layer.name for layer in loaded.layers}


def test_every_weight_learns_and_a_few_steps_lower_the_loss():
    model = models.pair_encoder(esim_config(dropout=0.1))
    assert_every_weight_learns(model, PAIRS, TARGETS)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    before = model.evaluate(PAIRS, TARGETS, verbose=0)
    model.fit(PAIRS, TARGETS, epochs=8, batch_size=4, verbose=0)
    assert model.evaluate(PAIRS, TARGETS, verbose=0) < before


@pytest.mark.parametrize("bidirectional", [False, True], ids=["forward", "bidirectional"])
def test_inference_model_folds_the_first_encoder_only_and_predicts_the_same(bidirectional):
    model = randomized(models.pair_encoder(esim_config(bidirectional=bidirectional, layers=2, dropout=0.2)))
    frozen = models.inference_model(model)
    assert frozen is not model and frozen.fold_input_projection and type(frozen) is models.PairEncoder
    assert frozen.encoder.projected_inputs and not frozen.get_layer("composition_encoder").projected_inputs
    assert "embedding" not in {layer.name for layer in frozen.layers}
    for name in ("composition_encoder", "projection", "hidden_0", "probabilities"):
        for ours, theirs in zip(frozen.get_layer(name).get_weights(), model.get_layer(name).get_weights()):
            np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(predict(frozen, PAIRS), predict(model, PAIRS), atol=TOLERANCE)
    assert_batch_consistent(frozen, PAIRS, per_token=False)


def test_the_model_gives_its_attention_weights_masked():
    model = randomized(models.pair_encoder(esim_config()))
    to_hypothesis, to_premise = map(keras.ops.convert_to_numpy, model.attention_weights(PAIRS))
    assert to_hypothesis.shape == (4, 6, 6) and to_premise.shape == (4, 6, 6)
    premise_real, hypothesis_real = PADDED_IDS != 0, OTHER_IDS != 0
    np.testing.assert_allclose(to_hypothesis.sum(-1)[premise_real], 1.0, atol=1e-6)
    np.testing.assert_allclose(to_premise.sum(-1)[hypothesis_real], 1.0, atol=1e-6)
    assert np.all(to_hypothesis[~(premise_real[:, :, None] & hypothesis_real[:, None, :])] == 0.0)
    alone = keras.ops.convert_to_numpy(model.attention_weights({"premise": PADDED_IDS[:1, :3],
                                                                "hypothesis": OTHER_IDS[:1, :2]})[0])
    np.testing.assert_allclose(alone[0], to_hypothesis[0, :3, :2], atol=TOLERANCE)
    with pytest.raises(ValueError, match="interaction='esim'"):
        models.pair_encoder(dataclasses.replace(esim_config(), interaction="none")).attention_weights(PAIRS)


def test_the_folded_arrangement_builds_the_esim_graph():
    folded = models.PairEncoder(esim_config(), fold_input_projection=True)
    names = {layer.name for layer in folded.layers}
    assert ESIM_LAYERS <= names and "input_projection" in names and "embedding" not in names


def test_the_exported_pair_signature_serves_the_esim_model_on_raw_strings(tmp_path):
    import tensorflow as tf

    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer
    from zoo.export.saved_model import export_saved_model

    premises = ["a man plays a guitar", "two dogs run", "nobody is here", ""]
    hypotheses = ["a person plays music", "the dogs sleep in the sun", "a man is here", "dogs"]
    vectorizer = ZooVectorizer(build_word_vectorizer(premises + hypotheses))
    config = dataclasses.replace(esim_config(units=3), vocabulary_size=vectorizer.vocabulary_size())
    model = randomized(models.pair_encoder(config))
    assert model.foldable[0]  # the export serves the folded inference model
    path = export_saved_model(model, vectorizer, tmp_path / "esim", label_names=["e", "n", "c"])
    served = tf.saved_model.load(str(path))
    out = served.signatures["classify"](premise=tf.constant(premises), hypothesis=tf.constant(hypotheses))
    ids = {"premise": vectorizer.vectorize(premises, ragged=False),
           "hypothesis": vectorizer.vectorize(hypotheses, ragged=False)}
    np.testing.assert_allclose(out["probabilities"].numpy(), predict(model, ids), atol=TOLERANCE)
