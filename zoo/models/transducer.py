"""Transducer: one label per token (e.g. part-of-speech tagging)."""
from __future__ import annotations

import keras

from zoo.layers.char_cnn import CharCNN
from zoo.models import components
from zoo.models.config import TransducerConfig

# The inputs of a transducer with character features, by name (a dict, as `tagging_dataset` and
# the `tag` export signature pass them); without them the input is the token ids alone.
TOKEN_IDS, CHAR_IDS = "token_ids", "char_ids"
CHAR_INPUTS = (TOKEN_IDS, CHAR_IDS)


def _char_features(config: TransducerConfig, token_ids, char_ids):
    """(batch, time, chars) char ids -> (batch, time, filters) word features (a char-CNN)."""
    chars = config.char_features
    if chars.vocabulary_size == 0:
        raise ValueError("TransducerConfig.char_features.vocabulary_size is 0: set it to the size of "
                         "the character vocabulary (TokenVectorizer.get_char_vocabulary()) first")
    return CharCNN(chars.vocabulary_size, chars.embedding_dim, chars.filters, chars.kernel_size,
                   max_word_chars=chars.max_word_chars, seed=config.seed,
                   name="char_features")(char_ids, token_ids=token_ids)


def _per_token_head(config, token_ids, embedding, encoder, classes: int, name: str,
                    char_ids=None) -> keras.Model:
    """Embedding (+ char features when `char_ids` is given) -> encoder -> softmax per token."""
    embedded = embedding(token_ids)
    inputs = token_ids
    if char_ids is not None:
        inputs = {TOKEN_IDS: token_ids, CHAR_IDS: char_ids}
        embedded = keras.layers.Concatenate(name="word_and_char_features")(
            [embedded, _char_features(config, token_ids, char_ids)])
    sequence, _ = components.encode(token_ids, embedded, encoder, components.embedding_dropout(config),
                                    pass_ids=char_ids is None)
    dropout = components.output_dropout(config)
    if dropout is not None:
        sequence = dropout(sequence)
    probabilities = keras.layers.Dense(classes, activation="softmax", name="probabilities")(sequence)
    return keras.Model(inputs, probabilities, name=name)


def transducer(config: TransducerConfig, embedding_matrix=None) -> keras.Model:
    """Token ids (batch, time) -> per-token class probabilities (batch, time, num_classes).

    With `config.char_features` on, the model takes a dict `{"token_ids": (batch, time),
    "char_ids": (batch, time, chars)}`: each token's character ids (0 = padding, on the right;
    case kept; see `zoo.data.vectorize.TokenVectorizer.char_ids`) go through a char-CNN
    (`zoo.layers.char_cnn.CharCNN`) whose features are concatenated with the word embedding
    before the encoder. Padded time steps are masked by the token ids, as without them.

    Padded positions get probabilities too; their loss and accuracy must be excluded explicitly:
    pass `zoo.training.token_weights(ids)` (1 for real tokens, 0 for padding) as sample weights,
    as `zoo.data.batching` does, and compile with `zoo.training.compile_defaults`, which counts
    accuracy as a weighted metric.
    """
    if not isinstance(config, TransducerConfig):
        raise TypeError(f"transducer() takes a TransducerConfig, got {type(config).__name__}")
    token_ids = components.token_input(TOKEN_IDS)
    char_ids = None
    if config.char_features.enabled:
        char_ids = keras.Input(shape=(None, None), dtype="int32", name=CHAR_IDS)
    model = _per_token_head(
        config, token_ids, components.make_embedding(config, embedding_matrix),
        components.make_encoder(config), config.num_classes, "transducer", char_ids=char_ids)
    return components.finish(model, config)
