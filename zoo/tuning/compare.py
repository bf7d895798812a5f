"""Checks a search's best settings against the recipe on the dev split, and records the check.

A search's best settings go into a recipe only if they do not score below the recipe on dev when
retrained in full. The check trains both with the same seeds (`zoo train <recipe> --set seed=N`,
and the same with the record's settings as `--set` overrides, as `zoo tune` prints them), then

    python -m zoo.tuning.compare --record tuning/pos/pos.tuned.json \\
        --tuned runs/tuned/pos runs/tuned/pos-2 --default runs/default/pos runs/default/pos-2

re-evaluates every run on dev (through its task, `zoo.tasks.evaluate_run`), and writes the
scores (and the runs' test scores) into the record's `record.dev_check`. A run counts as tuned
when its configuration (`config.json`, `recipe.json`) carries every one of the record's settings.
Without `--record` it prints each run's dev and test metrics.
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
    from zoo.tasks import evaluate_run

    return evaluate_run(run_dir, split="dev")


def _score_name(task: str) -> tuple[str, bool]:
    """The metric the check compares, and whether higher is better (the task's `score`)."""
    from zoo.tasks import get

    return get(task).score


def _run_value(run, key: str):
    """A run's value of a `--set` key: from its model config, else its training settings or task settings."""
    run = Path(run)
    recipe = json.loads((run / "recipe.json").read_text())
    sources = [json.loads((run / "config.json").read_text()), recipe.get("training") or {},
               recipe.get("settings") or {}]
    for values in sources:
        for part in key.split("."):
            values = values.get(part) if isinstance(values, dict) else None
        if values is not None:
            return values
    return None


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _carries(run, settings: dict) -> tuple[bool, str]:
    """Whether the run was trained with every setting; else the first that differs, in words."""
    for key, value in settings.items():
        if not _same(_run_value(run, key), value):
            return False, f"{key} is {_run_value(run, key)!r}, the record has {value!r}"
    return True, ""


def dev_check(record_file, tuned_runs, default_runs, how: str = "") -> dict:
    """Evaluates the runs on dev, writes `record.dev_check` into `record_file`, returns it.

    When the tuned runs score below the default ones, the file's settings are moved to
    `record.search_best_settings` and emptied: the tuned recipe is then the recipe itself.

    Raises ValueError when a run is of another task, when a tuned run lacks one of the settings,
    or when a default run carries them all.
    """
    record_file = Path(record_file)
    tuned_file = json.loads(record_file.read_text())
    settings = tuned_file.get("settings") or tuned_file.get("record", {}).get("search_best_settings") or {}
    tasks, sides = set(), {}
    for side, runs in (("tuned", tuned_runs), ("default", default_runs)):
        if not runs:
            raise ValueError(f"no {side} runs given")
        sides[side] = []
        for run in runs:
            recipe = json.loads((Path(run) / "recipe.json").read_text())
            tasks.add(recipe["task"])
            carries, difference = _carries(run, settings)
            if side == "tuned" and not carries:
                raise ValueError(f"{run} was trained without the tuned settings ({difference}), "
                                 "but is given as a tuned run")
            if side == "default" and settings and carries:
                raise ValueError(f"{run} was trained with all the tuned settings, but is given as a default run")
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
        # Settings that score below the recipe on dev do not go into it: the search's best stays
        # on record, and the file's settings are emptied to say so.
        record["search_best_settings"] = tuned_file["settings"]
        tuned_file["settings"] = {}
        check["action"] = ("the search's best scored below the recipe on dev when retrained: settings "
                           "emptied (keep the recipe); the search's best is in record.search_best_settings")
    record["dev_check"] = check
    write_json(record_file, tuned_file)
    return check


def same_as_default(record_file, recipe=None) -> dict | None:
    """When the tuned settings give exactly the recipe's configuration (the search's best trial was
    the recipe itself), records that in `record.dev_check` and returns it: the recipe with and
    without them trains the same model, so their dev scores are equal without a retraining. Returns
    None (and writes nothing) when the settings change anything.

    Args:
        record_file: the search's record (`<name>.tuned.json`).
        recipe: the recipe (name or file); default: the record's `recipe`, else its `task`, else
            the file's name without `.tuned.json`.
    """
    from zoo.tasks import apply_settings, load_recipe

    record_file = Path(record_file)
    tuned_file = json.loads(record_file.read_text())
    record = tuned_file.get("record", {})
    if recipe is None:
        recipe = record.get("recipe") if record.get("recipe") and Path(record["recipe"]).is_file() else \
            record.get("task") or record_file.name.removesuffix(".tuned.json")
    recipe = load_recipe(recipe)
    assignments = [f"{key}={value}" for key, value in tuned_file.get("settings", {}).items()]
    changed = apply_settings(recipe.model, recipe.training, assignments, recipe.settings)
    if changed != (recipe.model, recipe.training, recipe.settings):
        return None
    check = {"same_configuration_as_default": True,
             "how": f"the tuned settings applied to {recipe.path} give its own configuration (model and "
                    "training): the recipe trains the same model with or without them"}
    tuned_file.setdefault("record", {})["dev_check"] = check
    write_json(record_file, tuned_file)
    return check


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", help="run folders to print dev and test metrics of")
    parser.add_argument("--record", help="tuned settings file to write record.dev_check into")
    parser.add_argument("--tuned", nargs="+", default=[], help="runs trained with the tuned settings")
    parser.add_argument("--default", nargs="+", default=[], help="runs trained with the recipe as it is")
    parser.add_argument("--how", default="", help="how the runs were made (machine, seeds), for the record")
    parser.add_argument("--same-as-default", action="store_true",
                        help="with --record: record that the tuned settings are the recipe's own (no runs needed)")
    parser.add_argument("--recipe", default=None,
                        help="with --same-as-default: the recipe (name or file; default: the record's)")
    args = parser.parse_args(argv)
    if args.record and args.same_as_default:
        check = same_as_default(args.record, args.recipe)
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
        print(json.dumps({"run": folder, "recipe": recipe.get("recipe_file"), "overrides": recipe.get("overrides"),
                          "dev": evaluate_on_dev(folder), "test": test}))


if __name__ == "__main__":
    sys.exit(main())
