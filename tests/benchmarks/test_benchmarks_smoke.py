"""The benchmark scripts run end to end at tiny sizes (numbers are not checked, only the output)."""
import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _script(name):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY = ["--quick", "--batch", "4", "--length", "5", "--embedding", "4", "--hidden", "4",
        "--vocabulary", "20", "--no-torch", "--no-jit"]


@pytest.mark.slow  # ~10 s of CPU, but 40 s of wall time on the shared 2-core machine
def test_throughput_runs_and_reports_ratios_to_the_keras_lstm(tmp_path, capsys):
    rnn_throughput = _script("rnn_throughput")
    result = rnn_throughput.main(TINY + ["--only", "gated_elman", "--implementations", "custom",
                                         "--json", str(tmp_path / "out.json")])
    names = [row["name"] for row in result["rows"]]
    assert names == ["keras LSTM (default)", "zoo gated_elman custom"]
    assert result["rows"][0]["train_ratio"] == 1.0 and result["matmul_peak_gflops"] > 0
    assert all(row["train_tokens_per_s"] > 0 and row["infer_tokens_per_s"] > 0 for row in result["rows"])
    assert "x ref" in capsys.readouterr().out and (tmp_path / "out.json").exists()


def test_flop_count_of_the_standard_configuration():
    rnn_throughput = _script("rnn_throughput")
    assert rnn_throughput.forward_flops_per_token("lstm", 128, 256) == 2 * 4 * 256 * (128 + 256)
    assert rnn_throughput.forward_flops_per_token("gated_elman", 128, 256) == 2 * (2 * 256 * 128 + 256 * 256)


@pytest.mark.slow
def test_full_zoo_matrix_and_torch_at_tiny_sizes():
    rnn_throughput = _script("rnn_throughput")
    args = [a for a in TINY if a not in ("--no-torch", "--no-jit")]
    result = rnn_throughput.main(args + ["--only", "lstm"])
    assert len(result["rows"]) >= 7  # reference + 3 implementations x XLA off/on (+ torch)


@pytest.mark.slow
def test_bucketing_runs_on_a_small_subset():
    bucketing = _script("bucketing")
    result = bucketing.main(["--datasets", "brown_pos", "--examples", "200", "--rounds", "1", "--no-xla"])
    fractions = result["brown_pos"]["padding_fraction"]
    assert fractions["bucket"] < fractions["fixed"]
