"""Frozen config dataclasses: the whole description of a model, as plain data (JSON in and out).

The tuner, the command line and a saved run all speak these. Invalid values raise `ValueError`
naming the field and the value, when the config is made.
"""
from __future__ import annotations

import dataclasses
import json
import math
import typing
from typing import Any

from zoo.embeddings import EMBEDDING_MODES
from zoo.layers.encoder import check_settings
from zoo.validation import check_rate as _check_rate
from zoo.validation import fail as _fail



def _check_types(config) -> None:
    """Checks each field against its annotation (int, float, bool, str, nested config)."""
    owner = type(config).__name__
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value, expected = getattr(config, field.name), hints[field.name]
        if expected is bool and not isinstance(value, bool):
            _fail(owner, field.name, value, "a bool")
        elif expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            _fail(owner, field.name, value, "an int")
        elif expected is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
            _fail(owner, field.name, value, "a number")
        elif expected is float and not math.isfinite(value):
            _fail(owner, field.name, value, "a finite number (not NaN or infinite)")
        elif expected is str and not isinstance(value, str):
            _fail(owner, field.name, value, "a string")


def _json_object(text, what: str):
    """`json.loads(text)`, with an error that says which config the text was meant to be."""
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"this {what} is not valid JSON ({error})") from None


class JSONConfig:
    """JSON round trip and strict construction from dicts (unknown keys are refused)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps({"kind": type(self).__name__, **self.to_dict()}, indent=indent)

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        if not isinstance(values, dict):
            raise ValueError(f"a {cls.__name__} is a JSON object of its fields, got {type(values).__name__} {values!r:.60}")
        values = dict(values)
        kind = values.pop("kind", cls.__name__)
        if kind != cls.__name__:
            raise ValueError(f"expected a {cls.__name__} config, got kind={kind!r}")
        known = {field.name: field for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s) {unknown}; known: {sorted(known)}")
        hints = typing.get_type_hints(cls)
        for name, value in values.items():
            nested = hints[name]
            if dataclasses.is_dataclass(nested) and isinstance(value, dict):
                values[name] = nested.from_dict(value)
            elif hints[name] is float and isinstance(value, int) and not isinstance(value, bool):
                values[name] = float(value)
        return cls(**values)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(_json_object(text, cls.__name__))


@dataclasses.dataclass(frozen=True)
class EncoderConfig(JSONConfig):
    """Settings of `zoo.layers.SequenceEncoder` (see its docstring for each field)."""

    cell: str = "lstm"
    implementation: str = "auto"
    units: int = 64
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    pooling: str = "final"
    use_cudnn: str = "auto"
    initializer: str = "glorot_uniform"

    def __post_init__(self):
        owner = "EncoderConfig"
        _check_types(self)
        check_settings(owner, self.cell, self.implementation, self.units, self.layers, self.dropout,
                       self.recurrent_dropout, self.pooling, self.initializer)
        if self.use_cudnn not in ("auto", "true", "false"):
            _fail(owner, "use_cudnn", self.use_cudnn, "'auto', 'true' or 'false'")

    @property
    def output_dim(self) -> int:
        return self.units * (2 if self.bidirectional else 1)

    def layer_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of `SequenceEncoder`."""
        kwargs = self.to_dict()
        kwargs["use_cudnn"] = {"auto": "auto", "true": True, "false": False}[self.use_cudnn]
        return kwargs


@dataclasses.dataclass(frozen=True)
class ModelConfig(JSONConfig):
    """Fields every factory shares.

    Args:
        vocabulary_size: number of token ids, padding (0) and OOV (1) included.
        embedding_dim: width of the token embeddings (50 for the packaged GloVe).
        embedding_mode: "learned", "glove_frozen" or "glove_finetuned".
        encoder: `EncoderConfig`.
        dropout: dropout on the embeddings and before the output layer.
        num_classes: number of output classes.
        seed: seed for the weight initialisers and dropout, for reproducible runs (None: random).
        pretrained_rows: the last this many vocabulary ids are pretrained words the training split
            lacks (the open vocabulary, `TrainingConfig.pretrained_words`): their rows keep their
            pretrained values, frozen even when the embedding is fine-tuned. Set by the data.
    """

    # The ids a vocabulary of this kind holds before its first word (an encoder-decoder's adds
    # the start and end tokens, `zoo.conventions`).
    reserved_tokens: typing.ClassVar[tuple[str, ...]] = ("padding", "OOV")

    vocabulary_size: int = 1000
    embedding_dim: int = 64
    embedding_mode: str = "learned"
    encoder: EncoderConfig = EncoderConfig()
    dropout: float = 0.0
    num_classes: int = 2
    seed: int = 0
    pretrained_rows: int = 0

    def __post_init__(self):
        owner = type(self).__name__
        _check_types(self)
        if not isinstance(self.encoder, EncoderConfig):
            _fail(owner, "encoder", self.encoder, "an EncoderConfig")
        reserved = len(self.reserved_tokens)
        named = ", ".join(self.reserved_tokens)
        if self.vocabulary_size < reserved + 1:
            _fail(owner, "vocabulary_size", self.vocabulary_size, f"at least {reserved + 1} ({named} and one token)")
        if self.embedding_dim <= 0:
            _fail(owner, "embedding_dim", self.embedding_dim, "a positive integer")
        if self.embedding_mode not in EMBEDDING_MODES:
            _fail(owner, "embedding_mode", self.embedding_mode, f"one of {EMBEDDING_MODES}")
        _check_rate(owner, "dropout", self.dropout)
        if self.num_classes < 2:
            _fail(owner, "num_classes", self.num_classes, "at least 2")
        if not 0 <= self.pretrained_rows <= self.vocabulary_size - reserved - 1:
            _fail(owner, "pretrained_rows", self.pretrained_rows,
                  f"0 or more, leaving {named} and one training token (vocabulary_size - {reserved + 1})")


@dataclasses.dataclass(frozen=True)
class AcceptorConfig(ModelConfig):
    """Sequence -> label (e.g. sentiment). `hidden_units` > 0 adds a tanh layer before the softmax."""

    hidden_units: int = 0

    def __post_init__(self):
        super().__post_init__()
        if self.hidden_units < 0:
            _fail("AcceptorConfig", "hidden_units", self.hidden_units, "0 or a positive integer")


@dataclasses.dataclass(frozen=True)
class CharFeaturesConfig(JSONConfig):
    """Character-level word features (a char-CNN, Ma & Hovy 2016); off while `embedding_dim` is 0.

    Each token's characters (case kept) are embedded, a `Conv1D` slides over them and the maximum
    over the real characters is concatenated with the word embedding before the encoder. They
    give out-of-vocabulary words, capitalisation and suffixes a representation.

    Args:
        vocabulary_size: number of character ids, padding (0) and OOV (1) included: the size of
            the run's character vocabulary, which a recipe sets from the training tokens (0 until
            then; a factory refuses 0).
        embedding_dim: width of the character embeddings; 0 turns the feature off.
        filters: number of convolution filters = width of the feature added to each token.
        kernel_size: characters each filter sees at once.
        max_word_chars: a word's first this many characters are read (the vectorizer truncates,
            and so does the model).

    References:
        Ma & Hovy (2016), End-to-end Sequence Labeling via Bi-directional LSTM-CNNs-CRF.
    """

    vocabulary_size: int = 0
    embedding_dim: int = 0
    filters: int = 30
    kernel_size: int = 3
    max_word_chars: int = 20

    def __post_init__(self):
        owner = "CharFeaturesConfig"
        _check_types(self)
        if self.embedding_dim < 0:
            _fail(owner, "embedding_dim", self.embedding_dim, "0 (off) or a positive integer")
        if not self.enabled:
            return
        if self.vocabulary_size != 0 and self.vocabulary_size < 3:
            _fail(owner, "vocabulary_size", self.vocabulary_size,
                  "0 (not known yet) or at least 3 (padding, OOV and one character)")
        if self.filters <= 0:
            _fail(owner, "filters", self.filters, "a positive integer")
        if self.kernel_size <= 0:
            _fail(owner, "kernel_size", self.kernel_size, "a positive integer")
        if self.max_word_chars <= 0:
            _fail(owner, "max_word_chars", self.max_word_chars, "a positive integer")

    @property
    def enabled(self) -> bool:
        return self.embedding_dim > 0


@dataclasses.dataclass(frozen=True)
class TransducerConfig(ModelConfig):
    """Token -> label (e.g. part-of-speech tags); pooling is unused.

    `char_features` (off by default) adds character-level word features: the model then takes
    `{"token_ids": (batch, time), "char_ids": (batch, time, chars)}` (see `zoo.models.transducer`).
    """

    num_classes: int = 12
    char_features: CharFeaturesConfig = CharFeaturesConfig()

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.char_features, CharFeaturesConfig):
            _fail("TransducerConfig", "char_features", self.char_features, "a CharFeaturesConfig")


INTERACTIONS = ("none", "esim")


@dataclasses.dataclass(frozen=True)
class PairEncoderConfig(ModelConfig):
    """(premise, hypothesis) -> entails / neutral / contradicts.

    Args:
        hidden_units: width of each MLP layer over the pair's features.
        hidden_layers: number of MLP layers (0: softmax directly on the features).
        interaction: how the two sentences meet (see `zoo.models.pair_encoder`). "none": each is
            pooled to one vector alone and the MLP (ReLU) reads `[u, v, |u-v|, u*v]` (siamese).
            "esim": soft alignment of the two encoded sentences, enhancement
            `[a, ã, a - ã, a * ã]`, a projection, a second (composition) encoder, masked mean and
            max pooling of both sides, and a tanh MLP (Chen et al. 2017); `encoder.pooling` is then
            unused.
        projection_units: "esim" only: width of the ReLU projection of the enhanced features that
            feeds the composition encoder; 0 (the default) means `encoder.units`.
    """

    num_classes: int = 3
    hidden_units: int = 128
    hidden_layers: int = 1
    interaction: str = "none"
    projection_units: int = 0

    def __post_init__(self):
        super().__post_init__()
        if self.hidden_units <= 0:
            _fail("PairEncoderConfig", "hidden_units", self.hidden_units, "a positive integer")
        if self.hidden_layers < 0:
            _fail("PairEncoderConfig", "hidden_layers", self.hidden_layers, "0 or more")
        if self.interaction not in INTERACTIONS:
            _fail("PairEncoderConfig", "interaction", self.interaction, f"one of {INTERACTIONS}")
        if self.projection_units < 0:
            _fail("PairEncoderConfig", "projection_units", self.projection_units,
                  "a positive integer, or 0 for the encoder's units")

    @property
    def projection_width(self) -> int:
        """The ESIM projection's width: `projection_units`, or `encoder.units` when it is 0."""
        return self.projection_units or self.encoder.units


@dataclasses.dataclass(frozen=True)
class LanguageModelConfig(ModelConfig):
    """Ids -> next-id distribution at every position. `num_classes` is ignored (it is the vocabulary)."""

    def __post_init__(self):
        super().__post_init__()
        if self.encoder.bidirectional:
            _fail("LanguageModelConfig", "encoder.bidirectional", True,
                  "False (a bidirectional encoder would see the token it must predict)")


DECODER_CELLS = ("lstm", "gru")
ATTENTION_SCORES = ("none", "dot", "general", "additive")


@dataclasses.dataclass(frozen=True)
class EncoderDecoderConfig(ModelConfig):
    """Source ids -> target ids: an encoder, an attentive recurrent decoder (`zoo.models.encoder_decoder`).

    Source and target share the vocabulary and the embedding (`vocabulary_size`, `embedding_dim`,
    `embedding_mode`); `num_classes` is ignored (the decoder predicts the vocabulary).

    Args:
        decoder_cell: "lstm" or "gru", the decoder's cell (its path follows `encoder.implementation`
            and `encoder.use_cudnn`).
        decoder_units: the decoder's width; 0 (the default) means `encoder.output_dim`.
        attention: how each decoder state scores the encoder's per-token outputs: "dot" (Luong et
            al. 2015, `s . h`; needs `decoder_units == encoder.output_dim`), "general" (Luong,
            `s W h`), "additive" (Bahdanau et al. 2015, `v . tanh(W s + U h)`), or "none" (the
            decoder reads the encoder's final state only, Sutskever et al. 2014).
        attention_units: "additive" only: the width of `v`; 0 means the decoder's width.
    """

    reserved_tokens: typing.ClassVar[tuple[str, ...]] = ("padding", "OOV", "start", "end")

    decoder_cell: str = "lstm"
    decoder_units: int = 0
    attention: str = "general"
    attention_units: int = 0

    def __post_init__(self):
        super().__post_init__()
        owner = "EncoderDecoderConfig"
        if self.decoder_cell not in DECODER_CELLS:
            _fail(owner, "decoder_cell", self.decoder_cell, f"one of {DECODER_CELLS}")
        if self.decoder_units < 0:
            _fail(owner, "decoder_units", self.decoder_units, "a positive integer, or 0 for the encoder's output width")
        if self.attention not in ATTENTION_SCORES:
            _fail(owner, "attention", self.attention, f"one of {ATTENTION_SCORES}")
        if self.attention_units < 0:
            _fail(owner, "attention_units", self.attention_units, "a positive integer, or 0 for the decoder's width")
        if self.attention == "dot" and self.decoder_width != self.encoder.output_dim:
            _fail(owner, "decoder_units", self.decoder_units,
                  f"{self.encoder.output_dim} (the encoder's output width) or 0 with attention='dot', "
                  f"which scores s . h; use attention='general' for other widths")

    @property
    def decoder_width(self) -> int:
        return self.decoder_units or self.encoder.output_dim


CONFIG_CLASSES = {
    cls.__name__: cls
    for cls in (EncoderConfig, CharFeaturesConfig, AcceptorConfig, TransducerConfig,
                PairEncoderConfig, LanguageModelConfig, EncoderDecoderConfig)
}


def config_from_json(text: str) -> ModelConfig:
    """Any model config from its JSON, dispatched on its `kind`."""
    return config_from_dict(_json_object(text, "model config"))


def config_from_dict(values: dict) -> ModelConfig:
    """Any model config from its dict (`{"kind": "AcceptorConfig", ...}`), dispatched on `kind`."""
    if not isinstance(values, dict):
        raise ValueError(f"a model config is a JSON object with a 'kind', got {type(values).__name__} {values!r:.60}")
    kind = values.get("kind")
    if kind not in CONFIG_CLASSES:
        raise ValueError(f"unknown config kind {kind!r}; known: {sorted(CONFIG_CLASSES)}")
    return CONFIG_CLASSES[kind].from_dict(values)


def _parse_value(text: str, expected, where: str):
    """Parses one `--set` value as the field's type, or says why it cannot."""
    if expected is bool:
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"{where} expects true or false, got {text!r}")
    try:
        if expected is int:
            return int(text)
        if expected is float:
            return float(text)
    except ValueError:
        raise ValueError(f"{where} expects {expected.__name__}, got {text!r}") from None
    return text


def with_overrides(config, assignments: list[str]):
    """A copy of a (nested) config with `field=value` or `nested.field=value` assignments applied.

    Unknown fields and values of the wrong type raise `ValueError` with a message naming them;
    the result is validated like any config.
    """
    for assignment in assignments:
        if "=" not in assignment:
            raise ValueError(f"--set expects key=value, got {assignment!r}")
        key, text = assignment.split("=", 1)
        config = _override(config, key.strip().split("."), text, key.strip())
    return config


def _override(config, path: list[str], text: str, full_key: str):
    names = {field.name for field in dataclasses.fields(config)}
    head = path[0]
    if head not in names:
        raise ValueError(f"unknown setting {full_key!r}: {type(config).__name__} has {sorted(names)}")
    hints = typing.get_type_hints(type(config))
    current = getattr(config, head)
    if len(path) > 1:
        if not dataclasses.is_dataclass(current):
            raise ValueError(f"unknown setting {full_key!r}: {head!r} has no fields")
        value = _override(current, path[1:], text, full_key)
    elif dataclasses.is_dataclass(current):
        raise ValueError(f"{full_key!r} is a group of settings; set one of its fields, e.g. {full_key}.<field>")
    else:
        value = _parse_value(text, hints[head], full_key)
    return dataclasses.replace(config, **{head: value})
