"""Corpora, fixed splits, vectorizers and batching.

`zoo.data.load(name)` returns a `TaskData` (see `zoo.data.registry` for the names). The corpus
modules are pure Python; the TensorFlow-only parts (`vectorize`, `batching`, `tfds_datasets`) are
imported on their own.
"""
from zoo.data.registry import REGISTRY, load, names
from zoo.data.task_data import TASKS, TaskData

__all__ = ["REGISTRY", "TASKS", "TaskData", "load", "names"]
