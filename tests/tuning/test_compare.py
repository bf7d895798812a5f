"""`python -m zoo.tuning.compare`: the tuned-vs-default check on the dev split, recorded."""
import json

import pytest

from recipes import sentiment
from recipes._runner import main
from zoo.tuning.compare import dev_check, evaluate_on_dev

TINY = ["--set", "epochs=1", "--set", "encoder.units=4", "--set", "embedding_mode=learned",
        "--set", "embedding_dim=8"]


def test_dev_check_scores_both_sides_on_dev_and_records_them(tmp_path, monkeypatch):
    main(sentiment, ["--runs", str(tmp_path / "tuned"), *TINY])  # reads recipes/sentiment.tuned.json
    main(sentiment, ["--runs", str(tmp_path / "default"), "--untuned", *TINY])
    tuned_run, default_run = tmp_path / "tuned" / "sentiment", tmp_path / "default" / "sentiment"
    record = tmp_path / "sentiment.tuned.json"
    record.write_text(json.dumps({"settings": {"batch_size": 16}, "record": {"tuner": "hyperband"}}))

    check = dev_check(record, [tuned_run], [default_run], how="one tiny run each")

    written = json.loads(record.read_text())
    assert written["settings"] == {"batch_size": 16} and written["record"]["tuner"] == "hyperband"
    assert written["record"]["dev_check"] == check
    assert check["metric"] == "accuracy" and check["how"] == "one tiny run each"
    assert check["dev_tuned"] == [round(evaluate_on_dev(tuned_run)["accuracy"], 4)]
    test = json.loads((default_run / "metrics.json").read_text())["test"]["accuracy"]
    assert check["test_default"] == [round(test, 4)] and check["seeds_default"] == [0]
    assert check["tuned_not_below_default"] == (check["dev_mean_tuned"] >= check["dev_mean_default"])

    with pytest.raises(ValueError, match="trained without tuned settings, but is given as a tuned run"):
        dev_check(record, [default_run], [default_run])

    # Tuned scoring below the default on dev: the file falls back to the recipe itself.
    from zoo.tuning import compare

    real = compare.evaluate_on_dev
    scores = {str(tuned_run): 0.70, str(default_run): 0.80}
    monkeypatch.setattr(compare, "evaluate_on_dev", lambda run: {**real(run), "accuracy": scores[str(run)]})
    record.write_text(json.dumps({"settings": {"batch_size": 16}, "record": {}}))
    below = dev_check(record, [tuned_run], [default_run])
    written = json.loads(record.read_text())
    assert below["tuned_not_below_default"] is False and "action" in below
    assert written["settings"] == {} and written["record"]["search_best_settings"] == {"batch_size": 16}


def test_settings_that_are_the_recipe_itself_need_no_retraining(tmp_path):
    from zoo.tuning.compare import same_as_default

    record = tmp_path / "sentiment.tuned.json"  # the task comes from the file's name
    own = {"batch_size": sentiment.TRAINING.batch_size, "encoder.units": sentiment.MODEL.encoder.units}
    record.write_text(json.dumps({"settings": own, "record": {"tuner": "hyperband"}}))
    assert same_as_default(record)["same_configuration_as_default"] is True
    assert json.loads(record.read_text())["record"]["dev_check"]["same_configuration_as_default"] is True

    changed = {**own, "encoder.units": sentiment.MODEL.encoder.units + 1}
    record.write_text(json.dumps({"settings": changed, "record": {}}))
    assert same_as_default(record) is None
    assert json.loads(record.read_text()) == {"settings": changed, "record": {}}  # untouched
