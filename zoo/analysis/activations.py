"""LSTM activations over a text (Karpathy, Johnson & Fei-Fei 2015, "Visualizing and understanding
recurrent networks").

`lstm_activations` replays one LSTM layer of a trained zoo model step by step with its own weights
(numpy, any backend) and returns, for every position, the cell state `c_t`, the output `h_t` and
the gates `i_t, f_t, o_t`. `activations_html` colours each character by one cell's value, as in the
paper's figures; `cells_following` ranks the cells by how well they follow a feature of the text
(e.g. `inside_quotes`, `position_in_line`).

    from zoo.analysis.activations import lstm_activations, activations_html, cells_following
    act = lstm_activations(model, ids)                 # ids: the text's character ids (1-D)
    best = cells_following(act["c"], inside_quotes(text))
    html = activations_html(text, act["c"][:, best[0][0]])
"""
from __future__ import annotations

import html as html_lib
from typing import Sequence

import numpy as np

import keras

STATES = ("c", "h", "i", "f", "o", "g")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lstm_layers(model: keras.Model):
    """The model's embedding layer and its encoder's recurrent layers (LSTM only)."""
    from zoo.layers import SequenceEncoder

    encoders = [layer for layer in model.layers if isinstance(layer, SequenceEncoder)]
    embeddings = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    if len(encoders) != 1 or len(embeddings) != 1:
        raise ValueError("lstm_activations needs a zoo model with one token embedding and one "
                         f"SequenceEncoder (found {len(embeddings)} and {len(encoders)})")
    encoder = encoders[0]
    if encoder.cell != "lstm":
        raise ValueError(f"lstm_activations reads LSTM cells; this encoder's cell is {encoder.cell!r}")
    return embeddings[0], encoder


def lstm_activations(model: keras.Model, ids: Sequence[int], layer: int = 0,
                     direction: str = "forward") -> dict:
    """Per-position LSTM states and gates of `model` over one sequence of ids.

    Args:
        model: a zoo model whose encoder is an LSTM (e.g. the character language model).
        ids: the sequence's ids (1-D, no padding), e.g. `vectorizer.vectorize([text])[0]`.
        layer: which stacked layer (0 = the one reading the embeddings).
        direction: "forward", or "backward" for a bidirectional encoder's backward layer (its
            arrays are returned in text order too).

    Returns:
        dict of numpy arrays (time, units): "c" cell state, "h" output, gates "i", "f", "o" and
        candidate "g". They equal what the model's own layer computes (tested to 1e-5).
    """
    ids = np.asarray(ids, dtype="int32").reshape(-1)
    if ids.size == 0:
        raise ValueError("ids is empty: give at least one id (vectorize a non-empty text)")
    embedding, encoder = _lstm_layers(model)
    if not 0 <= layer < encoder.layers:
        raise ValueError(f"layer must be in [0, {encoder.layers}), got {layer}")
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
    if direction == "backward" and not encoder.bidirectional:
        raise ValueError("direction='backward' needs a bidirectional encoder")
    if ids.max() >= embedding.input_dim or ids.min() < 0:
        raise ValueError(f"ids must be in [0, {embedding.input_dim}), got min {ids.min()} max {ids.max()}")
    sequence = embedding(ids[np.newaxis])
    for below in encoder.recurrent_layers[:layer]:
        sequence = below(sequence, training=False)
    recurrent = encoder.recurrent_layers[layer]
    if isinstance(recurrent, keras.layers.Bidirectional):
        recurrent = recurrent.backward_layer if direction == "backward" else recurrent.forward_layer
    cell = recurrent.cell
    kernel, recurrent_kernel, bias = (np.asarray(keras.ops.convert_to_numpy(w), dtype="float64")
                                      for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
    inputs = np.asarray(keras.ops.convert_to_numpy(sequence), dtype="float64")[0]
    order = range(len(inputs) - 1, -1, -1) if direction == "backward" else range(len(inputs))
    units = recurrent_kernel.shape[0]
    h, c = np.zeros(units), np.zeros(units)
    out = {name: np.zeros((len(inputs), units)) for name in STATES}
    for t in order:
        z = inputs[t] @ kernel + h @ recurrent_kernel + bias   # Keras' gate order i, f, g, o
        i, f, g, o = _sigmoid(z[:units]), _sigmoid(z[units:2 * units]), np.tanh(z[2 * units:3 * units]), \
            _sigmoid(z[3 * units:])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, value in zip(STATES, (c, h, i, f, o, g)):
            out[name][t] = value
    return out


# -- features of a text, one value per character ----------------------------------------------

def inside_quotes(text: str, quote: str = '"') -> np.ndarray:
    """1.0 for characters between an opening and a closing quote mark (the marks included), else 0."""
    values, inside = np.zeros(len(text)), False
    for index, character in enumerate(text):
        if character == quote:
            values[index] = 1.0
            inside = not inside
        else:
            values[index] = float(inside)
    return values


def position_in_line(text: str) -> np.ndarray:
    """How many characters since the last newline (0 at a line's first character)."""
    values, position = np.zeros(len(text)), 0
    for index, character in enumerate(text):
        values[index] = position
        position = 0 if character == "\n" else position + 1
    return values


def inside_parentheses(text: str) -> np.ndarray:
    """The nesting depth of round brackets at each character."""
    values, depth = np.zeros(len(text)), 0
    for index, character in enumerate(text):
        depth += character == "("
        values[index] = depth
        depth -= character == ")" and depth > 0
    return values


def cells_following(values: np.ndarray, feature: np.ndarray, top: int = 5) -> list[tuple[int, float]]:
    """The cells whose activation best follows `feature`: `[(cell, correlation), ...]`, by |r|.

    Args:
        values: (time, units), e.g. `lstm_activations(...)["c"]`.
        feature: (time,), e.g. `inside_quotes(text)`.
        top: how many cells to return.
    """
    values, feature = np.asarray(values, dtype="float64"), np.asarray(feature, dtype="float64")
    if values.ndim != 2 or feature.shape != (values.shape[0],):
        raise ValueError(f"values must be (time, units) and feature (time,); got {values.shape} and {feature.shape}")
    if np.std(feature) == 0:
        raise ValueError("the feature is constant over this text: nothing to correlate with")
    centred = values - values.mean(axis=0)
    feature = feature - feature.mean()
    norms = np.linalg.norm(centred, axis=0) * np.linalg.norm(feature)
    correlation = np.divide(centred.T @ feature, norms, out=np.zeros(values.shape[1]), where=norms > 0)
    ranked = np.argsort(-np.abs(correlation))[:top]
    return [(int(cell), float(correlation[cell])) for cell in ranked]


def activations_html(text: str, values: Sequence[float], title: str = "") -> str:
    """An HTML page showing `text` with each character's background coloured by its value.

    Values in [-1, 1] (a cell state is squashed with tanh first, as in the paper's figures):
    blue for -1, white for 0, red for +1. Newlines are kept.
    """
    values = np.tanh(np.asarray(values, dtype="float64")) if np.max(np.abs(values), initial=0) > 1 else \
        np.asarray(values, dtype="float64")
    if len(values) != len(text):
        raise ValueError(f"one value per character: {len(text)} characters, {len(values)} values")
    spans = []
    for character, value in zip(text, values):
        strength = int(round(255 * (1 - abs(value))))
        colour = f"rgb(255,{strength},{strength})" if value > 0 else f"rgb({strength},{strength},255)"
        shown = "<br>" if character == "\n" else html_lib.escape(character).replace(" ", "&nbsp;")
        spans.append(f'<span style="background:{colour}" title="{value:+.3f}">{shown}</span>')
    heading = f"<h3>{html_lib.escape(title)}</h3>" if title else ""
    return ("<!doctype html><meta charset=\"utf-8\"><body style=\"font-family:monospace\">"
            f"{heading}<p>{''.join(spans)}</p></body>")
