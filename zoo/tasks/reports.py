"""What a finished run reports beyond Keras' loss and accuracy: per-class precision and recall
with the confusion matrix (classification and pairs), and tagging accuracy on words the training
split never showed."""
from __future__ import annotations

import numpy as np

import keras

from zoo.conventions import OOV_ID, TOKEN_IDS


def _predicted_classes(model, inputs) -> np.ndarray:
    return np.argmax(keras.ops.convert_to_numpy(model(inputs, training=False)), axis=-1)


def classification_report(model, batches, label_names) -> dict:
    """{"confusion_matrix": rows true, columns predicted, "per_class": {label: precision,
    recall, f1, support}, "macro_f1"} over `(inputs, labels)` batches."""
    classes = len(label_names)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    for inputs, labels, *_ in batches:
        predicted = _predicted_classes(model, inputs)
        np.add.at(confusion, (np.asarray(labels).reshape(-1), predicted.reshape(-1)), 1)
    per_class = {}
    for index, name in enumerate(label_names):
        true_positive = int(confusion[index, index])
        predicted, actual = int(confusion[:, index].sum()), int(confusion[index].sum())
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[str(name)] = {"precision": precision, "recall": recall, "f1": f1, "support": actual}
    return {"labels": [str(name) for name in label_names], "confusion_matrix": confusion.tolist(),
            "per_class": per_class, "macro_f1": float(np.mean([c["f1"] for c in per_class.values()]))}


def unseen_word_accuracy(model, batches, vocabulary_size: int, pretrained_rows: int) -> dict:
    """Tagging accuracy on tokens whose word the training split lacks, in two groups: words the
    vocabulary maps to OOV, and pretrained words (the open vocabulary's frozen rows: ids at or
    past `vocabulary_size - pretrained_rows`); and on all of them together."""
    first_pretrained = vocabulary_size - pretrained_rows
    counts = {name: [0, 0] for name in ("unseen", "unseen_oov", "unseen_pretrained")}
    for inputs, tags, *_ in batches:
        ids = np.asarray(inputs[TOKEN_IDS] if isinstance(inputs, dict) else inputs)
        correct = _predicted_classes(model, inputs) == np.asarray(tags)
        # Pretrained ids sit past every training id (>= 3), so padding never counts; with no
        # pretrained rows `first_pretrained` is the vocabulary size, which no id reaches.
        groups = {"unseen_oov": ids == OOV_ID, "unseen_pretrained": ids >= first_pretrained}
        groups["unseen"] = groups["unseen_oov"] | groups["unseen_pretrained"]
        for name, where in groups.items():
            counts[name][0] += int(correct[where].sum())
            counts[name][1] += int(where.sum())
    return {f"accuracy_{name}": (right / total if total else None) for name, (right, total) in counts.items()} | {
        f"tokens_{name}": total for name, (_, total) in counts.items()}


__all__ = ["classification_report", "unseen_word_accuracy"]
