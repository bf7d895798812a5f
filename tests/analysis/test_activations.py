"""LSTM activations replayed with the model's weights equal the model's own layer; text features."""
import numpy as np
import pytest

from zoo import models
from zoo.analysis import activations as act

IDS = np.array([3, 7, 2, 9, 4, 4, 1, 8], dtype="int32")


def _language_model(implementation, bidirectional=False, layers=1):
    encoder = models.EncoderConfig(cell="lstm", implementation=implementation, units=5, layers=layers,
                                   bidirectional=bidirectional)
    return models.language_model(models.LanguageModelConfig(
        vocabulary_size=12, embedding_dim=3, encoder=encoder, seed=4)) if not bidirectional else \
        models.transducer(models.TransducerConfig(vocabulary_size=12, embedding_dim=3, encoder=encoder,
                                                  num_classes=3, seed=4))


def _encoder_sequence(model, ids):
    sequence, _ = model.get_layer("encoder")(model.get_layer("embedding")(ids[np.newaxis]))
    return np.asarray(sequence)[0]


@pytest.mark.parametrize("implementation", ["builtin", "fused", "custom"])
def test_replayed_outputs_equal_the_models_layer(implementation):
    model = _language_model(implementation)
    values = act.lstm_activations(model, IDS)
    assert set(values) == {"c", "h", "i", "f", "o", "g"}
    assert values["c"].shape == (len(IDS), 5)
    np.testing.assert_allclose(values["h"], _encoder_sequence(model, IDS), atol=1e-5)
    # The equations hold between the returned arrays: c_t = f c_{t-1} + i g, h_t = o tanh(c_t).
    c_before = np.vstack([np.zeros(5), values["c"][:-1]])
    np.testing.assert_allclose(values["c"], values["f"] * c_before + values["i"] * values["g"], atol=1e-12)
    np.testing.assert_allclose(values["h"], values["o"] * np.tanh(values["c"]), atol=1e-12)
    assert 0 < values["f"].min() and values["f"].max() < 1


def test_backward_direction_and_second_layer():
    model = _language_model("fused", bidirectional=True, layers=2)
    sequence = _encoder_sequence(model, IDS)                    # (time, [forward | backward]) of layer 2
    np.testing.assert_allclose(act.lstm_activations(model, IDS, layer=1)["h"], sequence[:, :5], atol=1e-5)
    np.testing.assert_allclose(act.lstm_activations(model, IDS, layer=1, direction="backward")["h"],
                               sequence[:, 5:], atol=1e-5)


def test_bad_requests_are_named():
    model = _language_model("fused")
    with pytest.raises(ValueError, match="ids is empty"):
        act.lstm_activations(model, [])
    with pytest.raises(ValueError, match="layer must be in"):
        act.lstm_activations(model, IDS, layer=1)
    with pytest.raises(ValueError, match="bidirectional"):
        act.lstm_activations(model, IDS, direction="backward")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 12\)"):
        act.lstm_activations(model, [3, 40])
    gru = models.language_model(models.LanguageModelConfig(
        vocabulary_size=12, embedding_dim=3, encoder=models.EncoderConfig(cell="gru", units=2)))
    with pytest.raises(ValueError, match="'gru'"):
        act.lstm_activations(gru, IDS)


def test_text_features():
    assert act.inside_quotes('a "b" c').tolist() == [0, 0, 1, 1, 1, 0, 0]
    assert act.position_in_line("ab\ncd").tolist() == [0, 1, 2, 0, 1]
    assert act.inside_parentheses("a(b(c))d").tolist() == [0, 1, 1, 2, 2, 2, 1, 0]


def test_cells_following_finds_the_planted_cell():
    rng = np.random.default_rng(0)
    feature = act.inside_quotes('he said "yes, go" and "no" then left')
    values = rng.normal(size=(len(feature), 6))
    values[:, 4] = -2 * feature + rng.normal(scale=0.1, size=len(feature))
    best = act.cells_following(values, feature, top=2)
    assert best[0][0] == 4 and best[0][1] < -0.95 and abs(best[1][1]) < 0.6
    with pytest.raises(ValueError, match="constant"):
        act.cells_following(values, np.ones(len(feature)))


def test_html_colours_each_character():
    page = act.activations_html("a <b>\n", [1.0, 0.0, -1.0, -0.5, 0.2, 0.0], title="cell 3")
    assert page.count("<span") == 6 and "&lt;" in page and "<br>" in page and "cell 3" in page
    assert "rgb(255,0,0)" in page and "rgb(0,0,255)" in page and "rgb(255,255,255)" in page
    with pytest.raises(ValueError, match="one value per character"):
        act.activations_html("ab", [0.1])


def test_the_command_reads_a_file_given_as_text(tmp_path, monkeypatch, capsys):
    import zoo.data
    from zoo.cli import main
    from zoo.data import TaskData
    from zoo.tasks import train

    verse = 'And he said, "Go (now)." And it was so.\n'
    data = TaskData("tiny_text", "language_model", train=[verse * 20], dev=[verse * 3], test=[verse * 3])
    monkeypatch.setattr(zoo.data, "load", lambda name, **kwargs: data)
    _, run_dir = train("char_lm", runs=tmp_path, overrides=[
        "epochs=1", "encoder.units=4", "embedding_dim=4", "sequence_length=20", "eval_sequence_length=40",
        "sample_length=5", "batch_size=8"])
    text_file = tmp_path / "verse.txt"
    text_file.write_text(verse, encoding="utf-8")
    page = tmp_path / "cells.html"
    assert main(["analyze", "activations", str(run_dir), "--text", str(text_file), "--out", str(page)]) == 0
    import re

    shown = "".join(re.findall(r'title="[^"]*">([^<]*)</span>', page.read_text(encoding="utf-8")))
    assert shown.replace("&nbsp;", " ").startswith('And he said, &quot;Go (now).&quot;') or \
        shown.replace("&nbsp;", " ").startswith('And he said, "Go (now)."')  # the file's characters, not its path
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    assert main(["analyze", "activations", str(run_dir), "--text", str(tmp_path / "latin1.txt")]) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
