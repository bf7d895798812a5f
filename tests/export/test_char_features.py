"""A tagger with character features: the `tag` signature computes the character ids in the graph."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.export.helpers import serve

TOLERANCE = 1e-5
# Unseen words, capitals, a word longer than max_word_chars (5), an unknown character, empty text.
TEXTS = ["the movie was great", "The MOVIE Was greatest", "I loved it", "zzz ünïcode", "", "a"]


def keras_reference(exported, texts) -> np.ndarray:
    """The Keras model on the vectorizer's token and character ids (the SavedModel's reference)."""
    tokens = [text.split() for text in texts]
    inputs = {"token_ids": exported.vectorizer.vectorize(tokens, ragged=False),
              "char_ids": exported.vectorizer.char_ids(tokens, ragged=False)}
    return np.asarray(exported.model(inputs, training=False))


def test_tag_signature_matches_keras_on_raw_text(char_transducer_export):
    out = serve(char_transducer_export, text=TEXTS)
    assert out["lengths"].tolist() == [4, 4, 3, 2, 0, 1]
    expected = keras_reference(char_transducer_export, TEXTS)
    names = np.array(char_transducer_export.label_names)
    for row, length in enumerate(out["lengths"]):
        np.testing.assert_allclose(out["probabilities"][row, :length], expected[row, :length],
                                   atol=TOLERANCE, err_msg=TEXTS[row])
        assert [t.decode() for t in out["tags"][row, :length]] == \
            list(names[expected[row, :length].argmax(axis=-1)])
        assert not out["probabilities"][row, length:].any()


def test_case_reaches_the_model_through_the_characters(char_transducer_export):
    # The word ids are lowercased, so only the characters tell "the" from "The".
    vectorizer = char_transducer_export.vectorizer
    assert vectorizer.lowercase
    assert vectorizer.vectorize([["The"]]).to_list() == vectorizer.vectorize([["the"]]).to_list()
    out = serve(char_transducer_export, text=["the movie", "The MOVIE"])
    assert np.abs(out["probabilities"][0] - out["probabilities"][1]).max() > 1e-4


def test_run_folder_export_records_the_char_config(char_transducer_export):
    metadata = json.loads((char_transducer_export.path / "metadata.json").read_text())
    assert metadata["config"]["char_features"]["max_word_chars"] == 5
    assert metadata["serving_default"] == "tag"


def test_a_process_without_zoo_serves_the_same_numbers(char_transducer_export, tmp_path):
    from tests.export.test_client import ISOLATED_CLIENT

    request_file = tmp_path / "requests.json"
    request_file.write_text(json.dumps(
        {"tag": (str(char_transducer_export.path), "serving_default", {"text": TEXTS})}))
    completed = subprocess.run([sys.executable, "-I", "-c", ISOLATED_CLIENT, str(request_file)],
                               capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(l for l in completed.stdout.splitlines() if l.startswith("ZOO-FREE-RESULTS "))
    report = json.loads(line.split(" ", 1)[1])
    assert report["modules"] == []
    result = report["results"]["tag"]
    expected = keras_reference(char_transducer_export, TEXTS)
    for row, length in enumerate(result["lengths"]):
        np.testing.assert_allclose(np.array(result["probabilities"][row])[:length],
                                   expected[row, :length], atol=TOLERANCE)


def test_model_and_vectorizer_must_agree_on_characters(char_transducer_export, transducer_export,
                                                       tmp_path):
    from zoo.export import export_saved_model

    with pytest.raises(ValueError, match="takes character ids.*no character vocabulary"):
        export_saved_model(char_transducer_export.model, transducer_export.vectorizer,
                           tmp_path / "a", label_names=char_transducer_export.label_names)
    with pytest.raises(ValueError, match="makes character ids but the model"):
        export_saved_model(transducer_export.model, char_transducer_export.vectorizer,
                           tmp_path / "b", label_names=transducer_export.label_names)
    assert not (tmp_path / "a" / "1").exists() and not (tmp_path / "b" / "1").exists()
