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
    learning_rate=2e-3,                # Adam, a little above the default: small model, few epochs
    clipnorm=5.0,                      # guards against exploding gradients in the recurrence
    patience=4,                        # dev accuracy is noisy on 300 sentences
    min_count=1,                       # GloVe knows rare words; keep them
)


def run(model_config: AcceptorConfig, training: TrainingConfig, dataset: str, run_dir):
    import zoo.data
    from recipes.artifacts import save_config, save_vectorizer
    from zoo import embeddings, models
    from zoo.data.batching import classification_dataset
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

    # The embeddings: GloVe where the mode asks for it, with its coverage of our vocabulary.
    matrix, extra = None, {"data_sizes": data.sizes()}
    if model_config.embedding_mode != "learned":
        words, vectors = embeddings.load_glove()
        matrix, coverage = embeddings.build_embedding_matrix(
            vocabulary, words, vectors, seed=model_config.seed, token_counts=count_word_tokens(train_texts))
        print(coverage)
        coverage.save(run_dir / "coverage.json")
        extra["glove_coverage"] = coverage.to_dict()

    # The model.
    model = training.compile(models.acceptor(model_config, embedding_matrix=matrix))
    save_config(run_dir, model_config)
    save_vectorizer(run_dir, vectorizer)

    # Fit with early stopping on dev, evaluate on test, save the run.
    padding = "bucket" if training.bucketing else "fixed"
    batches = {
        split: classification_dataset(getattr(data, split), vectorizer, batch_size=training.batch_size,
                                      shuffle=split == "train", seed=model_config.seed, padding=padding)
        for split in ("train", "dev", "test")
    }
    return fit_evaluate_save(model, batches["train"], batches["dev"], batches["test"], run_dir, training, extra)


if __name__ == "__main__":
    from recipes._runner import main

    main(sys.modules[__name__])
