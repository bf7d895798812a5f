"""Training on tf.distribute: MirroredStrategy over two logical CPU devices, and two worker
processes on 127.0.0.1 under MultiWorkerMirroredStrategy (each test in fresh interpreters, since
TensorFlow fixes its devices and cluster when it starts)."""
from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from zoo import distribute

# The tests in worker subprocesses (about 2 minutes in all) run with -m distributed (.ci/run does).
distributed = pytest.mark.distributed

ROOT = Path(__file__).resolve().parents[1]

# One step of plain SGD on one device and on two mirrored replicas, from the same weights, on
# the same global batch: the summed replica gradients must give the same weights.
ONE_STEP = r'''
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
import zoo.models as zm

def build(implementation, bidirectional):
    encoder = zm.EncoderConfig(cell="lstm", implementation=implementation, units=4, bidirectional=bidirectional)
    model = zm.acceptor(zm.AcceptorConfig(vocabulary_size=30, embedding_dim=4, encoder=encoder, seed=1))
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    return model

rng = np.random.default_rng(0)
ids = rng.integers(1, 30, size=(8, 6)).astype("int32")
ids[::2, 4:] = 0  # padded rows on both replicas
labels = rng.integers(0, 2, size=(8,)).astype("int32")
batches = tf.data.Dataset.from_tensor_slices((ids, labels)).batch(8)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
report = {"replicas": strategy.num_replicas_in_sync}
for implementation, bidirectional in (("fused", False), ("fused", True), ("builtin", False)):
    single = build(implementation, bidirectional)
    start = single.get_weights()
    single.fit(batches, epochs=1, verbose=0)
    with strategy.scope():
        mirrored = build(implementation, bidirectional)
    mirrored.set_weights(start)
    mirrored.fit(batches, epochs=1, verbose=0)
    report[f"{implementation}-{bidirectional}"] = {
        "difference": max(float(np.abs(a - b).max()) for a, b in zip(single.get_weights(), mirrored.get_weights())),
        "moved": max(float(np.abs(a - b).max()) for a, b in zip(single.get_weights(), start))}
print("REPORT " + json.dumps(report))
'''

# A tiny sentiment run through `zoo train` (the CLI), with the data replaced in memory.
TRAIN = r'''
import json, sys
arguments = json.loads(sys.argv[1])
if arguments.pop("logical_cpus", 0):
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import zoo.data
from zoo.data import TaskData
words = ["good", "great", "fine", "bad", "awful", "poor", "movie", "plot", "the", "a", "very", "not"]
import random
rng = random.Random(0)
def sentence(label):
    chosen = [rng.choice(words[6:]) for _ in range(rng.randint(2, 7))]
    chosen.insert(rng.randint(0, len(chosen)), rng.choice(words[:3] if label else words[3:6]))
    return " ".join(chosen)
examples = [(sentence(label), label) for label in [0, 1] * 128]
data = TaskData("tiny_sentiment", "classification", train=examples[:192], dev=examples[192:224],
                test=examples[224:], label_names=("negative", "positive"))
zoo.data.load = lambda name, **kwargs: data
from zoo.cli import main
sys.exit(main(arguments["argv"]))
'''

SETTINGS = ["--set", "epochs=2", "--set", "batch_size=16", "--set", "encoder.units=8",
            "--set", "encoder.bidirectional=false", "--set", "embedding_mode=learned",
            "--set", "embedding_dim=8", "--set", "pretrained_words=0", "--set", "patience=5",
            "--set", "bucketing=false", "--set", "dropout=0", "--set", "learning_rate=0.01"]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for handle in sockets:
        handle.bind(("127.0.0.1", 0))
    ports = [handle.getsockname()[1] for handle in sockets]
    for handle in sockets:
        handle.close()
    return ports


def environment(**extra) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT), **extra}
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def start(argv, env, logical_cpus=False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", TRAIN, json.dumps({"argv": argv, "logical_cpus": logical_cpus})],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)


def finish(process: subprocess.Popen, timeout: int = 300) -> str:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"a training process did not stop within {timeout} s:\n{output[-3000:]}")
    assert process.returncode == 0, output[-4000:]
    return output


def last_training_loss(run_dir: Path) -> float:
    with open(run_dir / "history.csv", newline="") as handle:
        return float(list(csv.DictReader(handle))[-1]["loss"])


def test_settings_are_checked_with_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="distribute must be one of"):
        distribute.make_strategy("horovod")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs TF_CONFIG"):
        distribute.make_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        distribute.cluster_task()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}))
    with pytest.raises(ValueError, match="is not in its cluster"):
        distribute.cluster_task()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}))
    assert distribute.cluster_task() == ("worker", 1, 2)
    assert not distribute.is_chief("multi_worker") and distribute.is_chief("none")


@distributed
def test_mirrored_replicas_take_the_same_step_as_one_device():
    """Every recurrent path (the fused LSTM's hand-written gradient included) under
    MirroredStrategy over two logical CPU devices: the same weights after one step (1e-5)."""
    completed = subprocess.run([sys.executable, "-c", ONE_STEP], env=environment(), capture_output=True,
                               text=True, timeout=300, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(next(line for line in completed.stdout.splitlines() if line.startswith("REPORT "))[7:])
    assert report.pop("replicas") == 2
    for path, numbers in report.items():
        assert numbers["moved"] > 1e-3, path  # the step changed the weights ...
        assert numbers["difference"] < 1e-5, (path, numbers)  # ... the same on one device and two


@distributed
def test_zoo_train_mirrored_over_two_devices(tmp_path):
    process = start(["train", "sentiment", "--runs", str(tmp_path), *SETTINGS, "--distribute", "mirrored"],
                    environment(), logical_cpus=True)
    output = finish(process)
    assert "distribute: mirrored, 2 replicas in sync; global batch 16, per-replica batch 8" in output
    assert (tmp_path / "sentiment" / "metrics.json").exists() and (tmp_path / "sentiment" / "model.keras").exists()


@distributed
def test_two_workers_train_like_one(tmp_path):
    """Two processes under MultiWorkerMirroredStrategy (TF_CONFIG per process, 127.0.0.1, free
    ports): both finish, the chief's run folder is complete and exported, the worker leaves
    nothing behind, and the final training loss is within 5% of one worker's with the same global
    batch and seed (here equal to 1e-6: the same steps on the same batches).

    The reference is one worker under the same strategy: a run without a strategy differs from
    the first step (by about the learning rate on embedding rows; Keras' Adam updates the
    embedding from its sparse gradient there, from the all-reduced dense one under a strategy)."""
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    runs, exports = tmp_path / "runs", tmp_path / "saved_models"
    argv = ["train", "sentiment", "--runs", str(runs), *SETTINGS, "--distribute", "multi_worker",
            "--export", str(exports)]
    workers = [start(argv, environment(TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})))
               for index in range(2)]
    outputs = [finish(worker) for worker in workers]
    # The reference: one worker under the same strategy (TF_CONFIG of a one-worker cluster).
    single_runs = tmp_path / "single"
    alone_config = {"cluster": {"worker": [f"127.0.0.1:{free_ports(1)[0]}"]}, "task": {"type": "worker", "index": 0}}
    finish(start(["train", "sentiment", "--runs", str(single_runs), *SETTINGS, "--distribute", "multi_worker"],
                 environment(TF_CONFIG=json.dumps(alone_config))))

    assert "distribute: multi_worker, 2 workers, 2 replicas in sync; global batch 16, per-replica batch 8" in outputs[0]
    chief = runs / "sentiment"
    for name in ("model.keras", "metrics.json", "recipe.json", "vectorizer.json", "history.csv"):
        assert (chief / name).exists(), name
    assert (exports / "sentiment" / "1" / "saved_model.pb").exists()
    assert "worker done" in outputs[1] and not any((runs / ".workers").iterdir())
    assert json.loads((chief / "metrics.json").read_text())["epochs"] == 2
    distributed, alone = last_training_loss(chief), last_training_loss(single_runs / "sentiment")
    assert alone < 0.6  # it learned (0.69 is chance), so the comparison below says something
    print(f"final training loss: 2 workers {distributed:.6f}, 1 worker {alone:.6f}")
    assert abs(distributed - alone) <= 0.05 * alone, (distributed, alone)


@distributed
def test_a_killed_cluster_resumes_from_the_last_backup(tmp_path):
    """Two workers; after the first epoch's backup, worker 1 is killed (SIGKILL) mid-epoch and so,
    as a multi-worker cluster restarts as a whole, is the chief; restarted with the same command,
    both resume from the epoch-1 backup (no "Epoch 1/3" again) and the run completes."""
    import signal
    import time

    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    runs = tmp_path / "runs"
    settings = [*SETTINGS, "--set", "epochs=3", "--set", "batch_size=4"]  # 48 steps an epoch
    argv = ["train", "sentiment", "--runs", str(runs), *settings, "--distribute", "multi_worker"]
    environments = [environment(TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
                    for index in range(2)]
    workers = [start(argv, env) for env in environments]
    history = runs / "sentiment" / "history.csv"
    deadline = time.time() + 240
    while time.time() < deadline and not (history.exists() and len(history.read_text().splitlines()) >= 2):
        assert all(worker.poll() is None for worker in workers), "a worker stopped before the first epoch ended"
        time.sleep(0.05)
    assert history.exists(), "no epoch finished within 240 s"
    workers[1].send_signal(signal.SIGKILL)
    workers[0].send_signal(signal.SIGKILL)
    for worker in workers:
        worker.communicate(timeout=60)
    finished_before = len(history.read_text().splitlines()) - 1
    assert finished_before < 3 and not (runs / "sentiment" / "metrics.json").exists()

    restarted = [start(argv, env) for env in environments]
    outputs = [finish(worker) for worker in restarted]
    assert "Epoch 1/3" not in outputs[0] and f"Epoch {finished_before + 1}/3" in outputs[0]
    metrics = json.loads((runs / "sentiment" / "metrics.json").read_text())
    assert metrics["epochs"] == 3
    assert [row.split(",")[0] for row in history.read_text().splitlines()[1:]] == ["0", "1", "2"]
