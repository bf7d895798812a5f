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
