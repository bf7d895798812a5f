"""TFDS adapters, offline: `tfds.testing.mock_data` fakes `tfds.load` (MockPolicy.USE_CODE)."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import functools  # noqa: E402

import pytest  # noqa: E402

tfds = pytest.importorskip("tensorflow_datasets")
import tensorflow as tf  # noqa: E402

from zoo.data import tfds_datasets as td  # noqa: E402
from zoo.data.task_data import TaskData  # noqa: E402

MISSING_DIR = "/nonexistent/zoo-tfds-test"  # no metadata: USE_CODE takes features from code


def mock(as_dataset_fn=None, num_examples=4):
    return tfds.testing.mock_data(num_examples=num_examples,
                                  policy=tfds.testing.MockPolicy.USE_CODE,
                                  as_dataset_fn=as_dataset_fn, data_dir=MISSING_DIR)


def fake_splits(rows_by_split, signature):
    """An `as_dataset_fn` that serves fixed rows per split name."""

    def as_dataset(self, split, **kwargs):
        rows = rows_by_split[str(split)]
        return tf.data.Dataset.from_generator(lambda: iter(rows), output_signature=signature)

    return as_dataset


@pytest.mark.parametrize("name", ["imdb_reviews", "glue/sst2", "snli", "multi_nli",
                                  "tiny_shakespeare"])
def test_random_mock_data_converts(name):
    with mock(num_examples=6):
        data = td.load_tfds(name, download=False, data_dir=MISSING_DIR)
    assert isinstance(data, TaskData) and data.name == name
    assert data.task == td.TFDS_SPECS[name].task
    assert data.info["source"] == "tensorflow-datasets" and data.info["split_rule"]
    if data.task == "language_model":
        assert data.sizes() == {"train": 1 * 6, "dev": 6, "test": 6}
        assert all(isinstance(doc, str) for doc in data.train)
        return
    assert data.label_names
    for example in data.train + data.dev + data.test:
        assert all(isinstance(text, str) for text in example[:-1])
        assert 0 <= example[-1] < len(data.label_names)


def test_label_names_from_the_features():
    with mock():
        assert td.load_tfds("snli", download=False).label_names == (
            "entailment", "neutral", "contradiction")
        assert td.load_tfds("imdb_reviews", download=False).label_names == ("neg", "pos")


TEXT_LABEL = {"sentence": tf.TensorSpec((), tf.string), "label": tf.TensorSpec((), tf.int64),
              "idx": tf.TensorSpec((), tf.int32)}


def test_sst2_uses_validation_as_test_and_carves_dev_from_train():
    rows = {
        "train": [{"sentence": f"train {i}", "label": i % 2, "idx": i} for i in range(50)],
        "validation": [{"sentence": f"valid {i}", "label": 1, "idx": i} for i in range(7)],
        "test": [{"sentence": "hidden", "label": -1, "idx": 0}],
    }
    with mock(fake_splits(rows, TEXT_LABEL)):
        data = td.load_tfds("glue/sst2", download=False, dev_fraction=0.2, seed=1)
        again = td.load_tfds("glue/sst2", download=False, dev_fraction=0.2, seed=1)
    assert data.sizes() == {"train": 40, "dev": 10, "test": 7}
    assert all(text.startswith("valid") for text, _ in data.test)
    assert {text for text, _ in data.train} | {text for text, _ in data.dev} == {
        f"train {i}" for i in range(50)}
    assert data.dev == again.dev  # seeded
    assert "validation used as test" in data.info["note"]
    assert "dev=0.2 of train" in data.info["split_rule"]


PAIR = {"premise": tf.TensorSpec((), tf.string), "hypothesis": tf.TensorSpec((), tf.string),
        "label": tf.TensorSpec((), tf.int64)}


def test_snli_drops_label_minus_one():
    def rows(split, labels):
        return [{"premise": f"{split} p{i}", "hypothesis": f"h{i}", "label": label}
                for i, label in enumerate(labels)]

    splits = {"train": rows("train", [0, 1, -1, 2, -1]), "validation": rows("dev", [2, -1]),
              "test": rows("test", [1, 0, 2])}
    with mock(fake_splits(splits, PAIR)):
        data = td.load_tfds("snli", download=False)
    assert data.task == "pair" and data.sizes() == {"train": 3, "dev": 1, "test": 3}
    assert data.train[0] == ("train p0", "h0", 0)
    assert [label for *_, label in data.train] == [0, 1, 2]
    assert data.info["dropped_no_label"] == 3


def test_multi_nli_split_rule():
    splits = {"train": [{"premise": "p", "hypothesis": "h", "label": 0}] * 10,
              "validation_matched": [{"premise": "m", "hypothesis": "h", "label": 1}] * 3}
    with mock(fake_splits(splits, PAIR)):
        data = td.load_tfds("multi_nli", download=False)
    assert data.sizes() == {"train": 9, "dev": 1, "test": 3}
    assert data.test[0] == ("m", "h", 1)


def tagging_signature(token_field, tag_field):
    return {token_field: tf.TensorSpec((None,), tf.string),
            tag_field: tf.TensorSpec((None,), tf.int64)}


@pytest.mark.parametrize("name, tag_field", [("conll2003", "pos"),
                                             ("universal_dependencies/en_ewt", "upos")])
def test_tagging_datasets_use_their_pos_tags(name, tag_field):
    def rows(split):
        return [{"tokens": [f"{split}-a", "b", "c"], tag_field: [1, 2, 3]},
                {"tokens": ["d"], tag_field: [4]}]

    splits = {split: rows(split) for split in ("train", "dev", "test")}
    with mock(fake_splits(splits, tagging_signature("tokens", tag_field))):
        data = td.load_tfds(name, download=False)
    assert data.task == "tagging" and data.sizes() == {"train": 2, "dev": 2, "test": 2}
    assert data.train[0] == (("train-a", "b", "c"), (1, 2, 3))
    assert data.dev[0][0][0] == "dev-a"
    expected_tags = 47 if name == "conll2003" else 18
    assert len(data.label_names) == expected_tags
    if name == "universal_dependencies/en_ewt":
        assert "NOUN" in data.label_names


def test_tagging_misaligned_rows_raise():
    splits = {split: [{"tokens": ["a", "b"], "pos": [1]}] for split in ("train", "dev", "test")}
    with mock(fake_splits(splits, tagging_signature("tokens", "pos"))):
        with pytest.raises(ValueError, match="2 tokens but 1 tags"):
            td.load_tfds("conll2003", download=False)


def test_tiny_shakespeare_one_text_per_split():
    splits = {"train": [{"text": "First Citizen:\nBefore we proceed"}],
              "validation": [{"text": "valid text"}], "test": [{"text": "test text"}]}
    with mock(fake_splits(splits, {"text": tf.TensorSpec((), tf.string)})):
        data = td.load_tfds("tiny_shakespeare", download=False)
    assert data.task == "language_model" and data.label_names == ()
    assert data.train == ["First Citizen:\nBefore we proceed"]
    assert data.dev == ["valid text"] and data.test == ["test text"]


def test_data_dir_and_download_are_passed_through(monkeypatch):
    calls = []

    def fake_load(name, **kwargs):
        calls.append((name, kwargs))
        raise RuntimeError("stop here")

    monkeypatch.setattr(tfds, "load", fake_load)
    with pytest.raises(RuntimeError, match="stop here"):
        td.load_tfds("snli", data_dir="/somewhere", download=False)
    name, kwargs = calls[0]
    assert name == "snli" and kwargs["data_dir"] == "/somewhere" and kwargs["download"] is False
    assert kwargs["split"] == ["train", "test", "validation"]


def test_unknown_name():
    with pytest.raises(ValueError, match="known"):
        td.load_tfds("mnist")


def test_register_keeps_existing_names_and_adds_prefixed_ones():
    sentinel = object()
    registry = {"snli": sentinel}
    added = td.register_tfds_datasets(registry)
    assert registry["snli"] is sentinel  # a registry corpus of the same name wins
    assert "snli" not in added and "tfds:snli" in added
    for name in td.TFDS_NAMES:
        assert registry[f"tfds:{name}"].func is td.load_tfds
        assert registry[f"tfds:{name}"].args == (name,)
    assert registry["glue/sst2"] == registry["tfds:glue/sst2"]
    assert len(added) == 2 * len(td.TFDS_NAMES) - 1
    td.register_tfds_datasets(registry, overwrite=True)
    assert isinstance(registry["snli"], functools.partial)


def test_registered_loader_passes_keywords():
    registry = {}
    td.register_tfds_datasets(registry)
    with mock():
        data = registry["tfds:tiny_shakespeare"](download=False, data_dir=MISSING_DIR)
    assert data.name == "tiny_shakespeare"


@pytest.mark.parametrize("name", ["wmt14_translate/de-en", "ted_hrlr_translate/pt_to_en"])
def test_translation_sets_give_source_target_pairs(name):
    with mock(num_examples=5):
        data = td.load_tfds(name, download=False, data_dir=MISSING_DIR)
    assert data.task == "sequence_to_sequence" and data.label_names == ()
    assert data.sizes()["train"] > 0 and data.info["split_rule"].startswith("train=train, dev=validation")
    for source, target in data.train + data.dev + data.test:
        assert isinstance(source, str) and isinstance(target, str) and source and target


TRANSLATION = {"pt": tf.TensorSpec((), tf.string), "en": tf.TensorSpec((), tf.string)}


def test_translation_keeps_the_languages_apart_caps_training_and_drops_empty_sides():
    splits = {"train": [{"pt": f"olá {i}", "en": f"hello {i}"} for i in range(6)] + [{"pt": " ", "en": "x"}],
              "validation": [{"pt": "bom dia", "en": "good morning"}, {"pt": "a", "en": ""}],
              "test": [{"pt": "obrigado", "en": "thank you"}]}
    with mock(fake_splits(splits, TRANSLATION)):
        data = td.load_tfds("ted_hrlr_translate/pt_to_en", download=False)
        capped = td.load_tfds("ted_hrlr_translate/pt_to_en", download=False, max_train_examples=4)
    assert data.train[0] == ("olá 0", "hello 0") and data.test == [("obrigado", "thank you")]
    assert data.sizes() == {"train": 6, "dev": 1, "test": 1} and data.info["dropped_empty"] == 2
    assert capped.sizes()["train"] == 4 and capped.dev == data.dev  # only training is capped
    with pytest.raises(ValueError, match="max_train_examples applies to the translation sets"):
        td.load_tfds("snli", max_train_examples=3)
    with pytest.raises(ValueError, match="max_train_examples must be a positive integer"):
        td.load_tfds("ted_hrlr_translate/pt_to_en", max_train_examples=0)
