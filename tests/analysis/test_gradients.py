"""The vanishing-gradient picture: Elman's gradient vanishes; an open forget gate keeps it."""
import numpy as np
import pytest

from zoo.analysis.gradients import gradient_through_time, plot_gradients


def test_elman_vanishes_and_an_open_forget_gate_keeps_the_gradient():
    elman = gradient_through_time("elman", steps=60, units=8, batch=4)
    gated = gradient_through_time("gated_elman", steps=60, units=8, batch=4, forget_bias=8.0)
    lstm = gradient_through_time("lstm", steps=60, units=8, batch=4, forget_bias=8.0)
    assert elman.shape == (60,)
    assert elman[0] / elman[-1] < 1e-4                     # 59 steps back: vanished
    assert gated[0] / gated[-1] > 0.3                      # f = sigmoid(8): kept
    assert lstm[0] > 1e-2 * lstm[-1]
    # With the usual forget bias 1 (f ~ 0.73) the gated cell forgets too, only more slowly at first.
    usual = gradient_through_time("gated_elman", steps=60, units=8, batch=4)
    assert usual[0] / usual[-1] < 1e-3


def test_bad_arguments_and_plot(tmp_path):
    with pytest.raises(ValueError, match="cell must be one of"):
        gradient_through_time("transformer")
    with pytest.raises(ValueError, match="steps"):
        gradient_through_time("lstm", steps=0)
    path = plot_gradients({"elman": np.array([1e-9, 1e-3, 1.0])}, tmp_path / "g.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
