"""Sampling from a language model: stepping one id at a time equals reading the whole window."""
import numpy as np
import pytest

import keras

from zoo import models
from zoo.models.language_model import RESERVED_IDS, _Stepper, generate

VOCABULARY = 12
PATHS = [("lstm", "fused"), ("lstm", "builtin"), ("gru", "builtin"), ("elman", "custom"),
         ("gated_elman", "custom")]


def _model(cell, implementation, seed=0):
    encoder = models.EncoderConfig(cell=cell, implementation=implementation, units=5, layers=2)
    config = models.LanguageModelConfig(vocabulary_size=VOCABULARY, embedding_dim=4, encoder=encoder,
                                        seed=seed)
    return models.language_model(config)


@pytest.mark.parametrize("cell, implementation", PATHS)
def test_stepping_gives_the_models_probabilities_at_every_position(cell, implementation):
    model = _model(cell, implementation)
    ids = np.random.default_rng(1).integers(2, VOCABULARY, size=9)
    whole = keras.ops.convert_to_numpy(model(ids[None].astype("int32"), training=False))[0]
    stepper = _Stepper(model)
    stepped = np.stack([stepper.step(int(i)) for i in ids])
    np.testing.assert_allclose(stepped, whole, atol=1e-5)


def _generate_by_windows(model, prefix, length, context):
    """The definition: at each step, the model reads the last `context` ids."""
    ids = list(prefix)
    for _ in range(length):
        window = np.asarray([ids[-context:]], dtype="int32")
        probabilities = keras.ops.convert_to_numpy(model(window, training=False))[0, -1].astype("float64")
        probabilities[list(RESERVED_IDS)] = 0.0
        ids.append(int(np.argmax(probabilities)))
    return ids[len(prefix):]


@pytest.mark.parametrize("cell, implementation", [("lstm", "fused"), ("gru", "builtin")])
@pytest.mark.parametrize("prefix_length", [3, 8])
def test_greedy_generation_equals_reading_the_last_context_ids(cell, implementation, prefix_length):
    """Shorter prefixes step id by id until the window is full, then slide; a prefix longer than
    the context slides from the start. Both give what reading the window at each step gives."""
    model = _model(cell, implementation, seed=4)
    prefix = list(np.random.default_rng(2).integers(2, VOCABULARY, size=prefix_length))
    context = 6
    expected = _generate_by_windows(model, prefix, 12, context)
    assert generate(model, prefix, 12, temperature=0, context=context) == expected


def test_sampling_is_seeded():
    model = _model("lstm", "fused")
    first = generate(model, [2, 3], 15, temperature=1.0, seed=7)
    assert first == generate(model, [2, 3], 15, temperature=1.0, seed=7)
    assert first != generate(model, [2, 3], 15, temperature=1.0, seed=8)
    assert not set(first) & set(RESERVED_IDS)


@pytest.mark.parametrize("arguments, message", [
    ({"temperature": float("nan")}, "temperature must be a finite number >= 0"),
    ({"temperature": float("inf")}, "temperature must be a finite number >= 0"),
    ({"temperature": -1.0}, "temperature must be a finite number >= 0"),
    ({"context": 0}, "context must be a positive number of ids"),
])
def test_generate_refuses_bad_settings_clearly(arguments, message):
    with pytest.raises(ValueError, match=message):
        generate(_model("lstm", "fused"), [2, 3], 5, **arguments)
