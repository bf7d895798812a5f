"""Character-level language model (Karpathy et al. 2015): next character, + a generated sample."""
from __future__ import annotations

import dataclasses

from zoo.models.config import JSONConfig, LanguageModelConfig, _check_types, _fail
from zoo.tasks.base import Task, bits_per_character


@dataclasses.dataclass(frozen=True)
class CharLMSettings(JSONConfig):
    """The character language model's own settings (a recipe's `SETTINGS`).

    Args:
        sequence_length: characters per training window (backpropagation through time).
        eval_sequence_length: characters per dev/test window. Each window starts from a zero
            state, so its first characters are predicted with little context; longer windows
            measure the model nearer to reading the books straight through (char-rnn's stateful
            evaluation). The test bits per character on training-length windows are reported too.
        sample_prefix: the start of the sample generated after training.
        sample_length: characters sampled after the prefix.
        sample_temperature: sampling temperature (0: always the most likely character).
    """

    sequence_length: int = 100
    eval_sequence_length: int = 1000
    sample_prefix: str = "And God said, "
    sample_length: int = 300
    sample_temperature: float = 0.7

    def __post_init__(self):
        _check_types(self)
        if self.sequence_length <= 0:
            _fail("CharLMSettings", "sequence_length", self.sequence_length, "a positive integer")
        if self.eval_sequence_length <= 0:
            _fail("CharLMSettings", "eval_sequence_length", self.eval_sequence_length, "a positive integer")
        if self.sample_length < 0:
            _fail("CharLMSettings", "sample_length", self.sample_length, "0 or more")
        if self.sample_temperature < 0:
            _fail("CharLMSettings", "sample_temperature", self.sample_temperature, ">= 0")


class CharLMTask(Task):
    """Language modelling on characters: documents (e.g. books) as one character stream per split,
    the alphabet from the training split, fixed-length windows (no padding, so no bucketing), a
    language model; reports bits per character and a sample."""

    name = "char_lm"
    factory = "language_model"
    config_class = LanguageModelConfig
    settings_class = CharLMSettings
    data_kind = "language_model"
    objective = ("val_loss", "min")
    score = ("bits_per_character", False)
    search_space = {"units": (128, 256, 512), "batch_size": (32, 64, 128)}

    def build_vectorizer(self, data, model_config, training):
        from zoo.data.vectorize import ZooVectorizer, build_char_vectorizer

        vectorizer = ZooVectorizer(build_char_vectorizer(data.train, min_count=training.min_count))
        return vectorizer, dataclasses.replace(model_config, vocabulary_size=len(vectorizer.get_vocabulary()))

    def subsample(self, data, fraction, seed):
        if fraction >= 1.0:
            return data
        # Documents are whole books: keep the first part of each.
        return dataclasses.replace(data, train=[document[: max(1, int(len(document) * fraction))]
                                                for document in data.train])

    def make_dataset(self, examples, vectorizer, training, settings, shuffle, seed):
        from zoo.data.batching import language_model_dataset

        # Only the training split is shuffled; dev and test are read in long windows (a split
        # shorter than one is read as one window: its characters, newline-separated, less one).
        length = settings.sequence_length
        if not shuffle:
            characters = sum(map(len, examples)) + max(0, len(examples) - 1)
            length = max(1, min(settings.eval_sequence_length, characters - 1))
        return language_model_dataset(examples, vectorizer, sequence_length=length,
                                      batch_size=training.batch_size, shuffle=shuffle, seed=seed,
                                      drop_remainder=shuffle)

    def extra_metrics(self, data) -> dict:
        return {"data_sizes": {split: sum(map(len, getattr(data, split))) for split in ("train", "dev", "test")}}

    def derived_metrics(self, metrics):
        metrics = super().derived_metrics(metrics)
        metrics["bits_per_character"] = bits_per_character(metrics["loss"])
        return metrics

    def after_evaluation(self, prepared, model, metrics):
        from zoo import models

        from zoo.data.batching import language_model_dataset

        super().after_evaluation(prepared, model, metrics)
        settings = prepared.settings
        short = language_model_dataset(prepared.data.test, prepared.vectorizer,
                                       sequence_length=settings.sequence_length,
                                       batch_size=prepared.training.batch_size, shuffle=False, drop_remainder=False)
        loss = model.evaluate(short, return_dict=True, verbose=0)["loss"]
        metrics["test"][f"bits_per_character_windows_of_{settings.sequence_length}"] = bits_per_character(loss)
        sample = models.generate(model, settings.sample_prefix, settings.sample_length,
                                 settings.sample_temperature, seed=0, vocabulary=prepared.vectorizer.get_vocabulary())
        metrics["sample"] = settings.sample_prefix + sample
        print(f"test: {metrics['test']['bits_per_character']:.3f} bits per character (windows of "
              f"{settings.eval_sequence_length}; {bits_per_character(loss):.3f} in windows of {settings.sequence_length})")
        print(f"sample: {metrics['sample']}")
