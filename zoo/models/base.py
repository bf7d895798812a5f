"""`ZooModel`: the base of the zoo's model classes; a model that knows what it is.

Each kind (acceptor, transducer, pair encoder, language model) is a small registered
`keras.Model` subclass built functionally from its config dataclass, as KerasHub's tasks are:
the constructor's arguments are its config, `get_config` returns them and `from_config` is
`cls(**config)`, so a saved model reloads in safe mode as the same class with the same config.
Export, loading and evaluation ask the model (`model.kind`, `model.config`), never its name.

A model built with `fold_input_projection=True` is the same function, arranged for inference
(see `zoo.models.inference_model`): the first LSTM layer's input projection `E W + b` is one
table, looked up per token id, instead of an embedding followed by a product.
"""
from __future__ import annotations

import keras

from zoo.models.config import ModelConfig, config_from_dict


# Folding trades memory for speed: one row of 4 x units floats per vocabulary id instead of the
# embedding's few dozen. Past this size (an open vocabulary of pretrained words, wide encoders) the
# table costs more memory and SavedModel size than the speed is worth: the sentiment recipe's open
# vocabulary (47,905 ids x 512) would make a 94 MiB table, and its SavedModel 189 MB (Keras'
# ExportArchive writes each variable twice under TensorFlow 2.21) instead of 20 MB.
FOLDED_TABLE_LIMIT_BYTES = 32 * 2**20


class ZooModel(keras.Model):
    """A functional model built from a zoo config; subclasses define `kind`, `config_class` and
    `graph(config, fold_input_projection) -> (inputs, outputs)`.

    Args:
        config: the model's config dataclass (or its dict, as `get_config` gives it).
        fold_input_projection: build the inference arrangement (see the module docstring). Its
            weights come from a trained model through `zoo.models.inference_model`.
    """

    kind: str = ""
    config_class: type = ModelConfig

    def __init__(self, config, fold_input_projection: bool = False, **kwargs):
        if isinstance(config, dict):
            config = config_from_dict(config)
        if type(config) is not self.config_class:
            raise TypeError(f"{type(self).__name__} takes a {self.config_class.__name__}, got "
                            f"{type(config).__name__}")
        inputs, outputs = self.graph(config, bool(fold_input_projection))
        kwargs.setdefault("name", self.kind)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.config = config
        self.fold_input_projection = bool(fold_input_projection)

    @classmethod
    def graph(cls, config, fold_input_projection: bool):
        raise NotImplementedError

    @property
    def encoder(self):
        """The model's `SequenceEncoder` (every zoo model has exactly one)."""
        return self.get_layer("encoder")

    @property
    def foldable(self) -> tuple[bool, str]:
        """Whether `zoo.models.inference_model` can fold this model's input projection, and why
        (not)."""
        if self.fold_input_projection:
            return False, "folded already"
        table_bytes = 4 * self.config.vocabulary_size * 4 * self.encoder.output_dim  # float32, 4 gates
        if table_bytes > FOLDED_TABLE_LIMIT_BYTES:
            return False, (f"the folded table would take {table_bytes / 2**20:.0f} MiB "
                           f"({self.config.vocabulary_size} ids x {4 * self.encoder.output_dim}), "
                           f"above {FOLDED_TABLE_LIMIT_BYTES // 2**20} MiB")
        return self.encoder.input_projection_foldable

    def get_config(self):
        return {
            "config": {"kind": type(self.config).__name__, **self.config.to_dict()},
            "fold_input_projection": self.fold_input_projection,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


__all__ = ["ZooModel"]
