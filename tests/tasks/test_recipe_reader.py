"""Recipe files are read as configuration: literals and config classes only, anything else refused."""
import dataclasses
import re
import textwrap
from pathlib import Path

import pytest

from zoo.models import AcceptorConfig, EncoderConfig, LanguageModelConfig
from zoo.tasks import (TASKS, CharLMSettings, Recipe, RecipeError, find_recipe, load_recipe, read_recipe,
                       shipped_recipes_dir)
from zoo.training import TrainingConfig

SHIPPED = shipped_recipes_dir()

GOOD = '''\
"""A sentiment recipe."""
from __future__ import annotations

from zoo.models import AcceptorConfig, EncoderConfig
from zoo.training import TrainingConfig

TASK = "sentiment"
DATASET = "uci_sentiment"
MODEL = AcceptorConfig(embedding_dim=8, encoder=EncoderConfig(units=4, bidirectional=True), dropout=0.5)
TRAINING = TrainingConfig(batch_size=16, learning_rate=3e-3, clipnorm=-0.0)
'''


def write(tmp_path, text, name="my_recipe.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def refused(tmp_path, text, line: int, *fragments):
    path = write(tmp_path, text)
    with pytest.raises(RecipeError) as caught:
        read_recipe(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line {line}: "), message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_reads_literals_and_config_classes(tmp_path):
    recipe = read_recipe(write(tmp_path, GOOD))
    assert recipe == Recipe(
        "sentiment", "uci_sentiment",
        AcceptorConfig(embedding_dim=8, encoder=EncoderConfig(units=4, bidirectional=True), dropout=0.5),
        TrainingConfig(batch_size=16, learning_rate=3e-3, clipnorm=0.0), None, str(tmp_path / "my_recipe.py"))
    assert recipe.name == "my_recipe"


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_shipped_recipe_reads_and_names_its_task(name):
    recipe = read_recipe(SHIPPED / f"{name}.py")
    assert recipe.task == name and recipe.name == name
    assert isinstance(recipe.model, TASKS[name].config_class)
    assert find_recipe(name).resolve() == (SHIPPED / f"{name}.py").resolve()


# The tasks whose recipe was searched by keras-tuner and ships the search's record (the encoder-
# decoder's compress recipe has not been searched yet).
SEARCHED = ("sentiment", "pos", "snli", "char_lm")


def test_the_shipped_folder_holds_recipes_and_their_records_only():
    files = sorted(path.name for path in SHIPPED.iterdir() if path.is_file())
    assert files == sorted([f"{name}.py" for name in TASKS] + [f"{name}.tuned.json" for name in SEARCHED])


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_value_line_of_a_shipped_recipe_says_why(name):
    """nanoGPT's habit: every value carries a comment (lines opening a nested config excepted)."""
    lines = (SHIPPED / f"{name}.py").read_text().split('"""', 2)[2].splitlines()
    values = [line for line in lines if re.match(r"\s*\w+\s*=", line) and not line.rstrip().endswith("(")]
    assert values
    assert [line for line in values if "#" not in line] == []


def test_the_char_lm_recipe_carries_its_task_settings():
    recipe = load_recipe("char_lm")
    assert recipe.settings == CharLMSettings(sequence_length=100, sample_prefix="And God said, ",
                                             sample_length=300, sample_temperature=0.7)
    changed = recipe.with_overrides(["sequence_length=20", "encoder.units=8", "batch_size=4"])
    assert (changed.settings.sequence_length, changed.model.encoder.units, changed.training.batch_size) == (20, 8, 4)
    # No field name is shared by a task's settings, its training settings and its model config,
    # so a --set key goes to exactly one of them.
    for task in TASKS.values():
        names = [{f.name for f in dataclasses.fields(cls)}
                 for cls in (task.config_class, TrainingConfig, task.settings_class) if cls is not None]
        assert all(not (a & b) for i, a in enumerate(names) for b in names[i + 1:]), task.name


def test_sentiment_recipe_holds_the_tuned_values_with_their_record():
    recipe = load_recipe("sentiment")
    encoder = recipe.model.encoder
    assert (encoder.cell, encoder.units, encoder.bidirectional, encoder.pooling) == ("lstm", 128, False, "max")
    assert (recipe.training.batch_size, recipe.training.patience) == (16, 2)
    assert recipe.training.learning_rate == 0.0035311346707686654
    text = (SHIPPED / "sentiment.py").read_text()
    assert "recipes/sentiment.tuned.json" in text


def test_a_function_is_refused_with_file_and_line(tmp_path):
    refused(tmp_path, GOOD + "\n\ndef run():\n    pass\n", 13, "found a function definition", "def run()")


@pytest.mark.parametrize("statement, kind", [
    ("import os", "an import"),
    ("if True:\n    TASK = 'pos'", "an if statement"),
    ("print('hello')", "an expression"),
    ("for i in range(3):\n    pass", "a for loop"),
])
def test_other_statements_are_refused(tmp_path, statement, kind):
    refused(tmp_path, GOOD + statement + "\n", 11, kind)


def test_nothing_in_the_file_runs(tmp_path):
    marker = tmp_path / "ran"
    refused(tmp_path, GOOD.replace('DATASET = "uci_sentiment"', f'DATASET = open({str(marker)!r}, "w").name'),
            8, "found `open(")
    refused(tmp_path, GOOD + f"TASK2 = __import__('os').system('touch {marker}')\n", 11, "unknown recipe key 'TASK2'")
    assert not marker.exists()


@pytest.mark.parametrize("value, fragment", [
    ("EncoderConfig(units=2 * 64)", "found `2 * 64`"),
    ("EncoderConfig(units=UNITS)", "found `UNITS`"),
    ("EncoderConfig(64)", "by name (field=value), not by position"),
    ("EncoderConfig(**{'units': 4})", "`**` is not allowed"),
    ("EncoderConfig(size=4)", "EncoderConfig has no field 'size'; its fields: cell, implementation, units"),
    ("EncoderConfig(units=0)", "EncoderConfig.units must be a positive integer, got 0"),
    ("dict(units=4)", "only the config classes can be called"),
    ("EncoderConfig(cell=[1, 2])", "found `[1, 2]`"),
])
def test_values_are_literals_and_config_calls_only(tmp_path, value, fragment):
    text = GOOD.replace("encoder=EncoderConfig(units=4, bidirectional=True)", f"encoder={value}")
    refused(tmp_path, text, 9, fragment)


def test_imports_must_be_config_classes_from_their_modules(tmp_path):
    refused(tmp_path, GOOD.replace("from zoo.training import TrainingConfig", "from zoo.training import fit_evaluate_save"),
            5, "may import only the config classes")
    refused(tmp_path, GOOD.replace("from zoo.training import TrainingConfig", "from os import system"),
            5, "may import only the config classes")
    refused(tmp_path, GOOD.replace("from zoo.training import TrainingConfig",
                                   "from zoo.training import TrainingConfig as T"), 5, "found `from zoo.training")


def test_keys_are_checked(tmp_path):
    refused(tmp_path, GOOD + "EPOCHS = 3\n", 11, "unknown recipe key 'EPOCHS'; a recipe assigns TASK, DATASET")
    refused(tmp_path, GOOD + 'TASK = "pos"\n', 11, "TASK is assigned twice (first on line 7)")
    refused(tmp_path, GOOD.replace('TASK = "sentiment"', 'TASK = "sentimnet"'), 7, "TASK must be one of sentiment")
    refused(tmp_path, GOOD.replace('TASK = "sentiment"', 'TASK = "snli"'), 9,
            "MODEL must be a PairEncoderConfig for the snli task, got AcceptorConfig(")
    refused(tmp_path, GOOD + "SETTINGS = CharLMSettings(sequence_length=5)\n", 11,
            "SETTINGS is not used: the sentiment task has no settings of its own")
    path = write(tmp_path, GOOD.replace('DATASET = "uci_sentiment"\n', ""))
    with pytest.raises(RecipeError, match=f"{re.escape(str(path))}: missing DATASET"):
        read_recipe(path)
    path = write(tmp_path, GOOD + "MODEL = (\n")
    with pytest.raises(RecipeError, match=r"line 11: not valid Python"):
        read_recipe(path)


def test_task_settings_default_when_absent(tmp_path):
    text = ('TASK = "char_lm"\nDATASET = "kjv"\nMODEL = LanguageModelConfig(embedding_dim=4)\n'
            "TRAINING = TrainingConfig(bucketing=False)\n")
    recipe = read_recipe(write(tmp_path, text))
    assert recipe.settings == CharLMSettings() and recipe.model == LanguageModelConfig(embedding_dim=4)
    refused(tmp_path, text + "SETTINGS = CharLMSettings(sequence_length=-3)\n", 5,
            "CharLMSettings.sequence_length must be a positive integer, got -3")


def test_find_recipe_looks_in_the_working_directory_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_recipe("sentiment").resolve() == (SHIPPED / "sentiment.py").resolve()
    (tmp_path / "recipes").mkdir()
    write(tmp_path / "recipes", GOOD, "sentiment.py")
    assert find_recipe("sentiment") == tmp_path / "recipes" / "sentiment.py"
    assert find_recipe("recipes/sentiment.py") == Path("recipes/sentiment.py")
    with pytest.raises(FileNotFoundError, match=r"no recipe 'sentimental': looked for .*recipes there: .*char_lm"):
        find_recipe("sentimental")
    with pytest.raises(FileNotFoundError, match="no recipe file elsewhere/x.py"):
        find_recipe("elsewhere/x.py")
