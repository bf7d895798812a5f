"""Each task's signatures: raw strings in, the in-process Keras model's numbers out (to 1e-5)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.export.helpers import LM_CONTEXT, keras_probabilities, loaded_export, serve

TOLERANCE = 1e-5


def test_signature_names_and_inputs(all_exports):
    expected = {
        "acceptor": ({"classify", "serving_default"}, {"text"}),
        "transducer": ({"tag", "serving_default"}, {"text"}),
        "pair_encoder": ({"classify", "serving_default"}, {"premise", "hypothesis"}),
        "language_model": ({"next", "generate", "vocabulary", "serving_default"}, {"prefix"}),
        "encoder_decoder": ({"decode", "decode_greedy", "serving_default"}, {"source", "max_length"}),
    }
    for kind, exported in all_exports.items():
        signatures = loaded_export(exported.path).signatures
        names, inputs = expected[kind]
        assert set(signatures) == names, kind
        spec = signatures["serving_default"].structured_input_signature[1]
        assert set(spec) == inputs, kind
        for name, tensor_spec in spec.items():
            if name == "max_length":
                assert tensor_spec.dtype.name == "int32" and tensor_spec.shape.as_list() == []
            else:
                assert tensor_spec.dtype.name == "string" and tensor_spec.shape.as_list() == [None]


def test_acceptor_matches_keras(acceptor_export):
    texts = ["the movie was great", "a terrible , boring film", "Unseen WORDS here !", "great"]
    out = serve(acceptor_export, text=texts)
    expected = keras_probabilities(acceptor_export, texts)
    np.testing.assert_allclose(out["probabilities"], expected, atol=TOLERANCE)
    names = np.array(acceptor_export.label_names)
    assert [label.decode() for label in out["label"]] == list(names[expected.argmax(axis=1)])


def test_transducer_tags_tokens_and_padding(transducer_export):
    texts = ["the movie was great", "I  loved\tit", "a"]
    out = serve(transducer_export, text=texts)
    assert out["lengths"].tolist() == [4, 3, 1]
    assert out["tokens"].shape == (3, 4)
    assert [t.decode() for t in out["tokens"][1]] == ["I", "loved", "it", ""]
    expected = keras_probabilities(transducer_export, texts)
    names = np.array(transducer_export.label_names)
    for row, length in enumerate(out["lengths"]):
        np.testing.assert_allclose(out["probabilities"][row, :length], expected[row, :length],
                                   atol=TOLERANCE)
        assert [t.decode() for t in out["tags"][row, :length]] == \
            list(names[expected[row, :length].argmax(axis=-1)])
        # Padded positions: no tag, zero probabilities.
        assert all(t == b"" for t in out["tags"][row, length:])
        assert not out["probabilities"][row, length:].any()


def test_pair_encoder_matches_keras(pair_export):
    premises = ["the movie was great", "I loved it !", ""]
    hypotheses = ["the film was not good", "it", "not good at all"]
    out = serve(pair_export, premise=premises, hypothesis=hypotheses)
    vectorize = pair_export.vectorizer.vectorize
    expected = np.asarray(pair_export.model(
        {"premise": vectorize(premises, ragged=False), "hypothesis": vectorize(hypotheses, ragged=False)},
        training=False))
    np.testing.assert_allclose(out["probabilities"], expected, atol=TOLERANCE)
    assert [label.decode() for label in out["label"]] == \
        [pair_export.label_names[i] for i in expected.argmax(axis=1)]


def _lm_reference(exported, prefix: str) -> np.ndarray:
    ids = exported.vectorizer.vectorize([prefix], ragged=True)[0].numpy()[-LM_CONTEXT:]
    return np.asarray(exported.model(ids[None, :], training=False))[0, -1]


def test_language_model_next_distribution(lm_export):
    prefixes = ["And God said", "And God said, Let there be light", "L", "xyz?"]
    out = serve(lm_export, prefix=prefixes)
    assert out["probabilities"].shape == (4, lm_export.vectorizer.vocabulary_size())
    for row, prefix in enumerate(prefixes):  # the second one is longer than the context window
        np.testing.assert_allclose(out["probabilities"][row], _lm_reference(lm_export, prefix),
                                   atol=TOLERANCE)
    vocabulary = serve(lm_export, "vocabulary")["vocabulary"]
    assert [v.decode() for v in vocabulary] == lm_export.vectorizer.get_vocabulary()
    best = out["probabilities"][:, 2:].argmax(axis=1) + 2
    assert [c.decode() for c in out["most_likely"]] == [vocabulary[i].decode() for i in best]


def _generate(exported, prefixes, length, temperature, seed=0):
    import tensorflow as tf

    return serve(exported, "generate", prefix=prefixes, length=tf.constant(length, tf.int32),
                 temperature=tf.constant(temperature, tf.float32), seed=tf.constant(seed, tf.int64))


def test_generate_greedy_equals_python_generate(lm_export):
    from zoo.models import generate

    prefixes = ["And God", "light", "A"]
    out = _generate(lm_export, prefixes, 20, 0.0)
    vocabulary = lm_export.vectorizer.get_vocabulary()
    for row, prefix in enumerate(prefixes):
        expected = generate(lm_export.model, prefix, 20, temperature=0, vocabulary=vocabulary,
                            context=LM_CONTEXT)
        assert out["text"][row].decode() == expected


def test_generate_sampling_is_seeded_and_valid(lm_export):
    first = _generate(lm_export, ["And God", ""], 30, 1.0, seed=42)
    again = _generate(lm_export, ["And God", ""], 30, 1.0, seed=42)
    other = _generate(lm_export, ["And God", ""], 30, 1.0, seed=43)
    assert first["text"].tolist() == again["text"].tolist()
    assert first["text"].tolist() != other["text"].tolist()
    assert first["ids"].shape == (2, 30) and first["ids"].min() >= 2  # never padding or OOV
    vocabulary = set(lm_export.vectorizer.get_vocabulary()[2:])
    for text in first["text"]:
        assert len(text.decode()) == 30 and set(text.decode()) <= vocabulary
    assert _generate(lm_export, ["And God"], 0, 1.0)["text"].tolist() == [b""]


@pytest.mark.parametrize("length, temperature, message", [
    (-1, 1.0, r"length must be in \[0, 10000\], got.*-1"),
    (10_001, 1.0, r"length must be in \[0, 10000\], got.*10001"),
    (5, -0.5, "temperature must be a finite number >= 0, got.*-0.5"),
    (5, float("nan"), "temperature must be a finite number >= 0, got.*nan"),
])
def test_generate_refuses_bad_arguments_clearly(lm_export, length, temperature, message):
    import tensorflow as tf

    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _generate(lm_export, ["And God"], length, temperature)
    assert _generate(lm_export, ["And God"], 3, 0.0)["ids"].shape == (1, 3)  # still serving
