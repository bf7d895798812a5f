"""Corpora, fixed splits, vectorizers and batching.

`zoo.data.load(name)` returns a `TaskData` (see `zoo.data.registry` for the names). The corpus
modules are pure Python; the TensorFlow-only parts (`vectorize`, `batching`, `tfds_datasets`) are
imported on their own.
"""
from zoo.data import tfds_datasets
from zoo.data.fetch import ChecksumError, ClientNotFoundError, FetchError, data_dir
from zoo.data.glove import load_glove_6b_50d
from zoo.data.registry import REGISTRY, load, names
from zoo.data.task_data import TASKS, TaskData

# The tensorflow-datasets names (for users who are online): "tfds:<name>", and the bare name
# where no registry corpus has it. tensorflow_datasets itself is imported on first use only.
tfds_datasets.register_tfds_datasets(REGISTRY)

__all__ = [
    "REGISTRY", "TASKS", "ChecksumError", "ClientNotFoundError", "FetchError", "TaskData", "data_dir",
    "load", "load_glove_6b_50d", "names",
]
