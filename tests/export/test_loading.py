"""`zoo.load`: run folders and `.keras` files in safe mode; Lambda layers and unregistered objects
are refused with a clear message, never executed."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import keras


class UnregisteredLayer(keras.layers.Layer):
    """A custom layer nobody registered with keras.saving.register_keras_serializable."""

    def call(self, inputs):
        return inputs * 2.0


def test_load_a_run_folder_and_its_file(acceptor_export):
    import zoo
    import zoo.models as zm

    ids = acceptor_export.vectorizer.vectorize(["the movie was great", ""], ragged=False)
    expected = np.asarray(acceptor_export.model(ids, training=False))
    from_folder = zoo.load(acceptor_export.run_dir)
    assert type(from_folder) is zm.Acceptor and isinstance(from_folder.config, zm.AcceptorConfig)
    assert from_folder.config == acceptor_export.model.config
    np.testing.assert_allclose(np.asarray(from_folder(ids, training=False)), expected, atol=1e-6)
    from_file = zoo.load(acceptor_export.run_dir / "model.keras")
    np.testing.assert_allclose(np.asarray(from_file(ids, training=False)), expected, atol=1e-6)


def test_lambda_layer_is_refused(tmp_path, monkeypatch):
    import zoo

    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: x * 2, name="doubler")(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ValueError, match=r"(?s)Lambda.*doubler.*safe mode") as error:
        zoo.load(path)
    assert "\n" not in str(error.value)

    # Refused from the file's JSON, before Keras deserializes anything.
    def deserialize(*args, **kwargs):
        raise AssertionError("the Lambda file reached keras.saving.load_model")

    monkeypatch.setattr(keras.saving, "load_model", deserialize)
    with pytest.raises(ValueError, match="Lambda"):
        zoo.load(path)


def test_keras_own_safe_mode_refusal_is_reported_clearly(tmp_path, monkeypatch):
    """Without the zoo's pre-check, Keras' safe mode refuses the Lambda; zoo.load says so."""
    import zoo
    from zoo import loading

    inputs = keras.Input((3,))
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(path)
    monkeypatch.setattr(loading, "_refuse_lambda_layers", lambda file: None)
    with pytest.raises(ValueError, match="refusing to load .* in safe mode: .*Lambda"):
        zoo.load(path)


def test_unregistered_custom_layer_is_refused(tmp_path):
    import zoo

    inputs = keras.Input((3,))
    path = tmp_path / "custom.keras"
    keras.Model(inputs, UnregisteredLayer(name="custom")(inputs)).save(path)
    with pytest.raises(ValueError, match="UnregisteredLayer.*not a registered") as error:
        zoo.load(path)
    assert "safe mode" in str(error.value)


def test_missing_and_wrong_files(tmp_path):
    import zoo

    with pytest.raises(FileNotFoundError, match="no such model file or run folder"):
        zoo.load(tmp_path / "nothing.keras")
    with pytest.raises(FileNotFoundError, match="has no model.keras"):
        zoo.load(tmp_path)
    (tmp_path / "weights.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="not a .keras file"):
        zoo.load(tmp_path / "weights.h5")
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable .keras file"):
        zoo.load(tmp_path / "broken.keras")


def test_import_zoo_stays_light():
    code = ("import sys, zoo; load = zoo.load; import zoo.export; "
            "heavy = [m for m in ('keras', 'tensorflow') if m in sys.modules]; "
            "assert not heavy, heavy; assert callable(load)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
