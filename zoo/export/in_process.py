"""A run folder served in this process: the export's own signature functions, no SavedModel.

`RunModel(run_dir)` loads the run's model (`zoo.load`, safe mode) and vectorizer, freezes the
model for inference (`zoo.models.inference_model`: the input projection folded, as in the
export) and compiles the same functions an export holds (`saved_model.endpoints`) with
`tf.function`. It has `zoo.export.client.ServedModel`'s interface, so `zoo predict runs/<task>`
prints exactly what `zoo predict saved_models/<task>` prints for the export of that run.
"""
from __future__ import annotations

import json
from pathlib import Path

import tensorflow as tf

from zoo.export import signatures
from zoo.export.client import ServedModel
from zoo.export.saved_model import _label_names, endpoints, model_kind
from zoo.models import inference_model

# The client's name for each model kind's serving_default.
CLIENT_KINDS = {"acceptor": "classify", "pair_encoder": "classify_pair", "transducer": "tag",
                "language_model": "language_model", "encoder_decoder": "decode"}


class RunModel(ServedModel):
    """A run folder (`model.keras`, `vectorizer.json`, `metrics.json`) with `ServedModel`'s interface."""

    def __init__(self, run_dir: str | Path):
        from zoo.loading import load, load_vectorizer

        self.path = Path(run_dir)
        model = load(self.path, compile=False)
        kind = model_kind(model)
        def read(name: str) -> dict:
            file = self.path / name
            return json.loads(file.read_text()) if file.exists() else {}

        metrics, recipe = read("metrics.json"), read("recipe.json")
        encoder = signatures.TextEncoder(load_vectorizer(self.path))
        label_names = _label_names(model, kind, metrics.get("label_names"))
        self.kind = CLIENT_KINDS[kind]
        self.metadata = {"label_names": label_names} if label_names else {}
        functions = endpoints(inference_model(model), encoder, kind, label_names,
                              decoding=recipe.get("settings"))
        self.signatures = {name: tf.function(function, input_signature=input_signature)
                           for name, (function, input_signature) in functions.items()}
        self.signatures["serving_default"] = self.signatures[signatures.DEFAULT_SIGNATURE[kind]]


__all__ = ["RunModel"]
