"""Part-of-speech tagging: a transducer (token -> universal tag) on the tagged Brown corpus.

Data: Brown corpus (Francis & Kucera 1979), 57,340 sentences, whole files held out for dev and
test; Brown tags mapped to the 12 universal tags of Petrov et al. (2012).
Run: `zoo train pos` or `python -m recipes.pos [--set key=value ...]`.
"""
from __future__ import annotations

import collections
import dataclasses
import sys

from zoo.models import CharFeaturesConfig, EncoderConfig, TransducerConfig
from zoo.training import TrainingConfig

DATASET = "brown_pos"

MODEL = TransducerConfig(
    embedding_dim=50,                  # GloVe 6B 50d
    embedding_mode="glove_finetuned",  # GloVe knows rare words the 1M training tokens see once
    encoder=EncoderConfig(
        cell="lstm",
        units=100,                     # Plank et al. (2016) use 100 per direction
        layers=2,                      # a second layer helps with long-range agreement
        bidirectional=True,            # a tag depends on the words on both sides
        dropout=0.25,                  # between the two layers
    ),
    dropout=0.25,                      # on embeddings and before the softmax
    num_classes=12,                    # the universal tagset
    char_features=CharFeaturesConfig(  # a char-CNN (Ma & Hovy 2016): unseen words, case, suffixes
        embedding_dim=30,              # Ma & Hovy's character embedding width
        filters=50,                    # a little over their 30: 12 tags lean on many suffixes
        kernel_size=3,                 # trigrams of characters, as Ma & Hovy
        max_word_chars=20,             # the first 20 characters: longer words are rare in Brown
    ),                                 # (vocabulary_size: set from the training characters)
)

TRAINING = TrainingConfig(
    batch_size=64,                     # ~720 updates per epoch; larger batches keep 2 cores busy
    epochs=15,                         # upper bound; early stopping ends sooner
    learning_rate=2e-3,
    clipnorm=5.0,                      # guards against exploding gradients
    patience=2,                        # dev accuracy on ~110k tokens is stable
    min_count=1,                       # keep rare words: GloVe often knows them
)


def run(model_config: TransducerConfig, training: TrainingConfig, dataset: str, run_dir):
    import zoo.data
    from recipes.artifacts import pretrained_embeddings, save_config, save_vectorizer
    from zoo import models
    from zoo.training import fit_evaluate_save

    # The data: fixed splits by whole files; vocabulary from the training split only.
    data = zoo.data.load(dataset)
    train_tokens = [tokens for tokens, _ in data.train]
    vectorizer, model_config = make_vectorizer(train_tokens, model_config, training)
    vocabulary = vectorizer.get_vocabulary()
    model_config = dataclasses.replace(model_config, num_classes=len(data.label_names))
    extra = {"data_sizes": data.sizes(), "label_names": list(data.label_names)}
    counts = collections.Counter(token.lower() for tokens in train_tokens for token in tokens)
    matrix = pretrained_embeddings(model_config, vocabulary, counts, run_dir, extra)

    # The model; padded positions are excluded by the datasets' sample weights.
    model = training.compile(models.transducer(model_config, embedding_matrix=matrix))
    save_config(run_dir, model_config)
    save_vectorizer(run_dir, vectorizer)

    # Fit with early stopping on dev, evaluate on test (token accuracy over real tokens), save.
    batches = make_batches(data, vectorizer, training, model_config.seed)
    return fit_evaluate_save(model, batches["train"], batches["dev"], batches["test"], run_dir, training, extra)


def make_vectorizer(train_tokens, model_config: TransducerConfig, training: TrainingConfig):
    """The token vectorizer (with character ids when the model reads them) from the training
    tokens, and the config with its vocabulary sizes set to it.

    Word ids are lowercased (GloVe 6B is); character ids keep the case.
    """
    from zoo.data.vectorize import build_token_vectorizer

    chars = model_config.char_features
    vectorizer = build_token_vectorizer(
        train_tokens, max_tokens=training.max_vocabulary or None, min_count=training.min_count,
        max_word_chars=chars.max_word_chars if chars.enabled else 0)
    if chars.enabled:
        chars = dataclasses.replace(chars, vocabulary_size=len(vectorizer.get_char_vocabulary()))
    return vectorizer, dataclasses.replace(
        model_config, vocabulary_size=vectorizer.vocabulary_size(), char_features=chars)


def make_batches(data, vectorizer, training: TrainingConfig, seed: int = 0) -> dict:
    """Train (shuffled), dev and test batches, bucketed by length unless `bucketing` is off."""
    from recipes.artifacts import batches_for
    from zoo.data.batching import tagging_dataset

    return batches_for(tagging_dataset, data, vectorizer, training, seed)


if __name__ == "__main__":
    from recipes._runner import main

    main(sys.modules[__name__])
