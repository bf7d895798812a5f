"""Hyperparameter search around the recipes with keras-tuner (`zoo tune <recipe>`).

The data of a search is prepared by the recipe's task (`zoo.tasks.Task.prepare`), as for
`zoo train`. Imports keras-tuner (and so TensorFlow) on first use of its names.
"""
from __future__ import annotations

__all__ = ["tune", "hypermodel_for", "HYPERMODELS", "TUNERS"]


def __getattr__(name):
    if name in ("tune", "TUNERS", "make_tuner", "recipe_lines"):
        from zoo.tuning import search

        return getattr(search, name)
    if name in ("hypermodel_for", "HYPERMODELS", "ZooHyperModel", "settings_from_values"):
        from zoo.tuning import hypermodels

        return getattr(hypermodels, name)
    raise AttributeError(f"module 'zoo.tuning' has no attribute {name!r}")
