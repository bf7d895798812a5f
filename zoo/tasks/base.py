"""What a task is: its data, vectorizer, factory, batches and metrics (one `Task` per task).

`zoo train`, `zoo tune` and `zoo evaluate` all go through a task, so a run, a trial of a search and
a re-evaluation see the same vocabulary, the same embedding matrix and the same batches:

    task = zoo.tasks.get("sentiment")
    prepared = task.prepare(model_config, training)     # data, vectorizer, GloVe rows, sizes
    model = training.compile(prepared.build_model())
    batches = prepared.batches()                        # {"train", "dev", "test"}

A recipe (`recipes/<task>.py`, read by `zoo.tasks.read_recipe`) gives the numbers; the task never
reads a recipe file itself.
"""
from __future__ import annotations

import collections
import dataclasses
import math
import random
from typing import Any

SPLITS = ("train", "dev", "test")


@dataclasses.dataclass
class Prepared:
    """A task's data made ready once for one configuration: what a run and every trial of a search share.

    Args:
        task: the `Task`.
        dataset: the dataset name that was loaded.
        model_config: the recipe's model config with the sizes the data decides filled in
            (vocabulary, classes, characters; see `from_data`).
        training: the `TrainingConfig`.
        settings: the task's own settings (e.g. `CharLMSettings`), or None for tasks without any.
        data: the `TaskData` (its training split subsampled when `train_fraction` < 1).
        vectorizer: the vectorizer built from the whole training split.
        embedding_matrix: GloVe rows for the vocabulary, or None (learned embeddings, characters).
        coverage: the GloVe `CoverageReport` of that matrix, or None.
        train_fraction: the fraction of the training examples kept (searches use less).
        from_data: {setting key: value} of what the data set in `model_config`.
        oov: dev/test tokens out of the training vocabulary and out of the model's vocabulary
            (`Task.oov_report`; GloVe modes only), or None.
    """

    task: "Task"
    dataset: str
    model_config: Any
    training: Any
    settings: Any
    data: Any
    vectorizer: Any
    embedding_matrix: Any = None
    coverage: Any = None
    train_fraction: float = 1.0
    from_data: dict = dataclasses.field(default_factory=dict)
    oov: dict | None = None

    def batches(self, training=None, splits=SPLITS) -> dict:
        """{split: tf.data.Dataset} for these training settings (batch size, bucketing)."""
        return self.task.batches(self.data, self.vectorizer, training or self.training, self.settings,
                                 seed=self.model_config.seed, splits=splits)

    def build_model(self, model_config=None):
        """The task's factory on `model_config` (default: the prepared one), with the GloVe rows
        when its embedding mode uses them. Not compiled."""
        model_config = model_config or self.model_config
        matrix = self.embedding_matrix if model_config.embedding_mode != "learned" else None
        return self.task.build_model(model_config, matrix)


class Task:
    """One task of the zoo: which data it reads and how, which factory, which batches and metrics.

    Subclasses set the class attributes and implement `build_vectorizer` and `make_dataset`
    (and `token_counts` for word tasks, which can use GloVe).

    Attributes:
        name: the task's name (`zoo train <name>` runs `recipes/<name>.py`).
        factory: the `zoo.models.FACTORIES` key of its model.
        config_class: the model config class a recipe of this task must give as `MODEL`.
        settings_class: a frozen dataclass of the task's own settings (a recipe's `SETTINGS`), or None.
        data_kind: the `TaskData.task` it reads ("classification", "tagging", "pair", "language_model").
        objective: (Keras log name, "min" or "max"): what a search optimises on dev.
        score: (metric name, higher is better): what `zoo.tuning.compare` compares.
        search_space: the search choices that depend on the task's size (units, batch sizes).
    """

    name: str = ""
    factory: str = ""
    config_class: type = type(None)
    settings_class: type | None = None
    data_kind: str = ""
    objective: tuple[str, str] = ("val_accuracy", "max")
    score: tuple[str, bool] = ("accuracy", True)
    search_space: dict = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # -- settings ----------------------------------------------------------------------------
    def default_settings(self):
        """The task settings a recipe without `SETTINGS` gets (None for tasks without any)."""
        return self.settings_class() if self.settings_class is not None else None

    def settings_from_dict(self, values: dict | None):
        """Task settings from their JSON (a run's `recipe.json`); the defaults when absent."""
        if self.settings_class is None or values is None:
            return self.default_settings()
        return self.settings_class.from_dict(values)

    # -- data --------------------------------------------------------------------------------
    def load_data(self, dataset: str):
        """The dataset's fixed splits (`zoo.data.load`), checked to be of the kind this task reads."""
        import zoo.data

        data = zoo.data.load(dataset)
        if data.task != self.data_kind:
            from zoo.data.registry import names_of_kind

            raise ValueError(f"dataset {dataset!r} holds {data.task} data; the {self.name} task reads "
                             f"{self.data_kind} data: {', '.join(names_of_kind(self.data_kind))}")
        return data

    def build_vectorizer(self, data, model_config, training):
        """(vectorizer from the training split, model config with its sizes set from the data)."""
        raise NotImplementedError

    def token_counts(self, data, split: str = "train") -> collections.Counter | None:
        """A split's token counts, as the vectorizer tokenizes (for the GloVe coverage and OOV
        reports); None: the task has no pretrained vectors."""
        return None

    def subsample(self, data, fraction: float, seed: int):
        """The data with a seeded `fraction` of its training examples (the dev and test splits whole)."""
        if fraction >= 1.0:
            return data
        count = max(1, int(round(len(data.train) * fraction)))
        return dataclasses.replace(data, train=random.Random(seed).sample(list(data.train), count))

    def prepare(self, model_config, training, settings=None, dataset: str | None = None,
                train_fraction: float = 1.0, glove: bool | None = None, data=None) -> Prepared:
        """Loads the data, builds the vectorizer and (for word tasks) the GloVe matrix, once.

        Args:
            model_config, training, settings: the recipe's (settings: None for the defaults).
            dataset: the dataset name (required unless `data` is given).
            train_fraction: keep this fraction of the training examples (after the vocabulary
                and the matrix are made from all of them), for cheaper search trials.
            glove: build the GloVe matrix; None: when `model_config.embedding_mode` uses it (a
                search passes True, since its trials may switch the mode).
            data: an already loaded `TaskData` instead of `dataset`.
        """
        if not 0.0 < train_fraction <= 1.0:
            raise ValueError(f"--train-fraction must be in (0, 1], got {train_fraction}")
        if not isinstance(model_config, self.config_class):
            raise ValueError(f"the {self.name} task trains a {self.config_class.__name__}, got a "
                             f"{type(model_config).__name__}")
        settings = self.default_settings() if settings is None else settings
        if data is None:
            data = self.load_data(dataset)
        vectorizer, sized = self.build_vectorizer(data, model_config, training)
        matrix = coverage = oov = None
        counts = self.token_counts(data)
        if glove is None:
            glove = sized.embedding_mode != "learned"
        if glove and counts is not None:
            from zoo import embeddings

            words, vectors = embeddings.load_glove()
            training_vocabulary = set(map(str, vectorizer.get_vocabulary()))
            if training.pretrained_words:
                from zoo.data.vectorize import extend_vocabulary

                vectorizer, added = extend_vocabulary(vectorizer, words[: training.pretrained_words])
                sized = dataclasses.replace(sized, vocabulary_size=len(vectorizer.get_vocabulary()),
                                            pretrained_rows=len(added))
            matrix, coverage = embeddings.build_embedding_matrix(
                vectorizer.get_vocabulary(), words, vectors, seed=sized.seed, token_counts=counts)
            oov = self.oov_report(data, training_vocabulary, set(map(str, vectorizer.get_vocabulary())))
        return Prepared(self, dataset or data.name, sized, training, settings,
                        self.subsample(data, train_fraction, sized.seed), vectorizer, matrix, coverage,
                        train_fraction, _differences(model_config, sized), oov)

    def oov_report(self, data, training_vocabulary: set, vocabulary: set) -> dict:
        """{split: {"tokens", "oov_training_vocabulary", "oov"}} for dev and test: how many tokens
        the training vocabulary alone leaves OOV, and how many the model's (open) vocabulary."""
        report = {}
        for split in ("dev", "test"):
            counts = self.token_counts(data, split)
            report[split] = {
                "tokens": sum(counts.values()),
                "oov_training_vocabulary": sum(n for token, n in counts.items() if token not in training_vocabulary),
                "oov": sum(n for token, n in counts.items() if token not in vocabulary),
            }
        return report

    # -- model and batches -------------------------------------------------------------------
    def build_model(self, model_config, embedding_matrix=None):
        """The task's model (`zoo.models.build`), not compiled."""
        from zoo import models

        return models.build(model_config, embedding_matrix)

    def make_dataset(self, examples, vectorizer, training, settings, shuffle: bool, seed: int):
        """One split's batches."""
        raise NotImplementedError

    def batches(self, data, vectorizer, training, settings=None, seed: int = 0, splits=SPLITS) -> dict:
        """{split: batches}: the training split shuffled (seeded), dev and test in order."""
        settings = self.default_settings() if settings is None else settings
        unknown = sorted(set(splits) - set(SPLITS))
        if unknown:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {unknown}")
        return {split: self.make_dataset(getattr(data, split), vectorizer, training, settings,
                                          shuffle=split == "train", seed=seed)
                for split in splits}

    # -- metrics -----------------------------------------------------------------------------
    def extra_metrics(self, data) -> dict:
        """What `metrics.json` records about the data besides the scores."""
        return {"data_sizes": data.sizes(), "label_names": list(data.label_names)}

    def derived_metrics(self, metrics: dict) -> dict:
        """`metrics` (Keras' evaluate results) plus what the task computes from them."""
        return {name: float(value) for name, value in metrics.items()}

    def after_evaluation(self, prepared: Prepared, model, metrics: dict) -> None:
        """Adds task-specific entries to a finished run's `metrics` (before `metrics.json` is written)."""
        metrics["test"] = self.derived_metrics(metrics["test"])


def _differences(before, after, prefix: str = "") -> dict:
    """{dotted key: value} of the fields that differ between two configs of one class."""
    changed = {}
    for field in dataclasses.fields(before):
        old, new = getattr(before, field.name), getattr(after, field.name)
        if dataclasses.is_dataclass(old) and dataclasses.is_dataclass(new):
            changed.update(_differences(old, new, f"{prefix}{field.name}."))
        elif old != new:
            changed[prefix + field.name] = new
    return changed


def bits_per_character(loss_in_nats: float) -> float:
    """Cross-entropy in nats per character, in bits."""
    return loss_in_nats / math.log(2)


class WordTask(Task):
    """A task over raw sentences: one word vectorizer (lowercased, punctuation split off) from
    the training split's texts (`texts(data.train)`), GloVe counts from the same texts, and
    `dataset_function` (a `zoo.data.batching` function) to batch the examples."""

    dataset_function = ""
    # Tokens given the ids right after OOV, before the words (an encoder-decoder's start and end).
    leading_tokens: tuple[str, ...] = ()

    @staticmethod
    def texts(examples) -> list[str]:
        """The texts of a split's examples (both sentences of a pair)."""
        raise NotImplementedError

    def build_vectorizer(self, data, model_config, training):
        from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer

        vectorizer = ZooVectorizer(build_word_vectorizer(
            self.texts(data.train), max_tokens=training.max_vocabulary or None, min_count=training.min_count,
            leading_tokens=self.leading_tokens))
        return vectorizer, dataclasses.replace(model_config, **self.sizes_from_data(data, vectorizer))

    def sizes_from_data(self, data, vectorizer) -> dict:
        """The model config's sizes that the data decides: the vocabulary and the classes."""
        return {"vocabulary_size": len(vectorizer.get_vocabulary()), "num_classes": len(data.label_names)}

    def token_counts(self, data, split="train"):
        from zoo.data.vectorize import count_word_tokens

        return count_word_tokens(self.texts(getattr(data, split)))

    def after_evaluation(self, prepared, model, metrics):
        from zoo.tasks.reports import classification_report

        super().after_evaluation(prepared, model, metrics)
        test = prepared.batches(splits=("test",))["test"]
        metrics["test_report"] = classification_report(model, test, prepared.data.label_names)

    def make_dataset(self, examples, vectorizer, training, settings, shuffle, seed):
        from zoo.data import batching

        return getattr(batching, self.dataset_function)(
            examples, vectorizer, batch_size=training.batch_size, shuffle=shuffle, seed=seed,
            padding="bucket" if training.bucketing else "fixed")
