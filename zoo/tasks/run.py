"""Training a recipe into a run folder, and evaluating a run folder again (`zoo train`, `zoo evaluate`).

A run folder (`runs/<recipe name>/`) holds `recipe.json` (the recipe file, the `--set` overrides
and the full configuration that ran), `config.json` (the model config), `vectorizer.json`,
`coverage.json` (GloVe modes), `model.keras`, `metrics.json`, `history.csv`, `curves.png` and
TensorBoard `logs/`; `fit_evaluate_save` (zoo.training) writes the last five.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

RECIPE_FILE = "recipe.json"


def save_vectorizer(run_dir, vectorizer) -> None:
    """The vectorizer as Keras JSON (its vocabulary included), reloadable in safe mode
    (`zoo.loading.load_vectorizer`)."""
    import keras

    from zoo.training import write_json

    write_json(Path(run_dir) / "vectorizer.json", keras.saving.serialize_keras_object(vectorizer))


def save_config(run_dir, config) -> None:
    """The model config as JSON (`config.json`)."""
    (Path(run_dir) / "config.json").write_text(config.to_json() + "\n")


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


def train(recipe, runs="runs", overrides=(), dataset: str | None = None, verbose: int | None = None,
          distribute: str = "none"):
    """Trains a recipe: prepares its task's data, fits with early stopping on dev, evaluates on
    test and writes the run folder `runs/<recipe name>` (resumed when unfinished, else the next
    free `runs/<recipe name>-N`). Returns `(metrics, run_dir)`.

    Args:
        recipe: a `Recipe`, a recipe name (`sentiment`) or a recipe file path.
        runs: the folder of run folders.
        overrides: `--set key=value` assignments applied to the recipe (recorded in `recipe.json`).
        dataset: another dataset name than the recipe's (recorded too).
        verbose: Keras' fit verbosity (default: a progress bar in a terminal, else a line per epoch).
        distribute: "none", "mirrored" (this machine's devices) or "multi_worker" (the machines
            of `TF_CONFIG`); see `zoo.distribute`. A non-chief worker writes its copy of the run
            into `runs/.workers/` and removes it when done; its returned folder is that copy.
    """
    import contextlib

    import keras

    from zoo import distribute as distribution

    from zoo.tasks.recipe import load_recipe
    from zoo.tasks.registry import get
    from zoo.training import choose_run_dir, encoders, fit_evaluate_save, write_json

    # First: TensorFlow refuses a multi-worker strategy once other ops have run.
    strategy = distribution.make_strategy(distribute)
    written = load_recipe(recipe)
    recipe = written.with_overrides(overrides, dataset)
    task = get(recipe.task)
    chief = distribution.is_chief(distribute)
    run_dir = choose_run_dir(runs, recipe.name) if chief else distribution.worker_run_dir(runs, recipe.name)
    if not chief and distribution.adopt_chief_backup(choose_run_dir(runs, recipe.name, create=False), run_dir):
        print("   resuming from the chief's backup (the cluster resumes at one epoch)")
    print(f"== zoo train {recipe.name}: the {task.name} task on {recipe.dataset} -> {run_dir}")
    print(f"   recipe:   {recipe.path or '(in code)'}" + (f", with --set {' '.join(overrides)}" if overrides else ""))
    show_training_path()
    print("   " + distribution.describe(distribute, strategy, recipe.training.batch_size))

    prepared = task.prepare(recipe.model, recipe.training, recipe.settings, recipe.dataset)
    overridden = {assignment.split("=", 1)[0].strip().removeprefix("model.") for assignment in overrides}
    clash = sorted(overridden & set(prepared.from_data))
    if clash:
        raise ValueError(f"--set {', '.join(clash)}: the data sets {'it' if len(clash) == 1 else 'them'} "
                         f"({', '.join(f'{key}={prepared.from_data[key]}' for key in clash)}); change the data "
                         f"or the vocabulary settings (min_count, max_vocabulary, pretrained_words) instead")
    print("   model:    " + prepared.model_config.to_json(indent=None))
    print("   training: " + recipe.training.to_json(indent=None))
    if recipe.settings is not None:
        print("   settings: " + recipe.settings.to_json(indent=None))
    ran = {**recipe.to_dict(), "model": json.loads(prepared.model_config.to_json())}
    refuse_other_settings(run_dir, ran)
    write_json(run_dir / RECIPE_FILE, {**ran, "overrides": list(overrides), "set_from_data": prepared.from_data})
    extra = task.extra_metrics(prepared.data)
    if prepared.coverage is not None:
        print(prepared.coverage)
        prepared.coverage.save(run_dir / "coverage.json")
        extra["glove_coverage"] = prepared.coverage.to_dict()
    if prepared.oov is not None:
        print(oov_summary(prepared.oov, prepared.model_config.pretrained_rows))
        extra["oov_tokens"] = {**prepared.oov, "pretrained_words_added": prepared.model_config.pretrained_rows}

    # The config's seed fixes every draw of the run (the initializers that take no seed of their
    # own too): the same recipe and seed train the same model, on every worker alike.
    keras.utils.set_random_seed(prepared.model_config.seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = recipe.training.compile(prepared.build_model())
    # The one-line training path was printed; the detail of each encoder's path goes on record.
    write_json(run_dir / RECIPE_FILE, {
        **json.loads((run_dir / RECIPE_FILE).read_text()),
        "code_path": {encoder.name: encoder.code_path for encoder in encoders(model)}})
    save_config(run_dir, prepared.model_config)
    save_vectorizer(run_dir, prepared.vectorizer)
    batches = prepared.batches()
    if strategy is not None:
        batches = {split: distribution.shard_by_data(dataset) for split, dataset in batches.items()}
    metrics = fit_evaluate_save(
        model, batches["train"], batches["dev"], batches["test"], run_dir, recipe.training, extra,
        verbose=verbose, after_evaluation=lambda trained, values: task.after_evaluation(prepared, trained, values))
    print("== test: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics["test"].items() if isinstance(v, float)))
    if not chief:
        distribution.remove_worker_run_dir(run_dir)
        print(f"== worker done; the chief's run folder holds the run ({run_dir} removed)")
        return metrics, run_dir
    print(f"== saved in {run_dir}")
    return metrics, run_dir


# What a resumed run may change: only the epochs bound (raise it to train an unfinished run further).
RESUMABLE_CHANGES = ("epochs",)


def refuse_other_settings(run_dir: Path, ran: dict) -> None:
    """An unfinished run folder resumes from its backup; refuses to do so with other settings
    (the backup's weights and optimizer state belong to the settings it recorded)."""
    recorded_path = Path(run_dir) / RECIPE_FILE
    if not recorded_path.exists():
        return
    recorded = json.loads(recorded_path.read_text())
    changed = []
    for part in ("task", "dataset", "model", "training", "settings"):
        old, new = recorded.get(part), ran.get(part)
        if isinstance(old, dict) and isinstance(new, dict):
            changed += [f"{part}.{key}: {old.get(key)!r} -> {new.get(key)!r}" for key in sorted(set(old) | set(new))
                        if old.get(key) != new.get(key) and not (part == "training" and key in RESUMABLE_CHANGES)]
        elif old != new:
            changed.append(f"{part}: {old!r} -> {new!r}")
    if changed:
        raise ValueError(f"{run_dir} holds an unfinished run with other settings ({'; '.join(changed)}), and "
                         f"would resume from its backup. Delete that folder to start over, or pass --runs "
                         f"another folder; only the epochs bound may change when resuming")


def oov_summary(oov: dict, added: int) -> str:
    """One line: dev/test tokens OOV with the training vocabulary and with the model's."""
    parts = [f"{split} {100 * counts['oov_training_vocabulary'] / max(1, counts['tokens']):.2f}% -> "
             f"{100 * counts['oov'] / max(1, counts['tokens']):.2f}%" for split, counts in oov.items()]
    return (f"OOV tokens, training vocabulary -> with {added} pretrained words added: " + ", ".join(parts))


def evaluate_run(run_dir, split: str = "test") -> dict:
    """A finished run's metrics on its dataset's `split` ("test" or "dev").

    Loads the model with `zoo.load` (safe mode) and the vectorizer with
    `zoo.loading.load_vectorizer`, rebuilds the split's batches through the run's task, and
    evaluates the model's inference copy (`zoo.inference_model`), compiled with the zoo's
    defaults; the task adds what it derives (bits per character for the character LM).
    """
    import zoo
    from zoo.loading import load_vectorizer
    from zoo.tasks.registry import get
    from zoo.training import TrainingConfig, compile_defaults

    run_dir = Path(run_dir)
    missing = [name for name in (RECIPE_FILE, "model.keras", "vectorizer.json") if not (run_dir / name).exists()]
    if missing:
        raise FileNotFoundError(f"{run_dir} is not a finished run folder: missing {', '.join(missing)}")
    if split not in ("test", "dev"):
        raise ValueError(f"split must be 'test' or 'dev', got {split!r}")
    recorded = json.loads((run_dir / RECIPE_FILE).read_text())
    task = get(recorded["task"])
    training = TrainingConfig.from_dict(recorded["training"])
    settings = task.settings_from_dict(recorded.get("settings"))
    # The inference copy: the first LSTM layer's input projection folded (the same function).
    model = zoo.inference_model(zoo.load(run_dir, compile=False))
    compile_defaults(model, jit_compile=training.jit_compile)
    vectorizer = load_vectorizer(run_dir)
    batches = task.batches(task.load_data(recorded["dataset"]), vectorizer, training, settings, splits=(split,))
    return task.derived_metrics(model.evaluate(batches[split], return_dict=True, verbose=0))
