"""Which recurrent layer runs: chosen here, once, for every cell kind and implementation.

Every choice is a sequence layer with one contract (Keras' recurrent layers' own): sequences
(batch, time, features), a padding mask, optional initial states -> the sequence of outputs
(batch, time, units), zeros at padded steps, and with `return_state` the final states as well,
whose first, `h`, is each row's output at its last real step (exactly, on every path). All
choices of one cell kind hold the same weights under the same paths, so a model saved on one
path loads on any other.
"""
from __future__ import annotations

import keras

from zoo.cells import CELLS
from zoo.layers.by_lengths import BY_LENGTHS_LAYERS
from zoo.layers.fused_lstm import FusedLSTM, ProjectedLSTMCell, fused_kernel_available

CELL_KINDS = tuple(CELLS)
IMPLEMENTATIONS = ("auto", "builtin", "custom", "fused")
# Initialisers of the input kernels W (the recurrent kernels stay orthogonal, Saxe et al. 2014).
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                "lecun_normal")

# Keras' own sequence layer for each cell kind. The gated Elman has none.
BUILTIN_LAYERS = {
    "elman": keras.layers.SimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}
# The cells' names, as Keras' layers name theirs: the weights then have the same paths
# (`<layer>/lstm_cell/kernel`) on every path.
CELL_NAMES = {"elman": "simple_rnn_cell", "gated_elman": "gated_elman_cell", "lstm": "lstm_cell",
              "gru": "gru_cell"}


def visible_gpus() -> list[str]:
    """The GPUs the Keras backend in use can see (names); imports no other framework."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [device.name for device in tf.config.list_logical_devices("GPU")]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if backend == "jax":
        import jax

        return [device.device_kind for device in jax.devices() if device.platform == "gpu"]
    return []


def _gpu_visible() -> bool:
    return bool(visible_gpus())


def _backend() -> str:
    return keras.backend.backend()


def implementation_refusal(cell: str, implementation: str) -> str | None:
    """What `implementation` must be instead for this cell kind (None: it is valid): the one
    statement of which paths exist for which cells, read by `resolve_implementation` and by the
    encoder's settings check."""
    if implementation == "builtin" and cell not in BUILTIN_LAYERS:
        return f"'custom' or 'auto' for cell={cell!r} (Keras has no built-in layer for it)"
    if implementation == "fused" and cell != "lstm":
        return f"'auto', 'builtin' or 'custom' for cell={cell!r} (the fused kernel is an LSTM's)"
    return None


def resolve_implementation(cell: str, implementation: str) -> str:
    """The path `auto` takes: the fastest one measured (benchmarks/RESULTS.md) that is valid here.

    - LSTM: `fused` (`zoo.layers.FusedLSTM`) on the TensorFlow backend when no GPU is visible;
      otherwise `builtin`, Keras' LSTM, which takes the cuDNN kernel on a GPU.
    - Elman and GRU: `builtin` (Keras' SimpleRNN/GRU; cuDNN-eligible for the GRU).
    - Gated Elman: `custom` (Keras has no such layer).
    """
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    if implementation == "auto":
        if cell == "lstm" and fused_kernel_available() and not _gpu_visible():
            return "fused"
        return "builtin" if cell in BUILTIN_LAYERS else "custom"
    refusal = implementation_refusal(cell, implementation)
    if refusal:
        raise ValueError(f"implementation must be {refusal}, got {implementation!r}")
    return implementation


def goes_by_lengths(cell: str, implementation_used: str, use_cudnn="auto", recurrent_dropout=0.0) -> bool:
    """Whether Keras' layer is the one that gives right-padded batches to cuDNN without a mask
    (`zoo.layers.by_lengths`): the torch backend with a GPU visible, Keras' LSTM or GRU, cuDNN
    allowed. (On torch, Keras' LSTM and GRU take cuDNN only without a mask.)"""
    return (_backend() == "torch" and implementation_used == "builtin"
            and cell in BY_LENGTHS_LAYERS and use_cudnn is not False and not recurrent_dropout
            and _gpu_visible())


def make_recurrent_layer(
    cell: str,
    implementation: str,
    units: int,
    recurrent_dropout: float = 0.0,
    use_cudnn="auto",
    seed: int | None = None,
    name: str | None = None,
    initializer: str = "glorot_uniform",
    return_state: bool = False,
    go_backwards: bool = False,
    projected_inputs: bool = False,
    alone: bool = False,
) -> keras.layers.Layer:
    """One sequence-to-sequence recurrent layer (return_sequences=True, zeros at padded steps;
    with `return_state`, it returns `[sequence, *final_states]`, as Keras' recurrent layers do).

    - `builtin`: Keras' layer, configured so that it is eligible for cuDNN on a GPU (tanh/sigmoid,
      a bias, `reset_after=True` for the GRU, no recurrent dropout, no unroll); on the torch
      backend with a GPU, its subclass that gives right-padded batches to cuDNN by lengths
      (`zoo.layers.by_lengths`).
    - `custom`: the zoo's cell inside `keras.layers.RNN`.
    - `fused` (LSTM only): `zoo.layers.FusedLSTM`, the zoo's LSTM cell run by a whole-sequence
      kernel with a hand-written gradient. `projected_inputs`: over a `ProjectedLSTMCell`, its
      inputs are already `x W + b` (inference only); `alone` (not one direction of a
      bidirectional layer): its loop then runs as two half-batch loops, one per core.
    """
    implementation = resolve_implementation(cell, implementation)
    if projected_inputs and implementation != "fused":
        raise ValueError(f"projected_inputs needs implementation='fused', got {implementation!r}")
    options = dict(return_sequences=True, return_state=return_state, go_backwards=go_backwards,
                   zero_output_for_mask=True, name=name)
    if implementation == "builtin":
        if recurrent_dropout:
            raise ValueError(
                "recurrent_dropout must be 0 with implementation='builtin' (it rules out cuDNN); "
                f"got {recurrent_dropout!r}; use implementation='custom' for recurrent dropout"
            )
        options.update(activation="tanh", use_bias=True, unroll=False)
        if cell != "elman":
            options.update(recurrent_activation="sigmoid", use_cudnn=use_cudnn)
        if cell == "gru":
            options["reset_after"] = True
        layer_class = BUILTIN_LAYERS[cell]
        if goes_by_lengths(cell, implementation, use_cudnn, recurrent_dropout):
            layer_class = BY_LENGTHS_LAYERS[cell]
        return layer_class(units, seed=seed, kernel_initializer=initializer, **options)
    cell_class = ProjectedLSTMCell if projected_inputs else CELLS[cell]
    recurrent_cell = cell_class(units, recurrent_dropout=recurrent_dropout, seed=seed,
                                kernel_initializer=initializer, name=CELL_NAMES[cell])
    if implementation == "fused":
        return FusedLSTM(recurrent_cell, batch_halves=projected_inputs and alone, **options)
    return keras.layers.RNN(recurrent_cell, **options)


def describe_path(cell: str, implementation_used: str, use_cudnn="auto", recurrent_dropout=0.0) -> dict:
    """Which code path a recurrent layer of this kind runs (see `SequenceEncoder.code_path`)."""
    if implementation_used == "builtin":
        layer, loop = BUILTIN_LAYERS[cell].__name__, "keras"
    elif implementation_used == "fused":
        loop = "fused sequence kernel" if fused_kernel_available() else "keras generic"
        layer = f"FusedLSTM({CELLS[cell].__name__})"
    else:
        layer, loop = f"RNN({CELLS[cell].__name__})", "keras generic"
    cudnn_eligible = implementation_used == "builtin" and cell in ("lstm", "gru") and use_cudnn is not False
    path = {
        "implementation": implementation_used,
        "layer": layer,
        "loop": loop,
        "cudnn_eligible": cudnn_eligible,
        "gpu_visible": _gpu_visible(),
    }
    if goes_by_lengths(cell, implementation_used, use_cudnn, recurrent_dropout):
        path["layer"] = BY_LENGTHS_LAYERS[cell].__name__
        path["padding"] = "lengths (right-padded batches reach cuDNN without a mask)"
    return path


def why_chosen(cell: str, implementation: str) -> str:
    """Why `resolve_implementation(cell, implementation)` gives what it gives, in a few words."""
    if implementation != "auto":
        return f"asked for ({implementation!r})"
    used = resolve_implementation(cell, implementation)
    if used == "fused":
        return "auto: an LSTM on TensorFlow with no GPU visible takes the fused kernel"
    if used == "custom":
        return "auto: Keras has no such layer"
    if cell == "lstm":
        return ("auto: a GPU is visible, Keras' LSTM can take cuDNN" if _gpu_visible()
                else f"auto: no fused kernel on the {_backend()} backend, Keras' LSTM")
    return "auto: Keras' own layer"


def summarize_path(path: dict, xla_loops="auto") -> str:
    """One short line from a `describe_path` dict (see `SequenceEncoder.path_summary`);
    `xla_loops`: the fused LSTM's setting (`FusedLSTM.xla_loops`)."""
    if path["implementation"] == "fused":
        if path["loop"] != "fused sequence kernel":
            return "fused LSTM layer, Keras' generic loop (no fused kernel on this backend)"
        loops = {"auto": "XLA loops when shapes are fixed", True: "XLA loops",
                 False: "loops without XLA"}[xla_loops]
        return f"fused LSTM, {loops}" + (", inputs already projected" if "input_projection" in path else "")
    if path["implementation"] == "builtin":
        name = path["layer"].replace("ByLengths", "")
        details = ["cuDNN eligible" if path["cudnn_eligible"] else "no cuDNN",
                   "GPU visible" if path["gpu_visible"] else "no GPU"]
        if "padding" in path:
            details.append("padding by lengths")
        return f"Keras {name} ({', '.join(details)})"
    return f"zoo {path['layer'][len('RNN('):-1]} in Keras' RNN loop"


__all__ = ["BUILTIN_LAYERS", "CELL_KINDS", "IMPLEMENTATIONS", "INITIALIZERS", "describe_path",
           "implementation_refusal",
           "make_recurrent_layer", "resolve_implementation", "summarize_path", "visible_gpus",
           "why_chosen"]
