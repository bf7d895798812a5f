"""The vanishing-gradient picture: how much of the gradient of the last state reaches each input.

For a recurrent layer run over T random inputs, `gradient_through_time` measures
`|| d h_T / d x_t ||` (the norm of the gradient of the sum of the final state with respect to
the input at step t) for t = 1..T, averaged over a batch. For the Elman network it decays
geometrically with the distance T - t (Bengio, Simard & Frasconi 1994); the gates of the gated
Elman, the LSTM and the GRU let it through (Hochreiter & Schmidhuber 1997). `plot_gradients`
draws one curve per cell on a log scale.

TensorFlow only (it takes gradients with `tf.GradientTape`).

    python -m zoo.cli analyze gradients --out gradients.png
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf

import keras

from zoo.cells import CELLS


def gradient_through_time(cell: str, steps: int = 100, units: int = 32, input_dim: int = 16,
                          batch: int = 16, seed: int = 0, forget_bias: float = 1.0,
                          input_scale: float = 0.5) -> np.ndarray:
    """`|| d sum(h_T) / d x_t ||` for t = 1..steps (mean over a batch of random sequences).

    The layer is freshly initialised (Glorot-uniform input kernels, orthogonal recurrent kernels),
    as at the start of training. What a gated cell lets through is set by its forget gate: with
    the usual initial forget-gate bias 1, f ~ sigmoid(1) = 0.73 and the gradient still shrinks
    about 0.73x per step; a larger bias (the gate a trained model learns to open) keeps it, while
    nothing keeps the Elman network's.

    Args:
        cell: one of `zoo.cells.CELLS` ("elman", "gated_elman", "lstm", "gru").
        steps: sequence length T.
        units, input_dim, batch: sizes.
        seed: seed of the weights and the inputs.
        forget_bias: initial forget-gate bias of the gated Elman and the LSTM (ignored by the
            Elman and the GRU, which have none).
        input_scale: standard deviation of the random inputs.

    Returns:
        float64 array (steps,): entry t is the gradient norm at input t (the last is T's own).
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {tuple(CELLS)}, got {cell!r}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    keras.utils.set_random_seed(seed)
    options = {"forget_bias": forget_bias} if cell in ("gated_elman", "lstm") else {}
    layer = keras.layers.RNN(CELLS[cell](units, **options))
    inputs = tf.constant(np.random.default_rng(seed).normal(scale=input_scale, size=(batch, steps, input_dim)),
                         tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        final = layer(inputs)
        total = tf.reduce_sum(final)
    gradient = tape.gradient(total, inputs)                     # (batch, steps, input_dim)
    return tf.reduce_mean(tf.norm(gradient, axis=-1), axis=0).numpy().astype("float64")


def gradient_table(cells: Sequence[str] = tuple(CELLS), steps: int = 100, **options) -> dict[str, np.ndarray]:
    """`gradient_through_time` for each cell kind."""
    return {cell: gradient_through_time(cell, steps, **options) for cell in cells}


def plot_gradients(table: dict[str, np.ndarray], path: str | Path,
                   title: str = "Gradient reaching earlier inputs, at initialisation") -> Path:
    """Draws each cell's gradient norm against the distance from the last step (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for cell, norms in table.items():
        distance = np.arange(len(norms))[::-1]                     # T - t
        axis.semilogy(distance, np.maximum(norms, 1e-30), label=cell)
    axis.set_xlabel("steps back from the last state (T - t)")
    axis.set_ylabel("|| d h_T / d x_t ||")
    axis.set_title(title)
    axis.legend()
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
