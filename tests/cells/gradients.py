"""Backend-agnostic gradients and the "same as Keras" harness for the cell tests.

`loss_and_gradients(layer, inputs, loss_fn)` differentiates `loss_fn(layer(inputs))` with respect to
the inputs and every trainable weight of `layer`, on whichever backend `keras.backend.backend()`
names: `tf.GradientTape` on tensorflow, `jax.value_and_grad` over `layer.stateless_call` on jax,
autograd on torch. The backend's own package is imported only inside its branch, so this module
(and the tests that use it) import no tensorflow under jax or torch.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops


def _to_numpy(value):
    return np.asarray(ops.convert_to_numpy(value))


def loss_and_gradients(layer, inputs, loss_fn, **call_kwargs):
    """Returns `(loss, d loss / d inputs, [d loss / d w for w in layer.trainable_variables])`.

    All results are numpy arrays. `call_kwargs` (e.g. `mask=`, `training=`) go to the layer's call.
    The layer is built on `inputs` first if it is not built yet. A weight the loss does not reach
    gets a zero gradient.
    """
    inputs = np.asarray(inputs, dtype="float32")
    if not layer.built:
        layer(inputs, **call_kwargs)
    weights = list(layer.trainable_variables)
    backend = keras.backend.backend()

    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = loss_fn(layer(x, **call_kwargs))
        grads = tape.gradient(loss, [x] + weights)

    elif backend == "jax":
        import jax

        trainable = [w.value for w in weights]
        non_trainable = [w.value for w in layer.non_trainable_variables]

        def loss_of(trainable_values, x):
            outputs, _ = layer.stateless_call(trainable_values, non_trainable, x, **call_kwargs)
            return loss_fn(outputs)

        # jit: one XLA compilation for the whole loss and its gradient instead of one per op.
        loss, (weight_grads, input_grad) = jax.jit(jax.value_and_grad(loss_of, argnums=(0, 1)))(
            trainable, jax.numpy.asarray(inputs)
        )
        grads = [input_grad, *weight_grads]

    elif backend == "torch":
        import torch

        x = ops.convert_to_tensor(inputs).detach().requires_grad_(True)
        loss = loss_fn(layer(x, **call_kwargs))
        parameters = [w.value for w in weights]
        grads = torch.autograd.grad(loss, [x] + parameters, allow_unused=True)

    else:  # pragma: no cover - numpy/openvino backends cannot differentiate
        raise NotImplementedError(f"no gradients on the {backend!r} backend")

    targets = [inputs] + [_to_numpy(w) for w in weights]
    grads = [
        np.zeros_like(target) if grad is None else _to_numpy(grad)
        for grad, target in zip(grads, targets)
    ]
    return _to_numpy(loss), grads[0], grads[1:]


def weighted_sum_loss(probe):
    """A loss `sum(outputs * probe)`: every output element gets its own (fixed) weight."""
    probe = np.asarray(probe, dtype="float32")
    # A backend tensor, not the numpy array: torch's `tensor * ndarray` would call `__array__`.
    return lambda outputs: ops.sum(outputs * ops.convert_to_tensor(probe))


# ---------------------------------------------------------------------------------------------
# Our cell inside keras.layers.RNN against Keras' own layer, weights copied between them.
# ---------------------------------------------------------------------------------------------

DIRECTIONS = ("forwards", "backwards", "bidirectional")
COPIES = ("ours_to_keras", "keras_to_ours")
# Every direction, masked and unmasked; the copy alternates so that each direction and each
# masking is checked with weights copied both ways (the full product would cost twice the time).
CASES = [
    (direction, COPIES[(index + masked) % 2], masked)
    for index, direction in enumerate(DIRECTIONS)
    for masked in (False, True)
]
CASE_IDS = [f"{d}-{c}-{'masked' if m else 'unmasked'}" for d, c, m in CASES]


def wrap(layer_factory, direction):
    """Builds `layer_factory(go_backwards=...)`, in `Bidirectional` for "bidirectional"."""
    if direction == "bidirectional":
        return keras.layers.Bidirectional(layer_factory(go_backwards=False))
    return layer_factory(go_backwards=direction == "backwards")


def randomize_weights(layer, seed, scale=0.5):
    """Sets every weight of a built `layer` to seeded normal values (biases included)."""
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.normal(scale=scale, size=w.shape).astype("float32") for w in layer.get_weights()]
    )


def assert_same_as_keras(
    ours_factory, keras_factory, direction, copy, masked, *, seed=0, atol=1e-5, rtol=1e-5
):
    """Asserts equal outputs, input gradients and weight gradients of ours and Keras' layer.

    `ours_factory(go_backwards=...)` and `keras_factory(go_backwards=...)` build an RNN layer with
    `return_sequences=True`. Weights are drawn at random into the source layer (ours for
    "ours_to_keras", Keras' for "keras_to_ours") and copied into the other with `set_weights`.
    With `masked`, rows are right-padded (lengths 5, 3, 1 of 5).
    """
    rng = np.random.default_rng(seed)
    batch, steps, features = 3, 5, 4
    inputs = rng.normal(size=(batch, steps, features)).astype("float32")
    call_kwargs = {}
    if masked:
        lengths = np.array([5, 3, 1])
        call_kwargs["mask"] = np.arange(steps)[None, :] < lengths[:, None]

    ours = wrap(ours_factory, direction)
    theirs = wrap(keras_factory, direction)
    ours(inputs)
    theirs(inputs)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    source, target = (ours, theirs) if copy == "ours_to_keras" else (theirs, ours)
    randomize_weights(source, seed + 1)
    target.set_weights(source.get_weights())

    outputs = _to_numpy(ours(inputs, **call_kwargs))
    expected = _to_numpy(theirs(inputs, **call_kwargs))
    np.testing.assert_allclose(outputs, expected, atol=atol, rtol=rtol)

    loss_fn = weighted_sum_loss(rng.normal(size=expected.shape))
    our_loss, our_dx, our_dw = loss_and_gradients(ours, inputs, loss_fn, **call_kwargs)
    keras_loss, keras_dx, keras_dw = loss_and_gradients(theirs, inputs, loss_fn, **call_kwargs)
    np.testing.assert_allclose(our_loss, keras_loss, atol=atol, rtol=rtol)
    np.testing.assert_allclose(our_dx, keras_dx, atol=atol, rtol=rtol, err_msg="d/d inputs")
    assert np.abs(keras_dx).max() > 0
    assert len(our_dw) == len(keras_dw)
    for weight, ours_grad, keras_grad in zip(ours.trainable_variables, our_dw, keras_dw):
        np.testing.assert_allclose(
            ours_grad, keras_grad, atol=atol, rtol=rtol, err_msg=f"d/d {weight.path}"
        )
