"""The sequence encoder every factory uses: stacked, optionally bidirectional recurrent layers."""
from __future__ import annotations

import keras

from zoo.cells import CELLS
from zoo.layers.fast_rnn import HoistedRNN
from zoo.layers.fused_lstm import FusedLSTM, fused_kernel_available
from zoo.layers.masking import POOLINGS, MaskedPooling, is_right_padded, padding_lengths, reverse_within_lengths

CELL_KINDS = tuple(CELLS)
IMPLEMENTATIONS = ("auto", "builtin", "custom", "hoisted", "fused")
# Initialisers of the input kernels W (the recurrent kernels stay orthogonal, Saxe et al. 2014).
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                "lecun_normal")

# Keras' own sequence layer for each cell kind. The gated Elman has none.
BUILTIN_LAYERS = {
    "elman": keras.layers.SimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}


def resolve_implementation(cell: str, implementation: str) -> str:
    """The path `auto` takes: the fastest one measured (benchmarks/RESULTS.md) that is valid here.

    - LSTM: `fused` (`zoo.layers.FusedLSTM`) on the TensorFlow backend when no GPU is visible
      (about 1.5-2x Keras' LSTM in training on a CPU); otherwise `builtin`, Keras' LSTM, which
      takes the cuDNN kernel on a GPU.
    - Elman and GRU: `builtin` (Keras' SimpleRNN/GRU; cuDNN-eligible for the GRU).
    - Gated Elman: `custom` (Keras has no such layer).
    All paths of a cell kind hold the same weights, so a model saved on one runs on any other.
    """
    if implementation == "auto":
        if cell == "lstm" and fused_kernel_available() and not _gpu_visible():
            return "fused"
        return "builtin" if cell in BUILTIN_LAYERS else "custom"
    if implementation == "builtin" and cell not in BUILTIN_LAYERS:
        raise ValueError(
            f"implementation='builtin' is not available for cell={cell!r} (Keras has no such "
            f"layer); use implementation='custom' or 'auto'"
        )
    if implementation == "fused" and cell != "lstm":
        raise ValueError(
            f"implementation='fused' exists for cell='lstm' only, got cell={cell!r}; use "
            f"'auto', 'builtin', 'custom' or 'hoisted'"
        )
    return implementation


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
) -> keras.layers.Layer:
    """One sequence-to-sequence recurrent layer (return_sequences=True; with `return_state`, it
    returns `[sequence, *final_states]`, as Keras' recurrent layers do).

    `builtin` gives Keras' layer configured so it is eligible for cuDNN on a GPU: tanh/sigmoid,
    a bias, `reset_after=True` for the GRU, no recurrent dropout, no unroll. `custom` gives the
    zoo's cell inside `keras.layers.RNN`; `hoisted` gives the zoo's cell inside
    `zoo.layers.fast_rnn.HoistedRNN` (input projection hoisted out of the loop); `fused` (LSTM only)
    gives `zoo.layers.FusedLSTM`, the zoo's LSTM cell run by a whole-sequence kernel with a
    hand-written gradient. All hold the same weights in the same layout.
    """
    implementation = resolve_implementation(cell, implementation)
    if implementation == "builtin":
        if recurrent_dropout:
            raise ValueError(
                "recurrent_dropout must be 0 with implementation='builtin' (it rules out cuDNN); "
                f"got {recurrent_dropout!r}; use implementation='custom' for recurrent dropout"
            )
        options = dict(activation="tanh", use_bias=True, unroll=False, return_sequences=True,
                       return_state=return_state)
        if cell != "elman":
            options.update(recurrent_activation="sigmoid", use_cudnn=use_cudnn)
        if cell == "gru":
            options["reset_after"] = True
        return BUILTIN_LAYERS[cell](units, seed=seed, name=name, kernel_initializer=initializer, **options)
    recurrent_cell = CELLS[cell](units, recurrent_dropout=recurrent_dropout, seed=seed,
                                 kernel_initializer=initializer)
    if implementation == "hoisted":
        # The zoo's cell with the input projection hoisted out of the loop (same weights).
        return HoistedRNN(recurrent_cell, return_sequences=True, return_state=return_state, name=name)
    if implementation == "fused":
        # The zoo's LSTM cell run by a whole-sequence kernel with a hand-written gradient.
        return FusedLSTM(recurrent_cell, return_sequences=True, return_state=return_state, name=name)
    return keras.layers.RNN(recurrent_cell, return_sequences=True, return_state=return_state, name=name)


def describe_path(cell: str, implementation_used: str, use_cudnn="auto") -> dict:
    """Which code path a recurrent layer of this kind runs (see `SequenceEncoder.code_path`)."""
    if implementation_used == "builtin":
        layer, loop = BUILTIN_LAYERS[cell].__name__, "keras"
    elif implementation_used == "hoisted":
        layer, loop = f"HoistedRNN({CELLS[cell].__name__})", "hoisted input projection"
    elif implementation_used == "fused":
        loop = "fused sequence kernel" if fused_kernel_available() else "keras generic"
        layer = f"FusedLSTM({CELLS[cell].__name__})"
    else:
        layer, loop = f"RNN({CELLS[cell].__name__})", "keras generic"
    cudnn_eligible = implementation_used == "builtin" and cell in ("lstm", "gru") and use_cudnn is not False
    return {
        "implementation": implementation_used,
        "layer": layer,
        "loop": loop,
        "cudnn_eligible": cudnn_eligible,
        "gpu_visible": _gpu_visible(),
    }


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


def _sequence_only(result):
    """A recurrent layer's sequence, whether or not it also returned its final states."""
    return result[0] if isinstance(result, (list, tuple)) else result


def _gpu_visible() -> bool:
    return bool(visible_gpus())


@keras.saving.register_keras_serializable(package="zoo")
class SequenceEncoder(keras.layers.Layer):
    """Embedded tokens (batch, time, dim) + padding mask -> per-token encodings and a pooled one.

    Calling it returns `(sequence, pooled)`: `sequence` is (batch, time, output_dim) with zeros at
    padded positions, `pooled` is (batch, output_dim), pooled over real tokens only (see
    `zoo.layers.MaskedPooling`). `output_dim` is `units`, doubled when bidirectional. One instance
    applied to two inputs shares its weights (the pair encoder relies on this).

    Args:
        cell: "elman", "gated_elman", "lstm" or "gru".
        implementation: "builtin" (Keras' layers, cuDNN-eligible), "custom" (the zoo's cells in
            `keras.layers.RNN`), "hoisted" (the zoo's cells in `zoo.layers.fast_rnn.HoistedRNN`, the
            input projection hoisted out of the loop; same weights), "fused" (LSTM only:
            `zoo.layers.FusedLSTM`) or "auto" (fused for the LSTM on a CPU with TensorFlow,
            else builtin where Keras has the layer, else custom; see `resolve_implementation`).
            `code_path` describes the result.
        units: hidden width of each direction.
        layers: number of stacked recurrent layers.
        bidirectional: run each layer both ways and concatenate.
        dropout: dropout between stacked layers.
        recurrent_dropout: variational dropout on the recurrent state (custom cells only).
        pooling: "final", "mean" or "max".
        use_cudnn: passed to Keras' LSTM/GRU ("auto", True or False).
        seed: seed for dropout masks.
        initializer: initializer of the input kernels, one of `INITIALIZERS` (Glorot uniform by
            default, as in Keras; the recurrent kernels are orthogonal).
    """

    def __init__(
        self,
        cell: str = "lstm",
        implementation: str = "auto",
        units: int = 64,
        layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        pooling: str = "final",
        use_cudnn="auto",
        seed: int | None = None,
        initializer: str = "glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELL_KINDS}, got {cell!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if initializer not in INITIALIZERS:
            raise ValueError(f"initializer must be one of {INITIALIZERS}, got {initializer!r}")
        self.cell = cell
        self.initializer = initializer
        self.implementation = implementation
        self.implementation_used = resolve_implementation(cell, implementation)
        self.units = units
        self.layers = layers
        self.bidirectional = bool(bidirectional)
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.pooling = pooling
        self.use_cudnn = use_cudnn
        self.seed = seed
        self._gpu_seen = _gpu_visible()
        self.recurrent_layers = []
        for index in range(layers):
            layer = make_recurrent_layer(
                cell, implementation, units, recurrent_dropout, use_cudnn, seed,
                name=f"{cell}_{index}", initializer=initializer,
                return_state=self.pool_final_states and index == layers - 1,
            )
            if self.bidirectional:
                layer = keras.layers.Bidirectional(layer, merge_mode="concat", name=f"bidirectional_{index}")
            self.recurrent_layers.append(layer)
        self.between_layers_dropout = keras.layers.Dropout(dropout, seed=seed) if dropout else None
        self.pool = MaskedPooling(pooling, bidirectional=self.bidirectional, name="pooling")

    @property
    def pool_final_states(self) -> bool:
        """Whether `final` pooling reads the last layer's final states (which it returns too).

        They are the carried state after the last real token, so the same values as pooling the
        sequence; nothing then reads the sequence, so TensorFlow drops the work of returning it
        when only the pooled vector is used (an acceptor), and the pooling has no gradient.
        Pooling by lengths (torch with a GPU) still pools the sequence: its states ran over the
        padding.
        """
        return self.pooling == "final"

    @property
    def output_dim(self) -> int:
        return self.units * (2 if self.bidirectional else 1)

    @property
    def code_path(self) -> dict:
        """Which recurrent code path runs: the layer, the loop, and cuDNN eligibility.

        `cudnn_eligible` says whether Keras would take the cuDNN kernel on a GPU (builtin LSTM/GRU,
        `use_cudnn` not False); `gpu_visible` whether the Keras backend sees one now. XLA is chosen at
        compile time (`zoo.training.compile_defaults(jit_compile=...)`), not here.
        """
        path = describe_path(self.cell, self.implementation_used, self.use_cudnn)
        fused = self._first_fused_directions()
        if fused and fused_kernel_available():
            path["xla_loops"] = {"auto": "XLA when the (time, batch) shape is fixed at trace time",
                                 True: "XLA", False: "no XLA"}[fused[0].xla_loops]
        if fused:
            path["input_projection"] = fused[0].input_projection
        if self.cudnn_by_lengths:
            path["padding"] = "lengths (right-padded batches reach cuDNN without a mask)"
        return path

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.recurrent_layers:
            layer.build(shape)
            shape = shape[:-1] + (self.output_dim,)
        self.built = True

    @property
    def cudnn_by_lengths(self) -> bool:
        """Whether right-padded batches reach cuDNN through lengths instead of a mask.

        On the torch backend Keras' LSTM and GRU take cuDNN only without a mask (a masked call runs
        the generic loop, about 18x slower on an H200; benchmarks/RESULTS.md). For a right-padded
        batch the masked result is had without one: the forward pass is causal, so its outputs at
        real tokens do not see the padding; the backward pass runs forward over each row reversed
        within its length. Padded positions are zeroed. Batches that are not right-padded, and
        traced calls (torch.compile), keep Keras' masked path.
        """
        return (keras.backend.backend() == "torch" and self.implementation_used == "builtin"
                and self.cell in ("lstm", "gru") and self.use_cudnn is not False
                and not self.recurrent_dropout and self._gpu_seen)

    def _recur_by_lengths(self, layer, sequence, lengths, keep, training):
        """One layer over a right-padded batch without a mask; `keep` (batch, time, 1) zeroes padding."""
        if isinstance(layer, keras.layers.Bidirectional):
            forward = _sequence_only(layer.forward_layer(sequence, training=training))
            # The backward layer flips its input (go_backwards) and returns its outputs in the
            # order it ran them; flipping first makes it read each row reversed within its length.
            backward = _sequence_only(layer.backward_layer(
                keras.ops.flip(reverse_within_lengths(sequence, lengths), axis=1), training=training))
            output = keras.ops.concatenate([forward, reverse_within_lengths(backward, lengths)], axis=-1)
        else:
            output = _sequence_only(layer(sequence, training=training))
        return keras.ops.multiply(output, keep)

    def _cudnn_lengths(self, mask):
        """The rows' lengths when this call goes to cuDNN by lengths, else None."""
        if mask is None or not self.cudnn_by_lengths:
            return None
        import torch

        if torch.compiler.is_compiling():
            return None
        lengths = padding_lengths(mask)
        return lengths if is_right_padded(mask, lengths) else None

    def link_input_embedding(self, embedding, calls_per_graph: int = 1) -> str:
        """Declares that this encoder's inputs are `embedding(token_ids)` (dropout aside), so that
        inference given `token_ids` looks the first layer's input projection up per token instead
        of multiplying (fused LSTM only; see `FusedLSTM.link_input_embedding`). The factories link
        it (`zoo.models.components.link_input_embeddings`). `calls_per_graph`: how many times
        one model calls this encoder (the pair encoder: twice, side by side).
        Returns `code_path["input_projection"]`.
        """
        alone = calls_per_graph == 1 and not self.bidirectional
        for direction in self._first_fused_directions():
            direction.link_input_embedding(embedding, alone=alone)
        return self.code_path.get("input_projection", "multiplied (not a fused LSTM)")

    def _first_fused_directions(self) -> list:
        first = self.recurrent_layers[0]
        directions = [first.forward_layer, first.backward_layer] if self.bidirectional else [first]
        return [layer for layer in directions if isinstance(layer, FusedLSTM)]

    def _first_layer_by_ids(self, layer, sequence, mask, training, token_ids):
        """The first layer, given the token ids behind `sequence` (see `link_input_embedding`).

        A `Bidirectional` wrapper passes no extra arguments to its layers, so for a bidirectional
        encoder this merges the two directions itself, as the wrapper does (concatenated, the
        backward sequence flipped back; states forward then backward).
        """
        if not self.bidirectional:
            return layer(sequence, mask=mask, training=training, token_ids=token_ids)
        forward = layer.forward_layer(sequence, mask=mask, training=training, token_ids=token_ids)
        backward = layer.backward_layer(sequence, mask=mask, training=training, token_ids=token_ids)
        states = ()
        if layer.return_state:
            (forward, *forward_states), (backward, *backward_states) = forward, backward
            states = (*forward_states, *backward_states)
        if layer.return_sequences:
            backward = keras.ops.flip(backward, axis=1)
        output = keras.ops.concatenate([forward, backward], axis=-1)
        return (output, *states) if layer.return_state else output

    def call(self, inputs, mask=None, training=None, token_ids=None):
        """`token_ids` (batch, time), optional: the ids `inputs` embed (see `link_input_embedding`)."""
        sequence = inputs
        by_ids = token_ids is not None and bool(self._first_fused_directions())
        lengths = self._cudnn_lengths(mask)
        if lengths is not None:
            keep = keras.ops.cast(keras.ops.expand_dims(mask, -1), inputs.dtype)
        final_states = None
        for index, layer in enumerate(self.recurrent_layers):
            if index and self.between_layers_dropout is not None:
                sequence = self.between_layers_dropout(sequence, training=training)
            if lengths is not None:
                sequence = self._recur_by_lengths(layer, sequence, lengths, keep, training)
            else:
                if index == 0 and by_ids:
                    sequence = self._first_layer_by_ids(layer, sequence, mask, training, token_ids)
                else:
                    sequence = layer(sequence, mask=mask, training=training)
                if isinstance(sequence, (list, tuple)):
                    sequence, *final_states = sequence
        if final_states is not None:
            if not self.bidirectional:
                return sequence, final_states[0]
            # [forward h, (forward c), backward h, (backward c)]: each direction's h.
            backward_h = final_states[len(final_states) // 2]
            return sequence, keras.ops.concatenate([final_states[0], backward_h], axis=-1)
        if mask is None:
            mask = keras.ops.ones(keras.ops.shape(sequence)[:2], dtype="bool")
        return sequence, self.pool(sequence, mask=mask)

    def compute_mask(self, inputs, mask=None):
        # The outputs are consumed with the explicit padding mask; nothing is propagated.
        return None

    def compute_output_shape(self, input_shape):
        return (
            tuple(input_shape[:-1]) + (self.output_dim,),
            (input_shape[0], self.output_dim),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "cell": self.cell,
            "implementation": self.implementation,
            "units": self.units,
            "layers": self.layers,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "pooling": self.pooling,
            "use_cudnn": self.use_cudnn,
            "seed": self.seed,
            "initializer": self.initializer,
        }
