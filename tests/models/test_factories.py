"""Every factory x cell kind x implementation: shapes, learning, gradients, padding, saving."""
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
    lengths,
    predict,
)
from zoo import models
from zoo.training import compile_defaults, token_weights

CELL_IMPLEMENTATIONS = [
    (cell, implementation)
    for cell in ("elman", "gated_elman", "lstm", "gru")
    for implementation in ("builtin", "custom")
    if not (cell == "gated_elman" and implementation == "builtin")
]
# The single-input and pair factories; the encoder-decoder (source and shifted target in) has the
# same checks in tests/models/test_encoder_decoder.py.
FACTORY_NAMES = [name for name in models.FACTORIES if name != "encoder_decoder"]
RNG = np.random.default_rng(0)
OTHER_IDS = np.array([[5, 6, 0, 0, 0], [2, 3, 4, 5, 6], [7, 0, 0, 0, 0], [8, 9, 10, 0, 0]], dtype="int32")


def make_config(factory: str, cell: str, implementation: str, bidirectional: bool = False, **encoder):
    encoder_config = models.EncoderConfig(
        cell=cell, implementation=implementation, units=4, bidirectional=bidirectional, **encoder
    )
    config_class = models.FACTORIES[factory][1]
    return config_class(vocabulary_size=VOCABULARY_SIZE, embedding_dim=3, encoder=encoder_config)


def example(factory: str):
    """(inputs, targets, sample_weight, expected output shape, per_token) for a factory."""
    batch, time = PADDED_IDS.shape
    if factory == "acceptor":
        return PADDED_IDS, np.array([0, 1, 1, 0]), None, (batch, 2), False
    if factory == "transducer":
        tags = (PADDED_IDS % 3).astype("int32")
        return PADDED_IDS, tags, token_weights(PADDED_IDS), (batch, time, 12), True
    if factory == "pair_encoder":
        inputs = {"premise": PADDED_IDS, "hypothesis": OTHER_IDS}
        return inputs, np.array([0, 1, 2, 1]), None, (batch, 3), False
    inputs, targets = PADDED_IDS[:, :-1], PADDED_IDS[:, 1:]
    return inputs, targets, token_weights(targets), (batch, time - 1, VOCABULARY_SIZE), True


@pytest.mark.parametrize("cell, implementation", CELL_IMPLEMENTATIONS)
@pytest.mark.parametrize("factory", FACTORY_NAMES)
def test_shapes_learning_and_gradients(factory, cell, implementation):
    model = models.build(make_config(factory, cell, implementation))
    inputs, targets, weights, shape, _ = example(factory)
    assert predict(model, inputs).shape == shape
    assert_every_weight_learns(model, inputs, targets, weights)
    # Eager steps: tracing a graph for five tiny steps costs more than running them.
    compile_defaults(model, learning_rate=0.05, run_eagerly=True)
    # With one batch per epoch and no dropout, epoch k's loss is the loss before update k.
    history = model.fit(inputs, targets, sample_weight=weights, epochs=5, batch_size=len(PADDED_IDS), verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("bidirectional", [False, True], ids=["forward", "bidirectional"])
@pytest.mark.parametrize("cell", ["elman", "gated_elman", "lstm", "gru"])
@pytest.mark.parametrize("factory", FACTORY_NAMES)
def test_padded_batch_predicts_what_each_example_predicts_alone(factory, cell, bidirectional):
    if factory == "language_model" and bidirectional:
        pytest.skip("a language model is unidirectional by definition")
    # Two layers, so the mask must reach the second layer too.
    model = models.build(make_config(factory, cell, "auto", bidirectional, layers=2))
    inputs, _, _, _, per_token = example(factory)
    assert_batch_consistent(model, inputs, per_token)


@pytest.mark.parametrize("pooling", ["final", "mean", "max"])
def test_every_pooling_is_batch_consistent(pooling):
    model = models.build(make_config("acceptor", "gru", "custom", True, pooling=pooling))
    assert_batch_consistent(model, PADDED_IDS, per_token=False)


@pytest.mark.parametrize("factory", FACTORY_NAMES)
def test_keras_file_round_trip_in_safe_mode(factory, tmp_path):
    # Custom cells exercise the registered zoo objects; the built-in path is Keras' own.
    model = models.build(make_config(factory, "gated_elman", "custom", factory != "language_model", layers=2))
    inputs = example(factory)[0]
    assert_save_load_round_trip(model, inputs, tmp_path)


def test_padding_is_excluded_from_transducer_loss_and_accuracy():
    model = compile_defaults(models.build(make_config("transducer", "lstm", "builtin")))
    inputs, tags, weights, _, _ = example("transducer")
    scrambled = tags.copy()
    scrambled[PADDED_IDS == 0] = 7  # whatever sits at padded positions must not matter
    clean = model.evaluate(inputs, tags, sample_weight=weights, verbose=0, return_dict=True)
    noisy = model.evaluate(inputs, scrambled, sample_weight=weights, verbose=0, return_dict=True)
    assert clean == pytest.approx(noisy, abs=1e-6)
    predicted = predict(model, inputs).argmax(-1)
    real = PADDED_IDS != 0
    assert clean["accuracy"] == pytest.approx((predicted == tags)[real].mean(), abs=1e-6)


def test_glove_modes_use_the_matrix_and_freeze_it():
    matrix = RNG.normal(size=(VOCABULARY_SIZE, 3)).astype("float32")
    for mode, trainable in (("glove_frozen", False), ("glove_finetuned", True)):
        config = models.AcceptorConfig(vocabulary_size=VOCABULARY_SIZE, embedding_dim=3, embedding_mode=mode,
                                       encoder=models.EncoderConfig(units=4))
        model = models.acceptor(config, embedding_matrix=matrix)
        embedding = model.get_layer("embedding")
        np.testing.assert_array_equal(np.asarray(embedding.embeddings), matrix)
        assert embedding.trainable is trainable
        assert (embedding.embeddings.path in [w.path for w in model.trainable_weights]) is trainable
    with pytest.raises(ValueError, match="embedding_matrix"):
        models.acceptor(models.AcceptorConfig(embedding_mode="glove_frozen"))
    with pytest.raises(ValueError, match="shape"):
        models.acceptor(config, embedding_matrix=matrix[:, :2])


def test_pair_encoder_shares_one_encoder():
    model = models.build(make_config("pair_encoder", "lstm", "builtin"))
    encoders = [layer for layer in model.layers if layer.name == "encoder"]
    assert len(encoders) == 1
    # Swapping premise and hypothesis swaps u and v: the |u-v| and u*v halves are unchanged.
    features = model.get_layer("pair_features")
    import keras
    probe = keras.Model(model.inputs, features.output)
    forward = predict(probe, {"premise": PADDED_IDS[:, :5], "hypothesis": OTHER_IDS})
    swapped = predict(probe, {"premise": OTHER_IDS, "hypothesis": PADDED_IDS[:, :5]})
    width = forward.shape[1] // 4
    np.testing.assert_allclose(forward[:, :width], swapped[:, width:2 * width], atol=1e-6)
    np.testing.assert_allclose(forward[:, 2 * width:], swapped[:, 2 * width:], atol=1e-6)


# --- transducer with character features ------------------------------------------------------

CHAR_VOCABULARY_SIZE = 9


def char_config(cell: str = "lstm", implementation: str = "auto", bidirectional: bool = True,
                layers: int = 1, **chars):
    chars = {"vocabulary_size": CHAR_VOCABULARY_SIZE, "embedding_dim": 3, "filters": 4,
             "kernel_size": 3, "max_word_chars": 6, **chars}
    return models.TransducerConfig(
        vocabulary_size=VOCABULARY_SIZE, embedding_dim=3, char_features=models.CharFeaturesConfig(**chars),
        encoder=models.EncoderConfig(cell=cell, implementation=implementation, units=4,
                                     bidirectional=bidirectional, layers=layers))


def char_ids_for(token_ids: np.ndarray, width: int = 5) -> np.ndarray:
    """Char ids (batch, time, width) for PADDED_IDS: words of 1 to 5 chars, right-padded with 0,
    none at padded time steps; one real token has no characters at all."""
    rng = np.random.default_rng(7)
    chars = np.zeros(token_ids.shape + (width,), dtype="int32")
    for (row, step), token in np.ndenumerate(token_ids):
        if token:
            length = 0 if (row, step) == (1, 2) else 1 + (token * 3 + step) % 5
            chars[row, step, :length] = rng.integers(1, CHAR_VOCABULARY_SIZE, length)
    return chars


CHAR_INPUTS = {"token_ids": PADDED_IDS, "char_ids": char_ids_for(PADDED_IDS)}
TAGS = (PADDED_IDS % 3).astype("int32")


@pytest.mark.parametrize("cell, implementation", CELL_IMPLEMENTATIONS)
def test_char_transducer_learns_with_every_cell(cell, implementation):
    model = models.transducer(char_config(cell, implementation))
    assert [tensor.name for tensor in model.inputs] == ["token_ids", "char_ids"] or \
        sorted(tensor.name for tensor in model.inputs) == ["char_ids", "token_ids"]
    assert predict(model, CHAR_INPUTS).shape == PADDED_IDS.shape + (12,)
    # The char embedding and convolution are trained along with everything else.
    assert {"char_embedding", "char_convolution"} <= {w.path.split("/")[-2] for w in model.trainable_weights}
    assert_every_weight_learns(model, CHAR_INPUTS, TAGS, token_weights(PADDED_IDS))
    compile_defaults(model, learning_rate=0.05, run_eagerly=True)
    history = model.fit(CHAR_INPUTS, TAGS, sample_weight=token_weights(PADDED_IDS), epochs=5,
                        batch_size=len(PADDED_IDS), verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("cell", ["elman", "gated_elman", "lstm", "gru"])
def test_char_transducer_padded_batch_predicts_what_each_example_predicts_alone(cell):
    model = models.transducer(char_config(cell, layers=2))
    batch = predict(model, CHAR_INPUTS)
    for row, length in enumerate(lengths(PADDED_IDS)):
        chars = CHAR_INPUTS["char_ids"][row : row + 1, :length]
        width = max(int((chars != 0).sum(axis=-1).max()), 1)  # its own longest word
        alone = predict(model, {"token_ids": PADDED_IDS[row : row + 1, :length],
                                "char_ids": chars[:, :, :width]})[0]
        np.testing.assert_allclose(alone, batch[row, :length], atol=TOLERANCE, err_msg=f"row {row}")
    # Wider character padding changes nothing either.
    wider = np.pad(CHAR_INPUTS["char_ids"], [(0, 0), (0, 0), (0, 4)])
    np.testing.assert_allclose(predict(model, {**CHAR_INPUTS, "char_ids": wider}), batch, atol=TOLERANCE)


def test_char_features_see_the_characters_and_only_the_first_max_word_chars():
    model = models.transducer(char_config(max_word_chars=3))
    features = keras.Model(model.inputs, model.get_layer("char_features").output)
    base = predict(features, CHAR_INPUTS)
    # A word of no characters (and every padded time step) gets zeros.
    assert not base[1, 2].any() and not base[0, 3:].any()
    assert np.abs(base[0, 0]).max() > 0
    changed = CHAR_INPUTS["char_ids"].copy()
    changed[0, 0, 0] = changed[0, 0, 0] % (CHAR_VOCABULARY_SIZE - 2) + 2
    assert np.abs(predict(features, {**CHAR_INPUTS, "char_ids": changed})[0, 0] - base[0, 0]).max() > 1e-6
    beyond = CHAR_INPUTS["char_ids"].copy()
    beyond[:, :, 3:] = 0  # characters after the third are not read
    np.testing.assert_allclose(predict(features, {**CHAR_INPUTS, "char_ids": beyond}), base, atol=TOLERANCE)


def test_char_transducer_round_trip_with_zoo_load(tmp_path):
    import zoo

    model = models.transducer(char_config("gated_elman", "custom", layers=2))
    model.save(tmp_path / "model.keras")
    loaded = zoo.load(tmp_path)
    np.testing.assert_allclose(predict(loaded, CHAR_INPUTS), predict(model, CHAR_INPUTS), atol=TOLERANCE)
    assert type(loaded) is models.Transducer and loaded.config == model.config


def test_char_transducer_refuses_bad_char_ids_clearly():
    model = models.transducer(char_config())
    with pytest.raises(ValueError, match="char_ids"):
        model({"token_ids": PADDED_IDS, "char_ids": CHAR_INPUTS["char_ids"][:, :, 0]})
    with pytest.raises(ValueError, match="time axes differ"):
        model({"token_ids": PADDED_IDS, "char_ids": CHAR_INPUTS["char_ids"][:, :4]})
    with pytest.raises(ValueError, match="batch axes differ"):
        model({"token_ids": PADDED_IDS, "char_ids": CHAR_INPUTS["char_ids"][:2]})
    with pytest.raises(ValueError, match="char_features.vocabulary_size is 0"):
        models.transducer(char_config(vocabulary_size=0))


def test_transducer_input_names_are_the_shared_conventions():
    from zoo import conventions
    from zoo.data import batching

    model = models.transducer(char_config())
    assert sorted(tensor.name for tensor in model.inputs) == sorted(
        (conventions.TOKEN_IDS, conventions.CHAR_IDS))
    assert (batching.TOKEN_IDS, batching.CHAR_IDS) == (conventions.TOKEN_IDS, conventions.CHAR_IDS)
