"""LSTMCell: golden numbers, the docstring equations, forget bias, and equality with keras LSTM."""
import keras
import numpy as np
import pytest
from keras import initializers, ops

from zoo.cells import LSTMCell

from .gradients import CASE_IDS, CASES, assert_same_as_keras, randomize_weights


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_reference(inputs, kernel, recurrent_kernel, bias):
    """The docstring's equations, gate order (i, f, g, o), from h_0 = c_0 = 0; returns every h_t."""
    units = recurrent_kernel.shape[0]
    h = np.zeros((inputs.shape[0], units))
    c = np.zeros((inputs.shape[0], units))
    outputs = []
    for x_t in np.moveaxis(inputs, 1, 0):
        z = x_t @ kernel + h @ recurrent_kernel + bias
        z_i, z_f, z_g, z_o = (z[:, k * units : (k + 1) * units] for k in range(4))
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def golden_inputs():
    return np.arange(24, dtype="float32").reshape(2, 3, 4) / 10


def test_golden_numbers_with_constant_initialisers():
    layer = keras.layers.RNN(
        LSTMCell(
            3,
            kernel_initializer=initializers.Constant(0.01),
            recurrent_initializer=initializers.Constant(0.02),
        ),
        return_sequences=True,
    )
    expected = np.array(
        [
            [
                [0.00150899081, 0.00150899081, 0.00150899081],
                [0.00676256498, 0.00676256498, 0.00676256498],
                [0.0149994773, 0.0149994773, 0.0149994773],
            ],
            [
                [0.0142211982, 0.0142211982, 0.0142211982],
                [0.029606915, 0.029606915, 0.029606915],
                [0.0460796917, 0.0460796917, 0.0460796917],
            ],
        ]
    )
    outputs = ops.convert_to_numpy(layer(golden_inputs()))
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-7)
    # The literals are the docstring equations evaluated by hand (default bias: b_f = 1, others 0).
    bias = np.concatenate([np.zeros(3), np.ones(3), np.zeros(6)])
    reference = lstm_reference(
        golden_inputs().astype("float64"), np.full((4, 12), 0.01), np.full((3, 12), 0.02), bias
    )
    np.testing.assert_allclose(reference, expected, rtol=1e-7)


def test_random_weights_follow_the_docstring_equations():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(3, 6, 4)).astype("float32")
    layer = keras.layers.RNN(LSTMCell(4), return_sequences=True)
    layer(inputs)
    randomize_weights(layer, seed=1)
    kernel, recurrent_kernel, bias = layer.get_weights()
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(inputs)),
        lstm_reference(inputs.astype("float64"), kernel, recurrent_kernel, bias),
        rtol=1e-5,
        atol=1e-6,
    )


def test_states_are_h_and_c():
    cell = LSTMCell(3)
    assert cell.state_size == [3, 3]
    layer = keras.layers.RNN(cell, return_state=True)
    inputs = np.random.default_rng(0).normal(size=(2, 4, 5)).astype("float32")
    output, h, c = (ops.convert_to_numpy(t) for t in layer(inputs))
    np.testing.assert_allclose(output, h)
    assert not np.allclose(h, c)
    # h_t = o_t * tanh(c_t) with o_t in (0, 1)
    assert np.all(np.abs(h) <= np.abs(np.tanh(c)) + 1e-7)


def test_weight_shapes_and_forget_gate_bias_starts_at_one():
    units = 3
    cell = LSTMCell(units)
    cell.build((None, 5))
    shapes = [tuple(w.shape) for w in cell.weights]
    assert shapes == [(5, 4 * units), (units, 4 * units), (4 * units,)]
    bias = ops.convert_to_numpy(cell.bias)
    np.testing.assert_array_equal(bias[units : 2 * units], 1.0)
    np.testing.assert_array_equal(bias[:units], 0.0)
    np.testing.assert_array_equal(bias[2 * units :], 0.0)


def test_forget_bias_is_added_on_top_of_the_bias_initialiser():
    units = 2
    cell = LSTMCell(units, forget_bias=2.0, bias_initializer=initializers.Constant(0.5))
    cell.build((None, 3))
    expected = np.concatenate([np.full(units, 0.5), np.full(units, 2.5), np.full(2 * units, 0.5)])
    np.testing.assert_allclose(ops.convert_to_numpy(cell.bias), expected)


@pytest.mark.parametrize(("direction", "copy", "masked"), CASES, ids=CASE_IDS)
def test_same_outputs_and_gradients_as_keras_lstm(direction, copy, masked):
    assert_same_as_keras(
        lambda **kw: keras.layers.RNN(LSTMCell(3), return_sequences=True, **kw),
        lambda **kw: keras.layers.LSTM(3, return_sequences=True, use_cudnn=False, **kw),
        direction,
        copy,
        masked,
    )
