"""`zoo tune`: resumable searches, the record under the working directory, distributed trials."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zoo.tuning.search import TRIAL_RECORD, trial_records, tune

# The cheapest corner of the space: trials of a few seconds on uci_sentiment (cached).
TINY_FIX = {"encoder.units": "4", "encoder.layers": "1",
            "encoder.cell": "gru", "embedding_mode": "learned", "batch_size": "64"}
TINY = dict(recipe="sentiment", tuner="random", train_fraction=0.1, max_epochs=1, fixed=TINY_FIX, verbose=0)


def test_search_resumes_without_rerunning_finished_trials(tmp_path, capsys):
    output = tmp_path / "sentiment.tuned.json"
    first = tune(max_trials=2, directory=tmp_path / "tuning", output=output, **TINY)
    records = trial_records(tmp_path / "tuning" / "sentiment-random")
    assert sorted(records) == ["0", "1"] and first["record"]["trials"] == 2
    pids_before = {trial_id: record["pid"] for trial_id, record in records.items()}
    written_before = {trial_id: (tmp_path / "tuning" / "sentiment-random" / f"trial_{trial_id}" / TRIAL_RECORD).stat().st_mtime
                      for trial_id in records}

    second = tune(max_trials=3, directory=tmp_path / "tuning", output=output, **TINY)
    records = trial_records(tmp_path / "tuning" / "sentiment-random")
    assert sorted(records) == ["0", "1", "2"]
    # The two finished trials were kept as they were, not run again: one new trial ran.
    for trial_id, mtime in written_before.items():
        path = tmp_path / "tuning" / "sentiment-random" / f"trial_{trial_id}" / TRIAL_RECORD
        assert path.stat().st_mtime == mtime and records[trial_id]["pid"] == pids_before[trial_id]
    assert second["record"]["trials"] == 3

    tuned = json.loads(output.read_text())
    assert set(tuned) == {"settings", "record"}
    assert {"tuner", "trials", "best_dev_score", "compute_seconds", "machine", "date"} <= set(tuned["record"])
    assert tuned["record"]["tuner"] == "random" and 0.0 <= tuned["record"]["best_dev_score"] <= 1.0
    assert tuned["settings"]["encoder.units"] == 4 and "learning_rate" in tuned["settings"]
    summary = capsys.readouterr().out
    assert "trial  status" in summary and "COMPLETED" in summary


def test_hyperband_runs_until_the_trial_cap_not_one_iteration(tmp_path, monkeypatch):
    # With max_epochs=1 one Hyperband iteration is a single trial; keras-tuner's default
    # (hyperband_iterations=1) would end the search there.
    from zoo.tuning import search

    arguments = dict(directory=tmp_path / "tuning", output=tmp_path / "tuned.json", **{**TINY, "tuner": "hyperband"})
    monkeypatch.setattr(search, "HYPERBAND_ITERATIONS", 1)  # a search saved by the old code
    assert tune(max_trials=3, **arguments)["record"]["trials"] == 1
    monkeypatch.undo()
    assert tune(max_trials=3, **arguments)["record"]["trials"] == 3  # resumed, it goes on


def shipped_files() -> dict:
    from zoo.tasks import shipped_recipes_dir

    return {path: path.stat().st_mtime for path in shipped_recipes_dir().rglob("*")}


def test_tune_writes_under_the_working_directory_and_prints_the_recipe_lines(tmp_path, monkeypatch, capsys):
    """No folder or file is given: the search and its record go to ./tuning/<recipe>/, never into
    recipes/; the lines of the recipe to change are printed, and nothing applies them."""
    from zoo.tasks import load_recipe

    monkeypatch.chdir(tmp_path)
    before = shipped_files()
    tuned = tune(max_trials=1, **TINY)
    assert sorted(path.name for path in (tmp_path / "tuning" / "sentiment").iterdir()) == [
        "sentiment-random", "sentiment.tuned.json"]
    written = json.loads((tmp_path / "tuning" / "sentiment" / "sentiment.tuned.json").read_text())
    assert written == json.loads(json.dumps(tuned))
    assert written["record"]["task"] == "sentiment" and written["record"]["recipe"].endswith("recipes/sentiment.py")
    assert written["record"]["recipe_values"]["encoder.units"] == 128  # the recipe's own, for comparison
    assert shipped_files() == before
    printed = capsys.readouterr().out
    assert "write these values into" in printed
    assert "units=4," in printed and "# tuned: " in printed and "(was 128)" in printed
    assert "--set encoder.units=4" in printed
    assert load_recipe("sentiment").model.encoder.units == 128  # the recipe runs what it says


def test_recipe_lines_say_when_the_best_is_the_recipe_itself():
    from zoo.tasks import load_recipe
    from zoo.tuning.search import recipe_lines

    recipe = load_recipe("char_lm")
    own = {"encoder.units": 512, "batch_size": 64, "sequence_length": 100}
    assert "the best trial is the recipe itself" in recipe_lines(recipe, own, "x.json", "3")
    lines = recipe_lines(recipe, {**own, "batch_size": 32, "encoder.cell": "gru"}, "x.json", "3")
    assert "TRAINING = TrainingConfig(" in lines and "batch_size=32," in lines
    assert "encoder=EncoderConfig(" in lines and 'cell="gru",' in lines and '(was "lstm")' in lines


def test_cli_reports_bad_options_in_one_line(capsys):
    from zoo.cli import main

    assert main(["tune", "sentiment", "--train-fraction", "2"]) == 2
    assert main(["tune", "sentiment", "--fix", "encoder.bidirectional"]) == 2
    error = capsys.readouterr().err
    assert "--train-fraction must be in (0, 1]" in error and "--fix expects name=value" in error
    assert "Traceback" not in error


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_distributed_search_shares_trials_between_workers(tmp_path):
    """A chief (the oracle) and two workers on 127.0.0.1, keras-tuner's own gRPC mechanism."""
    port = _free_port()
    directory, output = tmp_path / "tuning", tmp_path / "sentiment.tuned.json"
    command = [sys.executable, "-m", "zoo", "tune", "sentiment", "--tuner", "random", "--max-trials", "4",
               "--max-epochs", "1", "--train-fraction", "0.1", "--directory", str(directory),
               "--output", str(output)]
    for name, value in TINY_FIX.items():
        command += ["--fix", f"{name}={value}"]
    processes = {}
    for tuner_id in ("chief", "worker0", "worker1"):
        env = dict(os.environ, KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP="127.0.0.1",
                   KERASTUNER_ORACLE_PORT=str(port))
        log = open(tmp_path / f"{tuner_id}.log", "w")
        processes[tuner_id] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        if tuner_id == "chief":
            time.sleep(5)  # let the chief bind the port first (workers wait for it anyway)
    deadline = time.time() + 1200
    try:
        for tuner_id, process in processes.items():
            process.wait(timeout=max(1, deadline - time.time()))
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    logs = {tuner_id: (tmp_path / f"{tuner_id}.log").read_text() for tuner_id in processes}
    for tuner_id, process in processes.items():
        assert process.returncode == 0, f"{tuner_id} failed:\n{logs[tuner_id][-3000:]}"

    records = trial_records(directory / "sentiment-random")
    assert len(records) == 4
    ran_by = {record["tuner_id"] for record in records.values()}
    assert ran_by == {"worker0", "worker1"}, records  # the chief only serves the oracle
    assert all(record["status"] == "COMPLETED" for record in records.values())
    trial_files = [json.loads(path.read_text()) for path in (directory / "sentiment-random").glob("trial_*/trial.json")]
    assert sorted(trial["status"] for trial in trial_files) == ["COMPLETED"] * 4
    # The chief wrote the tuned settings from all four trials.
    tuned = json.loads(output.read_text())
    assert tuned["record"]["trials"] == 4
    assert "worker0 done" in logs["worker0"] and "worker1 done" in logs["worker1"]


@pytest.mark.slow
def test_search_killed_mid_trial_resumes(tmp_path):
    """kill -9 during the second trial; the rerun keeps trial 0 and runs trial 1 again, then trial 2."""
    import signal

    directory = tmp_path / "tuning"
    command = [sys.executable, "-m", "zoo", "tune", "sentiment", "--tuner", "random", "--max-trials", "3",
               "--max-epochs", "1", "--train-fraction", "0.1", "--directory", str(directory),
               "--output", str(tmp_path / "tuned.json")]
    for name, value in TINY_FIX.items():
        command += ["--fix", f"{name}={value}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 900
    while time.time() < deadline and process.poll() is None:
        if "0" in trial_records(directory / "sentiment-random") and (directory / "sentiment-random" / "trial_1").exists():
            break
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    first = trial_records(directory / "sentiment-random")
    assert list(first) == ["0"], "the kill did not land during the second trial"

    subprocess.run(command, check=True, capture_output=True, timeout=900)
    records = trial_records(directory / "sentiment-random")
    assert sorted(records) == ["0", "1", "2"]
    assert records["0"]["pid"] == first["0"]["pid"]  # kept, not rerun
    assert records["1"]["pid"] == records["2"]["pid"] != first["0"]["pid"]  # rerun from its start
    assert json.loads((tmp_path / "tuned.json").read_text())["record"]["trials"] == 3
