"""Transducer: one label per token (e.g. part-of-speech tagging)."""
from __future__ import annotations

import keras

from zoo.conventions import CHAR_IDS, TOKEN_IDS
from zoo.layers.char_cnn import CharCNN
from zoo.models import components
from zoo.models.base import ZooModel
from zoo.models.config import TransducerConfig

# The inputs of a transducer with character features, by name (a dict, as `tagging_dataset` and
# the `tag` export signature pass them); without them the input is the token ids alone.
CHAR_INPUTS = (TOKEN_IDS, CHAR_IDS)


def _char_features(config, token_ids, char_ids):
    """(batch, time, chars) char ids -> (batch, time, filters) word features (a char-CNN)."""
    chars = config.char_features
    if chars.vocabulary_size == 0:
        raise ValueError("TransducerConfig.char_features.vocabulary_size is 0: set it to the size of "
                         "the character vocabulary (TokenVectorizer.get_char_vocabulary()) first")
    return CharCNN(chars.vocabulary_size, chars.embedding_dim, chars.filters, chars.kernel_size,
                   max_word_chars=chars.max_word_chars, seed=config.seed,
                   name="char_features")(char_ids, token_ids=token_ids)


def per_token_graph(config, classes: int, fold_input_projection: bool, char_features: bool = False):
    """Embedding (+ char features) -> encoder -> softmax per token: (inputs, probabilities)."""
    token_ids = components.token_input(TOKEN_IDS)
    features, mask = components.TokenFeatures(config, fold_input_projection)(token_ids)
    inputs = token_ids
    if char_features:
        char_ids = keras.Input(shape=(None, None), dtype="int32", name=CHAR_IDS)
        inputs = {TOKEN_IDS: token_ids, CHAR_IDS: char_ids}
        features = keras.layers.Concatenate(name="word_and_char_features")(
            [features, _char_features(config, token_ids, char_ids)])
    sequence, _ = components.make_encoder(config, fold_input_projection)(features, mask=mask)
    dropout = components.output_dropout(config)
    if dropout is not None:
        sequence = dropout(sequence)
    probabilities = keras.layers.Dense(classes, activation="softmax", name="probabilities")(sequence)
    return inputs, probabilities


@keras.saving.register_keras_serializable(package="zoo")
class Transducer(ZooModel):
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

    kind = "transducer"
    config_class = TransducerConfig

    @classmethod
    def graph(cls, config: TransducerConfig, fold_input_projection: bool):
        if fold_input_projection and config.char_features.enabled:
            raise ValueError("a transducer with character features cannot fold its input projection "
                             "(the encoder reads [word embedding, char features], not an embedding alone)")
        return per_token_graph(config, config.num_classes, fold_input_projection,
                               char_features=config.char_features.enabled)

    @property
    def foldable(self) -> tuple[bool, str]:
        if self.config.char_features.enabled:
            return False, "the encoder reads character features beside the embedding"
        return super().foldable


def transducer(config: TransducerConfig, embedding_matrix=None) -> Transducer:
    """A `Transducer` for `config`, its embedding set to `embedding_matrix` (the GloVe modes)."""
    if not isinstance(config, TransducerConfig):
        raise TypeError(f"transducer() takes a TransducerConfig, got {type(config).__name__}")
    return components.set_embedding_matrix(Transducer(config), config, embedding_matrix)
