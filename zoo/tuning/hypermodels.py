"""Search spaces: one `keras_tuner.HyperModel` per factory.

`build(hp)` only turns hyperparameter values into `--set` style settings ("encoder.units=64"),
applies them to the recipe's config with the same code `zoo train --set` uses
(`zoo.tasks.apply_settings`, i.e. `with_overrides`), and calls the task's factory. Training-time
settings (batch size, epochs, early-stopping patience) are applied in `fit`. The hyperparameter
names are the settings' keys, so the best values are written to the search's record as they are
(the learning rate is tuned per optimizer, "learning_rate.adam" / "learning_rate.sgd", and
written as "learning_rate"); whoever finds them better writes them into the recipe file.

The space:

| hyperparameter | values | factories |
|---|---|---|
| encoder.cell | elman, gated_elman, lstm, gru | all |
| encoder.units | per task (`zoo.tasks.Task.search_space`) | all |
| encoder.layers | 1, 2 (+ encoder.dropout 0-0.5, step 0.05, between layers when 2) | all |
| encoder.bidirectional | false, true | all but the language model |
| encoder.pooling | final, mean, max | acceptor, pair encoder |
| interaction | none (siamese), esim (cross-sentence attention) | pair encoder |
| attention | general, additive, none (dot needs equal widths) | encoder-decoder |
| encoder.initializer | glorot_uniform, glorot_normal, he_uniform, lecun_normal (input kernels) | all |
| dropout | 0-0.6, step 0.05 | all |
| embedding_mode | learned, glove_frozen, glove_finetuned | word tasks (a GloVe matrix given) |
| optimizer | adam (lr 1e-4..1e-2, log), sgd + Nesterov momentum 0.9 (lr 1e-3..0.3, log) | all |
| clipnorm | 0 (off), 1, 5 | all |
| batch_size | per task | all (in `fit`) |
| epochs | 1..max_epochs (an upper bound; early stopping on the dev loss) | not Hyperband (it sets epochs) |
| patience | 2, 4 | all (in `fit`) |

Every choice also holds the recipe's own value (units, clipnorm, batch size, patience), and every
default is the recipe's value: the recipe itself is a point of the space (the first trial).

The initialiser choice is the input kernels' (`EncoderConfig.initializer`); the recurrent
kernels stay orthogonal. `encoder.implementation` is not searched: every path computes the same
function, so it is a speed setting and stays the recipe's.
"""
from __future__ import annotations

import keras
import keras_tuner as kt

from zoo.models.config import INTERACTIONS
from zoo.training import early_stopping, schedule_callbacks

CELLS = ("elman", "gated_elman", "lstm", "gru")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "lecun_normal")
EMBEDDING_MODES = ("learned", "glove_frozen", "glove_finetuned")
POOLINGS = ("final", "mean", "max")
LEARNING_RATES = {"adam": (1e-4, 1e-2), "sgd": (1e-3, 0.3)}
TRAINING_KEYS = ("batch_size", "epochs", "patience")


def _parse_like(text, example):
    """A `--fix` value (a string) parsed as the type of the space's own values."""
    if not isinstance(text, str):
        return text
    if isinstance(example, bool):
        lowered = text.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"expected true or false, got {text!r}")
        return lowered in ("true", "1", "yes")
    if isinstance(example, int):
        return int(text)
    if isinstance(example, float):
        return float(text)
    return text


def _including(values, recipe_value) -> tuple:
    """The choices plus the recipe's own value, so the recipe itself lies in the space."""
    return tuple(sorted(set(values) | {recipe_value}))


class ZooHyperModel(kt.HyperModel):
    """The search space of one factory, around a recipe's config and training settings.

    Args:
        prepared: `zoo.tasks.Prepared` (the task, its data, vectorizer, GloVe matrix, the
            recipe's configs), made once for the search by `Task.prepare`.
        max_epochs: upper bound of the `epochs` hyperparameter (default: the recipe's epochs).
        tune_epochs: False for Hyperband, which decides each trial's epochs itself.
        fixed: {hyperparameter name: value} pinned to one value (`hp.Fixed`), e.g. for tiny tests.
        verbose: Keras' fit verbosity.
    """

    factory_name = None

    def __init__(self, prepared, max_epochs: int | None = None, tune_epochs: bool = True,
                 fixed: dict | None = None, verbose: int = 2, name: str | None = None):
        super().__init__(name=name or prepared.task.name, tunable=True)
        self.prepared = prepared
        self.space = prepared.task.search_space
        self.max_epochs = max_epochs or prepared.training.epochs
        self.tune_epochs = tune_epochs
        self.fixed = dict(fixed or {})
        self.verbose = verbose
        unknown = sorted(set(self.fixed) - set(self.hyperparameter_names()))
        if unknown:
            raise ValueError(f"cannot fix {unknown}: the {prepared.task.name} space has {self.hyperparameter_names()}")

    # -- the space ---------------------------------------------------------------------------
    def hyperparameter_names(self) -> list[str]:
        names = ["encoder.cell", "encoder.units", "encoder.layers",
                 "encoder.dropout", "dropout", "optimizer", "learning_rate.adam", "learning_rate.sgd",
                 "clipnorm", "batch_size", "patience", "encoder.initializer"]
        if self.factory_name != "language_model":
            names.append("encoder.bidirectional")
        if self.factory_name in ("acceptor", "pair_encoder"):
            names.append("encoder.pooling")
        if self.factory_name == "pair_encoder":
            names.append("interaction")
        if self.factory_name == "encoder_decoder":
            names.append("attention")
        if self.prepared.embedding_matrix is not None:
            names.append("embedding_mode")
        if self.tune_epochs:
            names.append("epochs")
        return names

    def _choice(self, hp, name, values, default):
        if name in self.fixed:
            return hp.Fixed(name, _parse_like(self.fixed[name], default))
        return hp.Choice(name, list(values), default=default)

    def _float(self, hp, name, low, high, default, step=None, log=False):
        if name in self.fixed:
            return hp.Fixed(name, float(self.fixed[name]))
        if log:
            return hp.Float(name, low, high, sampling="log", default=default)
        # Stepped values come back as e.g. 0.30000000000000004; the settings file wants 0.3.
        value = hp.Float(name, low, high, step=step, default=default)
        return None if value is None else round(value, 6)  # None: inactive conditional

    def model_settings(self, hp) -> dict:
        """{setting key: value} for the model config and the optimizer, from `hp`."""
        base, training = self.prepared.model_config, self.prepared.training
        encoder = base.encoder
        units = _including(self.space["units"], encoder.units)
        settings = {
            "encoder.cell": self._choice(hp, "encoder.cell", CELLS, encoder.cell),
            "encoder.units": self._choice(hp, "encoder.units", units, encoder.units),
            "encoder.layers": self._choice(hp, "encoder.layers", (1, 2), min(encoder.layers, 2)),
            "encoder.initializer": self._choice(hp, "encoder.initializer",
                                                _including(INITIALIZERS, encoder.initializer), encoder.initializer),
        }
        with hp.conditional_scope("encoder.layers", [2]):
            between = self._float(hp, "encoder.dropout", 0.0, 0.5, min(encoder.dropout, 0.5), step=0.05)
        settings["encoder.dropout"] = between if settings["encoder.layers"] == 2 else 0.0
        if "encoder.bidirectional" in self.hyperparameter_names():
            # keras-tuner keeps boolean choices as 0/1; the config wants a bool.
            settings["encoder.bidirectional"] = bool(self._choice(
                hp, "encoder.bidirectional", (False, True), encoder.bidirectional))
        if "encoder.pooling" in self.hyperparameter_names():
            settings["encoder.pooling"] = self._choice(hp, "encoder.pooling", POOLINGS, encoder.pooling)
        if "interaction" in self.hyperparameter_names():
            settings["interaction"] = self._choice(hp, "interaction", INTERACTIONS, base.interaction)
        if "attention" in self.hyperparameter_names():
            # "dot" only where the decoder is as wide as the encoder's outputs (its default).
            settings["attention"] = self._choice(hp, "attention", ("general", "additive", "none"), base.attention)
        settings["dropout"] = self._float(hp, "dropout", 0.0, 0.6, min(base.dropout, 0.6), step=0.05)
        if "embedding_mode" in self.hyperparameter_names():
            settings["embedding_mode"] = self._choice(hp, "embedding_mode", EMBEDDING_MODES, base.embedding_mode)
        optimizer = self._choice(hp, "optimizer", ("adam", "sgd"), training.optimizer)
        settings["optimizer"] = optimizer
        for name, (low, high) in LEARNING_RATES.items():
            with hp.conditional_scope("optimizer", [name]):
                default = training.learning_rate if name == training.optimizer else (low * high) ** 0.5
                rate = self._float(hp, f"learning_rate.{name}", low, high, min(max(default, low), high), log=True)
            if optimizer == name:
                settings["learning_rate"] = rate
        settings["clipnorm"] = float(self._choice(hp, "clipnorm", _including((0.0, 1.0, 5.0), training.clipnorm),
                                                  training.clipnorm))
        return settings

    def training_settings(self, hp) -> dict:
        """{setting key: value} for the training loop (batch size, epochs bound, patience)."""
        training = self.prepared.training
        settings = {
            "batch_size": self._choice(hp, "batch_size", _including(self.space["batch_size"], training.batch_size),
                                       training.batch_size),
            # Not 1 (unless the recipe says so): on a small dev split one noisy epoch would end training.
            "patience": self._choice(hp, "patience", _including((2, 4), training.patience), training.patience),
        }
        if self.tune_epochs:
            if "epochs" in self.fixed or self.max_epochs <= 1:
                settings["epochs"] = hp.Fixed("epochs", int(self.fixed.get("epochs", self.max_epochs)))
            else:
                settings["epochs"] = hp.Int("epochs", 1, self.max_epochs, default=self.max_epochs)
        return settings

    def settings(self, hp) -> dict:
        """All `--set` style settings of one trial (`zoo train <recipe> --set key=value` trains it)."""
        return {**self.model_settings(hp), **self.training_settings(hp)}

    def configs(self, hp):
        """(model config, TrainingConfig) of a trial: the recipe's, with the trial's settings applied."""
        from zoo.tasks import apply_settings

        assignments = [f"{key}={value}" for key, value in self.settings(hp).items()]
        return apply_settings(self.prepared.model_config, self.prepared.training, assignments)[:2]

    # -- keras-tuner's interface ---------------------------------------------------------------
    def build(self, hp):
        keras.backend.clear_session()  # otherwise memory grows from trial to trial
        model_config, training = self.configs(hp)  # declares every hyperparameter, fit's too
        return training.compile(self.prepared.build_model(model_config))

    def fit(self, hp, model, *args, **kwargs):
        """Trains on the task's batches with the trial's batch size, epochs and patience.

        `kwargs` come from the tuner: its callbacks, and for Hyperband `epochs`/`initial_epoch`.
        """
        _, training = self.configs(hp)
        batches = self.prepared.batches(training, splits=("train", "dev"))
        callbacks = list(kwargs.pop("callbacks", []))
        # The recipes stop on the same dev quantity (their EarlyStopping restores the best weights;
        # the tuner scores a trial by its best epoch, which comes to the same).
        callbacks.append(early_stopping(training, restore_best_weights=False))
        callbacks.extend(schedule_callbacks(training))  # the recipe's learning-rate schedule
        epochs = kwargs.pop("epochs", None) or training.epochs
        kwargs.setdefault("verbose", self.verbose)
        return model.fit(batches["train"], validation_data=batches["dev"], epochs=epochs,
                         callbacks=callbacks, shuffle=False, **kwargs)


class AcceptorHyperModel(ZooHyperModel):
    factory_name = "acceptor"


class TransducerHyperModel(ZooHyperModel):
    factory_name = "transducer"


class PairEncoderHyperModel(ZooHyperModel):
    factory_name = "pair_encoder"


class LanguageModelHyperModel(ZooHyperModel):
    factory_name = "language_model"


class EncoderDecoderHyperModel(ZooHyperModel):
    factory_name = "encoder_decoder"


HYPERMODELS = {cls.factory_name: cls for cls in
               (AcceptorHyperModel, TransducerHyperModel, PairEncoderHyperModel, LanguageModelHyperModel,
                EncoderDecoderHyperModel)}


def hypermodel_for(prepared, **kwargs) -> ZooHyperModel:
    """The HyperModel of the task's factory."""
    return HYPERMODELS[prepared.task.factory](prepared, **kwargs)


def settings_from_values(hypermodel: ZooHyperModel, values: dict) -> dict:
    """The `--set` settings of a finished trial, from its recorded hyperparameter values."""
    hp = kt.HyperParameters()
    hp.values.update({name: value for name, value in values.items() if not name.startswith("tuner/")})
    return hypermodel.settings(hp)
