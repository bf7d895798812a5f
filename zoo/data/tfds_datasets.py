"""The zoo's tasks from tensorflow-datasets, by their TFDS names, as `TaskData` (for users online).

These machines reach no dataset hub, so the zoo's own corpora come from package registries
(`zoo.data.registry`); the TFDS names are kept for users who can download:

| TFDS name                       | task           | splits used (train / dev / test)                  |
|---------------------------------|----------------|---------------------------------------------------|
| `imdb_reviews`                  | classification | train minus dev / carved from train / test        |
| `glue/sst2`                     | classification | train minus dev / carved from train / validation  |
| `snli`                          | pair           | train / validation / test (label -1 dropped)      |
| `multi_nli`                     | pair           | train minus dev / carved from train / validation_matched |
| `conll2003`                     | tagging (POS)  | train / dev / test, `pos` tags                    |
| `universal_dependencies/en_ewt` | tagging (UPOS) | train / dev / test, `upos` tags                   |
| `tiny_shakespeare`              | language_model | train / validation / test, one long text each     |
| `wmt14_translate/de-en`         | sequence_to_sequence | train / validation (newstest2013) / test (newstest2014), German -> English |
| `wmt14_translate/fr-en`         | sequence_to_sequence | the same, French -> English                 |
| `ted_hrlr_translate/pt_to_en`   | sequence_to_sequence | train / validation / test, Portuguese -> English |

"Carved from train": a seeded `dev_fraction` of the training split (test sets without labels
are replaced by the labelled validation split; `info["split_rule"]` says so).

`tfds.load` is called with `data_dir=` and `download=` passed through (see PITFALLS: TFDS tries
the network unless told `download=False`). `register_tfds_datasets(REGISTRY)` registers each as
`"tfds:<name>"`, and under its bare name where the registry does not already use it (the
registry's own `snli` keeps that name).
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, MutableMapping

import numpy as np

from zoo.data.task_data import TaskData


@dataclasses.dataclass(frozen=True)
class _Spec:
    task: str
    train: str
    dev: str | None  # None: carved from train
    test: str
    fields: tuple[str, ...]  # text field(s), then the label / tag field (none for LM); source, target
    note: str = ""


TFDS_SPECS: dict[str, _Spec] = {
    "imdb_reviews": _Spec("classification", "train", None, "test", ("text", "label"),
                          "no dev split: dev carved from train"),
    "glue/sst2": _Spec("classification", "train", None, "validation", ("sentence", "label"),
                       "test labels are hidden: validation used as test, dev carved from train"),
    "snli": _Spec("pair", "train", "validation", "test", ("premise", "hypothesis", "label"),
                  "label -1 (no gold label) dropped"),
    "multi_nli": _Spec("pair", "train", None, "validation_matched",
                       ("premise", "hypothesis", "label"),
                       "test labels are hidden: validation_matched used as test, dev carved "
                       "from train, validation_mismatched not loaded; label -1 dropped"),
    "conll2003": _Spec("tagging", "train", "dev", "test", ("tokens", "pos"),
                       "PTB part-of-speech tags (the `pos` feature)"),
    "universal_dependencies/en_ewt": _Spec("tagging", "train", "dev", "test", ("tokens", "upos"),
                                           "universal POS tags (the `upos` feature)"),
    "tiny_shakespeare": _Spec("language_model", "train", "validation", "test", ("text",),
                              "each split is one long text"),
    # Translation pairs (`zoo train compress --dataset ...`): the features are the languages.
    "wmt14_translate/de-en": _Spec("sequence_to_sequence", "train", "validation", "test", ("de", "en"),
                                   "German -> English; about 4.5M training pairs: cap them with "
                                   "max_train_examples"),
    "wmt14_translate/fr-en": _Spec("sequence_to_sequence", "train", "validation", "test", ("fr", "en"),
                                   "French -> English; about 40M training pairs: cap them with "
                                   "max_train_examples"),
    "ted_hrlr_translate/pt_to_en": _Spec("sequence_to_sequence", "train", "validation", "test",
                                         ("pt", "en"), "Portuguese -> English TED talks (51,785 "
                                         "training pairs)"),
}
TFDS_NAMES = tuple(TFDS_SPECS)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _label_names(info, field: str) -> tuple[str, ...]:
    feature = info.features[field]
    feature = getattr(feature, "feature", feature)  # Sequence(ClassLabel) -> ClassLabel
    return tuple(feature.names)


def _convert(spec: _Spec, rows, counters: dict) -> list:
    """TFDS numpy examples -> TaskData examples of `spec.task`."""
    examples = []
    if spec.task == "classification":
        text_field, label_field = spec.fields
        for row in rows:
            label = int(row[label_field])
            if label < 0:
                counters["dropped_no_label"] += 1
                continue
            examples.append((_text(row[text_field]), label))
    elif spec.task == "pair":
        premise_field, hypothesis_field, label_field = spec.fields
        for row in rows:
            label = int(row[label_field])
            if label < 0:
                counters["dropped_no_label"] += 1
                continue
            examples.append((_text(row[premise_field]), _text(row[hypothesis_field]), label))
    elif spec.task == "tagging":
        token_field, tag_field = spec.fields
        for number, row in enumerate(rows):
            tokens = tuple(_text(token) for token in row[token_field])
            tags = tuple(int(tag) for tag in row[tag_field])
            if len(tokens) != len(tags):
                raise ValueError(f"example {number}: {len(tokens)} tokens but {len(tags)} tags")
            examples.append((tokens, tags))
    elif spec.task == "sequence_to_sequence":
        source_field, target_field = spec.fields
        for row in rows:
            source, target = _text(row[source_field]).strip(), _text(row[target_field]).strip()
            if not source or not target:  # an empty side teaches nothing and scores nothing
                counters["dropped_empty"] += 1
                continue
            examples.append((source, target))
            if counters["limit"] is not None and len(examples) >= counters["limit"]:
                break
    else:
        (text_field,) = spec.fields
        examples = [_text(row[text_field]) for row in rows]
    return examples


def _carve_dev(train: list, fraction: float, seed: int) -> tuple[list, list]:
    if not 0 < fraction < 1:
        raise ValueError(f"dev_fraction must be in (0, 1), got {fraction}")
    count = int(round(len(train) * fraction))
    chosen = np.zeros(len(train), dtype=bool)
    chosen[np.random.default_rng(seed).permutation(len(train))[:count]] = True
    return ([x for x, c in zip(train, chosen) if not c], [x for x, c in zip(train, chosen) if c])


def load_tfds(name: str, *, data_dir: str | None = None, download: bool = True,
              dev_fraction: float = 0.1, seed: int = 0,
              max_train_examples: int | None = None) -> TaskData:
    """Loads one of `TFDS_NAMES` through `tfds.load` and converts it to `TaskData`.

    Args:
        name: a TFDS name from `TFDS_NAMES`, e.g. `"glue/sst2"`.
        data_dir: TFDS data directory (passed to `tfds.load`).
        download: let TFDS download and prepare (passed to `tfds.load`); False for prepared data
            offline.
        dev_fraction: share of train carved out as dev where the dataset has no usable dev.
        seed: seed of that carving.
        max_train_examples: translation sets only: keep the first N training pairs (WMT's
            millions do not fit a CPU budget); None keeps all.

    Returns:
        `TaskData` named `name`; `info` records the TFDS version, the split rule and counts of
        dropped examples.
    """
    if name not in TFDS_SPECS:
        raise ValueError(f"unknown TFDS dataset {name!r}; known: {', '.join(TFDS_NAMES)}")
    import tensorflow_datasets as tfds  # lazy: heavy import, only for users of TFDS names

    spec = TFDS_SPECS[name]
    if max_train_examples is not None:
        if spec.task != "sequence_to_sequence":
            raise ValueError(f"max_train_examples applies to the translation sets, not {name!r}")
        if isinstance(max_train_examples, bool) or not isinstance(max_train_examples, int) or max_train_examples < 1:
            raise ValueError(f"max_train_examples must be a positive integer or None, got {max_train_examples!r}")
    splits = [spec.train, spec.test] + ([spec.dev] if spec.dev else [])
    datasets, info = tfds.load(name, split=splits, data_dir=data_dir, download=download,
                               with_info=True)
    counters = {"dropped_no_label": 0, "dropped_empty": 0, "limit": None}
    converted = []
    for index, dataset in enumerate(datasets):
        counters["limit"] = max_train_examples if index == 0 else None  # only the training split is capped
        converted.append(_convert(spec, tfds.as_numpy(dataset), counters))
    train, test = converted[0], converted[1]
    if spec.dev:
        dev = converted[2]
        split_rule = f"train={spec.train}, dev={spec.dev}, test={spec.test}"
    else:
        train, dev = _carve_dev(train, dev_fraction, seed)
        split_rule = (f"train={spec.train} minus dev, dev={dev_fraction:g} of {spec.train} "
                      f"(seed {seed}), test={spec.test}")
    label_names = () if spec.task in ("language_model", "sequence_to_sequence") else \
        _label_names(info, spec.fields[-1])
    task_info = {
        "source": "tensorflow-datasets",
        "tfds_name": name,
        "tfds_version": str(info.version),
        "split_rule": split_rule,
        "note": spec.note,
    }
    if spec.task in ("classification", "pair"):
        task_info["dropped_no_label"] = counters["dropped_no_label"]
    if spec.task == "sequence_to_sequence":
        task_info["dropped_empty"] = counters["dropped_empty"]
        task_info["max_train_examples"] = max_train_examples
    data = TaskData(name=name, task=spec.task, train=train, dev=dev, test=test,
                    label_names=label_names, info=task_info)
    data.info["sizes"] = data.sizes()
    return data


def register_tfds_datasets(registry: MutableMapping[str, Callable[..., TaskData]],
                           overwrite: bool = False) -> list[str]:
    """Adds a loader per TFDS name to `registry` (e.g. `zoo.data.registry.REGISTRY`).

    Each entry is `functools.partial(load_tfds, name)`, so `registry[name](data_dir=...,
    download=False)` works. Every dataset is also registered as `"tfds:<name>"`, which never
    collides; the bare name is skipped when the registry already holds it (a registry-package
    corpus of the same name wins) unless `overwrite`.

    Returns:
        The keys added.
    """
    added = []
    for name in TFDS_NAMES:
        loader = functools.partial(load_tfds, name)
        for key in (name, f"tfds:{name}"):
            if key in registry and not overwrite:
                continue
            registry[key] = loader
            added.append(key)
    return added


__all__ = ["TFDS_NAMES", "TFDS_SPECS", "load_tfds", "register_tfds_datasets"]
