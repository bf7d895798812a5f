"""Every factory on every LSTM path (Keras' builtin, the zoo's cell in Keras' loop, the fused
kernel, whose export is folded) exports, and the SavedModel serves what the Keras model gives."""
from __future__ import annotations

import numpy as np
import pytest

from tests.export.helpers import CORPUS, SENTENCES, TAGGED, loaded_export

PATHS = ("builtin", "custom", "fused")
TEXTS = ["the movie was great", "I loved it !", ""]


def _model_and_vectorizer(factory: str, implementation: str):
    import zoo.models as zm
    from zoo.data.vectorize import ZooVectorizer, build_char_vectorizer, build_token_vectorizer, build_word_vectorizer

    if factory == "transducer":
        vectorizer = build_token_vectorizer([tokens for tokens, _ in TAGGED])
    elif factory == "language_model":
        vectorizer = ZooVectorizer(build_char_vectorizer([CORPUS]))
    else:
        vectorizer = ZooVectorizer(build_word_vectorizer(SENTENCES))
    config_class = zm.FACTORIES[factory][1]
    encoder = zm.EncoderConfig(cell="lstm", implementation=implementation, units=3, layers=2,
                               bidirectional=factory != "language_model")
    model = zm.build(config_class(vocabulary_size=vectorizer.vocabulary_size(), embedding_dim=4,
                                  encoder=encoder, seed=9))
    rng = np.random.default_rng(4)  # weights away from their initial values, biases included
    model.set_weights([rng.normal(scale=0.4, size=w.shape).astype("float32") for w in model.get_weights()])
    return model, vectorizer


@pytest.mark.parametrize("implementation", PATHS)
@pytest.mark.parametrize("factory", ["acceptor", "transducer", "pair_encoder", "language_model"])
def test_export_serves_what_the_model_predicts_on_every_path(factory, implementation, tmp_path):
    import tensorflow as tf

    from zoo.export.saved_model import export_saved_model

    model, vectorizer = _model_and_vectorizer(factory, implementation)
    path = export_saved_model(model, vectorizer, tmp_path / factory, context=16)
    signatures = loaded_export(path).signatures
    texts = tf.constant(TEXTS)
    if factory == "pair_encoder":
        served = signatures["classify"](premise=texts, hypothesis=texts[::-1])["probabilities"]
        ids = {"premise": vectorizer.vectorize(TEXTS, ragged=False),
               "hypothesis": vectorizer.vectorize(TEXTS[::-1], ragged=False)}
        expected = model(ids, training=False)
    elif factory == "acceptor":
        served = signatures["classify"](text=texts)["probabilities"]
        expected = model(vectorizer.vectorize(TEXTS, ragged=False), training=False)
    elif factory == "transducer":
        out = signatures["tag"](text=texts)
        ids = vectorizer.vectorize(tf.strings.split(texts), ragged=False)
        # Zeros where the text has no token (padding; the empty text has none at all).
        tokens = np.arange(ids.shape[1])[None, :] < out["lengths"].numpy()[:, None]
        expected = np.asarray(model(ids, training=False)) * tokens[..., None]
        served = out["probabilities"].numpy()[:, : ids.shape[1]]
    else:
        prefixes = ["And God", "light"]
        served = signatures["next"](prefix=tf.constant(prefixes))["probabilities"]
        ids = vectorizer.vectorize(prefixes, ragged=True)
        expected = [np.asarray(model(np.asarray([row]), training=False))[0, -1] for row in ids.to_list()]
    np.testing.assert_allclose(np.asarray(served), np.asarray(expected), atol=1e-5)
