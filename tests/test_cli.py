import subprocess
import sys

import pytest


def run_zoo(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True, timeout=timeout)


def test_help_and_list_without_tensorflow_noise():
    assert "list" in run_zoo("--help").stdout
    result = run_zoo("list")
    assert result.returncode == 0, result.stderr
    for name in ("acceptor", "transducer", "pair_encoder", "language_model",
                 "ElmanCell", "GatedElmanCell", "LSTMCell", "GRUCell"):
        assert name in result.stdout
    # TensorFlow's C++ start-up lines (cudart stubs, oneDNN notices, absl) must not reach the user.
    for noise in ("cudart", "oneDNN", "absl", "cuda"):
        assert noise not in result.stderr, result.stderr


def test_unknown_command_is_a_clear_error():
    result = run_zoo("fly")
    assert result.returncode == 2
    assert "invalid choice: 'fly'" in result.stderr


@pytest.mark.slow
def test_demo_trains_every_factory():
    result = run_zoo("demo", "--steps", "5", timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("loss") == 4


def test_analyze_gradients_prints_the_table_and_writes_the_plot(tmp_path):
    from zoo.cli import main

    plot = tmp_path / "gradients.png"
    assert main(["analyze", "gradients", "--cells", "elman,lstm", "--steps", "20", "--units", "4",
                 "--out", str(plot)]) == 0
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_analyze_activations_of_a_character_run(tmp_path, capsys):
    """A tiny character LM saved like a recipe run: cells following the quotes, an HTML page."""
    from zoo import models
    from zoo.cli import main
    from zoo.data.vectorize import ZooVectorizer, build_char_vectorizer
    from zoo.tasks import save_vectorizer

    text = 'he said "go" (now)\nthen'
    vectorizer = ZooVectorizer(build_char_vectorizer([text]))
    model = models.language_model(models.LanguageModelConfig(
        vocabulary_size=len(vectorizer.get_vocabulary()), embedding_dim=3,
        encoder=models.EncoderConfig(cell="lstm", units=6)))
    model.save(tmp_path / "model.keras")
    save_vectorizer(tmp_path, vectorizer)
    page = tmp_path / "act.html"
    assert main(["analyze", "activations", str(tmp_path), "--text", text, "--out", str(page)]) == 0
    printed = capsys.readouterr().out
    assert "cells following 'inside quotes'" in printed and "position in line" in printed
    assert page.read_text().count("<span") == len(text)
    assert main(["analyze", "activations", str(tmp_path), "--text", "", "--out", str(page)]) == 2
    assert "--text is empty" in capsys.readouterr().err


def test_train_and_tune_name_a_missing_recipe_clearly(tmp_path, monkeypatch, capsys):
    from zoo.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "sentimental"]) == 2
    error = capsys.readouterr().err
    assert "zoo train: error: no recipe 'sentimental': looked for" in error and "recipes there:" in error
    assert main(["tune", str(tmp_path / "missing.py")]) == 2
    assert f"zoo tune: error: no recipe file {tmp_path / 'missing.py'}" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "tuning").exists()


def test_train_help_shows_its_options():
    result = run_zoo("train", "--help")
    assert result.returncode == 0
    for option in ("--set", "--dataset", "--runs", "--export"):
        assert option in result.stdout
    assert "--untuned" not in result.stdout


def test_an_unusable_output_folder_is_one_clear_line(tmp_path, capsys):
    from zoo.cli import main

    in_the_way = tmp_path / "a_file"
    in_the_way.write_text("not a folder\n")
    assert main(["train", "sentiment", "--runs", str(in_the_way / "runs")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("zoo train: error: cannot use ") and str(in_the_way) in error
    assert len(error.strip().splitlines()) == 1 and in_the_way.read_text() == "not a folder\n"
