"""The recipes end to end on the real corpora, with tiny models so the default run stays fast."""
import json
import subprocess
import sys

import pytest

from recipes import sentiment
from recipes._runner import apply_settings, main
from zoo.training import TrainingConfig

TINY = ["--set", "epochs=2", "--set", "encoder.units=4", "--set", "embedding_mode=learned",
        "--set", "embedding_dim=8"]


def test_sentiment_recipe_trains_saves_and_reevaluates(tmp_path, capsys):
    metrics = main(sentiment, ["--runs", str(tmp_path), *TINY])
    # The recurrent path taken is printed with the settings.
    printed = capsys.readouterr().out
    assert "training path: encoder: fused FusedLSTM(LSTMCell)" in printed
    assert "its loops: XLA when the (time, batch) shape is fixed at trace time" in printed
    run_dir = tmp_path / "sentiment"
    for artefact in ("model.keras", "config.json", "metrics.json", "curves.png", "history.csv",
                     "vectorizer.json", "recipe.json"):
        assert (run_dir / artefact).exists(), artefact
    assert any((run_dir / "logs").rglob("*tfevents*"))
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["epochs"] == 2
    assert saved["data_sizes"]["test"] > 250
    assert 0.0 <= saved["test"]["accuracy"] <= 1.0
    config = json.loads((run_dir / "config.json").read_text())
    assert config["encoder"]["units"] == 4 and config["kind"] == "AcceptorConfig"

    from recipes.evaluate import evaluate_run

    again = evaluate_run(run_dir)
    assert again["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)

    # A second run never overwrites a finished one.
    main(sentiment, ["--runs", str(tmp_path), *TINY, "--set", "epochs=1"])
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 2
    assert json.loads((tmp_path / "sentiment-2" / "metrics.json").read_text())["epochs"] == 1


def test_settings_are_routed_and_checked():
    model, training = apply_settings(sentiment.MODEL, TrainingConfig(), ["batch_size=8", "encoder.units=3"])
    assert training.batch_size == 8 and model.encoder.units == 3
    with pytest.raises(ValueError, match="unknown setting 'encoder.size'"):
        apply_settings(sentiment.MODEL, TrainingConfig(), ["encoder.size=3"])
    with pytest.raises(ValueError, match="batch_size expects int, got 'big'"):
        apply_settings(sentiment.MODEL, TrainingConfig(), ["batch_size=big"])


def test_cli_rejects_bad_settings_clearly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "zoo", "train", "sentiment", "--runs", str(tmp_path), "--set", "encoder.cells=9"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "unknown setting 'encoder.cells'" in result.stderr
    assert "Traceback" not in result.stderr


def test_killed_run_resumes_from_its_last_finished_epoch(tmp_path):
    import csv
    import os
    import signal
    import time

    command = [sys.executable, "-m", "recipes.sentiment", "--runs", str(tmp_path), *TINY,
               "--set", "patience=50"]
    history = tmp_path / "sentiment" / "history.csv"

    def finished_epochs():
        if not history.exists():
            return []
        with open(history, newline="") as handle:
            return [int(row["epoch"]) for row in csv.DictReader(handle)]

    process = subprocess.Popen([*command, "--set", "epochs=50"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while len(finished_epochs()) < 2 and time.time() < deadline and process.poll() is None:
        time.sleep(0.5)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before_kill = finished_epochs()
    assert len(done_before_kill) >= 2, "the run did not get through two epochs in time"
    assert not (tmp_path / "sentiment" / "metrics.json").exists()

    total = len(done_before_kill) + 1
    subprocess.run([*command, "--set", f"epochs={total}"], check=True, capture_output=True, timeout=300)
    epochs = finished_epochs()
    # Training went on where it stopped (an epoch may have finished between backup and kill,
    # and is then redone), instead of starting again from epoch 0.
    assert epochs[: len(done_before_kill)] == done_before_kill
    assert epochs[-1] == total - 1
    assert epochs.count(0) == 1
    # metrics.json counts every epoch trained, not only those after the restart.
    assert json.loads((tmp_path / "sentiment" / "metrics.json").read_text())["epochs"] == total
    assert json.loads((tmp_path / "sentiment" / "metrics.json").read_text())["test"]["accuracy"] > 0


def test_pos_recipe_with_char_features_trains_reevaluates_and_exports(tmp_path, monkeypatch):
    """The POS recipe end to end on a slice of Brown (tiny model): the character ids travel
    through the run folder (vectorizer.json) to `zoo evaluate` and the exported `tag` signature."""
    import dataclasses

    import numpy as np
    import tensorflow as tf

    import zoo.data
    from recipes import pos
    from recipes.evaluate import evaluate_run
    from zoo.export.saved_model import export_run

    assert pos.MODEL.char_features.enabled
    load = zoo.data.load

    def small(name, **kwargs):
        data = load(name, **kwargs)
        return dataclasses.replace(data, train=data.train[:300], dev=data.dev[:60], test=data.test[:60])

    monkeypatch.setattr(zoo.data, "load", small)
    metrics = main(pos, ["--runs", str(tmp_path), *TINY, "--set", "epochs=1",
                         "--set", "char_features.embedding_dim=4", "--set", "char_features.filters=5"])
    run_dir = tmp_path / "pos"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["char_features"]["embedding_dim"] == 4
    assert config["char_features"]["vocabulary_size"] > 40  # letters of both cases, digits, ...
    assert evaluate_run(run_dir)["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)

    exported = export_run(run_dir, root=tmp_path / "saved_models")
    served = tf.saved_model.load(str(exported)).signatures["tag"](
        text=tf.constant(["The Fulton County Grand Jury said Friday"]))
    assert served["lengths"].numpy().tolist() == [7]
    tags = {t.decode() for t in served["tags"].numpy()[0]}
    assert tags <= set(json.loads((run_dir / "metrics.json").read_text())["label_names"])
    assert np.allclose(served["probabilities"].numpy().sum(-1), 1.0, atol=1e-5)


def test_pos_char_features_can_be_turned_off():
    from recipes import pos

    model, _ = apply_settings(pos.MODEL, TrainingConfig(), ["char_features.embedding_dim=0"])
    assert not model.char_features.enabled
