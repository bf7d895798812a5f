"""Bad input at serving time: each case gives a defined result (or a clear error), never a crash.

Defined results: empty and whitespace-only text are the OOV token `[1]` (classifiers: the model's
output for OOV; the tagger: no tokens); bytes that are not UTF-8 become U+FFFD inside the graph.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.export.helpers import keras_probabilities, serve

TOLERANCE = 1e-5
INVALID_UTF8 = b"great \xff\xfe movie \xc3"  # stray bytes and a truncated 2-byte sequence
NON_ASCII = ["I loved it \U0001F600\U0001F3AC", "café crème , naïve résumé", "日本語のテキスト",
             "\u202eright-to-left\u200b zero width", "e\u0301 combining"]


def _oov_output(exported) -> np.ndarray:
    return np.asarray(exported.model(np.array([[1]], dtype="int32"), training=False))[0]


def test_empty_and_whitespace_give_the_oov_output(acceptor_export):
    out = serve(acceptor_export, text=["", " ", "  \t\n  ", "\u3000"])
    for row in out["probabilities"]:
        np.testing.assert_allclose(row, _oov_output(acceptor_export), atol=TOLERANCE)
    assert len(set(out["label"].tolist())) == 1


def test_non_ascii_and_emoji_match_keras(acceptor_export):
    out = serve(acceptor_export, text=NON_ASCII)
    np.testing.assert_allclose(out["probabilities"], keras_probabilities(acceptor_export, NON_ASCII),
                               atol=TOLERANCE)


def test_invalid_utf8_is_replaced_not_an_error(acceptor_export):
    import tensorflow as tf

    out = serve(acceptor_export, text=tf.constant([INVALID_UTF8, b"\x80", b"the movie was great"]))
    repaired = [INVALID_UTF8.decode("utf-8", "replace"), "\ufffd", "the movie was great"]
    np.testing.assert_allclose(out["probabilities"], keras_probabilities(acceptor_export, repaired),
                               atol=TOLERANCE)


def test_100000_character_texts(acceptor_export):
    one_word = "x" * 100_000                     # one unknown token: the OOV output
    many_words = ("great film " * 10_000)[:100_000]  # 18,182 tokens through the recurrence
    out = serve(acceptor_export, text=[one_word, many_words])
    np.testing.assert_allclose(out["probabilities"][0], _oov_output(acceptor_export), atol=TOLERANCE)
    assert np.isfinite(out["probabilities"]).all()
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, atol=1e-5)
    assert out["label"][1].decode() in acceptor_export.label_names


def test_batch_of_one_and_batch_of_1000(acceptor_export):
    base = ["the movie was great", "", "not good at all !", "café \U0001F600", "I loved it"]
    texts = [base[i % len(base)] + (" great" * (i % 7)) for i in range(1000)]
    big = serve(acceptor_export, text=texts)
    assert big["probabilities"].shape == (1000, 2) and big["label"].shape == (1000,)
    np.testing.assert_allclose(big["probabilities"], keras_probabilities(acceptor_export, texts),
                               atol=TOLERANCE)
    for index in (0, 1, 999):  # alone (no padding) equals its row of the padded batch
        alone = serve(acceptor_export, text=[texts[index]])
        np.testing.assert_allclose(alone["probabilities"][0], big["probabilities"][index],
                                   atol=TOLERANCE)


def test_empty_batch(acceptor_export):
    import tensorflow as tf

    out = serve(acceptor_export, text=tf.constant([], tf.string))
    assert out["probabilities"].shape == (0, 2) and out["label"].shape == (0,)


def test_wrong_shapes_are_refused_by_the_signature(acceptor_export, pair_export):
    import tensorflow as tf

    # A signature does not enforce its (None,) shape when called; the graph's own ops refuse
    # other ranks with an error (the serving process goes on).
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be a vector"):
        serve(acceptor_export, text=tf.constant("a scalar"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be a vector"):
        serve(acceptor_export, text=tf.constant([["a"], ["b"]]))
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError), match="string"):
        serve(acceptor_export, text=tf.constant([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="same number of strings"):
        serve(pair_export, premise=["a", "b"], hypothesis=["c"])
    assert serve(acceptor_export, text=["still serving"])["label"].shape == (1,)


def test_tagger_bad_input(transducer_export):
    import tensorflow as tf

    texts = tf.constant([b"", b"   ", INVALID_UTF8, "the \U0001F600 movie".encode(), b"a"])
    out = serve(transducer_export, text=texts)
    assert out["lengths"].tolist() == [0, 0, 4, 3, 1]
    assert [t.decode() for t in out["tokens"][2]] == ["great", "\ufffd\ufffd", "movie", "\ufffd"]
    assert (out["tags"][:2] == b"").all() and not out["probabilities"][:2].any()
    reference = keras_probabilities(transducer_export, ["the \U0001F600 movie"])[0]
    np.testing.assert_allclose(out["probabilities"][3, :3], reference, atol=TOLERANCE)
    only_empty = serve(transducer_export, text=["", ""])
    assert only_empty["tags"].shape == (2, 0) and only_empty["lengths"].tolist() == [0, 0]


def test_pair_encoder_bad_input(pair_export):
    import tensorflow as tf

    out = serve(pair_export, premise=tf.constant([b"", INVALID_UTF8]),
                hypothesis=tf.constant(["  ".encode(), "\U0001F600".encode()]))
    vectorize = pair_export.vectorizer.vectorize
    premises, hypotheses = ["", INVALID_UTF8.decode("utf-8", "replace")], ["  ", "\U0001F600"]
    expected = np.asarray(pair_export.model(
        {"premise": vectorize(premises, ragged=False), "hypothesis": vectorize(hypotheses, ragged=False)},
        training=False))
    np.testing.assert_allclose(out["probabilities"], expected, atol=TOLERANCE)


def test_language_model_bad_input(lm_export):
    import tensorflow as tf

    prefixes = tf.constant([b"", INVALID_UTF8, ("light " * 20_000)[:100_000].encode(),
                            "\U0001F600".encode()])
    out = serve(lm_export, prefix=prefixes)
    assert out["probabilities"].shape[0] == 4 and np.isfinite(out["probabilities"]).all()
    np.testing.assert_allclose(out["probabilities"][0], _oov_output(lm_export)[-1], atol=TOLERANCE)
    generated = serve(lm_export, "generate", prefix=prefixes, length=tf.constant(5),
                      temperature=tf.constant(0.5), seed=tf.constant(1, tf.int64))
    assert [len(text.decode()) for text in generated["text"]] == [5, 5, 5, 5]


def test_empty_batches_of_every_kind(transducer_export, pair_export, lm_export):
    import tensorflow as tf

    nothing = tf.constant([], tf.string)
    assert serve(transducer_export, text=nothing)["tags"].shape[0] == 0
    assert serve(pair_export, premise=nothing, hypothesis=nothing)["label"].shape == (0,)
    assert serve(lm_export, prefix=nothing)["probabilities"].shape[0] == 0


@pytest.mark.parametrize("arguments, message", [
    (["--top", "-1"], "--top must be a positive number"),
    (["--top", "0"], "--top must be a positive number"),
    (["--generate", "-3"], "length must be in [0, 10000], got] [-3]"),
    (["--generate", "20000"], "length must be in [0, 10000], got] [20000]"),
    (["--generate", "5", "--temperature", "nan"], "temperature must be a finite number >= 0"),
])
def test_zoo_predict_refuses_bad_language_model_options_in_one_line(lm_export, capsys, arguments, message):
    from zoo import cli

    assert cli.main(["predict", str(lm_export.path), "And God", *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1, error
