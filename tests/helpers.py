"""Checks shared by the model and layer tests (tiny sizes, numbers compared to 1e-5)."""
from __future__ import annotations

import numpy as np

import keras

VOCABULARY_SIZE = 12
TOLERANCE = 1e-5

# Rows of different real lengths, right-padded; the last row fills the whole width.
PADDED_IDS = np.array(
    [
        [3, 4, 5, 0, 0, 0],
        [6, 7, 8, 9, 10, 0],
        [2, 0, 0, 0, 0, 0],
        [11, 3, 5, 7, 2, 4],
    ],
    dtype="int32",
)


def lengths(ids: np.ndarray) -> np.ndarray:
    return (ids != 0).sum(axis=1)


def predict(model: keras.Model, inputs) -> np.ndarray:
    """Eager inference (no tf.function retracing for every new shape)."""
    return keras.ops.convert_to_numpy(model(inputs, training=False))


def assert_batch_consistent(model: keras.Model, inputs: dict | np.ndarray, per_token: bool) -> None:
    """Each example predicted alone (unpadded) equals its row of the right-padded batch."""
    batch = predict(model, inputs)
    as_dict = isinstance(inputs, dict)
    rows = next(iter(inputs.values())).shape[0] if as_dict else inputs.shape[0]
    for row in range(rows):
        if as_dict:
            alone_inputs = {name: ids[row : row + 1, : lengths(ids[row : row + 1])[0]] for name, ids in inputs.items()}
            length = None
        else:
            length = lengths(inputs[row : row + 1])[0]
            alone_inputs = inputs[row : row + 1, :length]
        alone = predict(model, alone_inputs)[0]
        expected = batch[row, :length] if per_token else batch[row]
        np.testing.assert_allclose(alone, expected, atol=TOLERANCE, err_msg=f"row {row}")


def trainable_gradients(model: keras.Model, inputs, targets, sample_weight=None) -> dict[str, np.ndarray]:
    """Gradient of the loss with respect to every trainable weight, on the current backend."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss(trainable):
            outputs, _ = model.stateless_call(trainable, non_trainable, inputs, training=True)
            return loss_fn(targets, outputs, sample_weight=sample_weight)

        grads = jax.grad(loss)([v.value for v in model.trainable_variables])
    elif backend == "torch":
        for weight in model.trainable_weights:
            weight.value.grad = None
        loss_fn(targets, model(inputs, training=True), sample_weight=sample_weight).backward()
        grads = [weight.value.grad for weight in model.trainable_weights]
    else:
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(targets, model(inputs, training=True), sample_weight=sample_weight)
        grads = tape.gradient(loss, model.trainable_weights)
    return {weight.path: (None if g is None else keras.ops.convert_to_numpy(g))
            for weight, g in zip(model.trainable_weights, grads)}


def assert_every_weight_learns(model: keras.Model, inputs, targets, sample_weight=None) -> None:
    for path, grad in trainable_gradients(model, inputs, targets, sample_weight).items():
        assert grad is not None, f"{path} is not connected to the loss"
        assert np.abs(grad).max() > 0, f"{path} receives an all-zero gradient"


def assert_save_load_round_trip(model: keras.Model, inputs, tmp_path) -> keras.Model:
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(predict(loaded, inputs), predict(model, inputs), atol=TOLERANCE)
    return loaded
