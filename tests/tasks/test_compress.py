"""The compress task: one vocabulary with start/end tokens, teacher-forcing batches, BLEU/chrF report."""
import numpy as np

from zoo.conventions import END_ID, END_TOKEN, START_ID, START_TOKEN
from zoo.data.task_data import TaskData
from zoo.models import EncoderConfig, EncoderDecoderConfig
from zoo.tasks import DecodingSettings, get
from zoo.tasks.compress import generation_report
from zoo.training import TrainingConfig

PAIRS = [("The black dog runs in the park.", "A dog runs."), ("Two girls smile at the camera.", "Girls smile."),
         ("A man plays a red guitar on stage.", "A man plays."), ("An old woman reads the paper.", "A woman reads.")]


def prepared():
    data = TaskData("tiny", "sequence_to_sequence", train=PAIRS * 4, dev=PAIRS[:2], test=PAIRS)
    config = EncoderDecoderConfig(embedding_dim=4, encoder=EncoderConfig(units=4, bidirectional=True))
    return get("compress").prepare(config, TrainingConfig(batch_size=4, epochs=1), data=data)


def test_the_vocabulary_holds_start_and_end_and_the_batches_shift_the_target():
    ready = prepared()
    vocabulary = ready.vectorizer.get_vocabulary()
    assert (vocabulary[START_ID], vocabulary[END_ID]) == (START_TOKEN, END_TOKEN)
    assert ready.model_config.vocabulary_size == len(vocabulary)
    (inputs, next_ids, weights), = ready.batches(splits=("test",))["test"].take(1)
    decoder_ids, next_ids, weights = (np.asarray(x) for x in (inputs["target"], next_ids, weights))
    assert np.all(decoder_ids[:, 0] == START_ID)
    real = weights > 0
    assert np.all(next_ids[np.arange(len(next_ids)), real.sum(axis=1) - 1] == END_ID)  # ends with [END]
    np.testing.assert_array_equal(decoder_ids[:, 1:][real[:, :-1]], next_ids[:, :-1][real[:, :-1]])


def test_the_generation_report_scores_greedy_beam_and_copying():
    ready = prepared()
    model = ready.training.compile(ready.build_model())
    # Copying the source is exact against one of each source's references, so exact for
    # multi-reference BLEU: the other references (a second target of a source) do not lower it.
    identical = [(source, source) for source, _ in PAIRS] + [PAIRS[0]]
    report = generation_report(model, identical, ready.vectorizer, DecodingSettings(beam_width=2, examples=2))
    assert report["copy_source"]["bleu"] == 100.0 and report["copy_source"]["chrf"] == 100.0
    assert (report["sources"], report["references"]) == (4, 5)  # a source shared by two examples is decoded once
    assert report["examples"][0]["references"] == [PAIRS[0][0], PAIRS[0][1]]
    single = generation_report(model, [PAIRS[0]], ready.vectorizer, DecodingSettings(beam_width=1, examples=0))
    assert single["copy_source"]["bleu"] < 100.0  # against its other reference alone, copying is not exact
    assert {"greedy", "beam_2", "signatures", "examples"} <= set(report)
    assert 0.0 <= report["greedy"]["bleu"] < 100.0  # an untrained model does not copy
    assert [example["source"] for example in report["examples"]] == [PAIRS[0][0], PAIRS[1][0]]


def test_zoo_trains_compress_on_a_tfds_translation_name(tmp_path):
    """What an online user runs (`zoo train compress --dataset ted_hrlr_translate/pt_to_en`), on
    tfds' mock data (random strings in the set's own features)."""
    import pytest

    tfds = pytest.importorskip("tensorflow_datasets")
    from zoo.tasks import train

    with tfds.testing.mock_data(num_examples=8, policy=tfds.testing.MockPolicy.USE_CODE,
                                data_dir=str(tmp_path / "no-tfds-data")):
        metrics, run_dir = train("compress", dataset="ted_hrlr_translate/pt_to_en", runs=tmp_path, overrides=[
            "epochs=1", "encoder.units=4", "embedding_mode=learned", "embedding_dim=4", "min_count=1",
            "beam_width=2", "examples=1"])
    import json

    assert json.loads((run_dir / "recipe.json").read_text())["dataset"] == "ted_hrlr_translate/pt_to_en"
    report = metrics["test_generation"]
    assert {"greedy", "beam_2", "copy_source"} <= set(report) and len(report["examples"]) == 1
    assert (run_dir / "model.keras").exists()
