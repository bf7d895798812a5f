"""Saving and loading what a run needs besides the model: its vectorizer and its config."""
from __future__ import annotations

import json
from pathlib import Path

import keras

from zoo.training import write_json


def save_vectorizer(run_dir: Path, vectorizer) -> None:
    """The vectorizer as Keras JSON (its vocabulary included), reloadable in safe mode."""
    write_json(Path(run_dir) / "vectorizer.json", keras.saving.serialize_keras_object(vectorizer))


def load_vectorizer(run_dir: Path):
    import zoo.data.vectorize  # noqa: F401  (registers the zoo's vectorizer classes)

    config = json.loads((Path(run_dir) / "vectorizer.json").read_text())
    return keras.saving.deserialize_keras_object(config, safe_mode=True)


def save_config(run_dir: Path, config) -> None:
    (Path(run_dir) / "config.json").write_text(config.to_json() + "\n")
