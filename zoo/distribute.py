"""Training on several devices or machines with TensorFlow's own distribution strategies
(TensorFlow only): `zoo train TASK --distribute {none,mirrored,multi_worker}`.

- "mirrored": `tf.distribute.MirroredStrategy` over this machine's devices (every GPU, else the
  CPU): one replica per device, gradients summed across them at every step.
- "multi_worker": `tf.distribute.MultiWorkerMirroredStrategy` across the machines that
  `TF_CONFIG` lists (`{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker",
  "index": i}}`), each machine running the same `zoo train` command.

What stays as on one device: the model is built and compiled under the strategy's scope; the
global batch is the recipe's `batch_size` (each replica computes `batch_size / replicas` of it);
the tf.data pipeline (bucketing included) is the same on every worker and sharded by data
(`AutoShardPolicy.DATA`: each worker computes its share of every global batch). Keras'
multi-worker conventions for files: the chief (worker 0 when the cluster names no "chief") writes
the run folder, metrics and export; every other worker writes the same files into a folder of its
own (`runs/.workers/<run>-<type>-<index>/`, kept between restarts so that its backup can resume,
removed when its run finishes). On a restart, a worker that can see the chief's run folder (a
shared filesystem) resumes from the chief's backup, so that the whole cluster resumes at one epoch.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

DISTRIBUTIONS = ("none", "mirrored", "multi_worker")
WORKERS_FOLDER = ".workers"


def check_distribute(distribute: str) -> str:
    if distribute not in DISTRIBUTIONS:
        raise ValueError(f"distribute must be one of {DISTRIBUTIONS}, got {distribute!r}")
    return distribute


def cluster_task() -> tuple[str, int, int]:
    """`(task type, task index, number of workers)` from `TF_CONFIG`, checked."""
    kind, index, workers, _ = _cluster()
    return kind, index, workers


def _cluster() -> tuple[str, int, int, dict]:
    """`cluster_task()` and the cluster itself."""
    raw = os.environ.get("TF_CONFIG", "")
    if not raw.strip():
        raise ValueError("--distribute multi_worker needs TF_CONFIG: set it on every machine, e.g. "
                         'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                         '"task": {"type": "worker", "index": 0}}\'')
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error.msg} at character {error.pos})") from None
    cluster, task = (config.get("cluster"), config.get("task")) if isinstance(config, dict) else (None, None)
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ValueError('TF_CONFIG needs a "cluster" object and a "task" object')
    kind, index = task.get("type"), task.get("index")
    members = cluster.get(kind)
    if not isinstance(members, list) or isinstance(index, bool) or not isinstance(index, int) \
            or not 0 <= index < len(members):
        raise ValueError(f"TF_CONFIG's task {task} is not in its cluster {sorted(cluster)}")
    workers = sum(len(cluster.get(name) or []) for name in ("chief", "worker"))
    return kind, index, workers, cluster


def make_strategy(distribute: str):
    """The `tf.distribute` strategy for `distribute` ("none": None). Create it first: TensorFlow
    refuses a multi-worker strategy once other ops have run."""
    check_distribute(distribute)
    if distribute == "none":
        return None
    import tensorflow as tf

    if distribute == "mirrored":
        return tf.distribute.MirroredStrategy()
    cluster_task()  # a clear error before TensorFlow's own
    return reduces_nests(tf.distribute.MultiWorkerMirroredStrategy())


def reduces_nests(strategy):
    """`strategy` whose `reduce` takes what Keras 3's `fit` gives it (TensorFlow issue 72388:
    Keras 3 and the multi-worker strategy fail together without this):

    - a nest of values: Keras reduces the first (x, y, weights) batch to learn its shapes, and
      `Strategy.reduce` takes one value only ("TODO: support `value` being a nest");
    - scalars with `axis=0`: Keras reduces every logged metric along axis 0, which a scalar lacks;
      a scalar is reduced across replicas only (`axis=None`), what its mean means.

    This instance's own method is wrapped; the strategy class is untouched.
    """
    import tensorflow as tf

    reduce_one = strategy.reduce

    def rank(part):
        local = strategy.experimental_local_results(part)[0] if isinstance(part, tf.distribute.DistributedValues) else part
        return len(getattr(local, "shape", ()))

    def reduce(reduce_op, value, axis=None):
        def reduce_part(part):
            return reduce_one(reduce_op, part, axis=None if axis is not None and rank(part) == 0 else axis)

        return tf.nest.map_structure(reduce_part, value)

    strategy.reduce = reduce
    return strategy


def is_chief(distribute: str) -> bool:
    """Whether this process writes the real run folder (and exports): always, unless
    "multi_worker" names it another worker than the chief in `TF_CONFIG`."""
    if check_distribute(distribute) != "multi_worker":
        return True
    kind, index, _, cluster = _cluster()
    return kind == "chief" or ("chief" not in cluster and kind == "worker" and index == 0)


def worker_run_dir(runs, name: str) -> Path:
    """The folder a non-chief worker writes its copy of the run into (stable across restarts)."""
    kind, index, _ = cluster_task()
    folder = Path(runs) / WORKERS_FOLDER / f"{name}-{kind}-{index}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def adopt_chief_backup(chief_run_dir: Path, worker_dir: Path) -> bool:
    """Where the chief's run folder is reachable (a shared filesystem), a restarting worker
    resumes from the chief's backup, not its own: a cluster killed between the chief's and a
    worker's end-of-epoch backups would otherwise resume at different epochs, and its collective
    steps would no longer pair up. Returns whether the chief's backup was taken."""
    chief_backup, own_backup = Path(chief_run_dir) / "backup", Path(worker_dir) / "backup"
    if not chief_backup.is_dir() or not any(chief_backup.iterdir()):
        return False
    shutil.rmtree(own_backup, ignore_errors=True)
    shutil.copytree(chief_backup, own_backup)
    return True


def remove_worker_run_dir(run_dir: Path) -> None:
    """A finished non-chief worker's folder goes (the chief's run folder holds the run)."""
    shutil.rmtree(run_dir, ignore_errors=True)


def describe(distribute: str, strategy, batch_size: int) -> str:
    """One line: what runs where, and the per-replica batch."""
    if strategy is None:
        return "distribute: none (one device)"
    replicas, kind = strategy.num_replicas_in_sync, distribute
    if batch_size % replicas:
        share = f"per-replica batch {batch_size // replicas}-{batch_size // replicas + 1}"
    else:
        share = f"per-replica batch {batch_size // replicas}"
    where = f"{cluster_task()[2]} workers, " if kind == "multi_worker" else ""
    return f"distribute: {kind}, {where}{replicas} replicas in sync; global batch {batch_size}, {share}"


def shard_by_data(dataset):
    """`dataset` with data sharding (each worker its share of every batch): the zoo's pipelines
    are built in memory, with no files to shard by."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


__all__ = ["DISTRIBUTIONS", "cluster_task", "describe", "is_chief", "make_strategy", "shard_by_data",
           "worker_run_dir"]
