"""The tasks on tiny in-memory data: what train, tune and evaluate share (no corpus needed)."""
import importlib.util
import math

import numpy as np
import pytest

import zoo.data
from zoo.data import TaskData
from zoo.models import AcceptorConfig, EncoderConfig, LanguageModelConfig, TransducerConfig, CharFeaturesConfig
from zoo.tasks import TASKS, CharLMSettings, Prepared, get
from zoo.training import TrainingConfig

SENTENCES = TaskData(
    "tiny", "classification",
    train=[("a good film", 1), ("a bad film", 0), ("good , good", 1), ("so bad", 0), ("fine film", 1)],
    dev=[("good film", 1), ("bad", 0)], test=[("a good one", 1), ("not bad", 0), ("bad bad", 0)],
    label_names=("negative", "positive"))
TAGGED = TaskData(
    "tiny_tags", "tagging",
    train=[(("The", "dog", "ran"), (0, 1, 2)), (("A", "cat", "sat", "down"), (0, 1, 2, 3))],
    dev=[(("The", "cat"), (0, 1))], test=[(("A", "dog", "sat"), (0, 1, 2))],
    label_names=("DET", "NOUN", "VERB", "ADV", "X"))
BOOKS = TaskData("tiny_books", "language_model", train=["in the beginning " * 20, "and the earth " * 20],
                 dev=["the beginning and the earth " * 4], test=["in the earth " * 6])
TINY_ENCODER = EncoderConfig(cell="gru", units=3)


def test_one_task_list():
    assert list(TASKS) == ["sentiment", "pos", "snli", "char_lm", "compress"]
    assert {task.factory for task in TASKS.values()} == {"acceptor", "transducer", "pair_encoder", "language_model",
                                                          "encoder_decoder"}
    import zoo.cli
    import zoo.tuning

    assert not hasattr(zoo.cli, "RECIPES")
    assert importlib.util.find_spec("zoo.tuning.tasks") is None
    with pytest.raises(ValueError, match="unknown task 'ner'; known: sentiment, pos, snli, char_lm, compress"):
        get("ner")


def test_sentiment_task_prepares_batches_and_builds():
    task = get("sentiment")
    prepared = task.prepare(AcceptorConfig(embedding_dim=4, encoder=TINY_ENCODER), TrainingConfig(batch_size=2),
                            data=SENTENCES)
    assert isinstance(prepared, Prepared) and prepared.dataset == "tiny"
    vocabulary = prepared.vectorizer.get_vocabulary()
    assert prepared.model_config.vocabulary_size == len(vocabulary)
    assert prepared.from_data == {"vocabulary_size": len(vocabulary)}  # 2 classes: the config's default
    assert prepared.embedding_matrix is None and prepared.coverage is None  # learned: no GloVe read
    batches = prepared.batches()
    assert set(batches) == {"train", "dev", "test"}
    assert sum(int(labels.shape[0]) for _, labels in batches["test"]) == 3
    model = prepared.build_model()
    ids, _ = next(iter(batches["dev"]))
    assert model.predict(ids, verbose=0).shape == (ids.shape[0], 2)
    assert task.extra_metrics(SENTENCES) == {"data_sizes": {"train": 5, "dev": 2, "test": 3},
                                             "label_names": ["negative", "positive"]}
    only_dev = prepared.batches(splits=("dev",))
    assert set(only_dev) == {"dev"}
    with pytest.raises(ValueError, match="split must be one of"):
        prepared.batches(splits=("valid",))


def test_a_task_refuses_another_tasks_config_and_data(monkeypatch):
    task = get("sentiment")
    with pytest.raises(ValueError, match="the sentiment task trains a AcceptorConfig, got a LanguageModelConfig"):
        task.prepare(LanguageModelConfig(), TrainingConfig(), data=SENTENCES)
    monkeypatch.setattr(zoo.data, "load", lambda name, **kwargs: TAGGED)
    with pytest.raises(ValueError, match="dataset 'brown_pos' holds tagging data; the sentiment task reads classification "
                                         "data: uci_sentiment, glue/sst2, imdb_reviews"):
        task.load_data("brown_pos")


def test_a_setting_the_data_decides_is_refused_not_silently_replaced(tmp_path, monkeypatch):
    from zoo.tasks import train

    monkeypatch.setattr(zoo.data, "load", lambda name, **kwargs: SENTENCES)
    with pytest.raises(ValueError, match=r"--set vocabulary_size: the data sets it \(vocabulary_size=\d+\)"):
        train("sentiment", runs=tmp_path, overrides=["vocabulary_size=5", "embedding_mode=learned", "pretrained_words=0"])
    assert not (tmp_path / "sentiment" / "recipe.json").exists()  # refused before anything was written


def test_pos_task_sizes_words_characters_and_tags():
    config = TransducerConfig(embedding_dim=4, encoder=TINY_ENCODER,
                              char_features=CharFeaturesConfig(embedding_dim=2, filters=3, max_word_chars=4))
    prepared = get("pos").prepare(config, TrainingConfig(batch_size=2), data=TAGGED)
    assert prepared.model_config.num_classes == 5
    assert prepared.model_config.char_features.vocabulary_size == len(prepared.vectorizer.get_char_vocabulary())
    assert set(prepared.from_data) == {"vocabulary_size", "num_classes", "char_features.vocabulary_size"}
    inputs, tags, weights = next(iter(prepared.batches()["train"]))
    assert set(inputs) == {"token_ids", "char_ids"}
    assert prepared.build_model().predict(inputs, verbose=0).shape[-1] == 5
    counts = get("pos").token_counts(TAGGED)
    assert counts["the"] == 1 and "The" not in counts  # lowercased, as GloVe 6B is


def test_char_lm_task_windows_bits_and_fractions():
    task = get("char_lm")
    settings = CharLMSettings(sequence_length=7)
    prepared = task.prepare(LanguageModelConfig(embedding_dim=3, encoder=TINY_ENCODER),
                            TrainingConfig(batch_size=4, bucketing=False), settings, data=BOOKS)
    inputs, targets = next(iter(prepared.batches()["train"]))
    assert inputs.shape == (4, 7) and targets.shape == (4, 7)
    # dev is read in windows of eval_sequence_length, or whole when shorter (111 characters here)
    dev_inputs, _ = next(iter(prepared.batches()["dev"]))
    assert dev_inputs.shape == (1, len(BOOKS.dev[0]) - 1)
    short = CharLMSettings(sequence_length=7, eval_sequence_length=10)
    assert next(iter(task.batches(BOOKS, prepared.vectorizer, prepared.training, short)["dev"]))[0].shape == (4, 10)
    assert task.derived_metrics({"loss": math.log(2) * 3, "accuracy": 0.5})["bits_per_character"] == pytest.approx(3)
    assert task.extra_metrics(BOOKS)["data_sizes"]["train"] == sum(map(len, BOOKS.train))
    # A fraction keeps the start of each book; the alphabet still comes from all of them.
    half = task.prepare(prepared.model_config, prepared.training, settings, data=BOOKS, train_fraction=0.5)
    assert [len(book) for book in half.data.train] == [len(book) // 2 for book in BOOKS.train]
    assert half.vectorizer.get_vocabulary() == prepared.vectorizer.get_vocabulary()
    with pytest.raises(ValueError, match=r"--train-fraction must be in \(0, 1\]"):
        task.prepare(prepared.model_config, prepared.training, data=BOOKS, train_fraction=0)


def test_classification_fraction_is_seeded_and_leaves_dev_whole():
    task = get("sentiment")
    config, training = AcceptorConfig(embedding_dim=4, encoder=TINY_ENCODER), TrainingConfig()
    first = task.prepare(config, training, data=SENTENCES, train_fraction=0.4)
    again = task.prepare(config, training, data=SENTENCES, train_fraction=0.4)
    assert len(first.data.train) == 2 and first.data.train == again.data.train
    assert first.data.dev == SENTENCES.dev
    assert first.model_config.vocabulary_size == task.prepare(config, training, data=SENTENCES).model_config.vocabulary_size
    assert np.all([example in SENTENCES.train for example in first.data.train])
