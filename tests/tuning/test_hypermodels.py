"""The search spaces: hyperparameters map onto the recipes' configs, every factory builds."""
import dataclasses

import numpy as np
import pytest

import keras
import keras_tuner as kt

from zoo.tasks import TASKS, Prepared, apply_settings, get, load_recipe
from zoo.tuning.hypermodels import CELLS, hypermodel_for, settings_from_values
from zoo.tuning.search import BudgetRandomOracle

VOCABULARY = 30


def fake_prepared(task: str, with_glove: bool = True) -> Prepared:
    """The recipe's configs with a tiny vocabulary; no data (build does not need any)."""
    recipe = load_recipe(task)
    config = dataclasses.replace(recipe.model, vocabulary_size=VOCABULARY)
    if getattr(config, "char_features", None) is not None and config.char_features.enabled:
        # Task.prepare sizes the character vocabulary from the data (POSTask.build_vectorizer).
        config = dataclasses.replace(
            config, char_features=dataclasses.replace(config.char_features, vocabulary_size=VOCABULARY))
    matrix = None
    if with_glove and task != "char_lm":
        matrix = np.random.default_rng(0).normal(size=(VOCABULARY, config.embedding_dim)).astype("float32")
    return Prepared(get(task), recipe.dataset, config, recipe.training, recipe.settings, None, None, matrix)


def fixed_hp(values: dict) -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.values.update(values)
    return hp


@pytest.mark.parametrize("task", list(TASKS))
def test_each_factory_builds_from_the_space_with_recipe_defaults(task):
    hypermodel = hypermodel_for(fake_prepared(task), fixed={"encoder.units": "4"})
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    assert isinstance(model, keras.Model)
    names = set(hp.values)
    assert {"encoder.cell", "encoder.layers", "optimizer", "clipnorm",
            "batch_size", "patience", "epochs", "dropout"} <= names
    # The implementation is a speed setting (every path computes the same function): not searched.
    assert "encoder.implementation" not in names
    assert ("encoder.bidirectional" in names) == (task != "char_lm")
    assert ("encoder.pooling" in names) == (task in ("sentiment", "snli"))
    assert ("interaction" in names) == (task == "snli")  # ESIM is a point of the SNLI space
    assert ("embedding_mode" in names) == (task != "char_lm")
    # Defaults are the recipe's own values where the space has them.
    recipe = load_recipe(task)
    assert hp.values["encoder.cell"] == recipe.model.encoder.cell
    assert hp.values["optimizer"] == recipe.training.optimizer
    assert hypermodel.configs(hp)[0].encoder.units == 4
    assert model.count_params() == hypermodel.prepared.build_model(hypermodel.configs(hp)[0]).count_params()


def test_values_map_onto_the_config_and_the_training_settings():
    hypermodel = hypermodel_for(fake_prepared("sentiment"))
    values = {"encoder.cell": "gru", "encoder.units": 16,
              "encoder.layers": 2, "encoder.dropout": 0.2, "encoder.bidirectional": 0,
              "encoder.pooling": "mean", "dropout": 0.3, "embedding_mode": "glove_frozen",
              "optimizer": "sgd", "learning_rate.sgd": 0.05, "clipnorm": 1.0, "batch_size": 64,
              "patience": 2, "epochs": 7}
    settings = settings_from_values(hypermodel, values)
    assert settings["learning_rate"] == 0.05 and "learning_rate.sgd" not in settings
    assert settings["encoder.bidirectional"] is False
    model_config, training = hypermodel.configs(fixed_hp(values))
    assert "encoder.implementation" not in settings
    assert (model_config.encoder.cell, model_config.encoder.implementation, model_config.encoder.units,
            model_config.encoder.layers, model_config.encoder.dropout) == ("gru", "auto", 16, 2, 0.2)
    assert model_config.encoder.pooling == "mean" and not model_config.encoder.bidirectional
    assert model_config.embedding_mode == "glove_frozen" and model_config.dropout == 0.3
    assert (training.optimizer, training.learning_rate, training.clipnorm) == ("sgd", 0.05, 1.0)
    assert (training.batch_size, training.patience, training.epochs) == (64, 2, 7)
    # The same settings, as `zoo train --set` applies them, give the same configs.
    assignments = [f"{key}={value}" for key, value in settings.items()]
    assert apply_settings(hypermodel.prepared.model_config, hypermodel.prepared.training, assignments) == (
        model_config, training, None)
    # One layer: the between-layer dropout is inactive and set to 0.
    one_layer = settings_from_values(hypermodel, {**values, "encoder.layers": 1})
    assert one_layer["encoder.dropout"] == 0.0


@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_builds(cell):
    hypermodel = hypermodel_for(fake_prepared("sentiment"))
    hp = fixed_hp({"encoder.cell": cell, "encoder.units": 16, "embedding_mode": "learned"})
    model = hypermodel.build(hp)
    assert hypermodel.configs(hp)[0].encoder.cell == cell
    ids = np.array([[3, 4, 5, 0], [6, 7, 0, 0]], dtype="int32")
    assert model.predict(ids, verbose=0).shape == (2, 2)


def test_build_clears_the_session(monkeypatch):
    calls = []
    original = keras.backend.clear_session
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: (calls.append(1), original())[1])
    hypermodel = hypermodel_for(fake_prepared("sentiment"), fixed={"encoder.units": "4"})
    hypermodel.build(kt.HyperParameters())
    hypermodel.build(kt.HyperParameters())
    assert len(calls) == 2


def test_hyperband_space_leaves_epochs_to_the_tuner_and_fix_is_checked():
    hypermodel = hypermodel_for(fake_prepared("char_lm"), tune_epochs=False, fixed={"encoder.units": "8"})
    hp = kt.HyperParameters()
    hypermodel.build(hp)
    assert "epochs" not in hp.values and hp.values["encoder.units"] == 8
    with pytest.raises(ValueError, match="cannot fix \\['encoder.bidirectional'\\]"):
        hypermodel_for(fake_prepared("char_lm"), fixed={"encoder.bidirectional": "true"})


def test_budget_oracle_stops_handing_out_trials():
    import time

    hp = kt.HyperParameters()
    hp.Int("x", 0, 10)
    oracle = BudgetRandomOracle(kt.Objective("score", "max"), max_trials=5, hyperparameters=hp, seed=1)
    oracle._set_project_dir(str(pytest.importorskip("tempfile").mkdtemp()), "p")
    first = oracle.create_trial("tuner0")
    assert first.status == "RUNNING"
    oracle.update_trial(first.trial_id, {"score": 1.0})
    first.status = "COMPLETED"
    oracle.end_trial(first)
    oracle.deadline = time.time() - 1
    assert oracle.create_trial("tuner0").status == "STOPPED"
    oracle.deadline = None
    oracle.trial_cap = 1
    assert oracle.create_trial("tuner0").status == "STOPPED"
    oracle.trial_cap = 5
    assert oracle.create_trial("tuner0").status == "RUNNING"


@pytest.mark.parametrize("task", list(TASKS))
def test_the_defaults_are_the_recipe_itself(task):
    """Every default is the recipe's value: the first trial of a search is the untuned baseline."""
    prepared = fake_prepared(task)
    model_config, training = hypermodel_for(prepared).configs(kt.HyperParameters())
    assert model_config == prepared.model_config
    assert training == prepared.training
