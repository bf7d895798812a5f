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


def pretrained_embeddings(model_config, vocabulary, token_counts, run_dir: Path, extra: dict):
    """GloVe rows for the vocabulary when the config's mode asks for them (else None).

    Prints the coverage report, saves it as `coverage.json` and adds it to the run's metrics.
    """
    if model_config.embedding_mode == "learned":
        return None
    from zoo import embeddings

    words, vectors = embeddings.load_glove()
    matrix, coverage = embeddings.build_embedding_matrix(
        vocabulary, words, vectors, seed=model_config.seed, token_counts=token_counts)
    print(coverage)
    coverage.save(Path(run_dir) / "coverage.json")
    extra["glove_coverage"] = coverage.to_dict()
    return matrix


def batches_for(make_dataset, data, vectorizer, training, seed: int) -> dict:
    """Train (shuffled), dev and test batches; bucketed by length unless training.bucketing is off."""
    padding = "bucket" if training.bucketing else "fixed"
    return {
        split: make_dataset(getattr(data, split), vectorizer, batch_size=training.batch_size,
                            shuffle=split == "train", seed=seed, padding=padding)
        for split in ("train", "dev", "test")
    }
