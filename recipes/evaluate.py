"""Re-evaluates a saved run folder on its test split (`zoo evaluate <run>`)."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import keras


def evaluate_run(run_dir: str | Path, split: str = "test") -> dict:
    """Loads the run's model (safe mode), rebuilds its batches of `split` ("test" or "dev"), and
    returns the model's metrics on them."""
    run_dir = Path(run_dir)
    missing = [name for name in ("recipe.json", "model.keras", "vectorizer.json") if not (run_dir / name).exists()]
    if missing:
        raise FileNotFoundError(f"{run_dir} is not a finished run folder: missing {', '.join(missing)}")
    recipe = json.loads((run_dir / "recipe.json").read_text())
    module = importlib.import_module(f"recipes.{recipe['task']}")
    from recipes.artifacts import load_vectorizer
    from zoo.training import TrainingConfig

    import zoo  # noqa: F401
    import zoo.layers  # noqa: F401  (registers the zoo's layers before loading)

    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    vectorizer = load_vectorizer(run_dir)
    training = TrainingConfig.from_dict(recipe["training"])
    import zoo.data

    batches = module.make_batches(zoo.data.load(recipe["dataset"]), vectorizer, training)
    if split not in batches:
        raise ValueError(f"split must be one of {sorted(batches)}, got {split!r}")
    return {name: float(value) for name, value in model.evaluate(batches[split], return_dict=True, verbose=0).items()}
