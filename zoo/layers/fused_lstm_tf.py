"""TensorFlow kernels of `zoo.layers.FusedLSTM`: a whole-sequence LSTM with a hand-written gradient.

TensorFlow only (`tf.while_loop`, `tf.custom_gradient`, XLA); `zoo.layers.fused_lstm` calls it on
the TensorFlow backend and falls back to Keras' generic loop elsewhere.

Why it is faster than differentiating Keras' step loop automatically (measured in
`benchmarks/rnn_throughput.py`, see `benchmarks/RESULTS.md`):
- Forward: `x W + b` for all steps is one large matrix product before the loop; each step then
  multiplies only `h_{t-1} V` (V: the recurrent kernel) and keeps the gates.
- Backward: each step does the one product on the critical path, `dz_t V^T`, and a few element-wise
  operations; the gate derivatives they need (sigmoid', tanh', the products with c_{t-1}, g, i)
  were computed by the forward loop while each step's values were at hand. The weight gradients
  are large products after the loop: `[dW; dV] = [X, H_prev]^T dZ` (one product: faster than two
  here), `db = sum dZ`, `dX = dZ W^T`, instead of three small products and an accumulation per
  step.
- A sequence of known length runs in time chunks (`chunk_sizes`): the large products of a chunk
  (its input projection; its share of the weight gradients) run on another thread while the loop
  of the next chunk runs.
- Inference from token ids (`lstm_sequence_folded`): `x_t W + b` is a row of `E W + b` (E: the
  embedding matrix), kept in a table (`TokenProjections`), so a step's input costs a lookup.
- With `xla=True` (the default) the two loops, and nothing else, are compiled by XLA, which fuses
  each step's element-wise operations; the large products stay with TensorFlow's own matmul,
  which is faster than XLA's on a CPU. XLA compiles once per (chunk length, batch) shape.

Notation (Keras' gate order i, f, g, o; `m_t` is 1 on real tokens and 0 on padding):
    z_t = x_t W + h_{t-1} V + b;  i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g)
    c_t = m_t (f c_{t-1} + i g) + (1 - m_t) c_{t-1}
    h_t = m_t (o tanh(c_t)) + (1 - m_t) h_{t-1}
so a padded step carries the state through unchanged, as `keras.layers.RNN` does. The outputs are
h_t, except zeros before a row's first real step (see `_output_mask`), also as Keras gives them.
"""
from __future__ import annotations

import tensorflow as tf


def _before(first, rest):
    """`[first, rest[0], ..., rest[T-2]]`: the value each step started from (time-major)."""
    return tf.concat([first[tf.newaxis], rest[:-1]], axis=0)


def _sigmoid(x):
    """The logistic function as `(1 + tanh(x / 2)) / 2`: the same values to float rounding
    (within 3e-7), and under XLA on a CPU a quarter faster than `tf.sigmoid` (`exp` and a
    division) in the loops' element-wise work."""
    return 0.5 * tf.tanh(0.5 * x) + 0.5


def _carry(m, new, old):
    """The new state on real steps, the old one on padded steps (`m` is None: no padding)."""
    return new if m is None else tf.where(m > 0, new, old)


def _forward_loop(projected, initial_h, initial_c, recurrent_kernel, step_mask, recurrent_mask):
    """The training forward loop.

    Besides the carried `h` of every step it keeps what the backward loop needs, computed here,
    where each step's values are at hand (and, under XLA, fused into the step's kernel):
    - `local` (T, B, 4U): the local derivatives of the gate pre-activations, so that
      `dz_t = [dc_t, dc_t, dc_t, dh_t] * local_t` (dc_t: gradient reaching c_t, dh_t: reaching h_t);
    - `dc_dh` (T, B, U): dc_t/dh_t through h_t = o tanh(c_t);
    - `forget` (T, B, U): f_t, which carries dc_t back to c_{t-1}.
    Padded steps get zeros in `dc_dh` and the output gate's part of `local`.
    """
    steps = tf.shape(projected)[0]

    def step(t, h, c, local_out, dc_dh_out, forget_out, h_out):
        m = None if step_mask is None else step_mask[t]
        h_in = h if recurrent_mask is None else h * recurrent_mask
        z_i, z_f, z_g, z_o = tf.split(projected[t] + tf.matmul(h_in, recurrent_kernel), 4, axis=1)
        i, f, g, o = _sigmoid(z_i), _sigmoid(z_f), tf.tanh(z_g), _sigmoid(z_o)
        c_new = f * c + i * g
        tanh_c = tf.tanh(c_new)
        dc_dh = o * (1.0 - tanh_c * tanh_c)
        d_z_o = tanh_c * o * (1.0 - o)
        if m is not None:
            dc_dh, d_z_o = dc_dh * m, d_z_o * m
        local = tf.concat([g * i * (1.0 - i), c * f * (1.0 - f), i * (1.0 - g * g), d_z_o], axis=1)
        h_new = _carry(m, o * tanh_c, h)
        c_new = _carry(m, c_new, c)
        return (t + 1, h_new, c_new, local_out.write(t, local), dc_dh_out.write(t, dc_dh),
                forget_out.write(t, f), h_out.write(t, h_new))

    arrays = [tf.TensorArray(projected.dtype, size=steps) for _ in range(4)]
    _, h, c, *arrays = tf.while_loop(
        lambda t, *_: t < steps, step, (0, initial_h, initial_c, *arrays), maximum_iterations=steps)
    local, dc_dh, forget, hs = (array.stack() for array in arrays)
    return local, dc_dh, forget, hs, h, c


def _backward_loop(d_outputs, d_h, d_c, local, dc_dh, forget, recurrent_kernel, step_mask,
                   recurrent_mask, output_mask):
    """dL/dz for every step (T, B, 4U), and dL/dh_0, dL/dc_0 (see `_forward_loop`).

    `output_mask` (T, B, 1) or None: the outputs are the carried `h` times it (see `_output_mask`).
    """
    steps = tf.shape(local)[0]
    recurrent_t = tf.transpose(recurrent_kernel)

    def back(t, dh, dc, dz_out):
        m = None if step_mask is None else step_mask[t]
        d_output = d_outputs[t] if output_mask is None else d_outputs[t] * output_mask[t]
        dh = dh + d_output
        dc_new = (dc if m is None else m * dc) + dh * dc_dh[t]
        dz = tf.concat([dc_new, dc_new, dc_new, dh], axis=1) * local[t]
        dh_before = tf.matmul(dz, recurrent_t)
        if recurrent_mask is not None:
            dh_before *= recurrent_mask
        dc_before = dc_new * forget[t]
        if m is not None:  # a padded step passes the gradient straight through
            dh_before += (1.0 - m) * dh
            dc_before += (1.0 - m) * dc
        return t - 1, dh_before, dc_before, dz_out.write(t, dz)

    _, d_h0, d_c0, dz_out = tf.while_loop(
        lambda t, *_: t >= 0, back, (steps - 1, d_h, d_c, tf.TensorArray(local.dtype, size=steps)),
        maximum_iterations=steps)
    return dz_out.stack(), d_h0, d_c0


def _inference_loop(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias, step_mask,
                    output_mask, return_sequences):
    """The forward pass alone; nothing kept for a backward pass.

    `kernel` None: `inputs` are already projected, `x W + b` (T, B, 4U), by one large product
    outside the loop (see `lstm_sequence_inference`). Otherwise each step computes `x_t W + b`:
    under XLA, for a sequence run in one piece, that is faster than reading a hoisted product
    (1.58x vs 0.92x of Keras' LSTM in a one-core prototype), since it fuses with the step.
    """
    steps = tf.shape(inputs)[0]

    def step(t, h, c, h_out):
        m = None if step_mask is None else step_mask[t]
        x_part = inputs[t] if kernel is None else tf.matmul(inputs[t], kernel) + bias
        z_i, z_f, z_g, z_o = tf.split(x_part + tf.matmul(h, recurrent_kernel), 4, axis=1)
        c_new = _sigmoid(z_f) * c + _sigmoid(z_i) * tf.tanh(z_g)
        output = _sigmoid(z_o) * tf.tanh(c_new)
        c_new, h_new = _carry(m, c_new, c), _carry(m, output, h)
        if return_sequences:
            h_out = h_out.write(t, h_new if output_mask is None else h_new * output_mask[t])
        return t + 1, h_new, c_new, h_out

    _, h, c, h_out = tf.while_loop(
        lambda t, *_: t < steps, step,
        (0, initial_h, initial_c, tf.TensorArray(inputs.dtype, size=steps if return_sequences else 0)),
        maximum_iterations=steps)
    return (h_out.stack() if return_sequences else None), h, c


# XLA-compiled versions; XLA compiles each for the shapes it meets (and caches them). XLA needs
# every loop's trip count bounded (`maximum_iterations`) to size its TensorArrays.
_COMPILED = {
    name: tf.function(function, jit_compile=True, autograph=False)
    for name, function in (("forward", _forward_loop), ("backward", _backward_loop),
                           ("inference", _inference_loop))
}
_PLAIN = {"forward": _forward_loop, "backward": _backward_loop, "inference": _inference_loop}


# Time chunks: a sequence of known length runs as consecutive pieces of about CHUNK_STEPS steps
# (at most MAX_CHUNKS), so that TensorFlow runs each piece's large products (the input projection
# before it, the weight gradients after it) on the other thread while the loop of the next piece
# runs (XLA runs the loop's small per-step products on one thread). Measured (T=100, batch 64,
# hidden 256, both cores): training 146 ms vs 168 ms in one piece with 5 pieces, inference 57 vs
# 61 ms.
CHUNK_STEPS = 20
MAX_CHUNKS = 8


def chunk_sizes(steps) -> list[int]:
    """The lengths of the time chunks of a sequence of `steps` steps (one chunk if unknown).

    Equal lengths (the first ones one longer), so XLA compiles at most two loop shapes.
    """
    if steps is None or steps < 2 * CHUNK_STEPS:
        return [steps]
    count = min(MAX_CHUNKS, round(steps / CHUNK_STEPS))
    base, longer = divmod(steps, count)
    return [base + 1] * longer + [base] * (count - longer)


def _in_chunks(value, sizes):
    """`value` (time-major) cut into time chunks; `None` stays `None` in every chunk."""
    if value is None:
        return [None] * len(sizes)
    return [value] if len(sizes) == 1 else tf.split(value, sizes, axis=0)


def _joined(values):
    return values[0] if len(values) == 1 else tf.concat(values, axis=0)


def _project(inputs, kernel, bias):
    """`x W + b` for every step of `inputs` (T, B, D): one large product -> (T, B, 4U)."""
    shape = tf.shape(inputs)
    flat = tf.reshape(inputs, [-1, shape[2]])
    return tf.reshape(tf.matmul(flat, kernel) + bias, [shape[0], shape[1], -1])


def _step_mask(mask, dtype):
    """The (time, batch) boolean mask as (time, batch, 1) numbers, 1 on real steps; or None."""
    return None if mask is None else tf.cast(mask, dtype)[:, :, tf.newaxis]


def _output_mask(step_mask, zero_output_for_mask):
    """What the carried `h` is multiplied by to give the outputs, as `keras.layers.RNN` gives them.

    Keras outputs, at a padded step, zeros with `zero_output_for_mask`, else the previous step's
    output, which is zeros before the first real step (padding first: left padding, or
    `go_backwards` over right padding) and the carried `h` after it. So: `m_t`, or whether a real
    step came yet; None without a mask. (Unlike the initial state, that previous output starts
    at zeros.)
    """
    if step_mask is None:
        return None
    if zero_output_for_mask:
        return step_mask
    return tf.cast(tf.cumsum(step_mask, axis=0) > 0, step_mask.dtype)


def _unwatched(*tensors):
    return [None if tensor is None else tf.stop_gradient(tensor) for tensor in tensors]


def lstm_sequence(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias, mask=None,
                  recurrent_mask=None, zero_output_for_mask=False, xla=True):
    """Runs the LSTM over a time-major sequence, differentiable with the hand-written gradient.

    Args:
        inputs: (time, batch, input_dim).
        initial_h, initial_c: (batch, units).
        kernel: (input_dim, 4 units); recurrent_kernel: (units, 4 units); bias: (4 units,).
        mask: `None` or (time, batch) booleans, True on real steps.
        recurrent_mask: `None` or (batch, units): variational dropout on `h_{t-1}` (the same mask
            at every step, as the zoo's cells apply it).
        zero_output_for_mask: padded steps output zeros instead of the carried state.
        xla: compile the two loops with XLA.

    Returns:
        `(outputs, h, c)`: outputs (time, batch, units), the final carried states (batch, units).
    """
    loops = _COMPILED if xla else _PLAIN
    step_mask = _step_mask(mask, inputs.dtype)

    @tf.custom_gradient
    def run(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias):
        input_dim, units = tf.shape(inputs)[2], tf.shape(recurrent_kernel)[0]
        sizes = chunk_sizes(inputs.shape[0])
        input_chunks, mask_chunks = _in_chunks(inputs, sizes), _in_chunks(step_mask, sizes)
        output_mask = _output_mask(step_mask, zero_output_for_mask)
        # Per chunk, what the gradient needs: (the state h it started from, local, dc_dh, forget, hs).
        saved = []
        h, c = initial_h, initial_c
        for chunk, chunk_mask in zip(input_chunks, mask_chunks):
            # `stop_gradient`: the loops are differentiated by `gradient` below, never by
            # TensorFlow (a watched XLA function would have to export its TensorLists).
            local, dc_dh, forget, hs, h_next, c = loops["forward"](*_unwatched(
                _project(chunk, kernel, bias), h, c, recurrent_kernel, chunk_mask, recurrent_mask))
            saved.append((h, local, dc_dh, forget, hs))
            h = h_next
        hs = _joined([chunk[4] for chunk in saved])
        outputs = hs if output_mask is None else hs * output_mask

        def gradient(d_outputs, d_h, d_c):
            d_inputs, d_both, d_bias = [], [], []
            for chunk, chunk_mask, chunk_output_mask, d_chunk_outputs, (h_start, local, dc_dh, forget, hs) in \
                    reversed(list(zip(input_chunks, mask_chunks, _in_chunks(output_mask, sizes),
                                      _in_chunks(d_outputs, sizes), saved))):
                dz, d_h, d_c = loops["backward"](*_unwatched(
                    d_chunk_outputs, d_h, d_c, local, dc_dh, forget, recurrent_kernel, chunk_mask,
                    recurrent_mask, chunk_output_mask))
                # The chunk's share of the large products; TensorFlow runs them while the
                # backward loop of the chunk before runs.
                dz = tf.reshape(dz, [-1, 4 * units])
                h_before = _before(h_start, hs)
                if recurrent_mask is not None:
                    h_before = h_before * recurrent_mask
                flat_inputs = tf.reshape(chunk, [-1, input_dim])
                # dW and dV in one product: [x_t, h_{t-1}]^T dz (one large product runs faster
                # than two).
                d_both.append(tf.matmul(tf.concat([flat_inputs, tf.reshape(h_before, [-1, units])], axis=1),
                                        dz, transpose_a=True))
                d_bias.append(tf.reduce_sum(dz, axis=0))
                d_inputs.append(tf.reshape(tf.matmul(dz, kernel, transpose_b=True), tf.shape(chunk)))
            d_kernel, d_recurrent = tf.split(tf.add_n(d_both), [input_dim, units], axis=0)
            return _joined(d_inputs[::-1]), d_h, d_c, d_kernel, d_recurrent, tf.add_n(d_bias)

        return (outputs, h, c), gradient

    # Plain tensors in: a custom gradient over variables would need their gradient by name.
    return run(*(tf.convert_to_tensor(value) for value in
                 (inputs, initial_h, initial_c, kernel, recurrent_kernel, bias)))


# The smallest batch the lookup path runs as two half-batch loops (see `_in_batch_halves`).
MIN_HALVES_BATCH = 32


def _in_batch_halves(run, token_ids, initial_h, initial_c, masks, halves=True):
    """`run(token_ids, h, c, masks)` -> (outputs, h, c), on each half of the batch at once.

    Looking the input projection up leaves the other thread nothing to do while a loop runs, so
    two loops, each over half the batch, share the two threads: the standard acceptor's
    inference took 44.4-48.6 ms against 46.2-53.1 ms in one piece (two runs, side by side). Only
    where nothing else runs beside the loop (`halves`): the two directions of a bidirectional
    layer already share the threads, and halving each was slower (94.6 ms against 76.8 ms). A
    batch whose size is unknown when traced (or under `MIN_HALVES_BATCH`) runs in one piece.
    """
    batch = token_ids.shape[1]
    if not halves or batch is None or batch < MIN_HALVES_BATCH:
        return run(token_ids, initial_h, initial_c, masks)
    half = batch // 2
    pieces = [run(token_ids[:, part], initial_h[part], initial_c[part],
                  [None if mask is None else mask[:, part] for mask in masks])
              for part in (slice(None, half), slice(half, None))]
    (outputs_a, h_a, c_a), (outputs_b, h_b, c_b) = pieces
    return (tf.concat([outputs_a, outputs_b], axis=1), tf.concat([h_a, h_b], axis=0),
            tf.concat([c_a, c_b], axis=0))


def _inference_chunks(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias, step_mask,
                      output_mask, return_sequences, xla, lookup=None):
    """The inference loops over the time chunks: `(outputs, h, c)` as `lstm_sequence_inference`.

    `lookup` (table, token ids (T, B)) or None: `x_t W + b` is row `id_t` of the table (see
    `TokenProjections`), looked up chunk by chunk, so that only the first chunk's lookup delays
    the loops; `inputs` is then unused.
    """
    loop = (_COMPILED if xla else _PLAIN)["inference"]
    steps = (inputs if lookup is None else lookup[1]).shape[0]
    sizes = chunk_sizes(steps)
    in_loop = lookup is None and xla and len(sizes) == 1
    if lookup is not None:
        table, token_ids = lookup
        chunks = [tf.gather(table, chunk) for chunk in _in_chunks(token_ids, sizes)]
    elif in_loop:
        chunks = [inputs]
    else:
        chunks = [_project(chunk, kernel, bias) for chunk in _in_chunks(inputs, sizes)]
    h, c = initial_h, initial_c
    outputs = []
    for chunk, chunk_mask, chunk_output_mask in zip(
            chunks, _in_chunks(step_mask, sizes),
            _in_chunks(output_mask if return_sequences else None, sizes)):
        chunk_outputs, h, c = loop(
            *_unwatched(chunk, h, c, kernel if in_loop else None, recurrent_kernel, bias, chunk_mask,
                        chunk_output_mask),
            return_sequences)
        outputs.append(chunk_outputs)
    if return_sequences:
        outputs = _joined(outputs)
    else:  # the last step's output: the carried state, masked as every output is
        outputs = (h if output_mask is None else h * output_mask[-1])[tf.newaxis]
    return outputs, h, c


def _rerun_gradient(sources, run_differentiably, return_sequences):
    """The gradient of an inference run: rerun it with `lstm_sequence` (which keeps what its
    hand-written gradient needs) under a tape, and take that gradient."""

    def gradient(d_outputs, d_h, d_c):
        with tf.GradientTape() as tape:
            tape.watch(sources)
            full, h, c = run_differentiably(*sources)
            if not return_sequences:
                full = full[-1:]  # sliced under the tape, so the slice is differentiated
        gradients = tape.gradient([full, h, c], sources, output_gradients=[d_outputs, d_h, d_c],
                                  unconnected_gradients=tf.UnconnectedGradients.ZERO)
        # Dense: an embedding matrix's gradient comes as IndexedSlices (from the gather).
        return [tf.convert_to_tensor(gradient) for gradient in gradients]

    return gradient


def lstm_sequence_inference(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias, mask=None,
                            zero_output_for_mask=False, return_sequences=True, xla=True):
    """The forward pass of `lstm_sequence` alone: nothing stored for a backward pass.

    Same arguments and results as `lstm_sequence`, except that without `return_sequences`
    `outputs` holds the last step's output only, (1, batch, units). Still differentiable (gradients
    taken in inference mode, e.g. by `zoo.analysis`): the gradient reruns the sequence with
    `lstm_sequence` and uses its gradient.

    The input projection `x W + b` is one large product per time chunk, outside the loop, except
    for an XLA loop over the sequence in one piece, which computes it step by step (see
    `_inference_loop`).
    """
    step_mask = _step_mask(mask, inputs.dtype)
    output_mask = _output_mask(step_mask, zero_output_for_mask)

    @tf.custom_gradient
    def run(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias):
        result = _inference_chunks(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias,
                                   step_mask, output_mask, return_sequences, xla)

        def differentiable(*sources):
            return lstm_sequence(*sources, mask=mask, zero_output_for_mask=zero_output_for_mask, xla=xla)

        sources = [inputs, initial_h, initial_c, kernel, recurrent_kernel, bias]
        return result, _rerun_gradient(sources, differentiable, return_sequences)

    return run(*(tf.convert_to_tensor(value) for value in
                 (inputs, initial_h, initial_c, kernel, recurrent_kernel, bias)))


# --- inference from token ids: the input projection looked up, not multiplied --------------------

# The largest table a `TokenProjections` keeps (vocabulary x 4 units float32; 32k ids at 256
# units); a larger one is not built and the layer multiplies as usual. The table is allocated
# when a model is built, so training-only runs carry it too: keep it bounded.
TABLE_LIMIT_BYTES = 128 * 2**20
# What comparing one number of the weights costs, in multiply-adds of the input projection
# (see `TokenProjections.least_tokens`).
COMPARED_NUMBER_MACS = 48


_SAME_WIDTH_INTEGER = {tf.float16: tf.int16, tf.bfloat16: tf.int16, tf.float32: tf.int32,
                       tf.float64: tf.int64}


@tf.function(jit_compile=True, autograph=False)
def _same_bits(values, copies):
    """Whether every tensor equals its copy bit for bit (so -0.0 != 0.0, and a NaN equals itself)."""
    same = [tf.reduce_all(tf.equal(tf.bitcast(value, _SAME_WIDTH_INTEGER[value.dtype]),
                                   tf.bitcast(copy, _SAME_WIDTH_INTEGER[value.dtype])))
            for value, copy in zip(values, copies)]
    return tf.reduce_all(tf.stack(same))


class TokenProjections:
    """`E W + b` for every row of an embedding matrix `E`: each token's input projection.

    When an LSTM's inputs are the rows of `E` picked by token ids, `x_t W + b` is row `id_t` of
    `E W + b`, so inference can look it up instead of multiplying: a third of the standard
    acceptor's inference FLOPs.

    The table is only used if it was made from the current weights. Every call compares `E`, `W`
    and `b` bit for bit with copies of them (about 1 ms at 10k x 128), so any change is seen,
    whatever made it (training, `load_weights`, `assign`). A stale table is never used.

    Making the table costs as much as projecting `vocabulary_size` tokens, so it is made only once
    the calls since the last weight change have covered that many tokens. Until then the calls
    multiply as usual. A model that serves or evaluates many batches pays for the table once; a
    single prediction after loading never does. Altogether, at most twice the least work. Calls
    too small to pay for the comparison (`least_tokens`) multiply and are not counted.

    Plain TensorFlow variables held outside Keras' tracking: not weights (not saved, not in
    `model.weights`), created here in eager mode, with their final shapes (so that a model
    compiled whole by XLA can run them): the table and the copies of `E`, `W` and `b`.
    """

    def __init__(self, name: str, vocabulary_size: int, input_dim: int, units: int, dtype=tf.float32):
        def variable(suffix, value):
            return tf.Variable(value, trainable=False, name=f"{name}_{suffix}")

        with tf.init_scope():  # eager, even when a layer is linked while a graph is traced
            self.table = variable("table", tf.zeros([vocabulary_size, 4 * units], dtype))
            # The weights the counting started from. Zeros at first: a model whose weights are
            # not all zeros is seen as changed at its first call, which starts the count; one
            # whose weights are zeros starts counting from these, which are its weights.
            self.sources = [variable(f"source_{index}", tf.zeros(shape, dtype)) for index, shape in
                            enumerate([(vocabulary_size, input_dim), (input_dim, 4 * units), (4 * units,)])]
            self.table_made = variable("table_made", False)
            # Tokens looked up since the weights last changed (int64: a long-serving model).
            self.tokens_seen = variable("tokens_seen", tf.constant(0, tf.int64))

    @staticmethod
    def table_bytes(vocabulary_size: int, units: int) -> int:
        return vocabulary_size * 4 * units * 4

    def _unchanged(self, sources):
        return _same_bits(sources, [copy.read_value() for copy in self.sources])

    def _note_change(self, sources):
        updates = [copy.assign(value) for copy, value in zip(self.sources, sources)]
        updates += [self.table_made.assign(False), self.tokens_seen.assign(0)]
        with tf.control_dependencies(updates):
            return tf.constant(True)

    def choose(self, embeddings, kernel, bias, tokens):
        """Counts `tokens` more lookups; returns (table made: use it, table due: make it now)."""
        sources = [embeddings, kernel, bias]
        noted = tf.cond(self._unchanged(sources), lambda: tf.constant(False),
                        lambda: self._note_change(sources))
        with tf.control_dependencies([noted]):
            seen = self.tokens_seen.assign_add(tf.cast(tokens, tf.int64))
            made = self.table_made.read_value()
        return made, tf.logical_and(tf.logical_not(made), seen >= embeddings.shape[0])

    def least_tokens(self) -> int:
        """The fewest tokens a call must have for the lookup to pay for comparing the weights.

        Looking up saves `input_dim x 4 units` multiply-adds per token; checking reads every
        number of `E`, `W` and `b`. Measured here (10k x 128 embedding, 256 units): comparing 1.4M
        numbers took 1.3 ms, as long as 60M multiply-adds of the projection on one thread, so
        one compared number costs about `COMPARED_NUMBER_MACS` multiply-adds. Smaller calls
        (a single sentence, say) multiply, and neither compare nor count.
        """
        input_dim, width = self.sources[1].shape
        compared = sum(source.shape.num_elements() for source in self.sources)
        return -(-COMPARED_NUMBER_MACS * compared // (input_dim * width))

    def made_now(self, embeddings, kernel, bias):
        """The table made from the current weights (stored for the next calls)."""
        table = tf.matmul(embeddings, kernel) + bias
        with tf.control_dependencies([self.table.assign(table), self.table_made.assign(True)]):
            return tf.identity(table)


def lstm_sequence_folded(token_ids, embeddings, kernel, recurrent_kernel, bias, initial_h, initial_c,
                         projections: TokenProjections, mask=None, zero_output_for_mask=False,
                         return_sequences=True, xla=True, batch_halves=False):
    """`lstm_sequence_inference` over `embeddings[token_ids]`, with the input projection looked up
    in `projections` (see `TokenProjections`).

    Args:
        token_ids: (time, batch) ints, time-major (flipped already for `go_backwards`).
        embeddings: (vocabulary, input_dim), the rows the ids pick.
        batch_halves: nothing else runs beside this call: run two half-batch loops at once
            (`_in_batch_halves`).
        The rest: as `lstm_sequence_inference`.

    The same results as `lstm_sequence_inference(embeddings[token_ids], ...)` to float rounding (the
    same products, summed in another order), and the same gradients: the gradient reruns the
    sequence from `embeddings[token_ids]` (`_rerun_gradient`).
    """
    step_mask = _step_mask(mask, embeddings.dtype)
    output_mask = _output_mask(step_mask, zero_output_for_mask)

    @tf.custom_gradient
    def run(embeddings, kernel, recurrent_kernel, bias, initial_h, initial_c):
        def loops_over(table):
            return _in_batch_halves(
                lambda ids, h, c, masks: _inference_chunks(
                    None, h, c, None, recurrent_kernel, None, *masks, return_sequences, xla,
                    lookup=(table, ids)),
                token_ids, initial_h, initial_c, (step_mask, output_mask), batch_halves)

        def multiplied():  # the projection of these tokens alone, as without a table
            return _inference_chunks(tf.gather(embeddings, token_ids), initial_h, initial_c, kernel,
                                     recurrent_kernel, bias, step_mask, output_mask,
                                     return_sequences, xla)

        def looked_up():
            made, due = projections.choose(embeddings, kernel, bias, tf.size(token_ids))
            return tf.cond(
                made, lambda: loops_over(projections.table.read_value()),
                lambda: tf.cond(due, lambda: loops_over(projections.made_now(embeddings, kernel, bias)),
                                multiplied))

        least = projections.least_tokens()
        tokens = token_ids.shape.num_elements()
        if tokens is not None:  # known when traced: decided here
            result = looked_up() if tokens >= least else multiplied()
        else:
            result = tf.cond(tf.size(token_ids) >= least, looked_up, multiplied)

        def differentiable(embeddings, kernel, recurrent_kernel, bias, initial_h, initial_c):
            inputs = tf.gather(embeddings, token_ids)
            return lstm_sequence(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias, mask=mask,
                                 zero_output_for_mask=zero_output_for_mask, xla=xla)

        sources = [embeddings, kernel, recurrent_kernel, bias, initial_h, initial_c]
        return tuple(result), _rerun_gradient(sources, differentiable, return_sequences)

    return run(*(tf.convert_to_tensor(value) for value in
                 (embeddings, kernel, recurrent_kernel, bias, initial_h, initial_c)))
