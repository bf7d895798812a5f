"""What every recipe shares: the command line, the run folder, and the artefacts around training.

A recipe module defines `MODEL` (a model config), `TRAINING` (a `TrainingConfig`), `DATASET`
(a dataset name) and `run(model_config, training, dataset, run_dir) -> metrics`; `main` parses the
command line, applies `--set` overrides and calls `run`.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path

from zoo.models.config import with_overrides
from zoo.training import TrainingConfig, choose_run_dir, write_json


def apply_settings(model_config, training: TrainingConfig, assignments: list[str]):
    """Routes each `key=value` to the training settings or the model config, whichever has it."""
    training_fields = {field.name for field in dataclasses.fields(TrainingConfig)}
    training_sets = [a for a in assignments if a.split("=", 1)[0].split(".")[0] in training_fields]
    model_sets = [a for a in assignments if a not in training_sets]
    return with_overrides(model_config, model_sets), with_overrides(training, training_sets)


def parser_for(task: str, description: str, default_dataset: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"zoo train {task}", description=description)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a hyperparameter, e.g. --set encoder.units=300 --set batch_size=64")
    parser.add_argument("--dataset", default=default_dataset,
                        help=f"dataset name (default {default_dataset}; tensorflow-datasets names work online)")
    parser.add_argument("--runs", default="runs", help="folder of run folders (default ./runs)")
    parser.add_argument("--untuned", action="store_true", help="ignore tuned.json, use the recipe's defaults")
    parser.add_argument("--export", nargs="?", const="saved_models", default=None, metavar="ROOT",
                        help="after training, export a SavedModel serving raw text under ROOT "
                             "(default ./saved_models/<run name>/<next version>/)")
    return parser


def load_tuned(recipe_file: str, model_config, training: TrainingConfig):
    """Applies `recipes/<task>.tuned.json` (written by `zoo tune`) when it exists."""
    path = Path(recipe_file).with_suffix(".tuned.json")
    if not path.exists():
        return model_config, training, None
    tuned = json.loads(path.read_text())
    assignments = [f"{key}={value}" for key, value in tuned.get("settings", {}).items()]
    if not assignments:  # the search found nothing better than the recipe (its record says why)
        print(f"   {path} holds no settings: the recipe runs as it is (see the file's record)")
        return model_config, training, None
    model_config, training = apply_settings(model_config, training, assignments)
    return model_config, training, str(path)


class _PrintHandler(logging.Handler):
    """Prints log records to the current `sys.stdout` (looked up at each record, not kept)."""

    def emit(self, record):
        print(self.format(record))


def show_training_path() -> None:
    """Prints the recurrent path and XLA choice that `TrainingConfig.compile` logs, e.g.
    `training path: encoder: fused FusedLSTM(LSTMCell) (no cuDNN, no GPU); XLA off [...]`."""
    logger = logging.getLogger("zoo.training")
    if not any(isinstance(handler, _PrintHandler) for handler in logger.handlers):
        handler = _PrintHandler()
        handler.setFormatter(logging.Formatter("   %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def print_settings(task: str, model_config, training: TrainingConfig, dataset: str, run_dir: Path, tuned) -> None:
    print(f"== zoo recipe: {task} on {dataset} -> {run_dir}")
    if tuned:
        print(f"   tuned settings from {tuned}")
    print("   model:    " + model_config.to_json(indent=None))
    print("   training: " + training.to_json(indent=None))


def main(module, argv: list[str] | None = None) -> dict:
    task = Path(module.__file__).stem
    parser = parser_for(task, (module.__doc__ or "").strip().splitlines()[0], module.DATASET)
    args = parser.parse_args(argv)
    model_config, training, tuned = module.MODEL, module.TRAINING, None
    if not args.untuned:
        model_config, training, tuned = load_tuned(module.__file__, model_config, training)
    try:
        model_config, training = apply_settings(model_config, training, args.set)
    except ValueError as error:
        parser.error(str(error))
    run_dir = choose_run_dir(args.runs, task)
    print_settings(task, model_config, training, args.dataset, run_dir, tuned)
    show_training_path()
    write_json(run_dir / "recipe.json", {"task": task, "dataset": args.dataset, "tuned": tuned,
                                         "training": json.loads(training.to_json())})
    metrics = module.run(model_config, training, args.dataset, run_dir)
    print(f"== test: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics["test"].items()))
    print(f"== saved in {run_dir}")
    if args.export:
        from zoo.export.saved_model import export_run

        print(f"== exported to {export_run(run_dir, root=args.export)}")
    return metrics
