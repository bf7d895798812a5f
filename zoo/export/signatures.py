"""The serving functions of an export: raw strings in, the vectorizer and the model inside the graph.

Every function here is traced by `keras.export.ExportArchive` into a SavedModel signature; it takes
batches of strings (`tf.TensorSpec([None], tf.string)`) and returns a dict of named tensors. What
each signature returns is described in `describe(kind)` (copied into `metadata.json`).

Rules shared by every signature:

- Text is first repaired with `tf.strings.unicode_transcode(errors="replace")`: bytes that are not
  UTF-8 become U+FFFD, so invalid input is a defined result, never a failing op.
- Empty or whitespace-only text is vectorized to the single OOV id `[1]` (the zoo's convention):
  classifiers return the model's output for the OOV token.
- Ids are right-padded with 0 to the longest text of the batch; the model masks the padding.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from zoo.data.batching import CHAR_IDS, TOKEN_IDS
from zoo.conventions import PADDING_ID, RESERVED_IDS
from zoo.data.vectorize import TokenVectorizer, ZooVectorizer

STRING_BATCH = "string (batch,)"
REPLACEMENT_CHARACTER = 0xFFFD
# The longest continuation the `generate` signature accepts (bounds a request's cost).
MAX_GENERATE_LENGTH = 10_000
# The most target tokens the `decode` signatures write per source (bounds a request's cost).
MAX_DECODE_LENGTH = 1_000
# The signature each kind also exports as "serving_default" (TensorFlow Serving's default).
DEFAULT_SIGNATURE = {"acceptor": "classify", "pair_encoder": "classify", "transducer": "tag",
                     "language_model": "next", "encoder_decoder": "decode"}


def text_spec(name: str) -> tf.TensorSpec:
    return tf.TensorSpec([None], tf.string, name=name)


def repair_utf8(text: tf.Tensor) -> tf.Tensor:
    """Replaces every byte sequence that is not valid UTF-8 with U+FFFD (shape and dtype kept)."""
    return tf.strings.unicode_transcode(
        text, input_encoding="UTF-8", output_encoding="UTF-8", errors="replace",
        replacement_char=REPLACEMENT_CHARACTER)


class TextEncoder:
    """Raw strings -> (tokens, dense int32 ids) with the vectorizer a run saved.

    Accepts a `ZooVectorizer`, a bare `TextVectorization` (wrapped in a `ZooVectorizer`) or a
    `TokenVectorizer` (for pre-tokenized tagging input: the text is split on whitespace with
    `tf.strings.split` and the tokens are looked up).
    """

    def __init__(self, vectorizer):
        if isinstance(vectorizer, keras.layers.TextVectorization):
            vectorizer = ZooVectorizer(vectorizer)
        if not isinstance(vectorizer, ZooVectorizer | TokenVectorizer):
            raise TypeError(
                "the vectorizer must be a zoo ZooVectorizer, TokenVectorizer or a keras "
                f"TextVectorization, got {type(vectorizer).__name__}")
        self.vectorizer = vectorizer
        # Keras layers must be built before an export tracks them: run them once on a word.
        if isinstance(vectorizer, TokenVectorizer):
            vectorizer(tf.ragged.constant([["word"]]))
            if vectorizer.has_chars:
                vectorizer.char_ids(tf.ragged.constant([["word"]]))
        else:
            vectorizer(tf.constant(["word"]))

    @property
    def has_chars(self) -> bool:
        """Whether the encoder also gives character ids (a `TokenVectorizer` with characters)."""
        return isinstance(self.vectorizer, TokenVectorizer) and self.vectorizer.has_chars

    @property
    def layers(self) -> list:
        """The Keras layers that hold lookup tables (tracked explicitly by the export)."""
        if isinstance(self.vectorizer, TokenVectorizer):
            return [self.vectorizer, self.vectorizer.lookup] + (
                [self.vectorizer.char_lookup] if self.has_chars else [])
        return [self.vectorizer, self.vectorizer.vectorizer]

    def vocabulary(self) -> list[str]:
        return list(self.vectorizer.get_vocabulary())

    def tokens(self, text: tf.Tensor) -> tf.RaggedTensor:
        """The tokens the model sees, one per id (ragged strings, batch x None)."""
        if isinstance(self.vectorizer, TokenVectorizer):
            return tf.strings.split(text)
        # The vectorizer's own standardize + split, so tokens and ids correspond one to one.
        return self.vectorizer.tokens(text)

    def ids(self, text: tf.Tensor) -> tf.Tensor:
        """Dense int32 ids (batch, time >= 1), right-padded with 0; empty text -> [1]."""
        if isinstance(self.vectorizer, TokenVectorizer):
            ids = self.vectorizer.vectorize(tf.strings.split(text), ragged=False)
        else:
            ids = self.vectorizer.vectorize(text, ragged=False)
        return at_least_one_step(ids)

    def char_ids(self, text: tf.Tensor) -> tf.Tensor:
        """Dense int32 character ids (batch, time >= 1, chars >= 1) of the whitespace tokens,
        case kept, aligned with `ids`; empty text -> one token of no characters."""
        chars = self.vectorizer.char_ids(tf.strings.split(text), ragged=False)
        return tf.pad(chars, [[0, 0], [0, tf.maximum(1 - tf.shape(chars)[1], 0)], [0, 0]])

    def model_inputs(self, text: tf.Tensor):
        """What a transducer takes: the ids, or `{"token_ids", "char_ids"}` with characters."""
        if not self.has_chars:
            return self.ids(text)
        return {TOKEN_IDS: self.ids(text), CHAR_IDS: self.char_ids(text)}

    def ragged_ids(self, text: tf.Tensor) -> tf.RaggedTensor:
        if isinstance(self.vectorizer, TokenVectorizer):
            return self.vectorizer.vectorize(tf.strings.split(text), ragged=True)
        return self.vectorizer.vectorize(text, ragged=True)


def at_least_one_step(ids: tf.Tensor) -> tf.Tensor:
    """An empty batch has zero time steps, which the recurrent loop cannot stack: pad to one."""
    return tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])


def _label_of(probabilities: tf.Tensor, label_names: tf.Tensor) -> tf.Tensor:
    return tf.gather(label_names, tf.argmax(probabilities, axis=-1, output_type=tf.int32))


def classify_fn(model: keras.Model, encoder: TextEncoder, label_names):
    """Acceptor: `text` -> `probabilities` (batch, classes) float32, `label` (batch,) string."""
    names = tf.constant(list(label_names), tf.string)

    def classify(text):
        ids = encoder.ids(repair_utf8(text))
        probabilities = tf.cast(model(ids, training=False), tf.float32)
        return {"probabilities": probabilities, "label": _label_of(probabilities, names)}

    return classify


def classify_pair_fn(model: keras.Model, encoder: TextEncoder, label_names):
    """Pair encoder: `premise`, `hypothesis` -> `probabilities`, `label`."""
    names = tf.constant(list(label_names), tf.string)

    def classify_pair(premise, hypothesis):
        same = tf.debugging.assert_equal(
            tf.size(premise), tf.size(hypothesis),
            message="premise and hypothesis must hold the same number of strings")
        with tf.control_dependencies([same]):
            inputs = {"premise": encoder.ids(repair_utf8(premise)),
                      "hypothesis": encoder.ids(repair_utf8(hypothesis))}
        probabilities = tf.cast(model(inputs, training=False), tf.float32)
        return {"probabilities": probabilities, "label": _label_of(probabilities, names)}

    return classify_pair


def tag_fn(model: keras.Model, encoder: TextEncoder, label_names):
    """Transducer: `text` -> `tokens`, `tags`, `lengths`, `probabilities`.

    A transducer with character features gets each token's character ids computed in the graph
    from the same whitespace tokens (case kept), beside the token ids.

    `tokens` and `tags` are (batch, time) strings padded with "" on the right to the longest text of
    the batch; `lengths` (batch,) int32 counts each text's tokens; `probabilities` (batch, time,
    classes) is zero at padded positions. Empty text has no tokens: length 0, no tags.
    """
    names = tf.constant(list(label_names), tf.string)

    def tag(text):
        text = repair_utf8(text)
        tokens = encoder.tokens(text)
        lengths = tf.cast(tokens.row_lengths(), tf.int32)
        width = tf.reduce_max(tf.concat([lengths, [0]], axis=0))
        probabilities = tf.cast(model(encoder.model_inputs(text), training=False), tf.float32)
        probabilities = probabilities[:, :width]
        real = tf.sequence_mask(lengths, width)
        tags = tf.where(real, _label_of(probabilities, names), tf.constant("", tf.string))
        probabilities = probabilities * tf.cast(real, tf.float32)[..., None]
        return {"tokens": tokens.to_tensor(default_value=""), "tags": tags, "lengths": lengths,
                "probabilities": probabilities}

    return tag


def _window(ids: tf.RaggedTensor, context: int) -> tuple[tf.Tensor, tf.Tensor]:
    """The last `context` ids of each row: dense (batch, context) right-padded, and the lengths."""
    lengths = tf.cast(ids.row_lengths(), tf.int32)
    starts = tf.maximum(lengths - context, 0)
    kept = tf.RaggedTensor.from_row_lengths(
        tf.gather(ids.flat_values,
                  tf.ragged.range(tf.cast(ids.row_starts(), tf.int32) + starts,
                                  tf.cast(ids.row_starts(), tf.int32) + lengths).flat_values),
        tf.cast(lengths - starts, ids.row_splits.dtype))
    return kept.to_tensor(default_value=PADDING_ID, shape=[None, context]), lengths - starts


def _last_probabilities(model: keras.Model, window: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
    """The next-id distribution after each row's last real id (batch, vocabulary)."""
    width = tf.maximum(tf.reduce_max(tf.concat([lengths, [1]], axis=0)), 1)
    probabilities = tf.cast(model(window[:, :width], training=False), tf.float32)
    return tf.gather(probabilities, lengths - 1, batch_dims=1)


def next_fn(model: keras.Model, encoder: TextEncoder, context: int):
    """Language model: `prefix` -> `probabilities` (batch, vocabulary) of the next token, and
    `most_likely` (batch,) string. Only the last `context` tokens of a prefix are read."""
    vocabulary = tf.constant(encoder.vocabulary(), tf.string)

    def next_token(prefix):
        window, lengths = _window(encoder.ragged_ids(repair_utf8(prefix)), context)
        probabilities = _last_probabilities(model, window, lengths)
        choosable = _mask_reserved(probabilities, 0.0)
        return {"probabilities": probabilities,
                "most_likely": tf.gather(vocabulary, tf.argmax(choosable, axis=-1, output_type=tf.int32))}

    return next_token


def _mask_reserved(values: tf.Tensor, fill: float) -> tf.Tensor:
    size = tf.shape(values)[-1]
    reserved = tf.reduce_any(
        tf.equal(tf.range(size)[:, None], tf.constant(RESERVED_IDS, tf.int32)[None, :]), axis=1)
    return tf.where(reserved[None, :], tf.cast(fill, values.dtype), values)


def _append(window: tf.Tensor, lengths: tf.Tensor, next_ids: tf.Tensor, context: int):
    """Appends one id per row to right-padded windows of width `context`, sliding when full."""
    grown = tf.concat([window, tf.zeros_like(window[:, :1])], axis=1)
    grown = grown + tf.one_hot(lengths, context + 1, dtype=tf.int32) * next_ids[:, None]
    full = lengths + 1 > context
    window = tf.where(full[:, None], grown[:, 1:], grown[:, :context])
    return window, tf.minimum(lengths + 1, context)


def generate_fn(model: keras.Model, encoder: TextEncoder, context: int, separator: str):
    """Language model: `prefix`, `length`, `temperature`, `seed` -> `text` (the continuation).

    A `tf.while_loop`: at each step the model reads the last `context` ids, the reserved ids
    (padding, OOV) are excluded, and the next id is the argmax (temperature 0) or a draw from
    `p ** (1 / temperature)` with `tf.random.stateless_categorical` seeded by (`seed`, step): the
    same seed gives the same text. Also returns `ids` (batch, length) int32.
    """
    vocabulary = tf.constant(encoder.vocabulary(), tf.string)

    def generate(prefix, length, temperature, seed):
        checks = [
            tf.debugging.Assert(
                (length >= 0) & (length <= MAX_GENERATE_LENGTH),
                [f"length must be in [0, {MAX_GENERATE_LENGTH}], got", length]),
            tf.debugging.Assert(
                tf.math.is_finite(temperature) & (temperature >= 0),
                ["temperature must be a finite number >= 0, got", temperature]),
        ]
        with tf.control_dependencies(checks):
            length = tf.identity(length)
        window, lengths = _window(encoder.ragged_ids(repair_utf8(prefix)), context)
        batch = tf.shape(window)[0]
        generated = tf.TensorArray(tf.int32, size=length, element_shape=tf.TensorShape([None]))

        def step(index, window, lengths, generated):
            probabilities = _mask_reserved(_last_probabilities(model, window, lengths), 0.0)
            greedy = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
            logits = tf.math.log(tf.maximum(probabilities, 1e-30)) / tf.maximum(temperature, 1e-6)
            logits = _mask_reserved(logits, float("-inf"))
            sampled = tf.random.stateless_categorical(
                logits, 1, seed=tf.stack([seed, tf.cast(index, tf.int64)]), dtype=tf.int32)[:, 0]
            next_ids = tf.where(temperature > 0, sampled, greedy)
            window, lengths = _append(window, lengths, next_ids, context)
            return index + 1, window, lengths, generated.write(index, next_ids)

        _, _, _, generated = tf.while_loop(
            lambda index, *_: index < length, step,
            (tf.constant(0, tf.int32), window, lengths, generated),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape([None, context]),
                              tf.TensorShape([None]), tf.TensorShape(None)))
        ids = tf.cond(length > 0, lambda: tf.transpose(generated.stack()),
                      lambda: tf.zeros([batch, 0], tf.int32))  # stacking no steps fails
        text = tf.strings.reduce_join(tf.gather(vocabulary, ids), axis=1, separator=separator)
        return {"text": text, "ids": ids}

    return generate


def decode_fn(model: keras.Model, encoder: TextEncoder, beam_width: int, length_penalty: float):
    """Encoder-decoder: `source`, `max_length` -> `text`, `ids`, `lengths`, `scores`.

    The search is `zoo.models.encoder_decoder`'s own (greedy for `beam_width` 1, else beam search
    with GNMT's length penalty), traced into the graph: a `tf.while_loop` over target steps that
    stops when every row has written its end token or `max_length` tokens (0: twice the batch's
    longest source plus 10). `text` joins each output's tokens before the end token with spaces,
    as `zoo.models.decode` does; `scores` is its log-probability under the model.
    """
    from zoo.conventions import END_ID
    from zoo.models.encoder_decoder import beam_search, default_max_length, greedy_search

    vocabulary = tf.constant(encoder.vocabulary(), tf.string)

    def decode(source, max_length):
        check = tf.debugging.Assert(
            (max_length >= 0) & (max_length <= MAX_DECODE_LENGTH),
            [f"max_length must be in [0, {MAX_DECODE_LENGTH}] (0: twice the source plus 10), got",
             max_length])
        with tf.control_dependencies([check]):
            ids = encoder.ids(repair_utf8(source))
        default = tf.minimum(default_max_length(tf.shape(ids)[1]), MAX_DECODE_LENGTH)
        steps = tf.where(max_length > 0, max_length, default)
        if beam_width == 1:
            tokens, scores = greedy_search(model, ids, steps)
        else:
            tokens, scores = beam_search(model, ids, steps, beam_width, length_penalty)
        # The output is what comes before the first end token (padding only follows it).
        before_end = tf.equal(tf.cumsum(tf.cast(tf.equal(tokens, END_ID), tf.int32), axis=1), 0)
        kept = tf.ragged.boolean_mask(tokens, before_end & tf.not_equal(tokens, PADDING_ID))
        text = tf.strings.reduce_join(tf.gather(vocabulary, kept), axis=1, separator=" ")
        return {"text": text, "ids": kept.to_tensor(default_value=PADDING_ID),
                "lengths": tf.cast(kept.row_lengths(), tf.int32), "scores": tf.cast(scores, tf.float32)}

    return decode


def describe(kind: str, context: int | None = None, beam_width: int | None = None) -> dict:
    """What each signature of an export takes and returns (the `signatures` entry of metadata)."""
    classify = {
        "outputs": {"probabilities": "float32 (batch, classes), in label_names order",
                    "label": "string (batch,), the most probable label"},
    }
    if kind == "acceptor":
        return {"classify": {"inputs": {"text": STRING_BATCH}, **classify}}
    if kind == "pair_encoder":
        return {"classify": {
            "inputs": {"premise": STRING_BATCH, "hypothesis": STRING_BATCH}, **classify}}
    if kind == "transducer":
        return {"tag": {
            "inputs": {"text": STRING_BATCH + "; split on whitespace into tokens"},
            "outputs": {
                "tokens": "string (batch, time): the tokens, right-padded with ''",
                "tags": "string (batch, time): one tag per token; '' at padded positions "
                        "(positions >= lengths[i]), never a tag",
                "lengths": "int32 (batch,): the number of tokens of each text (0 for empty text)",
                "probabilities": "float32 (batch, time, classes): zero at padded positions",
            }}}
    if kind == "language_model":
        return {
            "next": {
                "inputs": {"prefix": STRING_BATCH},
                "outputs": {
                    "probabilities": "float32 (batch, vocabulary): the distribution of the token "
                                     f"after the prefix (only its last {context} tokens are read); "
                                     "index i is vocabulary[i] of this metadata",
                    "most_likely": "string (batch,): the most probable next token (padding and "
                                   "OOV excluded)"}},
            "generate": {
                "inputs": {"prefix": STRING_BATCH, "length": "int32 scalar, 0..10000",
                           "temperature": "float32 scalar >= 0 (0: argmax)",
                           "seed": "int64 scalar (same seed, same text)"},
                "outputs": {"text": "string (batch,): the continuation, without the prefix",
                            "ids": "int32 (batch, length)"}},
            "vocabulary": {"inputs": {},
                           "outputs": {"vocabulary": "string (vocabulary,): id -> token"}},
        }
    if kind == "encoder_decoder":
        decoding = {
            "inputs": {"source": STRING_BATCH,
                       "max_length": f"int32 scalar, 0..{MAX_DECODE_LENGTH}: target tokens at most, "
                                     "end token included (0: twice the longest source plus 10)"},
            "outputs": {"text": "string (batch,): the output's tokens joined by spaces",
                        "ids": "int32 (batch, time): the output's ids, right-padded with 0",
                        "lengths": "int32 (batch,): the output's number of tokens",
                        "scores": "float32 (batch,): the output's log-probability under the model "
                                  "(end token included)"}}
        return {"decode": {**decoding, "search": f"beam search, width {beam_width}"},
                "decode_greedy": {**decoding, "search": "greedy"}}
    raise ValueError(f"unknown model kind {kind!r}")
