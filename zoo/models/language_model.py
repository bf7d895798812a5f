"""Language model: the next id at every position (e.g. characters, Karpathy et al. 2015), and sampling."""
from __future__ import annotations

from typing import Sequence

import numpy as np

import keras

from zoo.conventions import RESERVED_IDS
from zoo.models import components
from zoo.models.base import ZooModel
from zoo.models.config import LanguageModelConfig
from zoo.models.transducer import per_token_graph


@keras.saving.register_keras_serializable(package="zoo")
class LanguageModel(ZooModel):
    """Ids (batch, time) -> next-id probabilities (batch, time, vocabulary_size).

    A unidirectional transducer whose classes are the vocabulary: position t predicts id t+1.
    """

    kind = "language_model"
    config_class = LanguageModelConfig

    @classmethod
    def graph(cls, config: LanguageModelConfig, fold_input_projection: bool):
        return per_token_graph(config, config.vocabulary_size, fold_input_projection)


def language_model(config: LanguageModelConfig, embedding_matrix=None) -> LanguageModel:
    """A `LanguageModel` for `config`, its embedding set to `embedding_matrix` (the GloVe modes)."""
    if not isinstance(config, LanguageModelConfig):
        raise TypeError(f"language_model() takes a LanguageModelConfig, got {type(config).__name__}")
    return components.set_embedding_matrix(LanguageModel(config), config, embedding_matrix)


def generate(
    model: keras.Model,
    prefix: str | Sequence[int],
    length: int,
    temperature: float = 1.0,
    seed: int | None = None,
    vocabulary: Sequence[str] | None = None,
    context: int = 256,
):
    """Samples `length` ids after `prefix` from a language model.

    Args:
        model: a `LanguageModel` (`language_model(...)`), trained or folded
            (`inference_model`).
        prefix: ids, or a string when `vocabulary` is given (each character, or each whitespace
            token if the vocabulary holds words, is looked up; unknown ones become OOV id 1).
        length: number of ids to sample.
        temperature: > 0 rescales the distribution (p ** (1 / temperature)); 0 takes the argmax.
        seed: seed of the sampler (same seed, same text).
        vocabulary: id -> string list (e.g. a vectorizer's `get_vocabulary()`); with it the result
            is the generated string, without it the list of generated ids.
        context: how many of the latest ids the model sees at each step.

    Returns:
        The generated continuation (without the prefix).
    """
    if not isinstance(model, LanguageModel):
        raise TypeError(f"generate() samples from a zoo LanguageModel, got {type(model).__name__}")
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length!r}")
    if not temperature >= 0 or temperature == float("inf"):  # also NaN
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if isinstance(context, bool) or not isinstance(context, int) or context < 1:
        raise ValueError(f"context must be a positive number of ids, got {context!r}")
    characters = vocabulary is not None and all(len(token) <= 1 for token in vocabulary[2:])
    if isinstance(prefix, str):
        if vocabulary is None:
            raise ValueError("a string prefix needs the vocabulary to map it to ids")
        index = {token: i for i, token in enumerate(vocabulary)}
        pieces = list(prefix) if characters else prefix.split()
        ids = [index.get(piece, 1) for piece in pieces]
    else:
        ids = [int(i) for i in prefix]
    if not ids:
        raise ValueError("prefix must not be empty: the model needs at least one id to start from")
    vocabulary_size = model.output_shape[-1]
    if max(ids) >= vocabulary_size or min(ids) < 0:
        raise ValueError(f"prefix ids must be in [0, {vocabulary_size}), got {ids}")
    rng = np.random.default_rng(seed)
    generated = []
    stepper = _Stepper(model) if len(ids) <= context and not model.fold_input_projection else None
    if stepper is not None:
        for known in ids[:-1]:
            stepper.step(known)
    for _ in range(length):
        if stepper is not None and len(ids) <= context:
            # While the window still starts at the first id, it reads the same as the carried
            # state: one step per id instead of the whole window (whose length, changing at every
            # step, would also cost an XLA compilation per length on the fused LSTM).
            probabilities = stepper.step(ids[-1])
        else:  # a full window, always `context` ids wide: one shape
            window = np.asarray([ids[-context:]], dtype="int32")
            probabilities = keras.ops.convert_to_numpy(model(window, training=False))[0, -1]
        probabilities = probabilities.astype("float64")
        probabilities[list(RESERVED_IDS)] = 0.0
        if temperature == 0:
            next_id = int(np.argmax(probabilities))
        else:
            logits = np.log(np.maximum(probabilities, 1e-30)) / temperature
            logits[list(RESERVED_IDS)] = -np.inf
            weights = np.exp(logits - logits.max())
            next_id = int(rng.choice(len(weights), p=weights / weights.sum()))
        ids.append(next_id)
        generated.append(next_id)
    if vocabulary is None:
        return generated
    return ("" if characters else " ").join(vocabulary[i] for i in generated)


class _Stepper:
    """Runs a language model one id at a time, carrying each recurrent layer's state.

    The same function as the model over the whole sequence read so far (the sequence layers run
    these cells; dropout is off in inference), at the cost of one step per id.
    """

    def __init__(self, model: keras.Model):
        self.embedding = model.get_layer("embedding")
        self.cells = [layer.cell for layer in model.get_layer("encoder").recurrent_layers]
        self.head = model.get_layer("probabilities")
        self.states = [cell.get_initial_state(batch_size=1) for cell in self.cells]

    def step(self, token_id: int) -> np.ndarray:
        """Reads `token_id`; returns the next-id probabilities (vocabulary_size,)."""
        value = self.embedding(np.asarray([token_id], dtype="int32"))
        for index, cell in enumerate(self.cells):
            value, states = cell(value, self.states[index], training=False)
            self.states[index] = list(states) if isinstance(states, (list, tuple)) else [states]
        return keras.ops.convert_to_numpy(self.head(value))[0]
