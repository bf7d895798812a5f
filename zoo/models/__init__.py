"""The zoo's models: a frozen config dataclass in, a registered `keras.Model` subclass out.

Each kind is a class (`Acceptor`, `Transducer`, `PairEncoder`, `LanguageModel`, `EncoderDecoder`) whose
`get_config` carries its config, and a factory function that builds it and loads a pretrained
embedding matrix; `inference_model` freezes a trained model for inference.
"""
from zoo.models.acceptor import Acceptor, acceptor
from zoo.models.base import ZooModel
from zoo.models.config import (
    CONFIG_CLASSES,
    EMBEDDING_MODES,
    AcceptorConfig,
    CharFeaturesConfig,
    EncoderConfig,
    EncoderDecoderConfig,
    LanguageModelConfig,
    ModelConfig,
    PairEncoderConfig,
    TransducerConfig,
    config_from_dict,
    config_from_json,
)
from zoo.conventions import PAIR_INPUTS
from zoo.models.encoder_decoder import EncoderDecoder, beam_search, decode, encoder_decoder, greedy_search
from zoo.models.inference import inference_model
from zoo.models.language_model import LanguageModel, generate, language_model
from zoo.models.pair_encoder import PairEncoder, pair_encoder
from zoo.models.transducer import Transducer, transducer

# factory name -> (factory, its config class, what it does)
FACTORIES = {
    "acceptor": (acceptor, AcceptorConfig, "sequence -> label (e.g. sentiment)"),
    "transducer": (transducer, TransducerConfig, "token -> label (e.g. part-of-speech tags)"),
    "pair_encoder": (pair_encoder, PairEncoderConfig, "(premise, hypothesis) -> entails/neutral/contradicts"),
    "language_model": (language_model, LanguageModelConfig, "ids -> next id at every position, + generate()"),
    "encoder_decoder": (encoder_decoder, EncoderDecoderConfig,
                        "source -> target with attention, + decode() (greedy, beam search)"),
}
MODEL_CLASSES = {cls.kind: cls for cls in (Acceptor, Transducer, PairEncoder, LanguageModel, EncoderDecoder)}


def build(config: ModelConfig, embedding_matrix=None):
    """The factory that matches the config's class."""
    for factory, config_class, _ in FACTORIES.values():
        if type(config) is config_class:
            return factory(config, embedding_matrix)
    raise TypeError(f"no factory takes a {type(config).__name__}")


__all__ = [
    "CONFIG_CLASSES", "EMBEDDING_MODES", "FACTORIES", "MODEL_CLASSES", "PAIR_INPUTS", "Acceptor",
    "AcceptorConfig", "CharFeaturesConfig", "EncoderConfig", "EncoderDecoder", "EncoderDecoderConfig",
    "LanguageModel", "LanguageModelConfig",
    "ModelConfig", "PairEncoder", "PairEncoderConfig", "Transducer", "TransducerConfig", "ZooModel",
    "acceptor", "beam_search", "build", "config_from_dict", "decode", "encoder_decoder", "greedy_search", "config_from_json", "generate", "inference_model",
    "language_model", "pair_encoder", "transducer",
]
