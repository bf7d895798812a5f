"""`python -m zoo.tuning.compare`: the tuned-vs-recipe check on the dev split, recorded."""
import json

import pytest

from zoo.tasks import load_recipe, train
from zoo.tuning.compare import dev_check, evaluate_on_dev

TINY = ["epochs=1", "encoder.units=4", "embedding_mode=learned", "embedding_dim=8"]


def test_dev_check_scores_both_sides_on_dev_and_records_them(tmp_path, monkeypatch):
    # The tuned side: the record's settings given as --set overrides (as `zoo tune` prints them).
    _, tuned_run = train("sentiment", runs=tmp_path / "tuned", overrides=[*TINY, "batch_size=8"])
    _, default_run = train("sentiment", runs=tmp_path / "default", overrides=TINY)
    record = tmp_path / "sentiment.tuned.json"
    record.write_text(json.dumps({"settings": {"batch_size": 8}, "record": {"tuner": "hyperband"}}))

    check = dev_check(record, [tuned_run], [default_run], how="one tiny run each")

    written = json.loads(record.read_text())
    # Which side wins one tiny run each is up to the data; the record follows the rule either way
    # (both outcomes are also forced below).
    kept = {"batch_size": 8} if check["tuned_not_below_default"] else {}
    assert written["settings"] == kept and written["record"]["tuner"] == "hyperband"
    assert written["record"]["dev_check"] == check
    assert check["metric"] == "accuracy" and check["how"] == "one tiny run each"
    assert check["dev_tuned"] == [round(evaluate_on_dev(tuned_run)["accuracy"], 4)]
    test = json.loads((default_run / "metrics.json").read_text())["test"]["accuracy"]
    assert check["test_default"] == [round(test, 4)] and check["seeds_default"] == [0]
    assert check["tuned_not_below_default"] == (check["dev_mean_tuned"] >= check["dev_mean_default"])

    with pytest.raises(ValueError, match=r"trained without the tuned settings \(batch_size is 16, the record has 8\), "
                                         "but is given as a tuned run"):
        dev_check(record, [default_run], [default_run])
    with pytest.raises(ValueError, match="trained with all the tuned settings, but is given as a default run"):
        dev_check(record, [tuned_run], [tuned_run])

    # Tuned scoring at least the default on dev: the settings stay; below: they are emptied (keep
    # the recipe) and kept as the search's best.
    from zoo.tuning import compare

    real = compare.evaluate_on_dev
    monkeypatch.setattr(compare, "evaluate_on_dev", lambda run: {**real(run), "accuracy": 0.75})
    record.write_text(json.dumps({"settings": {"batch_size": 8}, "record": {}}))
    assert dev_check(record, [tuned_run], [default_run])["tuned_not_below_default"] is True
    assert json.loads(record.read_text())["settings"] == {"batch_size": 8}
    scores = {str(tuned_run): 0.70, str(default_run): 0.80}
    monkeypatch.setattr(compare, "evaluate_on_dev", lambda run: {**real(run), "accuracy": scores[str(run)]})
    record.write_text(json.dumps({"settings": {"batch_size": 8}, "record": {}}))
    below = dev_check(record, [tuned_run], [default_run])
    written = json.loads(record.read_text())
    assert below["tuned_not_below_default"] is False and "action" in below
    assert written["settings"] == {} and written["record"]["search_best_settings"] == {"batch_size": 8}


def test_settings_that_are_the_recipe_itself_need_no_retraining(tmp_path):
    from zoo.tuning.compare import same_as_default

    recipe = load_recipe("sentiment")
    record = tmp_path / "sentiment.tuned.json"  # the task comes from the file's name
    own = {"batch_size": recipe.training.batch_size, "encoder.units": recipe.model.encoder.units}
    record.write_text(json.dumps({"settings": own, "record": {"tuner": "hyperband"}}))
    assert same_as_default(record)["same_configuration_as_default"] is True
    assert json.loads(record.read_text())["record"]["dev_check"]["same_configuration_as_default"] is True

    changed = {**own, "encoder.units": recipe.model.encoder.units + 1}
    record.write_text(json.dumps({"settings": changed, "record": {}}))
    assert same_as_default(record) is None
    assert json.loads(record.read_text()) == {"settings": changed, "record": {}}  # untouched


def test_the_snli_record_predates_esim_and_holds_no_settings():
    """The SNLI search had no interaction in its space; its best (the siamese recipe of then) is
    kept as the search's best, not as settings for today's ESIM recipe."""
    from zoo.tasks import shipped_recipes_dir

    record = json.loads((shipped_recipes_dir() / "snli.tuned.json").read_text())
    assert record["settings"] == {} and record["record"]["search_best_settings"]["dropout"] == 0.1
    assert "interaction" not in record["record"]["search_best_settings"]
    assert load_recipe("snli").model.interaction == "esim"


@pytest.mark.parametrize("task", ["sentiment"])
def test_the_shipped_records_settings_are_what_the_recipe_says(task):
    """sentiment: the tuned settings were written into its recipe, so applying the record's
    settings changes nothing."""
    from zoo.tasks import apply_settings, shipped_recipes_dir

    recipe = load_recipe(task)
    settings = json.loads((shipped_recipes_dir() / f"{task}.tuned.json").read_text())["settings"]
    assert settings
    assignments = [f"{key}={value}" for key, value in settings.items()]
    assert apply_settings(recipe.model, recipe.training, assignments) == (recipe.model, recipe.training, None)
