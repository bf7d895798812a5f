"""Batching: right padding, bucketing vs fixed padding, sample weights, LM windows, seeding."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import collections  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from zoo.data import batching as bt  # noqa: E402
from zoo.data import vectorize as vz  # noqa: E402

WORDS = [f"w{i}" for i in range(50)]


def skewed_examples(count=1500, seed=0):
    """Texts with a realistic, right-skewed length distribution; label = token count."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(2.6, 0.6, count).astype(int), 0, 150)
    return [(" ".join(rng.choice(WORDS, n)), int(n)) for n in lengths]


@pytest.fixture(scope="module")
def word_vectorizer():
    return vz.build_word_vectorizer([" ".join(WORDS)])


def assert_right_padded(ids):
    ids = np.asarray(ids)
    for row in ids:
        real = np.flatnonzero(row)
        assert len(real) >= 1, "a row is all padding"
        assert real[-1] == len(real) - 1, f"padding not on the right: {row}"


def test_classification_batches_are_right_padded_and_aligned(word_vectorizer):
    examples = skewed_examples(400) + [("", 0), ("   ", 0)]
    seen = collections.Counter()
    for ids, labels in bt.classification_dataset(examples, word_vectorizer, batch_size=16):
        assert ids.dtype == tf.int32 and labels.dtype == tf.int32
        assert_right_padded(ids)
        lengths = np.count_nonzero(ids.numpy(), axis=1)
        # label = number of tokens; empty texts are one OOV token.
        np.testing.assert_array_equal(lengths, np.maximum(labels.numpy(), 1))
        seen.update(labels.numpy().tolist())
    assert seen == collections.Counter(label for _, label in examples)


def test_bucketing_cuts_padding_far_below_fixed_and_batch_padding(word_vectorizer):
    examples = skewed_examples(1500)
    fractions = {
        mode: bt.padding_fraction(bt.classification_dataset(
            examples, word_vectorizer, batch_size=32, padding=mode, shuffle=True, seed=3))
        for mode in bt.PADDING_MODES}
    assert fractions["bucket"] < 0.10
    assert fractions["bucket"] < fractions["batch"] / 4
    assert fractions["batch"] < fractions["fixed"]
    lengths = np.array([max(label, 1) for _, label in examples])
    # fixed padding pads everything to the longest example
    assert fractions["fixed"] == pytest.approx(1 - lengths.mean() / lengths.max(), abs=1e-6)


def test_bucket_boundaries_grow_geometrically():
    boundaries = bt.bucket_boundaries_for([1, 5, 200], growth=0.1)
    assert boundaries[:10] == list(range(2, 12))
    assert boundaries[-1] > 200 and boundaries[-2] <= 200
    widths = np.diff(boundaries)
    assert (widths <= np.ceil(np.array(boundaries[:-1]) * 0.1) + 1).all()


def test_fixed_padding_and_truncation(word_vectorizer):
    examples = skewed_examples(100)
    dataset = bt.classification_dataset(examples, word_vectorizer, batch_size=8, padding="fixed",
                                        max_length=12)
    widths = {int(ids.shape[1]) for ids, _ in dataset}
    assert widths == {12}
    for ids, labels in dataset:
        np.testing.assert_array_equal(np.count_nonzero(ids.numpy(), axis=1),
                                      np.clip(labels.numpy(), 1, 12))


def test_bucket_batches_hold_similar_lengths(word_vectorizer):
    dataset = bt.classification_dataset(skewed_examples(800), word_vectorizer, batch_size=16)
    for ids, _ in dataset:
        lengths = np.count_nonzero(ids.numpy(), axis=1)
        bucket = np.searchsorted(bt.bucket_boundaries_for([150]), lengths, side="right")
        assert len(set(bucket.tolist())) == 1


def test_seeded_shuffle_is_reproducible_and_reshuffles(word_vectorizer):
    examples = [(" ".join(["w1"] * (i % 7 + 1)), i) for i in range(200)]

    def order(seed):
        dataset = bt.classification_dataset(examples, word_vectorizer, batch_size=10,
                                            shuffle=True, seed=seed)
        return [[labels.numpy().tolist() for _, labels in dataset] for _epoch in range(2)]

    first, again, other = order(7), order(7), order(8)
    assert first == again
    assert first[0] != first[1]  # a new order each epoch
    assert first != other
    assert sorted(sum(first[0], [])) == list(range(200))


def test_tagging_sample_weights_are_zero_exactly_on_padding():
    sentences = [(("The", "dog", "barks"), (0, 1, 2)), (("A",), (0,)), ((), ()),
                 (("big", "dog", "runs", "far", "away"), (3, 1, 2, 4, 4))]
    vectorizer = vz.build_token_vectorizer([tokens for tokens, _ in sentences])
    dataset = bt.tagging_dataset(sentences, vectorizer, batch_size=4, padding="batch")
    ids, tags, weights = next(iter(dataset))
    assert ids.shape == tags.shape == weights.shape == (4, 5)
    assert weights.dtype == tf.float32 and tags.dtype == tf.int32
    np.testing.assert_array_equal(weights.numpy(), [[1, 1, 1, 0, 0], [1, 0, 0, 0, 0],
                                                    [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]])
    np.testing.assert_array_equal(tags.numpy()[0], [0, 1, 2, 0, 0])
    np.testing.assert_array_equal(tags.numpy()[3], [3, 1, 2, 4, 4])
    np.testing.assert_array_equal(ids.numpy()[2], [1, 0, 0, 0, 0])  # empty sentence: one OOV
    assert_right_padded(ids)
    # weights are exactly "a real token" (the empty sentence's OOV is not one)
    real = (ids.numpy() != 0) & ~((np.arange(4) == 2)[:, None])
    np.testing.assert_array_equal(weights.numpy() == 1, real)


def test_tagging_bucketed_weights_match_tokens():
    rng = np.random.default_rng(1)
    sentences = []
    for _ in range(300):
        n = int(rng.integers(1, 40))
        tags = tuple(int(t) for t in rng.integers(0, 5, n))
        sentences.append((tuple(rng.choice(WORDS, n)), tags))
    vectorizer = vz.build_token_vectorizer([tokens for tokens, _ in sentences])
    total = 0
    for ids, tags, weights in bt.tagging_dataset(sentences, vectorizer, batch_size=16,
                                                 shuffle=True):
        np.testing.assert_array_equal(weights.numpy(), (ids.numpy() != 0).astype(np.float32))
        assert (tags.numpy()[weights.numpy() == 0] == 0).all()
        total += int(weights.numpy().sum())
    assert total == sum(len(tokens) for tokens, _ in sentences)


def test_tagging_rejects_misaligned_examples_and_word_vectorizers(word_vectorizer):
    vectorizer = vz.build_token_vectorizer([("a", "b")])
    with pytest.raises(ValueError, match="example 1"):
        bt.tagging_dataset([(("a",), (0,)), (("a", "b"), (0,))], vectorizer)
    with pytest.raises(TypeError):
        bt.tagging_dataset([(("a",), (0,))], word_vectorizer)


def test_tagging_with_chars_yields_both_inputs_aligned_and_bucketed_alike():
    rng = np.random.default_rng(2)
    words = WORDS + ["Capital", "x", "Longerthanten"]
    sentences = [((), ())]
    for _ in range(200):
        n = int(rng.integers(1, 30))
        sentences.append((tuple(rng.choice(words, n)), tuple(int(t) for t in rng.integers(0, 5, n))))
    plain = vz.build_token_vectorizer([tokens for tokens, _ in sentences])
    chars = vz.build_token_vectorizer([tokens for tokens, _ in sentences], max_word_chars=10)
    with_chars = list(bt.tagging_dataset(sentences, chars, batch_size=16, shuffle=True, seed=3))
    without = list(bt.tagging_dataset(sentences, plain, batch_size=16, shuffle=True, seed=3))
    assert len(with_chars) == len(without)
    seen = {}
    for (inputs, tags, weights), (ids, plain_tags, _) in zip(with_chars, without):
        assert set(inputs) == {"token_ids", "char_ids"}
        # Same batches as without characters: bucketing and shuffling are unchanged.
        np.testing.assert_array_equal(inputs["token_ids"].numpy(), ids.numpy())
        np.testing.assert_array_equal(tags.numpy(), plain_tags.numpy())
        char_ids = inputs["char_ids"].numpy()
        assert char_ids.dtype == np.int32 and char_ids.shape[:2] == ids.shape
        assert 1 <= char_ids.shape[2] <= 10
        # Padded time steps have no characters.
        assert not char_ids[ids.numpy() == 0].any()
        for row in range(len(ids)):
            length = int((ids.numpy()[row] != 0).sum())
            seen[tuple(ids.numpy()[row, :length])] = char_ids[row]
    # Each sentence's character ids are those the vectorizer gives it alone, then zeros.
    for tokens, _ in sentences[1:30]:
        key = tuple(chars.vectorize([list(tokens)], ragged=False).numpy()[0])
        alone = chars.char_ids([list(tokens)], ragged=False).numpy()[0]
        batched = seen[key]
        np.testing.assert_array_equal(batched[: len(key), : alone.shape[1]], alone)
        assert not batched[len(key):].any() and not batched[:, alone.shape[1]:].any()
        assert (alone[:, 0] != 0).all()  # every real token has characters
    # padding_fraction counts sentence padding only, not the padding inside words.
    assert bt.padding_fraction(with_chars) == pytest.approx(bt.padding_fraction(without))


def test_pair_batches(word_vectorizer):
    rng = np.random.default_rng(2)
    pairs = [(" ".join(rng.choice(WORDS, int(a))), " ".join(rng.choice(WORDS, int(b))), int(a))
             for a, b in zip(rng.integers(0, 30, 500), rng.integers(1, 12, 500))]
    bucketed = bt.pair_dataset(pairs, word_vectorizer, batch_size=16, shuffle=True)
    count = 0
    for inputs, labels in bucketed:
        assert set(inputs) == {"premise", "hypothesis"}
        assert_right_padded(inputs["premise"])
        assert_right_padded(inputs["hypothesis"])
        np.testing.assert_array_equal(np.count_nonzero(inputs["premise"].numpy(), axis=1),
                                      np.maximum(labels.numpy(), 1))
        count += len(labels)
    assert count == len(pairs)
    plain = bt.pair_dataset(pairs, word_vectorizer, batch_size=16, padding="batch")
    assert bt.padding_fraction(bucketed) < 0.1 < bt.padding_fraction(plain)


def test_language_model_windows_are_shifted_by_one():
    documents = ["abcdefghij" * 3, "", "klmnop"]
    vectorizer = vz.build_char_vectorizer(documents + ["\n"])
    stream = bt.id_stream(documents, vectorizer)
    assert len(stream) == 30 + 1 + 6  # documents joined by "\n"; the empty one skipped
    dataset = bt.language_model_dataset(documents, vectorizer, sequence_length=5, batch_size=2,
                                        shuffle=False, drop_remainder=False)
    inputs = np.concatenate([x.numpy() for x, _ in dataset])
    targets = np.concatenate([y.numpy() for _, y in dataset])
    assert inputs.shape == (7, 5) and inputs.dtype == np.int32
    np.testing.assert_array_equal(inputs.reshape(-1), stream[:35])
    np.testing.assert_array_equal(targets.reshape(-1), stream[1:36])
    shapes = {x.shape for x, _ in bt.language_model_dataset(documents, vectorizer,
                                                            sequence_length=5, batch_size=2)}
    assert shapes == {(2, 5)}  # drop_remainder by default
    assert bt.padding_fraction(dataset) == 0.0


def test_language_model_stateful_rows_continue():
    text = "".join(chr(ord("a") + i % 26) for i in range(403))
    vectorizer = vz.build_char_vectorizer([text])
    stream = bt.id_stream([text], vectorizer)
    batches = list(bt.language_model_dataset([text], vectorizer, sequence_length=10,
                                             batch_size=4, stateful=True))
    assert len(batches) == 10  # (403 - 1) // 4 = 100 per row -> 10 windows of 10
    rows = np.concatenate([x.numpy() for x, _ in batches], axis=1)
    targets = np.concatenate([y.numpy() for _, y in batches], axis=1)
    for i in range(4):
        np.testing.assert_array_equal(rows[i], stream[i * 100 : i * 100 + 100])
        np.testing.assert_array_equal(targets[i], stream[i * 100 + 1 : i * 100 + 101])
    with pytest.raises(ValueError):
        bt.language_model_dataset(["abc"], vectorizer, sequence_length=10)


def test_padding_fraction_counts_zeros_of_inputs():
    dataset = tf.data.Dataset.from_tensors(
        ({"premise": tf.constant([[1, 2, 0, 0]]), "hypothesis": tf.constant([[3, 0]])},
         tf.constant([0])))
    assert bt.padding_fraction(dataset) == pytest.approx(3 / 6)
    ids = tf.data.Dataset.from_tensors((tf.constant([[4, 0], [5, 6]]), tf.constant([1, 1])))
    assert bt.padding_fraction(ids) == pytest.approx(1 / 4)


def test_bad_arguments(word_vectorizer):
    with pytest.raises(ValueError):
        bt.classification_dataset([("a", 0)], word_vectorizer, padding="nope")
    with pytest.raises(ValueError):
        bt.classification_dataset([("a", 0)], word_vectorizer, batch_size=0)


@pytest.mark.parametrize("drop_remainder", [False, True])
def test_bucketed_datasets_know_their_number_of_batches(word_vectorizer, drop_remainder):
    """Keras needs the count for its progress bar; a wrong count would cut or pad epochs."""
    dataset = bt.classification_dataset(skewed_examples(700), word_vectorizer, batch_size=32,
                                         shuffle=True, seed=1, drop_remainder=drop_remainder)
    assert int(dataset.cardinality()) == sum(1 for _ in dataset)
