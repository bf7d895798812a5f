"""The cells, the encoder and sampling use keras.ops only, so their suites must pass on jax and
torch too.

`test_cell_suite_passes_on_backend` (markers `backends` and `slow`; minutes on jax, which compiles
every scan) reruns `tests/cells`, the encoder's, the language model's and the encoder-decoder's
(its greedy and beam search included) tests in a fresh
interpreter with KERAS_BACKEND set, deselecting itself with `-m "not backends"`. It skips, saying
why, when the backend's package is not installed.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[2]
BACKEND_PACKAGES = {"jax": ["jax", "jaxlib"], "torch": ["torch"]}


def test_keras_runs_on_the_backend_the_environment_names():
    """In the subprocesses below this proves the suite really ran on jax / torch."""
    expected = os.environ.get("KERAS_BACKEND")
    if expected:
        assert keras.backend.backend() == expected


@pytest.mark.slow  # minutes: jax compiles every scan; deselect with -m "not backends"
@pytest.mark.backends
@pytest.mark.parametrize("backend", sorted(BACKEND_PACKAGES))
def test_cell_suite_passes_on_backend(backend):
    missing = [p for p in BACKEND_PACKAGES[backend] if importlib.util.find_spec(p) is None]
    if missing:
        pytest.skip(f"KERAS_BACKEND={backend} needs {', '.join(missing)}, not installed")
    env = {**os.environ, "KERAS_BACKEND": backend}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/cells",
        "tests/layers/test_encoder.py",
        "tests/models/test_language_model.py",
        "tests/models/test_encoder_decoder.py",
        "-q",
        "-m",
        "not backends",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::pytest.PytestUnknownMarkWarning",
    ]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    report = f"KERAS_BACKEND={backend} {' '.join(command)}\n"
    report += f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, report
    assert " passed" in result.stdout and " failed" not in result.stdout, report
