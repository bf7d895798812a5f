"""zoo.training: the accuracy and the loss count every real token once, whatever the batch widths."""
import numpy as np
import pytest

import keras

from zoo.training import TokenAccuracy


def test_token_accuracy_is_exact_across_batches_of_different_widths():
    # Batch 1: width 2, tokens all right (2 real). Batch 2: width 6, 6 real tokens, 3 right.
    # Per token: 5 of 8 = 0.625. Keras' own metric averages within each example first, so each
    # batch's examples count once whatever their width: (1.0 + 0.5) / 2 = 0.75.
    def one_hot(labels, classes=3):
        return np.eye(classes, dtype="float32")[labels]

    batches = [
        (np.array([[1, 2]]), one_hot(np.array([[1, 2]])), np.array([[1.0, 1.0]])),
        (np.array([[0, 0, 0, 1, 1, 1]]), one_hot(np.array([[0, 0, 0, 2, 2, 2]])), np.ones((1, 6))),
    ]
    ours, keras_own = TokenAccuracy(), keras.metrics.SparseCategoricalAccuracy()
    for labels, predictions, weights in batches:
        ours.update_state(labels, predictions, weights)
        keras_own.update_state(labels, predictions, weights)
    assert abs(float(ours.result()) - 5 / 8) < 1e-6
    assert abs(float(keras_own.result()) - 5 / 8) > 0.05       # the bias this metric removes
    # Padding (weight 0) is not counted; (batch,) labels work as in Keras.
    padded = TokenAccuracy()
    padded.update_state(np.array([[1, 0]]), one_hot(np.array([[1, 2]])), np.array([[1.0, 0.0]]))
    assert float(padded.result()) == 1.0
    plain = TokenAccuracy()
    plain.update_state(np.array([0, 1]), one_hot(np.array([0, 0])))
    assert float(plain.result()) == 0.5


def test_tagging_loss_is_the_mean_over_real_tokens_whatever_the_batch_width():
    # The dev loss that early stopping watches must not depend on the bucket widths. Keras'
    # default reduction divides by batch x width, but the transducer's output carries the padding
    # mask, and Keras rescales a masked loss to the mean over the unmasked positions.
    import zoo.models as zm
    from zoo.training import compile_defaults, token_weights

    model = zm.transducer(zm.TransducerConfig(
        vocabulary_size=20, embedding_dim=4, num_classes=3, encoder=zm.EncoderConfig(cell="gru", units=4)))
    compile_defaults(model)
    ids = np.array([[3, 4, 5, 0], [6, 7, 0, 0]], dtype="int32")
    labels = np.array([[0, 1, 2, 0], [2, 2, 0, 0]], dtype="int32")
    wide_ids, wide_labels = np.pad(ids, ((0, 0), (0, 6))), np.pad(labels, ((0, 0), (0, 6)))

    probabilities = model.predict_on_batch(ids)
    real = ids != 0
    expected = -np.log(np.take_along_axis(probabilities, labels[..., None], axis=-1)[..., 0][real]).mean()
    narrow = model.test_on_batch(ids, labels, sample_weight=token_weights(ids), return_dict=True)["loss"]
    wide = model.test_on_batch(wide_ids, wide_labels, sample_weight=token_weights(wide_ids), return_dict=True)["loss"]
    assert abs(narrow - expected) < 1e-5 and abs(wide - expected) < 1e-5


def test_xla_choice_and_the_training_path_line(caplog):
    import logging

    from zoo import models
    from zoo.training import TrainingConfig, choose_jit_compile, training_path

    assert choose_jit_compile("on") == (True, "forced on")
    assert choose_jit_compile(False) == (False, "forced off")
    jit, reason = choose_jit_compile("auto")
    assert jit is False and "CPU" in reason  # TensorFlow on a CPU: XLA measured slower
    with pytest.raises(ValueError, match="jit_compile"):
        choose_jit_compile("sometimes")
    config = models.AcceptorConfig(vocabulary_size=12, embedding_dim=3,
                                   encoder=models.EncoderConfig(cell="gru", implementation="builtin", units=4))
    with caplog.at_level(logging.INFO, logger="zoo.training"):
        model = TrainingConfig(jit_compile="off").compile(models.acceptor(config))
    line = training_path(model)
    assert line.startswith("encoder: ") and line.endswith("XLA off") and "GRU" in line
    assert "\n" not in line and len(line) < 160  # one short line; the detail is in code_path
    assert any("training path: " + line in record.getMessage() for record in caplog.records)
    assert not [name for name in vars(model) if name.startswith("zoo_")]


def test_learning_rate_schedules():
    import numpy as np

    import keras

    from zoo.training import TrainingConfig, WarmupCosine, schedule_callbacks

    assert schedule_callbacks(TrainingConfig()) == []
    cosine = WarmupCosine(1.0, epochs=5, warmup_epochs=1)
    assert [round(cosine.rate(e), 4) for e in range(5)] == [0.5, 1.0, 0.8536, 0.5, 0.1464]
    with pytest.raises(ValueError, match="schedule"):
        TrainingConfig(schedule="step")
    with pytest.raises(ValueError, match="warmup_epochs"):
        TrainingConfig(epochs=2, warmup_epochs=2)

    # "plateau" halves the rate after each epoch whose dev loss did not fall (here it never can:
    # zero inputs, no bias): the first epoch sets the best loss, the second fails to lower it, so
    # the third runs at half the rate; the rate each epoch ran at is logged.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x, y = np.zeros((4, 2), "float32"), np.ones((4, 1), "float32")
    history = model.fit(x, y, validation_data=(x, y), epochs=4, verbose=0, callbacks=schedule_callbacks(
        TrainingConfig(learning_rate=0.1, schedule="plateau", plateau_patience=0)))
    rates = [round(float(r), 4) for r in history.history["learning_rate"]]
    assert rates == [0.1, 0.1, 0.05, 0.025]


def test_monitor_chooses_what_early_stopping_and_the_plateau_watch():
    import numpy as np

    import keras

    from zoo.training import TrainingConfig, early_stopping, schedule_callbacks

    with pytest.raises(ValueError, match="monitor"):
        TrainingConfig(monitor="accuracy")  # the training accuracy is not a dev quantity
    training = TrainingConfig(monitor="val_accuracy", schedule="plateau", plateau_patience=0, patience=1)
    stopping = early_stopping(training)
    assert (stopping.monitor, stopping.mode) == ("val_accuracy", "max")  # higher is better
    assert early_stopping(TrainingConfig()).mode == "min"  # the dev loss: lower is better

    # Dev accuracy that never rises (a constant prediction) halves the rate after each epoch and
    # stops the run after `patience` epochs, even though the dev loss keeps falling.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.zeros((4, 2), "float32"), np.array([0, 0, 0, 1])
    history = model.fit(x, y, validation_data=(x, y), epochs=6, verbose=0,
                        callbacks=[stopping, *schedule_callbacks(training)])
    assert history.history["val_loss"][1] < history.history["val_loss"][0]
    assert len(history.epoch) == 2
    assert [round(float(r), 4) for r in history.history["learning_rate"]] == [0.1, 0.1]


def test_a_non_finite_loss_stops_at_once_names_the_step_and_keeps_the_run_unfinished(tmp_path, monkeypatch, capsys):
    """A learning rate of 1e300 (infinite in float32; plain SGD, no clipping) sends the loss to NaN within a few
    steps: training stops there, says where, marks the folder failed, saves no model or metrics;
    the same folder then trains normally with a sane rate."""
    import json

    import zoo.data
    from zoo.cli import main
    from zoo.data import TaskData

    data = TaskData("tiny", "classification", train=[("good film", 1), ("bad film", 0)] * 32,
                    dev=[("good", 1), ("bad", 0)], test=[("good", 1), ("bad", 0)], label_names=("neg", "pos"))
    monkeypatch.setattr(zoo.data, "load", lambda name, **kwargs: data)
    common = ["--runs", str(tmp_path), "--set", "embedding_mode=learned", "--set", "embedding_dim=4",
              "--set", "encoder.units=4", "--set", "pretrained_words=0", "--set", "batch_size=4",
              "--set", "optimizer=sgd", "--set", "clipnorm=0"]
    assert main(["train", "sentiment", *common, "--set", "learning_rate=1e300", "--set", "epochs=2"]) == 2
    error = capsys.readouterr().err
    assert "the training loss became" in error and "at epoch 1, step" in error
    run = tmp_path / "sentiment"
    assert json.loads((run / "failed.json").read_text())["error"].startswith("the training loss became")
    assert not (run / "metrics.json").exists() and not (run / "model.keras").exists()
    # Another learning rate in the same folder is refused (it would resume from the backup) ...
    assert main(["train", "sentiment", *common, "--set", "learning_rate=0.1", "--set", "epochs=2"]) == 2
    assert "unfinished run with other settings" in capsys.readouterr().err
    # ... a fresh folder trains.
    assert main(["train", "sentiment", *common, "--runs", str(tmp_path / "fresh"), "--set", "learning_rate=0.1",
                 "--set", "epochs=1"]) == 0
    assert not (tmp_path / "fresh" / "sentiment" / "failed.json").exists()


KILLED_AFTER_THE_LAST_EPOCH = r'''
import os, sys
import keras
import zoo.data, zoo.training
from zoo.data import TaskData
data = TaskData("tiny", "classification", train=[("good film", 1), ("bad film", 0), ("a good one", 1), ("a bad one", 0)] * 16,
                dev=[("good", 1), ("bad", 0)], test=[("good", 1), ("bad", 0)], label_names=("neg", "pos"))
zoo.data.load = lambda name, **kwargs: data

class KillAfterTheLastEpoch(keras.callbacks.Callback):  # after every epoch-end callback, before the final save
    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == int(sys.argv[2]):
            os._exit(3)

original = zoo.training.callbacks
zoo.training.callbacks = lambda run_dir, training: original(run_dir, training) + [KillAfterTheLastEpoch()]
from zoo.cli import main
main(["train", "sentiment", "--runs", sys.argv[1], "--set", "embedding_mode=learned", "--set", "embedding_dim=4",
      "--set", "encoder.units=4", "--set", "pretrained_words=0", "--set", "batch_size=8", "--set", "epochs=" + sys.argv[2],
      "--set", "learning_rate=0.05", "--set", "patience=5"])
'''


def test_a_run_killed_after_its_last_epoch_finishes_from_its_backup_with_the_best_weights(tmp_path, monkeypatch):
    import json
    import subprocess
    import sys

    import numpy as np

    import zoo
    import zoo.data
    from zoo.cli import main
    from zoo.data import TaskData
    from zoo.training import read_history

    completed = subprocess.run([sys.executable, "-c", KILLED_AFTER_THE_LAST_EPOCH, str(tmp_path), "3"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 3, completed.stdout[-2000:] + completed.stderr[-2000:]
    run = tmp_path / "sentiment"
    assert not (run / "metrics.json").exists() and (run / "best.weights.h5").exists()
    rows = read_history(run / "history.csv")
    assert len(rows) == 3
    best_epoch = int(np.argmin([float(row["val_loss"]) for row in rows]))
    assert json.loads((run / "best.json").read_text())["epoch"] == best_epoch

    # The rerun, as a user types it, trains no more epochs: it finishes from the backup.
    data = TaskData("tiny", "classification", train=[("good film", 1), ("bad film", 0), ("a good one", 1), ("a bad one", 0)] * 16,
                    dev=[("good", 1), ("bad", 0)], test=[("good", 1), ("bad", 0)], label_names=("neg", "pos"))
    monkeypatch.setattr(zoo.data, "load", lambda name, **kwargs: data)
    assert main(["train", "sentiment", "--runs", str(tmp_path), "--set", "embedding_mode=learned", "--set",
                 "embedding_dim=4", "--set", "encoder.units=4", "--set", "pretrained_words=0", "--set", "batch_size=8",
                 "--set", "epochs=3", "--set", "learning_rate=0.05", "--set", "patience=5"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and len(read_history(run / "history.csv")) == 3  # no epoch trained again
    # The saved model holds the best epoch's weights (the best.weights.h5 written at that epoch).
    finished = zoo.load(run, compile=False)
    best = zoo.load(run, compile=False)  # no optimizer: the file's optimizer state is not wanted here
    best.load_weights(run / "best.weights.h5")
    for a, b in zip(finished.get_weights(), best.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert abs(metrics["test"]["loss"] - float(rows[best_epoch]["val_loss"])) < 1e-4  # dev = test here


def test_a_damaged_backup_is_discarded_saying_so(tmp_path, capsys):
    import subprocess
    import sys

    from zoo.training import check_backup, read_history

    completed = subprocess.run([sys.executable, "-c", KILLED_AFTER_THE_LAST_EPOCH, str(tmp_path), "3"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 3, completed.stderr[-2000:]
    run = tmp_path / "sentiment"
    latest = run / "backup" / "latest.weights.h5"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # killed while writing it
    assert check_backup(run) == 2  # the backup before it: 2 epochs
    assert "is damaged" in capsys.readouterr().out and len(read_history(run / "history.csv")) == 2
    for damaged in (latest, run / "backup" / "latest.weights.h5.bkp"):
        damaged.write_bytes(b"not hdf5")
    assert check_backup(run) == 0
    printed = capsys.readouterr().out
    assert "no earlier backup reads" in printed and "training starts fresh" in printed
    assert (run / "backup.discarded-1").is_dir() and not (run / "backup").exists()
    assert read_history(run / "history.csv") == []
