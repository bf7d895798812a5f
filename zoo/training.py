"""Training shared by the tasks: compile defaults, per-token loss weights, run folders."""
from __future__ import annotations

import dataclasses
import json
import math
import shutil
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import keras
from keras import ops

from zoo.models.config import JSONConfig, _check_types, _fail

logger = logging.getLogger("zoo.training")

JIT_COMPILE_VALUES = ("auto", "on", "off")


def encoders(model: keras.Model) -> list:
    """The model's `SequenceEncoder` layers (the zoo's models hold them at the top level)."""
    from zoo.layers import SequenceEncoder

    return [layer for layer in model.layers if isinstance(layer, SequenceEncoder)]


def choose_jit_compile(jit_compile="auto"):
    """Whether to compile the whole training step with XLA (True, False, or "auto": Keras' own
    choice), and why.

    `"on"`/True and `"off"`/False force it. `"auto"` leaves it to Keras on other backends and
    wherever a GPU is visible (its cuDNN path turns XLA off), and keeps it off on a CPU with
    TensorFlow, where XLA trained the recurrent layers slower and recompiles for every batch width
    (benchmarks/RESULTS.md, session 1). The fused LSTM compiles its own loops with XLA where it
    pays, whatever this says.
    """
    if jit_compile in (True, "on"):
        return True, "forced on"
    if jit_compile in (False, "off"):
        return False, "forced off"
    if jit_compile != "auto":
        raise ValueError(f"jit_compile must be one of {JIT_COMPILE_VALUES} or a bool, got {jit_compile!r}")
    if keras.backend.backend() != "tensorflow":
        return "auto", f"Keras' choice ({keras.backend.backend()} backend)"
    from zoo.layers.recurrent import visible_gpus

    if visible_gpus():
        return "auto", "Keras' choice (GPU visible)"
    return False, "off on CPU (measured slower)"


def training_path(model: keras.Model) -> str:
    """One short line: what each encoder runs, and whether the compiled step uses XLA.

    The full detail of each encoder is its `code_path` (also written to the run's `recipe.json`).
    """
    parts = [f"{encoder.name}: {encoder.path_summary}" for encoder in encoders(model)]
    jit = getattr(model, "jit_compile", None)  # set by compile ("auto" resolved by Keras)
    if jit is not None:
        parts.append(f"XLA {'on' if jit else 'off'}")
    return "; ".join(parts) or "no zoo encoder"


@keras.saving.register_keras_serializable(package="zoo")
class TokenAccuracy(keras.metrics.SparseCategoricalAccuracy):
    """Sparse categorical accuracy over every weighted position of the whole evaluation.

    Keras' metric first averages (batch, time) values over time within each example, and the
    weights likewise, which weighs each batch by its real tokens divided by its width: with
    length-bucketed batches of different widths the result is not the per-token accuracy (0.1-0.2
    points low on Brown). Flattening to one value per position first makes it exact. For
    (batch,) labels it is Keras' metric unchanged.
    """

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(y_pred, (-1, ops.shape(y_pred)[-1]))
        y_true = ops.reshape(y_true, (-1,))
        if sample_weight is not None:
            sample_weight = ops.reshape(sample_weight, (-1,))
        return super().update_state(y_true, y_pred, sample_weight)


def compile_defaults(
    model: keras.Model,
    learning_rate: float = 1e-3,
    optimizer: str = "adam",
    clipnorm: float | None = None,
    jit_compile="auto",
    **overrides,
) -> keras.Model:
    """Compiles with Adam, sparse categorical cross-entropy and accuracy; returns the model.

    Accuracy is a *weighted* metric (`TokenAccuracy`), so for transducers and language models
    trained with `token_weights` as sample weights it counts real tokens only, each token once,
    whatever the batch widths (Keras applies sample weights to `weighted_metrics`, not to
    `metrics`). Any `model.compile` argument can be overridden.

    Args:
        optimizer: "adam" or "sgd" (SGD with Nesterov momentum 0.9).
        clipnorm: clip each gradient to this norm (helps against exploding gradients in RNNs).
        jit_compile: "auto", "on"/True or "off"/False: XLA (see `choose_jit_compile`). The
            recurrent path and the XLA choice are logged in one line (logger "zoo.training";
            `training_path(model)` gives it again).
    """
    optimizers = {
        "adam": lambda: keras.optimizers.Adam(learning_rate, clipnorm=clipnorm),
        "sgd": lambda: keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True, clipnorm=clipnorm),
    }
    if optimizer not in optimizers:
        raise ValueError(f"optimizer must be one of {sorted(optimizers)}, got {optimizer!r}")
    settings = dict(
        optimizer=optimizers[optimizer](),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        weighted_metrics=[TokenAccuracy(name="accuracy")],
    )
    jit, reason = choose_jit_compile(jit_compile)
    settings["jit_compile"] = jit
    settings.update(overrides)
    model.compile(**settings)
    logger.info("training path: %s [XLA: %s]", training_path(model), reason)
    return model


def token_weights(token_ids) -> np.ndarray:
    """Sample weights (batch, time): 1.0 on real tokens, 0.0 on padding (id 0)."""
    return (np.asarray(token_ids) != 0).astype("float32")


OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "plateau", "cosine")
# The dev quantity that early stopping and the plateau schedule watch, and which way is better.
MONITORS = {"val_loss": "min", "val_accuracy": "max"}


def early_stopping(training: "TrainingConfig", restore_best_weights: bool = True):
    """Keras' `EarlyStopping` on `training.monitor` (dev loss or dev accuracy)."""
    return keras.callbacks.EarlyStopping(monitor=training.monitor, mode=MONITORS[training.monitor],
                                         patience=training.patience,
                                         restore_best_weights=restore_best_weights)


BEST_WEIGHTS_FILE = "best.weights.h5"
BEST_RECORD_FILE = "best.json"  # which epoch best.weights.h5 holds


def unreadable_weights(path: Path) -> str | None:
    """Why a `.weights.h5` file cannot be read back (truncated, half-written, not HDF5), or None
    when every array in it reads."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            arrays = []
            handle.visititems(lambda name, item: arrays.append(item) if isinstance(item, h5py.Dataset) else None)
            for array in arrays:
                array[()]
    except Exception as error:  # h5py raises OSError, KeyError or RuntimeError for damaged files
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'unreadable'}"
    return None


def check_backup(run_dir: Path) -> int:
    """Before a run resumes: the epochs its backup holds (0: none), after checking it.

    A backup that does not read back whole (a run killed while writing it, a damaged disk) is
    discarded with a line that names it: the run resumes from the backup before it (Keras'
    `double_checkpoint` keeps two), or, when none reads, the backup folder is moved aside
    (`backup.discarded-<n>`) and the run starts fresh, saying so. `history.csv` keeps the rows of
    the epochs the backup holds only (the others are trained again).
    """
    folder = Path(run_dir) / "backup"
    latest, metadata = folder / "latest.weights.h5", folder / "training_metadata.json"
    previous, previous_metadata = Path(f"{latest}.bkp"), Path(f"{metadata}.bkp")
    if latest.exists() and (reason := unreadable_weights(latest)):
        if previous.exists() and not unreadable_weights(previous):
            print(f"   backup {latest} is damaged ({reason}): discarded; resuming from the one before it")
            shutil.copyfile(previous, latest)
            if previous_metadata.exists():
                shutil.copyfile(previous_metadata, metadata)
            else:
                metadata.unlink(missing_ok=True)
        else:
            number = 1
            while (aside := folder.with_name(f"{folder.name}.discarded-{number}")).exists():
                number += 1
            folder.rename(aside)
            print(f"   backup {latest} is damaged ({reason}) and no earlier backup reads: moved to {aside}; "
                  f"training starts fresh")
    epochs = 0
    if latest.exists() and metadata.exists():
        epochs = int(json.loads(metadata.read_text())["epoch"])
    history = Path(run_dir) / "history.csv"
    if history.exists():
        lines = history.read_text().splitlines(keepends=True)
        if len(lines) > epochs + 1:  # the header, then one row per epoch
            history.write_text("".join(lines[: epochs + 1]) if epochs else "")
    return epochs


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' `EarlyStopping` (with `restore_best_weights`) whose state survives a killed run.

    Every new best epoch's weights are also written to `run_dir/best.weights.h5` (a temporary
    file, then a rename: never half a file), its epoch to `best.json`. When a run resumes from its
    backup, the best value, its epoch and the patience used so far are read back from the run's
    `history.csv`, and the best weights from that file when it holds that epoch: a run killed after its last epoch, or after the best epoch and
    before stopping, still ends with the best epoch's weights, not the last ones.
    """

    def __init__(self, run_dir: Path, training: "TrainingConfig"):
        super().__init__(monitor=training.monitor, mode=MONITORS[training.monitor],
                         patience=training.patience, restore_best_weights=True)
        self.run_dir = Path(run_dir)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        rows = read_history(self.run_dir / "history.csv")
        values = [float(row[self.monitor]) for row in rows if row.get(self.monitor) not in (None, "")]
        best_file = self.run_dir / BEST_WEIGHTS_FILE
        if not values or not best_file.exists():
            return
        choose = min if MONITORS[self.monitor] == "min" else max
        best_epoch = values.index(choose(values))
        record = self.run_dir / BEST_RECORD_FILE
        saved = json.loads(record.read_text()) if record.exists() else {}
        if saved.get("epoch") != best_epoch:  # the file is of an epoch the backup no longer holds
            return
        self.best, self.best_epoch = values[best_epoch], best_epoch
        self.wait = len(values) - 1 - self.best_epoch
        current = self.model.get_weights()
        with warnings.catch_warnings():
            # Only the model's weights are wanted (the backup restores the optimizer's state).
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            self.model.load_weights(best_file)
        self.best_weights = self.model.get_weights()
        self.model.set_weights(current)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.best_epoch == epoch and self.best_weights is not None:
            partial = self.run_dir / ("partial-" + BEST_WEIGHTS_FILE)
            self.model.save_weights(partial)
            partial.replace(self.run_dir / BEST_WEIGHTS_FILE)
            write_json(self.run_dir / BEST_RECORD_FILE, {"epoch": epoch, self.monitor: float(self.best)})


def read_history(path: Path) -> list[dict]:
    """The rows of a run's `history.csv` (one per finished epoch), or [] when there is none."""
    import csv

    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


class NonFiniteLoss(RuntimeError):
    """Training stopped on a NaN or infinite loss (`StopOnNonFiniteLoss`)."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite, by raising
    `NonFiniteLoss` naming the epoch and step.

    Raising (not `stop_training`, which lets the epoch end) keeps the epoch-end callbacks from
    running on the broken weights: the backup keeps the last finished epoch, and no model or
    metrics are saved as a finished run.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise NonFiniteLoss(
                f"the training loss became {float(loss)} at epoch {self.epoch + 1}, step {batch + 1}: "
                f"training stopped (try a lower learning_rate or a clipnorm)")


class WarmupCosine(keras.callbacks.Callback):
    """Sets the learning rate at each epoch's start: a linear warm-up over `warmup_epochs` to
    `peak`, then a cosine decay to zero at the end of epoch `epochs` (epoch-level, so it needs no
    step count, which length-bucketed datasets do not know in advance)."""

    def __init__(self, peak: float, epochs: int, warmup_epochs: int = 0):
        super().__init__()
        self.peak, self.epochs, self.warmup_epochs = peak, epochs, warmup_epochs

    def rate(self, epoch: int) -> float:
        if epoch < self.warmup_epochs:
            return self.peak * (epoch + 1) / (self.warmup_epochs + 1)
        decaying = max(1, self.epochs - self.warmup_epochs)
        progress = min(1.0, (epoch - self.warmup_epochs) / decaying)
        return self.peak * 0.5 * (1.0 + np.cos(np.pi * progress))

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rate(epoch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.rate(epoch))


def schedule_callbacks(training: "TrainingConfig") -> list:
    """The learning-rate schedule of `training.schedule` as Keras callbacks (none for constant).

    "plateau" halves the rate after `plateau_patience` epochs without a better `training.monitor`
    (Keras' `ReduceLROnPlateau`); the halved rate lives in the optimizer's variables, so a run resumed
    from its backup keeps it. "cosine": `WarmupCosine` over `epochs`.
    """
    if training.schedule == "plateau":
        return [keras.callbacks.ReduceLROnPlateau(monitor=training.monitor, mode=MONITORS[training.monitor],
                                                  factor=0.5, verbose=1,
                                                  patience=training.plateau_patience,
                                                  min_lr=training.learning_rate / 64)]
    if training.schedule == "cosine":
        return [WarmupCosine(training.learning_rate, training.epochs, training.warmup_epochs)]
    return []


@dataclasses.dataclass(frozen=True)
class TrainingConfig(JSONConfig):
    """How a recipe trains (the model itself is described by its model config).

    Args:
        batch_size: examples per batch.
        epochs: upper bound; early stopping on the dev split usually ends training sooner.
        learning_rate: the optimizer's step size.
        optimizer: "adam" or "sgd" (Nesterov momentum 0.9).
        clipnorm: clip each gradient to this norm; 0 turns clipping off.
        patience: epochs without dev improvement before stopping (best weights are restored).
        monitor: what "dev improvement" means for early stopping and the "plateau" schedule:
            "val_loss" (lower) or "val_accuracy" (higher). Accuracy suits a model whose dev loss
            rises from over-confidence while its dev accuracy still climbs (the siamese SNLI
            encoder, README).
        bucketing: batch sentences of similar length together (less padding, faster epochs).
        max_vocabulary: keep at most this many most frequent tokens (0: all).
        min_count: drop tokens seen fewer times in the training split.
        pretrained_words: with a GloVe embedding mode, also give ids to the most frequent this
            many GloVe words that the training vocabulary lacks (an open vocabulary: a dev, test
            or served word GloVe knows gets its vector, not OOV); their rows stay frozen
            (`ModelConfig.pretrained_rows`). 0: the training vocabulary only.
        jit_compile: "auto", "on" or "off": XLA compilation of the whole step (see
            `choose_jit_compile`; "auto" keeps it off on a CPU, Keras' own choice elsewhere).
        schedule: the learning rate over training: "constant"; "plateau" (halved after
            `plateau_patience` epochs without a better `monitor`, down to 1/64 of the start);
            "cosine" (linear warm-up over `warmup_epochs`, then cosine decay to 0 at `epochs`).
        plateau_patience: epochs without dev improvement before "plateau" halves the rate; keep
            it below `patience`, or early stopping ends the run before any halving.
        warmup_epochs: "cosine" only: epochs of linear warm-up.
    """

    batch_size: int = 32
    epochs: int = 20
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    clipnorm: float = 0.0
    patience: int = 3
    monitor: str = "val_loss"
    bucketing: bool = True
    max_vocabulary: int = 0
    min_count: int = 1
    pretrained_words: int = 0
    jit_compile: str = "auto"
    schedule: str = "constant"
    plateau_patience: int = 1
    warmup_epochs: int = 0

    def __post_init__(self):
        _check_types(self)
        owner = "TrainingConfig"
        for name in ("batch_size", "epochs", "min_count"):
            if getattr(self, name) <= 0:
                _fail(owner, name, getattr(self, name), "a positive integer")
        if self.learning_rate <= 0:
            _fail(owner, "learning_rate", self.learning_rate, "positive")
        if self.optimizer not in OPTIMIZERS:
            _fail(owner, "optimizer", self.optimizer, f"one of {OPTIMIZERS}")
        if self.clipnorm < 0:
            _fail(owner, "clipnorm", self.clipnorm, ">= 0")
        if self.patience < 0 or self.max_vocabulary < 0:
            _fail(owner, "patience/max_vocabulary", (self.patience, self.max_vocabulary), ">= 0")
        if self.pretrained_words < 0:
            _fail(owner, "pretrained_words", self.pretrained_words, "0 (training words only) or more")
        if self.monitor not in MONITORS:
            _fail(owner, "monitor", self.monitor, f"one of {tuple(MONITORS)}")
        if self.jit_compile not in JIT_COMPILE_VALUES:
            _fail(owner, "jit_compile", self.jit_compile, f"one of {JIT_COMPILE_VALUES}")
        if self.schedule not in SCHEDULES:
            _fail(owner, "schedule", self.schedule, f"one of {SCHEDULES}")
        if self.plateau_patience < 0:
            _fail(owner, "plateau_patience", self.plateau_patience, ">= 0")
        if not 0 <= self.warmup_epochs < self.epochs:
            _fail(owner, "warmup_epochs", self.warmup_epochs, f"0 or more and below epochs ({self.epochs})")

    def compile(self, model: keras.Model) -> keras.Model:
        return compile_defaults(model, self.learning_rate, self.optimizer, self.clipnorm or None,
                                jit_compile=self.jit_compile)


FAILED_FILE = "failed.json"


def choose_run_dir(root: str | Path, task: str, create: bool = True) -> Path:
    """`root/task`, resumed if it holds an unfinished run, else the first `root/task-N` that is free.

    A finished run (one with `metrics.json`) is never overwritten. `create=False` only names it.
    """
    root = Path(root)
    candidate, number = root / task, 1
    while (candidate / "metrics.json").exists():
        number += 1
        candidate = root / f"{task}-{number}"
    if create:
        candidate.mkdir(parents=True, exist_ok=True)
    return candidate


def callbacks(run_dir: Path, training: TrainingConfig) -> list:
    """Early stopping on the dev split (`training.monitor`), the learning-rate schedule, resumable
    epochs, TensorBoard logs and a CSV history (with the learning rate of each epoch)."""
    return [
        StopOnNonFiniteLoss(),  # first: nothing else sees the broken step
        ResumableEarlyStopping(run_dir, training),
        *schedule_callbacks(training),
        # Saves the state at each epoch end; a killed run restarts from the last finished epoch.
        # double_checkpoint: the backup before the latest stays, for `check_backup`.
        keras.callbacks.BackupAndRestore(str(run_dir / "backup"), double_checkpoint=True),
        keras.callbacks.TensorBoard(str(run_dir / "logs")),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
    ]


def plot_curves(history_csv: Path, path: Path) -> None:
    """A PNG of the loss and accuracy per epoch, train and dev (read from the CSV history)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_history(history_csv)
    if not rows:
        return
    epochs = [int(row["epoch"]) + 1 for row in rows]
    metrics = [name for name in ("loss", "accuracy") if name in rows[0]]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for axis, name in zip(axes[0], metrics):
        for prefix, label in (("", "train"), ("val_", "dev")):
            if prefix + name in rows[0]:
                axis.plot(epochs, [float(row[prefix + name]) for row in rows], marker="o", label=label)
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_json(path: Path, values) -> None:
    """Writes JSON atomically (temporary file, then rename), so a crash never leaves half a file."""
    path = Path(path)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(values, indent=2, sort_keys=True, default=str) + "\n")
    temporary.replace(path)


def fit_evaluate_save(
    model: keras.Model,
    train,
    dev,
    test,
    run_dir: Path,
    training: TrainingConfig,
    extra_metrics: dict | None = None,
    verbose: int | None = None,
    after_evaluation=None,
) -> dict:
    """Fits with early stopping on `dev`, evaluates on `test`, writes the run's artefacts.

    The run folder gets `model.keras`, `metrics.json` (test metrics, epochs, wall time, parameter
    count, plus `extra_metrics`), `curves.png`, `history.csv` and TensorBoard `logs/`. The model
    config is written by the caller (it knows the config) before training starts.
    `after_evaluation(model, metrics)`, if given, may add task-specific entries to `metrics`
    (e.g. bits per character, a generated sample) before `metrics.json` is written once.
    """
    run_dir = Path(run_dir)
    if verbose is None:
        # A live progress bar in a terminal; one line per epoch in a log file or CI.
        verbose = 1 if sys.stdout.isatty() else 2
    check_backup(run_dir)
    started = time.time()
    try:
        model.fit(
            train, validation_data=dev, epochs=training.epochs, callbacks=callbacks(run_dir, training),
            shuffle=False,  # the tf.data pipeline shuffles (seeded), Keras cannot shuffle a Dataset
            verbose=verbose,
        )
    except NonFiniteLoss as error:
        # The run folder says it failed; no metrics.json claims a finished run, no model is saved.
        write_json(run_dir / FAILED_FILE, {"error": str(error), "backup": "the last finished epoch's, kept"})
        raise ValueError(f"{error}; {run_dir / FAILED_FILE} records it, the backup of the last finished "
                         f"epoch is kept") from None
    (run_dir / FAILED_FILE).unlink(missing_ok=True)  # a rerun that finished mends an earlier failure
    wall_time = time.time() - started
    test_metrics = model.evaluate(test, return_dict=True, verbose=0)
    model.save(run_dir / "model.keras")
    plot_curves(run_dir / "history.csv", run_dir / "curves.png")
    metrics = {
        "test": {name: float(value) for name, value in test_metrics.items()},
        # Epochs trained in all, before and after any restart (one history row per epoch).
        "epochs": len(read_history(run_dir / "history.csv")),
        "wall_time_seconds": round(wall_time, 1),
        "parameters": int(model.count_params()),
        **(extra_metrics or {}),
    }
    if after_evaluation is not None:
        after_evaluation(model, metrics)
    write_json(run_dir / "metrics.json", metrics)
    return metrics
