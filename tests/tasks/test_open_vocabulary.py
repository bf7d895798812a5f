"""The open vocabulary: pretrained words the training split lacks get ids and their GloVe rows,
which training leaves as they are, in the trained model and in the SavedModel alike.

GloVe here is a small matrix in GloVe's layout (words by frequency, one row each), so the default
run needs no 76 MB download; `tests/test_embeddings.py` reads the real vectors (slow tier)."""
import json

import numpy as np
import pytest

import keras

import zoo.data
from zoo import embeddings
from zoo.data import TaskData
from zoo.tasks import get, train

GLOVE_WORDS = ["the", "a", "film", "good", "bad", "zebra", "u.s.", "superb", "awful", "Capital"]
GLOVE = np.random.default_rng(3).normal(size=(len(GLOVE_WORDS), 8)).astype("float32")
DATA = TaskData(
    "tiny_reviews", "classification",
    train=[("a good film", 1), ("a bad film", 0), ("good , good", 1), ("so bad", 0), ("the film", 1)] * 4,
    dev=[("superb film", 1), ("awful", 0)],
    test=[("a superb film", 1), ("zebra awful", 0), ("qwxz bad", 0)],
    label_names=("negative", "positive"))
RECIPE_SET = ["epochs=2", "encoder.units=4", "embedding_dim=8", "embedding_mode=glove_finetuned",
              "batch_size=4", "pretrained_words=9", "learning_rate=0.05"]


@pytest.fixture
def small_glove(monkeypatch):
    monkeypatch.setattr(embeddings, "load_glove", lambda *args, **kwargs: (list(GLOVE_WORDS), GLOVE.copy()))


def test_prepare_adds_reachable_pretrained_words_after_the_training_words(small_glove):
    from zoo.models import AcceptorConfig, EncoderConfig
    from zoo.training import TrainingConfig

    config = AcceptorConfig(embedding_dim=8, embedding_mode="glove_finetuned", encoder=EncoderConfig(units=4))
    closed = get("sentiment").prepare(config, TrainingConfig(), data=DATA)
    opened = get("sentiment").prepare(config, TrainingConfig(pretrained_words=9), data=DATA)
    training_words = closed.vectorizer.get_vocabulary()
    vocabulary = list(map(str, opened.vectorizer.get_vocabulary()))
    # The training ids are unchanged; "u.s." (split by the tokenizer) and "Capital" (never
    # produced by a lowercasing tokenizer) get no id; only the first 9 GloVe words are read (not "Capital").
    assert vocabulary[: len(training_words)] == list(map(str, training_words))
    assert vocabulary[len(training_words):] == ["zebra", "superb", "awful"] == vocabulary[-3:]
    assert opened.model_config.pretrained_rows == 3 == opened.from_data["pretrained_rows"]
    np.testing.assert_array_equal(opened.embedding_matrix[vocabulary.index("zebra")], GLOVE[GLOVE_WORDS.index("zebra")])
    # dev: superb, awful (2 of 3 tokens) were OOV; test: superb, zebra, awful, qwxz of 7.
    assert closed.oov == {"dev": {"tokens": 3, "oov_training_vocabulary": 2, "oov": 2},
                          "test": {"tokens": 7, "oov_training_vocabulary": 4, "oov": 4}}
    assert opened.oov == {"dev": {"tokens": 3, "oov_training_vocabulary": 2, "oov": 0},
                          "test": {"tokens": 7, "oov_training_vocabulary": 4, "oov": 1}}


def test_a_word_only_glove_knows_keeps_its_vector_through_training_and_serving(small_glove, monkeypatch, tmp_path):
    import tensorflow as tf

    import zoo
    from zoo.export.saved_model import export_run
    from zoo.loading import load_vectorizer

    monkeypatch.setattr(zoo.data, "load", lambda name, **kwargs: DATA)
    metrics, run_dir = train("sentiment", runs=tmp_path, overrides=RECIPE_SET)
    assert metrics["oov_tokens"]["test"] == {"tokens": 7, "oov_training_vocabulary": 4, "oov": 1}
    assert metrics["oov_tokens"]["pretrained_words_added"] == 3
    report = metrics["test_report"]
    assert report["labels"] == ["negative", "positive"] and np.sum(report["confusion_matrix"]) == 3

    model = zoo.load(run_dir)
    vectorizer = load_vectorizer(run_dir)
    zebra = int(vectorizer(["zebra"]).numpy()[0, 0])
    assert zebra == len(vectorizer.get_vocabulary()) - 3  # the first pretrained row
    trained = keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings)
    np.testing.assert_array_equal(trained[zebra], GLOVE[GLOVE_WORDS.index("zebra")])
    good = int(vectorizer(["good"]).numpy()[0, 0])
    assert not np.allclose(trained[good], GLOVE[GLOVE_WORDS.index("good")], atol=1e-3)  # fine-tuned

    # The served model reads "zebra" as the trained model does, not as OOV.
    exported = export_run(run_dir, root=tmp_path / "saved_models")
    classify = tf.saved_model.load(str(exported)).signatures["classify"]
    served = classify(text=tf.constant(["zebra film", "qwxz film"]))["probabilities"].numpy()
    film = int(vectorizer(["film"]).numpy()[0, 0])
    in_process = keras.ops.convert_to_numpy(model(np.array([[zebra, film], [1, film]]), training=False))
    np.testing.assert_allclose(served, in_process, atol=1e-5)
    assert not np.allclose(in_process[0], in_process[1], atol=1e-4)
    assert json.loads((run_dir / "config.json").read_text())["pretrained_rows"] == 3
