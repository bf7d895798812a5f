"""Vectorizers: vocabulary from train only, min count, punctuation, empty text -> [1], saving."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from zoo.data import vectorize as vz  # noqa: E402

TRAIN = ["The cat sat on the mat.", "The dog sat.", "A cat, a dog; the end!"]


def tokens_of(texts, lowercase=True):
    standardize = vz.lowercase_split_punctuation if lowercase else vz.split_punctuation
    return [[t.decode() for t in row] for row in
            vz._tokenize(texts, standardize, "whitespace").to_list()]


def test_vocabulary_layout_counts_and_order():
    vectorizer = vz.build_word_vectorizer(TRAIN)
    vocabulary = vectorizer.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"]
    # the: 4, a: 2 (A/a), cat: 2, dog: 2, sat: 2, .: 2, then singletons sorted.
    assert vocabulary[2:8] == ["the", ".", "a", "cat", "dog", "sat"]
    assert set(vocabulary[8:]) == {"!", ",", ";", "end", "mat", "on"}
    assert vocabulary[8:] == sorted(vocabulary[8:])


def test_vocabulary_from_train_only_dev_words_are_oov():
    vectorizer = vz.build_word_vectorizer(TRAIN)
    ids = vz.vectorize(vectorizer, ["the zebra sat"]).to_list()[0]
    vocabulary = vectorizer.get_vocabulary()
    assert ids == [vocabulary.index("the"), vz.OOV_ID, vocabulary.index("sat")]
    assert "zebra" not in vocabulary


def test_min_count_and_max_tokens():
    vectorizer = vz.build_word_vectorizer(TRAIN, min_count=2)
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "the", ".", "a", "cat", "dog", "sat"]
    assert vz.vectorize(vectorizer, ["the mat"]).to_list() == [[2, 1]]
    # max_tokens counts padding and OOV, as in Keras.
    vectorizer = vz.build_word_vectorizer(TRAIN, max_tokens=4)
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "the", "."]
    with pytest.raises(ValueError):
        vz.build_word_vectorizer(TRAIN, min_count=0)
    with pytest.raises(ValueError):
        vz.build_word_vectorizer(TRAIN, max_tokens=2)


def test_counts_match_keras_counts():
    counts = vz.count_word_tokens(TRAIN)
    assert counts["the"] == 4 and counts["a"] == 2 and counts["."] == 2 and counts["!"] == 1
    assert sum(counts.values()) == sum(len(row) for row in tokens_of(TRAIN))


def test_punctuation_is_split_and_clitics_kept():
    assert tokens_of(["Don't stop, it's John's (big) day... “ok”"]) == [[
        "do", "n't", "stop", ",", "it", "'s", "john", "'s", "(", "big", ")", "day", ".", ".", ".",
        "“", "ok", "”"]]
    assert tokens_of(["DON'T Stop"], lowercase=False) == [["DO", "N'T", "Stop"]]
    assert tokens_of(["ÉCOLE café"]) == [["école", "café"]]


def test_every_training_token_has_its_own_id():
    train = ["Hello, wörld! Don't — “quote” x.y e-mail", "tabs\tand\nnewlines  here",
             "ÀÉÎ ß"]
    vectorizer = vz.build_word_vectorizer(train)
    ids = vz.vectorize(vectorizer, train).flat_values.numpy()
    assert (ids >= 2).all()
    assert len(ids) == sum(len(row) for row in tokens_of(train))


def test_case_kept_when_not_lowercasing():
    vectorizer = vz.build_word_vectorizer(["Apple apple"], lowercase=False)
    assert set(vectorizer.get_vocabulary()[2:]) == {"Apple", "apple"}
    assert vz.vectorize(vectorizer, ["APPLE"]).to_list() == [[1]]


@pytest.mark.parametrize("text", ["", " ", "  \t\n "])
def test_empty_text_is_one_oov_token(text):
    vectorizer = vz.build_word_vectorizer(TRAIN)
    assert vz.vectorize(vectorizer, [text]).to_list() == [[1]]
    assert vz.vectorize(vectorizer, text).to_list() == [[1]]  # one string is a batch of one
    assert vz.ZooVectorizer(vectorizer)(np.array([text])).numpy().tolist() == [[1]]
    dense = vz.vectorize(vectorizer, [text, text], ragged=False)
    assert dense.dtype == tf.int32
    np.testing.assert_array_equal(dense.numpy(), [[1], [1]])
    mixed = vz.vectorize(vectorizer, ["the cat sat", text], ragged=False).numpy()
    np.testing.assert_array_equal(mixed, [[2, 5, 7], [1, 0, 0]])


def test_empty_fix_runs_inside_a_graph():
    layer = vz.ZooVectorizer(vz.build_word_vectorizer(TRAIN))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(texts):
        return layer(texts)

    np.testing.assert_array_equal(serve(tf.constant(["", "the"])).numpy(), [[1], [2]])
    dataset = tf.data.Dataset.from_tensor_slices(["", "  ", "dog"]).batch(3).map(layer)
    np.testing.assert_array_equal(next(iter(dataset)).numpy(), [[1], [1], [6]])


def test_dense_output_is_right_padded_int32_and_truncates():
    vectorizer = vz.build_word_vectorizer(TRAIN)
    ids = vz.vectorize(vectorizer, ["the", "the cat sat on"], ragged=False)
    assert ids.dtype == tf.int32
    np.testing.assert_array_equal(ids.numpy(), [[2, 0, 0, 0], [2, 5, 7, 13]])
    fixed = vz.vectorize(vectorizer, ["the", "the cat sat on"], ragged=False, sequence_length=3)
    np.testing.assert_array_equal(fixed.numpy(), [[2, 0, 0], [2, 5, 7]])
    layer = vz.ZooVectorizer(vectorizer, sequence_length=5)
    assert layer(["the"]).shape == (1, 5)


def test_char_vectorizer_keeps_case_and_spaces():
    vectorizer = vz.build_char_vectorizer(["abba", "Ab c"], min_count=1)
    vocabulary = vectorizer.get_vocabulary()
    assert vocabulary[:4] == ["", "[UNK]", "b", "a"]  # b: 3, a: 2, then A, ' ', c by codepoint
    assert vocabulary[4:] == [" ", "A", "c"]
    ids = vz.vectorize(vectorizer, ["cab", "", "Z"]).to_list()
    assert ids == [[6, 3, 2], [1], [1]]
    rare = vz.build_char_vectorizer(["abba", "Ab c"], min_count=2)
    assert rare.get_vocabulary() == ["", "[UNK]", "b", "a"]
    lowered = vz.build_char_vectorizer(["AÉ"], lowercase=True)
    assert lowered.get_vocabulary()[2:] == ["a", "é"]


def test_token_vectorizer_one_id_per_token():
    vectorizer = vz.build_token_vectorizer([("The", "U.S.", "can't"), ("the", "dog")], min_count=1)
    assert vectorizer.get_vocabulary()[:3] == ["", "[UNK]", "the"]
    ids = vectorizer([["THE", "u.s.", "cat", "can't"], []]).to_list()
    vocabulary = vectorizer.get_vocabulary()
    assert ids == [[2, vocabulary.index("u.s."), 1, vocabulary.index("can't")], [1]]
    dense = vectorizer.vectorize(tf.constant([["dog", ""], ["", ""]]), ragged=False)
    np.testing.assert_array_equal(dense.numpy(), [[vocabulary.index("dog")], [1]])
    cased = vz.build_token_vectorizer([("The", "the")], lowercase=False)
    assert sorted(cased.get_vocabulary()[2:]) == ["The", "the"]
    assert vz.build_token_vectorizer([("a", "a", "b")], min_count=2).get_vocabulary() == [
        "", "[UNK]", "a"]
    with pytest.raises(TypeError):
        vz.build_token_vectorizer(["a string, not tokens"])


def test_token_vectorizer_char_ids_keep_case_and_truncate():
    vectorizer = vz.build_token_vectorizer([("The", "cat"), ("sat",)], max_word_chars=2)
    assert vectorizer.has_chars
    # Characters from the kept part of the tokens, case kept, most frequent first.
    assert vectorizer.get_char_vocabulary() == ["", "[UNK]", "a", "T", "c", "h", "s"]
    chars = vectorizer.get_char_vocabulary()
    ragged = vectorizer.char_ids([["The", "CAT", "Ünï"], []])
    assert ragged.to_list() == [[[chars.index("T"), chars.index("h")],
                                 [1, 1],            # "C", "A" unseen in training
                                 [1, 1]],
                                [[]]]               # empty sentence: one token of no characters
    # Word ids are lowercased, character ids are not; both give one row per token.
    assert vectorizer.vectorize([["The", "CAT", "Ünï"], []]).row_lengths().numpy().tolist() == [3, 1]
    dense = vectorizer.char_ids([["a"], []], ragged=False)
    assert dense.dtype == tf.int32 and dense.shape == (2, 1, 1)
    np.testing.assert_array_equal(dense.numpy(), [[[chars.index("a")]], [[0]]])
    np.testing.assert_array_equal(
        vectorizer.char_ids([["cat", "T"]], ragged=False, sequence_length=3).numpy(),
        [[[chars.index("c"), chars.index("a")], [chars.index("T"), 0], [0, 0]]])


def test_token_vectorizer_without_chars_and_bad_arguments():
    vectorizer = vz.build_token_vectorizer([("a", "b")])
    assert not vectorizer.has_chars and vectorizer.get_char_vocabulary() == []
    assert "char_vocabulary" not in vectorizer.get_config()  # older runs' JSON is unchanged
    with pytest.raises(ValueError, match="no character vocabulary"):
        vectorizer.char_ids([["a"]])
    with pytest.raises(ValueError, match="max_word_chars"):
        vz.build_token_vectorizer([("a",)], max_word_chars=-1)
    with pytest.raises(ValueError, match="max_word_chars"):
        vz.TokenVectorizer(["a"], char_vocabulary=["a"], max_word_chars=0)


def test_token_vectorizer_with_chars_serializes_in_safe_mode():
    vectorizer = vz.build_token_vectorizer([("Über", "cat")], max_word_chars=3)
    config = keras.saving.serialize_keras_object(vectorizer)
    again = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert again.get_char_vocabulary() == vectorizer.get_char_vocabulary()
    assert again.max_word_chars == 3
    tokens = [["Über", "cats", "x"]]
    assert again.char_ids(tokens).to_list() == vectorizer.char_ids(tokens).to_list()
    assert again.vectorize(tokens).to_list() == vectorizer.vectorize(tokens).to_list()


def test_encode_tags():
    ids, names = vz.encode_tags([("DET", "NOUN"), ("NOUN",)])
    assert names == ("DET", "NOUN") and ids == [(0, 1), (1,)]
    ids, names = vz.encode_tags([("X",)], label_names=("NOUN", "X"))
    assert ids == [(1,)]
    with pytest.raises(ValueError, match="sentence 0"):
        vz.encode_tags([("VERB",)], label_names=("NOUN",))


def test_text_vectorization_serializes_with_registered_standardize():
    vectorizer = vz.build_word_vectorizer(TRAIN)
    config = keras.saving.serialize_keras_object(vectorizer)
    restored = keras.saving.deserialize_keras_object(config)
    assert restored.get_vocabulary() == vectorizer.get_vocabulary()
    text = ["The dog's end, a cat!"]
    assert vz.vectorize(restored, text).to_list() == vz.vectorize(vectorizer, text).to_list()


def test_model_with_zoo_vectorizer_saves_and_reloads_in_safe_mode(tmp_path):
    vectorizer = vz.ZooVectorizer(vz.build_word_vectorizer(TRAIN))
    inputs = keras.Input(shape=(), dtype="string")
    ids = vectorizer(inputs)
    embedded = keras.layers.Embedding(vectorizer.vocabulary_size(), 3)(ids)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(embedded))
    texts = tf.constant(["the cat sat", ""])
    expected = model(texts).numpy()
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(restored(texts).numpy(), expected)
    token_vectorizer = vz.build_token_vectorizer([("a", "b")])
    clone = vz.TokenVectorizer.from_config(token_vectorizer.get_config())
    assert clone([["b", "zz"]]).to_list() == [[3, 1]]


def test_export_serves_raw_strings_with_the_empty_fix(tmp_path):
    vectorizer = vz.ZooVectorizer(vz.build_word_vectorizer(TRAIN))
    inputs = keras.Input(shape=(), dtype="string")
    model = keras.Model(inputs, vectorizer(inputs))
    model.export(str(tmp_path / "export"), verbose=False)
    served = tf.saved_model.load(str(tmp_path / "export")).serve(tf.constant(["the", "   "]))
    np.testing.assert_array_equal(served.numpy(), [[2], [1]])


def test_tokens_are_what_the_ids_stand_for_one_to_one():
    from zoo.data.vectorize import ZooVectorizer, build_char_vectorizer, build_word_vectorizer

    texts = ["Don't go, Bob.", "héllo wörld", ""]
    for vectorizer in (ZooVectorizer(build_word_vectorizer(texts[:2])),
                       ZooVectorizer(build_char_vectorizer(texts[:2]))):
        vocabulary = vectorizer.get_vocabulary()
        tokens = vectorizer.tokens(texts).to_list()
        ids = vectorizer.vectorize(texts, ragged=True).to_list()
        for row_tokens, row_ids in zip(tokens[:2], ids[:2]):
            assert [vocabulary[i] for i in row_ids] == [t.decode("utf-8") for t in row_tokens]
        assert tokens[2] == [] and ids[2] == [1]  # empty text: no token, the OOV id


def test_control_and_format_characters_never_make_or_join_words():
    """cp1252 text decoded as Latin-1 holds C1 controls (\\u0096 for a dash); GloVe has no such word."""
    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer

    vectorizer = ZooVectorizer(build_word_vectorizer(["great\u0096movie", "soft\u00adware \x01 ok\u200b"]))
    assert sorted(map(str, vectorizer.get_vocabulary()[2:])) == ["great", "movie", "ok", "software"]
    assert [t.decode() for t in vectorizer.tokens(["a\u0096b\u00adc"]).to_list()[0]] == ["a", "bc"]
