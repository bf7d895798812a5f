"""Sentence-pair encoder: premise and hypothesis -> entails / neutral / contradicts."""
from __future__ import annotations

import keras

from zoo.conventions import PAIR_INPUTS
from zoo.layers import AlignmentEnhancement, MaskedPooling, PairFeatures, SequenceEncoder, SoftAlignment
from zoo.models import components
from zoo.models.base import ZooModel
from zoo.models.config import PairEncoderConfig


@keras.saving.register_keras_serializable(package="zoo")
class PairEncoder(ZooModel):
    """`{"premise": ids, "hypothesis": ids}` -> class probabilities (batch, num_classes).

    One shared embedding and encoder ("encoder") read both sentences; `config.interaction` says
    how they meet:

    - "none" (siamese): each sentence is pooled to one vector (u for the premise, v for the
      hypothesis); an MLP (ReLU) over `[u, v, |u - v|, u * v]` and a softmax classify the pair
      (Bowman et al. 2015; Mou et al. 2016).
    - "esim" (Chen et al. 2017): the encoder's per-token outputs `a` (premise) and `b`
      (hypothesis) are softly aligned ("alignment", `zoo.layers.SoftAlignment`: padded tokens
      give and receive no attention); each side's `[a, ã, a - ã, a * ã]` ("enhancement") is
      projected to `config.projection_width` with a ReLU ("projection") and read by a second,
      shared encoder of the same cell settings ("composition_encoder"); masked mean and max
      pooling of both sides, `[mean_a, max_a, mean_b, max_b]`, feed an MLP (tanh) and a softmax.
      `inference_model` folds the first encoder only; `attention_weights(inputs)` gives the
      alignment's weights.

    Dropout (`config.dropout`) falls on the embeddings and before each MLP layer and the softmax.
    """

    kind = "pair_encoder"
    config_class = PairEncoderConfig

    @classmethod
    def graph(cls, config: PairEncoderConfig, fold_input_projection: bool):
        inputs = {name: components.token_input(name) for name in PAIR_INPUTS}
        token_features = components.TokenFeatures(config, fold_input_projection)
        encoder = components.make_encoder(config, fold_input_projection)
        encoded = []
        for name in PAIR_INPUTS:
            features, mask = token_features(inputs[name])
            encoded.append((encoder(features, mask=mask), mask))
        if config.interaction == "esim":
            features, activation = cls.esim_features(config, encoded), "tanh"
        else:
            (_, u), _ = encoded[0]
            (_, v), _ = encoded[1]
            features, activation = PairFeatures(name="pair_features")(u, v), "relu"
        dropout = components.output_dropout(config)
        for index in range(config.hidden_layers):
            if dropout is not None:
                features = dropout(features)
            features = keras.layers.Dense(config.hidden_units, activation=activation, name=f"hidden_{index}")(features)
        if dropout is not None:
            features = dropout(features)
        probabilities = keras.layers.Dense(config.num_classes, activation="softmax", name="probabilities")(features)
        return inputs, probabilities

    def attention_weights(self, inputs):
        """ESIM only: the soft alignment's weights for `{"premise": ids, "hypothesis": ids}`, as
        `(premise_to_hypothesis, hypothesis_to_premise)`: (batch, len_p, len_h) and (batch, len_h,
        len_p), each real row a distribution over the other sentence's real tokens, zero at
        padding (see `zoo.layers.SoftAlignment.attention_weights`). Inference mode (no dropout)."""
        if self.config.interaction != "esim":
            raise ValueError(f"attention_weights needs interaction='esim', this model has "
                             f"interaction={self.config.interaction!r} (no alignment)")
        alignment = self.get_layer("alignment")
        a, b, a_mask, b_mask = keras.Model(self.inputs, alignment.input)(inputs, training=False)
        return alignment.attention_weights(a, b, a_mask, b_mask)

    @staticmethod
    def esim_features(config: PairEncoderConfig, encoded):
        """ESIM's alignment, enhancement, projection, composition and pooling: the MLP's input
        `[mean_a, max_a, mean_b, max_b]`, from the first encoder's `((sequence, pooled), mask)`
        of each sentence."""
        ((a, _), a_mask), ((b, _), b_mask) = encoded
        a_aligned, b_aligned = SoftAlignment(name="alignment")(a, b, a_mask=a_mask, b_mask=b_mask)
        enhancement = AlignmentEnhancement(name="enhancement")
        projection = keras.layers.Dense(config.projection_width, activation="relu", name="projection")
        composition = SequenceEncoder(**{**config.encoder.layer_kwargs(), "pooling": "mean"}, seed=config.seed,
                                      name="composition_encoder")
        bidirectional = config.encoder.bidirectional
        mean = MaskedPooling("mean", bidirectional=bidirectional, name="mean_pooling")
        maximum = MaskedPooling("max", bidirectional=bidirectional, name="max_pooling")
        pooled = []
        for sequence, aligned, mask in ((a, a_aligned, a_mask), (b, b_aligned, b_mask)):
            composed, _ = composition(projection(enhancement(sequence, aligned)), mask=mask)
            pooled += [mean(composed, mask=mask), maximum(composed, mask=mask)]
        return keras.layers.Concatenate(name="pooled_features")(pooled)


def pair_encoder(config: PairEncoderConfig, embedding_matrix=None) -> PairEncoder:
    """A `PairEncoder` for `config`, its embedding set to `embedding_matrix` (the GloVe modes)."""
    if not isinstance(config, PairEncoderConfig):
        raise TypeError(f"pair_encoder() takes a PairEncoderConfig, got {type(config).__name__}")
    return components.set_embedding_matrix(PairEncoder(config), config, embedding_matrix)
