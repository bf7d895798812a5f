"""`zoo.load`: a run's `.keras` file (or its run folder) loaded in Keras' safe mode, and nothing else.

A `.keras` file is a zip of a JSON config and weights. Loading deserializes the config, which can
name arbitrary Python: a `Lambda` layer carries marshalled bytecode, and an unregistered class
would be looked up by module path. `load` always passes `safe_mode=True` and also refuses any
`Lambda` layer (the zoo's models hold none) before Keras sees the config, so such a file fails
with a `ValueError` that says why instead of running code.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

MODEL_FILE = "model.keras"


def _model_file(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        file = path / MODEL_FILE
        if not file.exists():
            raise FileNotFoundError(f"{path} is not a run folder: it has no {MODEL_FILE}")
        return file
    if not path.exists():
        raise FileNotFoundError(f"no such model file or run folder: {path}")
    if path.suffix != ".keras":
        raise ValueError(f"{path} is not a .keras file (zoo.load reads .keras files and run folders)")
    return path


def _walk(value):
    """Every dict in a nested JSON value."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _refuse_lambda_layers(file: Path) -> None:
    try:
        with zipfile.ZipFile(file) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"{file} is not a readable .keras file ({error})") from None
    for entry in _walk(config):
        if entry.get("class_name") == "Lambda":
            name = (entry.get("config") or {}).get("name", "?")
            raise ValueError(
                f"refusing to load {file}: it holds a Lambda layer ({name!r}), i.e. arbitrary "
                f"Python code, and zoo.load only loads in safe mode (safe_mode=True); the zoo's "
                f"models have no Lambda layers. If you trust the file, use "
                f"keras.saving.load_model(path, safe_mode=False) yourself.")


def _register_zoo_objects() -> None:
    """Imports the modules whose decorators register the zoo's layers, cells and functions."""
    import zoo.cells  # noqa: F401
    import zoo.data.vectorize  # noqa: F401
    import zoo.layers  # noqa: F401
    import zoo.models  # noqa: F401
    import zoo.training  # noqa: F401  (TokenAccuracy, in compiled models' metrics)


def load(path: str | Path, compile: bool = True):
    """Loads a zoo model from a `.keras` file or a run folder (its `model.keras`), in safe mode.

    A zoo model comes back as its class (`zoo.models.Acceptor`, ...), its config in
    `model.config`.

    Raises:
        FileNotFoundError: no such file or run folder.
        ValueError: the file holds a Lambda layer or an object the zoo does not register (it is
            refused, not executed), or is not a `.keras` file.
    """
    import keras

    file = _model_file(path)
    _refuse_lambda_layers(file)
    _register_zoo_objects()
    try:
        model = keras.saving.load_model(file, compile=compile, safe_mode=True)
    except (TypeError, ValueError) as error:
        message = str(error)
        if "Lambda" in message or "safe_mode" in message:
            raise ValueError(
                f"refusing to load {file} in safe mode: {message.splitlines()[0]}") from None
        unknown = re.search(r"Could not locate (class|function) '([^']+)'", message)
        if unknown:
            raise ValueError(
                f"refusing to load {file}: it uses the {unknown.group(1)} {unknown.group(2)!r}, "
                f"which is not a registered Keras or zoo object (register it with "
                f"@keras.saving.register_keras_serializable and import it first); nothing from "
                f"the file was executed (safe mode)") from None
        raise
    return model


def load_vectorizer(run_dir: str | Path):
    """A run folder's `vectorizer.json` (Keras-serialized), deserialized in safe mode."""
    import keras

    file = Path(run_dir) / "vectorizer.json"
    if not file.exists():
        raise FileNotFoundError(f"{run_dir} has no vectorizer.json")
    _register_zoo_objects()
    return keras.saving.deserialize_keras_object(json.loads(file.read_text()), safe_mode=True)
