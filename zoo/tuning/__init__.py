"""Hyperparameter search over the recipes with keras-tuner (`zoo tune <task>`).

Imports keras-tuner (and so TensorFlow) on first use of its names.
"""
from __future__ import annotations

__all__ = ["tune", "hypermodel_for", "prepare", "HYPERMODELS", "TASK_SPACES", "TUNERS"]


def __getattr__(name):
    if name in ("tune", "TUNERS", "make_tuner"):
        from zoo.tuning import search

        return getattr(search, name)
    if name in ("hypermodel_for", "HYPERMODELS", "ZooHyperModel", "settings_from_values"):
        from zoo.tuning import hypermodels

        return getattr(hypermodels, name)
    if name in ("prepare", "TASK_SPACES", "TASKS"):
        from zoo.tuning import tasks

        return getattr(tasks, name)
    raise AttributeError(f"module 'zoo.tuning' has no attribute {name!r}")
