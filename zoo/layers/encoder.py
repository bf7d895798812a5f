"""The sequence encoder every factory uses: stacked, optionally bidirectional recurrent layers."""
from __future__ import annotations

import numpy as np

import keras

from zoo.layers.fused_lstm import FusedLSTM, fused_kernel_available
from zoo.layers.masking import POOLINGS, MaskedPooling
from zoo.layers.recurrent import (  # noqa: F401  (re-exported)
    BUILTIN_LAYERS,
    CELL_KINDS,
    IMPLEMENTATIONS,
    INITIALIZERS,
    describe_path,
    implementation_refusal,
    make_recurrent_layer,
    resolve_implementation,
    summarize_path,
    visible_gpus,
    why_chosen,
)
from zoo.validation import check_choice, check_rate, fail

XLA_LOOPS = {"auto": "XLA when the (time, batch) shape is fixed at trace time", True: "XLA",
             False: "no XLA"}


def check_settings(owner: str, cell, implementation, units, layers, dropout, recurrent_dropout,
                   pooling, initializer) -> None:
    """The encoder's settings, checked once for `SequenceEncoder` and `zoo.models.EncoderConfig`
    alike; a `ValueError` names the owner, the field, the value and what it must be."""
    check_choice(owner, "cell", cell, CELL_KINDS)
    check_choice(owner, "implementation", implementation, IMPLEMENTATIONS)
    refusal = implementation_refusal(cell, implementation)
    if refusal:
        fail(owner, "implementation", implementation, refusal)
    for field, value in (("units", units), ("layers", layers)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            fail(owner, field, value, "a positive integer")
    check_rate(owner, "dropout", dropout)
    check_rate(owner, "recurrent_dropout", recurrent_dropout)
    if recurrent_dropout and implementation not in ("custom", "fused"):
        fail(owner, "recurrent_dropout", recurrent_dropout,
             "0 unless implementation='custom' or 'fused' (recurrent dropout rules out cuDNN)")
    check_choice(owner, "pooling", pooling, POOLINGS)
    check_choice(owner, "initializer", initializer, INITIALIZERS)


@keras.saving.register_keras_serializable(package="zoo")
class SequenceEncoder(keras.layers.Layer):
    """Embedded tokens (batch, time, dim) + padding mask -> per-token encodings and a pooled one.

    Calling it returns `(sequence, pooled)`: `sequence` is (batch, time, output_dim) with zeros at
    padded positions, `pooled` is (batch, output_dim), pooled over real tokens only (see
    `zoo.layers.MaskedPooling`). `output_dim` is `units`, doubled when bidirectional. One instance
    applied to two inputs shares its weights (the pair encoder relies on this).

    A plain stack: each level is one recurrent layer from `zoo.layers.make_recurrent_layer` (which
    decides what runs; `code_path` and `path_summary` say what it chose), dropout between levels,
    then the pooling. `final` pooling reads the last layer's final `h` (each direction's output at
    its last real step), the same values as pooling the sequence; nothing then reads the sequence
    of an acceptor, so TensorFlow drops the work of returning it, and the pooling has no gradient.

    Args:
        cell: "elman", "gated_elman", "lstm" or "gru".
        implementation: "builtin" (Keras' layers, cuDNN-eligible), "custom" (the zoo's cells in
            `keras.layers.RNN`), "fused" (LSTM only: `zoo.layers.FusedLSTM`) or "auto" (fused for
            the LSTM on a CPU with TensorFlow, else builtin where Keras has the layer, else
            custom; see `resolve_implementation`).
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
        projected_inputs: bool, the inputs are already the first layer's input projections
            `x W + b`: (batch, time, 4 units), or (batch, time, 8 units) laid out
            `[forward | backward]` when bidirectional; the first layer then has no input kernel
            and no bias (`zoo.layers.fused_lstm.ProjectedLSTMCell`). Inference only, and only
            where the first layer runs the fused LSTM kernel. `folded` makes such an encoder from
            a trained one.
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
        projected_inputs: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_settings("SequenceEncoder", cell, implementation, units, layers, dropout, recurrent_dropout,
                       pooling, initializer)
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
        self.projected_inputs = bool(projected_inputs)
        if self.projected_inputs:
            reason = self._fused_kernel_refusal()
            if reason:
                raise ValueError(f"projected_inputs=True needs the fused LSTM kernel in the first "
                                 f"layer, but {reason}")
        self.recurrent_layers = []
        templates = []
        for index in range(layers):
            layer = make_recurrent_layer(
                cell, implementation, units, recurrent_dropout, use_cudnn, seed,
                name=f"{cell}_{index}", initializer=initializer,
                return_state=self.pool_final_states and index == layers - 1,
                projected_inputs=self.projected_inputs and index == 0, alone=not self.bidirectional,
            )
            if self.bidirectional:
                templates.append(layer)
                layer = keras.layers.Bidirectional(layer, merge_mode="concat", name=f"bidirectional_{index}")
            self.recurrent_layers.append(layer)
        # `Bidirectional` rebuilds both directions from the serialized template. While a model
        # loads, Keras shares objects by `id()`: a template freed here could lend its id to the
        # next layer's template (or its cell) and the next `Bidirectional` would receive the
        # previous backward layer. Holding the templates (untracked: they own no weights) for the
        # encoder's life keeps every id unique while the load runs.
        object.__setattr__(self, "_bidirectional_templates", tuple(templates))
        self.between_layers_dropout = keras.layers.Dropout(dropout, seed=seed) if dropout else None
        self.pool = MaskedPooling(pooling, bidirectional=self.bidirectional, name="pooling")

    @property
    def pool_final_states(self) -> bool:
        """Whether `final` pooling reads the last layer's final `h` (which every recurrent layer
        of the zoo gives exactly: each direction's output at its last real step)."""
        return self.pooling == "final"

    @property
    def output_dim(self) -> int:
        return self.units * (2 if self.bidirectional else 1)

    @property
    def code_path(self) -> dict:
        """Which recurrent code path runs, and why: the implementation, why it was chosen
        (`chosen`), the layer, the loop, cuDNN eligibility, whether a GPU is visible; for the fused
        LSTM its loops' XLA setting; with `projected_inputs`, `input_projection`; on the torch
        route by lengths, `padding`.

        `cudnn_eligible` says whether Keras would take the cuDNN kernel on a GPU (builtin LSTM/GRU,
        `use_cudnn` not False); `gpu_visible` whether the Keras backend sees one now. The model's
        XLA is chosen at compile time (`zoo.training.compile_defaults(jit_compile=...)`), not here.
        """
        path = describe_path(self.cell, self.implementation_used, self.use_cudnn, self.recurrent_dropout)
        path["chosen"] = why_chosen(self.cell, self.implementation)
        fused = self._first_directions(FusedLSTM)
        if fused and fused_kernel_available():
            path["xla_loops"] = XLA_LOOPS[fused[0].xla_loops]
        if self.projected_inputs:
            path["input_projection"] = "folded: the inputs are the first layer's x W + b"
        return path

    @property
    def path_summary(self) -> str:
        """`code_path` in one short line, e.g. "fused LSTM, XLA loops when shapes are fixed" or
        "Keras LSTM (cuDNN eligible, GPU visible)"."""
        fused = self._first_directions(FusedLSTM)
        return summarize_path(self.code_path, fused[0].xla_loops if fused else "auto")

    def _first_directions(self, kind=keras.layers.Layer) -> list:
        """The first level's recurrent layer(s) of type `kind`: forward (then backward)."""
        first = self.recurrent_layers[0]
        directions = [first.forward_layer, first.backward_layer] if self.bidirectional else [first]
        return [layer for layer in directions if isinstance(layer, kind)]

    def _fused_kernel_refusal(self) -> str | None:
        """Why the first layer does not run the fused LSTM kernel (None: it does)."""
        if self.cell != "lstm":
            return f"cell={self.cell!r}: the fused kernel is the LSTM's"
        if self.implementation_used != "fused":
            return (f"implementation={self.implementation!r} runs "
                    f"{describe_path(self.cell, self.implementation_used, self.use_cudnn)['layer']} here")
        if not fused_kernel_available():
            return f"the fused kernel needs the TensorFlow backend, this is {keras.backend.backend()!r}"
        return None

    @property
    def input_projection_foldable(self) -> tuple[bool, str]:
        """(whether `folded` can fold this encoder's first input projection, why or why not)."""
        if self.projected_inputs:
            return False, "folded already (projected_inputs=True)"
        reason = self._fused_kernel_refusal()
        if reason:
            return False, reason
        if not self.built:
            return False, "not built: no weights to fold yet"
        return True, "the first layer runs the fused LSTM kernel: x W + b folds into a table"

    def folded(self, embeddings) -> tuple["SequenceEncoder", np.ndarray]:
        """This encoder with its first input projection folded into a table, for inference.

        Args:
            embeddings: (vocabulary, dim) array, the embedding matrix `E` whose rows feed this
                encoder (dropout aside: at inference it is the identity).

        Returns:
            `(encoder, table)`: a new built encoder with the same config and
            `projected_inputs=True`, its weights copied from this one (see `fold_into`), and
            `table`, float32 (vocabulary, 4 units), or (vocabulary, 8 units) `[forward |
            backward]` when bidirectional: each direction's `E W + b`. Then
            `encoder(table[ids], mask=mask)` equals `self(E[ids], mask=mask)` to float rounding.
        """
        self._check_foldable()
        folded = type(self).from_config({**self.get_config(), "projected_inputs": True})
        folded.build((None, None, 4 * self.output_dim))
        return folded, self.fold_into(folded, embeddings)

    def _check_foldable(self) -> None:
        foldable, reason = self.input_projection_foldable
        if not foldable:
            raise ValueError(f"cannot fold this encoder's input projection: {reason}")

    def fold_into(self, target: "SequenceEncoder", embeddings) -> np.ndarray:
        """Copies this encoder's weights into `target`, a built encoder of the same config with
        `projected_inputs=True` (first layer: the recurrent kernels only), and returns the table
        of first-layer input projections `E W + b` that `target` reads instead (see `folded`)."""
        self._check_foldable()
        if not target.projected_inputs or {**target.get_config(), "projected_inputs": False, "name": self.name} \
                != {**self.get_config(), "name": self.name}:
            raise ValueError("fold_into needs a target encoder of the same config with projected_inputs=True")
        embeddings = np.asarray(keras.ops.convert_to_numpy(embeddings), dtype="float64")
        directions = self._first_directions()
        input_dim = directions[0].cell.kernel.shape[0]
        if embeddings.ndim != 2 or embeddings.shape[1] != input_dim:
            raise ValueError(f"embeddings must be (vocabulary, {input_dim}) to feed this encoder, "
                             f"got shape {embeddings.shape}")

        def numpy(weight):
            return np.asarray(keras.ops.convert_to_numpy(weight), dtype="float64")

        table = np.concatenate(
            [embeddings @ numpy(layer.cell.kernel) + numpy(layer.cell.bias) for layer in directions],
            axis=-1).astype("float32")
        for source, projected in zip(directions, target._first_directions()):
            projected.cell.recurrent_kernel.assign(source.cell.recurrent_kernel)
        for source, projected in zip(self.recurrent_layers[1:], target.recurrent_layers[1:]):
            projected.set_weights(source.get_weights())
        return table

    def build(self, input_shape):
        shape = tuple(input_shape)
        if self.projected_inputs and shape[-1] != 4 * self.output_dim:
            raise ValueError(f"projected_inputs: the inputs must be {4 * self.output_dim} wide (the "
                             f"first layer's x W + b), got {shape[-1]}")
        for layer in self.recurrent_layers:
            layer.build(shape)
            shape = shape[:-1] + (self.output_dim,)
        self.built = True

    def call(self, inputs, mask=None, training=None):
        sequence, final_states = inputs, None
        for index, layer in enumerate(self.recurrent_layers):
            if index and self.between_layers_dropout is not None:
                sequence = self.between_layers_dropout(sequence, training=training)
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
            "projected_inputs": self.projected_inputs,
        }
