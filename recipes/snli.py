"""Natural language inference: a sentence-pair encoder (premise, hypothesis -> 3 classes) on SNLI.

Data: SNLI 1.0 (Bowman et al. 2015): the 100,000-pair training subset that this machine can
fetch (dev carved from it), the official 10,000-pair test file; pairs without a gold label dropped.
Run: `zoo train snli` or `python -m recipes.snli [--set key=value ...]`.
"""
from __future__ import annotations

import dataclasses
import sys

from zoo.models import EncoderConfig, PairEncoderConfig
from zoo.training import TrainingConfig

DATASET = "snli"

MODEL = PairEncoderConfig(
    embedding_dim=50,                  # GloVe 6B 50d
    embedding_mode="glove_finetuned",  # pretrained vectors carry most of the lexical knowledge
    encoder=EncoderConfig(
        cell="lstm",
        units=256,                     # per direction
        bidirectional=True,            # the BiLSTM encoder row of the lecture's table
        pooling="max",                 # max pooling beats the final state for NLI (Conneau et al. 2017)
    ),
    dropout=0.1,
    num_classes=3,                     # entailment, neutral, contradiction
    hidden_units=256,                  # one MLP layer over [u, v, |u-v|, u*v]
    hidden_layers=1,
)

TRAINING = TrainingConfig(
    batch_size=64,                     # ~1,500 updates per epoch on 95k pairs
    epochs=10,                         # upper bound; early stopping ends sooner
    learning_rate=1e-3,                # Adam's default
    clipnorm=5.0,
    patience=2,
    min_count=1,
)


def run(model_config: PairEncoderConfig, training: TrainingConfig, dataset: str, run_dir):
    import zoo.data
    from recipes.artifacts import pretrained_embeddings, save_config, save_vectorizer
    from zoo import models
    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer, count_word_tokens

    from zoo.training import fit_evaluate_save

    # The data: one vocabulary for premises and hypotheses, from the training split only.
    data = zoo.data.load(dataset)
    train_texts = [text for premise, hypothesis, _ in data.train for text in (premise, hypothesis)]
    vectorizer = ZooVectorizer(build_word_vectorizer(
        train_texts, max_tokens=training.max_vocabulary or None, min_count=training.min_count))
    vocabulary = vectorizer.get_vocabulary()
    model_config = dataclasses.replace(
        model_config, vocabulary_size=len(vocabulary), num_classes=len(data.label_names))
    extra = {"data_sizes": data.sizes(), "label_names": list(data.label_names)}
    matrix = pretrained_embeddings(model_config, vocabulary, count_word_tokens(train_texts), run_dir, extra)

    # The model: one shared encoder for both sentences.
    model = training.compile(models.pair_encoder(model_config, embedding_matrix=matrix))
    save_config(run_dir, model_config)
    save_vectorizer(run_dir, vectorizer)

    batches = make_batches(data, vectorizer, training, model_config.seed)
    return fit_evaluate_save(model, batches["train"], batches["dev"], batches["test"], run_dir, training, extra)


def make_batches(data, vectorizer, training: TrainingConfig, seed: int = 0) -> dict:
    """Train (shuffled), dev and test batches, bucketed by length unless `bucketing` is off."""
    from recipes.artifacts import batches_for
    from zoo.data.batching import pair_dataset

    return batches_for(pair_dataset, data, vectorizer, training, seed)


if __name__ == "__main__":
    from recipes._runner import main

    main(sys.modules[__name__])
