"""Encoder-decoder with attention: source ids -> target ids ("translate", "paraphrase/compress"),
and its decoding by greedy and beam search.

The decoding loops are written in `keras.ops` (`ops.while_loop` up to a maximum length), so the
same code runs eagerly on any backend and inside a TensorFlow graph (`decode` compiles it there).
"""
from __future__ import annotations

import numpy as np

import keras
from keras import ops

from zoo.conventions import END_ID, PADDING_ID, SEQUENCE_TO_SEQUENCE_INPUTS, START_ID
from zoo.layers import DecoderAttention, make_recurrent_layer
from zoo.layers.recurrent import implementation_refusal
from zoo.models import components
from zoo.models.base import ZooModel
from zoo.models.config import EncoderDecoderConfig

SOURCE, TARGET = SEQUENCE_TO_SEQUENCE_INPUTS
# Never predicted: padding ends a finished hypothesis only, and the start token begins each one.
NEVER_PREDICTED = (PADDING_ID, START_ID)
_IMPOSSIBLE = -1e9  # a log-probability no real hypothesis reaches (finite: no inf - inf = NaN)


@keras.saving.register_keras_serializable(package="zoo")
class EncoderDecoder(ZooModel):
    """`{"source": ids, "target": ids}` -> next-token probabilities (batch, len_target, vocabulary).

    The encoder ("encoder", the zoo's `SequenceEncoder`: any cell, path, depth, bidirectional)
    reads the embedded source. Its pooled output (`encoder.pooling`; "final" is each direction's
    last state) sets the decoder's initial state through a tanh layer ("bridge_h", and "bridge_c"
    for the LSTM's cell state). The decoder ("decoder", an LSTM or GRU on the same path rules as
    the encoder) reads the target shifted right: the start token (id 2), then the target without
    its end token (id 3) (teacher forcing). Source and target share the vocabulary and the
    embedding ("embedding").

    At each target position t the decoder state `s_t` attends over the encoder's outputs
    ("attention", `zoo.layers.DecoderAttention`; padded source tokens get zero weight), and
    Luong et al.'s attentional state `tanh(W_c [c_t; s_t])` ("attentional") feeds the softmax
    over the vocabulary ("probabilities"). The attention reads the current state and does not feed
    back into the recurrence (Luong et al. 2015 without input feeding), so the decoder is one
    recurrent layer that trains on the fast paths (fused LSTM, cuDNN), and decoding one token at a
    time computes exactly what the teacher-forced model computes. `attention="none"`: the softmax
    reads `s_t` (Sutskever et al. 2014).

    Dropout (`config.dropout`) falls on the embeddings and before the softmax. Decode with
    `zoo.models.decode` (greedy or beam search); `attention_weights(inputs)` gives the attention.

    References:
        Bahdanau, Cho & Bengio (2015), Neural Machine Translation by Jointly Learning to Align and
        Translate. Luong, Pham & Manning (2015), Effective Approaches to Attention-based Neural
        Machine Translation.
    """

    kind = "encoder_decoder"
    config_class = EncoderDecoderConfig

    @classmethod
    def graph(cls, config: EncoderDecoderConfig, fold_input_projection: bool):
        if fold_input_projection:
            raise ValueError("an encoder-decoder cannot fold its input projection: its embedding also "
                             "feeds the decoder")
        inputs = {name: components.token_input(name) for name in SEQUENCE_TO_SEQUENCE_INPUTS}
        token_features = components.TokenFeatures(config)  # one embedding for both sides
        source_features, source_mask = token_features(inputs[SOURCE])
        target_features, target_mask = token_features(inputs[TARGET])
        encoded, pooled = components.make_encoder(config)(source_features, mask=source_mask)
        initial_state = [keras.layers.Dense(config.decoder_width, activation="tanh", name=name)(pooled)
                         for name in bridge_names(config)]
        decoder = make_recurrent_layer(
            config.decoder_cell, decoder_implementation(config), config.decoder_width,
            use_cudnn=config.encoder.layer_kwargs()["use_cudnn"], seed=config.seed, name="decoder",
            initializer=config.encoder.initializer)
        states = decoder(target_features, mask=target_mask, initial_state=initial_state)
        attention, attentional = cls.attention_layers(config)
        readout = states
        if attention is not None:
            context, _ = attention(states, encoded, key_mask=source_mask)
            readout = attentional(keras.layers.Concatenate(name="context_and_state")([context, states]))
        out_dropout = components.output_dropout(config)
        if out_dropout is not None:
            readout = out_dropout(readout)
        probabilities = keras.layers.Dense(config.vocabulary_size, activation="softmax",
                                           name="probabilities")(readout)
        return inputs, probabilities

    @staticmethod
    def attention_layers(config: EncoderDecoderConfig):
        """(attention, attentional) layers, or (None, None) for `attention="none"`."""
        if config.attention == "none":
            return None, None
        attention = DecoderAttention(config.attention, config.attention_units or config.decoder_width,
                                     seed=config.seed, name="attention")
        return attention, keras.layers.Dense(config.decoder_width, activation="tanh", name="attentional")

    @property
    def foldable(self) -> tuple[bool, str]:
        return False, "the embedding also feeds the decoder (nothing to fold into a table)"

    def attention_weights(self, inputs):
        """(batch, len_target, len_source) attention weights of each target position over the
        source, zero at padded source tokens; `inputs` as for calling the model (the target
        shifted right). Inference mode (no dropout)."""
        if self.config.attention == "none":
            raise ValueError("attention_weights needs an attention: this model has attention='none'")
        attention = self.get_layer("attention")
        queries, keys, key_mask = keras.Model(self.inputs, attention.input)(inputs, training=False)
        return attention(queries, keys, key_mask=key_mask)[1]


def bridge_names(config: EncoderDecoderConfig) -> tuple[str, ...]:
    """The tanh layers from the encoder's pooled output to each of the decoder's initial states."""
    return ("bridge_h", "bridge_c") if config.decoder_cell == "lstm" else ("bridge_h",)


def decoder_implementation(config: EncoderDecoderConfig) -> str:
    """The decoder's path: the encoder's `implementation` where it is valid for the decoder cell
    (e.g. "fused" is an LSTM's), else "auto"."""
    implementation = config.encoder.implementation
    return "auto" if implementation_refusal(config.decoder_cell, implementation) else implementation


def encoder_decoder(config: EncoderDecoderConfig, embedding_matrix=None) -> EncoderDecoder:
    """An `EncoderDecoder` for `config`, its embedding set to `embedding_matrix` (the GloVe modes)."""
    if not isinstance(config, EncoderDecoderConfig):
        raise TypeError(f"encoder_decoder() takes an EncoderDecoderConfig, got {type(config).__name__}")
    return components.set_embedding_matrix(EncoderDecoder(config), config, embedding_matrix)


# -- decoding ------------------------------------------------------------------------------------
class _Steps:
    """The trained model's layers, run one target token at a time (inference: no dropout)."""

    def __init__(self, model: EncoderDecoder):
        config = model.config
        self.embedding = model.get_layer("embedding")
        self.encoder = model.encoder
        self.bridges = [model.get_layer(name) for name in bridge_names(config)]
        self.cell = model.get_layer("decoder").cell
        self.attention = model.get_layer("attention") if config.attention != "none" else None
        self.attentional = model.get_layer("attentional") if config.attention != "none" else None
        self.head = model.get_layer("probabilities")
        # Made once, not at every step: the ids no step may predict, and a finished hypothesis's
        # only extension (padding, at no cost).
        ids = np.arange(config.vocabulary_size)
        self.forbidden = ops.convert_to_tensor(np.isin(ids, NEVER_PREDICTED))
        self.padding_only = ops.convert_to_tensor(np.where(ids == PADDING_ID, 0.0, _IMPOSSIBLE).astype("float32"))

    def encode(self, source_ids):
        """(encoded (b, s, d), source mask (b, s), the decoder's initial states)."""
        mask = ops.not_equal(source_ids, PADDING_ID)
        encoded, pooled = self.encoder(self.embedding(source_ids), mask=mask, training=False)
        return encoded, mask, [bridge(pooled) for bridge in self.bridges]

    def step(self, token_ids, states, encoded, mask):
        """Reads one token per row; `(log-probabilities (n, vocabulary), states, attention (n, s))`."""
        state, states = self.cell(self.embedding(token_ids), states, training=False)
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        weights = None
        if self.attention is not None:
            context, weights = self.attention(ops.expand_dims(state, 1), encoded, key_mask=mask)
            state = self.attentional(ops.concatenate([context[:, 0], state], axis=-1))
            weights = weights[:, 0]
        logits = ops.matmul(state, self.head.kernel) + self.head.bias
        log_probabilities = ops.where(self.forbidden[None, :], _IMPOSSIBLE, ops.log_softmax(logits, axis=-1))
        return log_probabilities, states, weights


def _place(tokens, step, new_tokens, max_length: int):
    """`tokens` (..., max_length) with `new_tokens` (...) written at position `step`."""
    at_step = ops.cast(ops.equal(ops.arange(max_length), step), "int32")
    return tokens + ops.expand_dims(ops.cast(new_tokens, "int32"), -1) * at_step


def greedy_search(model: EncoderDecoder, source_ids, max_length: int):
    """The most probable token at each step. `(tokens (b, max_length) int32, scores (b,))`: each
    row the generated ids up to and including the end token, then padding; its score the sum of
    the log-probabilities of its tokens. Runs in `keras.ops` (eager or in a graph)."""
    steps = _Steps(model)
    source_ids = ops.convert_to_tensor(source_ids, dtype="int32")
    encoded, mask, states = steps.encode(source_ids)
    batch = ops.shape(source_ids)[0]

    def cond(step, previous, states, tokens, finished, scores):
        return ops.logical_and(step < max_length, ops.logical_not(ops.all(finished)))

    def body(step, previous, states, tokens, finished, scores):
        log_probabilities, states, _ = steps.step(previous, states, encoded, mask)
        chosen = ops.cast(ops.argmax(log_probabilities, axis=-1), "int32")
        best = ops.max(log_probabilities, axis=-1)
        chosen = ops.where(finished, PADDING_ID, chosen)
        scores = scores + ops.where(finished, 0.0, best)
        tokens = _place(tokens, step, chosen, max_length)
        return step + 1, chosen, states, tokens, ops.logical_or(finished, ops.equal(chosen, END_ID)), scores

    loop = (ops.convert_to_tensor(0, "int32"), ops.full((batch,), START_ID, dtype="int32"), states,
            ops.zeros((batch, max_length), "int32"), ops.zeros((batch,), "bool"), ops.zeros((batch,), "float32"))
    _, _, _, tokens, _, scores = ops.while_loop(cond, body, loop, maximum_iterations=max_length)
    return tokens, scores


def length_normalizer(lengths, length_penalty: float):
    """GNMT's length penalty `((5 + length) / 6) ** alpha` (Wu et al. 2016); alpha 0: none."""
    return ops.power((5.0 + ops.cast(lengths, "float32")) / 6.0, length_penalty)


def beam_search(model: EncoderDecoder, source_ids, max_length: int, beam_width: int = 4,
                length_penalty: float = 0.6):
    """Beam search: the `beam_width` best partial hypotheses by summed log-probability at every
    step; a hypothesis that ends (end token) keeps its score and waits; at the end the best by
    score divided by `length_normalizer(length, length_penalty)` wins. Returns `(tokens (b,
    max_length) int32, scores (b,))` as `greedy_search` does (scores unnormalised). Runs in
    `keras.ops` (eager or in a graph)."""
    _check_beam_width(beam_width)
    steps = _Steps(model)
    source_ids = ops.convert_to_tensor(source_ids, dtype="int32")
    batch, width = ops.shape(source_ids)[0], beam_width
    encoded, mask, states = steps.encode(source_ids)
    encoded, mask = ops.repeat(encoded, width, axis=0), ops.repeat(mask, width, axis=0)
    states = [ops.repeat(state, width, axis=0) for state in states]

    def cond(step, previous, states, tokens, finished, lengths, scores):
        return ops.logical_and(step < max_length, ops.logical_not(ops.all(finished)))

    def body(step, previous, states, tokens, finished, lengths, scores):
        log_probabilities, states, _ = steps.step(previous, states, encoded, mask)
        vocabulary = ops.shape(log_probabilities)[-1]
        # A finished hypothesis extends only by padding, at no cost: it keeps its score.
        log_probabilities = ops.where(ops.reshape(finished, (-1, 1)), steps.padding_only[None, :], log_probabilities)
        candidates = ops.reshape(scores, (batch, width, 1)) + ops.reshape(log_probabilities, (batch, width, vocabulary))
        scores, flat = ops.top_k(ops.reshape(candidates, (batch, width * vocabulary)), width)
        flat = ops.cast(flat, "int32")
        parent, chosen = flat // vocabulary, flat % vocabulary

        def reorder(values):  # (batch, width, ...) rows taken from their parent hypotheses
            index = ops.reshape(parent, (batch, width) + (1,) * (len(values.shape) - 2))
            return ops.take_along_axis(values, ops.broadcast_to(index, ops.shape(values)), axis=1)

        was_finished = reorder(finished)
        tokens = _place(reorder(tokens), step, chosen, max_length)
        lengths = reorder(lengths) + ops.cast(ops.logical_not(was_finished), "int32")
        # Static widths (not -1), so that the loop's state keeps its shape inside a graph.
        states = [ops.reshape(reorder(ops.reshape(state, (batch, width, state.shape[-1]))),
                              (batch * width, state.shape[-1])) for state in states]
        finished = ops.logical_or(was_finished, ops.equal(chosen, END_ID))
        return step + 1, ops.reshape(chosen, (-1,)), states, tokens, finished, lengths, scores

    # Every row starts with one live hypothesis (the others impossible), so the first step's
    # `beam_width` best are distinct tokens, not copies of one.
    first = ops.where(ops.equal(ops.arange(width), 0), 0.0, _IMPOSSIBLE)
    loop = (ops.convert_to_tensor(0, "int32"), ops.full((batch * width,), START_ID, dtype="int32"), states,
            ops.zeros((batch, width, max_length), "int32"), ops.zeros((batch, width), "bool"),
            ops.zeros((batch, width), "int32"), ops.broadcast_to(first[None, :], (batch, width)))
    _, _, _, tokens, _, lengths, scores = ops.while_loop(cond, body, loop, maximum_iterations=max_length)
    best = ops.argmax(scores / length_normalizer(lengths, length_penalty), axis=-1)
    best = ops.reshape(ops.cast(best, "int32"), (batch, 1))
    best_tokens = ops.take_along_axis(tokens, ops.broadcast_to(ops.reshape(best, (batch, 1, 1)),
                                                               (batch, 1, max_length)), axis=1)[:, 0]
    return best_tokens, ops.take_along_axis(scores, best, axis=1)[:, 0]


def _check_beam_width(beam_width) -> None:
    if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
        raise ValueError(f"beam_width must be a positive integer (1: greedy search), got {beam_width!r}")


def default_max_length(source_length):
    """Target tokens decoded at most, end token included, for sources of this (padded) length
    (an integer, or a scalar tensor inside a graph)."""
    return 2 * source_length + 10


def strip(tokens) -> list[list[int]]:
    """(b, max_length) decoded ids -> each row's ids before its end token (padding dropped)."""
    rows = []
    for row in np.asarray(keras.ops.convert_to_numpy(tokens)).tolist():
        ids = []
        for token in row:
            if token == END_ID:
                break
            if token != PADDING_ID:
                ids.append(int(token))
        rows.append(ids)
    return rows


def decode(
    model: EncoderDecoder,
    sources,
    vectorizer=None,
    beam_width: int = 1,
    max_length: int | None = None,
    length_penalty: float = 0.6,
    batch_size: int = 64,
    return_scores: bool = False,
):
    """Decodes sources with an encoder-decoder: greedy (`beam_width=1`) or beam search.

    Args:
        model: an `EncoderDecoder` (trained, or loaded with `zoo.load`).
        sources: strings (with `vectorizer`), or id sequences (lists or a right-padded array).
        vectorizer: the run's vectorizer (`zoo.loading.load_vectorizer`): strings in, strings out
            (tokens joined by spaces).
        beam_width: 1: greedy search; more: beam search with that many hypotheses.
        max_length: target tokens at most, end token included; None: `default_max_length` of each
            batch's longest source.
        length_penalty: beam search only: alpha of `length_normalizer` (0: raw log-probability).
        batch_size: sources decoded at once (each batch padded to its longest source only).
        return_scores: also return each output's log-probability under the model.

    Returns:
        One output per source (id lists, or strings with `vectorizer`); with `return_scores`,
        `(outputs, scores)`.
    """
    if not isinstance(model, EncoderDecoder):
        raise TypeError(f"decode() needs a zoo EncoderDecoder, got {type(model).__name__}")
    _check_beam_width(beam_width)
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1):
        raise ValueError(f"max_length must be a positive integer or None, got {max_length!r}")
    if length_penalty < 0:
        raise ValueError(f"length_penalty must be >= 0, got {length_penalty!r}")
    rows = _source_rows(sources, vectorizer, model.config.vocabulary_size)
    search = _search_function(model, beam_width, length_penalty)
    # Sources of similar lengths decode together: less padding, and a batch stops when its
    # longest output ends.
    order = sorted(range(len(rows)), key=lambda index: len(rows[index]))
    outputs, scores = [None] * len(rows), [0.0] * len(rows)
    for start in range(0, len(rows), batch_size):
        chunk = order[start : start + batch_size]
        width = max(len(rows[index]) for index in chunk)
        ids = np.zeros((len(chunk), width), dtype="int32")
        for position, index in enumerate(chunk):
            ids[position, : len(rows[index])] = rows[index]
        tokens, chunk_scores = search(ids, max_length or default_max_length(width))
        for index, output, score in zip(chunk, strip(tokens), keras.ops.convert_to_numpy(chunk_scores)):
            outputs[index], scores[index] = output, float(score)
    if vectorizer is not None:
        vocabulary = vectorizer.get_vocabulary()
        outputs = [" ".join(vocabulary[token] for token in row) for row in outputs]
    return (outputs, scores) if return_scores else outputs


def _search_function(model, beam_width: int, length_penalty: float):
    """`(ids, max_length) -> (tokens, scores)`: greedy or beam search; on TensorFlow compiled
    into one graph for all batch shapes (eager, each step's few dozen small ops would dominate)."""
    if beam_width == 1:
        def search(ids, max_length):
            return greedy_search(model, ids, max_length)
    else:
        def search(ids, max_length):
            return beam_search(model, ids, max_length, beam_width, length_penalty)
    if keras.backend.backend() != "tensorflow":
        return search
    import tensorflow as tf

    # The loops are ops.while_loop already: nothing for AutoGraph to convert.
    compiled = tf.function(tf.autograph.experimental.do_not_convert(search),
                           input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32)])
    return lambda ids, max_length: compiled(tf.constant(ids, tf.int32), tf.constant(max_length, tf.int32))


def _source_rows(sources, vectorizer, vocabulary_size: int) -> list[list[int]]:
    """Sources as id lists, each at least one id long (an empty text reads as OOV, `[1]`)."""
    if isinstance(sources, (str, bytes)):
        raise TypeError("sources must be a list of sources, not one string")
    sources = list(sources) if not isinstance(sources, np.ndarray) else sources
    if len(sources) == 0:
        raise ValueError("sources is empty: nothing to decode")
    if isinstance(sources[0], (str, bytes)):
        if vectorizer is None:
            raise ValueError("string sources need the run's vectorizer (zoo.loading.load_vectorizer) "
                             "to map them to ids")
        from zoo.data.vectorize import vectorize

        return vectorize(vectorizer, list(sources)).to_list()
    rows = []
    for row in sources:
        ids = [int(token) for token in np.asarray(row).ravel() if int(token) != PADDING_ID]
        if any(token < 0 or token >= vocabulary_size for token in ids):
            raise ValueError(f"source ids must be in [0, {vocabulary_size}), got {ids}")
        rows.append(ids or [1])
    return rows


__all__ = ["EncoderDecoder", "beam_search", "decode", "encoder_decoder", "greedy_search", "length_normalizer"]
