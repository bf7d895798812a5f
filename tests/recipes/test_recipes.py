"""The recipes end to end on the real corpora, with tiny models so the default run stays fast."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.models.config import with_overrides
from zoo.tasks import apply_settings, evaluate_run, load_recipe, read_recipe, shipped_recipes_dir, train
from zoo.training import TrainingConfig

TINY = ["epochs=2", "encoder.units=4", "embedding_mode=learned", "embedding_dim=8"]
TINY_CLI = [part for assignment in TINY for part in ("--set", assignment)]


def test_sentiment_recipe_trains_saves_and_reevaluates(tmp_path, capsys):
    metrics, run_dir = train("sentiment", runs=tmp_path, overrides=TINY)
    # The recurrent path taken is printed with the settings.
    printed = capsys.readouterr().out
    # (the words are zoo.training's: here the fused LSTM of a CPU, and the XLA choice)
    assert re.search(r"^   training path: encoder: fused .*\[XLA: ", printed, re.M), printed
    assert run_dir == tmp_path / "sentiment"
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
    recorded = json.loads((run_dir / "recipe.json").read_text())
    assert Path(recorded["recipe_file"]).resolve() == (shipped_recipes_dir() / "sentiment.py").resolve()
    assert recorded["overrides"] == TINY and recorded["model"] == config
    # The one-line path was printed; the detail, and why it was chosen, is on record.
    assert recorded["code_path"]["encoder"]["implementation"] == "fused" and recorded["code_path"]["encoder"]["chosen"]

    again = evaluate_run(run_dir)
    assert again["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
    assert set(evaluate_run(run_dir, split="dev")) >= {"accuracy", "loss"}

    # A second run never overwrites a finished one.
    train("sentiment", runs=tmp_path, overrides=[*TINY, "epochs=1"])
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 2
    assert json.loads((tmp_path / "sentiment-2" / "metrics.json").read_text())["epochs"] == 1


def test_a_users_copy_trains_and_recipe_json_records_exactly_its_values(tmp_path, capsys):
    """`zoo train path/to/copy.py`: the copy's own values (tiny ones here, written in the file, no
    --set) are what trains, and `recipe.json` records them; only the sizes the data decides differ."""
    from zoo.cli import main

    text = (shipped_recipes_dir() / "sentiment.py").read_text()
    for old, new in (("units=128,", "units=3,"), ("epochs=30,", "epochs=1,"), ("embedding_dim=50,", "embedding_dim=6,"),
                     ('embedding_mode="glove_finetuned",', 'embedding_mode="learned",'), ("batch_size=16,", "batch_size=64,")):
        assert old in text
        text = text.replace(old, new)
    copy = tmp_path / "elsewhere" / "my_sentiment.py"
    copy.parent.mkdir()
    copy.write_text(text)
    assert main(["train", str(copy), "--runs", str(tmp_path / "runs")]) == 0
    run_dir = tmp_path / "runs" / "my_sentiment"
    recorded = json.loads((run_dir / "recipe.json").read_text())
    recipe = read_recipe(copy)
    assert recorded["recipe_file"] == str(copy) and recorded["overrides"] == []
    assert (recorded["task"], recorded["dataset"], recorded["settings"]) == ("sentiment", "uci_sentiment", None)
    assert TrainingConfig.from_dict(recorded["training"]) == recipe.training
    assert set(recorded["set_from_data"]) == {"vocabulary_size"}
    from_data = [f"{key}={value}" for key, value in recorded["set_from_data"].items()]
    assert json.loads(with_overrides(recipe.model, from_data).to_json()) == recorded["model"]
    assert json.loads((run_dir / "config.json").read_text()) == recorded["model"]
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 1
    assert f"zoo train my_sentiment: the sentiment task on uci_sentiment" in capsys.readouterr().out


def test_settings_are_routed_and_checked():
    model_config = load_recipe("sentiment").model
    model, training, _ = apply_settings(model_config, TrainingConfig(), ["batch_size=8", "encoder.units=3"])
    assert training.batch_size == 8 and model.encoder.units == 3
    with pytest.raises(ValueError, match="unknown setting 'encoder.size'"):
        apply_settings(model_config, TrainingConfig(), ["encoder.size=3"])
    with pytest.raises(ValueError, match="batch_size expects int, got 'big'"):
        apply_settings(model_config, TrainingConfig(), ["batch_size=big"])


def test_cli_rejects_bad_settings_and_recipes_clearly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "zoo", "train", "sentiment", "--runs", str(tmp_path), "--set", "encoder.cells=9"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "unknown setting 'encoder.cells'" in result.stderr
    assert "Traceback" not in result.stderr
    bad = tmp_path / "bad.py"
    bad.write_text((shipped_recipes_dir() / "sentiment.py").read_text() + "\nimport os\nos.system('true')\n")
    result = subprocess.run([sys.executable, "-m", "zoo", "train", str(bad), "--runs", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    line = len((shipped_recipes_dir() / "sentiment.py").read_text().splitlines()) + 2
    assert f"zoo train: error: {bad}, line {line}: a recipe holds only assignments" in result.stderr
    assert not (tmp_path / "bad").exists()


def test_killed_run_resumes_from_its_last_finished_epoch(tmp_path):
    import csv
    import os
    import signal
    import time

    command = [sys.executable, "-m", "zoo", "train", "sentiment", "--runs", str(tmp_path), *TINY_CLI,
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
    from zoo.export.saved_model import export_run

    assert load_recipe("pos").model.char_features.enabled
    load = zoo.data.load

    def small(name, **kwargs):
        data = load(name, **kwargs)
        return dataclasses.replace(data, train=data.train[:300], dev=data.dev[:60], test=data.test[:60])

    monkeypatch.setattr(zoo.data, "load", small)
    metrics, run_dir = train("pos", runs=tmp_path, overrides=[
        *TINY, "epochs=1", "char_features.embedding_dim=4", "char_features.filters=5"])
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
    model, _, _ = apply_settings(load_recipe("pos").model, TrainingConfig(), ["char_features.embedding_dim=0"])
    assert not model.char_features.enabled


def test_an_unfinished_run_is_not_resumed_with_other_settings(tmp_path):
    """The folder of an unfinished run (no metrics.json) resumes; with other settings it is refused
    by name, before any backup is read, and nothing in it changes."""
    run_dir = tmp_path / "sentiment"
    train("sentiment", runs=tmp_path, overrides=TINY)
    (run_dir / "metrics.json").unlink()  # as if killed before its end
    before = (run_dir / "recipe.json").read_text()
    with pytest.raises(ValueError, match=re.escape(f"{run_dir} holds an unfinished run with other settings "
                                                   "(model.dropout: 0.5 -> 0.2)")):
        train("sentiment", runs=tmp_path, overrides=[*TINY, "dropout=0.2"])
    assert (run_dir / "recipe.json").read_text() == before and not (run_dir / "metrics.json").exists()
    _, again = train("sentiment", runs=tmp_path, overrides=[*TINY[1:], "epochs=3"])  # a higher bound resumes
    assert again == run_dir and json.loads((run_dir / "metrics.json").read_text())["epochs"] == 3
