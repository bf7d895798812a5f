"""Shared by the export tests: the tiny corpora, the exported-model record, references."""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
from pathlib import Path

import numpy as np
import pytest

SENTENCES = [
    "the movie was great", "a terrible , boring film", "I loved it !", "not good at all",
    "the actors were great but the plot was not", "café crème , naïve résumé",
]
TAGGED = [
    (["the", "movie", "was", "great"], ["DET", "NOUN", "VERB", "ADJ"]),
    (["a", "boring", "film"], ["DET", "ADJ", "NOUN"]),
    (["I", "loved", "it"], ["PRON", "VERB", "PRON"]),
]
TAG_NAMES = ["ADJ", "DET", "NOUN", "PRON", "VERB"]
SENTIMENT_LABELS = ["negative", "positive"]
NLI_LABELS = ["entailment", "neutral", "contradiction"]
CORPUS = "And God said, Let there be light: and there was light. And God saw the light."
LM_CONTEXT = 8


@dataclasses.dataclass
class Exported:
    """A model, its vectorizer, and where its export lies."""

    kind: str
    model: object
    vectorizer: object
    path: Path                     # the version folder
    label_names: list | None = None
    cli_output: str = ""
    run_dir: Path | None = None


@contextlib.contextmanager
def simulated_gpu():
    """Keras' TensorFlow RNN code believes a GPU is visible (graphs are traced, not run on it)."""
    rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rnn, "_is_gpu_available", lambda: True)
        yield


# --- in-process references -----------------------------------------------------------------

def keras_probabilities(exported: Exported, texts) -> np.ndarray:
    """The Keras model's own output on the vectorizer's ids (the reference for the SavedModel)."""
    ids = exported.vectorizer.vectorize(texts, ragged=False) if exported.kind != "transducer" else \
        exported.vectorizer.vectorize([text.split() for text in texts], ragged=False)
    return np.asarray(exported.model(ids, training=False))


def serve(exported: Exported, signature: str = "serving_default", **inputs) -> dict:
    """Calls a signature of the loaded export; numpy outputs."""
    import tensorflow as tf

    loaded = loaded_export(exported.path)
    converted = {}
    for name, value in inputs.items():
        converted[name] = tf.constant(value) if not isinstance(value, tf.Tensor) else value
    return {name: value.numpy() for name, value in loaded.signatures[signature](**converted).items()}


_LOADED: dict = {}


def loaded_export(path: Path):
    import tensorflow as tf

    if str(path) not in _LOADED:
        _LOADED[str(path)] = tf.saved_model.load(str(path))
    return _LOADED[str(path)]
