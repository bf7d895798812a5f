"""Dev-split scores of finished runs, to check a tuned recipe against the untuned one.

`python -m zoo.tuning.compare runs/sentiment runs/sentiment-2` prints each run's dev metrics.
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


def evaluate_on_dev(run_dir) -> dict:
    """Loads a run folder's model (safe mode) and evaluates it on its dataset's dev split."""
    import keras

    import zoo.data
    import zoo.layers  # noqa: F401  (registers the zoo's layers before loading)
    from recipes.artifacts import load_vectorizer
    from zoo.training import TrainingConfig

    run_dir = Path(run_dir)
    recipe = json.loads((run_dir / "recipe.json").read_text())
    module = importlib.import_module(f"recipes.{recipe['task']}")
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    training = TrainingConfig.from_dict(recipe["training"])
    dev = module.make_batches(zoo.data.load(recipe["dataset"]), load_vectorizer(run_dir), training)["dev"]
    return {name: float(value) for name, value in model.evaluate(dev, return_dict=True, verbose=0).items()}


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        recipe = json.loads((Path(folder) / "recipe.json").read_text())
        metrics = evaluate_on_dev(folder)
        test = json.loads((Path(folder) / "metrics.json").read_text())["test"]
        print(json.dumps({"run": folder, "tuned": recipe.get("tuned"), "dev": metrics, "test": test}))
