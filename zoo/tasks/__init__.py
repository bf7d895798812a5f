"""Tasks: what train, tune, evaluate and export share for each task (data, vectorizer, factory, metrics).

A `Task` (one module per task) loads its data, builds the vectorizer and the GloVe matrix, picks
the factory, makes the batches and computes its metrics; `Task.prepare` does the data half once
for a run or a whole search. A recipe (`recipes/<task>.py`) holds only numbers; `read_recipe`
reads it as configuration (parsed, never executed) and `train` trains it into a run folder.

Example:
    >>> import zoo.tasks
    >>> recipe = zoo.tasks.load_recipe("sentiment")        # ./recipes/ or the zoo's own recipes/
    >>> metrics, run_dir = zoo.tasks.train(recipe, overrides=["epochs=1"])
    >>> zoo.tasks.evaluate_run(run_dir, split="dev")
"""
from zoo.tasks.base import Prepared, Task
from zoo.tasks.char_lm import CharLMSettings, CharLMTask
from zoo.tasks.compress import CompressTask, DecodingSettings
from zoo.tasks.pos import POSTask
from zoo.tasks.recipe import (Recipe, RecipeError, apply_settings, find_recipe, load_recipe, read_recipe,
                              recipe_folders, shipped_recipes_dir)
from zoo.tasks.registry import TASKS, get
from zoo.tasks.run import evaluate_run, save_config, save_vectorizer, show_training_path, train
from zoo.tasks.sentiment import SentimentTask
from zoo.tasks.snli import SNLITask

__all__ = [
    "TASKS", "CharLMSettings", "CharLMTask", "CompressTask", "DecodingSettings", "POSTask", "Prepared", "Recipe", "RecipeError", "SNLITask",
    "SentimentTask", "Task", "apply_settings", "evaluate_run", "find_recipe", "get", "load_recipe",
    "read_recipe", "recipe_folders", "save_config", "save_vectorizer", "shipped_recipes_dir",
    "show_training_path", "train",
]
