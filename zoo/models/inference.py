"""`inference_model`: a trained model frozen for inference, its input projection folded.

When an LSTM's inputs are the rows of an embedding `E` picked by token ids, its input projection
is a row of one table: `x_t W + b = (E W + b)[id_t]`. Once training is over, `E`, `W` and `b` are
fixed, so the table is computed once, here (and by `zoo.export`, which exports this model), and
the first LSTM layer then reads each token's projection instead of multiplying: a third of an
acceptor's inference FLOPs. The training model holds no table and no cache.
"""
from __future__ import annotations

import keras

from zoo.models.base import ZooModel


def inference_model(model: ZooModel) -> ZooModel:
    """A copy of `model` for inference with its first LSTM layer's input projection folded, or
    `model` itself where nothing folds (see `model.foldable`: the first layer must run the
    fused LSTM kernel, TensorFlow, and read the embedding alone).

    The copy computes the same function at inference (to float rounding: the same products,
    summed in another order), is not compiled, and is a `ZooModel` of the same kind built with
    `fold_input_projection=True`, so it saves and reloads like any zoo model. It is for inference:
    train the original.

    Examples:
        >>> frozen = zoo.inference_model(zoo.load("runs/sentiment"))
        >>> probabilities = frozen.predict(ids)
    """
    if not isinstance(model, ZooModel):
        raise TypeError(f"inference_model() takes a zoo model (zoo.models.*), got {type(model).__name__}")
    foldable, _ = model.foldable
    if not foldable:
        return model
    folded = type(model)(model.config, fold_input_projection=True, name=model.name)
    # The folded encoder of the new graph takes the trained weights directly, and the table.
    table = model.encoder.fold_into(folded.encoder, keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings))
    for layer in folded.layers:
        if layer.name == "input_projection":
            layer.set_weights([table])
        elif layer.name != "encoder" and layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return folded


__all__ = ["inference_model"]
