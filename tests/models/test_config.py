import json

import pytest

from zoo import models
from zoo.models import config_from_json


@pytest.mark.parametrize(
    "config",
    [
        models.AcceptorConfig(vocabulary_size=50, hidden_units=8),
        models.TransducerConfig(encoder=models.EncoderConfig(cell="gru", bidirectional=True, layers=2)),
        models.TransducerConfig(char_features=models.CharFeaturesConfig(
            vocabulary_size=80, embedding_dim=25, filters=30, kernel_size=3, max_word_chars=12)),
        models.PairEncoderConfig(embedding_mode="glove_frozen", embedding_dim=50),
        models.LanguageModelConfig(encoder=models.EncoderConfig(cell="gated_elman", recurrent_dropout=0.1,
                                                                implementation="custom")),
    ],
)
def test_json_round_trip(config):
    text = config.to_json()
    assert json.loads(text)["kind"] == type(config).__name__
    assert type(config).from_json(text) == config
    assert config_from_json(text) == config


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: models.EncoderConfig(cell="transformer"), "cell"),
        (lambda: models.EncoderConfig(units=0), "units"),
        (lambda: models.EncoderConfig(units=-3), "units"),
        (lambda: models.EncoderConfig(layers=0), "layers"),
        (lambda: models.EncoderConfig(dropout=-0.1), "dropout"),
        (lambda: models.EncoderConfig(dropout=1.0), "dropout"),
        (lambda: models.EncoderConfig(pooling="sum"), "pooling"),
        (lambda: models.EncoderConfig(implementation="fast"), "implementation"),
        (lambda: models.EncoderConfig(cell="gated_elman", implementation="builtin"), "implementation"),
        (lambda: models.EncoderConfig(recurrent_dropout=0.2), "recurrent_dropout"),
        (lambda: models.EncoderConfig(units=2.5), "units"),
        (lambda: models.EncoderConfig(bidirectional="yes"), "bidirectional"),
        (lambda: models.AcceptorConfig(num_classes=1), "num_classes"),
        (lambda: models.AcceptorConfig(dropout=-0.5), "dropout"),
        (lambda: models.AcceptorConfig(vocabulary_size=0), "vocabulary_size"),
        (lambda: models.AcceptorConfig(embedding_mode="word2vec"), "embedding_mode"),
        (lambda: models.PairEncoderConfig(hidden_units=0), "hidden_units"),
        (lambda: models.LanguageModelConfig(encoder=models.EncoderConfig(bidirectional=True)), "bidirectional"),
        (lambda: models.CharFeaturesConfig(embedding_dim=-1), "embedding_dim"),
        (lambda: models.CharFeaturesConfig(embedding_dim=2.5), "embedding_dim"),
        (lambda: models.CharFeaturesConfig(embedding_dim=4, vocabulary_size=2), "vocabulary_size"),
        (lambda: models.CharFeaturesConfig(embedding_dim=4, filters=0), "filters"),
        (lambda: models.CharFeaturesConfig(embedding_dim=4, kernel_size=0), "kernel_size"),
        (lambda: models.CharFeaturesConfig(embedding_dim=4, max_word_chars=0), "max_word_chars"),
        (lambda: models.TransducerConfig(char_features={"embedding_dim": 4}), "char_features"),
    ],
)
def test_bad_values_name_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


def test_unknown_keys_are_refused():
    with pytest.raises(ValueError, match="unknown AcceptorConfig field.*'units'"):
        models.AcceptorConfig.from_dict({"units": 3})
    with pytest.raises(ValueError, match="unknown config kind"):
        config_from_json('{"kind": "Nope"}')


def test_configs_are_frozen():
    config = models.AcceptorConfig()
    with pytest.raises(Exception):
        config.num_classes = 5


def test_factory_refuses_wrong_config():
    with pytest.raises(TypeError, match="AcceptorConfig"):
        models.acceptor(models.TransducerConfig())


def test_overrides_parse_types_and_refuse_unknown_keys():
    from zoo.models.config import with_overrides

    config = with_overrides(models.AcceptorConfig(), ["encoder.units=300", "encoder.bidirectional=true",
                                                      "dropout=0.25", "num_classes=3"])
    assert (config.encoder.units, config.encoder.bidirectional, config.dropout, config.num_classes) == (300, True, 0.25, 3)
    with pytest.raises(ValueError, match="unknown setting 'encoder.width'"):
        with_overrides(config, ["encoder.width=3"])
    with pytest.raises(ValueError, match="encoder.units expects int, got 'many'"):
        with_overrides(config, ["encoder.units=many"])
    with pytest.raises(ValueError, match="EncoderConfig.units must be a positive integer, got 0"):
        with_overrides(config, ["encoder.units=0"])
    with pytest.raises(ValueError, match="key=value"):
        with_overrides(config, ["encoder.units"])


def test_char_features_are_off_by_default_and_older_configs_load():
    config = models.TransducerConfig()
    assert not config.char_features.enabled
    # A config.json written before the field existed loads with the feature off.
    values = json.loads(config.to_json())
    del values["char_features"]
    assert config_from_json(json.dumps(values)) == config
    # Off means off: the other fields are not checked while embedding_dim is 0.
    assert not models.CharFeaturesConfig(filters=0).enabled


def test_char_features_are_set_from_the_command_line():
    from zoo.models.config import with_overrides

    config = with_overrides(models.TransducerConfig(), ["char_features.embedding_dim=25",
                                                        "char_features.vocabulary_size=90"])
    assert config.char_features.enabled and config.char_features.embedding_dim == 25
    with pytest.raises(ValueError, match="group of settings"):
        with_overrides(config, ["char_features=3"])
    with pytest.raises(ValueError, match="CharFeaturesConfig.filters must be a positive integer"):
        with_overrides(config, ["char_features.filters=0"])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused_in_every_config(value):
    from zoo.tasks import CharLMSettings, DecodingSettings
    from zoo.training import TrainingConfig

    cases = [(TrainingConfig, "learning_rate"), (TrainingConfig, "clipnorm"), (models.EncoderConfig, "dropout"),
             (models.AcceptorConfig, "dropout"), (DecodingSettings, "length_penalty"),
             (CharLMSettings, "sample_temperature")]
    for make, field in cases:
        with pytest.raises(ValueError, match=rf"{make.__name__}\.{field} must be a finite number"):
            make(**{field: value})


@pytest.mark.parametrize("text", ["[1, 2]", "3", '"x"', "null", "{not json"])
def test_json_that_is_not_a_config_object_is_refused_clearly(text):
    with pytest.raises(ValueError, match=r"JSON object|not valid JSON"):
        config_from_json(text)
    with pytest.raises(ValueError, match=r"AcceptorConfig is a JSON object|not valid JSON"):
        models.AcceptorConfig.from_json(text)
