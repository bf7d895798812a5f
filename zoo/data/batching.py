"""TaskData splits -> right-padded, length-bucketed `tf.data` batches (TensorFlow only).

Each function takes one split of a `TaskData` (a list of examples) and a vectorizer from
`zoo.data.vectorize`, vectorizes the whole split once (eagerly, in chunks), and returns a
`tf.data.Dataset` of int32 ids padded with 0 on the right:

  - `classification_dataset`: `(ids, label)`
  - `tagging_dataset`: `(ids, tag_ids, sample_weight)`, weight 1.0 on real tokens, 0.0 on padding
  - `pair_dataset`: `({"premise": ids, "hypothesis": ids}, label)`
  - `sequence_to_sequence_dataset`: `({"source": ids, "target": [start] + ids}, ids + [end],
    sample_weight)`, the decoder's inputs and outputs from one target (teacher forcing)
  - `language_model_dataset`: `(input_ids, target_ids)`, fixed-length windows of one long id stream,
    target = input shifted by one

Padding (`padding=`):
  - `"bucket"` (default): examples grouped by length (`tf.data.Dataset.group_by_window`) into
    buckets whose widths grow geometrically (`bucket_growth`, 10% by default), so a batch holds
    sentences of similar length; a pair is bucketed on both lengths.
  - `"batch"`: plain `padded_batch`, each batch padded to its longest example.
  - `"fixed"`: every batch padded to one length (`max_length`, or the longest example).

No example is ever all padding: an empty text is the single OOV id `[1]` (see `vectorize`).
Shuffling is seeded (`seed=`) and reshuffles each epoch; the same seed gives the same epochs.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from zoo.conventions import CHAR_IDS, END_ID, END_TOKEN, START_ID, START_TOKEN, TOKEN_IDS  # noqa: F401  (input names; re-exported)
from zoo.data.vectorize import OOV_ID, PADDING_ID, TokenVectorizer, at_least_one_char, vectorize


PADDING_MODES = ("bucket", "batch", "fixed")
_CHUNK = 8192


def bucket_boundaries_for(lengths, growth: float = 0.1) -> list[int]:
    """Bucket boundaries `b_0 < b_1 < ...` (bucket k holds lengths in [b_{k-1}, b_k)).

    Widths grow geometrically: `b_{k+1} = max(b_k + 1, ceil(b_k * (1 + growth)))`, so a batch's
    padding is at most about `growth` of its length (lengths below `1 / growth` get a bucket each).

    Args:
        lengths: example lengths (ints >= 1).
        growth: relative width of a bucket.
    """
    if growth <= 0:
        raise ValueError(f"growth must be > 0, got {growth}")
    longest = int(np.max(lengths)) if len(lengths) else 1
    boundaries = [2]
    while boundaries[-1] <= longest:
        boundaries.append(max(boundaries[-1] + 1, math.ceil(boundaries[-1] * (1 + growth))))
    return boundaries


def _ids_for(vectorizer, items, max_length: int | None) -> tf.RaggedTensor:
    """Vectorizes `items` in chunks -> one ragged int32 tensor (truncated to `max_length`)."""
    parts = []
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        if isinstance(vectorizer, TokenVectorizer):
            parts.append(vectorizer.vectorize([list(tokens) for tokens in chunk], ragged=True))
        else:
            parts.append(vectorize(vectorizer, [str(text) for text in chunk], ragged=True))
    if not parts:
        return tf.RaggedTensor.from_row_lengths(tf.zeros([0], tf.int32), tf.zeros([0], tf.int64))
    ids = tf.concat(parts, axis=0) if len(parts) > 1 else parts[0]
    if max_length is not None:
        ids = ids[:, :max_length]
    return ids


def _char_ids_for(vectorizer: TokenVectorizer, token_lists, max_length: int | None) -> tf.RaggedTensor:
    """Character ids (examples, None, None) of the token lists, in chunks, aligned with `_ids_for`."""
    parts = [vectorizer.char_ids([list(tokens) for tokens in token_lists[start : start + _CHUNK]],
                                 ragged=True, sequence_length=max_length)
             for start in range(0, len(token_lists), _CHUNK)]
    if not parts:
        return tf.RaggedTensor.from_nested_row_lengths(
            tf.zeros([0], tf.int32), [tf.zeros([0], tf.int64), tf.zeros([0], tf.int64)])
    return tf.concat(parts, axis=0) if len(parts) > 1 else parts[0]


def _bucket_keys(all_lengths: list[np.ndarray], boundaries: list[int]) -> np.ndarray:
    """One int64 key per example: the combination of its lengths' bucket indices."""
    num_buckets = len(boundaries) + 1
    keys = np.zeros(len(all_lengths[0]), dtype=np.int64)
    for lengths in all_lengths:
        keys = keys * num_buckets + np.searchsorted(boundaries, lengths, side="right")
    return keys


def _padded(rows, width):
    """Ragged rows -> dense, right-padded with 0 (to `width`, or to the longest row if None).

    Rows of rank 3 (character ids per token) are padded on the time axis the same way and on the
    character axis to the longest word of the batch (at least one column).
    """
    if not isinstance(rows, tf.RaggedTensor):
        return rows
    if rows.shape.rank == 3:
        return at_least_one_char(
            rows.to_tensor(default_value=0, shape=None if width is None else [None, width, None]))
    return rows.to_tensor(default_value=0, shape=None if width is None else [None, width])


def _batched(components, *, lengths: list[np.ndarray], batch_size: int, shuffle: bool, seed: int,
             padding: str, max_length: int | None, bucket_boundaries, bucket_growth: float,
             drop_remainder: bool, prefetch: bool) -> tf.data.Dataset:
    """Batches of `components` (a structure of ragged/dense tensors, one row per example).

    The pipeline moves example indices only (cheap scalars): shuffle, group by bucket key
    (`group_by_window`), batch; then one gather per batch pads the rows on the right.
    `lengths` holds the ragged components' lengths per example (the bucketing keys).
    """
    if padding not in PADDING_MODES:
        raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    size = len(lengths[0])
    width = None
    if padding == "fixed":
        width = max_length or max((int(np.max(x)) for x in lengths if len(x)), default=1)
    if padding == "bucket":
        if bucket_boundaries is None:
            boundaries = bucket_boundaries_for(np.concatenate(lengths), bucket_growth)
        else:
            boundaries = sorted(int(b) for b in bucket_boundaries)
        keys = _bucket_keys(lengths, boundaries)
    else:
        keys = np.zeros(size, dtype=np.int64)
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(size, dtype=np.int64), keys))
    if shuffle and size:
        dataset = dataset.shuffle(size, seed=seed, reshuffle_each_iteration=True)
    if padding == "bucket":

        @tf.autograph.experimental.do_not_convert
        def reduce_fn(_, window):
            return window.batch(batch_size, drop_remainder=drop_remainder)

        dataset = dataset.group_by_window(key_func=_second, reduce_func=reduce_fn,
                                          window_size=batch_size)
        # group_by_window hides the number of batches; it is known (each bucket gives
        # ceil(count / batch_size) batches), and telling tf.data lets Keras show a progress bar
        # with a total and stop warning that the input "ran out of data" after the first epoch.
        per_bucket = np.bincount(keys) if size else np.zeros(0, dtype=np.int64)
        batches = per_bucket // batch_size if drop_remainder else -(-per_bucket // batch_size)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(int(batches.sum())))
        if shuffle:
            # Buckets fill at different rates; a small buffer of batches mixes the lengths.
            dataset = dataset.shuffle(64, seed=seed + 1, reshuffle_each_iteration=True)
    else:
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)

    @tf.autograph.experimental.do_not_convert
    def assemble(indices, _):
        return tf.nest.map_structure(lambda rows: _padded(tf.gather(rows, indices), width),
                                     components)

    dataset = dataset.map(assemble)
    if prefetch:
        dataset = dataset.prefetch(tf.data.AUTOTUNE)
    return dataset


@tf.autograph.experimental.do_not_convert
def _second(_, key):
    return key


def classification_dataset(examples: Sequence, vectorizer, *, batch_size: int = 32,
                           shuffle: bool = False, seed: int = 0, padding: str = "bucket",
                           max_length: int | None = None, bucket_boundaries=None,
                           bucket_growth: float = 0.1, drop_remainder: bool = False,
                           prefetch: bool = True) -> tf.data.Dataset:
    """`(text, label)` examples -> batches of `(ids int32 (batch, time), label int32 (batch,))`.

    Args:
        examples: a classification split, e.g. `data.train`.
        vectorizer: `TextVectorization` (from `build_word_vectorizer`/`build_char_vectorizer`)
            or `ZooVectorizer`.
        batch_size: examples per batch (the last batch of a bucket may be smaller unless
            `drop_remainder`).
        shuffle: shuffle examples (and, bucketed, batches) each epoch, seeded by `seed`.
        seed: shuffling seed.
        padding: `"bucket"`, `"batch"` or `"fixed"` (see the module docstring).
        max_length: truncate texts to this many ids (and, `"fixed"`, pad to it).
        bucket_boundaries: explicit boundaries instead of `bucket_boundaries_for(growth)`.
        bucket_growth: relative bucket width for automatic boundaries.
        drop_remainder: drop incomplete batches.
        prefetch: add `prefetch(AUTOTUNE)`.
    """
    texts = [example[0] for example in examples]
    labels = np.asarray([int(example[1]) for example in examples], dtype=np.int32)
    ids = _ids_for(vectorizer, texts, max_length)
    return _batched(
        (ids, tf.constant(labels)), lengths=[ids.row_lengths().numpy()], batch_size=batch_size,
        shuffle=shuffle, seed=seed, padding=padding, max_length=max_length,
        bucket_boundaries=bucket_boundaries, bucket_growth=bucket_growth,
        drop_remainder=drop_remainder, prefetch=prefetch)


def pair_dataset(examples: Sequence, vectorizer, *, batch_size: int = 32, shuffle: bool = False,
                 seed: int = 0, padding: str = "bucket", max_length: int | None = None,
                 bucket_boundaries=None, bucket_growth: float = 0.1, drop_remainder: bool = False,
                 prefetch: bool = True) -> tf.data.Dataset:
    """`(premise, hypothesis, label)` -> `({"premise": ids, "hypothesis": ids}, label)` batches.

    Bucketed on both lengths at once (a key per pair of buckets), so neither side is padded much.
    Premise and hypothesis are padded each to its own longest in the batch. Arguments as in
    `classification_dataset`.
    """
    premises = [example[0] for example in examples]
    hypotheses = [example[1] for example in examples]
    labels = np.asarray([int(example[2]) for example in examples], dtype=np.int32)
    premise_ids = _ids_for(vectorizer, premises, max_length)
    hypothesis_ids = _ids_for(vectorizer, hypotheses, max_length)
    return _batched(
        ({"premise": premise_ids, "hypothesis": hypothesis_ids}, tf.constant(labels)),
        lengths=[premise_ids.row_lengths().numpy(), hypothesis_ids.row_lengths().numpy()],
        batch_size=batch_size, shuffle=shuffle, seed=seed, padding=padding,
        max_length=max_length, bucket_boundaries=bucket_boundaries,
        bucket_growth=bucket_growth, drop_remainder=drop_remainder, prefetch=prefetch)


def sequence_to_sequence_dataset(examples: Sequence, vectorizer, *, batch_size: int = 32,
                                 shuffle: bool = False, seed: int = 0, padding: str = "bucket",
                                 max_length: int | None = None, bucket_boundaries=None,
                                 bucket_growth: float = 0.1, drop_remainder: bool = False,
                                 prefetch: bool = True) -> tf.data.Dataset:
    """`(source, target)` texts -> `({"source": ids, "target": decoder_ids}, next_ids, sample_weight)`.

    `decoder_ids` is the start token (id 2) then the target's ids; `next_ids` the target's ids then
    the end token (id 3): position t of the decoder reads token t and predicts token t + 1.
    `sample_weight` is 1.0 on the target's real positions (the end token included) and 0.0 on
    padding. Bucketed on the source and target lengths at once. `max_length` truncates source
    and target ids (before the start and end tokens are added). Arguments as in
    `classification_dataset`; the vectorizer's vocabulary must hold the start and end tokens at
    ids 2 and 3 (`build_word_vectorizer(..., leading_tokens=(START_TOKEN, END_TOKEN))`).
    """
    vocabulary = vectorizer.get_vocabulary()
    if vocabulary[START_ID : END_ID + 1] != [START_TOKEN, END_TOKEN]:
        raise ValueError(f"sequence_to_sequence_dataset needs a vocabulary with {START_TOKEN!r} and "
                         f"{END_TOKEN!r} at ids {START_ID} and {END_ID}, got {vocabulary[START_ID:END_ID + 1]}")
    source_ids = _ids_for(vectorizer, [example[0] for example in examples], max_length)
    target_ids = _ids_for(vectorizer, [example[1] for example in examples], max_length)
    rows = target_ids.nrows()
    start = tf.fill([rows, 1], tf.constant(START_ID, tf.int32))
    end = tf.fill([rows, 1], tf.constant(END_ID, tf.int32))
    decoder_ids = tf.concat([start, target_ids], axis=1)
    next_ids = tf.concat([target_ids, end], axis=1)
    weights = tf.ragged.map_flat_values(lambda ids: tf.ones_like(ids, tf.float32), next_ids)
    return _batched(
        ({"source": source_ids, "target": decoder_ids}, next_ids, weights),
        lengths=[source_ids.row_lengths().numpy(), decoder_ids.row_lengths().numpy()],
        batch_size=batch_size, shuffle=shuffle, seed=seed, padding=padding,
        max_length=None if max_length is None else max_length + 1, bucket_boundaries=bucket_boundaries,
        bucket_growth=bucket_growth, drop_remainder=drop_remainder, prefetch=prefetch)


def tagging_dataset(examples: Sequence, vectorizer: TokenVectorizer, *, batch_size: int = 32,
                    shuffle: bool = False, seed: int = 0, padding: str = "bucket",
                    max_length: int | None = None, bucket_boundaries=None,
                    bucket_growth: float = 0.1, drop_remainder: bool = False,
                    prefetch: bool = True) -> tf.data.Dataset:
    """`(tokens, tags)` -> `(ids, tag_ids, sample_weight)` batches, all (batch, time).

    With a vectorizer that has a character vocabulary (`build_token_vectorizer(...,
    max_word_chars=N)`), the inputs are `{"token_ids": ids, "char_ids": chars}`, `chars` int32
    (batch, time, chars) from the same tokens (case kept), padded with 0 to the longest word of
    the batch; bucketing is by sentence length as without them.

    `sample_weight` is 1.0 on real tokens and 0.0 on padding, so padded positions are excluded
    from the loss and metrics explicitly (pass it as Keras' third element; do not rely on mask
    propagation). Padded tag positions hold tag 0, which the zero weight discards. An empty
    sentence becomes ids `[1]` with weight `[0.0]`.

    Args:
        examples: a tagging split, e.g. `data.train` (token tuple, tag-id tuple of equal length).
        vectorizer: a `TokenVectorizer` (one id per given token; a word `TextVectorization`
            would re-split the tokens and break the alignment with the tags).
        Other arguments as in `classification_dataset`.

    Raises:
        TypeError: the vectorizer is not a `TokenVectorizer`.
        ValueError: an example whose tokens and tags differ in length.
    """
    if not isinstance(vectorizer, TokenVectorizer):
        raise TypeError("tagging_dataset needs a TokenVectorizer (build_token_vectorizer), got "
                        f"{type(vectorizer).__name__}")
    tokens = []
    tag_rows, weight_rows = [], []
    for row, (sentence, tags) in enumerate(examples):
        if len(sentence) != len(tags):
            raise ValueError(f"example {row}: {len(sentence)} tokens but {len(tags)} tags")
        sentence, tags = list(sentence)[:max_length], [int(tag) for tag in tags][:max_length]
        tokens.append(sentence)
        if tags:
            tag_rows.append(tags)
            weight_rows.append([1.0] * len(tags))
        else:
            tag_rows.append([0])
            weight_rows.append([0.0])
    ids = _ids_for(vectorizer, tokens, max_length)
    lengths = ids.row_lengths().numpy()
    tag_lengths = np.array([len(tags) for tags in tag_rows], dtype=np.int64)
    if not np.array_equal(lengths, tag_lengths):  # cannot happen with a TokenVectorizer
        raise ValueError("the vectorizer did not give one id per token")
    total = int(tag_lengths.sum())
    flat_tags = np.fromiter((t for tags in tag_rows for t in tags), np.int32, total)
    flat_weights = np.fromiter((w for ws in weight_rows for w in ws), np.float32, total)
    tag_ids = tf.RaggedTensor.from_row_lengths(flat_tags, tag_lengths)
    weights = tf.RaggedTensor.from_row_lengths(flat_weights, tag_lengths)
    inputs = ids
    if vectorizer.has_chars:
        inputs = {TOKEN_IDS: ids, CHAR_IDS: _char_ids_for(vectorizer, tokens, max_length)}
    return _batched(
        (inputs, tag_ids, weights), lengths=[lengths], batch_size=batch_size, shuffle=shuffle,
        seed=seed, padding=padding, max_length=max_length, bucket_boundaries=bucket_boundaries,
        bucket_growth=bucket_growth, drop_remainder=drop_remainder, prefetch=prefetch)


def id_stream(documents: Sequence[str], vectorizer, separator: str | None = "\n") -> np.ndarray:
    """Documents -> one int32 id stream (documents joined by `separator`'s ids; empty ones skipped).

    Args:
        documents: a language-model split (`str` documents).
        vectorizer: usually a character vectorizer (`build_char_vectorizer`).
        separator: text put between documents (None or "" for none).
    """
    pieces = []
    separator_ids = None
    if separator:
        separator_ids = vectorize(vectorizer, [separator]).flat_values.numpy()
    for document in documents:
        if not document:
            continue
        if pieces and separator_ids is not None:
            pieces.append(separator_ids)
        pieces.append(vectorize(vectorizer, [document]).flat_values.numpy())
    if not pieces:
        return np.zeros([0], np.int32)
    return np.concatenate(pieces).astype(np.int32)


def language_model_dataset(documents: Sequence[str], vectorizer, *, sequence_length: int = 100,
                           batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                           stateful: bool = False, separator: str | None = "\n",
                           drop_remainder: bool = True, prefetch: bool = True) -> tf.data.Dataset:
    """A long id stream cut into `(input, target)` windows, target = input shifted by one.

    Windows do not overlap: window k is `stream[k*L : k*L+L]` with target
    `stream[k*L+1 : k*L+L+1]` (L = `sequence_length`); the stream's tail shorter than a window
    is dropped. Both are int32 (batch, L) with no padding.

    Args:
        documents: a language-model split (`str` documents, e.g. `data.train`).
        vectorizer: a character (or word) vectorizer.
        sequence_length: window length L.
        batch_size: windows per batch.
        shuffle: shuffle the windows each epoch (seeded); ignored when `stateful`.
        seed: shuffling seed.
        stateful: arrange batches for a stateful RNN: the stream is cut into `batch_size`
            contiguous rows and batch j holds window j of every row, so row i of batch j+1
            continues row i of batch j (no shuffling; `drop_remainder` is implied).
        separator: text between documents.
        drop_remainder: drop the last incomplete batch (fixed shapes).
        prefetch: add `prefetch(AUTOTUNE)`.

    Raises:
        ValueError: the stream is too short for one window (per row, when `stateful`).
    """
    if sequence_length < 1:
        raise ValueError(f"sequence_length must be >= 1, got {sequence_length}")
    stream = id_stream(documents, vectorizer, separator)
    length = sequence_length
    if stateful:
        row_length = (len(stream) - 1) // batch_size
        windows_per_row = row_length // length
        if windows_per_row < 1:
            raise ValueError(f"a stream of {len(stream)} ids is too short for {batch_size} rows "
                             f"of windows of {length}")
        used = windows_per_row * length
        rows = np.stack([stream[i * row_length : i * row_length + used + 1]
                         for i in range(batch_size)])
        inputs = rows[:, :-1].reshape(batch_size, windows_per_row, length).transpose(1, 0, 2)
        targets = rows[:, 1:].reshape(batch_size, windows_per_row, length).transpose(1, 0, 2)
        dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    else:
        count = (len(stream) - 1) // length
        if count < 1:
            raise ValueError(f"a stream of {len(stream)} ids is too short for one window of "
                             f"{length} (+1 for the target)")
        inputs = stream[: count * length].reshape(count, length)
        targets = stream[1 : count * length + 1].reshape(count, length)
        dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
        if shuffle:
            dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if prefetch:
        dataset = dataset.prefetch(tf.data.AUTOTUNE)
    return dataset


def _id_tensors(element):
    """The id tensors of a batch: its first component (a tensor, or a dict of tensors; character
    ids are left out: their zeros pad words, not sentences)."""
    inputs = element[0] if isinstance(element, tuple | list) else element
    if isinstance(inputs, dict):
        return [ids for name, ids in inputs.items() if name != CHAR_IDS]
    return [inputs]


def padding_fraction(dataset: tf.data.Dataset, max_batches: int | None = None) -> float:
    """Share of padded positions (id 0) among all id positions of the dataset's inputs.

    The inputs are each element's first component (for pairs, premise and hypothesis together).
    Id 0 only ever is padding: empty texts are `[1]`, never all padding.

    Args:
        dataset: batches from one of this module's functions.
        max_batches: look at the first batches only.
    """
    padded = total = 0
    for index, element in enumerate(dataset):
        if max_batches is not None and index >= max_batches:
            break
        for ids in _id_tensors(element):
            total += int(tf.size(ids))
            padded += int(tf.reduce_sum(tf.cast(tf.equal(ids, PADDING_ID), tf.int64)))
    return padded / total if total else 0.0


__all__ = [
    "PADDING_MODES", "OOV_ID", "bucket_boundaries_for", "classification_dataset", "pair_dataset",
    "tagging_dataset", "language_model_dataset", "id_stream", "padding_fraction",
]
