"""Sentiment: an acceptor (sentence -> positive/negative) on the UCI sentiment sentences.

Data: Kotzias et al. (2015), 3 x 1,000 review sentences (IMDb, Amazon, Yelp), 80/10/10 per domain.
Run: `zoo train sentiment` or `python -m recipes.sentiment [--set key=value ...]`.
"""
from __future__ import annotations

import dataclasses
import sys

from zoo.models import AcceptorConfig, EncoderConfig
from zoo.training import TrainingConfig

DATASET = "uci_sentiment"

MODEL = AcceptorConfig(
    embedding_dim=50,                  # GloVe 6B 50d, the vectors this machine can fetch
    embedding_mode="glove_finetuned",  # 2,400 training sentences are too few to learn words from scratch
    encoder=EncoderConfig(
        cell="lstm",                   # gates keep negations ("not ... good") alive across the sentence
        units=64,                      # small data: a small encoder overfits less
        bidirectional=True,            # sentiment cues sit at both ends of a sentence
        pooling="max",                 # picks the strongest cue wherever it is
    ),
    dropout=0.5,                       # heavy regularisation for a few thousand sentences
    num_classes=2,                     # negative, positive
)

TRAINING = TrainingConfig(
    batch_size=32,                     # ~75 updates per epoch on 2,400 sentences
    epochs=30,                         # upper bound; early stopping ends sooner
    learning_rate=1e-3,                # Adam's default; 2e-3 stopped early and averaged 84.5 over 3 seeds
    clipnorm=5.0,                      # guards against exploding gradients in the recurrence
    patience=8,                        # the dev loss on 299 sentences is noisy: wait before stopping
    min_count=1,                       # GloVe knows rare words; keep them
)


def run(model_config: AcceptorConfig, training: TrainingConfig, dataset: str, run_dir):
    import zoo.data
    from recipes.artifacts import pretrained_embeddings, save_config, save_vectorizer
    from zoo import models
    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer, count_word_tokens
    from zoo.training import fit_evaluate_save

    # The data: fixed splits, vocabulary from the training split only.
    data = zoo.data.load(dataset)
    train_texts = [text for text, _ in data.train]
    vectorizer = ZooVectorizer(build_word_vectorizer(
        train_texts, max_tokens=training.max_vocabulary or None, min_count=training.min_count))
    vocabulary = vectorizer.get_vocabulary()
    model_config = dataclasses.replace(
        model_config, vocabulary_size=len(vocabulary), num_classes=len(data.label_names))
    extra = {"data_sizes": data.sizes(), "label_names": list(data.label_names)}
    matrix = pretrained_embeddings(model_config, vocabulary, count_word_tokens(train_texts), run_dir, extra)

    # The model.
    model = training.compile(models.acceptor(model_config, embedding_matrix=matrix))
    save_config(run_dir, model_config)
    save_vectorizer(run_dir, vectorizer)

    # Fit with early stopping on dev, evaluate on test, save the run.
    batches = make_batches(data, vectorizer, training, model_config.seed)
    return fit_evaluate_save(model, batches["train"], batches["dev"], batches["test"], run_dir, training, extra)


def make_batches(data, vectorizer, training: TrainingConfig, seed: int = 0) -> dict:
    """Train (shuffled), dev and test batches, bucketed by length unless `bucketing` is off."""
    from recipes.artifacts import batches_for
    from zoo.data.batching import classification_dataset

    return batches_for(classification_dataset, data, vectorizer, training, seed)


if __name__ == "__main__":
    from recipes._runner import main

    main(sys.modules[__name__])
