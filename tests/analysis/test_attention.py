"""`zoo analyze attention`: an ESIM run's alignment of two sentences as a PNG heatmap."""
import numpy as np
import pytest

import zoo.data
from zoo.cli import main
from zoo.data import TaskData
from zoo.tasks import train

PAIRS = TaskData(
    "tiny_pairs", "pair",
    train=[("a man plays a guitar", "a man plays music", 0), ("a dog runs", "a cat sleeps", 2),
           ("two kids swim", "kids are outside", 1)] * 4,
    dev=[("a man runs", "a person moves", 0)], test=[("a dog swims", "a dog is wet", 0)],
    label_names=("entailment", "neutral", "contradiction"))


def trained_run(folder, task: str, data: TaskData, overrides: list[str]):
    """A 1-epoch run of `task` on the in-memory `data` (zoo.data.load replaced meanwhile)."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(zoo.data, "load", lambda name, **kwargs: data)
    try:
        _, run_dir = train(task, runs=folder, overrides=["epochs=1", "encoder.units=4", "embedding_mode=learned",
                                                         "embedding_dim=8", *overrides])
    finally:
        monkeypatch.undo()
    return run_dir


@pytest.fixture(scope="module")
def esim_run(tmp_path_factory):
    return trained_run(tmp_path_factory.mktemp("runs"), "snli", PAIRS,
                       ["hidden_units=4", "interaction=esim", "pretrained_words=0"])


def test_the_alignment_rows_are_distributions_over_the_real_hypothesis_words(esim_run):
    import zoo as zoo_package
    from zoo.analysis.attention import alignment
    from zoo.loading import load_vectorizer

    weights, premise, hypothesis = alignment(zoo_package.load(esim_run), load_vectorizer(esim_run),
                                             "A man plays a guitar.", "A zebra plays")
    # "." and "zebra" never occur in training: OOV, marked "?"
    assert premise == ["a", "man", "plays", "a", "guitar", ".?"] and hypothesis == ["a", "zebra?", "plays"]
    assert weights.shape == (6, 3)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="the hypothesis is empty"):
        alignment(zoo_package.load(esim_run), load_vectorizer(esim_run), "a man", "  ")


def test_the_command_writes_a_png_and_names_each_words_strongest_link(esim_run, tmp_path, capsys):
    out = tmp_path / "attention.png"
    assert main(["analyze", "attention", str(esim_run), "--premise", "a dog runs",
                 "--hypothesis", "a cat sleeps", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    printed = capsys.readouterr().out
    assert printed.count(" -> ") == 3 and f"wrote {out}" in printed


def test_a_model_without_alignment_is_refused_clearly(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(zoo.data, "load", lambda name, **kwargs: PAIRS)
    _, run_dir = train("snli", runs=tmp_path, overrides=[
        "epochs=1", "encoder.units=4", "embedding_mode=learned", "embedding_dim=8", "hidden_units=4",
        "interaction=none", "pretrained_words=0"])
    assert main(["analyze", "attention", str(run_dir), "--premise", "a", "--hypothesis", "b"]) == 2
    assert "attention_weights needs interaction='esim'" in capsys.readouterr().err


COMPRESSION = TaskData(
    "tiny_compression", "sequence_to_sequence",
    train=[("the black dog runs in the park", "a dog runs"), ("two girls smile at the camera", "girls smile"),
           ("a man plays a red guitar", "a man plays")] * 4,
    dev=[("two girls smile", "girls smile")], test=[("the dog runs", "a dog runs")])


@pytest.fixture(scope="module")
def seq2seq_run(tmp_path_factory):
    return trained_run(tmp_path_factory.mktemp("runs"), "compress", COMPRESSION,
                       ["min_count=1", "examples=1", "beam_width=2"])


def test_the_decoder_attends_over_the_real_source_words_for_each_output_word(seq2seq_run):
    import zoo as zoo_package
    from zoo.analysis.attention import decoder_attention
    from zoo.loading import load_vectorizer
    from zoo.models import decode

    model, vectorizer = zoo_package.load(seq2seq_run), load_vectorizer(seq2seq_run)
    weights, output, source = decoder_attention(model, vectorizer, "The dog plays, a zebra!")
    assert source == ["the", "dog", "plays", ",?", "a", "zebra?", "!?"]
    expected = decode(model, ["The dog plays, a zebra!"], vectorizer)[0].split()
    assert output == expected + ["[END]"] and weights.shape == (len(output), 7)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    given, rows, _ = decoder_attention(model, vectorizer, "the dog runs", target="a dog runs")
    assert rows == ["a", "dog", "runs", "[END]"] and given.shape == (4, 3)
    with pytest.raises(ValueError, match="the source is empty"):
        decoder_attention(model, vectorizer, " ")


def test_the_command_draws_an_encoder_decoders_attention(seq2seq_run, tmp_path, capsys):
    out = tmp_path / "decoder.png"
    assert main(["analyze", "attention", str(seq2seq_run), "--source", "the dog runs in the park",
                 "--target", "a dog runs", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert printed.count(" -> ") == 4 and f"wrote {out}" in printed
    assert main(["analyze", "attention", str(seq2seq_run), "--premise", "a", "--hypothesis", "b"]) == 2
    assert "give --source" in capsys.readouterr().err
