"""Training defaults shared by the recipes: compile settings and per-token loss weights."""
from __future__ import annotations

import numpy as np

import keras


def compile_defaults(
    model: keras.Model,
    learning_rate: float = 1e-3,
    optimizer: str = "adam",
    clipnorm: float | None = None,
    **overrides,
) -> keras.Model:
    """Compiles with Adam, sparse categorical cross-entropy and accuracy; returns the model.

    Accuracy is a *weighted* metric, so for transducers and language models trained with
    `token_weights` as sample weights it counts real tokens only (Keras applies sample weights to
    `weighted_metrics`, not to `metrics`). Any `model.compile` argument can be overridden.

    Args:
        optimizer: "adam" or "sgd" (SGD with Nesterov momentum 0.9).
        clipnorm: clip each gradient to this norm (helps against exploding gradients in RNNs).
    """
    optimizers = {
        "adam": lambda: keras.optimizers.Adam(learning_rate, clipnorm=clipnorm),
        "sgd": lambda: keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True, clipnorm=clipnorm),
    }
    if optimizer not in optimizers:
        raise ValueError(f"optimizer must be one of {sorted(optimizers)}, got {optimizer!r}")
    settings = dict(
        optimizer=optimizers[optimizer](),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    settings.update(overrides)
    model.compile(**settings)
    return model


def token_weights(token_ids) -> np.ndarray:
    """Sample weights (batch, time): 1.0 on real tokens, 0.0 on padding (id 0)."""
    return (np.asarray(token_ids) != 0).astype("float32")
