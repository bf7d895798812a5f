"""Model factories: a frozen config dataclass in, a `keras.Model` out."""
from zoo.models.acceptor import acceptor
from zoo.models.config import (
    CONFIG_CLASSES,
    EMBEDDING_MODES,
    AcceptorConfig,
    CharFeaturesConfig,
    EncoderConfig,
    LanguageModelConfig,
    ModelConfig,
    PairEncoderConfig,
    TransducerConfig,
    config_from_json,
)
from zoo.models.language_model import generate, language_model
from zoo.models.pair_encoder import PAIR_INPUTS, pair_encoder
from zoo.models.transducer import transducer

# factory name -> (factory, its config class, what it does)
FACTORIES = {
    "acceptor": (acceptor, AcceptorConfig, "sequence -> label (e.g. sentiment)"),
    "transducer": (transducer, TransducerConfig, "token -> label (e.g. part-of-speech tags)"),
    "pair_encoder": (pair_encoder, PairEncoderConfig, "(premise, hypothesis) -> entails/neutral/contradicts"),
    "language_model": (language_model, LanguageModelConfig, "ids -> next id at every position, + generate()"),
}


def build(config: ModelConfig, embedding_matrix=None):
    """The factory that matches the config's class."""
    for factory, config_class, _ in FACTORIES.values():
        if type(config) is config_class:
            return factory(config, embedding_matrix)
    raise TypeError(f"no factory takes a {type(config).__name__}")


__all__ = [
    "CONFIG_CLASSES", "EMBEDDING_MODES", "FACTORIES", "PAIR_INPUTS", "AcceptorConfig", "CharFeaturesConfig",
    "EncoderConfig",
    "LanguageModelConfig", "ModelConfig", "PairEncoderConfig", "TransducerConfig", "acceptor", "build",
    "config_from_json", "generate", "language_model", "pair_encoder", "transducer",
]
