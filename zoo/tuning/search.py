"""`zoo tune <recipe>`: a keras-tuner search around a recipe, resumable, budgeted, distributable.

- The recipe is read like `zoo train` reads it (`zoo.tasks.load_recipe`: a name or a file), and its
  task prepares the data once for the whole search (`Task.prepare`).
- The search lives in `./tuning/<recipe>/<task>-<tuner>/` under the working directory (or under
  `directory`), never in the package or in `recipes/`. Rerun with the same folder, it reloads the
  oracle (`overwrite=False`): finished trials are kept, not rerun, and a trial that was running
  when the process died is run again from its start.
- `budget_minutes`: the oracle hands out no new trial after that many minutes (counted from this
  start of the command; the running trials finish).
- Distributed: keras-tuner's own mechanism. With `KERASTUNER_ORACLE_IP`/`KERASTUNER_ORACLE_PORT`
  set, the process whose `KERASTUNER_TUNER_ID` contains "chief" runs the oracle (and applies
  `max_trials` and the budget), the others run trials; all must see the same `directory`.
- At the end (on the chief, or alone) it prints a table of the trials, writes the best settings
  with a record of the search to `./tuning/<recipe>/<recipe>.tuned.json` (or `output`), and prints
  the lines of the recipe that would change. Nothing applies them: a recipe runs what its file
  says, so a better setting goes into the recipe by hand, with a comment naming the record.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import time
from pathlib import Path

import keras_tuner as kt
from keras_tuner.src.distribute import utils as dist_utils
from keras_tuner.src.engine import trial as trial_module

from zoo.tuning.hypermodels import hypermodel_for, settings_from_values

TUNERS = ("hyperband", "bayesian", "random")
TRIAL_RECORD = "zoo_trial.json"
HYPERBAND_ITERATIONS = 1000  # in effect unbounded: --max-trials and --budget-minutes stop a search


class _BudgetOracle:
    """Oracle mixin: the recipe's own values first; no new trial once `deadline` (time.time()) has
    passed or `trial_cap` trials exist."""

    deadline: float | None = None
    trial_cap: int | None = None

    @kt.synchronized
    def create_trial(self, tuner_id):
        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        over_time = self.deadline is not None and time.time() >= self.deadline
        over_count = self.trial_cap is not None and len(self.trials) >= self.trial_cap and not self._retry_queue
        if over_time or over_count:
            self.tuner_ids.discard(tuner_id)
            hyperparameters = self.hyperparameters.copy()
            hyperparameters.values = {}
            return trial_module.Trial(hyperparameters, trial_id=str(len(self.trials)),
                                      status=trial_module.TrialStatus.STOPPED)
        return super().create_trial(tuner_id)

    def _random_values(self):
        # The first candidate of a fresh search is the recipe itself (every hyperparameter's
        # default is the recipe's value), so the search always measures the untuned baseline.
        if not self.trials and not getattr(self, "_defaults_given", False):
            self._defaults_given = True
            hps = kt.HyperParameters()
            for hp in self.hyperparameters.space:
                hps.merge([hp])
                if hps.is_active(hp):
                    hps.values[hp.name] = hp.default
            return hps.values
        return super()._random_values()


class BudgetRandomOracle(_BudgetOracle, kt.oracles.RandomSearchOracle):
    pass


class BudgetBayesianOracle(_BudgetOracle, kt.oracles.BayesianOptimizationOracle):
    pass


class BudgetHyperbandOracle(_BudgetOracle, kt.oracles.HyperbandOracle):
    def set_state(self, state):
        # A reloaded search keeps this run's iteration bound, not the saved one, so that a search
        # saved with keras-tuner's single iteration goes on when resumed.
        iterations = self.hyperband_iterations
        super().set_state(state)
        self.hyperband_iterations = iterations


class _RecordingTuner:
    """Tuner mixin: writes `zoo_trial.json` (tuner id, seconds, status) into each trial's folder."""

    def on_trial_begin(self, trial):
        self._trial_started = time.time()
        super().on_trial_begin(trial)

    def on_trial_end(self, trial):
        record = {
            "trial_id": trial.trial_id,
            "tuner_id": self.tuner_id,
            "status": str(trial.status),
            "seconds": round(time.time() - getattr(self, "_trial_started", time.time()), 1),
            "pid": os.getpid(),
        }
        path = Path(self.get_trial_dir(trial.trial_id)) / TRIAL_RECORD
        path.write_text(json.dumps(record, indent=2) + "\n")
        super().on_trial_end(trial)


def _tuner_class(base):
    # The tuner's own __init__ only makes its oracle; skip it and hand the budgeted oracle to kt.Tuner.
    class Tuner(_RecordingTuner, base):
        def __init__(self, hypermodel, oracle, **kwargs):
            kt.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)

    Tuner.__name__ = f"Zoo{base.__name__}"
    return Tuner


ZooRandomSearch = _tuner_class(kt.RandomSearch)
ZooBayesianOptimization = _tuner_class(kt.BayesianOptimization)
ZooHyperband = _tuner_class(kt.Hyperband)


def default_directory(name: str) -> Path:
    """`./tuning/<name>/` under the working directory (name: the recipe's)."""
    return Path.cwd() / "tuning" / name


def default_output(name: str) -> Path:
    """`./tuning/<name>/<name>.tuned.json` under the working directory."""
    return default_directory(name) / f"{name}.tuned.json"


def make_tuner(task, hypermodel, tuner: str, max_trials: int, directory, max_epochs: int,
               budget_minutes: float | None = None, seed: int = 0):
    """The budgeted tuner for `task` (a `zoo.tasks.Task` or its name), reloading the project in
    `directory/<task>-<tuner>` when it exists."""
    if tuner not in TUNERS:
        raise ValueError(f"--tuner must be one of {', '.join(TUNERS)}, got {tuner!r}")
    if max_trials < 1:
        raise ValueError(f"--max-trials must be at least 1, got {max_trials}")
    from zoo.tasks import get

    task = get(task) if isinstance(task, str) else task
    name, direction = task.objective
    objective = kt.Objective(name, direction)
    if tuner == "hyperband":
        # keras-tuner runs one Hyperband iteration by default (10 trials when max_epochs is 4);
        # the trial cap and the time budget are what end a zoo search, so iterate until they do.
        oracle = BudgetHyperbandOracle(objective, max_epochs=max_epochs, factor=3, seed=seed,
                                       hyperband_iterations=HYPERBAND_ITERATIONS)
        tuner_class = ZooHyperband
    elif tuner == "bayesian":
        try:
            oracle = BudgetBayesianOracle(objective, max_trials=max_trials, seed=seed)
        except ImportError as error:  # keras-tuner's Gaussian process comes from scikit-learn
            raise ValueError(f"--tuner bayesian needs scikit-learn (pip install scikit-learn): {error}") from None
        tuner_class = ZooBayesianOptimization
    else:
        oracle = BudgetRandomOracle(objective, max_trials=max_trials, seed=seed)
        tuner_class = ZooRandomSearch
    oracle.trial_cap = max_trials
    if budget_minutes:
        oracle.deadline = time.time() + 60.0 * budget_minutes
    # One project per tuner: another tuner's oracle cannot reload this one's state.
    return tuner_class(hypermodel, oracle, directory=str(directory), project_name=project_name(task.name, tuner),
                       overwrite=False)


def project_name(task: str, tuner: str) -> str:
    return f"{task}-{tuner}"


def trial_records(project_dir) -> dict[str, dict]:
    """trial id -> the `zoo_trial.json` written by the tuner that ran it."""
    records = {}
    for path in Path(project_dir).glob(f"trial_*/{TRIAL_RECORD}"):
        record = json.loads(path.read_text())
        records[record["trial_id"]] = record
    return records


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


SHORT_NAMES = {"encoder.cell": "cell", "encoder.units": "units",
               "encoder.layers": "layers", "encoder.dropout": "enc_dropout", "encoder.bidirectional": "bidi",
               "encoder.pooling": "pool", "embedding_mode": "emb", "optimizer": "opt", "learning_rate": "lr",
               "batch_size": "batch"}


def _trial_order(trial):
    return (0, int(trial.trial_id), "") if str(trial.trial_id).isdigit() else (1, 0, str(trial.trial_id))


def summary_table(trials, records: dict, hypermodel) -> str:
    """One line per trial: id, status, score, seconds, tuner id, and its settings."""
    lines = [f"{'trial':>5}  {'status':9} {'score':>7} {'secs':>6}  {'tuner':8} settings"]
    for trial in sorted(trials, key=_trial_order):
        settings = settings_from_values(hypermodel, trial.hyperparameters.values) if trial.hyperparameters.values else {}
        shown = " ".join(f"{SHORT_NAMES.get(key, key)}={_short(value)}" for key, value in settings.items())
        epochs = trial.hyperparameters.values.get("tuner/epochs")
        if epochs is not None:
            shown += f" [hyperband epochs {trial.hyperparameters.values.get('tuner/initial_epoch', 0)}->{epochs}]"
        record = records.get(trial.trial_id, {})
        score = "-" if trial.score is None else f"{trial.score:.4f}"
        seconds = record.get("seconds", "-")
        lines.append(f"{trial.trial_id:>5}  {str(trial.status):9} {score:>7} {seconds!s:>6}  "
                     f"{record.get('tuner_id', '-'):8} {shown}")
    return "\n".join(lines)


def machine_description() -> str:
    import tensorflow as tf

    gpus = len(tf.config.list_physical_devices("GPU"))
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
            f"{gpus or 'no'} GPU{'s' if gpus != 1 else ''}, TensorFlow {tf.__version__}, "
            f"keras-tuner {kt.__version__}")


def tune(recipe, tuner: str = "hyperband", max_trials: int = 30, budget_minutes: float | None = None,
         directory=None, train_fraction: float = 1.0, max_epochs: int | None = None,
         fixed: dict | None = None, output=None, dataset: str | None = None, seed: int = 0,
         verbose: int = 2) -> dict | None:
    """Runs (or resumes) a search around `recipe` (a `zoo.tasks.Recipe`, a recipe name or a recipe
    file); returns the tuned record written, or None on a worker."""
    from zoo.tasks import get, load_recipe

    if not 0.0 < train_fraction <= 1.0:
        raise ValueError(f"--train-fraction must be in (0, 1], got {train_fraction}")
    recipe = load_recipe(recipe)
    task = get(recipe.task)
    directory = Path(directory) if directory else default_directory(recipe.name)
    # The GloVe matrix is made whatever the recipe's mode: a trial may switch to a GloVe mode.
    prepared = task.prepare(recipe.model, recipe.training, recipe.settings, dataset or recipe.dataset,
                            train_fraction=train_fraction, glove=True)
    max_epochs = max_epochs or prepared.training.epochs
    hypermodel = hypermodel_for(prepared, max_epochs=max_epochs, tune_epochs=tuner != "hyperband",
                                fixed=fixed, verbose=verbose)
    search = make_tuner(task, hypermodel, tuner, max_trials, directory, max_epochs, budget_minutes, seed)
    project_dir = directory / project_name(task.name, tuner)
    done_before = len(trial_records(project_dir))
    print(f"== zoo tune {recipe.name} ({recipe.path}): {tuner}, at most {max_trials} trials"
          + (f", {budget_minutes:g} minutes" if budget_minutes else "")
          + f", train fraction {train_fraction:g}, search in {project_dir}"
          + (f" ({done_before} trials done before)" if done_before else ""), flush=True)
    search.search(verbose=verbose)

    records = trial_records(project_dir)
    if dist_utils.has_chief_oracle() and not dist_utils.is_chief_oracle():
        mine = sorted(trial_id for trial_id, record in records.items() if record["tuner_id"] == search.tuner_id)
        print(f"== worker {search.tuner_id} done: ran trials {', '.join(mine) or 'none'}")
        return None

    oracle = search.oracle
    trials = list(oracle.trials.values())
    print(summary_table(trials, records, hypermodel))
    completed = [t for t in trials if t.status == trial_module.TrialStatus.COMPLETED]
    if not completed:
        raise ValueError(f"no trial of the search in {project_dir} completed; nothing to write")
    best = oracle.get_best_trials(1)[0]
    settings = settings_from_values(hypermodel, best.hyperparameters.values)
    objective_name, direction = task.objective
    record = {
        "task": task.name,
        "recipe": str(recipe.path),
        "recipe_values": recipe_values(recipe, settings),
        "tuner": tuner,
        "trials": len(completed),
        "best_trial": best.trial_id,
        "objective": f"{objective_name} ({direction}) on the {prepared.dataset} dev split",
        "best_dev_score": round(float(best.score), 6),
        "compute_seconds": round(sum(r.get("seconds", 0.0) for r in records.values()), 1),
        "machine": machine_description(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "dataset": prepared.dataset,
        "train_fraction": train_fraction,
        "max_epochs": max_epochs,
        "budget_minutes": budget_minutes,
        "fixed": dict(fixed or {}),
    }
    if tuner == "hyperband":
        record["note"] = ("epochs not tuned: Hyperband set each trial's epochs (best trial: "
                          f"{best.hyperparameters.values.get('tuner/epochs')}); the recipe's bound and early stopping apply")
    tuned = {"settings": settings, "record": record}
    output = Path(output) if output else default_output(recipe.name)
    output.parent.mkdir(parents=True, exist_ok=True)
    from zoo.training import write_json

    write_json(output, tuned)
    print(f"== best trial {best.trial_id}: {objective_name} {best.score:.4f}; settings and record written to {output}")
    print(recipe_lines(recipe, settings, output, best.trial_id))
    return tuned


def _group_of(recipe, key: str) -> tuple[str, object, list[str]]:
    """(where the key's value is written in a recipe file, the config holding it, the path to it)."""
    import dataclasses

    parts = key.split(".")
    training_fields = {field.name for field in dataclasses.fields(recipe.training)}
    settings_fields = {field.name for field in dataclasses.fields(recipe.settings)} if recipe.settings else set()
    if parts[0] in training_fields:
        return f"TRAINING = {type(recipe.training).__name__}(", recipe.training, parts
    if parts[0] in settings_fields:
        return f"SETTINGS = {type(recipe.settings).__name__}(", recipe.settings, parts
    if len(parts) > 1:
        nested = getattr(recipe.model, parts[0])
        return (f"MODEL = {type(recipe.model).__name__}(... {parts[0]}={type(nested).__name__}(",
                recipe.model, parts)
    return f"MODEL = {type(recipe.model).__name__}(", recipe.model, parts


def recipe_values(recipe, settings: dict) -> dict:
    """{setting key: the recipe's own value} for the keys of `settings`."""
    values = {}
    for key in settings:
        _, config, parts = _group_of(recipe, key)
        for part in parts:
            config = getattr(config, part)
        values[key] = config
    return values


def _literal(value) -> str:
    """A value as a recipe file writes it (strings in double quotes)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _shown(path) -> str:
    """A path relative to the working directory when it lies below it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def recipe_lines(recipe, settings: dict, record_file, trial_id) -> str:
    """The recipe file's lines that the search's best settings change, ready to paste, each with a
    comment naming the record (or a line saying that the best trial is the recipe itself)."""
    own = recipe_values(recipe, settings)
    changed = {key: value for key, value in settings.items() if own[key] != value}
    if not changed:
        return f"== the best trial is the recipe itself ({recipe.path}): nothing to change"
    record_file, recipe_file = _shown(record_file), _shown(recipe.path)
    groups: dict[str, list[str]] = {}
    for key, value in changed.items():
        group, _, parts = _group_of(recipe, key)
        line = f"{parts[-1]}={_literal(value)},"
        groups.setdefault(group, []).append(
            f"        {line:30s} # tuned: {record_file}, trial {trial_id} (was {_literal(own[key])})")
    lines = [f"== to train them, write these values into {recipe_file}, each with its reason "
             f"(what you read is what runs: nothing applies {record_file}):"]
    for group, entries in groups.items():
        lines += [f"    {group}", *entries]
    trial = " ".join(f"--set {key}={value}" for key, value in changed.items())
    lines.append(f"   (to try them first: zoo train {recipe_file} {trial})")
    return "\n".join(lines)
