"""Text to token ids: word, character and pre-tokenized vectorizers (TensorFlow backend only).

Conventions of the zoo: ids are int32, 0 is padding (always on the right), 1 is the OOV token
`[UNK]` (the layout of `keras.layers.TextVectorization`: index 0 = `""`, index 1 = `"[UNK]"`).

The vocabulary is counted here in Python from the training texts (TextVectorization's `adapt` has
no minimum count) and handed to a plain `TextVectorization(vocabulary=..., output_mode="int")`, so
the same layer runs inside a tf graph on raw strings at export time. The counting uses the very
same tf ops as the layer (`standardize`, then `tf.strings.split` / `tf.strings.unicode_split`), so
every training token of a kept type maps to its own id.

Empty or whitespace-only text never yields an all-padding row: `vectorize` (and the layers
`ZooVectorizer`, `TokenVectorizer`) turn it into the single OOV id `[1]`, inside the graph, because
a fully masked row breaks the cuDNN path (see /work/shared/PITFALLS.md).

Examples:
    >>> vectorizer = build_word_vectorizer(["A cat.", "the cat sat"], min_count=2)
    >>> vectorizer.get_vocabulary()
    ['', '[UNK]', 'cat']
    >>> vectorize(vectorizer, ["The cat!", "   "]).to_list()
    [[1, 2, 1], [1]]
"""
from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence

import keras
import numpy as np
import tensorflow as tf

from zoo.conventions import OOV_ID, OOV_TOKEN, PADDING_ID, PADDING_TOKEN  # noqa: F401  (re-exported)

# Punctuation split off as tokens of its own. English clitics stay in one piece, the way GloVe 6B
# (Stanford tokenizer) writes them: "don't" -> "do n't", "cat's" -> "cat 's". A clitic's apostrophe
# is swapped for a placeholder while the punctuation is split, then put back. RE2 syntax
# (tf.strings.regex_replace); `(?i)` keeps clitics whole in text that is not lowercased.
_PLACEHOLDER = "\x01"
_NOT_CLITIC = r"(?i)(n)'(t)\b"
_CLITIC = r"(?i)'(s|re|ve|ll|d|m)\b"
_PUNCTUATION = (r"""[!"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']"""
                r"|[\x{2018}\x{201C}\x{201D}\x{2026}\x{2013}\x{2014}]")


def _split_punctuation_tf(texts):
    # Characters no word holds: format characters (soft hyphen, zero-width joiners) go, control
    # characters (C0/C1, e.g. the cp1252 dash `\u0096` decoded as Latin-1; our placeholder too)
    # separate words, so neither ends up inside a token or as one.
    texts = tf.strings.regex_replace(texts, r"\p{Cf}", "")
    texts = tf.strings.regex_replace(texts, r"\p{Cc}", " ")
    texts = tf.strings.regex_replace(texts, "\u2019", "'")  # curly apostrophe, as in "don’t"
    texts = tf.strings.regex_replace(texts, _NOT_CLITIC, " \\1" + _PLACEHOLDER + "\\2")
    texts = tf.strings.regex_replace(texts, _CLITIC, " " + _PLACEHOLDER + "\\1")
    texts = tf.strings.regex_replace(texts, _PUNCTUATION, r" \0 ")
    return tf.strings.regex_replace(texts, _PLACEHOLDER, "'")


@keras.saving.register_keras_serializable(package="zoo")
def split_punctuation(texts):
    """Standardize for word vectorizers, cased: puts spaces around punctuation.

    Punctuation becomes tokens of its own after a whitespace split; English clitics (`n't`, `'s`,
    `'re`, `'ve`, `'ll`, `'d`, `'m`) stay whole and split from their word, as in GloVe 6B.
    A registered Keras function, so a `TextVectorization` using it serializes and reloads in
    safe mode.

    Args:
        texts: `tf.Tensor` of strings, any shape.
    """
    return _split_punctuation_tf(texts)


@keras.saving.register_keras_serializable(package="zoo")
def lowercase_split_punctuation(texts):
    """Standardize for word vectorizers: Unicode lowercase, then `split_punctuation`."""
    return _split_punctuation_tf(tf.strings.lower(texts, encoding="utf-8"))


@keras.saving.register_keras_serializable(package="zoo")
def lowercase_utf8(texts):
    """Standardize for character vectorizers that lowercase (Unicode-aware, unlike "lower")."""
    return tf.strings.lower(texts, encoding="utf-8")


def _as_string_tensor(texts) -> tf.Tensor:
    """One text or a batch of texts (list, numpy array, tensor) -> a string tensor (batch,)."""
    if isinstance(texts, str | bytes):
        texts = [texts]
    if isinstance(texts, tf.Tensor | tf.RaggedTensor):
        return texts
    texts = [text.decode("utf-8") if isinstance(text, bytes) else str(text) for text in texts]
    return tf.constant(texts, dtype=tf.string) if texts else tf.zeros([0], tf.string)


def _chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _tokenize(texts, standardize, split: str) -> tf.RaggedTensor:
    """The tokenization TextVectorization applies (same ops, same order), for counting."""
    texts = _as_string_tensor(texts)
    if standardize is not None:
        texts = standardize(texts)
    if split == "whitespace":
        return tf.strings.split(texts)
    if split == "character":
        return tf.strings.unicode_split(texts, "UTF-8")
    raise ValueError(f"split must be 'whitespace' or 'character', got {split!r}")


def count_tokens(texts: Iterable[str], standardize=None, split: str = "whitespace",
                 chunk_size: int = 8192) -> collections.Counter:
    """Counts tokens exactly as a `TextVectorization(standardize, split)` would produce them.

    Args:
        texts: iterable of `str`.
        standardize: `None` or a callable on a string tensor (e.g. `lowercase_split_punctuation`).
        split: `"whitespace"` or `"character"`.
        chunk_size: texts tokenized per tf call.

    Returns:
        `collections.Counter` mapping token (`str`) to its count.
    """
    counts: collections.Counter = collections.Counter()
    texts = list(texts)
    for chunk in _chunks(texts, chunk_size):
        tokens = _tokenize(chunk, standardize, split).flat_values.numpy()
        counts.update(tokens.tolist())
    return collections.Counter({token.decode("utf-8"): n for token, n in counts.items()})


def count_word_tokens(texts: Iterable[str], lowercase: bool = True) -> collections.Counter:
    """Token counts under the word vectorizer's tokenization (input for the GloVe coverage)."""
    return count_tokens(texts, _word_standardize(lowercase), "whitespace")


def vocabulary_from_counts(counts: collections.Counter | dict, max_tokens: int | None = None,
                           min_count: int = 1) -> list[str]:
    """Types sorted by count (descending; ties by the token itself), special tokens excluded.

    Args:
        counts: token -> count.
        max_tokens: size of the whole vocabulary INCLUDING padding and OOV (as in Keras), so at
            most `max_tokens - 2` types are returned; `None` for no limit.
        min_count: types seen fewer times are left out (they become OOV).

    Returns:
        The vocabulary without `""` and `"[UNK]"` (the form `vocabulary=` takes).
    """
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    if max_tokens is not None and max_tokens < 3:
        raise ValueError(f"max_tokens counts padding and OOV, so it must be >= 3, got {max_tokens}")
    kept = [(token, n) for token, n in counts.items()
            if n >= min_count and token not in (PADDING_TOKEN, OOV_TOKEN)]
    kept.sort(key=lambda item: (-item[1], item[0]))
    vocabulary = [token for token, _ in kept]
    if max_tokens is not None:
        vocabulary = vocabulary[: max_tokens - 2]
    return vocabulary


def _word_standardize(lowercase: bool):
    return lowercase_split_punctuation if lowercase else split_punctuation


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str | bytes):
        raise TypeError("texts must be a list of strings, not one string")
    texts = list(texts)
    if not texts:
        raise ValueError("cannot build a vocabulary from no texts (pass the training split)")
    return texts


def build_word_vectorizer(texts: Iterable[str], max_tokens: int | None = None, min_count: int = 1,
                          lowercase: bool = True, name: str | None = None,
                          leading_tokens: Sequence[str] = ()) -> keras.layers.TextVectorization:
    """A word-level `TextVectorization` whose vocabulary comes from `texts` (the training split).

    Tokenization: Unicode lowercase (if `lowercase`), punctuation split off as tokens of its own
    (clitics such as `n't`, `'s` kept whole), split on whitespace. The layer is plain (no
    subclass): fixed vocabulary list, `output_mode="int"`, `ragged=True`, registered standardize
    function, so it serializes, reloads in safe mode and runs inside a tf graph on raw strings.
    Call it through `vectorize` / `ZooVectorizer` to get int32 ids with empty texts made `[1]`.

    Args:
        texts: training texts only (`str`).
        max_tokens: vocabulary size including padding (0) and OOV (1), as in Keras; `None` for
            no limit.
        min_count: types seen fewer times in `texts` become OOV.
        lowercase: lowercase before splitting.
        name: layer name.
        leading_tokens: tokens given the ids right after OOV (2, 3, ...), before the counted
            words, e.g. an encoder-decoder's start and end tokens (`zoo.conventions`); they count
            towards `max_tokens`.

    Returns:
        `keras.layers.TextVectorization`; `get_vocabulary()` is `["", "[UNK]", *leading_tokens,
        most frequent...]`.
    """
    texts = _check_texts(texts)
    standardize = _word_standardize(lowercase)
    vocabulary = vocabulary_from_counts(count_tokens(texts, standardize, "whitespace"),
                                        None if max_tokens is None else max_tokens - len(leading_tokens),
                                        min_count)
    vocabulary = list(leading_tokens) + [token for token in vocabulary if token not in leading_tokens]
    return keras.layers.TextVectorization(
        standardize=standardize, split="whitespace", output_mode="int", ragged=True,
        vocabulary=vocabulary or None, name=name)


def extend_vocabulary(vectorizer, words: Iterable[str]):
    """`(vectorizer with words appended to its vocabulary, the words appended)`.

    The vocabulary's existing ids are unchanged; a word is appended once, only if it is new and
    only if the vectorizer could ever produce it as a token (a `ZooVectorizer`'s tokenization of
    the word gives exactly the word; for a lowercasing `TokenVectorizer`, it is lowercase), so
    no row is added that no text can reach. For the open vocabulary of GloVe models: the extra
    words are the pretrained words the training split lacks (`zoo.tasks`).

    Args:
        vectorizer: a `ZooVectorizer` of words or a `TokenVectorizer`.
        words: candidate words, in the order their ids should take (e.g. GloVe's, by frequency).
    """
    vocabulary = vectorizer.get_vocabulary()
    known = set(vocabulary)
    candidates = []
    for word in words:
        if word and word not in known:
            known.add(word)
            candidates.append(word)
    if isinstance(vectorizer, TokenVectorizer):
        if vectorizer.lowercase:
            lowered = tf.strings.lower(tf.constant(candidates or [""]), encoding="utf-8").numpy()
            candidates = [word for word, low in zip(candidates, lowered) if low.decode("utf-8") == word]
        config = vectorizer.get_config()
        config["vocabulary"] = vocabulary[2:] + candidates
        return TokenVectorizer.from_config(config), candidates
    if not isinstance(vectorizer, ZooVectorizer) or vectorizer.vectorizer.get_config()["split"] != "whitespace":
        raise TypeError(f"extend_vocabulary takes a word ZooVectorizer or a TokenVectorizer, got {vectorizer!r}")
    reached = []
    for chunk in _chunks(candidates, 8192):
        tokens = vectorizer.tokens(chunk).to_list()
        reached.extend(word for word, row in zip(chunk, tokens) if row == [word.encode("utf-8")])
    config = vectorizer.vectorizer.get_config()
    inner = keras.layers.TextVectorization(
        standardize=config["standardize"], split="whitespace", output_mode="int", ragged=True,
        vocabulary=vocabulary[2:] + reached, name=config["name"])
    return ZooVectorizer(inner, ragged=vectorizer.ragged, sequence_length=vectorizer.sequence_length,
                         name=vectorizer.name), reached


def build_char_vectorizer(texts: Iterable[str], max_tokens: int | None = None, min_count: int = 1,
                          lowercase: bool = False, name: str | None = None
                          ) -> keras.layers.TextVectorization:
    """A character-level `TextVectorization` (`split="character"`, Unicode code points).

    No lowercasing by default; whitespace and newlines are characters like any other.

    Args:
        texts: training texts only (`str`); may be long documents.
        max_tokens: vocabulary size including padding and OOV; `None` for no limit.
        min_count: characters seen fewer times become OOV.
        lowercase: lowercase first (Unicode-aware).
        name: layer name.

    Returns:
        `keras.layers.TextVectorization` with `ragged=True`.
    """
    texts = _check_texts(texts)
    standardize = lowercase_utf8 if lowercase else None
    counts = count_tokens(texts, standardize, "character", chunk_size=64)  # texts may be books
    vocabulary = vocabulary_from_counts(counts, max_tokens, min_count)
    return keras.layers.TextVectorization(
        standardize=standardize, split="character", output_mode="int", ragged=True,
        vocabulary=vocabulary or None, name=name)


def ensure_nonempty(ids) -> tf.RaggedTensor:
    """Ragged int32 ids where every empty row has become `[OOV_ID]`; graph-safe.

    Args:
        ids: `tf.RaggedTensor` (batch, None) of ids, or a dense right-padded tensor (padding 0).
    """
    if not isinstance(ids, tf.RaggedTensor):
        ids = tf.RaggedTensor.from_tensor(ids, padding=PADDING_ID)
    ids = tf.cast(ids, tf.int32)
    is_empty = tf.equal(ids.row_lengths(), 0)
    fill = tf.RaggedTensor.from_row_lengths(
        tf.fill([tf.reduce_sum(tf.cast(is_empty, tf.int32))], tf.constant(OOV_ID, tf.int32)),
        tf.cast(is_empty, ids.row_splits.dtype))
    return tf.concat([ids, fill], axis=1)


def _finish(ids: tf.RaggedTensor, ragged: bool, sequence_length: int | None):
    if sequence_length is not None:
        ids = ids[:, :sequence_length]
    if ragged:
        return ids
    shape = None if sequence_length is None else [None, sequence_length]
    return ids.to_tensor(default_value=PADDING_ID, shape=shape)


def vectorize(vectorizer, texts, ragged: bool = True, sequence_length: int | None = None):
    """Runs a vectorizer and applies the zoo's conventions; usable eagerly and inside tf graphs.

    Args:
        vectorizer: a `TextVectorization` (ragged or dense), `ZooVectorizer` or `TokenVectorizer`.
        texts: strings, shape (batch,) or (batch, 1) (a list, numpy array or tensor); for a
            `TokenVectorizer`, token lists (see `TokenVectorizer`).
        ragged: return a `tf.RaggedTensor` (batch, None); else a dense tensor padded on the right.
        sequence_length: truncate to this many ids (and, dense, pad to exactly it).

    Returns:
        int32 ids; an empty or whitespace-only text gives `[1]`, never an all-padding row.
    """
    if isinstance(vectorizer, ZooVectorizer | TokenVectorizer):
        return vectorizer.vectorize(texts, ragged=ragged, sequence_length=sequence_length)
    return _finish(ensure_nonempty(vectorizer(_as_string_tensor(texts))), ragged, sequence_length)


class _IdsLayer(keras.layers.Layer):
    """What both vectorizer layers share: `call` is `vectorize`, and the output is int32 ids
    (batch, sequence_length or None), ragged or dense as configured."""

    def call(self, inputs):
        return self.vectorize(inputs)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor((inputs.shape[0], self.sequence_length), dtype="int32",
                                 ragged=self.ragged)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.sequence_length)


@keras.saving.register_keras_serializable(package="zoo")
class ZooVectorizer(_IdsLayer):
    """Raw strings -> int32 ids: a `TextVectorization` plus the zoo's conventions, in one layer.

    Wraps a plain `TextVectorization` (built by `build_word_vectorizer` / `build_char_vectorizer`)
    and post-processes its output inside the graph: int32, and an empty or whitespace-only text
    becomes the single OOV id `[1]` (never an all-padding row). Output is dense and right-padded
    with 0 (to the longest text of the batch, or to `sequence_length`), or ragged.

    Args:
        vectorizer: `keras.layers.TextVectorization` with `output_mode="int"`.
        ragged: bool, return a `tf.RaggedTensor` instead of a padded tensor (eager / tf.data use;
            a functional model wants `ragged=False`).
        sequence_length: int or None, truncate to (and, dense, pad to) this length.

    Examples:
        >>> layer = ZooVectorizer(build_word_vectorizer(["a b", "b c"]))
        >>> layer(["b a", ""]).numpy().tolist()
        [[2, 3], [1, 0]]
    """

    def __init__(self, vectorizer, ragged: bool = False, sequence_length: int | None = None,
                 **kwargs):
        kwargs.setdefault("dtype", "int32")
        super().__init__(**kwargs)
        if isinstance(vectorizer, dict):
            vectorizer = keras.saving.deserialize_keras_object(vectorizer)
        self.vectorizer = vectorizer
        self.ragged = bool(ragged)
        self.sequence_length = sequence_length
        self.supports_masking = False

    def vectorize(self, texts, ragged: bool | None = None, sequence_length: int | None = None):
        ragged = self.ragged if ragged is None else ragged
        length = self.sequence_length if sequence_length is None else sequence_length
        return _finish(ensure_nonempty(self.vectorizer(_as_string_tensor(texts))), ragged, length)

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, str | bytes | list | tuple | np.ndarray):
            inputs = _as_string_tensor(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def tokens(self, texts) -> tf.RaggedTensor:
        """The tokens the ids stand for, one per id (ragged strings, batch x None): the wrapped
        layer's own standardize and split, read from its config."""
        config = self.vectorizer.get_config()
        texts = _as_string_tensor(texts)
        standardize = config["standardize"]
        if callable(standardize):
            texts = standardize(texts)
        elif standardize == "lower":
            texts = tf.strings.lower(texts)
        elif standardize is not None:
            raise ValueError(f"ZooVectorizer.tokens: standardize={standardize!r} is not one the zoo "
                             "builds (None, 'lower' or a function)")
        if config["split"] == "whitespace":
            return tf.strings.split(texts)
        if config["split"] == "character":
            return tf.strings.unicode_split(texts, "UTF-8")
        raise ValueError(f"ZooVectorizer.tokens: split={config['split']!r} is not one the zoo builds "
                         "('whitespace' or 'character')")

    def get_vocabulary(self) -> list[str]:
        return self.vectorizer.get_vocabulary()

    def vocabulary_size(self) -> int:
        return self.vectorizer.vocabulary_size()

    def get_config(self):
        config = super().get_config()
        config.update(vectorizer=keras.saving.serialize_keras_object(self.vectorizer),
                      ragged=self.ragged, sequence_length=self.sequence_length)
        return config


def _tokens_to_ragged(token_lists) -> tf.RaggedTensor:
    """Python token lists -> ragged string tensor, fast (one flat constant plus row lengths)."""
    if isinstance(token_lists, tf.RaggedTensor):
        return token_lists
    if isinstance(token_lists, tf.Tensor):
        return tf.RaggedTensor.from_tensor(token_lists, padding=PADDING_TOKEN)
    token_lists = [list(tokens) for tokens in token_lists]
    for tokens in token_lists:
        if isinstance(tokens, str):
            raise TypeError("expected token lists, got a string")
    flat = [token for tokens in token_lists for token in tokens]
    lengths = np.array([len(tokens) for tokens in token_lists], dtype=np.int64)
    values = tf.constant(flat, dtype=tf.string) if flat else tf.zeros([0], tf.string)
    return tf.RaggedTensor.from_row_lengths(values, lengths)


@keras.saving.register_keras_serializable(package="zoo")
class TokenVectorizer(_IdsLayer):
    """Pre-tokenized input (token lists) -> int32 ids, for tagging: one id per given token.

    A `StringLookup` with the zoo's layout (0 = `""` padding, 1 = `[UNK]`, then the vocabulary),
    optionally lowercasing each token first (Unicode-aware). Input: a `tf.RaggedTensor` of
    strings (batch, None), a dense string tensor right-padded with `""`, or Python lists of
    tokens. An empty token list becomes `[1]` (never an all-padding row).

    With a character vocabulary (`char_vocabulary`, for a transducer with character features),
    `char_ids` also gives each token's character ids (batch, time, chars), from the token as
    given: never lowercased, case kept, cut to its first `max_word_chars` characters; 0 is
    padding, 1 an unknown character. Both come from the same token lists and align one to one.

    Args:
        vocabulary: list of types, without `""` / `"[UNK]"`.
        lowercase: lowercase each token before lookup (the word ids only, never the characters).
        ragged: return ragged ids (else dense, right-padded with 0).
        sequence_length: truncate to (and, dense, pad to) this length.
        char_vocabulary: list of characters (without `""` / `"[UNK]"`), or None for no
            character ids.
        max_word_chars: characters kept per token for `char_ids`.
    """

    def __init__(self, vocabulary, lowercase: bool = True, ragged: bool = True,
                 sequence_length: int | None = None, char_vocabulary=None,
                 max_word_chars: int = 20, **kwargs):
        kwargs.setdefault("dtype", "int32")
        super().__init__(**kwargs)
        self.vocabulary = [v for v in vocabulary if v not in (PADDING_TOKEN, OOV_TOKEN)]
        self.lowercase = bool(lowercase)
        self.ragged = bool(ragged)
        self.sequence_length = sequence_length
        self.lookup = keras.layers.StringLookup(
            vocabulary=self.vocabulary or None, mask_token=PADDING_TOKEN, oov_token=OOV_TOKEN,
            num_oov_indices=1, output_mode="int")
        if isinstance(max_word_chars, bool) or not isinstance(max_word_chars, int) or max_word_chars < 1:
            raise ValueError(f"max_word_chars must be a positive integer, got {max_word_chars!r}")
        self.max_word_chars = max_word_chars
        self.char_vocabulary = None
        self.char_lookup = None
        if char_vocabulary is not None:
            self.char_vocabulary = [c for c in char_vocabulary if c not in (PADDING_TOKEN, OOV_TOKEN)]
            self.char_lookup = keras.layers.StringLookup(
                vocabulary=self.char_vocabulary or None, mask_token=PADDING_TOKEN,
                oov_token=OOV_TOKEN, num_oov_indices=1, output_mode="int")

    def build(self, input_shape=None):
        # The lookup tables exist from construction; `char_lookup` is not used by `call`, so it
        # is built here (else Keras warns about a sublayer left unbuilt).
        for lookup in (self.lookup, self.char_lookup):
            if lookup is not None and not lookup.built:
                lookup.build(None)
        self.built = True

    @property
    def has_chars(self) -> bool:
        """Whether `char_ids` is available (the vectorizer has a character vocabulary)."""
        return self.char_lookup is not None

    def char_ids(self, tokens, ragged: bool | None = None, sequence_length: int | None = None):
        """Token lists -> int32 character ids (batch, time, chars), aligned with `vectorize`.

        Characters are Unicode code points of the token as given (no lowercasing), the first
        `max_word_chars` of each token. An empty token list becomes one token of no characters
        (as `vectorize` makes it `[1]`). Dense output is right-padded with 0 on both the time and
        the character axis, with at least one character column.

        Raises:
            ValueError: the vectorizer has no character vocabulary.
        """
        if not self.has_chars:
            raise ValueError("this TokenVectorizer has no character vocabulary (build it with "
                             "build_token_vectorizer(..., max_word_chars=N))")
        ragged = self.ragged if ragged is None else ragged
        length = self.sequence_length if sequence_length is None else sequence_length
        tokens = _ensure_nonempty_tokens(_tokens_to_ragged(tokens))
        chars = tf.strings.unicode_split(tokens, "UTF-8")[:, :, : self.max_word_chars]
        ids = tf.cast(tf.ragged.map_flat_values(self.char_lookup, chars), tf.int32)
        if length is not None:
            ids = ids[:, :length]
        if ragged:
            return ids
        dense = ids.to_tensor(default_value=PADDING_ID)
        if length is not None:
            dense = tf.pad(dense, [[0, 0], [0, length - tf.shape(dense)[1]], [0, 0]])
        return at_least_one_char(dense)

    def get_char_vocabulary(self) -> list[str]:
        return self.char_lookup.get_vocabulary() if self.has_chars else []

    def vectorize(self, tokens, ragged: bool | None = None, sequence_length: int | None = None):
        ragged = self.ragged if ragged is None else ragged
        length = self.sequence_length if sequence_length is None else sequence_length
        tokens = _tokens_to_ragged(tokens)
        if self.lowercase:
            tokens = tf.ragged.map_flat_values(tf.strings.lower, tokens, encoding="utf-8")
        ids = tf.ragged.map_flat_values(self.lookup, tokens)
        return _finish(ensure_nonempty(ids), ragged, length)

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, list | tuple):
            inputs = _tokens_to_ragged(inputs)
        return super().__call__(inputs, *args, **kwargs)


    def get_vocabulary(self) -> list[str]:
        return self.lookup.get_vocabulary()

    def vocabulary_size(self) -> int:
        return self.lookup.vocabulary_size()

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary=list(self.vocabulary), lowercase=self.lowercase,
                      ragged=self.ragged, sequence_length=self.sequence_length)
        if self.has_chars:
            config.update(char_vocabulary=list(self.char_vocabulary),
                          max_word_chars=self.max_word_chars)
        return config


def _ensure_nonempty_tokens(tokens: tf.RaggedTensor) -> tf.RaggedTensor:
    """Ragged token strings where every empty row has become `[""]` (one token, no characters)."""
    is_empty = tf.equal(tokens.row_lengths(), 0)
    fill = tf.RaggedTensor.from_row_lengths(
        tf.fill([tf.reduce_sum(tf.cast(is_empty, tf.int32))], tf.constant(PADDING_TOKEN)),
        tf.cast(is_empty, tokens.row_splits.dtype))
    return tf.concat([tokens, fill], axis=1)


def at_least_one_char(char_ids: tf.Tensor) -> tf.Tensor:
    """Dense char ids (batch, time, chars) padded to at least one character column (a batch of
    character-less tokens would otherwise have none, and the max over characters needs one)."""
    return tf.pad(char_ids, [[0, 0], [0, 0], [0, tf.maximum(1 - tf.shape(char_ids)[2], 0)]])


def build_token_vectorizer(token_lists: Iterable[Sequence[str]], max_tokens: int | None = None,
                           min_count: int = 1, lowercase: bool = True, name: str | None = None,
                           max_word_chars: int = 0, char_min_count: int = 1) -> TokenVectorizer:
    """A `TokenVectorizer` whose vocabulary comes from pre-tokenized training sentences.

    Args:
        token_lists: training sentences as token sequences (e.g. `[tokens for tokens, tags in
            data.train]`).
        max_tokens: vocabulary size including padding and OOV; `None` for no limit.
        min_count: types seen fewer times become OOV.
        lowercase: lowercase tokens (for counting and lookup alike; never the characters).
        name: layer name.
        max_word_chars: > 0 also builds a character vocabulary (case kept) from the same tokens,
            for `TokenVectorizer.char_ids`, reading each token's first this many characters;
            0: no character ids.
        char_min_count: characters seen fewer times (in the kept part of the tokens) become OOV.
    """
    token_lists = _check_texts(token_lists)
    counts: collections.Counter = collections.Counter()
    for tokens in token_lists:
        if isinstance(tokens, str):
            raise TypeError("token_lists must hold token sequences, not strings")
        counts.update(token.lower() if lowercase else token for token in tokens)
    if lowercase:
        # Python's str.lower and tf.strings.lower(encoding="utf-8") agree except on a few special
        # cases (e.g. final sigma); count with tf so the vocabulary matches the lookup exactly.
        keys = list(counts)
        lowered = tf.strings.lower(tf.constant(keys or [""]), encoding="utf-8").numpy()
        merged: collections.Counter = collections.Counter()
        for key, low in zip(keys, lowered):
            merged[low.decode("utf-8")] += counts[key]
        counts = merged
    vocabulary = vocabulary_from_counts(counts, max_tokens, min_count)
    if max_word_chars < 0:
        raise ValueError(f"max_word_chars must be 0 (no character ids) or positive, got {max_word_chars}")
    if not max_word_chars:
        return TokenVectorizer(vocabulary, lowercase=lowercase, name=name)
    return TokenVectorizer(vocabulary, lowercase=lowercase, name=name,
                           char_vocabulary=_char_vocabulary(token_lists, max_word_chars, char_min_count),
                           max_word_chars=max_word_chars)


def _char_vocabulary(token_lists, max_word_chars: int, min_count: int) -> list[str]:
    """Characters of the tokens (their first `max_word_chars`, case kept), counted with the same
    tf op as `TokenVectorizer.char_ids`, most frequent first."""
    counts: collections.Counter = collections.Counter()
    for chunk in _chunks(token_lists, 8192):
        tokens = _tokens_to_ragged(chunk).flat_values
        chars = tf.strings.unicode_split(tokens, "UTF-8")[:, :max_word_chars]
        counts.update(chars.flat_values.numpy().tolist())
    counts = collections.Counter({char.decode("utf-8"): n for char, n in counts.items()})
    return vocabulary_from_counts(counts, None, min_count)


def encode_tags(tag_sequences: Iterable[Sequence], label_names: Sequence[str] | None = None
                ) -> tuple[list[tuple[int, ...]], tuple[str, ...]]:
    """Tag strings -> tag ids (TaskData tagging examples already hold ids; this is for raw tags).

    Args:
        tag_sequences: sequences of tag strings.
        label_names: the tag set; if None, it is the sorted set of tags seen.

    Returns:
        `(tag_id_sequences, label_names)`. Tag ids index `label_names`; 0 is a real tag (the
        padding of tag batches is excluded by sample weights, not by a reserved id).

    Raises:
        ValueError: a tag not in `label_names`.
    """
    tag_sequences = [tuple(tags) for tags in tag_sequences]
    if label_names is None:
        label_names = tuple(sorted({tag for tags in tag_sequences for tag in tags}))
    index = {name: i for i, name in enumerate(label_names)}
    encoded = []
    for row, tags in enumerate(tag_sequences):
        try:
            encoded.append(tuple(index[tag] for tag in tags))
        except KeyError as error:
            raise ValueError(
                f"sentence {row}: tag {error.args[0]!r} is not in label_names") from None
    return encoded, tuple(label_names)
