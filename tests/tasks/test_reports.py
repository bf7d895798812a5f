"""Per-class precision/recall, the confusion matrix, and tagging accuracy on unseen words."""
import numpy as np
import pytest

from zoo.tasks.reports import classification_report, unseen_word_accuracy


def one_hot_model(predictions):
    """A model whose class scores are one-hot predictions, looked up by the input ids."""
    return lambda ids, training=False: np.eye(3)[predictions[np.asarray(ids)]]


def test_classification_report_counts_against_hand_worked_numbers():
    predictions = np.array([0, 0, 1, 2, 2, 2])   # example i is predicted predictions[i]
    labels = np.array([0, 1, 1, 2, 2, 0])
    batches = [(np.array([0, 1, 2]), labels[:3]), (np.array([3, 4, 5]), labels[3:])]
    report = classification_report(one_hot_model(predictions), batches, ["e", "n", "c"])
    assert report["confusion_matrix"] == [[1, 0, 1], [1, 1, 0], [0, 0, 2]]
    assert report["per_class"]["e"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["per_class"]["n"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert report["per_class"]["c"]["precision"] == pytest.approx(2 / 3) and report["per_class"]["c"]["recall"] == 1.0
    assert report["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)


def test_unseen_word_accuracy_separates_oov_and_pretrained_ids():
    # vocabulary of 10 ids, the last 3 pretrained: ids 7, 8, 9; id 1 is OOV; 0 pads.
    ids = np.array([[2, 1, 7, 0], [8, 1, 3, 0]])
    tags = np.array([[0, 1, 2, 0], [2, 0, 1, 0]])
    predicted = np.array([[0, 1, 0, 0], [2, 1, 1, 0]])  # right: 2 1 . | 8 . 3
    model = lambda inputs, training=False: np.eye(3)[predicted]
    scores = unseen_word_accuracy(model, [(ids, tags, None)], vocabulary_size=10, pretrained_rows=3)
    assert scores["tokens_unseen_oov"] == 2 and scores["accuracy_unseen_oov"] == 0.5
    assert scores["tokens_unseen_pretrained"] == 2 and scores["accuracy_unseen_pretrained"] == 0.5
    assert scores["tokens_unseen"] == 4 and scores["accuracy_unseen"] == 0.5
    closed = unseen_word_accuracy(model, [(ids, tags, None)], vocabulary_size=10, pretrained_rows=0)
    assert closed["tokens_unseen_pretrained"] == 0 and closed["accuracy_unseen_pretrained"] is None
