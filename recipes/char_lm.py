"""Character-level language model (Karpathy et al. 2015) on the King James Bible, with sampling.

Data: the KJV as characters, verse numbers removed; the last books held out (dev, then test).
Reports bits per character on the held-out books and a generated sample.
Run: `zoo train char_lm` or `python -m recipes.char_lm [--set key=value ...]`.
"""
from __future__ import annotations

import dataclasses
import math
import sys

from zoo.models import EncoderConfig, LanguageModelConfig
from zoo.training import TrainingConfig

DATASET = "kjv"
SEQUENCE_LENGTH = 100                  # characters per training window (backpropagation through time)
SAMPLE_PREFIX = "And God said, "       # the generated sample's start
SAMPLE_LENGTH = 300                    # characters sampled after it
SAMPLE_TEMPERATURE = 0.7               # below 1: fewer misspellings, a little less variety

MODEL = LanguageModelConfig(
    embedding_dim=32,                  # ~75 characters need few dimensions
    embedding_mode="learned",          # no pretrained character vectors
    encoder=EncoderConfig(
        cell="lstm",                   # Karpathy et al. (2015): LSTM and GRU beat the simple RNN
        units=512,                     # capacity matters most for bits per character
        layers=1,
        bidirectional=False,           # a language model only sees the past
    ),
    dropout=0.1,
)

TRAINING = TrainingConfig(
    batch_size=64,
    epochs=10,                         # upper bound; early stopping ends sooner
    learning_rate=2e-3,
    clipnorm=1.0,                      # character LMs are prone to exploding gradients
    patience=1,
    bucketing=False,                   # windows have one fixed length already
)


def run(model_config: LanguageModelConfig, training: TrainingConfig, dataset: str, run_dir):
    import zoo.data
    from recipes.artifacts import save_config, save_vectorizer
    from zoo import models
    from zoo.data.vectorize import ZooVectorizer, build_char_vectorizer
    from zoo.training import fit_evaluate_save

    # The data: one character stream per split; the alphabet comes from the training books.
    data = zoo.data.load(dataset)
    vectorizer = ZooVectorizer(build_char_vectorizer(data.train, min_count=training.min_count))
    vocabulary = vectorizer.get_vocabulary()
    model_config = dataclasses.replace(model_config, vocabulary_size=len(vocabulary))
    extra = {"data_sizes": {split: sum(map(len, getattr(data, split))) for split in ("train", "dev", "test")}}

    model = training.compile(models.language_model(model_config))
    save_config(run_dir, model_config)
    save_vectorizer(run_dir, vectorizer)

    def bits_and_sample(trained, metrics):
        # Bits per character: the cross-entropy in nats divided by ln 2.
        metrics["test"]["bits_per_character"] = metrics["test"]["loss"] / math.log(2)
        sample = models.generate(trained, SAMPLE_PREFIX, SAMPLE_LENGTH, SAMPLE_TEMPERATURE, seed=0,
                                 vocabulary=vocabulary)
        metrics["sample"] = SAMPLE_PREFIX + sample
        print(f"test: {metrics['test']['bits_per_character']:.3f} bits per character")
        print(f"sample: {metrics['sample']}")

    batches = make_batches(data, vectorizer, training, model_config.seed)
    return fit_evaluate_save(model, batches["train"], batches["dev"], batches["test"], run_dir, training,
                             extra, after_evaluation=bits_and_sample)


def make_batches(data, vectorizer, training: TrainingConfig, seed: int = 0) -> dict:
    """Fixed-length windows of each split's character stream; training windows shuffled."""
    from zoo.data.batching import language_model_dataset

    return {
        split: language_model_dataset(getattr(data, split), vectorizer, sequence_length=SEQUENCE_LENGTH,
                                      batch_size=training.batch_size, shuffle=split == "train", seed=seed)
        for split in ("train", "dev", "test")
    }


if __name__ == "__main__":
    from recipes._runner import main

    main(sys.modules[__name__])
