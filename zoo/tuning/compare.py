"""Checks a tuned recipe against the untuned one on the dev split, and records the check.

The tuned settings must not score below the recipe's defaults on dev. The check retrains both
with the full recipe (`zoo train <task>` and `zoo train <task> --untuned`, the same seeds), then

    python -m zoo.tuning.compare --record recipes/pos.tuned.json \\
        --tuned runs/tuned/pos runs/tuned/pos-2 --default runs/default/pos runs/default/pos-2

re-evaluates every run on dev, and writes the scores (and the runs' test scores) into the tuned
file's `record.dev_check`. Without `--record` it prints each run's dev and test metrics.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

from zoo.training import write_json


def evaluate_on_dev(run_dir) -> dict:
    """A finished run's metrics on its dataset's dev split (bits per character for the LM)."""
    from recipes.evaluate import evaluate_run

    metrics = evaluate_run(run_dir, split="dev")
    recipe = json.loads((Path(run_dir) / "recipe.json").read_text())
    if recipe["task"] == "char_lm":
        metrics["bits_per_character"] = metrics["loss"] / math.log(2)
    return metrics


def _score_name(task: str) -> tuple[str, bool]:
    """The metric the check compares, and whether higher is better."""
    return ("bits_per_character", False) if task == "char_lm" else ("accuracy", True)


def dev_check(record_file, tuned_runs, default_runs, how: str = "") -> dict:
    """Evaluates the runs on dev, writes `record.dev_check` into `record_file`, returns it.

    When the tuned runs score below the default ones, the file's settings are moved to
    `record.search_best_settings` and emptied: the tuned recipe is then the recipe itself.

    Raises ValueError when a run is of another task, or was trained with (or without) the tuned
    settings contrary to its side.
    """
    record_file = Path(record_file)
    tuned_file = json.loads(record_file.read_text())
    tasks, sides = set(), {}
    for side, runs in (("tuned", tuned_runs), ("default", default_runs)):
        if not runs:
            raise ValueError(f"no {side} runs given")
        sides[side] = []
        for run in runs:
            recipe = json.loads((Path(run) / "recipe.json").read_text())
            tasks.add(recipe["task"])
            if bool(recipe.get("tuned")) != (side == "tuned"):
                raise ValueError(f"{run} was trained {'with' if recipe.get('tuned') else 'without'} "
                                 f"tuned settings, but is given as a {side} run")
            test = json.loads((Path(run) / "metrics.json").read_text())["test"]
            seed = json.loads((Path(run) / "config.json").read_text()).get("seed")
            sides[side].append((evaluate_on_dev(run), test, seed))
    if len(tasks) != 1:
        raise ValueError(f"the runs are of several tasks: {sorted(tasks)}")
    task = tasks.pop()
    score, higher_is_better = _score_name(task)
    check = {"metric": score, "higher_is_better": higher_is_better}
    for side, results in sides.items():
        check[f"dev_{side}"] = [round(dev[score], 4) for dev, _, _ in results]
        check[f"test_{side}"] = [round(test[score], 4) for _, test, _ in results]
        check[f"dev_mean_{side}"] = round(statistics.mean(check[f"dev_{side}"]), 4)
        check[f"seeds_{side}"] = [seed for _, _, seed in results]
    difference = check["dev_mean_tuned"] - check["dev_mean_default"]
    check["tuned_not_below_default"] = difference >= 0 if higher_is_better else difference <= 0
    check["runs"] = {"tuned": [str(run) for run in tuned_runs], "default": [str(run) for run in default_runs]}
    if how:
        check["how"] = how
    record = tuned_file.setdefault("record", {})
    if not check["tuned_not_below_default"] and tuned_file.get("settings"):
        # A tuned recipe must not score below the untuned one on dev: the search's best stays on
        # record, and the file applies nothing, so `zoo train` runs the recipe as it is.
        record["search_best_settings"] = tuned_file["settings"]
        tuned_file["settings"] = {}
        check["action"] = ("the search's best scored below the recipe on dev when retrained: settings "
                           "emptied (zoo train runs the recipe); the search's best is in record.search_best_settings")
    record["dev_check"] = check
    write_json(record_file, tuned_file)
    return check


def same_as_default(record_file) -> dict | None:
    """When the tuned settings give exactly the recipe's configuration (the search's best trial was
    the recipe itself), records that in `record.dev_check` and returns it: the tuned and untuned
    recipes then train the same model, so their dev scores are equal without a retraining. Returns
    None (and writes nothing) when the settings change anything."""
    import importlib

    from recipes._runner import apply_settings

    record_file = Path(record_file)
    task = record_file.name.removesuffix(".tuned.json")
    module = importlib.import_module(f"recipes.{task}")
    tuned_file = json.loads(record_file.read_text())
    assignments = [f"{key}={value}" for key, value in tuned_file.get("settings", {}).items()]
    model_config, training = apply_settings(module.MODEL, module.TRAINING, assignments)
    if (model_config, training) != (module.MODEL, module.TRAINING):
        return None
    check = {"same_configuration_as_default": True,
             "how": "the tuned settings applied to the recipe give its own configuration (model and "
                    "training): `zoo train` and `zoo train --untuned` train the same model"}
    tuned_file.setdefault("record", {})["dev_check"] = check
    write_json(record_file, tuned_file)
    return check


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", help="run folders to print dev and test metrics of")
    parser.add_argument("--record", help="tuned settings file to write record.dev_check into")
    parser.add_argument("--tuned", nargs="+", default=[], help="runs trained with the tuned settings")
    parser.add_argument("--default", nargs="+", default=[], help="runs trained with --untuned")
    parser.add_argument("--how", default="", help="how the runs were made (machine, seeds), for the record")
    parser.add_argument("--same-as-default", action="store_true",
                        help="with --record: record that the tuned settings are the recipe's own (no runs needed)")
    args = parser.parse_args(argv)
    if args.record and args.same_as_default:
        check = same_as_default(args.record)
        if check is None:
            parser.error(f"{args.record}: the tuned settings differ from the recipe; compare retrained runs "
                         "with --tuned and --default")
        print(json.dumps(check, indent=2))
        return
    if args.record:
        print(json.dumps(dev_check(args.record, args.tuned, args.default, args.how), indent=2))
        return
    for folder in args.runs:
        recipe = json.loads((Path(folder) / "recipe.json").read_text())
        test = json.loads((Path(folder) / "metrics.json").read_text())["test"]
        print(json.dumps({"run": folder, "tuned": recipe.get("tuned"), "dev": evaluate_on_dev(folder), "test": test}))


if __name__ == "__main__":
    sys.exit(main())
