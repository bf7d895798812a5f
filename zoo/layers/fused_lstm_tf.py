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
- Inference from inputs already projected (`lstm_sequence_projected`): `x_t W + b` was folded
  into a table of `E W + b` at freeze time (E: the embedding matrix), so a step's input is read,
  batch-major as the table's lookup gives it.
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
    under XLA, for a sequence run in one piece, that measured faster than reading a hoisted
    product, since it fuses with the step (see benchmarks/RESULTS.md, fused LSTM).
    """
    def input_part(t):
        return inputs[t] if kernel is None else tf.matmul(inputs[t], kernel) + bias

    return _forward_only(input_part, tf.shape(inputs)[0], initial_h, initial_c, recurrent_kernel,
                         step_mask, output_mask, return_sequences)


def _forward_only(input_part, steps, initial_h, initial_c, recurrent_kernel, step_mask, output_mask,
                  return_sequences):
    """The inference loop of `_inference_loop` and `_projected_loop`; `input_part(t)` gives step
    t's `x_t W + b`."""

    def step(t, h, c, h_out):
        m = None if step_mask is None else step_mask[t]
        z_i, z_f, z_g, z_o = tf.split(input_part(t) + tf.matmul(h, recurrent_kernel), 4, axis=1)
        c_new = _sigmoid(z_f) * c + _sigmoid(z_i) * tf.tanh(z_g)
        output = _sigmoid(z_o) * tf.tanh(c_new)
        c_new, h_new = _carry(m, c_new, c), _carry(m, output, h)
        if return_sequences:
            h_out = h_out.write(t, h_new if output_mask is None else h_new * output_mask[t])
        return t + 1, h_new, c_new, h_out

    _, h, c, h_out = tf.while_loop(
        lambda t, *_: t < steps, step,
        (0, initial_h, initial_c,
         tf.TensorArray(initial_h.dtype, size=steps if return_sequences else 0)),
        maximum_iterations=steps)
    return (h_out.stack() if return_sequences else None), h, c


def _projected_loop(projected, initial_h, initial_c, recurrent_kernel, step_mask, output_mask,
                    return_sequences, start, reverse):
    """`_inference_loop` over inputs projected beforehand, read in place: `projected` is
    (B, T, width), batch-major as a lookup gives it, and this direction's `x_t W + b` are its
    4U columns from `start`. With `reverse` step t reads time T-1-t. The masks are time-major,
    in the order the steps run. Reading each step's rows where they lie spares a transpose (and,
    for one direction of two, a slice) of the whole wide tensor.
    """
    steps = tf.shape(projected)[1]
    width = recurrent_kernel.shape[1]

    def input_part(t):
        # A gather, then the columns: one strided slice with the dynamic step and these columns
        # together reads the wrong numbers under XLA (TensorFlow 2.21; tested).
        return tf.gather(projected, steps - 1 - t if reverse else t, axis=1)[:, start:start + width]

    return _forward_only(input_part, steps, initial_h, initial_c, recurrent_kernel, step_mask,
                         output_mask, return_sequences)


# XLA-compiled versions; XLA compiles each for the shapes it meets (and caches them). XLA needs
# every loop's trip count bounded (`maximum_iterations`) to size its TensorArrays.
_PLAIN = {"forward": _forward_loop, "backward": _backward_loop, "inference": _inference_loop,
          "projected": _projected_loop}
_COMPILED = {name: tf.function(function, jit_compile=True, autograph=False)
             for name, function in _PLAIN.items()}


# Time chunks: a sequence of known length runs as consecutive pieces of about CHUNK_STEPS steps
# (at most MAX_CHUNKS), so that TensorFlow runs each piece's large products (the input projection
# before it, the weight gradients after it) on the other thread while the loop of the next piece
# runs (XLA runs the loop's small per-step products on one thread). Measured faster than one
# piece, in training and inference (see benchmarks/RESULTS.md, fused LSTM).
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


def _inference_chunks(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias, step_mask,
                      output_mask, return_sequences, xla):
    """The inference loops over the time chunks: `(outputs, h, c)` as `lstm_sequence_inference`."""
    loop = (_COMPILED if xla else _PLAIN)["inference"]
    sizes = chunk_sizes(inputs.shape[0])
    in_loop = xla and len(sizes) == 1
    if in_loop:
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
    return _last_or_all(outputs, h, output_mask, return_sequences), h, c


def _last_or_all(outputs, h, output_mask, return_sequences):
    """The chunks' outputs joined, or without `return_sequences` the last step's output: the
    carried state, masked as every output is."""
    if return_sequences:
        return _joined(outputs)
    return (h if output_mask is None else h * output_mask[-1])[tf.newaxis]


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


# The smallest known batch that `lstm_sequence_projected` runs as two half-batch loops.
MIN_HALVES_BATCH = 32


def _in_batch_halves(run, projected, initial_h, initial_c, step_mask, output_mask):
    """`run(projected, h, c, step_mask, output_mask)` -> (outputs, h, c) on each half of the batch,
    side by side: two loops, one per core, where one loop would leave a core idle (see
    `lstm_sequence_projected`). A batch of unknown size (a served graph) is split when it runs."""
    half = tf.shape(projected)[0] // 2
    pieces = [run(projected[part], initial_h[part], initial_c[part],
                  None if step_mask is None else step_mask[:, part],
                  None if output_mask is None else output_mask[:, part])
              for part in (slice(None, half), slice(half, None))]
    (outputs_a, h_a, c_a), (outputs_b, h_b, c_b) = pieces
    outputs = None if outputs_a is None else tf.concat([outputs_a, outputs_b], axis=1)
    return outputs, tf.concat([h_a, h_b], axis=0), tf.concat([c_a, c_b], axis=0)


def lstm_sequence_projected(projected, initial_h, initial_c, recurrent_kernel, mask=None,
                            columns=None, reverse=False, zero_output_for_mask=False,
                            return_sequences=True, xla=True, batch_halves=False):
    """`lstm_sequence_inference` over inputs whose projection `x W + b` is done already.

    Args:
        projected: (batch, time, width), batch-major: each step's `x_t W + b`; this layer's are
            the columns `columns` = (start, stop), 4 units wide (default: all of them).
        initial_h, initial_c: (batch, units); recurrent_kernel: (units, 4 units).
        mask: `None` or (batch, time) booleans, batch-major, True on real steps.
        reverse: run from the last step to the first (`go_backwards`).
        batch_halves: nothing else runs beside this loop (a unidirectional layer): run two
            half-batch loops at once, one per core (a batch of known size under
            `MIN_HALVES_BATCH` runs whole). Measured faster for a unidirectional layer, with
            and without XLA; the two directions of a bidirectional layer, which already run
            side by side, keep one loop each (halving them measured slower under XLA; see
            benchmarks/RESULTS.md, session 6).
        The rest: as `lstm_sequence_inference`.

    Returns:
        `(outputs, h, c)` as `lstm_sequence_inference`: outputs time-major, in the order the steps
        ran. The same results as `lstm_sequence_inference` from the unprojected inputs, to float
        rounding. Still differentiable: the gradient reruns it with `lstm_sequence` and an identity
        input kernel.
    """
    start, stop = (0, projected.shape[-1]) if columns is None else columns
    loop = (_COMPILED if xla else _PLAIN)["projected"]
    time_mask = None if mask is None else tf.transpose(mask, [1, 0])
    if time_mask is not None and reverse:
        time_mask = tf.reverse(time_mask, [0])
    step_mask = _step_mask(time_mask, projected.dtype)
    output_mask = _output_mask(step_mask, zero_output_for_mask)

    @tf.custom_gradient
    def run(projected, initial_h, initial_c, recurrent_kernel):
        def loops(projected, initial_h, initial_c, step_mask, output_mask):
            return loop(*_unwatched(projected, initial_h, initial_c, recurrent_kernel, step_mask,
                                    output_mask), return_sequences, start, reverse)

        batch = projected.shape[0]
        if batch_halves and (batch is None or batch >= MIN_HALVES_BATCH):
            outputs, h, c = _in_batch_halves(loops, projected, initial_h, initial_c, step_mask,
                                             output_mask if return_sequences else None)
        else:
            outputs, h, c = loops(projected, initial_h, initial_c, step_mask,
                                  output_mask if return_sequences else None)
        result = (_last_or_all([outputs], h, output_mask, return_sequences), h, c)

        def differentiable(projected, initial_h, initial_c, recurrent_kernel):
            inputs = tf.transpose(projected[:, :, start:stop], [1, 0, 2])
            if reverse:
                inputs = tf.reverse(inputs, [0])
            identity = tf.eye(stop - start, dtype=projected.dtype)
            return lstm_sequence(inputs, initial_h, initial_c, identity, recurrent_kernel,
                                 tf.zeros([stop - start], projected.dtype), mask=time_mask,
                                 zero_output_for_mask=zero_output_for_mask, xla=xla)

        sources = [projected, initial_h, initial_c, recurrent_kernel]
        return result, _rerun_gradient(sources, differentiable, return_sequences)

    return run(*(tf.convert_to_tensor(value) for value in
                 (projected, initial_h, initial_c, recurrent_kernel)))
