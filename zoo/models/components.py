"""Pieces every factory wires the same way: token input, embedding, encoder."""
from __future__ import annotations

import numpy as np

import keras

from zoo.embeddings import make_embedding_layer
from zoo.layers import PaddingMask, SequenceEncoder
from zoo.models.config import ModelConfig


def token_input(name: str = "token_ids") -> keras.KerasTensor:
    """Token ids (batch, time): int32, 0 is padding, padding on the right."""
    return keras.Input(shape=(None,), dtype="int32", name=name)


def make_embedding(config: ModelConfig, embedding_matrix=None) -> keras.layers.Embedding:
    """The token embedding in the config's mode (see `zoo.embeddings.make_embedding_layer`).

    `learned`: random initialisation, trained. `glove_frozen`: `embedding_matrix` as is, not
    trained. `glove_finetuned`: `embedding_matrix` as the initial value, trained. The matrix
    becomes the layer's weights (saved with them), not an initializer copied into the config.
    """
    expected = (config.vocabulary_size, config.embedding_dim)
    if config.embedding_mode != "learned" and embedding_matrix is None:
        raise ValueError(
            f"embedding_mode={config.embedding_mode!r} needs an embedding_matrix of shape {expected}; "
            f"see zoo.embeddings.build_embedding_matrix"
        )
    if embedding_matrix is not None and np.shape(embedding_matrix) != expected:
        raise ValueError(f"embedding_matrix has shape {np.shape(embedding_matrix)}, the config needs {expected}")
    source = config.vocabulary_size if config.embedding_mode == "learned" else embedding_matrix
    return make_embedding_layer(config.embedding_mode, source, config.embedding_dim, seed=config.seed)


def make_encoder(config: ModelConfig, name: str = "encoder") -> SequenceEncoder:
    return SequenceEncoder(**config.encoder.layer_kwargs(), seed=config.seed, name=name)


def embed_and_encode(token_ids, embedding, encoder, embedding_dropout):
    """ids -> (per-token encodings, pooled encoding), padding masked explicitly.

    The encoder is also given the ids, so that inference can look its first layer's input
    projection up per token (`link_input_embeddings`).
    """
    return encode(token_ids, embedding(token_ids), encoder, embedding_dropout, pass_ids=True)


def encode(token_ids, embedded, encoder, embedding_dropout, pass_ids=False):
    """Per-token vectors (batch, time, features) -> (per-token encodings, pooled encoding).

    The padding mask comes from `token_ids` (0 = padding), whatever `embedded` holds.
    `pass_ids`: `embedded` is `embedding(token_ids)`; the encoder is given the ids too.
    """
    mask = PaddingMask(name=f"{token_ids.name}_mask")(token_ids)
    if embedding_dropout is not None:
        embedded = embedding_dropout(embedded)
    if pass_ids:
        return encoder(embedded, mask=mask, token_ids=token_ids)
    return encoder(embedded, mask=mask)


def _embedding_behind(tensor, token_ids):
    """The `keras.layers.Embedding` whose output on `token_ids` `tensor` is, through dropout
    (the identity at inference), read from the functional graph; else None."""
    for _ in range(2):
        operation, node_index, _ = tensor._keras_history
        if operation is None:
            return None
        arguments = operation._inbound_nodes[node_index].arguments
        if isinstance(operation, keras.layers.Dropout):
            tensor = arguments.args[0]
        elif isinstance(operation, keras.layers.Embedding) and arguments.args[0] is token_ids:
            return operation
        else:
            return None
    return None


def link_input_embeddings(model: keras.Model) -> dict[str, str]:
    """Links every `SequenceEncoder` of `model` that is called with the token ids behind its inputs
    to their embedding (`SequenceEncoder.link_input_embedding`), read from the model's graph: the
    factories do it when they build a model, `zoo.load` when it loads one.

    Returns {encoder name: how its first layer computes the input projection}.
    """
    linked = {}
    for layer in model.layers:
        if not isinstance(layer, SequenceEncoder):
            continue
        embeddings = set()
        for node in layer._inbound_nodes:
            token_ids = node.arguments.kwargs.get("token_ids")
            if token_ids is not None:
                embeddings.add(_embedding_behind(node.arguments.args[0], token_ids))
        if len(embeddings) == 1 and None not in embeddings:  # one embedding behind every call
            linked[layer.name] = layer.link_input_embedding(
                embeddings.pop(), calls_per_graph=len(layer._inbound_nodes))
    return linked


def embedding_dropout(config: ModelConfig):
    return keras.layers.Dropout(config.dropout, seed=config.seed, name="embedding_dropout") if config.dropout else None


def output_dropout(config: ModelConfig):
    return keras.layers.Dropout(config.dropout, seed=config.seed, name="output_dropout") if config.dropout else None


def finish(model: keras.Model, config: ModelConfig) -> keras.Model:
    # The config travels with the model object; recipes also save it as JSON beside the weights.
    model.zoo_config = config
    link_input_embeddings(model)
    return model
